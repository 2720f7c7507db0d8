"""The synthetic-data card (notebook 12): what was made, how good, how private, how fair, from where.

A card is only as honest as its provenance, so every number on it is an ``Evidence`` row
that says which notebook produced it (or that notebook 12 computed it itself), on which
dataset, and whether that dataset was real or a procedural stand-in.

* ``load_results`` reads the JSON files the notebooks wrote to ``runtime.results_dir()``;
* ``evaluate_synthetic_table`` computes a small version of every number from one table
  (fidelity, utility, privacy, fairness) so the card can be filled when a notebook is missing;
* ``collect_evidence`` takes each ``METRICS`` entry from the notebooks' results when present,
  else from the computed numbers, else marks it "not measured";
* ``build_card`` fills a ``SyntheticDataCard`` (its ``REQUIRED_FIELDS``), ``render_markdown``
  writes it as Markdown and ``card_figure`` draws the key numbers on one page.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from utils import runtime

SECTIONS = ("fidelity", "utility", "privacy", "fairness")
VERDICT_COLOURS = {"pass": "tab:green", "fail": "tab:red", "not measured": "0.55"}

# ----------------------------------------------------------------------------- licences

LICENCES = {
    "dermamnist": "CC BY-NC 4.0 (MedMNIST; source HAM10000): no commercial use",
    "breastmnist": "CC BY 4.0 (MedMNIST; source: breast ultrasound, Al-Dhabyani et al. 2020)",
    "pneumoniamnist": "CC BY 4.0 (MedMNIST; source: Kermany et al. 2018)",
    "ilpd": "CC BY 4.0 (UCI Machine Learning Repository)",
    "breast_cancer": "CC BY 4.0 (UCI Machine Learning Repository)",
    "diabetes": "BSD-3-Clause as shipped in scikit-learn; no explicit licence from the original authors",
    "flchain": "LGPL (R package survival), packaged by Rdatasets (GPL-3.0)",
    "icu": "GPL-2/3 (R package vcdExtra), packaged by Rdatasets",
}


def licence_for(dataset: str) -> str:
    """The licence of a course dataset (MedMNIST flags via ``medmnist.INFO`` when not listed)."""
    key = str(dataset).lower()
    if key in LICENCES:
        return LICENCES[key]
    try:
        import medmnist

        if key in medmnist.INFO:
            return f"{medmnist.INFO[key]['license']} (MedMNIST)"
    except ImportError:  # pragma: no cover - medmnist is a dependency
        pass
    return "unknown: find and record the licence before sharing anything derived from it"


# ----------------------------------------------------------------------------- results files


def load_results(notebooks=("evaluating-synthetic-images", "conditional-gan-augmentation", "synthetic-ehr", "privacy", "bias"),
                 folder=None) -> dict[str, dict]:
    """{notebook stem: its results dict} for every results JSON present of the named topics.

    A topic is the stem without its number (``10-privacy`` -> ``privacy``), so renumbering the
    curriculum does not change which results a card reads."""
    folder = Path(folder) if folder is not None else runtime.results_dir()
    found = {}
    for path in sorted(folder.glob("*.json")):
        if topic_of(path.stem) in notebooks:
            try:
                found[path.stem] = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # a half-written or foreign file is not evidence
    return found


def topic_of(stem: str) -> str:
    """``NN-topic`` -> ``topic`` (a name without a number is its own topic)."""
    number, _, topic = stem.partition("-")
    return topic if number.isdigit() and topic else stem


def flatten(record: dict, prefix: str = "") -> dict[str, object]:
    """Nested dict -> {"a.b.c": value}; list items become "a.b[0]", "a.b[1]", ..."""
    out = {}
    for key, value in record.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    out.update(flatten(item, f"{name}[{i}]"))
                else:
                    out[f"{name}[{i}]"] = item
        else:
            out[name] = value
    return out


def _number(value):
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(float(value)):
        return float(value)
    return None


def find_metric(record: dict, keys) -> tuple[str, float] | None:
    """First (path, number) in ``record`` whose dotted path equals, or ends with, one of ``keys``."""
    flat = {path.lower(): (path, value) for path, value in flatten(record).items()}
    for key in keys:                                   # an exact path wins over a nested one
        hit = flat.get(key.lower())
        if hit and _number(hit[1]) is not None:
            return hit[0], _number(hit[1])
    for key in keys:
        for low, (path, value) in flat.items():
            if low.endswith("." + key.lower()) and _number(value) is not None:
                return path, _number(value)
    return None


# ----------------------------------------------------------------------------- what a card reports


@dataclass(frozen=True)
class MetricSpec:
    """One number a card reports: where to look for it and what it means."""

    section: str
    name: str
    meaning: str
    notebooks: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("fidelity", "image_fid", "domain Fréchet distance, synthetic vs real images (lower is better)",
               ("evaluating-synthetic-images",), ("fd.trained generator", "derma_fid", "domain_fid", "fid")),
    MetricSpec("fidelity", "image_fid_real_floor", "the same distance between two sets of real images (the floor)",
               ("evaluating-synthetic-images",), ("fd.real test",)),
    MetricSpec("fidelity", "image_precision", "share of synthetic images inside the real manifold",
               ("evaluating-synthetic-images",), ("precision_recall.trained generator[0]", "precision")),
    MetricSpec("fidelity", "image_recall", "share of real images covered by synthetic ones",
               ("evaluating-synthetic-images",), ("precision_recall.trained generator[1]", "recall")),
    MetricSpec("fidelity", "worst_column_distance", "largest per-column KS (numbers) or TV (categories) distance",
               ("synthetic-ehr",), ("worst_column_distance",)),
    MetricSpec("fidelity", "correlation_difference", "mean |real - synthetic| correlation (0 = same)",
               ("synthetic-ehr",), ("mean_abs_correlation_gap", "correlation_difference")),
    MetricSpec("fidelity", "marginal_distance", "mean Wasserstein distance per column, in SD units (0 = same)",
               ("synthetic-ehr",), ("marginal_distance",)),
    MetricSpec("utility", "tstr_auc", "AUC on real test data of a model trained on synthetic data",
               ("synthetic-ehr",), ("tstr_auc",)),
    MetricSpec("utility", "trtr_auc", "the same model trained on real data (the ceiling)", ("synthetic-ehr",), ("trtr_auc",)),
    MetricSpec("utility", "augmentation_gain", "focus-class recall gained by GAN augmentation over none",
               ("conditional-gan-augmentation",), ("differences.GAN_vs_none_focus.mean",)),
    MetricSpec("utility", "gain_over_classical", "focus-class recall of GAN over classical augmentation",
               ("conditional-gan-augmentation",), ("differences.GAN_vs_classical_focus.mean",)),
    MetricSpec("privacy", "attack_auc", "black-box membership attack AUC, attacker holds the synthetic data (0.5 = no leak)",
               ("privacy",), ("attack_auc_black_box", "attack_auc")),
    MetricSpec("privacy", "attack_auc_white_box", "membership attack AUC with the discriminator (if weights are shared)",
               ("privacy",), ("attack_auc_white_box",)),
    MetricSpec("privacy", "dcr_ratio", "median distance synthetic->train over holdout->train (<1 = closer than new patients)",
               ("privacy",), ("dcr_ratio",)),
    MetricSpec("privacy", "exact_copies", "synthetic records identical to a training record",
               ("privacy",), ("dcr.synthetic_copies", "exact_copies")),
    MetricSpec("fairness", "fnr_gap_real_model", "miss-rate gap (minority - majority) of a model trained on real data",
               ("bias",), ("fnr_gap.baseline.mean",)),
    MetricSpec("fairness", "fnr_gap_augmented_model", "the same gap after adding conditional-GAN records",
               ("bias",), ("fnr_gap.synthetic (cGAN).mean",)),
    MetricSpec("fairness", "fnr_gap_synthetic_model", "the gap of a model trained on synthetic data only", (), ()),
    MetricSpec("fairness", "minority_share_ratio", "minority's share in synthetic / in real data (1 = kept)",
               ("bias",), ("minority_share_ratio",)),
)
"""Where each number of the card is looked for: the first matching key (a dotted path, or its end)
in the results of the listed notebooks; ``_derived`` computes the few that need a calculation."""


@dataclass
class Evidence:
    """One number on the card and where it came from."""

    section: str
    metric: str
    value: float | None
    source: str
    dataset: str = ""
    data_source: str = "unknown"
    note: str = ""


def _derived(stem: str, record: dict) -> dict:
    """Numbers that need a small computation from a notebook's results."""
    out = {}
    if topic_of(stem) == "synthetic-ehr":
        columns = [_number(v) for v in (record.get("fidelity") or {}).values()]
        columns = [v for v in columns if v is not None]
        if columns:
            out["worst_column_distance"] = max(columns)
    if topic_of(stem) == "privacy":
        dcr = record.get("dcr") or {}
        synth, hold = _number(dcr.get("synthetic_median")), _number(dcr.get("holdout_median"))
        if synth is not None and hold:
            out["dcr_ratio"] = synth / hold
    if topic_of(stem) == "bias":
        minority = record.get("minority_group")
        transfer = record.get("bias_transfer", {})
        try:
            synth = transfer["synthetic_share"][minority]
            synth = synth["mean"] if isinstance(synth, dict) else synth
            out["minority_share_ratio"] = float(synth) / float(transfer["real_share"][minority])
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            pass
    return out


