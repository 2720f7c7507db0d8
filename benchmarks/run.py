"""What every notebook costs and achieves, from one command (``make bench`` / ``make bench-fast``).

Each solution notebook runs in its own process (scripts.run_notebooks); wall seconds, CPU
seconds and the kernel's peak memory are measured from outside, and each notebook's
``build/results/NN-topic.json`` supplies its quality numbers. The Markdown table is printed
and written to ``benchmarks/results/<date>-<device>[-fast].md`` with a JSON beside it.
A full run also times ``nbgrader autograde`` on the solution notebooks.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.headlines import headline
from scripts import grading
from scripts.run_notebooks import REPO, results_of, run_one, solution_notebooks

MEMORY_BUDGET_MB = 2048
FAST_BUDGET_S = 60
BUDGET = re.compile(r"CPU[^0-9]{0,40}?(\d+(?:\.\d+)?)\s*min", re.IGNORECASE)


def stated_budget_seconds(notebook: Path) -> float | None:
    """The CPU time budget a notebook states in its first cell ("CPU: about 6 minutes")."""
    import nbformat

    first = nbformat.read(notebook, as_version=4).cells[0].source
    match = BUDGET.search(first)
    return float(match.group(1)) * 60 if match else None


def time_autograde(notebooks: list[Path]) -> dict:
    """Seconds to autograde each solution notebook as a submission (FAST grading, 1 job)."""
    with tempfile.TemporaryDirectory() as scratch:
        root = grading.scratch_course(Path(scratch), [p.parent.name for p in notebooks])
        timings = {}
        for notebook in notebooks:
            name = notebook.parent.name
            grading.release(root, [name])
            grading.submit(root, "bench", name, notebook)
            outcome = grading.autograde(root, name, "bench")
            timings[name] = round(outcome.seconds, 1) if outcome.status == "graded" else f"failed: {outcome.message}"
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    parser.add_argument("--fast", action="store_true", help="FAST mode (COURSE_FAST=1)")
    parser.add_argument("--skip-grading", action="store_true", help="do not time nbgrader autograde")
    args = parser.parse_args(argv)
    notebooks = solution_notebooks(args.notebooks)
    if not notebooks:
        print("No solution notebooks found.")
        return 1
    rows, flags, device = [], [], "cpu"
    header = "| # | notebook | seconds | CPU s | peak MB | budget s | device | data | key results |"
    print(header + "\n|---|---|---|---|---|---|---|---|---|", flush=True)
    for notebook in notebooks:
        record = run_one(notebook, args.fast)
        results = results_of(notebook.stem) if record.ok else {}
        device = results.get("device", device)
        budget = FAST_BUDGET_S if args.fast else stated_budget_seconds(notebook)
        row = {**asdict(record), "budget_s": budget, "flags": _flags(record, budget), "results": results}
        flags += [f"{notebook.stem}: {flag}" for flag in row["flags"]]
        print(_row_md(row), flush=True)
        rows.append(row)
    grading_times = {} if (args.fast or args.skip_grading) else time_autograde(notebooks)
    stamp = dt.date.today().isoformat()
    device_name = device.split(":")[0]
    out = REPO / "benchmarks" / "results" / f"{stamp}-{device_name}{'-fast' if args.fast else ''}"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# Benchmark {stamp}, {'FAST' if args.fast else 'full'} mode, device {device}", "",
             f"Command: `make bench{'-fast' if args.fast else ''}`. Machine: {_machine()}.", "",
             header, "|---|---|---|---|---|---|---|---|---|"] + [_row_md(r) for r in rows]
    lines += ["", "Flags: " + ("; ".join(flags) if flags else "none (every notebook within its budget and 2 GB)")]
    if grading_times:
        lines += ["", "Autograde (FAST grading, one job), seconds per solution submission: "
                  + ", ".join(f"{k} {v}" for k, v in grading_times.items())]
        print(lines[-1])
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps({"rows": rows, "autograde_seconds": grading_times,
                                                     "machine": _machine()}, indent=2, default=str))
    print(f"\nFlags: {'; '.join(flags) if flags else 'none'}\nwrote {out.with_suffix('.md').relative_to(REPO)}")
    return 1 if any("FAILED" in f for f in flags) else 0


def _flags(record, budget: float | None) -> list[str]:
    """Why a notebook's row needs attention: over its time budget, over 2 GB, or failed."""
    flags = []
    if budget and record.seconds > budget:
        flags.append(f"over {budget:.0f} s budget")
    if record.peak_mb > MEMORY_BUDGET_MB:
        flags.append(f"over {MEMORY_BUDGET_MB} MB")
    if not record.ok:
        flags.append(f"FAILED: {record.error}")
    return flags


def _row_md(row: dict) -> str:
    number, name = row["notebook"].split("-", 1)
    results = row["results"]
    flag = f" **{'; '.join(row['flags'])}**" if row["flags"] else ""
    budget = f"{row['budget_s']:.0f}" if row["budget_s"] else "?"
    return (f"| {number} | {name} | {row['seconds']:.1f} | {row['cpu_seconds']:.1f} | {row['peak_mb']:.0f} | {budget} | "
            f"{results.get('device', '?')} | {results.get('data_source', '?')} | {headline(row['notebook'], results)}{flag} |")


def _machine() -> str:
    import os
    import platform

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {gpu}, torch {torch.__version__}"


if __name__ == "__main__":
    sys.exit(main())
