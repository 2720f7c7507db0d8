"""Evaluation metrics for the course: how good, how faithful and how private is synthetic data?

Everything here is plain NumPy so you can read how each number is computed; only ``tstr``
uses scikit-learn, because it has to fit a classifier. Inputs may be NumPy arrays or torch
tensors (on any device). Bad inputs raise ``ValueError`` with a message that says what was
expected, so a shape mistake in a notebook fails loudly instead of giving a wrong number.
"""
from __future__ import annotations

import numpy as np
import torch

from utils.profiling import timed

_SUBGROUP_METRICS = ("tpr", "fnr", "fpr", "accuracy")


# ---------------------------------------------------------------- input helpers


def _to_numpy(x) -> np.ndarray:
    """A NumPy view of ``x``; torch tensors are detached and moved to the CPU first."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _as_float(x, name: str, ndim: int | None = None) -> np.ndarray:
    """``x`` as a finite, non-empty float64 array (with ``ndim`` dimensions if given)."""
    arr = _to_numpy(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one value")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _as_rows(x, name: str, min_rows: int = 1) -> np.ndarray:
    """``x`` as an (N, D) float array: one sample per row; images are flattened to vectors."""
    arr = _as_float(x, name)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have shape (N, D) with one sample per row, got shape {arr.shape}")
    arr = arr.reshape(arr.shape[0], -1)
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows (samples), got {arr.shape[0]}")
    return arr


def _as_labels(y, name: str) -> np.ndarray:
    """``y`` as a non-empty 1-D array of non-negative integer class labels."""
    arr = _to_numpy(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; it needs at least one label")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold integer class labels 0..C-1, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must hold integer class labels 0..C-1 (no negatives, NaN or fractions)")
    return arr.astype(np.int64)


def _check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} and {name_b} must have one entry per sample, "
            f"got lengths {len(a)} and {len(b)}"
        )


def _check_same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same number of features, got {a.shape[1]} and {b.shape[1]}"
        )


def _paired_labels(y_true, y_pred, n_classes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Validated (y_true, y_pred, n_classes); n_classes defaults to the largest label + 1."""
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    _check_same_length(y_true, y_pred, "y_true", "y_pred")
    largest = int(max(y_true.max(), y_pred.max()))
    if n_classes is None:
        return y_true, y_pred, largest + 1
    if int(n_classes) < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    if largest >= n_classes:
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for n_classes={n_classes}, "
            f"found label {largest}"
        )
    return y_true, y_pred, int(n_classes)


# ---------------------------------------------------------------- Fréchet distance (FID)


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean vector and covariance matrix of (N, D) features: the Gaussian that FID compares."""
    feats = _as_rows(features, "features", min_rows=2)
    return feats.mean(axis=0), np.atleast_2d(np.cov(feats, rowvar=False))


def _symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix via its eigendecomposition."""
    eigvals, eigvecs = np.linalg.eigh(matrix)
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))) @ eigvecs.T


