"""Grades that certify the skill (DESIGN §6a): a submission that delegates an exercise to a
reference implementation, or that switches the tests off and answers wrongly, earns none of
that exercise's points.

For every module in ``tests/shortcuts/``, the solution notebook with each listed exercise
replaced is graded once per kind (``SHORTCUTS``, ``PATCHED``) by the real nbgrader pipeline in
FAST mode, all notebooks together; every test cell listed for a replacement must score zero.
"""
import copy
import importlib
import pkgutil

import nbformat
import pytest

import shortcuts
from conftest import REPO
from scripts import grading

pytestmark = pytest.mark.grading
KINDS = {"shortcut": "SHORTCUTS", "patched": "PATCHED"}
MODULES = [importlib.import_module(f"shortcuts.{info.name}") for info in pkgutil.iter_modules(shortcuts.__path__)]
REGISTRY = {(kind, module.NOTEBOOK): getattr(module, table) for module in MODULES
            for kind, table in KINDS.items() if getattr(module, table, None)}
CASES = [(kind, name, cell) for (kind, name), table in sorted(REGISTRY.items()) for cell in sorted(table)]


def replaced_submission(name: str, table: dict) -> nbformat.NotebookNode:
    """The solution notebook with every exercise in ``table`` answered by its replacement."""
    notebook = copy.deepcopy(nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4))
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    for cell_id, (source, _) in table.items():
        assert cell_id in by_id and by_id[cell_id].metadata["nbgrader"].get("solution"), \
            f"{name}: no solution cell {cell_id!r}"
        by_id[cell_id].source = source
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    names = sorted({name for _, name in REGISTRY})
    root = grading.scratch_course(tmp_path_factory.mktemp("shortcuts"), names)
    grading.release(root, names)
    for (kind, name), table in REGISTRY.items():
        folder = root / "submitted" / kind / name
        folder.mkdir(parents=True)
        nbformat.write(replaced_submission(name, table), folder / f"{name}.ipynb")
    outcomes = grading.autograde_all(root, grading.submissions(root), jobs=2)
    return root, {(o.student, o.assignment): o for o in outcomes}


def test_every_notebook_with_graded_exercises_has_shortcuts():
    """Each notebook with autograded cells registers its library shortcuts."""
    registered = {name for kind, name in REGISTRY if kind == "shortcut"}
    graded_notebooks = set()
    for name in grading.assignments():
        notebook = nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4)
        if any(c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code" for c in notebook.cells):
            graded_notebooks.add(name)
    missing = sorted(graded_notebooks - registered)
    assert not missing, f"no tests/shortcuts module for {missing}"




@pytest.mark.parametrize("kind, name, cell", CASES)
def test_a_replacement_earns_nothing(graded, kind, name, cell):
    root, outcomes = graded
    outcome = outcomes[(kind, name)]
    assert outcome.status == "graded", outcome.message
    scores = {c.grade_id: c for c in grading.scores(root, name, kind)}
    protected = REGISTRY[(kind, name)][cell][1]
    assert protected, f"{name}/{cell}: list the test cells the {kind} submission must fail"
    for test_id in protected:
        assert scores[test_id].auto and scores[test_id].max_score > 0, f"{test_id} is not an autograded test cell"
        assert scores[test_id].score == 0, f"{name}: the {kind} answer to {cell} earned {scores[test_id].score} in {test_id}"
