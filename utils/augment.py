"""Augmentation experiments: classical transforms, synthetic fill-ups and one comparison arm.

Notebooks 05 and 06 ask one question: does adding images (transformed real ones, or
images from a GAN) make a classifier better on *real* test patients? This module holds
the plumbing of that experiment so the notebooks can spend their lines on the answer:

* ``classical_augment``: random flips, small rotations and shifts, and (RGB) colour
  jitter for a batch of 28 px images in [-1, 1]; ``augmented_copies`` uses it to make
  extra images of chosen classes.
* ``balanced_counts`` and ``sample_per_class``: how many images each class needs to
  reach a target, and drawing them from a conditional generator (or one per class).
* ``build_training_set``: real + synthetic parts as one ``TensorDataset``.
* ``run_arm``: trains ``utils.models.SmallCNN`` with ``utils.train.train_classifier``
  on one training set and scores it on the real test split.
* ``summarize`` and ``verdict``: mean and spread over seeds, and a sentence that says
  whether a difference is larger than the seed-to-seed noise.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset
from torch.utils.data.dataloader import default_collate

from utils import metrics
from utils.models import SmallCNN
from utils.runtime import seed_everything
from utils.train import predict, sample, train_classifier

IMAGE_SIZE = 28


# ----------------------------------------------------------------------------- inputs
def _check_batch(x: torch.Tensor, who: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or not x.is_floating_point():
        raise ValueError(f"{who} expects a float tensor of images (N, C, H, W), got "
                         f"{type(x).__name__} {tuple(getattr(x, 'shape', ()))}.")


def _uniform(n: int, low: float, high: float, generator, device) -> torch.Tensor:
    """n uniform draws on the CPU (so a seed gives the same numbers on any device)."""
    return (torch.rand(n, generator=generator) * (high - low) + low).to(device)


def as_tensors(data) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` from an ``ImageData``, a ``TensorDataset`` or an ``(x, y)`` pair."""
    if isinstance(data, TensorDataset):
        x, y = data.tensors[0], data.tensors[1]
    elif hasattr(data, "x") and hasattr(data, "y"):
        x, y = data.x, data.y
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        raise ValueError("expected an ImageData, a TensorDataset or an (images, labels) pair, "
                         f"got {type(data).__name__}.")
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if x.dim() != 4 or y.dim() != 1 or len(x) != len(y):
        raise ValueError(f"expected images (N, C, H, W) and labels (N,), got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}.")
    return x.float(), y.long()


