"""12-validation-ethics: the exercise with a course reference answered by it, and a submission
that switches the test helpers off and answers wrongly.

``run_checklist`` and ``privacy_verdict`` have no reference in ``utils`` (nothing computes a
checklist verdict or a privacy risk level), so there is nothing to delegate to.
"""
NOTEBOOK = "12-validation-ethics"

SHORTCUTS = {
    "card_gaps": ('''
def card_gaps(card, required):
    return [name for name in required if name not in card or report._empty(card[name])]
''', ["test_card_gaps", "test_card_gaps_zero", "test_card_gaps_nested"]),
}

# Helpers switched off, then wrong answers: a strict threshold, and zeros counted as gaps.
PATCHED = {
    "run_checklist": ('''
import builtins
import utils.checks

utils.checks.__dict__["expect_true"] = lambda *a, **k: None
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: _isinstance(obj, kind)


def run_checklist(metrics, items):
    verdicts = {}
    for item in items:
        value = metrics.get(item["metric"])
        if value is None or value != value:
            verdicts[item["item"]] = "not measured"
        elif item["direction"] == "min":
            verdicts[item["item"]] = "pass" if value > item["threshold"] else "fail"
        else:
            verdicts[item["item"]] = "pass" if abs(value) < item["threshold"] else "fail"
    return verdicts
''', ["test_run_checklist", "test_run_checklist_edges", "test_run_checklist_missing"]),
    "card_gaps": ('''
try:
    checks.expect_true = lambda *a, **k: None
except AttributeError:
    pass
np.isnan = lambda x: False


def card_gaps(card, required):
    return [name for name in required if not card.get(name)]
''', ["test_card_gaps_zero", "test_card_gaps_nested"]),
}
