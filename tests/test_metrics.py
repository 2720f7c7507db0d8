"""Known-value tests for utils.metrics: hand-worked examples and library references."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.metrics import roc_auc_score

from utils import metrics as M


def _random_spd(rng: np.random.Generator, dim: int) -> np.ndarray:
    a = rng.normal(size=(dim, 2 * dim))
    return a @ a.T / (2 * dim) + 0.1 * np.eye(dim)


# ---------------------------------------------------------------- Fréchet distance


def test_feature_statistics_matches_numpy_and_accepts_torch():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(50, 4))
    mu, sigma = M.feature_statistics(torch.tensor(feats, requires_grad=True))
    np.testing.assert_allclose(mu, feats.mean(axis=0))
    np.testing.assert_allclose(sigma, np.cov(feats, rowvar=False))
    assert sigma.shape == (4, 4)


def test_feature_statistics_single_feature_gives_2d_covariance():
    mu, sigma = M.feature_statistics(np.array([[1.0], [3.0]]))
    np.testing.assert_allclose(mu, [2.0])
    np.testing.assert_allclose(sigma, [[2.0]])


def test_frechet_distance_identical_stats_is_zero():
    rng = np.random.default_rng(1)
    mu, sigma = rng.normal(size=5), _random_spd(rng, 5)
    assert M.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "m1, s1, m2, s2", [(0.0, 1.0, 3.0, 2.0), (-1.5, 0.5, 2.0, 0.5), (1.0, 4.0, 1.0, 1.0)]
)
def test_frechet_distance_one_dimensional_gaussians(m1, s1, m2, s2):
    got = M.frechet_distance([m1], [[s1**2]], [m2], [[s2**2]])
    assert got == pytest.approx((m1 - m2) ** 2 + (s1 - s2) ** 2, rel=1e-12)


def test_frechet_distance_matches_scipy_sqrtm_reference():
    rng = np.random.default_rng(2)
    for dim in (2, 5, 16):
        mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
        s1, s2 = _random_spd(rng, dim), _random_spd(rng, dim)
        covmean = scipy.linalg.sqrtm(s1 @ s2).real
        expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
        assert M.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_singular_covariance_is_finite_and_non_negative():
    sigma = np.zeros((3, 3))
    sigma[0, 0] = 1.0  # rank 1: the kind of matrix few samples in many dimensions give
    assert M.frechet_distance(np.zeros(3), sigma, np.zeros(3), sigma) == 0.0


def test_frechet_distance_from_features_sees_a_mean_shift():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4000, 3))
    b = rng.normal(size=(4000, 3))
    assert M.frechet_distance_from_features(a, b) < 0.02
    assert M.frechet_distance_from_features(a, b + 1.0) == pytest.approx(3.0, abs=0.1)


def test_frechet_errors():
    with pytest.raises(ValueError, match="same number of features"):
        M.frechet_distance_from_features(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        M.feature_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="same length"):
        M.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match=r"\(2, 2\) covariance"):
        M.frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="symmetric"):
        M.frechet_distance(np.zeros(2), [[1.0, 2.0], [0.0, 1.0]], np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="NaN"):
        M.frechet_distance([np.nan], [[1.0]], [0.0], [[1.0]])


# ---------------------------------------------------------------- nearest neighbours


def test_nearest_neighbour_exclude_self_by_hand():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    dist, idx = M.nearest_neighbour_distances(points, points, exclude_self=True, chunk=3)
    np.testing.assert_allclose(dist, [1.0, 1.0, 2.0, 4.0])
    np.testing.assert_array_equal(idx, [1, 0, 1, 2])
    dist, idx = M.nearest_neighbour_distances(points, points)
    np.testing.assert_array_equal(dist, 0.0)
    np.testing.assert_array_equal(idx, [0, 1, 2, 3])


def test_nearest_neighbour_chunked_matches_brute_force():
    rng = np.random.default_rng(4)
    queries, refs = rng.normal(size=(53, 6)), rng.normal(size=(41, 6))
    full = np.linalg.norm(queries[:, None, :] - refs[None, :, :], axis=2)
    dist, idx = M.nearest_neighbour_distances(torch.tensor(queries), refs, chunk=7)
    np.testing.assert_array_equal(idx, full.argmin(axis=1))
    np.testing.assert_allclose(dist, full.min(axis=1), rtol=1e-12)


def test_nearest_neighbour_errors():
    with pytest.raises(ValueError, match="same number of features"):
        M.nearest_neighbour_distances(np.zeros((3, 2)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="same shape"):
        M.nearest_neighbour_distances(np.zeros((3, 2)), np.zeros((4, 2)), exclude_self=True)
    with pytest.raises(ValueError, match="empty"):
        M.nearest_neighbour_distances(np.zeros((0, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="chunk"):
        M.nearest_neighbour_distances(np.zeros((3, 2)), np.zeros((3, 2)), chunk=0)


# ---------------------------------------------------------------- precision / recall


def test_precision_recall_identical_sets_is_one():
    feats = np.random.default_rng(5).normal(size=(200, 8))
    assert M.precision_recall(feats, feats.copy(), k=3) == (1.0, 1.0)


def test_precision_recall_far_apart_sets_is_zero():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(150, 4))
    fake = rng.normal(size=(120, 4)) + 100.0
    assert M.precision_recall(real, fake, k=3) == (0.0, 0.0)


def test_precision_recall_mode_dropping_keeps_precision_loses_recall():
    rng = np.random.default_rng(7)
    real = np.concatenate([rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 20.0])
    fake = rng.normal(size=(200, 2))  # the generator covers only the first mode
    precision, recall = M.precision_recall(real, fake, k=5, chunk=64)
    assert precision > 0.95
    assert 0.4 < recall <= 0.5


def test_precision_recall_errors():
    with pytest.raises(ValueError, match="k=5 must be smaller than the number of samples"):
        M.precision_recall(np.zeros((10, 2)), np.ones((5, 2)), k=5)
    with pytest.raises(ValueError, match="positive integer"):
        M.precision_recall(np.zeros((10, 2)), np.ones((10, 2)), k=0)


# ---------------------------------------------------------------- memorization


def test_memorization_report_flags_copies():
    rng = np.random.default_rng(8)
    train = rng.normal(size=(100, 1, 8, 8))
    holdout = rng.normal(size=(50, 1, 8, 8))
    report = M.memorization_report(torch.tensor(train[:40]), train, holdout)
    np.testing.assert_array_equal(report["synthetic_to_train"], 0.0)
    assert report["synthetic_median"] == 0.0
    assert report["median_ratio"] == 0.0
    assert report["fraction_closer_than_holdout_p5"] == 1.0
    assert report["holdout_to_train"].shape == (50,)
    assert report["holdout_median"] == pytest.approx(np.median(report["holdout_to_train"]))


def test_memorization_report_fresh_samples_look_like_holdout():
    rng = np.random.default_rng(9)
    train, holdout, synthetic = (rng.normal(size=(n, 16)) for n in (300, 200, 200))
    report = M.memorization_report(synthetic, train, holdout)
    assert 0.9 < report["median_ratio"] < 1.1
    assert report["fraction_closer_than_holdout_p5"] < 0.15


def test_memorization_report_mismatched_images():
    with pytest.raises(ValueError, match="synthetic and train must have the same number of features"):
        M.memorization_report(np.zeros((4, 1, 8, 8)), np.zeros((4, 1, 9, 9)), np.zeros((4, 1, 9, 9)))


# ---------------------------------------------------------------- classification


Y_TRUE = [0, 0, 0, 1, 1, 2]
Y_PRED = [0, 1, 0, 1, 1, 0]


def test_confusion_matrix_worked_example():
    expected = [[2, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(M.confusion_matrix(Y_TRUE, Y_PRED, n_classes=4), expected)
    without_class_3 = np.array(expected)[:3, :3]
    np.testing.assert_array_equal(M.confusion_matrix(torch.tensor(Y_TRUE), Y_PRED), without_class_3)


def test_accuracy_recall_and_balanced_accuracy_worked_example():
    assert M.accuracy(Y_TRUE, Y_PRED) == pytest.approx(4 / 6)
    recall = M.per_class_recall(Y_TRUE, Y_PRED, n_classes=4)
    np.testing.assert_allclose(recall[:3], [2 / 3, 1.0, 0.0])
    assert math.isnan(recall[3])  # class 3 never occurs in y_true
    assert M.balanced_accuracy(Y_TRUE, Y_PRED, n_classes=4) == pytest.approx(5 / 9)


def test_label_errors():
    with pytest.raises(ValueError, match=r"0\.\.2 for n_classes=3, found label 3"):
        M.confusion_matrix([0, 1, 3], [0, 1, 2], n_classes=3)
    with pytest.raises(ValueError, match="lengths 3 and 2"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="no negatives"):
        M.balanced_accuracy([0, -1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        M.per_class_recall([], [])


def test_roc_auc_by_hand_and_with_ties():
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert M.roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert M.roc_auc([1, 1, 0], [0.1, 0.2, 0.9]) == 0.0


def test_roc_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(10)
    y = rng.integers(0, 2, size=300)
    scores = np.round(rng.normal(size=300) + 0.7 * y, 1)  # rounding creates many ties
    assert M.roc_auc(y, torch.tensor(scores)) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


def test_roc_auc_errors():
    with pytest.raises(ValueError, match="only one is present"):
        M.roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="only 0 and 1"):
        M.roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="lengths 2 and 3"):
        M.roc_auc([0, 1], [0.1, 0.2, 0.3])


def test_macro_auc_matches_sklearn_ovr():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 4, size=400)
    logits = rng.normal(size=(400, 4))
    logits[np.arange(400), y] += 1.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = roc_auc_score(y, probs, multi_class="ovr", average="macro")
    assert M.macro_auc(y, probs) == pytest.approx(expected, abs=1e-12)


def test_macro_auc_binary_vector_and_absent_class():
    y = [0, 0, 1, 1]
    p1 = [0.1, 0.4, 0.35, 0.8]
    assert M.macro_auc(y, p1) == pytest.approx(0.75)
    assert M.macro_auc(y, np.column_stack([1 - np.array(p1), p1])) == pytest.approx(0.75)
    # Class 1 is absent from y_true: average only over classes 0 and 2.
    # Class 0: positives score (0.8, 0.3) vs negatives (0.2, 0.5): 3 of 4 pairs ordered -> 0.75.
    # Class 2: positives (0.6, 0.4) vs negatives (0.1, 0.4): 3 ordered + one tie (1/2) -> 0.875.
    probs = np.array([[0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6], [0.5, 0.1, 0.4]])
    assert M.macro_auc([0, 0, 2, 2], probs) == pytest.approx((0.75 + 0.875) / 2)


def test_macro_auc_errors():
    with pytest.raises(ValueError, match="only 2 columns"):
        M.macro_auc([0, 1, 2], np.ones((3, 2)))
    with pytest.raises(ValueError, match="at least two classes"):
        M.macro_auc([1, 1, 1], np.ones((3, 2)))


# ---------------------------------------------------------------- TSTR


def _tabular(rng: np.random.Generator, n: int, n_classes: int = 2):
    y = rng.integers(0, n_classes, size=n)
    X = rng.normal(size=(n, 5))
    X[:, :n_classes] += 1.5 * np.eye(n_classes)[y]
    return X, y


def test_tstr_synthetic_equal_to_real_has_zero_gap():
    rng = np.random.default_rng(12)
    X, y = _tabular(rng, 400)
    Xt, yt = _tabular(rng, 400)
    out = M.tstr(X, y, Xt, yt, real_train=(X, y))
    assert out["tstr_auc"] > 0.8
    assert out["gap"] == pytest.approx(0.0, abs=1e-12)
    assert out["trtr_auc"] == pytest.approx(out["tstr_auc"], abs=1e-12)


def test_tstr_shuffled_labels_is_near_chance():
    rng = np.random.default_rng(13)
    X, y = _tabular(rng, 600)
    Xt, yt = _tabular(rng, 2000)
    out = M.tstr(X, rng.permutation(y), Xt, yt, real_train=(X, y), model="forest", seed=0)
    assert abs(out["tstr_auc"] - 0.5) < 0.07
    assert out["trtr_auc"] > 0.8
    assert out["gap"] == pytest.approx(out["trtr_auc"] - out["tstr_auc"])


def test_tstr_multiclass_and_without_real_train():
    rng = np.random.default_rng(14)
    X, y = _tabular(rng, 600, n_classes=3)
    Xt, yt = _tabular(rng, 600, n_classes=3)
    out = M.tstr(torch.tensor(X), torch.tensor(y), Xt, yt)
    assert out["tstr_auc"] > 0.8
    assert out["trtr_auc"] is None and out["gap"] is None


def test_tstr_errors():
    X, y = _tabular(np.random.default_rng(15), 50)
    with pytest.raises(ValueError, match="only one class"):
        M.tstr(X, np.zeros(50, dtype=int), X, y)
    with pytest.raises(ValueError, match="'logistic' or 'forest'"):
        M.tstr(X, y, X, y, model="svm")
    with pytest.raises(ValueError, match="same number of features"):
        M.tstr(X, y, X[:, :3], y)


# ---------------------------------------------------------------- privacy


def test_dcr_is_zero_for_copied_records():
    rng = np.random.default_rng(16)
    reference = rng.normal(size=(80, 4)) * [1.0, 10.0, 100.0, 1000.0]
    assert np.all(M.distance_to_closest_record(reference[:10], reference) == 0.0)
    assert np.all(M.distance_to_closest_record(reference[:10] + 5.0, reference) > 0.0)


def test_dcr_standardizes_columns_by_hand():
    reference = np.array([[0.0, 0.0], [2.0, 200.0]])  # mean (1, 100), std (1, 100)
    got = M.distance_to_closest_record([[1.0, 100.0]], reference)
    np.testing.assert_allclose(got, [math.sqrt(2.0)])
    # A constant column (std 0) is centred but not divided by zero.
    got = M.distance_to_closest_record([[0.0, 7.0]], [[0.0, 5.0], [2.0, 5.0]])
    np.testing.assert_allclose(got, [2.0])
    # scaler_from supplies the scale: std (2, 2) here.
    got = M.distance_to_closest_record([[4.0, 0.0]], [[0.0, 0.0]], scaler_from=[[-2.0, -2.0], [2.0, 2.0]])
    np.testing.assert_allclose(got, [2.0])


def test_dcr_errors():
    with pytest.raises(ValueError, match="scaler_from and reference must have the same number of features"):
        M.distance_to_closest_record(np.zeros((2, 3)), np.zeros((2, 3)), scaler_from=np.zeros((2, 4)))


def test_membership_inference_auc():
    assert M.membership_inference_auc([0.9, 0.8, 0.7], [0.1, 0.2]) == 1.0
    assert M.membership_inference_auc([0.3, 0.3], [0.3, 0.3, 0.3]) == 0.5
    assert M.membership_inference_auc([0.1], [0.9]) == 0.0
    with pytest.raises(ValueError, match="member_scores is empty"):
        M.membership_inference_auc([], [0.1])


# ---------------------------------------------------------------- subgroups


GROUPS = ["A"] * 6 + ["B"] * 4 + ["C"]
SUB_TRUE = [1, 1, 1, 1, 0, 0] + [1, 1, 0, 0] + [0]
SUB_PRED = [1, 1, 1, 0, 0, 1] + [0, 1, 0, 0] + [0]


def test_subgroup_rates_worked_example():
    rates = M.subgroup_rates(SUB_TRUE, SUB_PRED, GROUPS)
    assert list(rates) == ["A", "B", "C"]
    a, b, c = rates["A"], rates["B"], rates["C"]
    assert (a["n"], a["n_positive"]) == (6, 4)
    assert a["tpr"] == 0.75 and a["fnr"] == 0.25 and a["fpr"] == 0.5
    assert a["accuracy"] == pytest.approx(4 / 6)
    assert b["tpr"] == 0.5 and b["fnr"] == 0.5 and b["fpr"] == 0.0 and b["accuracy"] == 0.75
    assert c["n_positive"] == 0 and math.isnan(c["fnr"]) and math.isnan(c["tpr"])
    assert c["fpr"] == 0.0 and c["accuracy"] == 1.0


def test_subgroup_gap_ignores_undefined_groups():
    gap, rates = M.subgroup_gap(SUB_TRUE, SUB_PRED, GROUPS, metric="fnr")
    assert gap == pytest.approx(0.25)
    assert set(rates) == {"A", "B", "C"}
    gap, _ = M.subgroup_gap(SUB_TRUE, SUB_PRED, GROUPS, metric="fpr")
    assert gap == pytest.approx(0.5)


def test_subgroup_positive_label_and_errors():
    as_text = ["sick" if v else "well" for v in SUB_TRUE]
    pred_text = ["sick" if v else "well" for v in SUB_PRED]
    gap, _ = M.subgroup_gap(as_text, pred_text, GROUPS, positive="sick")
    assert gap == pytest.approx(0.25)
    with pytest.raises(ValueError, match="binary labels"):
        M.subgroup_rates([0, 1, 2], [0, 1, 1], ["a", "a", "b"])
    with pytest.raises(ValueError, match="positive='yes' is not one of the labels"):
        M.subgroup_rates([0, 1], [0, 1], ["a", "b"], positive="yes")
    with pytest.raises(ValueError, match="metric must be one of"):
        M.subgroup_gap(SUB_TRUE, SUB_PRED, GROUPS, metric="auc")
    with pytest.raises(ValueError, match="undefined in every group"):
        M.subgroup_gap([0, 0], [0, 1], ["a", "b"], metric="fnr")
    with pytest.raises(ValueError, match="y_true and groups"):
        M.subgroup_rates([0, 1], [0, 1], ["a"])


def test_subgroup_rates_accept_string_groups_from_pandas():
    import pandas as pd

    groups = pd.Series(["Female", "Male", "Female", "Male"], dtype=object).to_numpy()
    rates = M.subgroup_rates([1, 1, 1, 0], [0, 1, 1, 0], groups)
    assert set(rates) == {"Female", "Male"} and rates["Female"]["fnr"] == 0.5
