"""Execute the solution notebooks headless, one process each, and print one line per notebook.

    python -m scripts.run_notebooks [--fast] [NN ...]

Executed copies go to ``build/executed/``, figures and results to ``build/`` (the notebooks
write ``build/results/NN-topic.json``). Each run is watched from outside: wall seconds, CPU
seconds and peak resident memory of the whole process tree (papermill and its kernel).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent


@dataclass
class RunRecord:
    notebook: str
    ok: bool
    seconds: float
    cpu_seconds: float
    peak_mb: float
    error: str = ""


def solution_notebooks(selected: list[str] | None = None) -> list[Path]:
    """Solution notebooks in course order, optionally only those whose number or name is given."""
    found = sorted((REPO / "solutions").glob("[0-9][0-9]-*/[0-9][0-9]-*.ipynb"))
    if selected:
        found = [p for p in found if any(p.stem.startswith(s) or p.stem == s for s in selected)]
    return found


def _watch(process: subprocess.Popen, interval: float = 0.2) -> tuple[float, float]:
    """Poll until the process exits: (peak RSS of the kernel tree in MB, CPU seconds of the kernel tree).

    Only the kernel and its children count (what a student's machine or Binder must hold);
    papermill's own process is the harness, not the course.
    """
    root = psutil.Process(process.pid)
    peak, cpu = 0.0, {}
    while process.poll() is None:
        try:
            tree = root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        rss = 0
        for proc in tree:
            try:
                rss += proc.memory_info().rss
                times = proc.cpu_times()
                cpu[proc.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                continue
        peak = max(peak, rss / 2**20)
        time.sleep(interval)
    return peak, sum(cpu.values())


def run_one(notebook: Path, fast: bool, parameters: dict | None = None, timeout: int = 1800) -> RunRecord:
    """Execute one notebook with papermill in its own folder and measure it."""
    out = REPO / "build" / "executed" / notebook.name
    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, COURSE_FAST="1" if fast else "0")
    command = [sys.executable, "-m", "papermill", str(notebook), str(out), "--cwd", str(notebook.parent),
               "--no-progress-bar", "--log-level", "ERROR", "--execution-timeout", str(timeout)]
    for key, value in (parameters or {}).items():
        command += ["-p", key, str(value)]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, cpu = _watch(process)
    output = process.communicate()[0]
    seconds = time.perf_counter() - start
    error = "" if process.returncode == 0 else output.strip().splitlines()[-1] if output.strip() else "failed"
    return RunRecord(notebook.stem, process.returncode == 0, round(seconds, 1), round(cpu, 1), round(peak), error)


def results_of(notebook_stem: str) -> dict:
    """The key results a notebook wrote, or {} when it wrote none."""
    path = Path(os.environ.get("COURSE_RESULTS", REPO / "build" / "results")) / f"{notebook_stem}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def summary_line(record: RunRecord) -> str:
    results = results_of(record.notebook)
    status = "ok" if record.ok else f"FAILED: {record.error}"
    extra = f" data={results.get('data_source', '?')} device={results.get('device', '?')}" if results else ""
    return f"{record.notebook:<34} {status:<6} {record.seconds:>7.1f} s  peak {record.peak_mb:>5.0f} MB{extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    parser.add_argument("--fast", action="store_true", help="FAST mode (COURSE_FAST=1)")
    args = parser.parse_args(argv)
    notebooks = solution_notebooks(args.notebooks)
    if not notebooks:
        print("No solution notebooks found in solutions/ yet: nothing to run.")
        return 0
    records = []
    for notebook in notebooks:
        record = run_one(notebook, args.fast)
        records.append(record)
        print(summary_line(record), flush=True)
    (REPO / "build" / "run.json").write_text(json.dumps([asdict(r) for r in records], indent=2))
    failed = [r.notebook for r in records if not r.ok]
    print(f"{len(records) - len(failed)}/{len(records)} notebooks ran clean" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
