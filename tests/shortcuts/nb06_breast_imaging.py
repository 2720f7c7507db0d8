"""06-breast-imaging: exercises answered with the course's pieces, and a submission that
switches the test helpers off and answers wrongly.

`generalization_gap` has no reference anywhere (the course's training loop logs the two
curves but never subtracts them; two lines of NumPy are the answer), so it has no shortcut
entry: its cells are protected by the helpers' tamper checks (PATCHED below).
`mix_real_synthetic`'s only course piece is `augment.build_training_set`, which joins the
sets; the draw, the labels and `is_synthetic` stay the student's.
"""
NOTEBOOK = "06-breast-imaging"

ES_TESTS = ["test_early_stopping_epoch", "test_early_stopping_epoch_ties", "test_early_stopping_epoch_runs",
            "test_early_stopping_epoch_invalid"]
MIX_TESTS = ["test_mix_real_synthetic", "test_mix_real_synthetic_labels", "test_mix_real_synthetic_seed",
             "test_mix_real_synthetic_sizes"]
GAP_TESTS = ["test_generalization_gap", "test_generalization_gap_sign", "test_generalization_gap_metric"]

SHORTCUTS = {
    # replay with the course's own "epochs since the best one" rule
    "early_stopping_epoch": ('''
from utils import train
from utils.train import History


def early_stopping_epoch(val_losses, patience):
    if patience < 1 or len(val_losses) == 0:
        raise ValueError("need patience >= 1 and at least one validation loss")
    seen = History()
    for loss in val_losses:
        seen.log(val_loss=loss)
        if train._epochs_since_best(seen) >= patience:
            break
    return int(np.argmin(seen["val_loss"])) + 1
''', ES_TESTS),
    "mix_real_synthetic": ('''
def mix_real_synthetic(real_x, real_y, synth_x, synth_y, ratio, seed=0):
    k = int(round(ratio * len(real_x)))
    if ratio < 0 or k > len(synth_x):
        raise ValueError("ratio must be >= 0 and the pool large enough")
    pick = torch.randperm(len(synth_x), generator=torch.Generator().manual_seed(seed))[:k]
    x, y = augment.build_training_set((real_x, real_y), (synth_x[pick], synth_y[pick])).tensors
    return x, y, torch.arange(len(x)) >= len(real_x)
''', MIX_TESTS),
}

PATCHED = {
    # helpers switched off every way a cell can reach them, then the gap the wrong way round
    "generalization_gap": ('''
import builtins
import utils.checks

try:
    checks.expect_close = lambda *a, **k: None
except AttributeError:
    pass
utils.checks.__dict__["expect_close"] = lambda *a, **k: None
utils.checks.__dict__["expect_true"] = lambda *a, **k: None
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: _isinstance(obj, kind)


def generalization_gap(history, metric="loss"):
    return np.asarray(history[f"train_{metric}"], dtype=float) - np.asarray(history[f"val_{metric}"], dtype=float)
''', GAP_TESTS),
    # the best epoch of the whole run (no stopping), with torch.equal rebound
    "early_stopping_epoch": ('''
torch.equal = lambda a, b: True


def early_stopping_epoch(val_losses, patience):
    return int(np.argmin(val_losses)) + 1
''', ES_TESTS),
}
