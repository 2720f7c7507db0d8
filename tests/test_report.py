"""Tests for utils.report: results lookup, evidence provenance, card fields, Markdown and figure."""
from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from utils import plots, report, runtime


def _write(folder, stem, record):
    (folder / f"{stem}.json").write_text(json.dumps(record))


# ---------------------------------------------------------------- results files


def test_load_results_reads_only_the_requested_notebooks(tmp_path):
    _write(tmp_path, "10-privacy", {"attack_auc_black_box": 0.61})
    _write(tmp_path, "01-bottleneck", {"x": 1})
    (tmp_path / "11-bias.json").write_text("{not json")
    found = report.load_results(("privacy", "bias"), folder=tmp_path)
    assert set(found) == {"10-privacy"}


def test_find_metric_matches_whole_key_names_only():
    record = {"tstr": {"tstr_auc": 0.8, "trtr_auc": 0.9}, "not_a_tstr_auc_x": 0.1, "flag": True}
    assert report.find_metric(record, ["tstr_auc"]) == ("tstr.tstr_auc", 0.8)
    assert report.find_metric(record, ["flag"]) is None          # booleans are not numbers
    assert report.find_metric({"a": float("nan")}, ["a"]) is None
    assert report.find_metric({"fnr_gap": {"baseline": {"mean": 0.12}}}, ["fnr_gap.baseline.mean"])[1] == 0.12


def test_flatten_expands_lists_and_find_metric_reads_04_05_09_layouts():
    rec04 = {"fd": {"real test": 0.01, "trained generator": 3.2}, "precision_recall": {"trained generator": [0.4, 0.6]}}
    assert report.flatten(rec04)["precision_recall.trained generator[1]"] == 0.6
    rows = {e.metric: e for e in report.collect_evidence({"04-evaluating-synthetic-images": rec04}, {})}
    assert (rows["image_fid"].value, rows["image_fid_real_floor"].value) == (3.2, 0.01)
    assert (rows["image_precision"].value, rows["image_recall"].value) == (0.4, 0.6)
    rec05 = {"differences": {"GAN_vs_none_focus": {"mean": 0.05}, "GAN_vs_classical_focus": {"mean": -0.01}}}
    rec07 = {"fidelity": {"age": 0.05, "sex": 0.2}, "mean_abs_correlation_gap": 0.07}
    rows = {e.metric: e for e in report.collect_evidence({"05-conditional-gan-augmentation": rec05, "09-synthetic-ehr": rec07}, {})}
    assert rows["augmentation_gain"].value == 0.05 and rows["gain_over_classical"].value == -0.01
    assert rows["worst_column_distance"].value == 0.2 and rows["correlation_difference"].value == 0.07


def test_collect_evidence_reads_10_layout_and_prefers_exact_paths():
    rec08 = {"table": "icu", "dcr": {"synthetic_median": 0.8, "holdout_median": 1.0, "synthetic_copies": 0},
             "attack_auc_black_box": 0.55, "attack_auc_white_box": 0.7,
             "overfit": {"attack_auc_black_box": 0.9}}
    assert report.find_metric({"overfit": {"a": 0.9}, "a": 0.1}, ["a"]) == ("a", 0.1)
    rows = {e.metric: e for e in report.collect_evidence({"10-privacy": rec08}, {})}
    assert rows["attack_auc"].value == 0.55 and rows["attack_auc_white_box"].value == 0.7
    assert rows["dcr_ratio"].value == pytest.approx(0.8) and rows["exact_copies"].value == 0.0
    assert rows["attack_auc"].dataset == "icu"


def test_column_distances_known_ks_and_tv():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
    synth = pd.DataFrame({"x": [3.0, 4.0, 5.0, 6.0], "c": ["a", "b", "b", "b"]})
    d = report.column_distances(real, synth, ["x"], ["c"])
    assert d["x"] == pytest.approx(0.5)     # CDFs differ by at most 2/4
    assert d["c"] == pytest.approx(0.25)    # shares (0.5, 0.5) vs (0.25, 0.75)
    assert report.column_distances(real, real, ["x"], ["c"]) == {"x": 0.0, "c": 0.0}


def test_collect_evidence_prefers_notebook_results_then_computed_then_missing():
    results = {"10-privacy": {"attack_auc_black_box": 0.61, "data_source": "real", "table": "flchain", "fast": True},
               "11-bias": {"minority_group": "Female", "table": "ilpd", "data_source": "real",
                           "fnr_gap": {"baseline": {"mean": 0.14}},
                           "bias_transfer": {"real_share": {"Female": 0.25},
                                             "synthetic_share": {"Female": {"mean": 0.2}}}}}
    computed = {"privacy": {"attack_auc": 0.52, "dcr_ratio": 1.1}, "utility": {"tstr_auc": 0.7}}
    rows = {e.metric: e for e in report.collect_evidence(results, computed, "ilpd", "real")}
    assert rows["attack_auc"].value == 0.61 and rows["attack_auc"].source == "10-privacy"
    assert rows["attack_auc"].dataset == "flchain" and "FAST" in rows["attack_auc"].note
    assert rows["dcr_ratio"].value == 1.1 and rows["dcr_ratio"].source.startswith("computed here")
    assert rows["fnr_gap_real_model"].value == 0.14
    assert rows["minority_share_ratio"].value == pytest.approx(0.8)
    assert rows["image_fid"].value is None and rows["image_fid"].source == "not measured"
    assert len(rows) == len(report.METRICS)


