"""The grading pipeline against broken and hostile submissions, with the real nbgrader CLI.

Notebook 00 is the sample (cheapest to execute). Every hostile submission must be graded
without hanging and without credit, and must not stop the submissions after it.
"""
import copy
import csv
import json

import nbformat
import pytest

from scripts import grading
from conftest import REPO

pytestmark = pytest.mark.grading
NAME = "00-setup"
WRONG = "def class_proportions(labels, n_classes):\n    return [1.0 / n_classes] * n_classes\n"


def _solution():
    return nbformat.read(REPO / "solutions" / NAME / f"{NAME}.ipynb", as_version=4)


def _cells(notebook, kind):
    flag = {"solution": "solution", "test": "grade"}[kind]
    return [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get(flag)]


def _variant(edit):
    notebook = copy.deepcopy(_solution())
    edit(notebook)
    return notebook


def _set_solution(source):
    return lambda nb: setattr(_cells(nb, "solution")[0], "source", source)


def _delete_tests(solution_source=None):
    def edit(nb):
        if solution_source is not None:
            _cells(nb, "solution")[0].source = solution_source
        nb.cells = [c for c in nb.cells if c not in _cells(nb, "test")]
    return edit


def _edit_tests(nb):
    _cells(nb, "solution")[0].source = WRONG
    for cell in _cells(nb, "test"):
        cell.source = "pass  # tests removed by the student"


SUBMISSIONS = {
    "solution": _variant(lambda nb: None),
    "wrong": _variant(_set_solution(WRONG)),
    "infinite_loop": _variant(_set_solution("while True:\n    pass")),
    "kernel_crash": _variant(_set_solution("import os\nos._exit(1)")),
    "memory_bomb": _variant(_set_solution("hoard = []\nwhile True:\n    hoard.append(bytearray(10**8))")),
    "edited_tests": _variant(_edit_tests),
    "deleted_tests_wrong": _variant(_delete_tests(WRONG)),
    "deleted_tests_right": _variant(_delete_tests()),
    "rebinds_helpers": _variant(_set_solution(
        "import numpy, torch\nfrom utils import checks\n"
        "numpy.allclose = lambda *a, **k: True\ntorch.allclose = lambda *a, **k: True\n"
        "expect_close = lambda *a, **k: None\n" + WRONG)),
}
EXPECTED_SCORE = {"solution": 1.0, "deleted_tests_right": 1.0}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = grading.scratch_course(tmp_path_factory.mktemp("hostile"), [NAME])
    grading.release(root, [NAME])
    for student, notebook in SUBMISSIONS.items():
        folder = root / "submitted" / student / NAME
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{NAME}.ipynb")
    malformed = root / "submitted" / "malformed" / NAME
    malformed.mkdir(parents=True)
    (malformed / f"{NAME}.ipynb").write_text('{"cells": [ this is not json')
    pairs = grading.submissions(root)
    outcomes = grading.autograde_all(root, pairs, jobs=2, cell_timeout=15, memory_gb=3.0)
    return root, {o.student: o for o in outcomes}


def _score(root, student):
    return sum(c.score or 0 for c in grading.scores(root, NAME, student) if c.auto)


def test_every_submission_was_processed(graded):
    root, outcomes = graded
    assert set(outcomes) == set(SUBMISSIONS) | {"malformed"}
    assert all(o.seconds < 180 for o in outcomes.values()), {s: o.seconds for s, o in outcomes.items()}


@pytest.mark.parametrize("student", sorted(SUBMISSIONS))
def test_hostile_submissions_get_no_credit(graded, student):
    root, outcomes = graded
    expected = EXPECTED_SCORE.get(student, 0.0)
    if outcomes[student].status == "graded":
        assert _score(root, student) == expected
    else:
        assert expected == 0.0, f"{student} should have been graded: {outcomes[student].message}"


def test_crash_and_malformed_are_reported_not_fatal(graded):
    root, outcomes = graded
    assert outcomes["kernel_crash"].status == "failed"
    assert "kernel died" in outcomes["kernel_crash"].message
    assert outcomes["malformed"].status == "failed" and "JSON" in outcomes["malformed"].message
    assert outcomes["solution"].status == "graded" and outcomes["infinite_loop"].status == "graded"


def test_grades_export_lists_every_submission(graded):
    root, outcomes = graded
    rows = {r["student"]: r for r in csv.DictReader(open(grading.export_grades(root, list(outcomes.values()))))}
    assert set(rows) == set(outcomes)
    assert float(rows["solution"]["score"]) == 1.0
    assert rows["kernel_crash"]["status"] == "failed" and float(rows["kernel_crash"]["score"]) == 0.0


def test_regrading_with_force_keeps_the_gradebook_consistent(graded):
    root, _ = graded
    again = grading.autograde(root, NAME, "solution", cell_timeout=30)
    assert again.status == "graded" and _score(root, "solution") == 1.0
    from nbgrader.api import Gradebook

    with Gradebook(grading._db_url(root)) as gradebook:
        assert len(gradebook.find_assignment(NAME).submissions) == len(SUBMISSIONS) + 1


def test_feedback_does_not_reveal_hidden_tests(graded):
    root, _ = graded
    made = grading.feedback(root, [("wrong", NAME), ("solution", NAME)])
    assert len(made) == 2
    hidden = _cells(_solution(), "test")[0].source.split("### BEGIN HIDDEN TESTS")[1]
    secrets = ["BEGIN HIDDEN TESTS", "a torch tensor of labels", "trailing empty classes"]
    assert all(s in hidden for s in secrets[1:])
    for page in made:
        html = page.read_text()
        for secret in secrets:
            assert secret not in html, f"{page.name} reveals {secret!r}"
    assert "Hidden tests are not shown" in made[0].read_text()


def test_parallel_jobs_share_the_cpus(graded, monkeypatch):
    root, _ = graded
    # "wrong" was graded only by the parallel run ("solution" is regraded alone by another test).
    graded_notebook = nbformat.read(root / "autograded" / "wrong" / NAME / f"{NAME}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in graded_notebook.cells if c.cell_type == "code" for o in c.outputs)
    assert f"({grading.threads_per_job(2)} CPU threads)" in printed
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.setattr("utils.runtime.usable_cpus", lambda: 8)
    assert [grading.threads_per_job(j) for j in (1, 2, 3, 16)] == [None, 4, 2, 1]
    monkeypatch.setenv("COURSE_THREADS", "3")
    assert grading.threads_per_job(4) is None  # the instructor's setting wins
