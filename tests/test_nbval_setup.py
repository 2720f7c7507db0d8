"""How pytest runs notebooks (conftest.py, pyproject.toml): a scratch notebook, run by nbval in
a child pytest, gets the test kernel's settings, nbgrader's scoring rule and the sanitizers.

The notebook lies in the repository's build/ (ignored by git), as the repository's
conftest.py applies only to notebooks inside the repository.
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from conftest import REPO

pytestmark = pytest.mark.notebooks


def _graded(grade_id, source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 1,
                                 "grade_id": grade_id, "schema_version": 3}
    return cell


def _checked(source, stored):
    cell = nbformat.v4.new_code_cell(source, execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", name="stdout", text=stored)])
    cell.metadata["tags"] = ["nbval-check-output"]
    return cell


CELLS = {
    "PASSED: the kernel runs as a test kernel": nbformat.v4.new_code_cell(
        "import os\nassert os.environ['COURSE_FAST'] == '1' and os.environ['MPLBACKEND'] == 'Agg'\n"
        "assert os.path.basename(os.environ['COURSE_RESULTS']) == 'results' and 'nbval-' in os.environ['COURSE_RESULTS']"),
    "PASSED: a clean test cell": _graded("clean", "assert 1 + 1 == 2"),
    "FAILED: a test cell that warns scores 0": _graded("warns", "import warnings\nwarnings.warn('careful')"),
    "FAILED: a test cell that returns a number scores it": _graded("partial", "0.5"),
    "FAILED: a cell that raises": nbformat.v4.new_code_cell("1 / 0"),
    "PASSED: addresses and paths are sanitized": _checked(
        "print(f'{object()!r} in {os.getcwd()}')", "<object object at 0x7f0011223344> in /elsewhere/build\n"),
    "FAILED: other output differences are not": _checked("print(59)", "58\n"),
}


def test_nbval_runs_notebooks_as_the_tests_intend():
    (REPO / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=REPO / "build") as folder:
        path = Path(folder) / "scratch.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=list(CELLS.values())), path)
        run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--color=no", "-rA", str(path)],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
    outcomes = {int(n): status for status, n in re.findall(r"^(PASSED|FAILED) \S+::Cell (\d+)", run.stdout, re.M)}
    expected = {n: label.split(":")[0] for n, label in enumerate(CELLS)}
    assert outcomes == expected, run.stdout[-3000:]
    assert "nbgrader would score this test cell 0 of 1 points" in run.stdout
    assert "nbgrader would score this test cell 0.5 of 1 points" in run.stdout
    assert "Cell 4: Cell execution caused an exception" in run.stdout and "ZeroDivisionError" in run.stdout
    assert "Cell 6: Cell outputs differ" in run.stdout
