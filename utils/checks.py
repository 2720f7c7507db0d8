"""Assertions for notebook test cells that a submission cannot talk its way past.

The references below are taken when this module is first imported (in each notebook's
setup cell, before any student code runs), so a submission that later rebinds
``torch.allclose`` or ``numpy.allclose`` does not change what the tests compare with.
Failures say what was expected, so the visible tests also teach.
"""
from __future__ import annotations

import math

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
