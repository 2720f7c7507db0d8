"""Grades that certify the skill: a submission that delegates an exercise to a reference
implementation earns none of that exercise's points (DESIGN §6a).

For every module in ``tests/shortcuts/``, the solution notebook with each listed exercise
replaced by its shortcut is graded once by the real nbgrader pipeline (FAST mode); every
test cell listed for a shortcut must score zero.
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
REGISTRY = {module.NOTEBOOK: module.SHORTCUTS
            for module in (importlib.import_module(f"shortcuts.{info.name}")
                           for info in pkgutil.iter_modules(shortcuts.__path__))}
CASES = [(name, cell) for name, table in sorted(REGISTRY.items()) for cell in sorted(table)]


def shortcut_submission(name: str, table: dict) -> nbformat.NotebookNode:
    """The solution notebook with every exercise in ``table`` answered by its shortcut."""
    notebook = copy.deepcopy(nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4))
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    for cell_id, (source, _) in table.items():
        assert cell_id in by_id and by_id[cell_id].metadata["nbgrader"].get("solution"), \
            f"{name}: no solution cell {cell_id!r}"
        by_id[cell_id].source = source
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = grading.scratch_course(tmp_path_factory.mktemp("shortcuts"), sorted(REGISTRY))
    grading.release(root, sorted(REGISTRY))
    for name, table in REGISTRY.items():
        folder = root / "submitted" / "shortcut" / name
        folder.mkdir(parents=True)
        nbformat.write(shortcut_submission(name, table), folder / f"{name}.ipynb")
    outcomes = grading.autograde_all(root, grading.submissions(root), jobs=2)
    return root, {o.assignment: o for o in outcomes}


@pytest.mark.parametrize("name, cell", CASES)
def test_a_shortcut_earns_nothing(graded, name, cell):
    root, outcomes = graded
    assert outcomes[name].status == "graded", outcomes[name].message
    scores = {c.grade_id: c for c in grading.scores(root, name, "shortcut")}
    protected = REGISTRY[name][cell][1]
    assert protected, f"{name}/{cell}: list the test cells the shortcut must fail"
    for test_id in protected:
        assert scores[test_id].auto and scores[test_id].max_score > 0, f"{test_id} is not an autograded test cell"
        assert scores[test_id].score == 0, f"{name}: the shortcut for {cell} earned {scores[test_id].score} in {test_id}"
