"""utils.checks.forbid: a graded answer that calls the reference implementation fails."""
import math

import pytest
import torch

from utils import checks, metrics


def _own_recall(y_true, y_pred):
    hits = sum(int(t == p == 1) for t, p in zip(y_true, y_pred))
    return hits / max(1, sum(int(t == 1) for t in y_true))


def test_an_answer_of_its_own_passes_and_bindings_are_restored():
    original = metrics.per_class_recall
    with checks.forbid(metrics.per_class_recall, namespace={}):
        assert _own_recall([1, 0, 1], [1, 0, 0]) == 0.5
    assert metrics.per_class_recall is original


def test_calling_the_reference_through_an_alias_fails():
    namespace = {"recall": metrics.per_class_recall}
    with pytest.raises(AssertionError, match="delegation.*per_class_recall"):
        with checks.forbid(metrics.per_class_recall, namespace=namespace):
            namespace["recall"]([1, 0], [1, 0])
    assert namespace["recall"] is metrics.per_class_recall


def test_a_swallowed_tripwire_still_fails():
    def sneaky(y_true, y_pred):
        try:
            return metrics.per_class_recall(y_true, y_pred)
        except AssertionError:
            return [1.0, 1.0]

    with pytest.raises(AssertionError, match="delegation"):
        with checks.forbid(metrics.per_class_recall):
            sneaky([1, 0], [1, 0])


def test_a_method_can_be_forbidden():
    class Scheduler:
        def add_noise(self, x):
            return x + 1

    with pytest.raises(AssertionError, match="Scheduler.add_noise"):
        with checks.forbid((Scheduler, "add_noise")):
            Scheduler().add_noise(1)
    assert Scheduler().add_noise(1) == 2


def test_module_functions_of_other_libraries_are_caught():
    with pytest.raises(AssertionError, match="math.*log1p|log1p"):
        with checks.forbid(math.log1p):
            math.log1p(0.5)
    assert math.log1p(0.0) == 0.0


@pytest.mark.parametrize("space, name", [("numpy", "isnan"), ("torch", "equal"), ("math", "isnan"),
                                         ("builtins", "isinstance"), ("builtins", "abs"),
                                         ("sklearn.metrics", "roc_auc_score")])
def test_rebinding_what_the_tests_rely_on_fails_every_helper(space, name, monkeypatch):
    import importlib

    module = importlib.import_module(space)
    original = getattr(module, name)
    # a pass-through stand-in: behaves like the original (pytest itself keeps working), is not it
    monkeypatch.setattr(module, name, lambda *a, **k: original(*a, **k))
    for helper in (lambda: checks.expect_close(1.0, 1.0), lambda: checks.expect_true(True, "ok"),
                   lambda: checks.expect_shape(torch.zeros(2), (2,))):
        with pytest.raises(AssertionError, match=f"tampered.*{space}.{name}"):
            helper()


def test_the_helpers_themselves_cannot_be_replaced():
    with pytest.raises(AttributeError, match="read-only"):
        checks.expect_close = lambda *a, **k: None
    with pytest.raises(AttributeError, match="read-only"):
        del checks.expect_true
    with pytest.raises(AssertionError, match="expected"):
        checks.expect_close(1.0, 2.0)


def test_a_helper_replaced_behind_the_modules_back_is_reported():
    original = checks.__dict__["expect_true"]
    checks.__dict__["expect_true"] = lambda *a, **k: None
    try:
        with pytest.raises(AssertionError, match="utils.checks.expect_true"):
            checks.expect_close(1.0, 1.0)
    finally:
        checks.__dict__["expect_true"] = original
    assert checks.tampered() == []


def test_forbidding_a_watched_function_is_not_tampering():
    import numpy as np

    with checks.forbid(np.isnan):
        checks.expect_close(2.0, 2.0)
    assert checks.tampered() == []


def test_training_a_model_is_not_tampering():
    """The first optimizer step imports torch._dynamo, which wraps torch.manual_seed: not the student's doing."""
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    assert checks.tampered() == []
