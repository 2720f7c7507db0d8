"""The nbgrader steps of the course, as functions the Makefile and the tests share.

Every step shells out to the real ``nbgrader`` command line in a course root (the repo, or
a scratch copy in tests), so what is tested is what instructors run.
"""
from __future__ import annotations

import csv
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from scripts import sandbox

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


@dataclass
class Outcome:
    """What happened to one submission: "graded", or why it could not be."""

    student: str
    assignment: str
    status: str
    seconds: float
    message: str = ""


def _limit_memory(gigabytes: float):
    """Cap the data segment of nbgrader and the kernel it starts, so a memory bomb fails alone."""
    def apply() -> None:
        limit = int(gigabytes * 2**30)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    return apply


def _failure_reason(output: str) -> str:
    for marker, reason in (("DeadKernelError", "the kernel died (crash, os._exit or out of memory)"),
                           ("NotJSONError", "the notebook file is not valid JSON"),
                           ("Notebook does not appear to be JSON", "the notebook file is not valid JSON"),
                           ("ValidationError", "the notebook is not a valid Jupyter notebook"),
                           ("MemoryError", "ran out of its memory limit")):
        if marker in output:
            return reason
    exceptions = re.findall(r"^\s*([\w.]+(?:Error|Exception): .*)$", output, flags=re.MULTILINE)
    return exceptions[-1].strip()[:300] if exceptions else output.strip()[-300:]


def _locked(output: str) -> bool:
    """A clash with a parallel grading job on the gradebook (a lock, or both adding the same
    student at once): worth one more try."""
    return "database is locked" in output or "UNIQUE constraint failed" in output


def autograde(root: Path, name: str, student: str = "*", fast: bool = True, cell_timeout: int = 120,
              memory_gb: float = 4.0, timeout: int | None = None, threads: int | None = None,
              sandboxed: bool = True, disk_mb: int = sandbox.Limits.disk_mb) -> Outcome:
    """Autograde one submission (or all of an assignment with the glob ``*``), never hanging.

    The per-cell timeout cuts infinite loops, the memory limit stops memory bombs, and the
    overall ``timeout`` (default: 20 cells' worth) is the last line of defence. A failure is
    returned as an Outcome, not raised, so a batch goes on to the next submission.
    ``threads`` sets the grading kernel's torch CPU threads (``COURSE_THREADS``).
    ``sandboxed`` runs the kernel in bubblewrap (scripts/sandbox.py); without bwrap it raises
    SandboxUnavailable rather than grade unprotected.
    """
    # Each submission gets its own cache and results folders: one student's trained generator
    # or results must never be read while grading another's (or another run at the same time).
    private = root / "build" / "grading" / student.replace("*", "all") / name
    env = {**os.environ, "COURSE_FAST": "1" if fast else "0", "COURSE_CELL_TIMEOUT": str(cell_timeout),
           "COURSE_CACHE": str(private / "cache"), "COURSE_RESULTS": str(private / "results"),
           "MPLBACKEND": "Agg", "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    if threads is not None:
        env["COURSE_THREADS"] = str(threads)
    command = [*NBGRADER, "autograde", name, "--student", student, "--force"]
    timeout = timeout or 20 * cell_timeout
    with tempfile.TemporaryDirectory(prefix="grading-kernel-") as runtime:
        if sandboxed:
            limits = sandbox.Limits(memory_gb, cpu_seconds=timeout, disk_mb=disk_mb)
            command = [*sandbox.around_nbgrader(Path(runtime)), *command,
                       *_sandbox_options(private, Path(runtime), env, limits)]
        return _run_autograde(command, root, env, name, student, timeout, memory_gb)


def _run_autograde(command: list[str], root: Path, env: dict, name: str, student: str, timeout: int,
                   memory_gb: float) -> Outcome:
    """Run one nbgrader autograde command; retry once after a gradebook lock clash."""
    start = time.perf_counter()
    for attempt in range(2):
        try:
            result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                                    timeout=timeout, preexec_fn=_limit_memory(memory_gb))
        except subprocess.TimeoutExpired:
            return Outcome(student, name, "failed", time.perf_counter() - start, "grading timed out")
        output = result.stdout + result.stderr
        if not _locked(output):
            break
    seconds = time.perf_counter() - start
    if result.returncode != 0 or "There was an error processing" in output:
        return Outcome(student, name, "failed", seconds, _failure_reason(output))
    return Outcome(student, name, "graded", seconds)


