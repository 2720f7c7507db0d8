"""Every figure of the course, drawn the same way and honest about its data.

Each function returns the matplotlib ``Figure`` (nothing is shown here; Jupyter's
inline backend shows it) and takes ``source``:

* ``"stand-in"``: the figure gets a red "stand-in data (not real patients)" mark,
* ``"real"``: no mark,
* ``None`` (default): marked when any dataset loaded in this run was a procedural
  stand-in (``utils.runtime.any_standin()``), so a figure cannot pass off
  synthetic shapes as patients just because a notebook forgot to say so.

Images are torch tensors or numpy arrays of shape (N, C, H, W) with values in
[-1, 1] (the range a tanh generator produces) and C = 1 (grayscale) or 3 (RGB).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from utils import runtime

STANDIN_LABEL = "stand-in data (not real patients)"
STANDIN_GID = "standin-mark"
_SOURCES = (None, "real", "stand-in")
_PAD = 2  # pixels of white between tiles of a montage
_FRIENDLY = {"d_loss": "discriminator loss", "g_loss": "generator loss"}


# --------------------------------------------------------------------------- helpers


def has_standin_mark(fig: Figure) -> bool:
    """True when ``fig`` carries the stand-in data mark (used by tests and graders)."""
    return any(text.get_gid() == STANDIN_GID for text in fig.texts)


def mark_source(fig: Figure, source: str | None) -> Figure:
    """Add the stand-in mark when the data calls for it (every figure of the course ends here,
    including those drawn outside this module)."""
    if source not in _SOURCES:
        raise ValueError(f"source must be 'real', 'stand-in' or None, got {source!r}")
    standin = runtime.any_standin() if source is None else source == "stand-in"
    if standin and not has_standin_mark(fig):
        engine = fig.get_layout_engine()
        if isinstance(engine, ConstrainedLayoutEngine):
            strip = min(0.2, 0.25 / fig.get_figheight())  # room for one line of text
            engine.set(rect=(0, strip, 1, 1 - strip))
        fig.text(
            0.995, 0.005, STANDIN_LABEL, gid=STANDIN_GID, color="red",
            fontsize=9, fontweight="bold", ha="right", va="bottom",
        )
    return fig


def _figure_and_axes(ax, figsize):
    """Draw into ``ax`` when given (to combine panels), else into a new figure."""
    if ax is not None:
        return ax.get_figure(root=True), ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _numpy(x) -> np.ndarray:
    """A float numpy copy of a tensor (any device) or array-like."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _to_display(images, name: str = "images") -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> (N, H, W, C) in [0, 1], the layout imshow expects."""
    arr = _numpy(images)
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise ValueError(
            f"{name} must have shape (N, C, H, W) with C = 1 or 3, got shape {arr.shape}"
        )
    if len(arr) == 0:
        raise ValueError(f"{name} is empty: expected at least one image of shape (C, H, W)")
    return np.clip((arr + 1.0) / 2.0, 0.0, 1.0).transpose(0, 2, 3, 1)


def _flat(values, name: str, length: int | None = None) -> np.ndarray:
    """A 1-D array (MedMNIST labels come as (N, 1)), checked against ``length``."""
    arr = _numpy(values).reshape(-1)
    if length is not None and arr.size != length:
        raise ValueError(f"{name} must have {length} entries (one per item), got {arr.size}")
    return arr


def _tile(images: np.ndarray, ncol: int) -> np.ndarray:
    """Lay (N, H, W, C) images out row by row, ``ncol`` per row, on a white canvas."""
    n, h, w, c = images.shape
    nrows = max(1, math.ceil(n / ncol))
    canvas = np.ones((nrows * (h + _PAD) + _PAD, ncol * (w + _PAD) + _PAD, c))
    for i, img in enumerate(images):
        row, col = divmod(i, ncol)
        top, left = _PAD + row * (h + _PAD), _PAD + col * (w + _PAD)
        canvas[top:top + h, left:left + w] = img
    return canvas


def _show(ax, image: np.ndarray) -> None:
    """Show one (H, W, C) image in [0, 1]: grayscale with the gray colormap, no ticks."""
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])


def _caption(label, class_names) -> str:
    index = int(label)
    return str(class_names[index]) if class_names is not None else str(index)


# --------------------------------------------------------------------------- images


