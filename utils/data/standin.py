"""Procedural stand-ins for MedMNIST when the real file cannot be had (offline machines).

They keep the real split's shape, number of classes and class proportions, and their
images carry class-dependent structure (lesion colour, size and border irregularity;
ultrasound masses that are round or irregular; lung opacities) so that classifiers and
GANs have something real to learn. They are not patients, and the loaders say so loudly.
"""
from __future__ import annotations

import zlib

import numpy as np

# Class counts of the real splits (medmnist 3.0.2 files), so stand-ins keep the imbalance.
KNOWN_COUNTS = {
    "dermamnist": {"train": [228, 359, 769, 80, 779, 4693, 99],
                   "val": [33, 52, 110, 12, 111, 671, 14],
                   "test": [66, 103, 220, 23, 223, 1341, 29]},
    "breastmnist": {"train": [147, 399], "val": [21, 57], "test": [42, 114]},
    "pneumoniamnist": {"train": [1214, 3494], "val": [135, 389], "test": [234, 390]},
}

# Dermoscopy look per DermaMNIST class: lesion RGB, radius, border irregularity, colour variegation.
_DERMA_LOOK = [
    ((0.66, 0.40, 0.34), 0.45, 0.16, 0.15),  # actinic keratoses: reddish, scaly
    ((0.82, 0.55, 0.55), 0.40, 0.10, 0.10),  # basal cell carcinoma: pink, pearly
    ((0.60, 0.46, 0.32), 0.50, 0.12, 0.10),  # benign keratosis: light brown, waxy
    ((0.55, 0.40, 0.32), 0.28, 0.05, 0.05),  # dermatofibroma: small, firm
    ((0.28, 0.17, 0.14), 0.58, 0.32, 0.35),  # melanoma: dark, large, irregular, variegated
    ((0.50, 0.33, 0.23), 0.40, 0.04, 0.05),  # melanocytic nevus: brown, round, regular
    ((0.70, 0.18, 0.30), 0.34, 0.08, 0.08),  # vascular: red-purple
]


def _seed(flag: str, split: str) -> int:
    return zlib.crc32(f"{flag}/{split}".encode())


def standin_labels(flag: str, split: str, info: dict, rng: np.random.Generator) -> np.ndarray:
    """Labels with the real split's size and class proportions (uniform when unknown)."""
    n = info["n_samples"][split]
    n_classes = len(info["label"])
    if info["task"].startswith("multi-label"):
        return (rng.random((n, n_classes)) < 0.1).astype(np.uint8)
    counts = KNOWN_COUNTS.get(flag, {}).get(split)
    if counts is None:
        counts = np.full(n_classes, n // n_classes)
        counts[: n - counts.sum()] += 1
    labels = np.repeat(np.arange(n_classes), counts)
    return rng.permutation(labels).astype(np.uint8)[:, None]


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(-1.0, 1.0, size)
    return np.meshgrid(axis, axis, indexing="ij")


def blob_masks(rng, n, size, radius, irregularity, aspect=None, softness=0.06):
    """Soft masks of blobs whose border wobbles by ``irregularity`` (0 = a perfect ellipse).

    ``radius`` and ``irregularity`` are arrays of length n; the border is a sum of random
    harmonics in polar coordinates, the classic way to draw irregular lesion outlines.
    """
    yy, xx = _grid(size)
    centre = rng.normal(0, 0.08, (n, 2, 1, 1))
    aspect = np.ones(n) if aspect is None else aspect
    dy = (yy[None] - centre[:, 0]) * aspect[:, None, None]
    dx = xx[None] - centre[:, 1]
    r, theta = np.hypot(dy, dx), np.arctan2(dy, dx)
    border = np.ones_like(r)
    for k in (2, 3, 5, 7):
        amp = rng.uniform(0.3, 1.0, (n, 1, 1)) * irregularity[:, None, None] / np.sqrt(k / 2)
        border += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi, (n, 1, 1)))
    border *= radius[:, None, None]
    return 1.0 / (1.0 + np.exp(-(border - r) / softness))


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return (np.clip(images, 0.0, 1.0) * 255).round().astype(np.uint8)


