"""Store the expected output of the solution cells nbval compares, and the tests' kernel setting.

    python -m scripts.nbval_outputs [NN ...]      (make expected-outputs NOTEBOOKS="00")

Solution notebooks are committed without outputs, except the cells tagged
``nbval-check-output``: nbval (``make test``, ``make check``) compares a marked cell's
new output with the one saved in the notebook, through the sanitizers in
tests/nbval-sanitize.cfg. This runs each notebook as the tests do, copies the outputs of
the marked cells (only) into the solution notebook and writes it back. Review the diff.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbval.plugin import find_comment_markers, find_metadata_tags

from scripts.run_notebooks import solution_notebooks


def kernel_env(scratch: Path) -> dict[str, str]:
    """Settings of a test kernel, on top of the caller's environment: FAST mode and no display,
    as a grading kernel (scripts.grading.autograde), with cache and results under ``scratch``
    so that a notebook neither reads another's artefacts nor writes into the repository."""
    return {"COURSE_FAST": "1", "MPLBACKEND": "Agg",
            "COURSE_CACHE": str(scratch / "cache"), "COURSE_RESULTS": str(scratch / "results")}


def is_checked(cell) -> bool:
    """Whether nbval compares this cell's output (tag ``nbval-check-output`` or ``# NBVAL_CHECK_OUTPUT``)."""
    markers = {**dict(find_metadata_tags(cell.metadata)), **dict(find_comment_markers(cell.source))}
    return cell.cell_type == "code" and markers.get("check", False)


def store_outputs(path: Path, cell_timeout: int = 300) -> int:
    """Execute ``path`` as the tests do and keep the outputs of its checked cells only.

    Returns how many cells are checked; the notebook is left unchanged when none is.
    """
    notebook = nbformat.read(path, as_version=4)
    if not any(is_checked(c) for c in notebook.cells):
        return 0
    executed = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="nbval-outputs-") as scratch:
        client = NotebookClient(executed, timeout=cell_timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute(env={**os.environ, **kernel_env(Path(scratch))})
    for cell, ran in zip(notebook.cells, executed.cells):
        if cell.cell_type == "code":
            checked = is_checked(cell)
            cell.outputs = ran.outputs if checked else []
            cell.execution_count = ran.execution_count if checked else None
    nbformat.write(notebook, path)
    return sum(is_checked(c) for c in notebook.cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    args = parser.parse_args(argv)
    notebooks = solution_notebooks(args.notebooks)
    if not notebooks:
        print(f"No solution notebook matches {args.notebooks}: see solutions/.")
        return 1
    for path in notebooks:
        print(f"{path.stem:<34} {store_outputs(path)} checked cell(s) stored", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