def image_grid(images, nrow=8, title=None, labels=None, class_names=None, source=None) -> Figure:
    """A montage of images, ``nrow`` per row; with ``labels``, one captioned panel each.

    Looking at many samples at once is the first check of any generator: blur,
    repeated images (mode collapse) and artefacts show up here before any metric.
    """
    imgs = _to_display(images)
    n, ncol = len(imgs), max(1, min(nrow, len(imgs)))
    nrows = max(1, math.ceil(n / ncol))
    if labels is None:
        fig, ax = plt.subplots(figsize=(1.2 * ncol, 1.2 * nrows + 0.4), layout="constrained")
        _show(ax, _tile(imgs, ncol))
        axes = [ax]
    else:
        labels = _flat(labels, "labels", n)
        fig, grid = plt.subplots(
            nrows, ncol, figsize=(1.4 * ncol, 1.6 * nrows + 0.4), layout="constrained",
            squeeze=False,
        )
        axes = list(grid.flat)
        for ax, img, label in zip(axes, imgs, labels):
            _show(ax, img)
            ax.set_title(_caption(label, class_names), fontsize=8)
        for ax in axes[n:]:
            fig.delaxes(ax)
    if title:
        fig.suptitle(title)
    return mark_source(fig, source)


def class_montage(images, labels, class_names, per_class=8, source=None) -> Figure:
    """One row per class (name and count on the left), to see what each class looks like."""
    imgs = _to_display(images)
    labels = _flat(labels, "labels", len(imgs)).astype(int)
    fig, axes = plt.subplots(
        len(class_names), 1, figsize=(1.1 * per_class + 1.5, 1.2 * len(class_names) + 0.5),
        layout="constrained", squeeze=False,
    )
    for k, (ax, name) in enumerate(zip(axes[:, 0], class_names)):
        members = imgs[labels == k]
        _show(ax, _tile(members[:per_class], per_class))
        ax.set_ylabel(f"{name}\n(n = {len(members)})", rotation=0, ha="right", va="center")
    fig.suptitle(f"First {per_class} images of each class")
    return mark_source(fig, source)


def samples_over_time(snapshots, epochs=None, n=8, source=None) -> Figure:
    """Rows = moments in training, columns = the first ``n`` samples of each snapshot.

    Watching the same slots across epochs shows whether the generator is still
    improving, has collapsed onto one image, or has started to oscillate.
    """
    snapshots = list(snapshots)
    if not snapshots:
        raise ValueError("snapshots is empty: expected a list of (N, C, H, W) image batches")
    if epochs is None:
        row_names = [f"snapshot {i + 1}" for i in range(len(snapshots))]
    elif len(epochs) != len(snapshots):
        raise ValueError(
            f"epochs must have one entry per snapshot ({len(snapshots)}), got {len(epochs)}"
        )
    else:
        row_names = [f"epoch {e}" for e in epochs]
    fig, axes = plt.subplots(
        len(snapshots), 1, figsize=(1.1 * n + 1.2, 1.2 * len(snapshots) + 0.5),
        layout="constrained", squeeze=False,
    )
    for ax, snap, name in zip(axes[:, 0], snapshots, row_names):
        _show(ax, _tile(_to_display(snap, "each snapshot")[:n], n))
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    fig.suptitle("Generated samples during training (top = earliest)")
    return mark_source(fig, source)


def real_vs_synthetic(real, fake, n=16, source=None) -> Figure:
    """Real and generated images side by side, the eyeball test of realism."""
    panels = {"real": _to_display(real, "real")[:n], "synthetic": _to_display(fake, "fake")[:n]}
    ncol = max(1, math.ceil(math.sqrt(n)))
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.3), layout="constrained")
    for ax, (name, imgs) in zip(axes, panels.items()):
        _show(ax, _tile(imgs, ncol))
        ax.set_title(name)
    return mark_source(fig, source)


def _first_column(values, name: str, length: int) -> np.ndarray:
    """Shape (N,) or (N, k) from a k-nearest search -> the closest neighbour's column."""
    arr = _numpy(values)
    if arr.ndim not in (1, 2) or len(arr) != length:
        raise ValueError(f"{name} must have shape ({length},) or ({length}, k), got {arr.shape}")
    return arr.reshape(length, -1)[:, 0]


