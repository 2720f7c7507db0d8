"""Grading beyond one machine: one sandboxed grader per submission, then one merge.

A batch engine (a Slurm array task or a Kubernetes Job per student, see
docs/grading-at-scale.md) runs ``python -m scripts.grading grade-one`` for each notebook: it
grades in a scratch course of its own (own gradebook, own hidden tests, the kernel in the
sandbox) and writes one JSON result. ``python -m scripts.grading merge results/*.json`` then
records every result in the course's gradebook with nbgrader's own SaveAutoGrades, so that
``make feedback`` and Formgrader work as after ``make autograde``.
"""
from __future__ import annotations

import json
import re
import tempfile
from dataclasses import asdict, fields
from pathlib import Path

from scripts import grading

NAME = re.compile(r"[A-Za-z0-9][\w.@+-]*")  # a student or assignment id that is safe as a folder name


def grade_one(student: str, assignment: str, notebook: Path, out: Path, **options) -> dict:
    """Grade ``notebook`` as ``student``'s submission of ``assignment``; write and return the result
    (the Outcome's fields, the autograded score, and the graded notebook as text).

    ``options`` go to grading.autograde (fast, cell_timeout, memory_gb, sandboxed, ...).
    """
    _check_name(student), _check_name(assignment)
    if not notebook.is_file():
        raise FileNotFoundError(f"No submission at {notebook}: pass --notebook PATH")
    with tempfile.TemporaryDirectory(prefix="grade-one-") as scratch:
        root = grading.scratch_course(Path(scratch), [assignment])
        grading.release(root, [assignment])  # the scratch gradebook learns the cells and hidden tests
        grading.submit(root, student, assignment, notebook)
        outcome = grading.autograde(root, assignment, student, **options)
        graded = root / "autograded" / student / assignment / f"{assignment}.ipynb"
        result = {**asdict(outcome), "score": None, "max_score": None, "notebook": None}
        if outcome.status == "graded" and graded.is_file():
            cells = [c for c in grading.scores(root, assignment, student) if c.auto]
            result.update(score=sum(c.score or 0 for c in cells), max_score=sum(c.max_score for c in cells),
                          notebook=graded.read_text())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result))
    return result


def merge(root: Path, results: list[Path]) -> list[grading.Outcome]:
    """Record grade-one results in ``root``'s gradebook and ``autograded/``; return the outcomes.

    The assignment must be in the gradebook (``make release`` puts it there). Results are
    trusted: keep the folder they are written to out of students' reach.
    """
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.preprocessors import SaveAutoGrades

    url = grading._db_url(root)
    outcomes = []
    for path in results:
        result = json.loads(path.read_text())
        outcome = grading.Outcome(**{f.name: result[f.name] for f in fields(grading.Outcome)})
        student, name = _check_name(outcome.student), _check_name(outcome.assignment)
        outcomes.append(outcome)
        if result.get("notebook") is None:
            continue
        with Gradebook(url) as gradebook:
            try:
                gradebook.find_assignment(name)
            except MissingEntry:
                raise ValueError(f"{path}: assignment {name} is not in {root / 'gradebook.db'}: run "
                                 f"`make release ASSIGNMENTS={name}` in the course root first") from None
            gradebook.update_or_create_student(student)
            try:
                gradebook.find_submission(name, student)
            except MissingEntry:
                gradebook.add_submission(name, student)
        notebook = nbformat.reads(result["notebook"], as_version=4)
        folder = root / "autograded" / student / name
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / f"{name}.ipynb")
        resources = {"nbgrader": {"notebook": name, "assignment": name, "student": student, "db_url": url}}
        SaveAutoGrades().preprocess(notebook, resources)
    return outcomes


def _check_name(name: str) -> str:
    if not NAME.fullmatch(name or "") or ".." in name:
        raise ValueError(f"{name!r} is not a valid student or assignment id (letters, digits, _ . @ + -)")
    return name