def dataset_of(record: dict) -> str:
    """The dataset a results record names (its table or MedMNIST flag), else its data sources."""
    for key in ("table", "data_flag", "dataset", "flag"):
        if isinstance(record.get(key), str):
            return record[key]
    sources = record.get("data_sources") or {}
    return ", ".join(sorted(sources)) if sources else ""


def collect_evidence(results: dict[str, dict], computed: dict | None = None, computed_dataset: str = "",
                     computed_source: str = "unknown", here: str = "12-validation-ethics") -> list[Evidence]:
    """One ``Evidence`` per ``METRICS`` entry: from a notebook's results, else ``computed``, else missing.

    ``computed`` maps metric names (or sections to {metric: value}) to numbers computed in ``here``
    on ``computed_dataset`` (real or stand-in: ``computed_source``).
    """
    flat_computed = {}
    for key, value in (computed or {}).items():
        flat_computed.update(value if isinstance(value, dict) else {key: value})
    rows = []
    for spec in METRICS:
        row = None
        for stem, record in sorted(results.items()):
            if topic_of(stem) not in spec.notebooks:
                continue
            hit = find_metric(record, spec.keys) if spec.keys else None
            value = hit[1] if hit else _number(_derived(stem, record).get(spec.name))
            if value is not None:
                note = "FAST mode run: toy numbers" if record.get("fast") else ""
                row = Evidence(spec.section, spec.name, value, stem, dataset_of(record),
                               record.get("data_source", "unknown"), note)
                break
        if row is None and _number(flat_computed.get(spec.name)) is not None:
            row = Evidence(spec.section, spec.name, _number(flat_computed[spec.name]), f"computed here ({here})",
                           computed_dataset, computed_source,
                           "FAST mode: toy numbers" if runtime.is_fast() else "")
        rows.append(row or Evidence(spec.section, spec.name, None, "not measured"))
    return rows


