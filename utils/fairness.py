"""Subgroup helpers for the bias lesson (notebook 11), beyond ``utils.metrics.subgroup_rates``.

A gap between two groups measured on one small test set is a noisy number: this module
puts error bars on it (``bootstrap_gap``, ``spread`` over repeated splits), plans how many
synthetic records each (group, label) cell needs (``sampling_plan``), weights real records
instead (``balancing_weights``), and measures what a generator trained on imbalanced data
under-produces (``group_shares``, ``per_group_marginal_distance``, ``group_coverage``).

Groups and labels are small non-negative integer codes (e.g. 0 = male, 1 = female; 0 = no
disease, 1 = disease); a (group, label) cell is coded ``group * n_labels + label``, the
condition a conditional generator receives.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from utils.metrics import distance_to_closest_record
from utils.profiling import timed

_RATE_METRICS = ("fnr", "tpr", "fpr", "accuracy")


# ----------------------------------------------------------------------------- codes and counts


def _codes(x, name: str) -> np.ndarray:
    """A 1-D array of non-negative integer codes (lists, arrays, tensors, pandas)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of integer codes, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise ValueError(f"{name} must hold integer codes 0, 1, ..., got dtype {arr.dtype}")
    if np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must hold non-negative integer codes")
    return arr.astype(np.int64)


def _pair(groups, labels) -> tuple[np.ndarray, np.ndarray]:
    groups, labels = _codes(groups, "groups"), _codes(labels, "labels")
    if len(groups) != len(labels):
        raise ValueError(f"groups and labels need one entry per record, got {len(groups)} and {len(labels)}")
    return groups, labels


def condition_codes(groups, labels, n_labels: int = 2) -> np.ndarray:
    """The cell of each record, ``group * n_labels + label`` (the conditional GAN's condition)."""
    groups, labels = _pair(groups, labels)
    if labels.max() >= n_labels:
        raise ValueError(f"labels must lie in 0..{n_labels - 1}, found {labels.max()}")
    return groups * n_labels + labels


def split_condition(codes, n_labels: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of ``condition_codes``: (groups, labels) from cell codes."""
    codes = _codes(codes, "codes")
    return codes // n_labels, codes % n_labels


def cell_counts(groups, labels, n_groups: int | None = None, n_labels: int = 2) -> np.ndarray:
    """Records per (group, label) cell as an (n_groups, n_labels) integer array (empty cells are 0)."""
    groups, labels = _pair(groups, labels)
    n_groups = int(groups.max()) + 1 if n_groups is None else int(n_groups)
    if groups.max() >= n_groups or labels.max() >= n_labels:
        raise ValueError(f"codes exceed n_groups={n_groups} or n_labels={n_labels}")
    return np.bincount(groups * n_labels + labels, minlength=n_groups * n_labels).reshape(n_groups, n_labels)


# ----------------------------------------------------------------------------- mitigation plans


def sampling_plan(counts, target: int | None = None) -> np.ndarray:
    """How many synthetic records each (group, label) cell needs: a reference implementation.

    ``counts`` is the (n_groups, n_labels) table of real records. By default each cell is
    brought up to the largest group's count for the same label, so that afterwards every
    group is equally large and has the same label mix; with ``target`` every cell is brought
    up to ``target``. Cells already at or above the target need 0, never a negative number.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or np.any(counts < 0):
        raise ValueError(f"counts must be a 2-D (groups x labels) table of counts, got {counts!r}")
    goal = counts.max(axis=0, keepdims=True) if target is None else np.full((1, counts.shape[1]), int(target))
    return np.clip(goal - counts, 0, None).astype(np.int64)


def plan_conditions(plan) -> np.ndarray:
    """One condition code (``group * n_labels + label``) per synthetic record the plan asks for."""
    plan = np.asarray(plan, dtype=np.int64)
    if plan.ndim != 2 or np.any(plan < 0):
        raise ValueError("plan must be a 2-D (groups x labels) table of non-negative counts")
    return np.repeat(np.arange(plan.size), plan.reshape(-1))


def balancing_weights(strata) -> np.ndarray:
    """Sample weights inversely proportional to each stratum's frequency, with mean 1.

    Every stratum (e.g. a (group, label) cell) then carries the same total weight.
    """
    strata = _codes(strata, "strata")
    counts = np.bincount(strata)
    weights = 1.0 / counts[strata]
    return weights / weights.mean()


# ----------------------------------------------------------------------------- uncertainty


def stratified_splits(strata, n_splits: int, test_size: float = 0.25, seed: int = 0) -> list:
    """``n_splits`` random train/test index pairs that keep each stratum's share in both parts."""
    from sklearn.model_selection import StratifiedShuffleSplit

    strata = _codes(strata, "strata")
    splitter = StratifiedShuffleSplit(n_splits=n_splits, test_size=test_size, random_state=seed)
    return [(train, test) for train, test in splitter.split(np.zeros(len(strata)), strata)]


def spread(values) -> dict:
    """Mean, standard deviation (ddof=1), min, max and count of the finite values (NaN ignored)."""
    arr = np.asarray(values, dtype=float).reshape(-1)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        nan = float("nan")
        return {"mean": nan, "std": nan, "min": nan, "max": nan, "n": 0}
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "min": float(arr.min()), "max": float(arr.max()),
            "n": int(arr.size)}


