"""Assertions for notebook test cells that a submission cannot talk its way past.

The references below are taken when this module is first imported (in each notebook's
setup cell, before any student code runs), so a submission that later rebinds
``torch.allclose`` or ``numpy.allclose`` does not change what the tests compare with.
Failures say what was expected, so the visible tests also teach. ``forbid`` makes a graded
answer that delegates to a reference implementation fail (DESIGN §6a).
"""
from __future__ import annotations

import contextlib
import math
import sys

import numpy as np
import torch

_np_asarray = np.asarray
_np_allclose = np.allclose
_np_isfinite = np.isfinite
_torch_tensor = torch.Tensor
_isclose = math.isclose


def _as_array(value) -> np.ndarray:
    if isinstance(value, _torch_tensor):
        value = value.detach().cpu().numpy()
    return _np_asarray(value, dtype=float)


def expect_close(actual, expected, tol: float = 1e-5, what: str = "value") -> None:
    """Assert ``actual`` equals ``expected`` within ``tol`` (absolute and relative)."""
    got, want = _as_array(actual), _as_array(expected)
    if got.shape != want.shape:
        raise AssertionError(f"{what}: expected shape {want.shape}, got {got.shape}")
    if not bool(_np_isfinite(got).all()):
        raise AssertionError(f"{what}: got non-finite numbers {got}")
    if not _np_allclose(got, want, atol=tol, rtol=tol):
        raise AssertionError(f"{what}: expected {want.round(6).tolist()}, got {got.round(6).tolist()}")


def expect_shape(tensor, shape: tuple, what: str = "output") -> None:
    """Assert a tensor's shape, naming both shapes on failure."""
    got = tuple(getattr(tensor, "shape", ()))
    if got != tuple(shape):
        raise AssertionError(f"{what}: expected shape {tuple(shape)}, got {got}")


def expect_true(condition, message: str) -> None:
    """An assert that survives ``python -O`` and says what went wrong."""
    if not bool(condition):
        raise AssertionError(message)


class _Tripwire:
    """Stands in for a reference implementation while a student's answer is tested."""

    def __init__(self, name: str):
        self.name, self.fired = name, False

    def __call__(self, *args, **kwargs):
        self.fired = True
        raise AssertionError(f"delegation: this exercise must be written by you, not by calling {self.name}")


def _qualified_name(reference) -> str:
    if isinstance(reference, tuple):
        owner, attribute = reference
        return f"{getattr(owner, '__qualname__', owner)}.{attribute}"
    module = getattr(reference, "__module__", "") or ""
    return f"{module}.{getattr(reference, '__qualname__', repr(reference))}".lstrip(".")


def _bindings_of(reference, namespace) -> list[tuple[dict, str]]:
    """Every module attribute (and name in ``namespace``) bound to ``reference`` itself."""
    found = []
    for module in list(sys.modules.values()):
        names = getattr(module, "__dict__", None)
        if isinstance(names, dict):
            found += [(names, key) for key, value in list(names.items()) if value is reference]
    if namespace is not None:
        found += [(namespace, key) for key, value in list(namespace.items()) if value is reference]
    return found


@contextlib.contextmanager
def forbid(*references, namespace: dict | None = None):
    """Make calling any of ``references`` fail while the block runs: a graded answer that
    delegates to the course's (or a library's) reference implementation earns nothing.

    A reference is a function or class (found by identity under every module attribute and
    every name in ``namespace``, so aliases are caught too) or an ``(owner, "attribute")``
    pair for a method. Every binding is restored afterwards; if a tripwire fired, the block
    fails even when the answer swallowed the error.
    """
    swaps, wires = [], []
    try:
        for reference in references:
            wire = _Tripwire(_qualified_name(reference))
            wires.append(wire)
            if isinstance(reference, tuple):
                owner, attribute = reference
                swaps.append((owner, attribute, owner.__dict__[attribute], True))
                setattr(owner, attribute, wire)
                continue
            for names, key in _bindings_of(reference, namespace):
                swaps.append((names, key, reference, False))
                names[key] = wire
        yield
    finally:
        for target, key, original, is_attribute in reversed(swaps):
            if is_attribute:
                setattr(target, key, original)
            else:
                target[key] = original
    fired = [w.name for w in wires if w.fired]
    if fired:
        raise AssertionError(f"delegation: this exercise must be written by you, not by calling {', '.join(fired)}")