def evidence_table(evidence: list[Evidence]) -> pd.DataFrame:
    """The evidence as a DataFrame (one row per number), for display."""
    return pd.DataFrame([asdict(e) for e in evidence])


def metrics_of(evidence: list[Evidence]) -> dict[str, float | None]:
    """{metric: value} of the evidence (None where not measured)."""
    return {e.metric: e.value for e in evidence}


# ----------------------------------------------------------------------------- the standalone numbers


def marginal_distance(real: pd.DataFrame, synth: pd.DataFrame, columns) -> float:
    """Mean over ``columns`` of the 1-D Wasserstein distance real vs synthetic, in real-SD units."""
    q = np.linspace(0, 1, 101)
    out = []
    for c in columns:
        r, s = real[c].astype(float).dropna().to_numpy(), synth[c].astype(float).dropna().to_numpy()
        sd = r.std() or 1.0
        out.append(np.mean(np.abs(np.quantile(r, q) - np.quantile(s, q))) / sd)
    return float(np.mean(out))


def column_distances(real: pd.DataFrame, synth: pd.DataFrame, continuous, categorical=()) -> dict[str, float]:
    """Per column: Kolmogorov-Smirnov statistic (numbers) or total-variation distance (categories); 0 = same."""
    out = {}
    for c in continuous:
        r, s = np.sort(real[c].astype(float).dropna()), np.sort(synth[c].astype(float).dropna())
        grid = np.concatenate([r, s])
        out[c] = float(np.max(np.abs(np.searchsorted(r, grid, side="right") / len(r)
                                     - np.searchsorted(s, grid, side="right") / len(s))))
    for c in categorical:
        p = real[c].astype(str).value_counts(normalize=True)
        q = synth[c].astype(str).value_counts(normalize=True)
        out[c] = float(0.5 * p.subtract(q, fill_value=0).abs().sum())
    return out


