"""MedMNIST images, real first: find the file, check it, download it, else a loud stand-in."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
from torch.utils.data import Dataset

from utils import runtime
from utils.data.errors import DataError, DataNotFoundError
from utils.data.policy import data_mode, network_reachable
from utils.data.standin import standin_images
from utils.profiling import timed

SPLITS = ("train", "val", "test")
_VERIFIED: dict[tuple[str, int, float], bool] = {}


class ImageData(Dataset):
    """A MedMNIST split as tensors: images in [-1, 1] (the GAN convention) and labels.

    ``x`` is float (N, C, H, W), ``y`` is long (N,) for single-label tasks and (N, L)
    for multi-label ones. ``source`` says whether the images are "real" or a "stand-in".
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, flag: str, split: str,
                 class_names: list[str], task: str, source: str):
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4 or images.dtype != np.uint8:
            raise DataError(f"expected uint8 images of shape (N, H, W[, C]), got {images.dtype} {images.shape}")
        self.x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
        labels = np.asarray(labels).astype(np.int64)
        self.y = torch.from_numpy(labels if task.startswith("multi-label") else labels.reshape(-1))
        self.flag, self.split, self.task, self.source = flag, split, task, source
        self.class_names = list(class_names)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_channels(self) -> int:
        return self.x.shape[1]

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def take(self, indices) -> "ImageData":
        """A new dataset holding only ``indices`` (metadata kept, tensors shared where possible)."""
        indices = torch.as_tensor(np.asarray(indices), dtype=torch.long)
        out = ImageData.__new__(ImageData)
        out.__dict__.update(self.__dict__)
        out.x, out.y = self.x[indices], self.y[indices]
        return out

    def __repr__(self) -> str:
        return (f"ImageData({self.flag}/{self.split}: {len(self)} images {tuple(self.x.shape[1:])}, "
                f"{self.n_classes} classes, source={self.source})")


def _info(flag: str) -> dict:
    from medmnist import INFO

    if flag not in INFO or "3d" in flag:
        names = sorted(k for k in INFO if "3d" not in k)
        raise ValueError(f"Unknown 2D MedMNIST flag {flag!r}; choose one of: {', '.join(names)}")
    return INFO[flag]


def _filename(flag: str, size: int) -> str:
    return f"{flag}.npz" if size == 28 else f"{flag}_{size}.npz"


def search_roots() -> list[Path]:
    """Where real files are looked for, in order: $MEDMNIST_ROOT, the repo's data/, ~/.medmnist."""
    roots = []
    if os.environ.get("MEDMNIST_ROOT"):
        roots.append(Path(os.environ["MEDMNIST_ROOT"]).expanduser())
    roots += [runtime.data_cache_dir() / "medmnist", Path.home() / ".medmnist"]
    return roots


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, flag: str, size: int = 28) -> None:
    """Check the MD5 from ``medmnist.INFO`` (once per file and process)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if _VERIFIED.get(key):
        return
    expected = _info(flag).get("MD5" if size == 28 else f"MD5_{size}")
    if expected and _md5(path) != expected:
        raise DataError(
            f"{path} does not match the official MedMNIST checksum (MD5 {expected}). "
            f"It is corrupt or not the official file: delete it and run again to download it, "
            f"or replace it with the file from {_info(flag)['url' if size == 28 else f'url_{size}']}."
        )
    _VERIFIED[key] = True


def _read_split(path: Path, flag: str, split: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    info = _info(flag)
    try:
        with np.load(path) as npz:
            images, labels = npz[f"{split}_images"], npz[f"{split}_labels"]
    except KeyError as err:
        raise DataError(f"{path} has no {err} array: it is not a MedMNIST file; delete it and run again.") from err
    except Exception as err:  # zip or pickle errors of a truncated file
        raise DataError(f"{path} cannot be read ({err}); delete it and run again to download it.") from err
    expected = info["n_samples"][split]
    if images.shape[0] != expected or labels.shape[0] != expected or images.shape[1:3] != (size, size):
        raise DataError(
            f"{path}: {split} has images {images.shape} and labels {labels.shape}, expected "
            f"{expected} images of {size}x{size}. Delete the file and run again to download it."
        )
    return images, labels


def find_file(flag: str, size: int = 28) -> Path | None:
    """The first real file found in ``search_roots()``, or None."""
    for root in search_roots():
        candidate = root / _filename(flag, size)
        if candidate.is_file():
            return candidate
    return None


def download(flag: str, size: int = 28) -> Path | None:
    """Download with ``medmnist`` into the repo's data/ cache; None when offline or it fails."""
    info = _info(flag)
    host = urlparse(info["url"]).hostname or "zenodo.org"
    if not network_reachable(host):
        return None
    import medmnist

    root = runtime.data_cache_dir() / "medmnist"
    root.mkdir(parents=True, exist_ok=True)
    try:
        getattr(medmnist, info["python_class"])(split="train", root=str(root), download=True, size=size)
    except Exception as err:  # network errors come in many types; report and fall back
        runtime.warn_caller(f"Downloading {flag} from {host} failed: {err}")
        return None
    path = root / _filename(flag, size)
    return path if path.is_file() else None


def _how_to_get(flag: str, size: int) -> str:
    info = _info(flag)
    url = info["url"] if size == 28 else info[f"url_{size}"]
    roots = ", ".join(str(r) for r in search_roots())
    return (
        f"Real {flag} ({_filename(flag, size)}) was not found in: {roots}, and could not be downloaded.\n"
        f"To get it, either\n"
        f"  * download it (needs internet): python -c \"import medmnist; "
        f"medmnist.{info['python_class']}(split='train', download=True, size={size})\"\n"
        f"  * or fetch {url} by hand and put it in one of the folders above,\n"
        f"  * or point MEDMNIST_ROOT at a folder that holds it (e.g. export MEDMNIST_ROOT=/path/to/medmnist).\n"
        f"To continue with procedural stand-in images instead, unset COURSE_DATA (or set COURSE_DATA=standin)."
    )


@timed("data loading")
def load_medmnist(flag: str, split: str = "train", size: int = 28, *, download_missing: bool = True) -> ImageData:
    """Load a 2D MedMNIST split: real file, else download, else a loud procedural stand-in.

    ``COURSE_DATA=real`` makes a missing file an error with instructions; ``COURSE_DATA=standin``
    forces the stand-in (for quick experiments and tests).
    """
    info = _info(flag.lower())
    flag = flag.lower()
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if size != 28 and size not in (64, 128, 224):
        raise ValueError(f"size must be 28, 64, 128 or 224, got {size}")
    mode = data_mode()
    class_names = [info["label"][k] for k in sorted(info["label"], key=int)]
    path = None
    if mode != "standin":
        path = find_file(flag, size) or (download(flag, size) if download_missing else None)
    if path is not None:
        verify_file(path, flag, size)
        images, labels = _read_split(path, flag, split, size)
        source = "real"
    elif mode == "real":
        raise DataNotFoundError(_how_to_get(flag, size))
    else:
        if mode == "auto":
            runtime.warn_caller(
                f"STAND-IN DATA: real {flag} is not available, so the course uses procedural "
                f"stand-in images with the same shapes, classes and class proportions. They are "
                f"not patients; results on them say nothing about medicine. "
                f"See README 'Data' to get the real file.")
        images, labels = standin_images(flag, split, info, size)
        source = "stand-in"
    runtime.note_data_source(flag, source)
    return ImageData(images, labels, flag=flag, split=split, class_names=class_names,
                     task=info["task"], source=source)
