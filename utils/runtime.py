"""The run's settings in one place: FAST mode, device, seeds, and where files live.

Every notebook starts with ``banner()`` so a student (and a grader) can see at a
glance which device ran the work, whether FAST mode was on, and whether the data
was real or a stand-in.
"""
from __future__ import annotations

import os
import random
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from utils.profiling import seconds_by_phase

_TRUE = {"1", "true", "yes", "on"}
_DEVICES = ("cuda", "mps", "cpu")


def is_fast() -> bool:
    """FAST mode (``COURSE_FAST=1``): tiny epochs and subsets so tests and grading finish in seconds."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in _TRUE


def pick(fast, full):
    """Return ``fast`` in FAST mode and ``full`` otherwise (epochs, subset sizes, ...)."""
    return fast if is_fast() else full


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def get_device(prefer: str | None = None) -> torch.device:
    """Choose the device: ``prefer``, else ``$COURSE_DEVICE``, else cuda > mps > cpu.

    Asking for a device this machine lacks is an error that says what is available,
    rather than a silent fall back to a much slower run.
    """
    wanted = (prefer or os.environ.get("COURSE_DEVICE", "")).strip().lower()
    available = {"cuda": torch.cuda.is_available(), "mps": _mps_available(), "cpu": True}
    if wanted:
        kind = wanted.split(":")[0]
        if kind not in _DEVICES:
            raise ValueError(
                f"Unknown device {wanted!r}: use one of {', '.join(_DEVICES)} "
                "(set COURSE_DEVICE or pass prefer=...)."
            )
        if not available[kind]:
            have = ", ".join(d for d in _DEVICES if available[d])
            raise RuntimeError(
                f"Device {wanted!r} was requested but is not available on this machine "
                f"(available: {have}). Unset COURSE_DEVICE or set it to one of those."
            )
        return torch.device(wanted)
    for kind in _DEVICES:
        if available[kind]:
            return torch.device(kind)
    return torch.device("cpu")  # pragma: no cover - cpu is always available


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a torch Generator seeded the same.

    cuDNN autotuning is switched off so that a rerun with the same seed gives the same
    numbers on the same machine.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def _cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this container in CPUs (Binder, Docker, JupyterHub limits), or None.

    cgroup v2 says it in ``cpu.max`` ("200000 100000" = 2 CPUs, "max 100000" = none),
    cgroup v1 in ``cpu/cpu.cfs_quota_us`` (-1 = none) over ``cpu/cpu.cfs_period_us``.
    """
    for quota_file, period_file in ((root / "cpu.max", None),
                                    (root / "cpu" / "cpu.cfs_quota_us", root / "cpu" / "cpu.cfs_period_us")):
        try:
            fields = quota_file.read_text().split()
            if period_file is not None:
                fields.append(period_file.read_text().strip())
            quota, period = fields[0], float(fields[1])
        except (OSError, IndexError, ValueError):
            continue
        if quota in ("max", "-1") or period <= 0:
            return None
        return float(quota) / period
    return None


def usable_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may really use: its CPU affinity, capped by the container's quota.

    ``os.cpu_count()`` reports the host's cores: on Binder that can be 16 or more for a
    container allowed one CPU, and torch would start one busy thread per host core.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    limit = _cgroup_cpu_limit(cgroup_root)
    if limit is not None:
        cpus = min(cpus, int(limit))
    return max(1, cpus)


def configure_threads() -> int:
    """Give torch one CPU thread per usable CPU (``COURSE_THREADS=N`` overrides); return the count.

    More threads than usable CPUs is the costly mistake: torch's threads wait on each other
    at every operation, and a training step can become many times slower (see
    ``python -m benchmarks.speedups``). ``import utils`` calls this once; parallel grading
    sets ``COURSE_THREADS`` so that its kernels share the machine's CPUs.
    """
    wanted = os.environ.get("COURSE_THREADS", "").strip()
    if wanted and not (wanted.isdigit() and int(wanted) >= 1):
        raise ValueError(f"COURSE_THREADS must be a whole number >= 1, got {wanted!r}")
    torch.set_num_threads(int(wanted) if wanted else usable_cpus())
    return torch.get_num_threads()


def warn_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn from the first caller outside ``utils/`` (the student's cell or script), however
    many library functions and wrappers lie in between, so the warning names their line."""
    package = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 2
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def repo_root() -> Path:
    """The course's root folder (the one holding ``utils/``)."""
    return Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Where trained feature extractors and other reusable artefacts are cached."""
    path = Path(os.environ.get("COURSE_CACHE", repo_root() / "build" / "cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir() -> Path:
    """Where notebooks write their key results as JSON (collected by the benchmarks)."""
    path = Path(os.environ.get("COURSE_RESULTS", repo_root() / "build" / "results"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_cache_dir() -> Path:
    """The repo's own data cache (``data/``, never committed)."""
    return repo_root() / "data"


def banner(data_source: str | None = None, device: torch.device | None = None) -> str:
    """Print and return the one-line run summary every notebook shows at the top."""
    device = device or get_device()
    mode = "FAST (COURSE_FAST=1: tiny runs for tests)" if is_fast() else "full"
    where = f"{device} ({torch.get_num_threads()} CPU threads)" if device.type == "cpu" else str(device)
    parts = [f"device: {where}", f"mode: {mode}", f"torch {torch.__version__}"]
    if data_source is not None:
        label = data_source
        if data_source == "stand-in":
            label = "STAND-IN (procedural images, not real patients; see utils.data)"
        parts.append(f"data: {label}")
    line = " | ".join(parts)
    print(line)
    return line


_DATA_SOURCES: dict[str, str] = {}


def note_data_source(name: str, source: str) -> None:
    """Record that dataset ``name`` came from ``source`` ("real" or "stand-in").

    ``utils.plots`` reads this so every figure drawn in a run that used stand-in data
    carries a visible "stand-in data" mark, even if the notebook forgets to say so.
    """
    if source not in ("real", "stand-in"):
        raise ValueError(f"source must be 'real' or 'stand-in', got {source!r}")
    _DATA_SOURCES[name] = source


def data_sources() -> dict[str, str]:
    """The datasets this process has loaded so far, with their source."""
    return dict(_DATA_SOURCES)


def any_standin() -> bool:
    """True when any dataset loaded in this process is a procedural stand-in."""
    return "stand-in" in _DATA_SOURCES.values()


def save_results(notebook: str, results: dict, seconds: float | None = None) -> "Path":
    """Write a notebook's key results to ``build/results/<notebook>.json`` for the benchmarks.

    Device, mode and data sources are added so that every number says where it came from,
    and the seconds the library spent per phase (``utils.profiling``) so the benchmark can
    show where the time went.
    """
    import json

    record = {"notebook": notebook, "device": str(get_device()), "fast": is_fast(),
              "data_sources": data_sources(),
              "data_source": "stand-in" if any_standin() else ("real" if _DATA_SOURCES else "none"),
              "seconds": None if seconds is None else round(seconds, 1),
              "seconds_by_phase": seconds_by_phase(), **results}
    path = results_dir() / f"{notebook}.json"
    path.write_text(json.dumps(record, indent=2, default=float))
    return path