def correlation_difference(real: pd.DataFrame, synth: pd.DataFrame, columns) -> float:
    """Mean absolute difference between the real and synthetic correlation matrices (off-diagonal)."""
    columns = list(columns)
    if len(columns) < 2:
        return float("nan")
    a = real[columns].astype(float).corr().to_numpy()
    b = synth[columns].astype(float).corr().to_numpy()
    mask = ~np.eye(len(columns), dtype=bool)
    return float(np.nanmean(np.abs(a - b)[mask]))


def evaluate_synthetic_table(encoder, train: pd.DataFrame, test: pd.DataFrame, synth: pd.DataFrame,
                             seed: int = 0) -> dict:
    """Small versions of the card's numbers for one synthetic table (notebook 12's standalone path).

    ``encoder`` is the fitted ``utils.tabular.RecordEncoder`` of the generator (its columns include
    the target). Returns {section: {metric: value}}: fidelity (marginal distance, correlation
    difference), utility (TSTR/TRTR AUC of a logistic regression), privacy (DCR ratio, exact copies,
    a distance-based membership attack's AUC with ``test`` as non-members) and fairness (miss-rate
    gap of the real- and synthetic-trained models, minority share ratio) when the schema has a
    sensitive column.
    """
    from sklearn.linear_model import LogisticRegression

    from utils import metrics, tabular

    schema = encoder.schema
    continuous = [c for c in encoder.continuous]
    Xs, ys = tabular.features_and_labels(encoder, synth)
    Xr, yr = tabular.features_and_labels(encoder, train)
    Xt, yt = tabular.features_and_labels(encoder, test)
    out = {"fidelity": {"worst_column_distance": max(column_distances(train, synth, continuous,
                                                                     encoder.categorical).values()),
                        "correlation_difference": correlation_difference(train, synth, continuous),
                        "marginal_distance": marginal_distance(train, synth, continuous)}}
    utility = metrics.tstr(Xs, ys, Xt, yt, real_train=(Xr, yr), seed=seed) if len(np.unique(ys)) > 1 else {}
    out["utility"] = {"tstr_auc": utility.get("tstr_auc"), "trtr_auc": utility.get("trtr_auc")}
    full_s, full_r, full_t = encoder.transform(synth), encoder.transform(train), encoder.transform(test)
    syn_to_train = metrics.distance_to_closest_record(full_s, full_r)
    hold_to_train = metrics.distance_to_closest_record(full_t, full_r)
    member = -metrics.distance_to_closest_record(full_r, full_s, scaler_from=full_r)
    nonmember = -metrics.distance_to_closest_record(full_t, full_s, scaler_from=full_r)
    hold_median = float(np.median(hold_to_train))
    out["privacy"] = {"dcr_ratio": float(np.median(syn_to_train)) / hold_median if hold_median > 0 else None,
                      "exact_copies": int(np.sum(syn_to_train < 1e-6)),
                      "attack_auc": metrics.membership_inference_auc(member, nonmember)}
    fairness = {}
    sensitive = schema.sensitive
    if sensitive and sensitive in synth.columns:
        levels = train[sensitive].value_counts().index.tolist()
        minority = levels[-1]
        real_share = float((train[sensitive] == minority).mean())
        fairness["minority_share_ratio"] = float((synth[sensitive] == minority).mean()) / real_share
        for name, (X, y) in (("fnr_gap_real_model", (Xr, yr)), ("fnr_gap_synthetic_model", (Xs, ys))):
            if len(np.unique(y)) < 2:
                continue
            pred = LogisticRegression(max_iter=2000).fit(X, y).predict(Xt)
            groups = test[sensitive].to_numpy()
            fnr = [np.mean(pred[(groups == g) & (yt == 1)] == 0) if np.any((groups == g) & (yt == 1)) else np.nan
                   for g in (minority, levels[0])]
            if not np.isnan(fnr).any():
                fairness[name] = float(fnr[0] - fnr[1])
    out["fairness"] = fairness
    return out