def dermoscopy(rng, labels, size):
    """RGB skin-lesion images: skin, a dermoscope vignette and a class-shaped lesion."""
    n = len(labels)
    look = [_DERMA_LOOK[int(c) % len(_DERMA_LOOK)] for c in labels]
    colour = np.array([l[0] for l in look]) + rng.normal(0, 0.04, (n, 3))
    radius = np.array([l[1] for l in look]) * rng.uniform(0.8, 1.2, n)
    irregularity = np.array([l[2] for l in look]) * rng.uniform(0.7, 1.3, n)
    variegation = np.array([l[3] for l in look])
    skin = np.array([0.86, 0.66, 0.56]) + rng.normal(0, 0.04, (n, 3))
    mask = blob_masks(rng, n, size, radius, irregularity)[..., None]
    inner = blob_masks(rng, n, size, radius * 0.5, irregularity * 1.5)[..., None]
    lesion = colour[:, None, None] * (1 - variegation[:, None, None, None] * inner)
    image = skin[:, None, None] * (1 - mask) + lesion * mask
    yy, xx = _grid(size)
    vignette = np.clip(1.25 - 0.45 * np.hypot(yy, xx), 0, 1)[None, ..., None]
    image = image * vignette + rng.normal(0, 0.03, image.shape)
    return _to_uint8(image)


def ultrasound(rng, labels, size):
    """Grayscale breast-ultrasound-like images: speckle, and a dark mass.

    Label 0 (malignant): irregular, taller-than-wide, with a posterior shadow.
    Label 1 (normal/benign): smooth, wider-than-tall, with posterior enhancement.
    """
    n = len(labels)
    malignant = np.asarray(labels).reshape(-1) == 0
    radius = np.where(malignant, 0.38, 0.34) * rng.uniform(0.75, 1.25, n)
    irregularity = np.where(malignant, 0.30, 0.04) * rng.uniform(0.7, 1.3, n)
    aspect = np.where(malignant, 0.8, 1.35)
    mask = blob_masks(rng, n, size, radius, irregularity, aspect=aspect)
    yy, _ = _grid(size)
    depth = 0.65 - 0.25 * (yy[None] + 1) / 2
    below = np.clip(yy[None] - 0.2, 0, 1) * np.where(malignant, -0.35, 0.25)[:, None, None]
    tissue = depth + below
    speckle = rng.rayleigh(0.5, (n, size, size))
    image = (tissue * (1 - 0.8 * mask)) * speckle
    return _to_uint8(image)


def chest_xray(rng, labels, size):
    """Grayscale chest-X-ray-like images: two dark lung fields; label 1 adds patchy opacities."""
    n = len(labels)
    yy, xx = _grid(size)
    lungs = np.zeros((n, size, size))
    for side in (-1, 1):
        cx = side * 0.42 + rng.normal(0, 0.03, (n, 1, 1))
        lungs = np.maximum(lungs, (((xx - cx) / 0.32) ** 2 + (yy / 0.72) ** 2) < 1)
    image = 0.75 - 0.5 * lungs
    sick = np.asarray(labels).reshape(-1) == 1
    patches = blob_masks(rng, n, size, rng.uniform(0.15, 0.35, n), np.full(n, 0.3))
    shift = rng.integers(-8, 9, (n, 2)) * size // 28
    patches = np.stack([np.roll(p, tuple(s), axis=(0, 1)) for p, s in zip(patches, shift)])
    image = image + sick[:, None, None] * 0.35 * patches * lungs
    image = image + rng.normal(0, 0.04, image.shape)
    return _to_uint8(image)


def generic(rng, labels, size, channels):
    """Any other flag: a blob whose size, irregularity and brightness grow with the class index."""
    n = len(labels)
    labels = np.asarray(labels).reshape(n, -1)
    cls = labels.argmax(1) if labels.shape[1] > 1 else labels[:, 0]
    k = cls.max() + 1 if n else 1
    radius = (0.25 + 0.4 * cls / max(k - 1, 1)) * rng.uniform(0.85, 1.15, n)
    irregularity = 0.03 + 0.3 * cls / max(k - 1, 1)
    mask = blob_masks(rng, n, size, radius, irregularity)[..., None]
    tint = rng.uniform(0.5, 1.0, (n, 1, 1, channels))
    image = 0.2 + 0.6 * mask * tint + rng.normal(0, 0.05, (n, size, size, channels))
    return _to_uint8(image if channels > 1 else image[..., 0])


def _draw(flag: str, rng, labels: np.ndarray, size: int, channels: int) -> np.ndarray:
    if flag == "dermamnist":
        return dermoscopy(rng, labels.reshape(-1), size)
    if flag == "breastmnist":
        return ultrasound(rng, labels, size)
    if flag == "pneumoniamnist":
        return chest_xray(rng, labels, size)
    return generic(rng, labels, size, channels)


def standin_images(flag: str, split: str, info: dict, size: int = 28,
                   chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic stand-in (images uint8, labels (N, 1) or (N, L)) for one split.

    Images are drawn ``chunk`` at a time so the float64 intermediates stay small
    (Binder has 2 GB in all).
    """
    rng = np.random.default_rng(_seed(flag, split))
    labels = standin_labels(flag, split, info, rng)
    images = [_draw(flag, rng, labels[i:i + chunk], size, info["n_channels"])
              for i in range(0, len(labels), chunk)]
    return np.concatenate(images), labels
