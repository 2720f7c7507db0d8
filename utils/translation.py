"""Paired image restoration plumbing for notebook 07 (image-to-image translation).

* ``Degradation("low-dose", photons)`` simulates a lower X-ray dose: each pixel's detected
  photon count is Poisson around ``photons`` times the fraction the tissue lets through
  (Beer-Lambert), so fewer photons mean noisier images. ``Degradation("low-resolution",
  factor)`` averages ``factor`` x ``factor`` blocks (a coarser detector) and shows the blocks
  at full size. ``.classical(degraded)`` is the restorer without learning: a Gaussian filter
  or bicubic up-sampling.
* ``UNet`` is the encoder-decoder scaffold; the up-sampling block with the skip connection
  is passed in (the notebook's students write it), so nothing here answers an exercise.
* ``train_restorer`` trains a generator with L1 only or, given a discriminator and its loss,
  as pix2pix: both use one step function and fresh degradations of the clean images.
* ``restore``, ``ssim``, ``class_probabilities``, ``wilson_interval`` and
  ``worst_cases_figure`` evaluate a restorer (PSNR, the losses and the flip rate are the
  notebook's own).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from utils import runtime
from utils.profiling import timed
from utils.train import History

TASKS = ("low-dose", "low-resolution")
ATTENUATION = 2.0  # line integral of attenuation at the brightest pixel: transmission exp(-2) = 13.5%


def _check_images(x, who: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"{who}: expected a tensor of images (N, C, H, W) in [-1, 1], got "
                         f"{type(x).__name__} {tuple(getattr(x, 'shape', ()))}")
    return x.float()


def low_dose(clean: torch.Tensor, photons: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Simulate an exposure of ``photons`` photons per pixel (before the body absorbs any).

    Brightness is read as attenuation (bone is white): a pixel of brightness p in [0, 1]
    lets a fraction t = exp(-ATTENUATION * p) through, the detector counts
    Poisson(photons * t), and the image shows the attenuation estimated from that count.
    Dense tissue lets few photons through, so it is the noisiest part of a low-dose image.
    """
    clean = _check_images(clean, "low_dose")
    if not photons > 0:
        raise ValueError(f"photons per pixel must be > 0, got {photons}")
    transmission = torch.exp(-ATTENUATION * (clean + 1) / 2)
    counts = torch.poisson(photons * transmission, generator=generator)
    attenuation = -torch.log(counts.clamp(min=0.5) / photons) / ATTENUATION  # 0.5: a zero count is not -inf
    return (attenuation.clamp(0, 1) * 2 - 1).to(clean.dtype)


def low_resolution(clean: torch.Tensor, factor: int) -> torch.Tensor:
    """Average ``factor`` x ``factor`` blocks (a coarser detector), shown at full size as blocks."""
    clean = _check_images(clean, "low_resolution")
    factor = int(factor)
    if factor < 2 or clean.shape[-1] % factor or clean.shape[-2] % factor:
        raise ValueError(f"the down-sampling factor must be >= 2 and divide the image size "
                         f"{tuple(clean.shape[-2:])}, got {factor} (for 28 px images use 2, 4, 7 or 14)")
    return F.interpolate(F.avg_pool2d(clean, factor), scale_factor=factor, mode="nearest")


