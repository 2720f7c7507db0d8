"""How fast does `make autograde` get through a class? Submissions per minute, measured.

    python -m benchmarks.grading [--full] [--jobs N] [--students S] [NN ...]

Builds a throwaway course (never the real gradebook), lets S students each submit the
solution of every chosen notebook, grades them all with the same code as `make autograde`
(``--full`` for full mode, ``--jobs`` at once), and prints seconds per submission and the
throughput. Every solution must score full marks: a benchmark that graded wrongly would
time the wrong thing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scripts import grading
from scripts.run_notebooks import solution_notebooks


def grade_class(notebooks: list[Path], students: int = 1, jobs: int = 1, fast: bool = True,
                sandboxed: bool = True) -> dict:
    """Grade ``students`` copies of every solution in ``notebooks``; return timings and outcomes.

    ``problems`` maps (student, assignment) to what went wrong: a failed grading or lost points.
    """
    names = [p.parent.name for p in notebooks]
    with tempfile.TemporaryDirectory() as scratch:
        root = grading.scratch_course(Path(scratch), names)
        grading.release(root, names)
        pairs = []
        for notebook in notebooks:
            for k in range(students):
                grading.submit(root, f"student{k + 1:02d}", notebook.parent.name, notebook)
                pairs.append((f"student{k + 1:02d}", notebook.parent.name))
        start = time.perf_counter()
        outcomes = grading.autograde_all(root, pairs, jobs=jobs, fast=fast, cell_timeout=120 if fast else 600,
                                         sandboxed=sandboxed)
        seconds = time.perf_counter() - start
        wrong = {(o.student, o.assignment): f"{o.status} {o.message}".strip() for o in outcomes
                 if o.status != "graded" or _lost_points(root, o)}
    per_notebook = {}
    for outcome in outcomes:
        per_notebook.setdefault(outcome.assignment, []).append(round(outcome.seconds, 1))
    return {"mode": "FAST" if fast else "full", "sandbox": sandboxed, "jobs": jobs, "students": students,
            "submissions": len(outcomes),
            "seconds": round(seconds, 1), "per_minute": round(len(outcomes) / seconds * 60, 2),
            "median_seconds_per_submission": round(statistics.median(o.seconds for o in outcomes), 1),
            "per_notebook": per_notebook, "problems": wrong}


def _lost_points(root: Path, outcome) -> bool:
    scores = grading.scores(root, outcome.assignment, outcome.student)
    return any(s.auto and (s.score or 0) < s.max_score for s in scores)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    parser.add_argument("--full", action="store_true", help="full mode instead of FAST mode")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--students", type=int, default=1)
    parser.add_argument("--unsafe-no-sandbox", action="store_true", help="measure grading without the sandbox")
    args = parser.parse_args(argv)
    sandboxed = grading.sandbox_or_stop(args.unsafe_no_sandbox)
    result = grade_class(solution_notebooks(args.notebooks), args.students, args.jobs, not args.full, sandboxed)
    print(f"{result['mode']} grading ({'sandboxed' if sandboxed else 'NO sandbox'}), JOBS={result['jobs']}: "
          f"{result['submissions']} submissions "
          f"({result['students']} student(s) x {len(result['per_notebook'])} notebooks) in {result['seconds']} s = "
          f"{result['per_minute']} submissions per minute; median {result['median_seconds_per_submission']} s each")
    print("seconds per submission: " + ", ".join(f"{k} {'/'.join(map(str, v))}" for k, v in result["per_notebook"].items()))
    for (student, assignment), problem in result["problems"].items():
        print(f"PROBLEM: {student}/{assignment}: {problem}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
