"""The networks of the course: small, readable, and strict about their inputs.

Every model checks the shapes and labels it receives and raises a ``ValueError`` that
says what it expected, so a wrong call in a notebook fails on the line that made it
instead of deep inside a matrix multiply.

* ``MLPGenerator`` / ``MLPDiscriminator``: the toy 2-D Gaussian-mixture lesson.
* ``DCGANGenerator`` / ``DCGANDiscriminator``: 28 x 28 medical images, optionally
  class-conditional.
* ``SmallCNN``: the classifier of the augmentation experiments and the feature
  extractor of the course's domain Frechet distance.
* ``TabularGenerator`` / ``TabularDiscriminator``: mixed continuous / categorical
  patient records.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_SIZE = 28


# ----------------------------------------------------------------------------- checks
def _check_matrix(x: torch.Tensor, width: int, who: str, what: str) -> None:
    if x.dim() != 2 or x.shape[1] != width:
        raise ValueError(
            f"{who} expects {what} of shape (N, {width}), got {tuple(x.shape)}."
        )


def _check_images(x: torch.Tensor, channels: int, who: str) -> None:
    expected = (channels, IMAGE_SIZE, IMAGE_SIZE)
    if x.dim() != 4 or tuple(x.shape[1:]) != expected:
        raise ValueError(
            f"{who} expects images of shape (N, {channels}, {IMAGE_SIZE}, {IMAGE_SIZE}), "
            f"got {tuple(x.shape)}."
        )


def _check_labels(labels: torch.Tensor | None, n: int, n_classes: int, who: str) -> None:
    """Conditional models need labels and unconditional ones must not silently ignore them."""
    if n_classes == 0:
        if labels is not None:
            raise ValueError(
                f"{who} is unconditional (n_classes=0) but labels were given; "
                f"build it with n_classes=K to condition on labels, or drop the labels."
            )
        return
    if labels is None:
        raise ValueError(
            f"{who} is conditional (n_classes={n_classes}) and needs labels: "
            f"call it as model(inputs, labels) with a LongTensor of shape ({n},)."
        )
    if labels.dim() != 1 or labels.shape[0] != n:
        raise ValueError(f"{who} expects labels of shape ({n},), got {tuple(labels.shape)}.")
    if labels.dtype != torch.long:
        raise ValueError(f"{who} expects integer class labels (torch.long), got {labels.dtype}.")
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{who} got labels outside 0..{n_classes - 1} "
            f"(min {labels.min().item()}, max {labels.max().item()})."
        )


def _with_label_embedding(model: nn.Module, x: torch.Tensor, width: int, labels, what: str) -> torch.Tensor:
    """Check ``x`` (N, width) and the labels, then append the label embedding when conditional."""
    name = type(model).__name__
    _check_matrix(x, width, name, what)
    _check_labels(labels, x.shape[0], model.n_classes, name)
    return x if model.embed is None else torch.cat([x, model.embed(labels)], dim=1)


def _mlp(in_dim: int, hidden: int, n_hidden: int, slope: float) -> nn.Sequential:
    """``n_hidden`` blocks of Linear + LeakyReLU: the trunk shared by the MLP models."""
    layers: list[nn.Module] = []
    for i in range(n_hidden):
        layers += [nn.Linear(in_dim if i == 0 else hidden, hidden), nn.LeakyReLU(slope)]
    return nn.Sequential(*layers)


def _check_layers(n_layers: int) -> None:
    if n_layers < 2:
        raise ValueError(
            f"n_layers counts the Linear layers, output included, and must be >= 2; got {n_layers}."
        )


# ----------------------------------------------------------------------------- toy MLP GAN
class MLPGenerator(nn.Module):
    """z (N, latent_dim) -> points (N, out_dim); ``n_layers`` Linear layers in total."""

    def __init__(self, latent_dim: int = 8, out_dim: int = 2, hidden: int = 64, n_layers: int = 3):
        super().__init__()
        _check_layers(n_layers)
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            _mlp(latent_dim, hidden, n_layers - 1, slope=0.2), nn.Linear(hidden, out_dim)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_matrix(z, self.latent_dim, type(self).__name__, "z")
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """points (N, in_dim) -> raw logits (N,); the loss functions apply the sigmoid."""

    def __init__(self, in_dim: int = 2, hidden: int = 64, n_layers: int = 3):
        super().__init__()
        _check_layers(n_layers)
        self.in_dim = in_dim
        self.net = nn.Sequential(_mlp(in_dim, hidden, n_layers - 1, slope=0.2), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_matrix(x, self.in_dim, type(self).__name__, "points")
        return self.net(x).squeeze(1)


# ----------------------------------------------------------------------------- DCGAN
class DCGANGenerator(nn.Module):
    """z (N, latent_dim) [+ labels (N,)] -> images (N, channels, 28, 28) in [-1, 1].

    Linear -> (base*2, 7, 7) -> ConvTranspose 7->14 -> ConvTranspose 14->28, with
    BatchNorm + ReLU in between and Tanh at the end to match the data range. A
    conditional model (``n_classes > 0``) appends a learned label embedding to z.
    """

    def __init__(self, latent_dim: int = 64, channels: int = 3, base: int = 64, n_classes: int = 0):
        super().__init__()
        self.latent_dim, self.channels, self.n_classes = latent_dim, channels, n_classes
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        self.project = nn.Sequential(
            nn.Linear(latent_dim + n_classes, base * 2 * 7 * 7),
            nn.Unflatten(1, (base * 2, 7, 7)),
            nn.BatchNorm2d(base * 2),
            nn.ReLU(),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(base * 2, base, kernel_size=4, stride=2, padding=1),  # 7 -> 14
            nn.BatchNorm2d(base),
            nn.ReLU(),
            nn.ConvTranspose2d(base, channels, kernel_size=4, stride=2, padding=1),  # 14 -> 28
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = _with_label_embedding(self, z, self.latent_dim, labels, "z")
        return self.upsample(self.project(z))


class DCGANDiscriminator(nn.Module):
    """images (N, channels, 28, 28) [+ labels (N,)] -> raw logits (N,).

    Two strided convolutions 28 -> 14 -> 7 with LeakyReLU(0.2), then a Linear. The
    second block uses BatchNorm unless ``norm="none"``: WGAN-GP penalises the gradient
    of each sample's score, which batch statistics would couple across the batch. A
    conditional model learns one 28 x 28 map per class and stacks it as an extra channel.
    """

    NORMS = ("batch", "none")

    def __init__(self, channels: int = 3, base: int = 64, n_classes: int = 0, norm: str = "batch"):
        super().__init__()
        if norm not in self.NORMS:
            raise ValueError(f"norm must be one of {self.NORMS}, got {norm!r}.")
        self.channels, self.n_classes = channels, n_classes
        self.label_map = nn.Embedding(n_classes, IMAGE_SIZE * IMAGE_SIZE) if n_classes else None
        in_channels = channels + (1 if n_classes else 0)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, base, kernel_size=4, stride=2, padding=1),  # 28 -> 14
            nn.LeakyReLU(0.2),
            nn.Conv2d(base, base * 2, kernel_size=4, stride=2, padding=1),  # 14 -> 7
            nn.BatchNorm2d(base * 2) if norm == "batch" else nn.Identity(),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.head = nn.Linear(base * 2 * 7 * 7, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        name = type(self).__name__
        _check_images(x, self.channels, name)
        _check_labels(labels, x.shape[0], self.n_classes, name)
        if self.label_map is not None:
            label_plane = self.label_map(labels).view(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
            x = torch.cat([x, label_plane], dim=1)
        return self.head(self.features(x)).squeeze(1)


def weights_init(module: nn.Module) -> None:
    """DCGAN initialisation (Radford et al. 2016); use as ``model.apply(weights_init)``.

    Small N(0, 0.02) weights keep early outputs in Tanh's linear range; BatchNorm
    scales start near 1 so the first steps do not rescale features arbitrarily.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


