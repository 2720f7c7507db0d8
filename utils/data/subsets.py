"""DataLoaders and the subsets the lessons need: balanced, small-data, label-conditioned."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from utils.data.images import ImageData


def _single_labels(data: ImageData) -> np.ndarray:
    if data.y.ndim != 1:
        raise ValueError(f"{data.flag} is multi-label; class subsets need single-label data.")
    return data.y.numpy()


def make_loader(data: Dataset, batch_size: int = 128, shuffle: bool = True, seed: int = 0,
                drop_last: bool = False) -> DataLoader:
    """A DataLoader whose shuffling order is fixed by ``seed``.

    The data already sits in memory as tensors, so worker processes would only add start-up
    cost on the 2-core machines the course targets; none are used.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      generator=generator)


def class_counts(data: ImageData) -> np.ndarray:
    """Images per class (length ``n_classes``; classes with no image count 0)."""
    return np.bincount(_single_labels(data), minlength=data.n_classes)


def class_subset(data: ImageData, classes) -> ImageData:
    """Only the images whose label is in ``classes`` (e.g. melanoma alone, to train a GAN on it)."""
    classes = np.atleast_1d(classes)
    bad = [c for c in classes if not 0 <= int(c) < data.n_classes]
    if bad:
        raise ValueError(f"classes {bad} out of range: {data.flag} has classes 0..{data.n_classes - 1}")
    return data.take(np.flatnonzero(np.isin(_single_labels(data), classes)))


def balanced_subset(data: ImageData, per_class: int, seed: int = 0) -> ImageData:
    """Up to ``per_class`` images of every class (all of a class that has fewer)."""
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    rng = np.random.default_rng(seed)
    labels = _single_labels(data)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(data.n_classes)]
    return data.take(np.sort(np.concatenate(chosen)))


def fraction_subset(data: ImageData, fraction: float, seed: int = 0, min_per_class: int = 1) -> ImageData:
    """A stratified "small data" subset (e.g. 5% of train), keeping at least ``min_per_class``.

    Stratifying keeps the class proportions, so the subset is scarcer but not more biased.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    labels = _single_labels(data)
    chosen = []
    for c in range(data.n_classes):
        members = rng.permutation(np.flatnonzero(labels == c))
        keep = max(min_per_class, int(round(fraction * len(members))))
        chosen.append(members[:keep])
    return data.take(np.sort(np.concatenate(chosen)))
