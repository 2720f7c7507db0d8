"""Known-value tests for utils.fairness: cells, plans, weights, intervals and bias transfer."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from utils import fairness as F


# ---------------------------------------------------------------- codes and counts


def test_condition_codes_round_trip_and_accept_torch():
    groups, labels = torch.tensor([0, 0, 1, 1, 2]), [1, 0, 1, 0, 1]
    codes = F.condition_codes(groups, labels)
    np.testing.assert_array_equal(codes, [1, 0, 3, 2, 5])
    g, y = F.split_condition(codes)
    np.testing.assert_array_equal(g, [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(y, labels)


def test_condition_codes_reject_bad_input():
    with pytest.raises(ValueError, match="one entry per record"):
        F.condition_codes([0, 1], [1])
    with pytest.raises(ValueError, match="labels must lie"):
        F.condition_codes([0, 1], [0, 2])
    with pytest.raises(ValueError, match="non-negative"):
        F.condition_codes([0, -1], [0, 1])


def test_cell_counts_keeps_empty_cells():
    counts = F.cell_counts([0, 0, 0, 1], [1, 1, 0, 1], n_groups=3)
    np.testing.assert_array_equal(counts, [[1, 2], [0, 1], [0, 0]])


# ---------------------------------------------------------------- plans and weights


def test_sampling_plan_equalizes_each_label_across_groups():
    counts = np.array([[81, 226], [34, 64]])  # men, women x (no disease, disease)
    plan = F.sampling_plan(counts)
    np.testing.assert_array_equal(plan, [[0, 0], [47, 162]])
    after = counts + plan
    assert (after[0] == after[1]).all()


def test_sampling_plan_with_target_is_never_negative():
    plan = F.sampling_plan(np.array([[10, 50], [5, 0]]), target=20)
    np.testing.assert_array_equal(plan, [[10, 0], [15, 20]])
    with pytest.raises(ValueError):
        F.sampling_plan(np.array([1, 2]))


def test_plan_conditions_repeats_each_cell_code():
    codes = F.plan_conditions(np.array([[0, 2], [1, 0]]))
    np.testing.assert_array_equal(codes, [1, 1, 2])
    assert F.plan_conditions(np.zeros((2, 2), int)).size == 0


def test_balancing_weights_mean_one_and_equal_cell_totals():
    strata = np.array([0, 0, 0, 1, 2, 2])
    w = F.balancing_weights(strata)
    assert w.mean() == pytest.approx(1.0)
    totals = [w[strata == s].sum() for s in range(3)]
    np.testing.assert_allclose(totals, totals[0])
    assert w[3] == pytest.approx(3 * w[0])  # the single record weighs as much as the three together


# ---------------------------------------------------------------- uncertainty


def test_stratified_splits_keep_strata_shares_and_are_seeded():
    strata = np.repeat([0, 1, 2, 3], [40, 20, 20, 20])
    splits = F.stratified_splits(strata, n_splits=3, test_size=0.25, seed=1)
    assert len(splits) == 3
    for train, test in splits:
        assert len(set(train) & set(test)) == 0 and len(train) + len(test) == 100
        np.testing.assert_array_equal(np.bincount(strata[test]), [10, 5, 5, 5])
    again = F.stratified_splits(strata, n_splits=3, test_size=0.25, seed=1)
    np.testing.assert_array_equal(splits[0][1], again[0][1])


def test_spread_known_values_and_ignores_nan():
    s = F.spread([1.0, 2.0, 3.0, float("nan")])
    assert s == {"mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0, "n": 3}
    assert F.spread([float("nan")])["n"] == 0
    assert F.spread([5.0])["std"] == 0.0


def test_bootstrap_gap_point_estimate_and_interval():
    # group 1: 4 positives, 2 missed (FNR 0.5); group 0: 4 positives, 0 missed (FNR 0)
    y_true = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 0])
    y_pred = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 0])
    groups = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    out = F.bootstrap_gap(y_true, y_pred, groups, 1, 0, n_boot=500, seed=0)
    assert out["gap"] == pytest.approx(0.5)
    assert out["rate_a"] == pytest.approx(0.5) and out["rate_b"] == 0.0
    assert out["low"] <= 0.5 <= out["high"]
    assert 0.0 <= out["low"] < out["high"] <= 1.0
    assert out["samples"].shape == (500,)


def test_bootstrap_gap_other_metric_and_errors():
    y_true = np.array([1, 0, 0, 1, 0, 0])
    y_pred = np.array([1, 1, 0, 1, 0, 0])
    groups = np.array(["F", "F", "F", "M", "M", "M"])
    out = F.bootstrap_gap(y_true, y_pred, groups, "F", "M", metric="fpr", n_boot=100)
    assert out["gap"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no records"):
        F.bootstrap_gap(np.zeros(4), np.zeros(4), np.array([0, 0, 1, 1]), 0, 1)
    with pytest.raises(ValueError, match="metric"):
        F.bootstrap_gap(y_true, y_pred, groups, "F", "M", metric="auc")


# ---------------------------------------------------------------- bias transfer


def test_group_shares_counts_absent_levels_as_zero():
    shares = F.group_shares(["M", "M", "F", "M"], ["M", "F", "X"])
    assert shares == {"M": 0.75, "F": 0.25, "X": 0.0}


def test_per_group_marginal_distance_detects_shifted_group():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"g": ["a"] * 200 + ["b"] * 200, "x": rng.normal(0, 1, 400)})
    synth = pd.DataFrame({"g": ["a"] * 200 + ["b"] * 200,
                          "x": np.concatenate([rng.normal(0, 1, 200), rng.normal(2, 1, 200)])})
    dist = F.per_group_marginal_distance(real, synth, "g", ["x"])
    assert dist["a"] < 0.2 < 1.5 < dist["b"]
    only_a = synth[synth.g == "a"]
    assert np.isnan(F.per_group_marginal_distance(real, only_a, "g", ["x"])["b"])


def test_group_coverage_is_large_for_a_group_the_generator_drops():
    rng = np.random.default_rng(0)
    train = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(6, 1, (60, 2))])
    holdout = np.concatenate([rng.normal(0, 1, (50, 2)), rng.normal(6, 1, (20, 2))])
    groups = np.array([0] * 50 + [1] * 20)
    synthetic = rng.normal(0, 1, (300, 2))  # only group 0's region
    cov = F.group_coverage(holdout, groups, train, synthetic)
    assert cov[0] < 2.0
    assert cov[1] > 5.0


def test_group_coverage_subsamples_a_larger_synthetic_set():
    rng = np.random.default_rng(1)
    train = rng.normal(0, 1, (100, 2))
    holdout = rng.normal(0, 1, (60, 2))
    groups = np.zeros(60, dtype=int)
    big = rng.normal(0, 1, (5000, 2))    # same distribution, 50x more records
    assert 0.7 < F.group_coverage(holdout, groups, train, big, seed=0)[0] < 1.4