def _as_covariance(sigma, name: str, dim: int) -> np.ndarray:
    sigma = np.atleast_2d(_as_float(sigma, name))
    if sigma.shape != (dim, dim):
        raise ValueError(
            f"{name} must be a ({dim}, {dim}) covariance matrix to match the mean, "
            f"got shape {sigma.shape}"
        )
    if not np.allclose(sigma, sigma.T, rtol=1e-6, atol=1e-9):
        raise ValueError(f"{name} must be symmetric (a covariance matrix); did you pass features instead?")
    return sigma


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between two Gaussians: ||mu1-mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    Tr (S1 S2)^(1/2) equals the trace of (sqrt(S1) S2 sqrt(S1))^(1/2), a symmetric matrix,
    so we only need symmetric eigendecompositions: stable, and never complex.
    """
    mu1 = np.atleast_1d(_as_float(mu1, "mu1"))
    mu2 = np.atleast_1d(_as_float(mu2, "mu2"))
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(
            "mu1 and mu2 must be 1-D vectors of the same length, "
            f"got shapes {mu1.shape} and {mu2.shape}"
        )
    dim = mu1.shape[0]
    sigma1 = _as_covariance(sigma1, "sigma1", dim)
    sigma2 = _as_covariance(sigma2, "sigma2", dim)
    root1 = _symmetric_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigvals = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigvals, 0.0, None)).sum()
    distance = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt
    return float(max(distance, 0.0))


def frechet_distance_from_features(feats_a, feats_b) -> float:
    """Fréchet distance between the Gaussians fitted to two (N, D) feature sets (FID on features)."""
    feats_a = _as_rows(feats_a, "feats_a", min_rows=2)
    feats_b = _as_rows(feats_b, "feats_b", min_rows=2)
    _check_same_dim(feats_a, feats_b, "feats_a", "feats_b")
    return frechet_distance(*feature_statistics(feats_a), *feature_statistics(feats_b))


# ---------------------------------------------------------------- nearest neighbours


def _squared_distance_blocks(queries: np.ndarray, references: np.ndarray, chunk: int, exclude_self: bool):
    """Yield (start, block): squared distances from queries[start:start+chunk] to every reference.

    Working a chunk of queries at a time keeps memory at chunk x N_ref, not N_query x N_ref.
    With ``exclude_self`` each query's own index is set to +inf so it is never its own neighbour.
    """
    ref_norms = np.sum(references**2, axis=1)
    for start in range(0, len(queries), chunk):
        block = queries[start : start + chunk]
        d2 = np.sum(block**2, axis=1)[:, None] + ref_norms[None, :] - 2 * block @ references.T
        np.clip(d2, 0.0, None, out=d2)
        if exclude_self:
            rows = np.arange(len(block))
            d2[rows, start + rows] = np.inf
        yield start, d2


def _check_chunk(chunk) -> int:
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be a positive integer (rows per block), got {chunk!r}")
    return int(chunk)


@timed("evaluation")
def nearest_neighbour_distances(queries, references, exclude_self=False, chunk=1024):
    """Euclidean distance from each query row to its nearest reference row, and that row's index.

    Use ``exclude_self=True`` when queries and references are the same set, so that a
    point's zero distance to itself is skipped (matched by index, not by value).
    """
    queries = _as_rows(queries, "queries")
    references = _as_rows(references, "references")
    _check_same_dim(queries, references, "queries", "references")
    chunk = _check_chunk(chunk)
    if exclude_self:
        if queries.shape != references.shape:
            raise ValueError(
                "exclude_self=True needs queries to be the references themselves (same shape), "
                f"got {queries.shape} and {references.shape}"
            )
        if len(references) < 2:
            raise ValueError("exclude_self=True needs at least 2 reference rows (a point other than itself)")
    indices = np.empty(len(queries), dtype=np.int64)
    for start, d2 in _squared_distance_blocks(queries, references, chunk, exclude_self):
        indices[start : start + len(d2)] = np.argmin(d2, axis=1)
    # Recompute the winners directly: exact zeros for copies, no cancellation error.
    distances = np.linalg.norm(queries - references[indices], axis=1)
    return distances, indices


def _kth_neighbour_sq_radius(points: np.ndarray, k: int, chunk: int) -> np.ndarray:
    """Squared distance from each point to its k-th nearest *other* point of the same set."""
    radii = np.empty(len(points))
    for start, d2 in _squared_distance_blocks(points, points, chunk, exclude_self=True):
        radii[start : start + len(d2)] = np.partition(d2, k - 1, axis=1)[:, k - 1]
    return radii


def _fraction_inside_balls(
    queries: np.ndarray, centres: np.ndarray, sq_radii: np.ndarray, chunk: int
) -> float:
    """Fraction of queries that fall inside at least one ball (centre, radius) of the manifold."""
    inside = np.empty(len(queries), dtype=bool)
    for start, d2 in _squared_distance_blocks(queries, centres, chunk, exclude_self=False):
        inside[start : start + len(d2)] = np.any(d2 <= sq_radii[None, :], axis=1)
    return float(inside.mean())


@timed("evaluation")
def precision_recall(real_features, fake_features, k=3, chunk=1024) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019).

    Precision: fraction of fakes inside the real manifold (realism). Recall: fraction of
    reals inside the fake manifold (diversity). A manifold is the union of balls around each
    point whose radius is the distance to its k-th nearest other point of the same set.
    """
    real = _as_rows(real_features, "real_features")
    fake = _as_rows(fake_features, "fake_features")
    _check_same_dim(real, fake, "real_features", "fake_features")
    chunk = _check_chunk(chunk)
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    smallest = min(len(real), len(fake))
    if k >= smallest:
        raise ValueError(
            f"k={k} must be smaller than the number of samples in each set "
            f"(real: {len(real)}, fake: {len(fake)}); each point needs k other points"
        )
    precision = _fraction_inside_balls(fake, real, _kth_neighbour_sq_radius(real, k, chunk), chunk)
    recall = _fraction_inside_balls(real, fake, _kth_neighbour_sq_radius(fake, k, chunk), chunk)
    return precision, recall