# ----------------------------------------------------------------------------- the card

REQUIRED_FIELDS = ("title", "generator", "datasets", "data_source", "licences", "intended_use", "out_of_scope",
                   "fidelity", "utility", "privacy", "fairness", "checklist", "limits", "consent", "provenance")


@dataclass
class SyntheticDataCard:
    """What a synthetic dataset is, what it is for, and the evidence behind it.

    ``REQUIRED_FIELDS`` must all be filled before the data is shared; ``missing()`` lists
    those that are not (an honest "not measured" is better than a silent gap).
    """

    title: str
    generator: str
    datasets: list[str]
    data_source: str
    licences: dict[str, str]
    intended_use: str
    out_of_scope: str
    fidelity: dict
    utility: dict
    privacy: dict
    fairness: dict
    checklist: list[dict]
    limits: list[str]
    consent: str
    provenance: list[dict]
    created: str = field(default_factory=lambda: _dt.date.today().isoformat())

    def as_dict(self) -> dict:
        return asdict(self)

    def missing(self) -> list[str]:
        """Required fields that are absent or empty (0 and False count as filled)."""
        data = self.as_dict()
        return [f for f in REQUIRED_FIELDS if _empty(data.get(f))]

    def to_json(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2, default=str))
        return path


def _empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_empty(v) for v in value)
    return False