def nearest_neighbours(queries, references, indices, distances, n=6, source=None) -> Figure:
    """Each synthetic image next to its closest training image (memorisation check).

    A distance near zero means the generator copied a training image: a privacy
    risk for patient data, not a success.
    """
    queries = _to_display(queries, "queries")
    references = _to_display(references, "references")
    nearest = _first_column(indices, "indices", len(queries)).astype(int)
    distances = _first_column(distances, "distances", len(queries))
    if nearest.min(initial=0) < 0 or nearest.max(initial=0) >= len(references):
        raise ValueError(f"indices must lie in [0, {len(references)}) (rows of references)")
    rows = min(n, len(queries))
    fig, axes = plt.subplots(rows, 2, figsize=(4.2, 2.1 * rows + 0.5), layout="constrained",
                             squeeze=False)
    for i, (left, right) in enumerate(axes):
        _show(left, queries[i])
        left.set_title(f"synthetic #{i}", fontsize=9)
        _show(right, references[nearest[i]])
        right.set_title(f"nearest real (d = {distances[i]:.3g})", fontsize=9)
    fig.suptitle("Closest training image to each synthetic one")
    return mark_source(fig, source)


# --------------------------------------------------------------------------- charts


def class_counts(counts, class_names, title=None, ax=None, source=None) -> Figure:
    """Images per class as horizontal bars with counts and percentages (shows imbalance)."""
    counts = _flat(counts, "counts", len(class_names))
    fig, ax = _figure_and_axes(ax, (7, 0.45 * len(class_names) + 1.2))
    bars = ax.barh([str(c) for c in class_names], counts, color="tab:blue")
    share = 100 * counts / max(counts.sum(), 1)
    ax.bar_label(bars, labels=[f"{c:,.0f} ({p:.1f}%)" for c, p in zip(counts, share)], padding=3)
    ax.invert_yaxis()  # first class at the top, as in the dataset's list
    ax.set_xlim(0, counts.max(initial=1) * 1.3)  # room for the labels
    ax.set_xlabel("number of images")
    ax.set_title(title or "Images per class")
    return mark_source(fig, source)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    return np.convolve(values, np.ones(window) / window, mode="valid")


def loss_curves(history, keys=("d_loss", "g_loss"), smooth=0, title=None, ax=None,
                source=None) -> Figure:
    """Losses against training step; ``smooth`` > 1 adds a moving average of that window.

    GAN losses are noisy and do not fall steadily like a classifier's: the
    smoothed line shows the trend, the faint raw line the oscillation around it.
    """
    available = list(history.keys())
    missing = [k for k in keys if k not in available]
    if missing:
        raise ValueError(f"history has no {missing}; available keys: {available}")
    if int(smooth) < 0:
        raise ValueError(f"smooth must be a window length >= 0, got {smooth}")
    fig, ax = _figure_and_axes(ax, (7, 4))
    for i, key in enumerate(keys):
        values = _numpy(list(history[key])).reshape(-1)
        name, color = _FRIENDLY.get(key, key), f"C{i}"
        window = min(int(smooth), len(values))
        if window > 1:
            ax.plot(values, color=color, alpha=0.3, label=f"{name} (raw)")
            steps = np.arange(window - 1, len(values))
            ax.plot(steps, _moving_average(values, window), color=color,
                    label=f"{name} (moving average of {window})")
        else:
            ax.plot(values, color=color, label=name)
    ax.set_xlabel("training step (one entry per logged update)")
    ax.set_ylabel("loss")
    ax.set_title(title or "Training losses")
    ax.legend()
    return mark_source(fig, source)


def _score_summary(scores, n_sizes: int, name: str):
    """Mean, min and max per training-set size.

    ``scores`` is one number per size, one list of per-seed numbers per size,
    or one list per seed holding a number per size.
    """
    rows = [_numpy(s).reshape(-1) for s in scores]
    if len(rows) != n_sizes:
        if not rows or any(len(r) != n_sizes for r in rows):
            raise ValueError(
                f"{name} must have one entry per training-set size ({n_sizes}), "
                f"or be a list of per-seed lists of length {n_sizes}"
            )
        rows = list(np.asarray(rows).T)
    return (np.array([r.mean() for r in rows]), np.array([r.min() for r in rows]),
            np.array([r.max() for r in rows]), max(len(r) for r in rows))


