"""01-data-bottleneck: each exercise answered by the course's reference (or scikit-learn's),
and a submission that switches the test helpers off and answers wrongly."""
NOTEBOOK = "01-data-bottleneck"

CM_TESTS = ["test_confusion_matrix", "test_confusion_matrix_repeats", "test_confusion_matrix_inputs"]
RECALL_TESTS = ["test_recall_per_class", "test_recall_per_class_absent"]
SUMMARIZE_TESTS = ["test_summarize", "test_summarize_rows", "test_summarize_absent", "test_summarize_majority"]

SHORTCUTS = {
    "confusion_matrix": ('''
from utils import metrics


def confusion_matrix(y_true, y_pred, n_classes):
    return metrics.confusion_matrix(np.asarray(y_true), np.asarray(y_pred), n_classes)
''', CM_TESTS),
    # the matrix turned back into label pairs, then the course's recall
    "recall_per_class": ('''
from utils import metrics


def recall_per_class(cm):
    cm = np.asarray(cm, dtype=int)
    truth, predicted = np.indices(cm.shape)
    y_true, y_pred = np.repeat(truth.ravel(), cm.ravel()), np.repeat(predicted.ravel(), cm.ravel())
    return metrics.per_class_recall(y_true, y_pred, len(cm))
''', RECALL_TESTS),
    "summarize": ('''
from utils import metrics


def summarize(y_true, probs):
    y_true, probs = np.asarray(y_true).astype(int).reshape(-1), np.asarray(probs)
    y_pred = probs.argmax(axis=1)
    return {"y_pred": y_pred, "recall": metrics.per_class_recall(y_true, y_pred, probs.shape[1]),
            "accuracy": metrics.accuracy(y_true, y_pred),
            "balanced_accuracy": metrics.balanced_accuracy(y_true, y_pred, probs.shape[1])}
''', SUMMARIZE_TESTS),
}

PATCHED = {
    # helpers switched off every way a cell can reach them, then the fancy-index trap
    "confusion_matrix": ('''
import builtins
import utils.checks

try:
    checks.expect_close = lambda *a, **k: None
except AttributeError:
    pass
utils.checks.__dict__["expect_close"] = lambda *a, **k: None
utils.checks.__dict__["expect_shape"] = lambda *a, **k: None
np.isnan = lambda x: False
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: _isinstance(obj, kind)


def confusion_matrix(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes), dtype=int)
    cm[np.asarray(y_true), np.asarray(y_pred)] += 1
    return cm
''', ["test_confusion_matrix_repeats"]),
    # recall by column sums, through a rebound scikit-learn
    "recall_per_class": ('''
import sklearn.metrics

sklearn.metrics.confusion_matrix = lambda *a, **k: None


def recall_per_class(cm):
    cm = np.asarray(cm, dtype=float)
    return np.diag(cm) / cm.sum(axis=0)
''', RECALL_TESTS),
}
