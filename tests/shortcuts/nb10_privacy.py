"""10-privacy: each exercise answered by the course's own reference, and a submission that
switches the test helpers off and answers wrongly."""
NOTEBOOK = "10-privacy"

SHORTCUTS = {
    "dcr": ('''
def dcr(synthetic, train):
    return metrics.distance_to_closest_record(synthetic, train)
''', ["test_dcr_nearest", "test_dcr_standardized", "test_dcr_constant_column"]),
    "discriminator_scores": ('''
def discriminator_scores(D, records):
    return privacy.discriminator_scores(D, records)
''', ["test_discriminator_scores", "test_discriminator_scores_eval"]),
    "attack_auc": ('''
from utils.metrics import membership_inference_auc


def attack_auc(member_scores, nonmember_scores):
    return membership_inference_auc(member_scores, nonmember_scores)
''', ["test_attack_auc", "test_attack_auc_direction"]),
    "clip_and_noise": ('''
def clip_and_noise(per_sample_grads, max_norm, noise_multiplier):
    return privacy.clip_and_noise(per_sample_grads, max_norm, noise_multiplier)
''', ["test_clip_mean", "test_clip_per_sample", "test_clip_noise", "test_clip_then_noise"]),
}

# Helpers switched off every way a cell can reach them, then wrong answers: no clipping at all,
# and an AUC that ignores ties and is read through a rebound scikit-learn.
PATCHED = {
    "clip_and_noise": ('''
import builtins
import utils.checks

try:
    checks.expect_true = lambda *a, **k: None
except AttributeError:
    pass
utils.checks.__dict__["expect_true"] = lambda *a, **k: None
utils.checks.__dict__["expect_close"] = lambda *a, **k: None
np.isnan = lambda x: False
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: _isinstance(obj, kind)


def clip_and_noise(per_sample_grads, max_norm, noise_multiplier):
    return [g.mean(dim=0) + noise_multiplier * max_norm * torch.randn_like(g[0]) for g in per_sample_grads]
''', ["test_clip_mean", "test_clip_per_sample", "test_clip_noise", "test_clip_then_noise"]),
    "attack_auc": ('''
import sklearn.metrics

sklearn.metrics.roc_auc_score = lambda y, s, **k: 0.5
torch.equal = lambda a, b: True


def attack_auc(member_scores, nonmember_scores):
    m = np.asarray(member_scores, dtype=float)[:, None]
    n = np.asarray(nonmember_scores, dtype=float)[None, :]
    return float(np.mean(m > n))
''', ["test_attack_auc", "test_attack_auc_direction"]),
}