# ----------------------------------------------------------------------------- classifier
def _conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


class SmallCNN(nn.Module):
    """A compact 28 px classifier whose penultimate layer doubles as a feature extractor.

    Three conv blocks (28 -> 14 -> 7, then global average pooling) feed a
    ``feature_dim`` layer; ``features(x)`` returns it, ``forward(x)`` adds dropout and
    the class logits. Trained on the real data, those features give the domain
    Frechet distance that ImageNet-trained Inception features would not.
    """

    def __init__(self, in_channels: int = 3, n_classes: int = 7, width: int = 32,
                 feature_dim: int = 128, dropout: float = 0.25):
        super().__init__()
        self.in_channels, self.feature_dim = in_channels, feature_dim
        self.body = nn.Sequential(
            _conv_block(in_channels, width), nn.MaxPool2d(2),  # 28 -> 14
            _conv_block(width, width * 2), nn.MaxPool2d(2),  # 14 -> 7
            _conv_block(width * 2, width * 4),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(width * 4, feature_dim),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (N, feature_dim)."""
        _check_images(x, self.in_channels, type(self).__name__)
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# ----------------------------------------------------------------------------- tabular GAN
class TabularGenerator(nn.Module):
    """z (N, latent_dim) [+ labels] -> records [continuous..., one-hot block per categorical].

    Continuous columns come from a plain linear head (standardised data is not bounded
    by +-1, so no tanh). Each categorical column is a Gumbel-softmax sample: soft and
    differentiable with ``hard=False``; with ``hard=True`` an exact one-hot (the argmax
    of the Gumbel-perturbed logits, i.e. a draw from the category probabilities) that
    still passes straight-through gradients.
    """

    def __init__(self, latent_dim: int, n_continuous: int, categorical_sizes: list[int],
                 hidden: int = 128, n_classes: int = 0):
        super().__init__()
        sizes = list(categorical_sizes)
        if n_continuous < 0 or any(k < 2 for k in sizes) or n_continuous + len(sizes) == 0:
            raise ValueError(
                "TabularGenerator needs n_continuous >= 0, every categorical size >= 2 and at "
                f"least one column; got n_continuous={n_continuous}, categorical_sizes={sizes}."
            )
        self.latent_dim, self.n_continuous, self.n_classes = latent_dim, n_continuous, n_classes
        self.categorical_sizes = sizes
        self.out_dim = n_continuous + sum(sizes)
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        self.body = _mlp(latent_dim + n_classes, hidden, 2, slope=0.2)
        self.continuous = nn.Linear(hidden, n_continuous) if n_continuous else None
        self.categorical = nn.ModuleList(nn.Linear(hidden, k) for k in sizes)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                tau: float = 0.5, hard: bool = False) -> torch.Tensor:
        z = _with_label_embedding(self, z, self.latent_dim, labels, "z")
        h = self.body(z)
        parts = [self.continuous(h)] if self.continuous is not None else []
        parts += [F.gumbel_softmax(head(h), tau=tau, hard=hard) for head in self.categorical]
        return torch.cat(parts, dim=1)


class TabularDiscriminator(nn.Module):
    """records (N, in_dim) [+ labels] -> raw logits (N,); no BatchNorm so WGAN-GP works."""

    def __init__(self, in_dim: int, hidden: int = 128, n_classes: int = 0):
        super().__init__()
        self.in_dim, self.n_classes = in_dim, n_classes
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        self.net = nn.Sequential(_mlp(in_dim + n_classes, hidden, 2, slope=0.2), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = _with_label_embedding(self, x, self.in_dim, labels, "records")
        return self.net(x).squeeze(1)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable, by default) parameters: a quick sense of model size."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
