"""Assertions for notebook test cells that a submission cannot talk its way past.

A graded notebook runs the student's code and the tests in one Python process, so a
submission could try to switch the tests off by rebinding what they call. Three defences:

* every helper compares with references taken when this module is first imported (in each
  notebook's setup cell, before any student code runs), not with ``numpy.allclose`` & co.;
* every helper first checks that nothing it or the tests rely on was rebound (builtins such as
  ``isinstance`` and ``abs``, numpy, torch, math and scikit-learn functions, this module's own
  helpers) and fails the test cell if something was, naming it;
* this module is read-only: ``checks.expect_close = ...`` raises.

Failures say what was expected, so the visible tests also teach. ``forbid`` makes a graded
answer that delegates to a reference implementation fail (DESIGN §6a).
"""
from __future__ import annotations

import builtins
import contextlib
import math
import sys
import types

import numpy as np
import sklearn.metrics
import torch
import torch._dynamo  # noqa: F401  importing it rebinds torch.manual_seed (the first optimizer step would, later)

# What the tests (and these helpers) rely on: (namespace, names) whose rebinding is tampering.
_WATCHED = (
    (builtins, ("isinstance", "issubclass", "float", "int", "bool", "abs", "len", "round", "sum", "min", "max",
                "all", "any", "type", "callable", "hasattr", "getattr", "range", "zip", "sorted", "list", "tuple",
                "dict", "set", "str", "repr", "AssertionError", "ValueError")),
    (np, ("allclose", "isclose", "isnan", "isfinite", "isinf", "asarray", "array", "array_equal", "all", "any",
          "abs", "sum", "mean", "std", "unique", "bincount", "round")),
    (torch, ("allclose", "isclose", "equal", "isnan", "isfinite", "is_tensor", "tensor", "as_tensor", "Tensor",
             "all", "any", "abs", "no_grad", "manual_seed")),
    (torch.Tensor, ("allclose", "equal", "isnan", "item", "tolist", "detach", "numpy", "cpu", "__eq__", "__bool__",
                    "__float__", "backward")),
    (math, ("isnan", "isclose", "isfinite", "isinf", "log", "log1p", "exp", "sqrt")),
    (sklearn.metrics, ("roc_auc_score", "accuracy_score", "confusion_matrix", "balanced_accuracy_score")),
)
_ORIGINALS = {(space, name): getattr(space, name) for space, names in _WATCHED for name in names}
_np_asarray = np.asarray
_np_allclose = np.allclose
_np_isfinite = np.isfinite
_torch_tensor = torch.Tensor
_isinstance, _len, _tuple, _bool, _getattr = isinstance, len, tuple, bool, getattr
_ACTIVE_TRIPWIRES: list = []  # set by ``forbid`` while a block runs: sanctioned, not tampering


def _where(space) -> str:
    return _getattr(space, "__name__", repr(space))


def tampered() -> list[str]:
    """Names that a submission rebound since the tests' references were taken (empty: none)."""
    found = [f"{_where(space)}.{name}" for (space, name), original in _ORIGINALS.items()
             if _getattr(space, name, None) is not original
             and _getattr(space, name, None) not in _ACTIVE_TRIPWIRES]
    module = sys.modules.get(__name__)
    for name, original in _OWN.items():
        if module is None or module.__dict__.get(name) is not original:
            found.append(f"utils.checks.{name}")
    package = sys.modules.get("utils")
    if package is not None and package.__dict__.get("checks", module) is not module:
        found.append("utils.checks (the module itself)")
    return found


def _guard() -> None:
    rebound = tampered()
    if rebound:
        raise AssertionError("the tests' helpers were tampered with (" + ", ".join(rebound) + " rebound): "
                             "graded tests compare with the real functions. Remove the rebinding, restart the "
                             "kernel and run all cells.")


def _as_array(value) -> np.ndarray:
    if _isinstance(value, _torch_tensor):
        value = value.detach().cpu().numpy()
    return _np_asarray(value, dtype=float)


def expect_close(actual, expected, tol: float = 1e-5, what: str = "value") -> None:
    """Assert ``actual`` equals ``expected`` within ``tol`` (absolute and relative)."""
    _guard()
    got, want = _as_array(actual), _as_array(expected)
    if got.shape != want.shape:
        raise AssertionError(f"{what}: expected shape {want.shape}, got {got.shape}")
    if not _bool(_np_isfinite(got).all()):
        raise AssertionError(f"{what}: got non-finite numbers {got}")
    if not _np_allclose(got, want, atol=tol, rtol=tol):
        raise AssertionError(f"{what}: expected {want.round(6).tolist()}, got {got.round(6).tolist()}")


def expect_shape(tensor, shape: tuple, what: str = "output") -> None:
    """Assert a tensor's shape, naming both shapes on failure."""
    _guard()
    got = _tuple(_getattr(tensor, "shape", ()))
    if got != _tuple(shape):
        raise AssertionError(f"{what}: expected shape {tuple(shape)}, got {got}")


def expect_true(condition, message: str) -> None:
    """An assert that survives ``python -O`` and says what went wrong."""
    _guard()
    if not _bool(condition):
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
    _guard()
    swaps, wires = [], []
    try:
        for reference in references:
            wire = _Tripwire(_qualified_name(reference))
            wires.append(wire)
            _ACTIVE_TRIPWIRES.append(wire)
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
        for wire in wires:
            _ACTIVE_TRIPWIRES.remove(wire)
        for target, key, original, is_attribute in reversed(swaps):
            if is_attribute:
                setattr(target, key, original)
            else:
                target[key] = original
    fired = [w.name for w in wires if w.fired]
    if fired:
        raise AssertionError(f"delegation: this exercise must be written by you, not by calling {', '.join(fired)}")


class _ReadOnlyModule(types.ModuleType):
    """This module's type once loaded: its helpers cannot be replaced from a notebook."""

    def __setattr__(self, name, value):
        raise AttributeError(f"utils.checks is read-only in graded notebooks (tried to replace {name!r})")

    def __delattr__(self, name):
        raise AttributeError(f"utils.checks is read-only in graded notebooks (tried to delete {name!r})")


_OWN = {name: value for name, value in dict(globals()).items()
        if name in ("expect_close", "expect_shape", "expect_true", "forbid", "tampered", "_guard")}
sys.modules[__name__].__class__ = _ReadOnlyModule
