"""benchmarks: budgets, flags and the table (from recorded rows), and the speed-up and grading benchmarks."""
import json

import nbformat
import pytest
import torch

from benchmarks import run


def _row(notebook="03-dcgan", seconds=100.0, peak_mb=900, ok=True, phases=None, **results):
    results = {"device": "cpu", "data_source": "real", **results}
    if phases is not None:
        results["seconds_by_phase"] = phases
    return {"notebook": notebook, "ok": ok, "seconds": seconds, "cpu_seconds": seconds, "peak_mb": peak_mb,
            "error": "" if ok else "CellExecutionError", "results": results}


def test_stated_budget_is_the_largest_cpu_figure(tmp_path):
    notebook = tmp_path / "nb.ipynb"
    first = "**Time budget.** CPU (2 cores): about 1 minute cached, about 4 minutes on a first run. GPU: 9 minutes."
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(first)]), notebook)
    assert run.stated_budget_seconds(notebook) == 240


def test_every_solution_notebook_states_a_budget():
    from scripts.run_notebooks import solution_notebooks

    budgets = {p.stem: run.stated_budget_seconds(p) for p in solution_notebooks()}
    assert budgets and all(b and 0 < b <= 600 for b in budgets.values()), budgets


@pytest.mark.parametrize("seconds, peak, ok, expected", [
    (100, 900, True, []),
    (500, 900, True, ["over 420 s budget"]),
    (100, 2500, True, ["over 2048 MB"]),
    (100, 900, False, ["FAILED: CellExecutionError"]),
])
def test_flags(seconds, peak, ok, expected):
    judged = run._judge(_row(seconds=seconds, peak_mb=peak, ok=ok), budget=420)
    assert judged["flags"] == expected


def test_time_by_phase_adds_the_rest_of_the_wall_time():
    row = _row(seconds=100, phases={"data loading": 2.0, "training": 70.4, "evaluation": 12.0})
    assert run.time_by_phase(row) == "2 · 70 · 12 · 16"
    assert run.time_by_phase(_row()) == "?"


def test_report_writes_markdown_and_json(tmp_path, capsys):
    rows = [run._judge(_row(phases={"data loading": 1.0, "training": 50.0, "evaluation": 9.0}), budget=420),
            run._judge(_row("05-conditional-gan-augmentation", seconds=700), budget=480)]
    code = run.write_report(rows, {"03-dcgan": 40.0}, fast=False, out=tmp_path / "2026-01-01-cpu")
    table = (tmp_path / "2026-01-01-cpu.md").read_text()
    assert code == 0
    assert "| 03 | dcgan | 100.0 |" in table and "| 1 · 50 · 9 · 40 |" in table
    assert "05-conditional-gan-augmentation: over 480 s budget" in table
    assert "03-dcgan 40.0" in table
    saved = json.loads((tmp_path / "2026-01-01-cpu.json").read_text())
    assert [r["notebook"] for r in saved["rows"]] == ["03-dcgan", "05-conditional-gan-augmentation"]


def test_a_failed_notebook_fails_the_run(tmp_path):
    rows = [run._judge(_row(ok=False), budget=420)]
    assert run.write_report(rows, {}, fast=True, out=tmp_path / "x") == 1


def test_speedups_prints_one_timed_row_per_workload(capsys, monkeypatch):
    from benchmarks import speedups

    monkeypatch.setattr(speedups, "WORKLOADS", {k: v for k, v in speedups.WORKLOADS.items() if "tabular" in k
                                                or "classifier" in k})
    assert speedups.main(["--seconds", "0.05", "--repeats", "1", "--busy", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 0")]
    assert len(rows) == 2
    for row in rows:
        cells = row.strip("|").split("|")[1:]
        assert len(cells) >= 4 and all(float(c.split()[0]) > 0 for c in cells), row


@pytest.mark.grading
def test_grading_benchmark_grades_every_copy_with_full_marks():
    from benchmarks.grading import grade_class
    from scripts.run_notebooks import solution_notebooks

    result = grade_class(solution_notebooks(["00"]), students=2, jobs=2, fast=True)
    assert result["submissions"] == 2 and result["problems"] == {}
    assert result["per_minute"] > 0 and len(result["per_notebook"]["00-setup"]) == 2


def test_speedup_variants_for_cuda_also_run_on_cpu():
    """The bf16-autocast and channels-last variants (GPU rows) at least execute a step here."""
    from benchmarks import speedups

    cpu = torch.device("cpu")
    for step in (speedups.dcgan_step(cpu, base=8, batch=8, autocast=True, channels_last=True),
                 speedups.dcgan_step(cpu, base=8, batch=8, conditional=True, per_item=False),
                 speedups.classifier_step(cpu, batch=8, autocast=True, fused=True)):
        step()
    assert "bf16 autocast" in speedups.variants(torch.device("cuda"), cores=2)
    assert "1 thread" not in speedups.variants(torch.device("cuda"), cores=2)