@timed("evaluation")
def memorization_report(synthetic, train, holdout) -> dict:
    """Is the generator copying training patients? Compare with how close *unseen* patients are.

    Holdout-to-train distances are the baseline: real images the model never saw. If synthetic
    images sit much closer to the training set than that (``median_ratio`` well below 1, or a
    large ``fraction_closer_than_holdout_p5``), the generator may be memorizing.
    ``median_ratio`` is NaN when the holdout median is 0 (holdout duplicates train: check the split).
    """
    synthetic = _as_rows(synthetic, "synthetic")
    train = _as_rows(train, "train")
    holdout = _as_rows(holdout, "holdout")
    _check_same_dim(synthetic, train, "synthetic", "train")
    _check_same_dim(holdout, train, "holdout", "train")
    syn_to_train, _ = nearest_neighbour_distances(synthetic, train)
    hold_to_train, _ = nearest_neighbour_distances(holdout, train)
    syn_median = float(np.median(syn_to_train))
    hold_median = float(np.median(hold_to_train))
    return {
        "synthetic_to_train": syn_to_train,
        "holdout_to_train": hold_to_train,
        "synthetic_median": syn_median,
        "holdout_median": hold_median,
        "median_ratio": syn_median / hold_median if hold_median > 0 else float("nan"),
        "fraction_closer_than_holdout_p5": float(np.mean(syn_to_train < np.percentile(hold_to_train, 5))),
    }


# ---------------------------------------------------------------- classification metrics


def confusion_matrix(y_true, y_pred, n_classes=None) -> np.ndarray:
    """Counts of (true class, predicted class): rows are the truth, columns the prediction."""
    y_true, y_pred, n = _paired_labels(y_true, y_pred, n_classes)
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions (misleading when classes are imbalanced: see balanced_accuracy)."""
    y_true, y_pred, _ = _paired_labels(y_true, y_pred, None)
    return float(np.mean(y_true == y_pred))


def per_class_recall(y_true, y_pred, n_classes=None) -> np.ndarray:
    """Recall (sensitivity) of each class: correct / truly in that class. NaN for absent classes."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    support = cm.sum(axis=1)
    recall = np.full(len(cm), np.nan)
    present = support > 0
    recall[present] = np.diag(cm)[present] / support[present]
    return recall


def balanced_accuracy(y_true, y_pred, n_classes=None) -> float:
    """Mean recall over the classes present in y_true: a rare disease counts as much as a common one."""
    return float(np.nanmean(per_class_recall(y_true, y_pred, n_classes)))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``; tied values all get the average of the ranks they span."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)
    return (last_rank - (counts - 1) / 2)[inverse]


