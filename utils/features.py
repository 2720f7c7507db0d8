"""The course's domain feature extractor, the eyes of its Fréchet distance.

ImageNet Inception weights cannot be downloaded on the course's machines, and they judge
28 px medical images poorly anyway. Instead the course's FID uses the penultimate
features of a ``utils.models.SmallCNN`` trained to classify the *real training split* of
the same MedMNIST flag, and says so by name: "Derma-FID", "Breast-FID", ...

* ``feature_extractor(flag, seed=0)`` trains that network once and caches its weights in
  ``runtime.cache_dir()`` (keyed by flag, data source, seed, epochs and FAST mode); later
  calls load the cache in a second.
* ``extract_features(model, images)`` turns (N, C, 28, 28) images in [-1, 1] into an
  (N, feature_dim) NumPy array, in batches, without gradients.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from utils import runtime
from utils.models import SmallCNN
from utils.profiling import timed

VERSION = 1  # bump when the architecture or recipe changes: old caches are then ignored
FULL_EPOCHS = 4
FAST_EPOCHS = 1
_NAMES = {"dermamnist": "Derma", "breastmnist": "Breast", "pneumoniamnist": "Pneumonia",
          "bloodmnist": "Blood", "pathmnist": "Path", "retinamnist": "Retina", "octmnist": "OCT",
          "organamnist": "OrganA", "organcmnist": "OrganC", "organsmnist": "OrganS",
          "tissuemnist": "Tissue", "chestmnist": "Chest"}


def metric_name(flag: str) -> str:
    """The name the course gives the Fréchet distance on ``flag``'s features, e.g. "Derma-FID"."""
    flag = flag.lower()
    stem = _NAMES.get(flag, flag[:-5].capitalize() if flag.endswith("mnist") else flag)
    return f"{stem}-FID"


@dataclass
class FeatureExtractor:
    """A trained SmallCNN (eval mode) plus what it was trained on; call it on images."""

    model: SmallCNN
    name: str
    flag: str
    source: str
    seed: int
    epochs: int
    fast: bool
    val_balanced_accuracy: float
    path: Path
    from_cache: bool

    @property
    def feature_dim(self) -> int:
        return self.model.feature_dim

    def __call__(self, images, batch: int = 512) -> np.ndarray:
        return extract_features(self.model, images, batch=batch)

    def __repr__(self) -> str:
        how = "loaded from cache" if self.from_cache else "trained now"
        return (f"FeatureExtractor({self.name}: SmallCNN features ({self.feature_dim}-d) trained on "
                f"{self.flag} train ({self.source}), seed {self.seed}, {self.epochs} epochs"
                f"{' FAST' if self.fast else ''}, val balanced accuracy {self.val_balanced_accuracy:.3f}, "
                f"{how})")


def cache_path(flag: str, source: str, seed: int, epochs: int, fast: bool) -> Path:
    """Where the weights for this (flag, source, seed, epochs, mode) live."""
    mode = "fast" if fast else "full"
    return runtime.cache_dir() / f"features-v{VERSION}-{flag}-{source}-seed{seed}-e{epochs}-{mode}.pt"


def _images_of(images) -> torch.Tensor:
    """Accept an ImageData (its ``.x``), a tensor or an array of shape (N, C, H, W)."""
    x = getattr(images, "x", images)
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x))
    if x.dim() != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(x.shape)}")
    return x.float()


@timed("evaluation")
def extract_features(model, images, batch: int = 512) -> np.ndarray:
    """Penultimate features (N, D) of ``images`` (N, C, 28, 28) in [-1, 1], as float64 NumPy.

    ``model`` is a SmallCNN, a FeatureExtractor, or any module with a ``features`` method.
    Runs in eval mode (BatchNorm running statistics, no dropout) without gradients, on the
    model's own device, and restores the model's mode afterwards.
    """
    if isinstance(model, FeatureExtractor):
        model = model.model
    if not hasattr(model, "features"):
        raise TypeError(f"model must have a .features(x) method (e.g. SmallCNN), got {type(model).__name__}")
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    x = _images_of(images)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    chunks = []
    with torch.no_grad():
        for start in range(0, len(x), int(batch)):
            chunks.append(model.features(x[start:start + int(batch)].to(device)).double().cpu())
    model.train(was_training)
    if not chunks:
        return np.zeros((0, model.feature_dim))
    return torch.cat(chunks).numpy()


@timed("training")
def _train(train, val, seed: int, epochs: int, device, progress: bool) -> tuple[SmallCNN, float]:
    from utils.data import make_loader
    from utils.metrics import balanced_accuracy
    from utils.train import predict, train_classifier

    runtime.seed_everything(seed)
    model = SmallCNN(in_channels=train.n_channels, n_classes=train.n_classes)
    train_classifier(model, make_loader(train, batch_size=128, shuffle=True, seed=seed), epochs=epochs,
                     lr=2e-3, device=device, progress=progress)
    y_true, probs = predict(model, make_loader(val, batch_size=512, shuffle=False))
    return model, balanced_accuracy(y_true, probs.argmax(axis=1), train.n_classes)


def feature_extractor(flag: str, *, seed: int = 0, epochs: int | None = None, device=None,
                      progress: bool = False, retrain: bool = False) -> FeatureExtractor:
    """The domain feature extractor of ``flag``: cached weights if present, else train and cache.

    The SmallCNN learns to classify ``flag``'s real training split (``epochs`` defaults to
    4, or 1 in FAST mode, where each epoch is also cut to a few batches); its validation
    balanced accuracy is reported so you can see that the features mean something. The
    cache is keyed by flag, data source ("real" / "stand-in"), seed, epochs and mode, so a
    FAST-mode extractor is never mistaken for a full one. ``retrain=True`` ignores the cache.
    """
    from utils.data import load_medmnist
    from utils.train import CheckpointError, load_checkpoint, save_checkpoint

    flag = flag.lower()
    fast = runtime.is_fast()
    epochs = int(epochs if epochs is not None else runtime.pick(FAST_EPOCHS, FULL_EPOCHS))
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    with warnings.catch_warnings():  # the notebook has already announced a stand-in loudly
        warnings.simplefilter("ignore", UserWarning)
        train = load_medmnist(flag, "train")
    if train.y.dim() != 1:
        raise ValueError(f"{flag} is multi-label; the feature extractor needs a single-label flag.")
    device = torch.device(device) if device is not None else runtime.get_device()
    path = cache_path(flag, train.source, seed, epochs, fast)
    name = metric_name(flag)
    model = SmallCNN(in_channels=train.n_channels, n_classes=train.n_classes)
    if path.exists() and not retrain:
        try:
            state = load_checkpoint(path, model=model)
            meta = state.get("meta", {})
            if meta.get("flag") == flag and meta.get("source") == train.source:
                return FeatureExtractor(model.to(device).eval(), name, flag, train.source, seed, epochs, fast,
                                        float(meta["val_balanced_accuracy"]), path, True)
        except (CheckpointError, KeyError) as err:
            print(f"Ignoring the cached feature extractor ({err}); training a new one.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        val = load_medmnist(flag, "val")
    model, val_bacc = _train(train, val, seed, epochs, device, progress)
    meta = {"flag": flag, "source": train.source, "seed": seed, "epochs": epochs, "fast": fast,
            "val_balanced_accuracy": float(val_bacc), "version": VERSION}
    save_checkpoint(path, model=model, meta=meta)
    return FeatureExtractor(model.eval(), name, flag, train.source, seed, epochs, fast, float(val_bacc),
                            path, False)