def gaussian_filter(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur each channel with a Gaussian of standard deviation ``sigma`` pixels (reflect padding)."""
    images = _check_images(images, "gaussian_filter")
    if sigma <= 0:
        return images.clone()
    radius = max(1, int(math.ceil(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernel = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    c = images.shape[1]
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


@dataclass(frozen=True)
class Degradation:
    """A degradation task: ``"low-dose"`` at ``level`` photons per pixel, or
    ``"low-resolution"`` by a ``level``-fold down-sampling."""

    task: str
    level: float

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.task == "low-dose" and not self.level > 0:
            raise ValueError(f"the low-dose level is photons per pixel and must be > 0, got {self.level}")
        if self.task == "low-resolution" and (self.level != int(self.level) or self.level < 2):
            raise ValueError(f"the low-resolution level is an integer factor >= 2, got {self.level}")

    def __call__(self, clean: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.task == "low-dose":
            return low_dose(clean, self.level, generator)
        return low_resolution(clean, int(self.level))

    def classical(self, degraded: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
        """The restorer without learning: a Gaussian filter (low-dose; ``sigma`` in pixels) or
        bicubic interpolation of the coarse image (low-resolution)."""
        degraded = _check_images(degraded, "classical")
        if self.task == "low-dose":
            return gaussian_filter(degraded, sigma)
        factor = int(self.level)
        coarse = F.avg_pool2d(degraded, factor)  # exact: the blocks are constant
        return F.interpolate(coarse, scale_factor=factor, mode="bicubic", align_corners=False).clamp(-1, 1)

    def __str__(self) -> str:
        if self.task == "low-dose":
            return f"low dose ({self.level:g} photons per pixel)"
        return f"low resolution ({int(self.level)}x down-sampling)"


def degrade_fixed(degradation: Degradation, clean: torch.Tensor, seed: int) -> torch.Tensor:
    """Degrade ``clean`` once with a seeded generator: the same seed gives the same test inputs."""
    return degradation(clean, torch.Generator().manual_seed(int(seed)))


# ----------------------------------------------------------------------------- networks
def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 convolutions (same size), each followed by BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
    )


class UNet(nn.Module):
    """A two-level U-Net for 28 px images: 28 -> 14 -> 7 and back, output in [-1, 1].

    ``up_block(c_in, c_skip, c_out)`` builds each decoder stage; it is called as
    ``block(x, skip)`` with the coarser features ``x`` and the encoder features ``skip`` of
    twice the size. Image sides must be divisible by 4.
    """

    def __init__(self, channels: int = 1, width: int = 16, up_block=None):
        super().__init__()
        if up_block is None:
            raise TypeError("UNet needs up_block: the class of its decoder stage (e.g. your UpSkip)")
        self.channels = channels
        self.enc1, self.enc2 = conv_block(channels, width), conv_block(width, 2 * width)
        self.bottom = conv_block(2 * width, 4 * width)
        self.up2, self.up1 = up_block(4 * width, 2 * width, 2 * width), up_block(2 * width, width, width)
        self.out = nn.Conv2d(width, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels or x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"UNet expects (N, {self.channels}, H, W) with H and W divisible by 4, "
                             f"got {tuple(x.shape)}")
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        bottom = self.bottom(F.max_pool2d(e2, 2))
        return torch.tanh(self.out(self.up1(self.up2(bottom, e2), e1)))


# ----------------------------------------------------------------------------- training
def restoration_step(G, opt_g, degraded, clean, g_loss, D=None, opt_d=None, d_loss=None) -> dict:
    """One update: of D first (pix2pix only), then of G. Losses are called as
    ``loss(D, degraded, clean, restored)`` (``D`` is None for an L1-only restorer)."""
    restored = G(degraded)
    out = {}
    if D is not None:
        opt_d.zero_grad(set_to_none=True)
        loss_d = d_loss(D, degraded, clean, restored)
        loss_d.backward()
        opt_d.step()
        out["d_loss"] = float(loss_d.detach())
    opt_g.zero_grad(set_to_none=True)
    loss_g = g_loss(D, degraded, clean, restored)
    loss_g.backward()
    opt_g.step()
    out["g_loss"] = float(loss_g.detach())
    return out


@timed("training")
def train_restorer(G: nn.Module, clean: torch.Tensor, degradation: Degradation, g_loss, *, steps: int,
                   batch_size: int = 64, lr: float = 2e-4, D: nn.Module | None = None, d_loss=None,
                   seed: int = 0, device=None, progress: bool = True) -> History:
    """Train ``G`` to undo ``degradation`` for ``steps`` updates on batches of ``clean`` images.

    Each batch gets fresh noise from a generator seeded with ``seed`` (the restorer never
    sees the same degraded image twice). With ``D`` and ``d_loss`` it trains pix2pix; the
    L1-only restorer passes neither, and otherwise shares everything. Adam with the
    pix2pix settings (beta1 = 0.5). Logs the losses per step and ``cpu_seconds`` /
    ``wall_seconds`` of the whole run in the returned History.
    """
    from tqdm.auto import tqdm

    clean = _check_images(clean, "train_restorer")
    if (D is None) != (d_loss is None):
        raise ValueError("pass both D and d_loss (pix2pix) or neither (L1 only)")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    device = torch.device(device) if device is not None else runtime.get_device()
    G.to(device).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = None
    if D is not None:
        D.to(device).train()
        opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(int(seed))
    history = History()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in tqdm(range(int(steps)), disable=not progress, desc="pix2pix" if D is not None else "L1 U-Net"):
        batch = clean[torch.randint(len(clean), (min(batch_size, len(clean)),), generator=rng)]
        degraded = degradation(batch, rng)
        history.log(**restoration_step(G, opt_g, degraded.to(device), batch.to(device), g_loss, D, opt_d, d_loss))
    history.log(cpu_seconds=time.process_time() - cpu0, wall_seconds=time.perf_counter() - wall0)
    G.eval()
    if D is not None:
        D.eval()
    return history


# ----------------------------------------------------------------------------- evaluation
def _apply_in_batches(model: nn.Module, images: torch.Tensor, batch: int) -> torch.Tensor:
    """``model`` on ``images`` in eval mode, without gradients, ``batch`` at a time; a CPU tensor.
    The model's train/eval mode is restored afterwards."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(images[i:i + batch].to(device)).cpu() for i in range(0, len(images), batch)])
    model.train(was_training)
    return out


@timed("evaluation")
def restore(G: nn.Module, degraded: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """``G`` applied to ``degraded`` in eval mode without gradients; a CPU tensor."""
    return _apply_in_batches(G, _check_images(degraded, "restore"), batch)


def ssim(restored: torch.Tensor, clean: torch.Tensor, win_size: int = 7) -> torch.Tensor:
    """Per-image structural similarity (MONAI's SSIMMetric, Gaussian window) for images in [-1, 1]."""
    from monai.metrics import SSIMMetric

    restored, clean = _check_images(restored, "ssim"), _check_images(clean, "ssim")
    if restored.shape != clean.shape:
        raise ValueError(f"ssim: shapes differ, {tuple(restored.shape)} vs {tuple(clean.shape)}")
    metric = SSIMMetric(spatial_dims=2, data_range=2.0, win_size=win_size, reduction="none")
    return metric(restored, clean).reshape(len(clean))


@timed("evaluation")
def class_probabilities(model: nn.Module, images: torch.Tensor, batch: int = 512) -> np.ndarray:
    """Softmax class probabilities (N, K) of a classifier, in eval mode, without gradients."""
    logits = _apply_in_batches(model, _check_images(images, "class_probabilities"), batch)
    return F.softmax(logits.double(), dim=1).numpy()


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (default 95%) for a proportion of ``k`` events in ``n`` trials;
    unlike k/n +- 1.96 SE it stays inside [0, 1] and is honest when k is 0 or small."""
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def worst_cases_figure(clean, degraded, restored, indices, captions=None, source=None):
    """One row per chosen image: clean, degraded, restored and |restored - clean| (hot = large)."""
    import matplotlib.pyplot as plt

    from utils import plots

    indices = [int(i) for i in indices]
    if not indices:
        raise ValueError("no images to show: indices is empty")
    shown = [plots._to_display(t[indices]) for t in (clean, degraded, restored)]
    diff = (restored[indices] - clean[indices]).abs().mean(dim=1).numpy() / 2  # in [0, 1]
    fig, axes = plt.subplots(len(indices), 4, figsize=(6.4, 1.7 * len(indices) + 0.4), squeeze=False,
                             layout="constrained")
    titles = ("clean", "degraded", "restored", "|restored - clean|")
    for row, i in enumerate(indices):
        for col in range(3):
            plots._show(axes[row, col], shown[col][row])
        axes[row, 3].imshow(diff[row], cmap="hot", vmin=0, vmax=max(0.25, float(diff.max())))
        axes[row, 3].set_xticks([])
        axes[row, 3].set_yticks([])
        if captions is not None:
            axes[row, 0].set_ylabel(captions[row], fontsize=7)
    for col, title in enumerate(titles):
        axes[0, col].set_title(title, fontsize=9)
    return plots.mark_source(fig, source)
