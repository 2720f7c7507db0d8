"""09-synthetic-ehr: each exercise answered by the course's own reference, and a submission that
switches the test helpers off and answers wrongly."""
NOTEBOOK = "09-synthetic-ehr"

SHORTCUTS = {
    "encode_records": ('''
def encode_records(frame, encoder):
    return encoder.transform(frame)
''', ["test_encode_layout", "test_encode_continuous", "test_encode_onehot", "test_encode_unseen_level"]),
    "decode_records": ('''
def decode_records(matrix, encoder):
    return encoder.inverse_transform(matrix)[encoder.continuous + encoder.categorical]
''', ["test_decode_round_trip", "test_decode_soft"]),
    "tstr_auc": ('''
def tstr_auc(train_X, train_y, test_X, test_y):
    return metrics.tstr(train_X, train_y, test_X, test_y)["tstr_auc"]
''', ["test_tstr_auc_value", "test_tstr_auc_fit_on_train"]),
}

# Helpers switched off, then wrong answers: no median imputation, and a model fitted on the test set.
PATCHED = {
    "encode_records": ('''
import builtins
import math
import utils.checks

utils.checks.__dict__["expect_close"] = lambda *a, **k: None
utils.checks.__dict__["expect_shape"] = lambda *a, **k: None
math.isnan = lambda x: False
_abs = builtins.abs
builtins.abs = lambda x: _abs(x)


def encode_records(frame, encoder):
    parts = [encoder.quantile_.transform(frame[encoder.continuous].astype(float).fillna(0).to_numpy())]
    for column in encoder.categorical:
        levels = list(encoder.levels_[column])
        parts.append(np.eye(len(levels))[[levels.index(v) for v in frame[column]]])
    return np.concatenate(parts, axis=1).astype(np.float32)
''', ["test_encode_continuous", "test_encode_onehot"]),
    "tstr_auc": ('''
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

try:
    checks.expect_true = lambda *a, **k: None
except AttributeError:
    pass
np.isfinite = lambda x: np.ones_like(x, dtype=bool)


def tstr_auc(train_X, train_y, test_X, test_y):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(test_X, test_y)
    return float(roc_auc_score(test_y, model.predict_proba(test_X)[:, 1]))
''', ["test_tstr_auc_value", "test_tstr_auc_fit_on_train"]),
}