def roc_auc(y_true_binary, scores) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative.

    Computed from ranks (Mann-Whitney U), ties counting one half.
    """
    labels = _to_numpy(y_true_binary)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            "y_true_binary must be a non-empty 1-D array of 0/1 labels, "
            f"got shape {labels.shape}"
        )
    if not np.all(np.isin(labels, (0, 1))):
        raise ValueError(f"y_true_binary must hold only 0 and 1, found {np.unique(labels)[:5].tolist()}")
    scores = _as_float(scores, "scores", ndim=1)
    _check_same_length(labels, scores, "y_true_binary", "scores")
    positive = labels.astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            "roc_auc needs both classes in y_true_binary (some 0s and some 1s); "
            "only one is present"
        )
    u_statistic = _average_ranks(scores)[positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u_statistic / (n_pos * n_neg))


def macro_auc(y_true, probs) -> float:
    """One-vs-rest AUC averaged over the classes present in y_true (each class weighs the same).

    ``probs`` has shape (N, C); for two classes a 1-D array is read as the score of class 1.
    """
    y_true = _as_labels(y_true, "y_true")
    probs = _as_float(probs, "probs")
    if probs.ndim == 1:
        probs = np.column_stack([-probs, probs])
    if probs.ndim != 2:
        raise ValueError(f"probs must have shape (N, C) (or (N,) for two classes), got shape {probs.shape}")
    _check_same_length(y_true, probs, "y_true", "probs")
    n_classes = probs.shape[1]
    if y_true.max() >= n_classes:
        raise ValueError(
            f"y_true holds label {y_true.max()} but probs has only {n_classes} columns "
            f"(classes 0..{n_classes - 1})"
        )
    present = np.unique(y_true)
    if len(present) < 2:
        raise ValueError(f"macro_auc needs at least two classes in y_true, found only {present.tolist()}")
    return float(np.mean([roc_auc((y_true == c).astype(int), probs[:, c]) for c in present]))


# ---------------------------------------------------------------- utility: train on synthetic, test on real


def _make_classifier(model: str, seed: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if model == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if model == "forest":
        return RandomForestClassifier(n_estimators=200, random_state=seed)
    raise ValueError(f"model must be 'logistic' or 'forest', got {model!r}")


def _labelled_set(X, y, name: str) -> tuple[np.ndarray, np.ndarray]:
    X = _as_rows(X, f"{name}_X")
    y = _as_labels(y, f"{name}_y")
    _check_same_length(X, y, f"{name}_X", f"{name}_y")
    return X, y


def _fit_and_score(model: str, seed: int, X, y, test_X, test_y, n_classes: int) -> float:
    """Fit a fresh classifier on (X, y) and return its AUC on the test set."""
    clf = _make_classifier(model, seed).fit(X, y)
    probs = np.zeros((len(test_X), n_classes))
    probs[:, clf.classes_] = clf.predict_proba(test_X)  # classes unseen in training keep 0
    if n_classes == 2:
        return roc_auc(test_y, probs[:, 1])
    return macro_auc(test_y, probs)


@timed("evaluation")
def tstr(train_X, train_y, test_X, test_y, real_train=None, model="logistic", seed=0) -> dict:
    """Train on synthetic, test on real: is the synthetic data useful for a downstream classifier?

    ``tstr_auc`` is the real-test AUC of a model fitted on synthetic data. With
    ``real_train=(X, y)`` the same model is also fitted on real data (``trtr_auc``, the ceiling)
    and ``gap`` = trtr - tstr says how much usefulness the synthetic data loses.
    """
    train_X, train_y = _labelled_set(train_X, train_y, "train")
    test_X, test_y = _labelled_set(test_X, test_y, "test")
    _check_same_dim(train_X, test_X, "train_X", "test_X")
    _make_classifier(model, seed)  # fail early on an unknown model name
    if len(np.unique(train_y)) < 2:
        raise ValueError(
            f"the synthetic training labels hold only one class ({train_y[0]}); "
            "a classifier needs at least two (did the conditional generator collapse?)"
        )
    if len(np.unique(test_y)) < 2:
        raise ValueError("test_y holds only one class; AUC on the real test set needs at least two")
    labels = [train_y, test_y]
    if real_train is not None:
        if len(real_train) != 2:
            raise ValueError("real_train must be a pair (X, y) of real training features and labels")
        real_X, real_y = _labelled_set(*real_train, "real_train")
        _check_same_dim(real_X, test_X, "real_train X", "test_X")
        labels.append(real_y)
    n_classes = int(max(y.max() for y in labels)) + 1
    tstr_auc = _fit_and_score(model, seed, train_X, train_y, test_X, test_y, n_classes)
    if real_train is None:
        return {"tstr_auc": tstr_auc, "trtr_auc": None, "gap": None}
    trtr_auc = _fit_and_score(model, seed, real_X, real_y, test_X, test_y, n_classes)
    return {"tstr_auc": tstr_auc, "trtr_auc": trtr_auc, "gap": trtr_auc - tstr_auc}


# ---------------------------------------------------------------- privacy


@timed("evaluation")
def distance_to_closest_record(synthetic, reference, scaler_from=None) -> np.ndarray:
    """Distance from each synthetic record to the closest real one (DCR); 0 means a copied patient.

    Columns are standardized first (mean/std of ``scaler_from``, default the reference) so that
    a column measured in large units (e.g. cholesterol in mg/dL) does not drown out the others.
    """
    synthetic = _as_rows(synthetic, "synthetic")
    reference = _as_rows(reference, "reference")
    _check_same_dim(synthetic, reference, "synthetic", "reference")
    source = reference if scaler_from is None else _as_rows(scaler_from, "scaler_from")
    _check_same_dim(source, reference, "scaler_from", "reference")
    mean = source.mean(axis=0)
    std = source.std(axis=0)
    std[std == 0] = 1.0  # a constant column: centre it, don't divide by zero
    distances, _ = nearest_neighbour_distances((synthetic - mean) / std, (reference - mean) / std)
    return distances


def membership_inference_auc(member_scores, nonmember_scores) -> float:
    """AUC of a membership attack whose score is higher for training members; 0.5 = no leakage."""
    members = _as_float(member_scores, "member_scores", ndim=1)
    nonmembers = _as_float(nonmember_scores, "nonmember_scores", ndim=1)
    labels = np.concatenate([np.ones(len(members)), np.zeros(len(nonmembers))])
    return roc_auc(labels, np.concatenate([members, nonmembers]))


# ---------------------------------------------------------------- fairness across subgroups


def _safe_ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def _binary_outcomes(y_true, y_pred, groups, positive) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated (is_positive_true, is_positive_pred, groups) for the subgroup metrics."""
    y_true, y_pred, groups = _to_numpy(y_true), _to_numpy(y_pred), _to_numpy(groups)
    for name, arr in (("y_true", y_true), ("y_pred", y_pred), ("groups", groups)):
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(
                f"{name} must be a non-empty 1-D array (one entry per sample), "
                f"got shape {arr.shape}"
            )
    _check_same_length(y_true, y_pred, "y_true", "y_pred")
    _check_same_length(y_true, groups, "y_true", "groups")
    values = np.unique(np.concatenate([y_true, y_pred]))
    if len(values) > 2:
        raise ValueError(
            "subgroup metrics need binary labels, "
            f"found {len(values)} values: {values[:5].tolist()}"
        )
    if len(values) == 2 and positive not in values:
        raise ValueError(f"positive={positive!r} is not one of the labels {values.tolist()}")
    return y_true == positive, y_pred == positive, groups


