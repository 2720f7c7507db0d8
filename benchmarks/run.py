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
from dataclasses import asdict
from pathlib import Path

from benchmarks.grading import grade_class
from benchmarks.headlines import headline
from scripts.run_notebooks import REPO, results_of, run_one, solution_notebooks

MEMORY_BUDGET_MB = 2048
FAST_BUDGET_S = 60
MINUTES = re.compile(r"(\d+(?:\.\d+)?)\s*min", re.IGNORECASE)


def stated_budget_seconds(notebook: Path) -> float | None:
    """The CPU time budget a notebook states in its first cell: the largest "N minutes"
    between "CPU" and "GPU" (e.g. "about 1 minute cached, about 4 minutes on a first run" is 4)."""
    import nbformat

    first = nbformat.read(notebook, as_version=4).cells[0].source
    cpu = first[first.find("CPU"):first.find("GPU", first.find("CPU"))] if "CPU" in first else ""
    minutes = [float(m) for m in MINUTES.findall(cpu)]
    return max(minutes) * 60 if minutes else None


def time_autograde(notebooks: list[Path]) -> dict:
    """Seconds to autograde each solution notebook as a submission (FAST grading, 1 job)."""
    graded = grade_class(notebooks, students=1, jobs=1, fast=True)
    problems = {assignment: problem for (_, assignment), problem in graded["problems"].items()}
    return {name: problems.get(name, seconds[0]) for name, seconds in graded["per_notebook"].items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    parser.add_argument("--fast", action="store_true", help="FAST mode (COURSE_FAST=1)")
    parser.add_argument("--skip-grading", action="store_true", help="do not time nbgrader autograde")
    parser.add_argument("--from-json", type=Path, help="re-render the table of an earlier run's JSON")
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        fast = saved.get("fast", args.fast)
        rows = [_judge(row, FAST_BUDGET_S if fast else None) for row in saved["rows"]]
        print("\n".join([HEADER, RULE] + [_row_md(r) for r in rows]))
        return write_report(rows, saved["autograde_seconds"], fast, args.from_json.resolve().with_suffix(""))
    notebooks = solution_notebooks(args.notebooks)
    if not notebooks:
        print("No solution notebooks found.")
        return 1
    print(HEADER + "\n" + RULE, flush=True)
    rows = []
    for notebook in notebooks:
        record = run_one(notebook, args.fast)
        row = {**asdict(record), "results": results_of(notebook.stem) if record.ok else {}}
        rows.append(_judge(row, FAST_BUDGET_S if args.fast else None))
        print(_row_md(rows[-1]), flush=True)
    grading_times = {} if (args.fast or args.skip_grading) else time_autograde(notebooks)
    device = next((r["results"]["device"] for r in rows if r["results"].get("device")), "cpu").split(":")[0]
    stem = f"{dt.date.today().isoformat()}-{device}{'-fast' if args.fast else ''}"
    return write_report(rows, grading_times, args.fast, REPO / "benchmarks" / "results" / stem)


HEADER = ("| # | notebook | seconds | CPU s | peak MB | budget s | device | data "
          "| time by phase, s (data · train · eval · rest) | key results |")
RULE = "|---|---|---|---|---|---|---|---|---|---|"


def _judge(row: dict, budget: float | None) -> dict:
    """Attach the budget (FAST: 60 s; full: the notebook's own) and the flags it earns."""
    notebook = REPO / "solutions" / row["notebook"] / f"{row['notebook']}.ipynb"
    budget = budget or stated_budget_seconds(notebook)
    flags = []
    if budget and row["seconds"] > budget:
        flags.append(f"over {budget:.0f} s budget")
    if row["peak_mb"] > MEMORY_BUDGET_MB:
        flags.append(f"over {MEMORY_BUDGET_MB} MB")
    if not row["ok"]:
        flags.append(f"FAILED: {row['error']}")
    return {**row, "budget_s": budget, "flags": flags}


def write_report(rows: list[dict], grading_times: dict, fast: bool, out: Path) -> int:
    """Write the Markdown table and the JSON beside it; nonzero exit when a notebook failed."""
    flags = [f"{r['notebook']}: {f}" for r in rows for f in r["flags"]]
    device = next((r["results"]["device"] for r in rows if r["results"].get("device")), "?")
    lines = [f"# Benchmark {out.name[:10]}, {'FAST' if fast else 'full'} mode, device {device}", "",
             f"Command: `make bench{'-fast' if fast else ''}`. Machine: {_machine()}.", "",
             HEADER, RULE] + [_row_md(r) for r in rows]
    summary = ["", "Flags: " + ("; ".join(flags) if flags else "none (every notebook within its budget and 2 GB)")]
    if grading_times:
        summary += ["", "Autograde (FAST grading, one job), seconds per solution submission: "
                    + ", ".join(f"{k} {v}" for k, v in grading_times.items())]
    lines += summary
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps({"rows": rows, "autograde_seconds": grading_times, "fast": fast,
                                                     "machine": _machine()}, indent=2, default=str))
    written = out.with_suffix(".md")
    shown = written.relative_to(REPO) if written.is_relative_to(REPO) else written
    print("\n".join(summary) + f"\nwrote {shown}")  # the rows were printed as they finished
    return 1 if any("FAILED" in f for f in flags) else 0


def _row_md(row: dict) -> str:
    number, name = row["notebook"].split("-", 1)
    results = row["results"]
    flag = f" **{'; '.join(row['flags'])}**" if row["flags"] else ""
    budget = f"{row['budget_s']:.0f}" if row["budget_s"] else "?"
    return (f"| {number} | {name} | {row['seconds']:.1f} | {row['cpu_seconds']:.1f} | {row['peak_mb']:.0f} | {budget} | "
            f"{results.get('device', '?')} | {results.get('data_source', '?')} | {time_by_phase(row)} | "
            f"{headline(row['notebook'], results)}{flag} |")


def time_by_phase(row: dict) -> str:
    """Data loading, training and evaluation seconds (from utils.profiling), and the rest of the
    wall time: the notebook's own code, plots, kernel start-up."""
    phases = row["results"].get("seconds_by_phase")
    if not phases:
        return "?"
    spent = [phases.get(name, 0.0) for name in ("data loading", "training", "evaluation")]
    return " · ".join(f"{s:.0f}" for s in spent + [max(0.0, row["seconds"] - sum(spent))])


def _machine() -> str:
    import os
    import platform

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {gpu}, torch {torch.__version__}"


if __name__ == "__main__":
    sys.exit(main())
