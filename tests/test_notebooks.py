"""Every notebook through the real nbgrader pipeline, in FAST mode.

For each assignment: the solution notebook, submitted as a student's work, runs clean and
scores full marks; the unmodified student notebook scores zero on every autograded cell;
and ``course/`` is exactly what ``nbgrader generate_assignment`` makes from ``solutions/``.
All submissions are graded once, two at a time, by the same driver as ``make autograde``.
"""
import json
import re

import nbformat
import pytest

from scripts import grading
from conftest import REPO

ASSIGNMENTS = grading.assignments()
STUDENTS = {"solution": lambda name: REPO / "solutions" / name / f"{name}.ipynb",
            "blank": lambda name: REPO / "course" / name / f"{name}.ipynb"}
pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A scratch course root (never the real gradebook) with every submission autograded."""
    root = grading.scratch_course(tmp_path_factory.mktemp("course"))
    grading.release(root)
    for name in ASSIGNMENTS:
        for student, path in STUDENTS.items():
            grading.submit(root, student, name, path(name))
    outcomes = grading.autograde_all(root, grading.submissions(root), jobs=2)
    return root, {(o.student, o.assignment): o for o in outcomes}


def _scores(graded, student, name):
    root, outcomes = graded
    outcome = outcomes[(student, name)]
    assert outcome.status == "graded", f"autograde of the {student} notebook failed: {outcome.message}"
    return grading.scores(root, name, student)


def _error_outputs(notebook_path):
    notebook = nbformat.read(notebook_path, as_version=4)
    errors = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append(f"{output['ename']}: {output['evalue']}\n{cell.source[:300]}")
    return errors


def test_there_are_notebooks():
    assert ASSIGNMENTS, "no notebooks in solutions/"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_runs_clean_and_scores_full(graded, name):
    cells = _scores(graded, "solution", name)
    errors = _error_outputs(graded[0] / "autograded" / "solution" / name / f"{name}.ipynb")
    assert not errors, "the solution notebook raised:\n" + "\n\n".join(errors)
    auto = [c for c in cells if c.auto]
    assert auto, "no autograded cells"
    short = {c.grade_id: (c.score, c.max_score) for c in auto if c.score != c.max_score}
    assert not short, f"solution lost points: {short}"
    if name != "00-setup":
        assert sum(c.max_score for c in auto) >= 3, "at least 3 autograded points per notebook after 00"


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
