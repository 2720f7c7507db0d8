"""The nbgrader steps of the course, as functions the Makefile and the tests share.

Every step shells out to the real ``nbgrader`` command line in a course root (the repo, or
a scratch copy in tests), so what is tested is what instructors run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NBGRADER = [sys.executable, "-m", "nbgrader"]


def assignments(root: Path = REPO) -> list[str]:
    """Assignment names (``NN-topic``) found in ``solutions/``, in course order."""
    return sorted(p.name for p in (root / "solutions").glob("[0-9][0-9]-*") if (p / f"{p.name}.ipynb").is_file())


def nbgrader(root: Path, *args: str, env: dict | None = None, timeout: int | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in ``root``; raise with its output when it fails."""
    # nbgrader runs the `alembic` executable of its own environment to set up the gradebook.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    result = subprocess.run([*NBGRADER, *args], cwd=root, env={**os.environ, "PATH": path, **(env or {})},
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def release(root: Path = REPO, names: list[str] | None = None) -> None:
    """Regenerate ``course/`` from ``solutions/`` (solutions and hidden tests stripped)."""
    for name in names or assignments(root):
        nbgrader(root, "generate_assignment", name, "--force")


def scratch_course(target: Path, names: list[str] | None = None) -> Path:
    """A throwaway course root (config + chosen solutions) so tests never touch the real gradebook."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", target / "nbgrader_config.py")
    for name in names or assignments(REPO):
        shutil.copytree(REPO / "solutions" / name, target / "solutions" / name, dirs_exist_ok=True)
    return target


def submit(root: Path, student: str, name: str, notebook: Path) -> Path:
    """Place ``notebook`` as ``student``'s submission of assignment ``name``."""
    folder = root / "submitted" / student / name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.ipynb"
    shutil.copy(notebook, target)
    return target


@dataclass
class CellScore:
    grade_id: str
    score: float | None
    max_score: float
    auto: bool


def autograde(root: Path, name: str, student: str = "*", fast: bool = True, cell_timeout: int = 120) -> None:
    """Autograde one assignment for one student (or all, with the glob ``*``)."""
    env = {"COURSE_FAST": "1" if fast else "0", "COURSE_CELL_TIMEOUT": str(cell_timeout), "MPLBACKEND": "Agg"}
    nbgrader(root, "autograde", name, "--student", student, "--force", env=env)


def scores(root: Path, name: str, student: str) -> list[CellScore]:
    """Per-cell grades of one submission, read from the gradebook."""
    from nbgrader.api import Gradebook

    url = "sqlite:///" + str(root / "gradebook.db")
    with Gradebook(url) as gradebook:
        submission = gradebook.find_submission_notebook(name, name, student)
        return [CellScore(g.name, g.score, g.max_score, g.auto_score is not None) for g in submission.grades]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="nbgrader steps of the course")
    sub = parser.add_subparsers(dest="step", required=True)
    rel = sub.add_parser("release", help="regenerate course/ from solutions/")
    rel.add_argument("names", nargs="*", help="assignments (default: all)")
    args = parser.parse_args(argv)
    if args.step == "release":
        names = args.names or assignments()
        release(REPO, names)
        print(f"released {len(names)} assignment(s) into course/: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
