"""utils.profiling: exclusive per-phase seconds, driven by a fake clock (no timing flakes)."""
import json

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from utils import profiling, runtime
from utils.train import train_classifier


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(profiling.time, "perf_counter", fake)
    profiling.reset()
    yield fake
    profiling.reset()


def test_nested_phase_is_taken_out_of_the_outer_one(clock):
    with profiling.phase("training"):
        clock.advance(2)
        with profiling.phase("data loading"):
            clock.advance(3)
        clock.advance(5)
    clock.advance(100)  # outside every phase: the notebook's own code
    assert profiling.seconds_by_phase() == {"data loading": 3.0, "training": 7.0, "evaluation": 0.0}


def test_decorator_and_iterator_count_only_their_own_time(clock):
    @profiling.timed("evaluation")
    def evaluate():
        clock.advance(4)
        return "done"

    def slow_batches():
        for i in range(3):
            clock.advance(1)
            yield i

    consumed = []
    for item in profiling.timed_iter("data loading", slow_batches()):
        clock.advance(10)  # the caller's work on each batch is not data loading
        consumed.append(item)
    assert consumed == [0, 1, 2]
    assert evaluate() == "done"
    assert profiling.seconds_by_phase() == {"data loading": 3.0, "training": 0.0, "evaluation": 4.0}


def test_an_exception_still_closes_the_phase(clock):
    with pytest.raises(RuntimeError):
        with profiling.phase("training"):
            clock.advance(2)
            raise RuntimeError("boom")
    with profiling.phase("evaluation"):
        clock.advance(1)
    assert profiling.seconds_by_phase()["training"] == 2.0
    assert profiling.seconds_by_phase()["evaluation"] == 1.0


def test_unknown_phase_is_refused():
    with pytest.raises(ValueError, match="unknown phase"):
        with profiling.phase("plotting"):
            pass


def test_library_training_is_split_into_training_and_data_loading():
    profiling.reset()
    data = TensorDataset(torch.randn(64, 4), torch.randint(0, 2, (64,)))
    model = torch.nn.Linear(4, 2)
    train_classifier(model, DataLoader(data, batch_size=8), epochs=2, progress=False, device="cpu")
    spent = profiling._seconds
    assert spent["training"] > 0 and spent["data loading"] > 0
    assert spent["evaluation"] == 0
    profiling.reset()


def test_save_results_reports_the_phases(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path))
    with profiling.phase("evaluation"):
        clock.advance(1.25)
    saved = json.loads(runtime.save_results("99-test", {"x": 1}).read_text())
    assert saved["seconds_by_phase"] == {"data loading": 0.0, "training": 0.0, "evaluation": 1.2}
    assert saved["x"] == 1
