"""00-setup: the warm-up answered with the course's class_counts, and a submission that
switches the test helpers off and answers wrongly.

No library computes class proportions in one call; the closest course reference is
`utils.data.class_counts` (a bincount over a dataset's labels), reached here through a
stand-in dataset. `np.bincount`, the natural building block, stays allowed.
"""
NOTEBOOK = "00-setup"

TESTS = ["test_class_proportions", "test_class_proportions_empty"]

SHORTCUTS = {
    "class_proportions": ('''
from types import SimpleNamespace

import torch


def class_proportions(labels, n_classes):
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long).reshape(-1)
    if labels.numel() == 0:
        raise ValueError("labels is empty")
    counts = class_counts(SimpleNamespace(y=labels, n_classes=n_classes, flag="labels"))
    return counts / counts.sum()
''', TESTS),
}

PATCHED = {
    # helpers switched off every way a cell can reach them, then uniform proportions
    "class_proportions": ('''
import builtins
import utils.checks

try:
    checks.expect_close = lambda *a, **k: None
except AttributeError:
    pass
utils.checks.__dict__["expect_close"] = lambda *a, **k: None
utils.checks.__dict__["expect_true"] = lambda *a, **k: None
np.asarray = np.array
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: _isinstance(obj, kind)


def class_proportions(labels, n_classes):
    if len(labels) == 0:
        raise ValueError("labels is empty")
    return np.full(n_classes, 1.0 / n_classes)
''', TESTS),
}
