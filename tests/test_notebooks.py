"""Every notebook through the real nbgrader pipeline, in FAST mode, and the notebook contract.

The solution notebooks themselves are executed by nbval, one pytest item per cell
(``pytest`` collects ``solutions/``, see conftest.py), which also scores each test cell by
nbgrader's rule, so a solution that would lose points fails at the cell that loses them.
Here, the unmodified student notebook of every assignment is autograded by the same driver
as ``make autograde`` and must score zero; ``course/`` must be exactly what ``nbgrader
generate_assignment`` makes from ``solutions/``; and the points are where they should be.
(One solution, 00-setup, is also graded through nbgrader end to end: tests/test_grading.py.)
"""
import json
import re

import nbformat
import pytest
from nbgrader.utils import is_grade, is_solution

from scripts import grading
from scripts.nbval_outputs import is_checked
from conftest import REPO

ASSIGNMENTS = grading.assignments()
pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A scratch course root (never the real gradebook) with every blank release autograded."""
    root = grading.scratch_course(tmp_path_factory.mktemp("course"))
    grading.release(root)
    for name in ASSIGNMENTS:
        grading.submit(root, "blank", name, REPO / "course" / name / f"{name}.ipynb")
    outcomes = grading.autograde_all(root, grading.submissions(root), jobs=2)
    return root, {(o.student, o.assignment): o for o in outcomes}


def _scores(graded, student, name):
    root, outcomes = graded
    outcome = outcomes[(student, name)]
    assert outcome.status == "graded", f"autograde of the {student} notebook failed: {outcome.message}"
    return grading.scores(root, name, student)


def test_there_are_notebooks():
    assert ASSIGNMENTS, "no notebooks in solutions/"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_autograded_points(name):
    """nbval checks that the solution earns every autograded point; here, that there are some."""
    notebook = nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4)
    points = sum(c.metadata.nbgrader.points for c in notebook.cells if is_grade(c) and not is_solution(c))
    assert points > 0, "no autograded cells"
    if name != "00-setup":
        assert points >= 3, "at least 3 autograded points per notebook after 00"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_only_output_checked_cells_store_outputs(name):
    """nbval compares a tagged cell with its saved output, and silently skips one saved without it."""
    notebook = nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4)
    for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        if is_checked(cell):
            assert cell.outputs and cell.execution_count, \
                f"Cell {number} is output-checked but holds no expected output: make expected-outputs NOTEBOOKS={name}"
        else:
            assert not cell.outputs, f"Cell {number} holds outputs: commit solutions without them"


def test_sanitizers_blank_what_changes_between_runs():
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((REPO / "tests" / "nbval-sanitize.cfg").read_text())

    def sanitize(text):
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    assert sanitize("<Net object at 0x7f3a2c1d5e80>") == "<Net object at 0xADDRESS>"
    assert sanitize("saved /tmp/nbval-x1/03-dcgan/results/03-dcgan.json") == "saved /PATH"
    assert sanitize("trained in 12.3 s (0:01:05), 850 ms per step") == "trained in TIME (TIME), TIME per step"
    assert sanitize("device: cpu (2 CPU threads)") == "device: cpu (N CPU threads)"
    kept = "kernel 3: output (14, 14), 542,275 parameters; 59 to 1; 11.0%  melanoma; see utils/data.py"
    assert sanitize(kept) == kept


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_unmodified_release_scores_zero(graded, name):
    cells = _scores(graded, "blank", name)
    credited = {c.grade_id: c.score for c in cells if c.auto and c.score}
    assert not credited, f"the blank student notebook earned points: {credited}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_release_matches_nbgrader_output(graded, name):
    committed = REPO / "course" / name / f"{name}.ipynb"
    assert committed.is_file(), f"{committed.relative_to(REPO)} is missing: run `make release`"
    generated = nbformat.read(graded[0] / "course" / name / f"{name}.ipynb", as_version=4)
    ours = nbformat.read(committed, as_version=4)
    strip = lambda nb: [(c.cell_type, c.source, json.dumps(c.metadata.get("nbgrader", {}), sort_keys=True))
                        for c in nb.cells]
    assert strip(ours) == strip(generated), "course/ is stale: run `make release` and commit"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_leaks_no_solution_or_hidden_test(name):
    text = (REPO / "course" / name / f"{name}.ipynb").read_text()
    assert not re.search(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS", text)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebook_contract(name):
    """A parameters cell with DATA_FLAG (image notebooks) or TABLE, EPOCHS, SEED; results saved."""
    notebook = nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4)
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1, "exactly one papermill parameters cell"
    source = parameters[0].source
    assert "EPOCHS" in source and "SEED" in source
    assert "DATA_FLAG" in source or "TABLE" in source
    assert any(f'save_results("{name}"' in c.source for c in notebook.cells)
    assert "Time budget" in notebook.cells[0].source
