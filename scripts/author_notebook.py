"""Turn a percent-format draft into an nbgrader source notebook in solutions/.

    python -m scripts.author_notebook draft.py solutions/03-dcgan/03-dcgan.ipynb

Writing JSON by hand is error-prone; a draft is plain Python with cell markers:

    # %% [markdown]              a markdown cell (each line starts with "# ")
    # %%                         an ordinary code cell
    # %% [parameters]            the papermill parameters cell
    # %% [solution id=NAME]      code the student writes (### BEGIN/END SOLUTION inside)
    # %% [tests id=NAME points=N]  a locked, autograded test cell
    # %% [readonly id=NAME]        locked code students see but cannot change (test fixtures)
    # %% [answer id=NAME points=N] a manually graded written answer (markdown)
    # %% [task id=NAME points=N]   a manually graded task description (markdown)

The notebook in solutions/ is the source of truth afterwards; edit it in JupyterLab or
regenerate it from the draft.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

MARKER = re.compile(r"^# %%(?:\s*\[(\w+)([^\]]*)\])?\s*$")
KINDS = {"markdown", "parameters", "solution", "tests", "readonly", "answer", "task"}


def _options(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def _markdown(lines: list[str]) -> str:
    return "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0, task=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if grade or task:
        meta["points"] = points
    return {"nbgrader": meta}


def make_cell(kind: str, options: dict[str, str], lines: list[str]):
    """One notebook cell with the nbgrader metadata its kind needs."""
    body = "\n".join(lines).strip("\n")
    grade_id = options.get("id", "")
    points = float(options.get("points", 0))
    if kind == "markdown":
        return nbformat.v4.new_markdown_cell(_markdown(lines).strip("\n"))
    if kind == "parameters":
        return nbformat.v4.new_code_cell(body, metadata={"tags": ["parameters"]})
    if kind == "solution":
        return nbformat.v4.new_code_cell(body, metadata=_nbgrader(grade_id, grade=False, solution=True, locked=False))
    if kind == "tests":
        return nbformat.v4.new_code_cell(body, metadata=_nbgrader(grade_id, grade=True, solution=False,
                                                                 locked=True, points=points))
    if kind == "readonly":
        return nbformat.v4.new_code_cell(body, metadata=_nbgrader(grade_id, grade=False, solution=False, locked=True))
    if kind == "answer":
        return nbformat.v4.new_markdown_cell(_markdown(lines).strip("\n"),
                                             metadata=_nbgrader(grade_id, grade=True, solution=True,
                                                                locked=False, points=points))
    if kind == "task":
        return nbformat.v4.new_markdown_cell(_markdown(lines).strip("\n"),
                                             metadata=_nbgrader(grade_id, grade=False, solution=False,
                                                                locked=True, points=points, task=True))
    return nbformat.v4.new_code_cell(body)


def parse(text: str) -> nbformat.NotebookNode:
    """Split the draft at cell markers and build the notebook."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    kind, options, lines, ids = None, {}, [], set()
    for raw in text.splitlines() + ["# %%"]:
        match = MARKER.match(raw)
        if not match:
            lines.append(raw)
            continue
        if kind is not None or any(line.strip() for line in lines):
            notebook.cells.append(make_cell(kind or "code", options, lines))
        kind, options, lines = match.group(1), _options(match.group(2) or ""), []
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown cell kind [{kind}] in draft; use one of {sorted(KINDS)}")
        if kind in ("solution", "tests", "readonly", "answer", "task"):
            if "id" not in options:
                raise ValueError(f"[{kind}] cell needs id=NAME")
            if options["id"] in ids:
                raise ValueError(f"duplicate cell id {options['id']!r}")
            ids.add(options["id"])
    notebook.cells = [c for c in notebook.cells if c.source.strip()]
    return notebook


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    draft, target = Path(argv[0]), Path(argv[1])
    notebook = parse(draft.read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    print(f"wrote {target} ({len(notebook.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
