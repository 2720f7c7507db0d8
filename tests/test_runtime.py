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


def _cgroup(tmp_path, v2=None, v1=None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    if v2 is not None:
        (tmp_path / "cpu.max").write_text(v2 + "\n")
    if v1 is not None:
        (tmp_path / "cpu").mkdir()
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(f"{v1[0]}\n")
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(f"{v1[1]}\n")
    return tmp_path


@pytest.mark.parametrize("v2, v1, expected", [
    ("200000 100000", None, 2.0),      # cgroup v2, 2 CPUs
    ("50000 100000", None, 0.5),       # half a CPU (a Binder-like quota)
    ("max 100000", None, None),        # no quota
    (None, (100000, 100000), 1.0),     # cgroup v1, 1 CPU
    (None, (-1, 100000), None),        # cgroup v1, no quota
    (None, None, None),                # no cgroup files at all (macOS, Windows)
])
def test_cgroup_cpu_limit(tmp_path, v2, v1, expected):
    assert runtime._cgroup_cpu_limit(_cgroup(tmp_path, v2, v1)) == expected


def test_usable_cpus_is_capped_by_the_quota_and_never_zero(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert runtime.usable_cpus(_cgroup(tmp_path / "a", v2="100000 100000")) == 1
    assert runtime.usable_cpus(_cgroup(tmp_path / "b", v2="50000 100000")) == 1
    assert runtime.usable_cpus(_cgroup(tmp_path / "c", v2="400000 100000")) == 4
    assert runtime.usable_cpus(_cgroup(tmp_path / "d")) == 16


def test_configure_threads_follows_course_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("COURSE_THREADS", "1")
        assert runtime.configure_threads() == 1 == torch.get_num_threads()
        monkeypatch.setattr(runtime, "usable_cpus", lambda: 2)
        monkeypatch.delenv("COURSE_THREADS")
        assert runtime.configure_threads() == 2
        monkeypatch.setenv("COURSE_THREADS", "two")
        with pytest.raises(ValueError, match="COURSE_THREADS must be a whole number"):
            runtime.configure_threads()
    finally:
        torch.set_num_threads(before)


def test_banner_shows_cpu_threads(capsys):
    assert f"cpu ({torch.get_num_threads()} CPU threads)" in runtime.banner(device=torch.device("cpu"))
