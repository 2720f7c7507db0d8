"""Where a notebook's time goes: data loading, training, evaluation, and the rest.

The library marks its own work with ``phase("training")`` and friends; ``save_results``
adds the totals to every notebook's results, so ``make bench`` can show, for each
notebook, how much of its wall time each phase took. Time is counted *exclusively*:
when a phase runs inside another (a data batch fetched during training), the inner
phase's seconds are taken out of the outer one, so the phases add up to at most the
notebook's wall time. Whatever no phase claims is the notebook's own code and plots.
"""
from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter

PHASES = ("data loading", "training", "evaluation")

_seconds: Counter = Counter()
_stack: list[list] = []  # [phase, time the phase was last resumed]


@contextlib.contextmanager
def phase(name: str):
    """Count the block's wall seconds towards ``name`` (exclusive of nested phases)."""
    if name not in PHASES:
        raise ValueError(f"unknown phase {name!r}; use one of {PHASES}")
    now = time.perf_counter()
    if _stack:
        outer = _stack[-1]
        _seconds[outer[0]] += now - outer[1]
    _stack.append([name, now])
    try:
        yield
    finally:
        now = time.perf_counter()
        _seconds[name] += now - _stack.pop()[1]
        if _stack:
            _stack[-1][1] = now


def timed(name: str):
    """Decorator form of ``phase``: every call of the function counts towards ``name``."""
    def wrap(function):
        @functools.wraps(function)
        def inner(*args, **kwargs):
            with phase(name):
                return function(*args, **kwargs)
        return inner
    return wrap


def timed_iter(name: str, iterable):
    """Yield from ``iterable``, counting only the time spent fetching each item towards ``name``."""
    iterator = iter(iterable)
    while True:
        with phase(name):
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


def seconds_by_phase() -> dict[str, float]:
    """Seconds spent so far in this process, per phase (every phase listed, rounded to 0.1 s)."""
    return {name: round(float(_seconds[name]), 1) for name in PHASES}


def reset() -> None:
    """Forget the totals (tests; a notebook keeps one process for one run)."""
    _seconds.clear()
    _stack.clear()