# ---------------------------------------------------------------- fidelity helpers


def test_marginal_distance_and_correlation_difference_known_values():
    real = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [0.0, 1.0, 2.0, 3.0]})
    assert report.marginal_distance(real, real, ["a", "b"]) == 0.0
    shifted = real + 1.0
    assert report.marginal_distance(real, shifted, ["a"]) == pytest.approx(1.0 / real["a"].std(ddof=0))
    flipped = real.assign(b=real["b"][::-1].to_numpy())            # corr +1 -> -1
    assert report.correlation_difference(real, flipped, ["a", "b"]) == pytest.approx(2.0)
    assert math.isnan(report.correlation_difference(real, real, ["a"]))


def test_evaluate_synthetic_table_on_a_copy_flags_the_copies():
    from utils.data import TableSchema
    from utils.tabular import RecordEncoder

    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({"x": rng.normal(size=n).round(3), "z": rng.normal(size=n).round(3),
                          "sex": rng.choice(["F", "M"], n, p=[0.3, 0.7])})
    frame["y"] = (frame["x"] + 0.5 * rng.normal(size=n) > 0).astype(int)
    schema = TableSchema(continuous=("x", "z"), categorical=("sex",), target="y", positive=1, sensitive="sex")
    train, test = frame.iloc[:140].reset_index(drop=True), frame.iloc[140:].reset_index(drop=True)
    encoder = RecordEncoder(schema).fit(train)
    out = report.evaluate_synthetic_table(encoder, train, test, synth=train.copy())
    assert out["privacy"]["exact_copies"] == len(train)               # a copy is all exact copies
    assert out["privacy"]["dcr_ratio"] == 0.0
    assert out["privacy"]["attack_auc"] > 0.9                         # members are found
    assert out["fidelity"]["marginal_distance"] == pytest.approx(0.0, abs=1e-9)
    assert out["fidelity"]["worst_column_distance"] == pytest.approx(0.0, abs=1e-9)
    assert out["utility"]["tstr_auc"] == pytest.approx(out["utility"]["trtr_auc"])
    assert out["fairness"]["minority_share_ratio"] == pytest.approx(1.0)
    assert set(out["fairness"]) >= {"fnr_gap_real_model", "fnr_gap_synthetic_model"}


# ---------------------------------------------------------------- the card


def _card(**overrides):
    evidence = [report.Evidence("privacy", "attack_auc", 0.52, "computed here", "ilpd", "real"),
                report.Evidence("utility", "tstr_auc", 0.71, "09-synthetic-ehr", "flchain", "stand-in"),
                report.Evidence("fidelity", "image_fid", None, "not measured"),
                report.Evidence("fidelity", "marginal_distance", 0.2, "computed here", "ilpd", "real"),
                report.Evidence("fairness", "fnr_gap_real_model", 0.0, "11-bias", "ilpd", "real")]
    args = dict(title="test", generator="tabular GAN", intended_use="teaching", out_of_scope="clinical use",
                limits=["small"], consent="patients consented to care only",
                checklist=[{"item": "privacy", "metric": "attack_auc", "threshold": 0.55, "direction": "max",
                            "value": 0.52, "verdict": "pass"}],
                extra={"privacy": {"verdict": "low risk"}})
    args.update(overrides)
    return report.build_card(evidence, **args)


def test_build_card_fills_required_fields_and_licences():
    card = _card()
    assert card.missing() == []
    assert card.datasets == ["flchain", "ilpd"]
    assert card.data_source.startswith("mixed")
    assert "CC BY 4.0" in card.licences["ilpd"]
    assert card.privacy == {"attack_auc": 0.52, "verdict": "low risk"}
    assert card.fidelity == {"image_fid": None, "marginal_distance": 0.2}
    assert card.fairness == {"fnr_gap_real_model": 0.0}
    assert set(report.REQUIRED_FIELDS) <= set(card.as_dict())


def test_card_missing_counts_zero_as_filled_and_blank_as_missing():
    card = _card(consent="   ", limits=[])
    card.privacy = {"exact_copies": 0}
    card.fidelity = {"image_fid": None, "marginal_distance": float("nan")}
    assert card.missing() == ["fidelity", "limits", "consent"]      # fairness holds a measured 0.0


def test_licence_for_medmnist_and_unknown():
    assert "CC BY-NC 4.0" in report.licence_for("dermamnist")
    assert "CC BY 4.0" in report.licence_for("bloodmnist")
    assert report.licence_for("my_table").startswith("unknown")


def test_render_markdown_marks_gaps_and_standin(tmp_path):
    text = report.render_markdown(_card(consent=""))
    assert "# Synthetic data card: test" in text
    assert "Incomplete card" in text and "consent" in text
    assert "stand-in" in text
    assert "| attack_auc | 0.52 | computed here | ilpd | real |" in text
    assert "not measured" in text
    path = _card().to_json(tmp_path / "card.json")
    assert json.loads(path.read_text())["title"] == "test"


def test_card_figure_draws_one_page_with_standin_mark():
    fig = report.card_figure(_card())
    assert len(fig.axes) == 6
    assert plots.has_standin_mark(fig)          # one number came from stand-in data
    fig2 = report.card_figure(_card(), source="real")
    assert not plots.has_standin_mark(fig2)
    matplotlib.pyplot.close("all")
