"""Shared test fixtures. The data policy (offline, real files when ../shared has them) is
set for every pytest run, notebooks included, by the repository's top-level conftest.py."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def real_medmnist_root() -> Path | None:
    root = os.environ.get("MEDMNIST_ROOT")
    return Path(root) if root and (Path(root) / "breastmnist.npz").is_file() else None


@pytest.fixture
def empty_data_env(tmp_path, monkeypatch):
    """No real file anywhere: an empty MEDMNIST_ROOT, HOME and repo data cache."""
    from utils import runtime

    monkeypatch.setenv("MEDMNIST_ROOT", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.delenv("COURSE_DATA_ROOT", raising=False)
    monkeypatch.setattr(runtime, "data_cache_dir", lambda: tmp_path / "repo-data")
    return tmp_path


@pytest.fixture
def clean_figures_and_sources():
    """No figures or recorded data sources leak from one test into the next."""
    import matplotlib.pyplot as plt

    from utils import runtime

    saved = dict(runtime._DATA_SOURCES)
    runtime._DATA_SOURCES.clear()
    yield
    plt.close("all")
    runtime._DATA_SOURCES.clear()
    runtime._DATA_SOURCES.update(saved)