def _rates(truth: np.ndarray, pred: np.ndarray) -> dict:
    """TPR, FNR (miss rate), FPR and accuracy of one group; NaN where a rate is undefined."""
    n_pos, n_neg = int(truth.sum()), int((~truth).sum())
    true_pos = int(np.sum(truth & pred))
    false_pos = int(np.sum(~truth & pred))
    return {
        "n": len(truth),
        "n_positive": n_pos,
        "tpr": _safe_ratio(true_pos, n_pos),
        "fnr": _safe_ratio(n_pos - true_pos, n_pos),
        "fpr": _safe_ratio(false_pos, n_neg),
        "accuracy": float(np.mean(truth == pred)),
    }


def subgroup_rates(y_true, y_pred, groups, positive=1) -> dict:
    """Per-group error rates of a binary classifier: does it miss disease more often in some patients?"""
    truth, pred, groups = _binary_outcomes(y_true, y_pred, groups, positive)
    # .item() turns NumPy scalars into plain Python keys; strings from pandas (object arrays) already are.
    return {getattr(g, "item", lambda: g)(): _rates(truth[groups == g], pred[groups == g]) for g in np.unique(groups)}


def subgroup_gap(y_true, y_pred, groups, metric="fnr", positive=1) -> tuple[float, dict]:
    """Largest minus smallest value of ``metric`` across groups (groups where it is NaN are skipped)."""
    if metric not in _SUBGROUP_METRICS:
        raise ValueError(f"metric must be one of {_SUBGROUP_METRICS}, got {metric!r}")
    rates = subgroup_rates(y_true, y_pred, groups, positive)
    values = np.array([r[metric] for r in rates.values()])
    values = values[~np.isnan(values)]
    if values.size == 0:
        raise ValueError(f"{metric} is undefined in every group (e.g. FNR needs positive cases in a group)")
    return float(values.max() - values.min()), rates
