"""utils.checks.forbid: a graded answer that calls the reference implementation fails."""
import math

import pytest

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
