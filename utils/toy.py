"""Toy 2-D Gaussian mixtures: the playground where a GAN's failures are visible.

A mixture of K small Gaussians ("modes") on a ring or a grid is the classic test of
whether a generator covers the whole data distribution or collapses onto a few modes.
In 2-D we can simply count:

* ``GaussianMixture.sample`` draws points (and which mode each came from);
* ``mode_coverage`` says how many modes received generated points (within ``n_std``
  standard deviations of the centre) and what fraction of samples are "high quality"
  (close to some mode at all).

    >>> mix = make_mixture("ring")            # 8 modes on a circle of radius 2
    >>> x = mix.sample(512, seed=0)           # (512, 2) float tensor
    >>> mix.coverage(x).covered               # real data covers every mode
    8
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

LAYOUTS = ("ring", "grid")


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """``n_modes`` points evenly spaced on a circle of ``radius``, the first on the +x axis."""
    if n_modes < 1 or radius <= 0:
        raise ValueError(f"need n_modes >= 1 and radius > 0, got n_modes={n_modes}, radius={radius}")
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_centers(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """A ``side`` x ``side`` square grid of points, ``spacing`` apart, centred on the origin."""
    if side < 1 or spacing <= 0:
        raise ValueError(f"need side >= 1 and spacing > 0, got side={side}, spacing={spacing}")
    axis = (np.arange(side) - (side - 1) / 2) * spacing
    xx, yy = np.meshgrid(axis, axis, indexing="xy")
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def _as_points(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {arr.shape}")
    return arr


def assign_modes(samples, centers) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre for each sample, and the distance to it."""
    samples, centers = _as_points(samples, "samples"), _as_points(centers, "centers")
    d = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)
    nearest = d.argmin(axis=1)
    return nearest, d[np.arange(len(samples)), nearest]


@dataclass
class Coverage:
    """How well a set of samples covers a mixture's modes (see ``mode_coverage``)."""

    covered: int            # modes that received at least ``min_count`` nearby samples
    n_modes: int
    counts: np.ndarray      # nearby samples per mode (length n_modes)
    high_quality: float     # fraction of samples within n_std std of their nearest mode
    min_count: int

    @property
    def missing(self) -> list[int]:
        """Indices of the modes that were not covered."""
        return [int(i) for i in np.flatnonzero(self.counts < self.min_count)]

    def __str__(self) -> str:
        return (f"{self.covered}/{self.n_modes} modes covered, "
                f"{self.high_quality:.0%} of samples near a mode")


def mode_coverage(samples, centers, std: float, n_std: float = 3.0,
                  min_count: int | None = None) -> Coverage:
    """Count the modes that a set of (generated) samples covers.

    A sample is *near* a mode when it lies within ``n_std * std`` of that mode's centre
    (its nearest one). A mode is *covered* when at least ``min_count`` samples are near it;
    the default, 1% of the samples (at least 1), ignores a few stray points. A collapsed
    generator covers few modes; a blurry one covers them but has few high-quality samples.
    """
    if std <= 0 or n_std <= 0:
        raise ValueError(f"std and n_std must be positive, got std={std}, n_std={n_std}")
    samples, centers = _as_points(samples, "samples"), _as_points(centers, "centers")
    if len(samples) == 0:
        raise ValueError("samples is empty")
    if min_count is None:
        min_count = max(1, math.ceil(0.01 * len(samples)))
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    nearest, dist = assign_modes(samples, centers)
    near = dist <= n_std * std
    counts = np.bincount(nearest[near], minlength=len(centers))
    return Coverage(covered=int((counts >= min_count).sum()), n_modes=len(centers), counts=counts,
                    high_quality=float(near.mean()), min_count=int(min_count))


class GaussianMixture:
    """K isotropic 2-D Gaussians with a common ``std`` and mixing ``weights`` (uniform by default).

    Unequal weights make a rare mode: the toy version of a rare disease in a dataset.
    """

    def __init__(self, centers, std: float = 0.05, weights=None, name: str = "mixture"):
        self.centers = _as_points(centers, "centers")
        if len(self.centers) == 0:
            raise ValueError("a mixture needs at least one centre")
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        k = len(self.centers)
        weights = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
        if weights.shape != (k,) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"weights must be {k} non-negative numbers with a positive sum, got {weights}")
        self.weights = weights / weights.sum()
        self.std, self.name = float(std), name

    @property
    def n_modes(self) -> int:
        return len(self.centers)

    def sample(self, n: int, seed: int | None = None, generator: torch.Generator | None = None,
               device=None, return_modes: bool = False):
        """``n`` points as a float32 (n, 2) tensor (and the mode of each, if asked).

        Pass ``seed`` for a fixed sample, or a ``generator`` to draw a fresh batch each
        call from one reproducible stream (a training loop); with neither, torch's global
        random state is used.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if seed is not None and generator is not None:
            raise ValueError("pass seed or generator, not both")
        if seed is not None:
            generator = torch.Generator().manual_seed(seed)
        weights = torch.as_tensor(self.weights, dtype=torch.float64)
        modes = torch.multinomial(weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, 2, generator=generator, dtype=torch.float64) * self.std
        points = (torch.as_tensor(self.centers)[modes] + noise).float()
        if device is not None:
            points = points.to(device)
        return (points, modes) if return_modes else points

    def coverage(self, samples, n_std: float = 3.0, min_count: int | None = None) -> Coverage:
        """``mode_coverage`` of ``samples`` against this mixture's centres and std."""
        return mode_coverage(samples, self.centers, self.std, n_std=n_std, min_count=min_count)

    def __repr__(self) -> str:
        return f"GaussianMixture({self.name}: {self.n_modes} modes, std={self.std:g})"


def make_mixture(layout: str = "ring", std: float = 0.05, **kwargs) -> GaussianMixture:
    """The course's toy datasets: ``"ring"`` (8 modes, radius 2) or ``"grid"`` (5 x 5, spacing 2).

    Extra keyword arguments go to ``ring_centers`` / ``grid_centers`` (e.g. ``n_modes=6``).
    """
    if layout == "ring":
        centers = ring_centers(**kwargs)
    elif layout == "grid":
        centers = grid_centers(**kwargs)
    else:
        raise ValueError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    return GaussianMixture(centers, std=std, name=layout)
