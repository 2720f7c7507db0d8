"""11-bias: each exercise answered by the course's own reference (or scikit-learn's), and a
submission that switches the test helpers off and answers wrongly."""
NOTEBOOK = "11-bias"

SHORTCUTS = {
    "miss_rates": ('''
def miss_rates(y_true, y_pred, groups, positive=1):
    return {g: r["fnr"] for g, r in metrics.subgroup_rates(y_true, y_pred, groups, positive).items()}
''', ["test_miss_rates", "test_miss_rates_positive", "test_miss_rates_edge_cases"]),
    "synthesis_plan": ('''
def synthesis_plan(groups, labels, n_groups, n_labels=2):
    return fairness.sampling_plan(fairness.cell_counts(groups, labels, n_groups, n_labels))
''', ["test_synthesis_plan", "test_synthesis_plan_absent_group"]),
    "plan_conditions": ('''
plan_conditions = fairness.plan_conditions
''', ["test_plan_conditions"]),
    "cell_weights": ('''
from sklearn.utils.class_weight import compute_sample_weight


def cell_weights(groups, labels):
    return compute_sample_weight("balanced", np.asarray(groups) * 2 + np.asarray(labels))
''', ["test_cell_weights", "test_cell_weights_mean", "test_cell_weights_cells"]),
}

# Helpers switched off, then wrong answers: weights per group only (not per cell), a miss rate
# over all of the group's records, and a delegation behind a fake `checks` without forbid.
PATCHED = {
    "cell_weights": ('''
import builtins
import utils.checks

utils.checks.__dict__["expect_close"] = lambda *a, **k: None
np.allclose = lambda *a, **k: True
_len = builtins.len
builtins.len = lambda x: _len(x)


def cell_weights(groups, labels):
    groups = np.asarray(groups, dtype=int)
    weights = 1.0 / np.bincount(groups)[groups]
    return weights / weights.mean()
''', ["test_cell_weights", "test_cell_weights_mean", "test_cell_weights_cells"]),
    "miss_rates": ('''
import math

try:
    checks.expect_close = lambda *a, **k: None
except AttributeError:
    pass
math.isnan = lambda x: True


def miss_rates(y_true, y_pred, groups, positive=1):
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    return {g.item(): float(np.mean((groups == g) & (y_true == positive) & (y_pred != positive)) /
                            max(np.mean(groups == g), 1e-12)) for g in np.unique(groups)}
''', ["test_miss_rates", "test_miss_rates_edge_cases"]),
    "plan_conditions": ('''
import contextlib
import types

checks = types.SimpleNamespace(forbid=lambda *a, **k: contextlib.nullcontext())
plan_conditions = fairness.plan_conditions
''', ["test_plan_conditions"]),
}
