"""DDPM plumbing for notebook 08: a noise-prediction network, training under a CPU-time budget,
sampling loops and a per-image denoising score.

The diffusion math itself (the noise schedule, ``q_sample``, the noise-prediction loss, the
reverse step, the DDIM step) is deliberately NOT here: the notebook's students write it, and
every function below takes their functions as arguments, so the notebook runs on their answers.

Why a small U-Net of our own instead of MONAI's ``DiffusionModelUNet``: MONAI's network always
puts self-attention in its middle block (which needs the extra package ``einops``) and gives each
decoder level an extra residual block; at the same widths (16, 32, 64) it has 0.64M parameters
against ``NoiseUNet``'s 0.16M and took 0.59 instead of 0.27-0.30 CPU seconds per training step
(28 px, batch 64, one thread). At a fixed CPU budget that halves the number of updates.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from utils.profiling import timed
from utils.train import History


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of integer timesteps (N,) -> (N, dim), as in the Transformer and DDPM."""
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}.")
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class _ResBlock(nn.Module):
    """Two 3x3 convolutions with GroupNorm + SiLU; the time/class embedding shifts the features."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(8, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(emb)[:, :, None, None]
        return self.conv2(F.silu(self.norm2(h))) + self.skip(x)


class NoiseUNet(nn.Module):
    """(x_t (N, C, H, W), t (N,) [, labels (N,)]) -> predicted noise, same shape as x_t.

    A two-level U-Net (28 -> 14 -> 7 and back, skip connections at each level). The timestep
    enters through sinusoidal features and an MLP; a class-conditional model
    (``n_classes > 0``) adds a learned class embedding to it. H and W must be divisible by 4.
    """

    def __init__(self, channels: int = 1, n_classes: int = 0, widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        if any(w % 8 for w in widths):
            raise ValueError(f"widths must be multiples of 8 (GroupNorm uses 8 groups), got {widths}.")
        w0, w1, w2 = widths
        emb = 4 * w0
        self.channels, self.n_classes, self.base = channels, n_classes, w0
        self.time = nn.Sequential(nn.Linear(w0, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.label = nn.Embedding(n_classes, emb) if n_classes else None
        self.inp = nn.Conv2d(channels, w0, 3, padding=1)
        self.down0, self.pool0 = _ResBlock(w0, w0, emb), nn.Conv2d(w0, w0, 3, stride=2, padding=1)
        self.down1, self.pool1 = _ResBlock(w0, w1, emb), nn.Conv2d(w1, w1, 3, stride=2, padding=1)
        self.middle = _ResBlock(w1, w2, emb)
        self.up1 = _ResBlock(w2 + w1, w1, emb)
        self.up0 = _ResBlock(w1 + w0, w0, emb)
        self.out = nn.Sequential(nn.GroupNorm(8, w0), nn.SiLU(), nn.Conv2d(w0, channels, 3, padding=1))

    def _check(self, x: torch.Tensor, t: torch.Tensor, labels) -> None:
        if x.dim() != 4 or x.shape[1] != self.channels or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"NoiseUNet expects (N, {self.channels}, H, W) with H, W divisible by 4, "
                             f"got {tuple(x.shape)}.")
        if t.shape != (x.shape[0],):
            raise ValueError(f"NoiseUNet expects one timestep per image, shape ({x.shape[0]},), got {tuple(t.shape)}.")
        if (labels is None) != (self.label is None):
            need = "needs class labels" if self.label is not None else "was built without classes (n_classes=0)"
            raise ValueError(f"NoiseUNet {need}: pass labels exactly when n_classes > 0.")

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self._check(x, t, labels)
        emb = self.time(timestep_embedding(t, self.base))
        if self.label is not None:
            emb = emb + self.label(labels)
        h0 = self.down0(self.inp(x), emb)
        h1 = self.down1(self.pool0(h0), emb)
        h = self.middle(self.pool1(h1), emb)
        h = self.up1(torch.cat([F.interpolate(h, scale_factor=2.0), h1], dim=1), emb)
        h = self.up0(torch.cat([F.interpolate(h, scale_factor=2.0), h0], dim=1), emb)
        return self.out(h)


def _labels_for(model: nn.Module, labels: torch.Tensor):
    """Class labels for a conditional model, none for an unconditional one."""
    return labels if getattr(model, "label", None) is not None else None


@timed("training")
def train_denoiser(model: nn.Module, loader, loss_fn, *, cpu_seconds: float, lr: float = 2e-3,
                   optimizer=None, max_steps: int | None = None, progress: bool = True) -> History:
    """Train ``model`` with ``loss_fn(model, x0, labels)`` until ``cpu_seconds`` of CPU time are used.

    The clock is ``time.process_time`` (the whole process, all threads), the same one
    ``utils.train.train_gan(cpu_seconds=...)`` uses, so "the same CPU seconds" is literal.
    The loader is cycled as often as the budget allows; ``max_steps`` caps the updates too.
    Pass the ``optimizer`` of an earlier call to continue training where it stopped.
    Logs ``loss`` and ``cpu_seconds`` (CPU time used so far in this call) per update.
    """
    if cpu_seconds <= 0:
        raise ValueError(f"cpu_seconds must be > 0, got {cpu_seconds}.")
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history, start, steps = History(), time.process_time(), 0
    bar = tqdm(total=round(cpu_seconds), desc="DDPM (CPU s)", disable=not progress)
    while True:
        seen = 0
        for x0, labels in loader:
            seen += 1
            if time.process_time() - start >= cpu_seconds or (max_steps is not None and steps >= max_steps):
                bar.close()
                return history
            loss = loss_fn(model, x0, _labels_for(model, labels))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
            used = time.process_time() - start
            history.log(loss=loss.item(), cpu_seconds=used)
            bar.update(max(0, min(round(used), bar.total) - bar.n))
        if seen == 0:
            raise ValueError("The loader yielded no batches.")


def _noise(shape, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(shape, generator=generator)


def _chunks(labels: torch.Tensor, batch: int):
    for start in range(0, len(labels), batch):
        yield labels[start:start + batch]


@timed("evaluation")
@torch.no_grad()
def sample_ancestral(model: nn.Module, labels: torch.Tensor, step, betas: torch.Tensor,
                     alpha_bars: torch.Tensor, *, image_shape: tuple, seed: int = 0, batch: int = 256) -> torch.Tensor:
    """DDPM ancestral sampling: start from pure noise, call ``step`` once per timestep, T..1.

    ``step(x_t, eps_hat, t, betas, alpha_bars, noise)`` is the student's reverse step; it
    gets a fresh standard-normal ``noise`` at every step (zeros at t = 0). One image per
    label; all randomness comes from ``seed``. Returns images clamped to [-1, 1].
    """
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    out = []
    for chunk in _chunks(labels, batch):
        x = _noise((len(chunk), *image_shape), generator)
        for t in reversed(range(len(alpha_bars))):
            eps_hat = model(x, torch.full((len(chunk),), t, dtype=torch.long), _labels_for(model, chunk))
            noise = _noise(x.shape, generator) if t > 0 else torch.zeros_like(x)
            x = step(x, eps_hat, t, betas, alpha_bars, noise)
        out.append(x.clamp(-1, 1))
    model.train()
    return torch.cat(out)


def ddim_timesteps(n_timesteps: int, n_steps: int) -> list[int]:
    """``n_steps`` evenly spaced timesteps from T-1 down to 0 (no repeats)."""
    if not 1 <= n_steps <= n_timesteps:
        raise ValueError(f"n_steps must be between 1 and {n_timesteps}, got {n_steps}.")
    return sorted({int(round(t)) for t in np.linspace(0, n_timesteps - 1, n_steps)}, reverse=True)


@timed("evaluation")
@torch.no_grad()
def sample_ddim(model: nn.Module, labels: torch.Tensor, step, alpha_bars: torch.Tensor, *,
                image_shape: tuple, n_steps: int = 50, seed: int = 0, batch: int = 256) -> torch.Tensor:
    """Deterministic DDIM sampling in ``n_steps`` jumps instead of T steps.

    ``step(x_t, eps_hat, t, t_prev, alpha_bars)`` is the student's DDIM step; the last jump
    has ``t_prev = -1`` (meaning: land on a clean image). Only the starting noise is random
    (from ``seed``). Returns images clamped to [-1, 1].
    """
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    times = ddim_timesteps(len(alpha_bars), n_steps)
    out = []
    for chunk in _chunks(labels, batch):
        x = _noise((len(chunk), *image_shape), generator)
        for i, t in enumerate(times):
            t_prev = times[i + 1] if i + 1 < len(times) else -1
            eps_hat = model(x, torch.full((len(chunk),), t, dtype=torch.long), _labels_for(model, chunk))
            x = step(x, eps_hat, t, t_prev, alpha_bars)
        out.append(x.clamp(-1, 1))
    model.train()
    return torch.cat(out)


@timed("evaluation")
@torch.no_grad()
def denoising_losses(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, q_sample,
                     alpha_bars: torch.Tensor, *, timesteps=(50, 100, 200, 400), seed: int = 0,
                     batch: int = 256) -> np.ndarray:
    """Each image's noise-prediction error, averaged over fixed ``timesteps``: a membership score.

    A diffusion model that memorized an image denoises it better than an unseen one (Carlini
    et al. 2023), so a *low* loss suggests "member". ``q_sample(x0, t, noise, alpha_bars)``
    is the student's forward process. Image i always gets the same noise (drawn from
    ``seed`` and its position), so the score is deterministic. Returns an (N,) array.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels.")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    noise = _noise((len(timesteps), *images.shape), generator)
    losses = torch.zeros(len(images))
    for k, t in enumerate(timesteps):
        for start in range(0, len(images), batch):
            x0, eps = images[start:start + batch], noise[k, start:start + batch]
            ts = torch.full((len(x0),), int(t), dtype=torch.long)
            eps_hat = model(q_sample(x0, ts, eps, alpha_bars), ts, _labels_for(model, labels[start:start + batch]))
            losses[start:start + batch] += (eps_hat - eps).pow(2).flatten(1).mean(1) / len(timesteps)
    model.train()
    return losses.numpy()
