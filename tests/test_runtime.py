"""utils.runtime: FAST mode, device choice, seeding, banner, data-source bookkeeping."""
import numpy as np
import pytest
import torch

from utils import runtime


@pytest.mark.parametrize("value, fast", [("1", True), ("true", True), ("0", False), ("", False)])
def test_fast_mode_follows_the_environment(monkeypatch, value, fast):
    monkeypatch.setenv("COURSE_FAST", value)
    assert runtime.is_fast() is fast
    assert runtime.pick("small", "big") == ("small" if fast else "big")


def test_device_defaults_to_cpu_here_and_can_be_forced(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.get_device().type in (expected, "mps")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert runtime.get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_missing_device_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="not available.*COURSE_DEVICE"):
        runtime.get_device()


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown device 'tpu'"):
        runtime.get_device("tpu")


def test_seed_everything_makes_runs_repeat():
    runtime.seed_everything(7)
    first = (torch.randn(3), np.random.rand(3))
    runtime.seed_everything(7)
    second = (torch.randn(3), np.random.rand(3))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    generator = runtime.seed_everything(7)
    assert torch.equal(torch.randn(3, generator=generator), torch.randn(3, generator=runtime.seed_everything(7)))
    with pytest.raises(ValueError, match="non-negative int"):
        runtime.seed_everything(-1)


def test_banner_names_device_mode_and_source(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    line = runtime.banner("real", device=torch.device("cpu"))
    assert "device: cpu" in line and "FAST" in line and "data: real" in line
    assert line in capsys.readouterr().out
    assert "STAND-IN" in runtime.banner("stand-in", device=torch.device("cpu"))


def test_data_sources_are_recorded(monkeypatch):
    monkeypatch.setattr(runtime, "_DATA_SOURCES", {})
    runtime.note_data_source("breastmnist", "real")
    assert not runtime.any_standin()
    runtime.note_data_source("dermamnist", "stand-in")
    assert runtime.any_standin() and runtime.data_sources() == {"breastmnist": "real", "dermamnist": "stand-in"}
    with pytest.raises(ValueError, match="source must be"):
        runtime.note_data_source("x", "synthetic")


def test_folders_follow_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    assert runtime.results_dir().is_dir() and runtime.cache_dir().is_dir()
    assert (runtime.repo_root() / "utils" / "runtime.py").is_file()