def learning_curves(sizes, train_scores, val_scores, metric="balanced accuracy", ax=None,
                    source=None) -> Figure:
    """Score against training-set size (log scale): does more (or synthetic) data help?

    With several seeds the line is the mean and the shaded band spans min to max,
    so a gain smaller than the band is not evidence of anything.
    """
    sizes = _flat(sizes, "sizes")
    if (sizes <= 0).any():
        raise ValueError("sizes must be positive (the x axis is logarithmic)")
    fig, ax = _figure_and_axes(ax, (7, 4))
    for i, (name, scores) in enumerate((("training", train_scores), ("validation", val_scores))):
        mean, low, high, seeds = _score_summary(scores, len(sizes), f"{name} scores")
        label = name if seeds == 1 else f"{name} (mean of {seeds} seeds, band = min to max)"
        ax.plot(sizes, mean, marker="o", color=f"C{i}", label=label)
        if seeds > 1:
            ax.fill_between(sizes, low, high, color=f"C{i}", alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("training-set size (images, log scale)")
    ax.set_ylabel(metric)
    ax.set_title(f"Learning curves: {metric} vs training-set size")
    ax.legend()
    return mark_source(fig, source)


def per_class_bars(values_by_arm: Mapping[str, Sequence[float]], class_names, metric="recall",
                   errors=None, ax=None, source=None) -> Figure:
    """Grouped bars: ``metric`` per class for each arm (e.g. augmentation strategy).

    Averages hide the minority classes; per-class bars show whether synthetic data
    helped the rare class or only the common ones. ``errors`` maps an arm to one
    error-bar half-width per class.
    """
    errors = errors or {}
    n_classes, arms = len(class_names), list(values_by_arm)
    if not arms:
        raise ValueError("values_by_arm is empty: expected {arm name: one value per class}")
    fig, ax = _figure_and_axes(ax, (max(6, 0.5 * n_classes * len(arms) + 2), 4))
    width = 0.8 / len(arms)
    x = np.arange(n_classes)
    for i, arm in enumerate(arms):
        values = _flat(values_by_arm[arm], f"values for arm {arm!r}", n_classes)
        err = errors.get(arm)
        err = None if err is None else _flat(err, f"errors for arm {arm!r}", n_classes)
        ax.bar(x + (i - (len(arms) - 1) / 2) * width, values, width, yerr=err, capsize=3,
               label=str(arm))
    ax.set_xticks(x, [str(c) for c in class_names], rotation=30 if n_classes > 5 else 0,
                  ha="right" if n_classes > 5 else "center")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per class")
    ax.legend(title="arm")
    return mark_source(fig, source)


def subgroup_bars(rates: Mapping, metric="false-negative rate", errors=None, ax=None,
                  source=None) -> Figure:
    """One bar per patient subgroup: a gap between bars is a fairness problem to explain.

    ``errors`` maps a group to an error-bar half-width.
    """
    groups = list(rates)
    values = _flat([rates[g] for g in groups], "rates")
    err = None
    if errors is not None:
        unknown = [g for g in groups if g not in errors]
        if unknown:
            raise ValueError(f"errors must give a value for every group; missing {unknown}")
        err = _flat([errors[g] for g in groups], "errors")
    fig, ax = _figure_and_axes(ax, (max(5, 1.0 * len(groups) + 2), 4))
    bars = ax.bar([str(g) for g in groups], values, yerr=err, capsize=4, color="tab:purple")
    ax.bar_label(bars, fmt="%.3g", padding=3)
    ax.set_xlabel("subgroup")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by subgroup")
    return mark_source(fig, source)


def _points(x, name: str) -> np.ndarray:
    arr = _numpy(x)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got shape {arr.shape}")
    return arr


def scatter_2d(real, fake, title=None, ax=None, source=None) -> Figure:
    """Real (grey) and generated (coloured) 2-D points: missing clusters = mode collapse."""
    real, fake = _points(real, "real"), _points(fake, "fake")
    fig, ax = _figure_and_axes(ax, (5, 5))
    ax.scatter(real[:, 0], real[:, 1], s=6, color="0.6", alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=6, color="tab:orange", alpha=0.7, label="generated")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title or "Real vs generated points")
    ax.legend()
    return mark_source(fig, source)


# --------------------------------------------------------------------------- tables


def _check_columns(real_df, synth_df, columns) -> None:
    for name, df in (("real_df", real_df), ("synth_df", synth_df)):
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"{name} has no columns {missing}; it has {list(df.columns)}")