def _sandbox_options(private: Path, runtime: Path, env: dict, limits: sandbox.Limits) -> list[str]:
    """nbgrader options (and ``env`` changes) that start the kernel through scripts/sandbox.py.

    The kernel spec and the ``runtime`` folder (connection file and IPC sockets: no TCP port;
    a short path, as a socket's path must stay under 108 bytes) are this submission's alone;
    nbgrader runs with a 1 MB tmpfs there (sandbox.around_nbgrader).
    """
    sandbox.write_kernelspec(private / "jupyter", limits)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(private / "jupyter"), env.get("JUPYTER_PATH")]))
    return [f"--Execute.kernel_name={sandbox.KERNEL_NAME}", "--KernelManager.transport=ipc",
            f"--KernelManager.connection_file={runtime / 'kernel.json'}", f"--KernelManager.ip={runtime / 'kernel'}"]


def scores(root: Path, name: str, student: str) -> list[CellScore]:
    """Per-cell grades of one submission, read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(_db_url(root)) as gradebook:
        submission = gradebook.find_submission_notebook(name, name, student)
        return [CellScore(g.name, g.score, g.max_score, g.auto_score is not None) for g in submission.grades]


def _db_url(root: Path) -> str:
    return "sqlite:///" + str(root / "gradebook.db")


def submissions(root: Path, assignment: str | None = None, student: str | None = None) -> list[tuple[str, str]]:
    """(student, assignment) pairs found in ``submitted/``, optionally filtered."""
    pairs = []
    for folder in sorted((root / "submitted").glob("*/*")):
        if folder.is_dir() and (assignment in (None, "", folder.name)) and (student in (None, "", folder.parent.name)):
            pairs.append((folder.parent.name, folder.name))
    return pairs


def threads_per_job(jobs: int) -> int | None:
    """CPU threads for each of ``jobs`` parallel grading kernels: the usable CPUs shared out,
    so kernels never oversubscribe the machine. None (the course default) for one job or
    when the instructor set ``COURSE_THREADS``."""
    if jobs <= 1 or os.environ.get("COURSE_THREADS"):
        return None
    from utils.runtime import usable_cpus

    return max(1, usable_cpus() // jobs)


def autograde_all(root: Path, pairs: list[tuple[str, str]], jobs: int = 1, **options) -> list[Outcome]:
    """Grade every (student, assignment), ``jobs`` at a time; print one line per submission."""
    threads = threads_per_job(jobs)

    def grade(pair):
        outcome = autograde(root, pair[1], pair[0], threads=threads, **options)
        print(f"{outcome.status:<7} {outcome.student:<20} {outcome.assignment:<34} {outcome.seconds:6.1f} s"
              + (f"  {outcome.message}" if outcome.message else ""), flush=True)
        return outcome

    if jobs > 1:
        _allow_concurrent_writers(root)
        _add_students(root, sorted({student for student, _ in pairs}))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(grade, pairs))


def _add_students(root: Path, students: list[str]) -> None:
    """Create the students up front, so parallel jobs do not race to add the same one."""
    from nbgrader.api import Gradebook

    with Gradebook(_db_url(root)) as gradebook:
        for student in students:
            gradebook.update_or_create_student(student)


def _allow_concurrent_writers(root: Path) -> None:
    """Switch the SQLite gradebook to write-ahead logging (it stays so in the file).

    In SQLite's default mode, one grading job's open read transaction (held while its
    notebook runs) blocks another job's commit until it gives up with "database is locked".
    """
    database = root / "gradebook.db"
    if database.is_file():
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA journal_mode=WAL")


def _remember(root: Path, outcomes: list[Outcome]) -> dict:
    """Merge these outcomes into build/autograde-outcomes.json, so reruns of one student keep the rest."""
    path = root / "build" / "autograde-outcomes.json"
    known = json.loads(path.read_text()) if path.is_file() else {}
    known.update({f"{o.student}/{o.assignment}": asdict(o) for o in outcomes})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1))
    return known


def export_grades(root: Path, outcomes: list[Outcome] | None = None, target: Path | None = None) -> Path:
    """One CSV row per submission: score, max score, and why it failed if it did."""
    from nbgrader.api import Gradebook, MissingEntry

    known = _remember(root, outcomes or [])
    failures = {tuple(k.split("/", 1)): v["message"] for k, v in known.items() if v["status"] != "graded"}
    target = target or root / "build" / "grades.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with Gradebook(_db_url(root)) as gradebook:
        for student, name in submissions(root):
            try:
                submission = gradebook.find_submission(name, student)
                score, max_score = submission.score, submission.max_score
            except MissingEntry:
                score, max_score = 0.0, None
            status = "failed" if (student, name) in failures else "graded"
            rows.append([student, name, round(score or 0.0, 2), max_score, status, failures.get((student, name), "")])
    with open(target, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "score", "max_score", "status", "message"])
        writer.writerows(rows)
    return target


def feedback(root: Path, pairs: list[tuple[str, str]]) -> list[Path]:
    """HTML feedback (hidden tests redacted, see utils.grading_hooks) for graded submissions."""
    made = []
    for student, name in pairs:
        if not (root / "autograded" / student / name).is_dir():
            continue
        nbgrader(root, "generate_feedback", name, "--student", student, "--force")
        made += sorted((root / "feedback" / student / name).glob("*.html"))
    return made


UNSAFE_BANNER = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! UNSAFE: grading WITHOUT the sandbox (UNSAFE_NO_SANDBOX=1 / --unsafe-no-sandbox).          !!
!! The notebooks run with your rights: they can read solutions/ and the hidden tests, change !!
!! gradebook.db and other students' work, and use the network. Only for notebooks you trust !!
!! (your own solutions), never for student submissions.                                     !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


def sandbox_or_stop(unsafe: bool) -> bool:
    """True to grade sandboxed; with ``unsafe``, False after a loud banner. Raises
    SandboxUnavailable (with how to install bubblewrap) when the sandbox cannot run."""
    if unsafe:
        print(UNSAFE_BANNER, file=sys.stderr, flush=True)
        return False
    sandbox.check()
    return True


def _grading_options(parser) -> None:
    parser.add_argument("--full", action="store_true", help="full mode instead of FAST mode")
    parser.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell (default 120 FAST, 600 full)")
    parser.add_argument("--memory-gb", type=float, default=4.0, help="memory limit of each grading kernel")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run student code unsandboxed, with your rights (trusted notebooks only)")


def _parser():
    import argparse

    parser = argparse.ArgumentParser(description="nbgrader steps of the course")
    sub = parser.add_subparsers(dest="step", required=True)
    rel = sub.add_parser("release", help="regenerate course/ from solutions/")
    rel.add_argument("names", nargs="*", help="assignments (default: all)")
    for step in ("autograde", "feedback"):
        one = sub.add_parser(step, help=f"{step} submissions in submitted/<student>/<assignment>/")
        one.add_argument("--assignment", default="", help="only this assignment")
        one.add_argument("--student", default="", help="only this student")
        if step == "autograde":
            _grading_options(one)
            one.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    one = sub.add_parser("grade-one", help="grade one submission in a scratch course; write the result as JSON")
    one.add_argument("--student", required=True)
    one.add_argument("--assignment", required=True)
    one.add_argument("--notebook", type=Path, help="the submission (default: submitted/<student>/<assignment>/)")
    one.add_argument("--out", type=Path, required=True, help="the result file, e.g. results/alice-03-dcgan.json")
    _grading_options(one)
    merge = sub.add_parser("merge", help="record grade-one results in the gradebook, autograded/ and build/grades.csv")
    merge.add_argument("results", nargs="+", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.step == "release":
        names = args.names or assignments()
        release(REPO, names)
        print(f"released {len(names)} assignment(s) into course/: {', '.join(names)}")
        return 0
    if args.step == "merge":
        from scripts import batch_grading

        outcomes = batch_grading.merge(REPO, args.results)
        print(f"merged {len(outcomes)} result(s); grades: {export_grades(REPO, outcomes)}")
        return 0
    if args.step in ("autograde", "grade-one"):
        try:
            sandboxed = sandbox_or_stop(args.unsafe_no_sandbox)
        except sandbox.SandboxUnavailable as error:
            print(f"Not grading: {error}", file=sys.stderr)
            return 2
        options = dict(fast=not args.full, cell_timeout=args.cell_timeout or (600 if args.full else 120),
                       memory_gb=args.memory_gb, sandboxed=sandboxed)
    if args.step == "grade-one":
        from scripts import batch_grading

        notebook = args.notebook or REPO / "submitted" / args.student / args.assignment / f"{args.assignment}.ipynb"
        result = batch_grading.grade_one(args.student, args.assignment, notebook, args.out, **options)
        print(f"{result['status']} {args.student}/{args.assignment} in {result['seconds']:.1f} s: {args.out}")
        return 0
    pairs = submissions(REPO, args.assignment, args.student)
    if not pairs:
        print("No submissions found in submitted/<student>/<assignment>/ (collect them first).")
        return 0
    if args.step == "autograde":
        start = time.perf_counter()
        outcomes = autograde_all(REPO, pairs, jobs=args.jobs, **options)
        minutes = (time.perf_counter() - start) / 60
        failed = sum(o.status != "graded" for o in outcomes)
        print(f"graded {len(outcomes) - failed}/{len(outcomes)} submissions in {minutes:.1f} min "
              f"({len(outcomes) / max(minutes, 1e-9):.1f} per minute, jobs={args.jobs}); grades: {export_grades(REPO, outcomes)}")
    else:
        made = feedback(REPO, pairs)
        print(f"wrote {len(made)} feedback file(s) under feedback/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