# ----------------------------------------------------------------------------- classical
def random_affine(x: torch.Tensor, *, degrees: float = 10.0, shift: float = 2.0, hflip: bool = True,
                  vflip: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random rotation (+-``degrees``), shift (+-``shift`` pixels) and flips, one per image.

    All in one resampling (``affine_grid`` + ``grid_sample``) with border padding, so a
    rotated lesion does not get black corners. Flips happen with probability 1/2 each.
    """
    _check_batch(x, "random_affine")
    n, _, h, w = x.shape
    angle = _uniform(n, -degrees, degrees, generator, x.device) * (math.pi / 180)
    tx = _uniform(n, -shift, shift, generator, x.device) * (2.0 / w)
    ty = _uniform(n, -shift, shift, generator, x.device) * (2.0 / h)
    flips = (torch.rand(n, 2, generator=generator) < 0.5) & torch.tensor([hflip, vflip])
    sx = torch.where(flips[:, 0], -1.0, 1.0).to(device=x.device, dtype=x.dtype)
    sy = torch.where(flips[:, 1], -1.0, 1.0).to(device=x.device, dtype=x.dtype)
    cos, sin = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
    theta = torch.stack([torch.stack([cos * sx, -sin * sy, tx.to(x.dtype)], dim=1),
                         torch.stack([sin * sx, cos * sy, ty.to(x.dtype)], dim=1)], dim=1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def color_jitter(x: torch.Tensor, *, brightness: float = 0.1, contrast: float = 0.1,
                 saturation: float = 0.1, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness shift, contrast and (RGB only) saturation change, clamped to [-1, 1].

    Brightness adds up to +-``brightness`` (in the [-1, 1] scale); contrast and saturation
    scale the distance to the image mean / to the pixel's gray value by 1 +- the amount.
    Grayscale images get brightness and contrast only.
    """
    _check_batch(x, "color_jitter")
    n = x.shape[0]
    shape = (n, 1, 1, 1)
    out = x + _uniform(n, -brightness, brightness, generator, x.device).view(shape).to(x.dtype)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = mean + (out - mean) * _uniform(n, 1 - contrast, 1 + contrast, generator, x.device).view(shape)
    if x.shape[1] == 3:
        gray = (out * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
        out = gray + (out - gray) * _uniform(n, 1 - saturation, 1 + saturation, generator, x.device).view(shape)
    return out.clamp(-1.0, 1.0)


def classical_augment(x: torch.Tensor, *, degrees: float = 10.0, shift: float = 2.0, hflip: bool = True,
                      vflip: bool = True, jitter: float = 0.1,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """Flips, a small rotation and shift, then colour jitter: the usual "classical" augmentation.

    Defaults suit dermoscopy (no up or down in a skin photo). For X-rays and ultrasound,
    where anatomy has an orientation, pass ``vflip=False`` (and think about ``hflip``).
    """
    out = random_affine(x, degrees=degrees, shift=shift, hflip=hflip, vflip=vflip, generator=generator)
    if jitter:
        out = color_jitter(out, brightness=jitter, contrast=jitter, saturation=jitter, generator=generator)
    return out


def augmented_copies(x: torch.Tensor, y: torch.Tensor, counts, *, seed: int = 0,
                     **augment_kwargs) -> tuple[torch.Tensor, torch.Tensor]:
    """``counts[c]`` classically augmented copies of randomly drawn real images of class ``c``.

    Originals are drawn with replacement (a class may need more copies than it has
    images). Returns ``(images, labels)``; extra keywords go to ``classical_augment``.
    """
    x, y = as_tensors((x, y))
    counts = _check_counts(counts)
    generator = torch.Generator().manual_seed(seed)
    picks = []
    for c, k in enumerate(counts):
        if k == 0:
            continue
        members = torch.nonzero(y == c).flatten()
        if len(members) == 0:
            raise ValueError(f"class {c} has no real image to copy but {k} copies were asked for.")
        picks.append(members[torch.randint(len(members), (int(k),), generator=generator)])
    if not picks:
        return x[:0].clone(), y[:0].clone()
    index = torch.cat(picks)
    return classical_augment(x[index], generator=generator, **augment_kwargs), y[index].clone()


class _AugmentingCollate:
    """Collate a batch, then augment it on the fly (fresh transforms every epoch)."""

    def __init__(self, generator: torch.Generator, kwargs: dict):
        self.generator, self.kwargs = generator, kwargs

    def __call__(self, batch):
        x, y = default_collate(batch)
        return classical_augment(x, generator=self.generator, **self.kwargs), y


def make_train_loader(data, *, batch_size: int = 64, seed: int = 0, samples_per_epoch: int | None = None,
                      augment: bool = False, augment_kwargs: dict | None = None) -> DataLoader:
    """A shuffled training loader; optionally a fixed number of samples per epoch and on-the-fly augmentation.

    ``samples_per_epoch`` makes every "epoch" the same length whatever the set size, so
    arms with more (synthetic) images get the same number of gradient steps: a fair race.
    """
    x, y = as_tensors(data)
    dataset = TensorDataset(x, y)
    generator = torch.Generator().manual_seed(seed)
    sampler = RandomSampler(dataset, num_samples=samples_per_epoch, generator=generator)
    collate = _AugmentingCollate(torch.Generator().manual_seed(seed + 1), augment_kwargs or {}) if augment else None
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, collate_fn=collate)


# ----------------------------------------------------------------------------- synthetic
def _check_counts(counts) -> np.ndarray:
    counts = np.asarray(counts.cpu() if isinstance(counts, torch.Tensor) else counts)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 1-D sequence (one per class), got shape {counts.shape}.")
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError(f"counts must be non-negative whole numbers, got {counts.tolist()}.")
    return counts.astype(np.int64)


def balanced_counts(counts, target: int | None = None) -> np.ndarray:
    """Images to add per class so each reaches ``target`` (default: the largest class); never negative."""
    counts = _check_counts(counts)
    target = int(counts.max()) if target is None else int(target)
    if target < 0:
        raise ValueError(f"target must be >= 0, got {target}.")
    return np.maximum(target - counts, 0)


def sample_per_class(generator, counts, latent_dim: int, *, seed: int = 0,
                     device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``counts[c]`` synthetic images of every class ``c``; returns CPU ``(images, labels)``.

    ``generator`` is a class-conditional G (called as ``G(z, labels)``) or a mapping
    ``{class: unconditional G}`` / a list with one G per class (``None`` for classes
    that need none). The same seed gives the same images; all-zero counts give an
    empty batch.
    """
    counts = _check_counts(counts)
    per_class = isinstance(generator, (Mapping, Sequence))
    images, labels = [], []
    for c, k in enumerate(counts):
        if k == 0:
            continue
        if per_class:
            G = generator.get(c) if isinstance(generator, Mapping) else (generator[c] if c < len(generator) else None)
            if G is None:
                raise ValueError(f"no generator for class {c}, but {k} images of it were asked for.")
            x = sample(G, int(k), latent_dim, device=device, seed=seed + c)
        else:
            x = sample(generator, int(k), latent_dim, labels=c, device=device, seed=seed + c)
        images.append(x)
        labels.append(torch.full((int(k),), c, dtype=torch.long))
    if not images:  # nothing asked for: an empty batch of the right image shape
        G = next(g for g in (generator.values() if isinstance(generator, Mapping) else generator)
                 if g is not None) if per_class else generator
        probe = sample(G, 1, latent_dim, labels=None if per_class else 0, device=device, seed=seed)
        return probe[:0], torch.zeros(0, dtype=torch.long)
    return torch.cat(images), torch.cat(labels)


def build_training_set(*parts) -> TensorDataset:
    """One ``TensorDataset`` from real and synthetic parts (``ImageData`` or ``(x, y)`` pairs).

    Parts that are ``None`` or empty are skipped; all parts must have the same image shape.
    """
    xs, ys = [], []
    for part in parts:
        if part is None:
            continue
        x, y = as_tensors(part)
        if xs and x.shape[1:] != xs[0].shape[1:]:
            raise ValueError(f"parts disagree on image shape: {tuple(xs[0].shape[1:])} vs {tuple(x.shape[1:])}.")
        xs.append(x.cpu())
        ys.append(y.cpu())
    if not xs or sum(len(x) for x in xs) == 0:
        raise ValueError("build_training_set got no images.")
    return TensorDataset(torch.cat(xs), torch.cat(ys))


# ----------------------------------------------------------------------------- one arm
def evaluate(model: nn.Module, test, n_classes: int, batch_size: int = 512) -> dict:
    """Balanced accuracy, per-class recall and macro AUC of ``model`` on a labelled set."""
    x, y = as_tensors(test)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    y_true, probs = predict(model, loader)
    y_pred = probs.argmax(axis=1)
    present = np.unique(y_true)
    return {
        "balanced_accuracy": metrics.balanced_accuracy(y_true, y_pred, n_classes),
        "recall": metrics.per_class_recall(y_true, y_pred, n_classes).tolist(),
        "macro_auc": metrics.macro_auc(y_true, probs) if len(present) > 1 else float("nan"),
    }


def run_arm(train, test, *, n_classes: int, epochs: int, seed: int = 0, val=None, augment: bool = False,
            augment_kwargs: dict | None = None, samples_per_epoch: int | None = None,
            batch_size: int = 64, width: int = 16, lr: float = 1e-3, weight_decay: float = 0.0,
            patience: int | None = None, device=None, progress: bool = False) -> dict:
    """Train a fresh ``SmallCNN`` on ``train`` and score it on the real ``test`` split.

    Returns ``balanced_accuracy``, ``recall`` (one per class), ``macro_auc``, plus the
    training ``history`` and the ``model``. ``augment=True`` applies ``classical_augment``
    on the fly; ``val`` logs validation metrics each epoch (and enables ``patience``).
    Everything random (weights, order, transforms) follows ``seed``.
    """
    seed_everything(seed)
    x, _ = as_tensors(train)
    model = SmallCNN(in_channels=x.shape[1], n_classes=n_classes, width=width)
    loader = make_train_loader(train, batch_size=batch_size, seed=seed, samples_per_epoch=samples_per_epoch,
                               augment=augment, augment_kwargs=augment_kwargs)
    val_loader = None
    if val is not None:
        val_loader = DataLoader(TensorDataset(*as_tensors(val)), batch_size=512, shuffle=False)
    history = train_classifier(model, loader, val_loader, epochs=epochs, lr=lr, weight_decay=weight_decay,
                               device=device, progress=progress, patience=patience)
    return {**evaluate(model, test, n_classes), "history": history, "model": model}


# ----------------------------------------------------------------------------- over seeds
def summarize(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of per-seed values; std is NaN for one seed."""
    values = np.asarray(values, dtype=float).reshape(-1)
    if values.size == 0:
        raise ValueError("summarize needs at least one value.")
    std = float(np.std(values, ddof=1)) if values.size > 1 else float("nan")
    return float(np.mean(values)), std


def confidence_halfwidth(std: float, n: int, level: float = 0.95) -> float:
    """Half-width of the t confidence interval of a mean over ``n`` seeds (NaN for n < 2)."""
    if n < 2 or not np.isfinite(std):
        return float("nan")
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n))


def verdict(what: str, metric: str, mean: float, std: float, n: int, unit: str = " points",
            scale: float = 100.0, better: str = "higher", digits: int = 1) -> str:
    """A sentence on a per-seed paired difference: is it larger than the seed-to-seed noise?

    Uses a 95% t interval over seeds; ``scale`` / ``unit`` turn fractions into points
    (pass ``scale=1, unit=""`` for losses). ``better="lower"`` for metrics such as a loss;
    ``better=None`` for a number that is neither good nor bad (it "raised" or "lowered" it).
    """
    if better not in ("higher", "lower", None):
        raise ValueError(f"better must be 'higher', 'lower' or None, got {better!r}")
    f = f"{{:+.{digits}f}}"
    head = (f"{what} changed {metric} by {f.format(mean * scale)} ± {std * scale:.{digits}f}{unit} "
            f"(mean ± std over {n} seed{'s' * (n != 1)})")
    half = confidence_halfwidth(std, n)
    if not np.isfinite(half):
        return f"{head}: one seed gives no spread, so this number cannot tell a gain from noise."
    low, high = (mean - half) * scale, (mean + half) * scale
    interval = f"95% interval {f.format(low)} to {f.format(high)}{unit}"
    up, down = {"higher": ("helped", "hurt"), "lower": ("hurt", "helped"),
                None: (f"raised {metric}", f"lowered {metric}")}[better]
    if low > 0:
        return f"{head}; {interval}: above zero, evidence that it {up} on this split."
    if high < 0:
        return f"{head}; {interval}: below zero, evidence that it {down} on this split."
    return f"{head}; {interval}: includes zero, so no evidence either way (within the seed spread)."
