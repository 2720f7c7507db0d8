"""Set-up for every pytest run: the data policy, and how nbval runs the solution notebooks.

``pytest`` (``make test``) collects ``solutions/*/*.ipynb`` with nbval (options in
pyproject.toml): one item per code cell, run in order in one kernel per notebook, so a
broken cell is reported by number, source and traceback. Each notebook's kernel runs in
FAST mode with cache and results folders of its own (``scripts.nbval_outputs.kernel_env``).
"""
import os
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from nbformat import NotebookNode
from nbval.plugin import IPyNbCell, NbCellError

from scripts.nbval_outputs import kernel_env

REPO = Path(__file__).resolve().parent
SHARED_DATA = REPO.parent / "shared" / "data"

# Tests never wait on a network: the download paths are exercised with monkeypatches.
os.environ.setdefault("COURSE_OFFLINE", "1")
if (SHARED_DATA / "medmnist").is_dir():
    os.environ.setdefault("MEDMNIST_ROOT", str(SHARED_DATA / "medmnist"))
if SHARED_DATA.is_dir():
    os.environ.setdefault("COURSE_DATA_ROOT", str(SHARED_DATA))

_SCRATCH = pytest.StashKey[tempfile.TemporaryDirectory]()


def pytest_configure(config):
    config.stash[_SCRATCH] = tempfile.TemporaryDirectory(prefix="nbval-")


def pytest_unconfigure(config):
    if _SCRATCH in config.stash:
        config.stash[_SCRATCH].cleanup()


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, IPyNbCell):
            item.add_marker(pytest.mark.notebooks)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """Start each notebook's kernel (nbval does so with its first cell) with the test settings."""
    if not isinstance(item, IPyNbCell) or item.parent.kernel is not None:
        return (yield)
    scratch = Path(item.config.stash[_SCRATCH].name) / item.parent.path.stem
    with mock.patch.dict(os.environ, kernel_env(scratch)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Score each autograded test cell by nbgrader's own rule: the solution earns full points.

    nbval fails a cell only when it raises; nbgrader also gives zero for stderr output (a
    warning, a progress bar) and partial credit for a number as the cell's result.
    """
    result = yield
    if not isinstance(item, IPyNbCell):
        return result
    from nbgrader.utils import determine_grade, is_grade, is_solution  # here: nbgrader takes seconds to import

    if is_grade(item.cell) and not is_solution(item.cell):
        score, points = determine_grade(NotebookNode({**item.cell, "outputs": item.test_outputs}))
        if score < points:
            printed = "".join(o.get("text", "") or str(o.get("data", "")) for o in item.test_outputs)
            raise NbCellError(item.cell_num, f"nbgrader would score this test cell {score:g} of {points:g} "
                              f"points, as it wrote to stderr or returned a number. Its output:\n{printed}",
                              item.cell.source)
    return result