def _outcome_indicators(y_true, y_pred, metric: str, positive) -> tuple[np.ndarray, np.ndarray]:
    """(which records count for ``metric``, the 0/1 outcome whose mean is the metric)."""
    truth, pred = np.asarray(y_true) == positive, np.asarray(y_pred) == positive
    if metric == "fnr":
        return truth, ~pred
    if metric == "tpr":
        return truth, pred
    if metric == "fpr":
        return ~truth, pred
    return np.ones_like(truth), truth == pred


@timed("evaluation")
def bootstrap_gap(y_true, y_pred, groups, group_a, group_b, metric: str = "fnr", positive=1,
                  n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """``metric`` of group_a minus group_b on one test set, with a percentile bootstrap interval.

    Records are resampled within each group (group sizes stay fixed), so the interval shows
    how much the gap could move with a different draw of patients of the same kind.
    Returns ``gap``, ``low``, ``high``, the two groups' rates and the bootstrap ``samples``.
    """
    if metric not in _RATE_METRICS:
        raise ValueError(f"metric must be one of {_RATE_METRICS}, got {metric!r}")
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    if not (len(y_true) == len(y_pred) == len(groups)):
        raise ValueError("y_true, y_pred and groups need one entry per record")
    relevant, outcome = _outcome_indicators(y_true, y_pred, metric, positive)
    rng = np.random.default_rng(seed)
    rates, draws = {}, {}
    for name, g in (("a", group_a), ("b", group_b)):
        values = outcome[(groups == g) & relevant].astype(float)
        if values.size == 0:
            raise ValueError(f"group {g!r} has no records that {metric} is defined on (e.g. FNR needs positives)")
        rates[name] = float(values.mean())
        draws[name] = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
    samples = draws["a"] - draws["b"]
    tail = (1 - level) / 2 * 100
    return {"gap": rates["a"] - rates["b"], "low": float(np.percentile(samples, tail)),
            "high": float(np.percentile(samples, 100 - tail)), "rate_a": rates["a"], "rate_b": rates["b"],
            "samples": samples}


# ----------------------------------------------------------------------------- bias transfer


def group_shares(values, levels) -> dict:
    """Share of each level in ``values`` (levels absent from ``values`` get 0.0)."""
    values = pd.Series(np.asarray(values, dtype=object))
    total = len(values)
    return {level: (float((values == level).sum()) / total if total else float("nan")) for level in levels}


def _w1_on_quantiles(a: np.ndarray, b: np.ndarray, n_quantiles: int = 101) -> float:
    """1-D Wasserstein-1 distance, approximated on a grid of quantiles."""
    q = np.linspace(0, 1, n_quantiles)
    return float(np.mean(np.abs(np.quantile(a, q) - np.quantile(b, q))))


def per_group_marginal_distance(real: pd.DataFrame, synth: pd.DataFrame, group_col: str, columns) -> dict:
    """For each group of ``real``: mean over ``columns`` of the Wasserstein-1 distance between the
    group's real and synthetic values, in units of the real column's standard deviation.

    0 means the group's marginals match; NaN means the generator produced no record of the group.
    """
    columns = list(columns)
    missing = [c for c in columns + [group_col] if c not in real.columns or c not in synth.columns]
    if missing:
        raise ValueError(f"both frames need columns {missing}")
    scale = real[columns].astype(float).std().replace(0, 1.0)
    result = {}
    for level in pd.unique(real[group_col]):
        r = real.loc[real[group_col] == level, columns].astype(float)
        s = synth.loc[synth[group_col] == level, columns].astype(float)
        if len(s) == 0 or len(r) == 0:
            result[level] = float("nan")
            continue
        result[level] = float(np.mean([_w1_on_quantiles(r[c].to_numpy(), s[c].to_numpy()) / scale[c]
                                       for c in columns]))
    return result


@timed("evaluation")
def group_coverage(holdout, holdout_groups, train, synthetic, seed: int = 0) -> dict:
    """How well do synthetic records cover each group's real patients, relative to real data?

    For each group: median distance from its held-out real records to the closest synthetic
    record, divided by the median distance to the closest real training record (columns
    standardized on ``train``). About 1: the synthetic data covers the group as well as the
    real training data does; well above 1: the group's patients have no close synthetic
    counterpart (the generator under-produces them). Returns {group: ratio}.
    Nearest neighbours get closer as a set grows, so a synthetic set larger than ``train``
    is subsampled (seeded) to the size of ``train`` first.
    """
    holdout, train, synthetic = (np.asarray(a, dtype=float) for a in (holdout, train, synthetic))
    holdout_groups = np.asarray(holdout_groups)
    if len(holdout_groups) != len(holdout):
        raise ValueError("holdout_groups needs one entry per holdout record")
    if len(synthetic) > len(train):
        keep = np.random.default_rng(seed).choice(len(synthetic), size=len(train), replace=False)
        synthetic = synthetic[keep]
    result = {}
    for level in pd.unique(holdout_groups):
        rows = holdout[holdout_groups == level]
        to_synth = np.median(distance_to_closest_record(rows, synthetic, scaler_from=train))
        to_train = np.median(distance_to_closest_record(rows, train, scaler_from=train))
        result[level.item() if hasattr(level, "item") else level] = (
            float(to_synth / to_train) if to_train > 0 else float("nan"))
    return result