def build_card(evidence: list[Evidence], *, title: str, generator: str, intended_use: str, out_of_scope: str,
               limits: list[str], consent: str, checklist: list[dict] | None = None,
               extra: dict[str, dict] | None = None) -> SyntheticDataCard:
    """Fill a card from the evidence; ``extra`` adds fields to sections (e.g. {"privacy": {"verdict": ...}})."""
    sections = {s: {} for s in SECTIONS}
    for e in evidence:
        sections[e.section][e.metric] = e.value
    for section, values in (extra or {}).items():
        sections[section].update(values)
    measured = [e for e in evidence if e.value is not None]
    datasets = sorted({d.strip() for e in measured for d in e.dataset.split(",") if d.strip()})
    kinds = {e.data_source for e in measured}
    data_source = (kinds.pop() if len(kinds) == 1 else "mixed: see provenance" if kinds else "")
    return SyntheticDataCard(
        title=title, generator=generator, datasets=datasets, data_source=data_source,
        licences={d: licence_for(d) for d in datasets}, intended_use=intended_use, out_of_scope=out_of_scope,
        fidelity=sections["fidelity"], utility=sections["utility"], privacy=sections["privacy"],
        fairness=sections["fairness"], checklist=list(checklist or []), limits=list(limits), consent=consent,
        provenance=[asdict(e) for e in evidence])


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not measured"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def render_markdown(card: SyntheticDataCard) -> str:
    """The card as Markdown: header, intended use, the four evidence sections, checklist, limits, consent."""
    missing = card.missing()
    lines = [f"# Synthetic data card: {card.title}", "",
             f"*Created {card.created}. Generator: {card.generator}.*", ""]
    if missing:
        lines += [f"**Incomplete card: not reported: {', '.join(missing)}.**", ""]
    standin = "stand-in" in (card.data_source or "") or any(p.get("data_source") == "stand-in" for p in card.provenance)
    lines += ["## Data and provenance", "",
              f"- Source datasets: {', '.join(card.datasets) or 'NOT REPORTED'}",
              f"- Real or stand-in: {card.data_source or 'NOT REPORTED'}"
              + (" (**some numbers come from procedural stand-in data: they describe no patients**)" if standin else ""),
              *[f"- Licence of {d}: {lic}" for d, lic in card.licences.items()], "",
              "## Intended use", "", card.intended_use or "NOT REPORTED", "",
              "**Out of scope:** " + (card.out_of_scope or "NOT REPORTED"), ""]
    origin = {p["metric"]: p for p in card.provenance}
    for section in SECTIONS:
        values = getattr(card, section)
        lines += [f"## {section.capitalize()}", "", "| metric | value | source | dataset | data |", "|---|---|---|---|---|"]
        for name, value in values.items():
            p = origin.get(name, {})
            source = p.get("source", "this notebook") + (f" ({p['note']})" if p.get("note") else "")
            lines.append(f"| {name} | {_fmt(value)} | {source} | {p.get('dataset', '')} | {p.get('data_source', '')} |")
        lines.append("")
    lines += ["## Validation checklist", "", "| item | value | threshold | verdict |", "|---|---|---|---|"]
    for item in card.checklist:
        lines.append(f"| {item.get('item')} | {_fmt(item.get('value'))} | {item.get('direction', '')} "
                     f"{item.get('threshold', '')} | **{item.get('verdict', 'not measured')}** |")
    lines += ["", "## Known limits", "", *[f"- {limit}" for limit in card.limits or ["NOT REPORTED"]], "",
              "## Consent", "", card.consent or "NOT REPORTED", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the figure page


def _thresholds(checklist: list[dict]) -> dict[str, list[float]]:
    """{metric: threshold positions to mark}; an ``abs_max`` item marks both +t and -t."""
    marks: dict[str, list[float]] = {}
    for c in checklist:
        t = c.get("threshold")
        if "metric" not in c or isinstance(t, bool) or not isinstance(t, (int, float)):
            continue
        marks.setdefault(c["metric"], []).extend([t, -t] if c.get("direction") == "abs_max" else [t])
    return marks


def _section_panel(ax, card: SyntheticDataCard, section: str, thresholds: dict) -> None:
    origin = {p["metric"]: p for p in card.provenance}
    values = {k: v for k, v in getattr(card, section).items() if k != "verdict"}
    names = list(values)
    verdict = card.privacy.get("verdict") if section == "privacy" else None
    ax.set_title(section.capitalize() + (f": {verdict}" if verdict else ""), loc="left", fontweight="bold")
    if not names:
        ax.text(0.5, 0.5, "nothing reported", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    y = np.arange(len(names))
    numbers = [_number(v) for v in values.values()]
    shown = [v if v is not None and abs(v) <= 6 else 0.0 for v in numbers]  # large values (FID): text only
    colours = ["tab:orange" if origin.get(n, {}).get("source", "").startswith("computed") else "tab:blue"
               for n in names]
    ax.barh(y, shown, color=colours, alpha=0.8)
    marks = [thresholds.get(n, []) for n in names]
    for i, (name, value) in enumerate(zip(names, numbers)):
        source = origin.get(name, {}).get("source", "")
        tag = "not measured" if value is None else f"{_fmt(value)}  [{source.split(' ')[0]}]"
        for t in marks[i]:
            ax.plot([t, t], [i - 0.4, i + 0.4], color="black", lw=2)
        right = max([shown[i], 0.0, *marks[i]])
        ax.text(right + 0.03, i, tag, va="center", fontsize=8, color="0.4" if value is None else "black")
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    everything = shown + [t for m in marks for t in m]
    ax.set_xlim(min(0.0, *everything) - 0.05, max(1.0, *everything) * 1.6)
    ax.axvline(0, color="0.7", lw=0.8)


def card_figure(card: SyntheticDataCard, source=None) -> Figure:
    """One page: the four evidence sections as bars (black tick = checklist threshold; blue = from a
    notebook's results, orange = computed in notebook 12), the checklist, and the provenance."""
    from utils import plots

    thresholds = _thresholds(card.checklist)
    fig = plt.figure(figsize=(15, 9.5), layout="constrained")
    grid = fig.add_gridspec(2, 3)
    for i, section in enumerate(SECTIONS):
        _section_panel(fig.add_subplot(grid[i // 2, i % 2]), card, section, thresholds)
    ax = fig.add_subplot(grid[0, 2])
    ax.set_axis_off()
    ax.set_title("Validation checklist", loc="left", fontweight="bold")
    rows = max(12, len(card.checklist))
    for i, item in enumerate(card.checklist):
        verdict = item.get("verdict", "not measured")
        ax.text(0.0, 1 - (i + 0.5) / rows, verdict, color=VERDICT_COLOURS.get(verdict, "black"),
                fontweight="bold", fontsize=9, transform=ax.transAxes, va="center")
        ax.text(0.3, 1 - (i + 0.5) / rows, textwrap.shorten(str(item.get("item")), 50), fontsize=9,
                transform=ax.transAxes, va="center")
    ax = fig.add_subplot(grid[1, 2])
    ax.set_axis_off()
    ax.set_title("Provenance and consent", loc="left", fontweight="bold")
    sources = sorted({"computed here" if p.get("source", "").startswith("computed") else
                      "notebook " + p.get("source", "").split("-")[0]
                      for p in card.provenance if p.get("value") is not None})
    fast = any("FAST" in str(p.get("note", "")) for p in card.provenance if p.get("value") is not None)
    text = [f"Datasets: {', '.join(card.datasets) or 'not reported'}", f"Real or stand-in: {card.data_source or '?'}",
            *[textwrap.shorten(f"{d}: {lic}", 62) for d, lic in card.licences.items()],
            textwrap.shorten("Numbers from: " + ", ".join(sources), 62)]
    if fast:
        text.append("Some numbers come from FAST-mode runs: toy values.")
    text += ["", *textwrap.wrap(textwrap.shorten("Consent: " + (card.consent or "not reported"), 310), 62)]
    missing = card.missing()
    if missing:
        text += ["", *textwrap.wrap("NOT REPORTED: " + ", ".join(missing), 62)]
    text += ["", "Bars: blue = a notebook's saved results, orange = computed", "in notebook 12; black tick = checklist threshold."]
    ax.text(0, 1, "\n".join(text), va="top", fontsize=9, transform=ax.transAxes)
    fig.suptitle(f"Synthetic data card: {card.title}", fontsize=14)
    standin = source == "stand-in" if source is not None else (
        runtime.any_standin() or any(p.get("data_source") == "stand-in" for p in card.provenance))
    if standin:
        fig.text(0.995, 0.005, plots.STANDIN_LABEL, gid=plots.STANDIN_GID, color="red", fontsize=9,
                 fontweight="bold", ha="right", va="bottom")
    return fig