def _is_numeric(series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(series) and not is_bool_dtype(series)


def _compare_numeric(ax, real, synth) -> None:
    edges = np.histogram_bin_edges(np.concatenate([real, synth]), bins=20)
    ax.hist(real, bins=edges, density=True, alpha=0.5, color="0.5", label="real")
    ax.hist(synth, bins=edges, density=True, alpha=0.5, color="tab:orange", label="synthetic")
    ax.set_ylabel("density")


def _compare_categorical(ax, real, synth) -> None:
    real_share = real.astype(str).value_counts(normalize=True)
    synth_share = synth.astype(str).value_counts(normalize=True)
    categories = list(real_share.index) + [c for c in synth_share.index if c not in real_share]
    x = np.arange(len(categories))
    ax.bar(x - 0.2, real_share.reindex(categories, fill_value=0), 0.4, color="0.5",
           label="real")
    ax.bar(x + 0.2, synth_share.reindex(categories, fill_value=0), 0.4, color="tab:orange",
           label="synthetic")
    ax.set_xticks(x, categories, rotation=30 if len(categories) > 4 else 0)
    ax.set_ylabel("share of rows")


def marginals(real_df, synth_df, columns, source=None) -> Figure:
    """Per-column distributions, real vs synthetic (histograms or category shares).

    Matching marginals is the least a synthetic table must do; it says nothing yet
    about the relations between columns (see ``correlation_pair``).
    """
    columns = list(columns)
    if not columns:
        raise ValueError("columns must name at least one column")
    _check_columns(real_df, synth_df, columns)
    ncol = min(3, len(columns))
    nrows = math.ceil(len(columns) / ncol)
    fig, axes = plt.subplots(nrows, ncol, figsize=(4 * ncol, 3 * nrows + 0.4),
                             layout="constrained", squeeze=False)
    for ax, column in zip(axes.flat, columns):
        real, synth = real_df[column].dropna(), synth_df[column].dropna()
        if _is_numeric(real) and _is_numeric(synth):
            _compare_numeric(ax, real.to_numpy(float), synth.to_numpy(float))
        else:
            _compare_categorical(ax, real, synth)
        ax.set_title(str(column))
    for ax in axes.flat[len(columns):]:
        fig.delaxes(ax)
    axes.flat[0].legend()
    fig.suptitle("Real vs synthetic: one column at a time")
    return mark_source(fig, source)


def correlation_pair(real_df, synth_df, source=None) -> Figure:
    """Correlation matrices of real and synthetic numeric columns, and their |difference|.

    A generator can copy every column's distribution and still break the links
    between them (age and blood pressure, say); the difference panel shows where.
    """
    numeric = [c for c in real_df.columns if _is_numeric(real_df[c])]
    _check_columns(real_df, synth_df, numeric)
    if len(numeric) < 2:
        raise ValueError(f"need at least 2 numeric columns to correlate, got {numeric}")
    real_corr = real_df[numeric].corr().to_numpy()
    synth_corr = synth_df[numeric].corr().to_numpy()
    diff = np.abs(real_corr - synth_corr)
    size = 2.5 + 0.35 * len(numeric)
    fig, axes = plt.subplots(1, 3, figsize=(3 * size + 1.5, size), layout="constrained")
    panels = (("real", real_corr), ("synthetic", synth_corr))
    for ax, (name, corr) in zip(axes, panels):
        image = ax.imshow(corr, cmap="coolwarm", vmin=-1, vmax=1)
        ax.set_title(f"{name} correlations")
    fig.colorbar(image, ax=axes[:2].tolist(), label="correlation", shrink=0.8)
    gap = axes[2].imshow(diff, cmap="Reds", vmin=0, vmax=1)
    axes[2].set_title(f"|real - synthetic|, mean {np.nanmean(diff):.3f}")
    fig.colorbar(gap, ax=axes[2], label="absolute difference", extend="max", shrink=0.8)
    for ax in axes:
        ax.set_xticks(range(len(numeric)), [str(c) for c in numeric], rotation=90)
        ax.set_yticks(range(len(numeric)), [str(c) for c in numeric])
    return mark_source(fig, source)


# --------------------------------------------------------------------------- files


def save_figure(fig: Figure, name: str, folder=None) -> Path:
    """Save ``fig`` as ``<name>.png`` (dpi 120) in ``folder``, default ``build/figures/``."""
    folder = Path(folder) if folder is not None else runtime.repo_root() / "build" / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    stem = name[:-4] if name.lower().endswith(".png") else name
    path = folder / f"{stem}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
