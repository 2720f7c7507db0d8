"""DataLoaders and the subsets the lessons need: balanced, small-data, label-conditioned."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler, TensorDataset

from utils.data.images import ImageData


def _single_labels(data: ImageData) -> np.ndarray:
    if data.y.ndim != 1:
        raise ValueError(f"{data.flag} is multi-label; class subsets need single-label data.")
    return data.y.numpy()


def make_loader(data: Dataset, batch_size: int = 128, shuffle: bool = True, seed: int = 0,
                drop_last: bool = False, num_samples: int | None = None, collate_fn=None) -> DataLoader:
    """A DataLoader whose shuffling order is fixed by ``seed``.

    The course's data sit in memory as tensors (``ImageData``, ``TensorDataset``), so each
    batch is fetched with one tensor index instead of ``batch_size`` single-image look-ups
    and a stack: small-classifier steps run about 1.5x faster on CPU (``python -m
    benchmarks.speedups``), with the same batches. Other datasets are read item by item.
    Worker processes would only add start-up cost on 2-core machines; none are used.
    ``num_samples`` draws that many (with replacement when larger than the data) per epoch;
    ``collate_fn`` post-processes each batch (e.g. on-the-fly augmentation). The loader draws
    its randomness from its own generator, never from torch's global one.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    if shuffle or num_samples is not None:
        order = RandomSampler(data, num_samples=num_samples, generator=generator)
    else:
        order = SequentialSampler(data)
    if isinstance(data, (ImageData, TensorDataset)):
        batches = BatchSampler(order, batch_size, drop_last)
        return DataLoader(data, sampler=batches, batch_size=None, collate_fn=collate_fn, generator=generator)
    return DataLoader(data, batch_size=batch_size, sampler=order, drop_last=drop_last, collate_fn=collate_fn,
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
