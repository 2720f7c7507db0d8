"""Real clinical tables for the EHR, privacy and bias lessons, each with its schema.

Lookup order: ``$COURSE_DATA_ROOT/tabular/<file>``, the repo's ``data/tabular/``, then the
table's public source (scikit-learn ships two; the others are fetched once and cached).
With none of these, a loud procedural stand-in with the same columns is used, following
the same ``COURSE_DATA`` rules as the images.
"""
from __future__ import annotations

import io
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from utils import runtime
from utils.data.errors import DataError, DataNotFoundError
from utils.data.policy import data_mode, network_reachable
from utils.profiling import timed


@dataclass(frozen=True)
class TableSchema:
    """What each column is: the GAN encodes continuous and categorical columns differently,
    the classifier predicts ``target == positive``, and fairness is measured over ``sensitive``.
    ``leaky`` columns reveal the outcome (e.g. follow-up time) and are left out of features."""

    continuous: tuple[str, ...]
    categorical: tuple[str, ...]
    target: str
    positive: object
    sensitive: str | None = None
    leaky: tuple[str, ...] = ()
    description: str = ""

    @property
    def features(self) -> list[str]:
        return [c for c in self.continuous + self.categorical if c not in self.leaky]

    @classmethod
    def from_mapping(cls, spec) -> "TableSchema":
        """A schema from a plain dict (papermill's ``-y 'TABLE_SCHEMA: {...}'``); lists become tuples."""
        if isinstance(spec, cls):
            return spec
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"TABLE_SCHEMA has unknown keys {unknown}; use only {sorted(known)}.")
        lacking = sorted({"continuous", "categorical", "target", "positive"} - set(spec))
        if lacking:
            raise ValueError(f"TABLE_SCHEMA lacks {lacking}: name the continuous and categorical columns, "
                             "the target column and its positive value.")
        return cls(**{k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in spec.items()})

    def check(self, frame: pd.DataFrame) -> None:
        """Raise a clear error when the frame lacks a column the schema names."""
        named = set(self.continuous + self.categorical + self.leaky + (self.target,))
        if self.sensitive:
            named.add(self.sensitive)
        missing = sorted(named - set(frame.columns))
        if missing:
            raise DataError(f"table lacks columns {missing} named by its schema; columns are {list(frame.columns)}")


@dataclass
class Table:
    """A clinical table: the raw frame, its schema and where it came from."""

    name: str
    frame: pd.DataFrame
    schema: TableSchema
    source: str
    origin: str = ""

    def __len__(self) -> int:
        return len(self.frame)

    def labels(self, frame: pd.DataFrame | None = None) -> np.ndarray:
        """Binary outcome: 1 where ``target == positive``."""
        frame = self.frame if frame is None else frame
        return (frame[self.schema.target] == self.schema.positive).to_numpy().astype(np.int64)

    def complete_cases(self) -> pd.DataFrame:
        """Rows with no missing value in the features, target or sensitive attribute."""
        cols = self.schema.features + [self.schema.target] + ([self.schema.sensitive] if self.schema.sensitive else [])
        return self.frame.dropna(subset=list(dict.fromkeys(cols))).reset_index(drop=True)


@dataclass(frozen=True)
class TableSpec:
    """Where a named table lives and how to turn its public source into the course's columns."""

    filename: str
    schema: TableSchema
    url: str | None
    standin: dict = field(default_factory=dict)
    n_rows: int = 0


_BREAST_BASE = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
                "concave_points", "symmetry", "fractal_dimension"]
_BREAST_COLUMNS = tuple([f"mean_{b}" for b in _BREAST_BASE] + [f"{b}_error" for b in _BREAST_BASE]
                        + [f"worst_{b}" for b in _BREAST_BASE])
_ILPD_COLUMNS = ["Age", "Gender", "total_bilirubin", "direct_bilirubin", "Alphos_alkaline_phosphotase",
                 "Sgpt", "Sgot", "TP", "ALB", "A/G ratio", "Label"]

TABLES: dict[str, TableSpec] = {
    "ilpd": TableSpec(
        "indian_liver_patient_ilpd.csv",
        TableSchema(
            continuous=("Age", "total_bilirubin", "direct_bilirubin", "Alphos_alkaline_phosphotase",
                        "Sgpt", "Sgot", "TP", "ALB", "A/G ratio"),
            categorical=("Gender",), target="Label", positive=1, sensitive="Gender",
            description="Indian Liver Patient Dataset (UCI): 583 patients, Label 1 = liver disease."),
        "https://archive.ics.uci.edu/ml/machine-learning-databases/00225/Indian%20Liver%20Patient%20Dataset%20(ILPD).csv",
        standin={"Age": ("normal", 45, 16), "total_bilirubin": ("lognormal", 1.3, 0.9),
                 "direct_bilirubin": ("lognormal", 0.5, 1.0), "Alphos_alkaline_phosphotase": ("lognormal", 250, 0.45),
                 "Sgpt": ("lognormal", 40, 0.8), "Sgot": ("lognormal", 50, 0.8), "TP": ("normal", 6.5, 1.1),
                 "ALB": ("normal", 3.1, 0.8), "A/G ratio": ("normal", 0.95, 0.3),
                 "Gender": {"Male": 0.76, "Female": 0.24}, "Label": {1: 0.71, 2: 0.29}},
        n_rows=583),
    "flchain": TableSpec(
        "flchain.csv",
        TableSchema(
            continuous=("age", "kappa", "lambda", "creatinine", "sample.yr", "futime"),
            categorical=("sex", "flc.grp", "mgus"), target="death", positive=1, sensitive="sex",
            leaky=("futime", "chapter"),
            description="Serum free light chain study (Olmsted County, R survival::flchain): death during follow-up."),
        "https://vincentarelbundock.github.io/Rdatasets/csv/survival/flchain.csv",
        standin={"age": ("normal", 64, 10), "kappa": ("lognormal", 1.3, 0.4), "lambda": ("lognormal", 1.5, 0.35),
                 "creatinine": ("lognormal", 1.0, 0.25), "sample.yr": ("normal", 1996, 1.5),
                 "futime": ("normal", 3700, 1200), "sex": {"F": 0.55, "M": 0.45},
                 "flc.grp": {i: 0.1 for i in range(1, 11)}, "mgus": {0: 0.99, 1: 0.01},
                 "chapter": {"Circulatory": 0.4, "Neoplasms": 0.3, "Respiratory": 0.3},
                 "death": {0: 0.72, 1: 0.28}},
        n_rows=7874),
    "diabetes": TableSpec(
        "diabetes_sklearn.csv",
        TableSchema(
            continuous=("age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"),
            categorical=("sex",), target="progression_high", positive=1, sensitive="sex", leaky=("target",),
            description="Efron et al. diabetes (scikit-learn): progression_high = one-year progression above 140."),
        None,
        standin={"age": ("normal", 48, 13), "bmi": ("normal", 26.4, 4.4), "bp": ("normal", 94.6, 13.8),
                 "s1": ("normal", 189, 34), "s2": ("normal", 115, 30), "s3": ("normal", 49.8, 12.9),
                 "s4": ("normal", 4.07, 1.29), "s5": ("normal", 4.64, 0.52), "s6": ("normal", 91, 11.5),
                 "sex": {1: 0.53, 2: 0.47}, "target": ("normal", 152, 77), "progression_high": {0: 0.5, 1: 0.5}},
        n_rows=442),
    "breast_cancer": TableSpec(
        "breast_cancer_wisconsin_sklearn.csv",
        TableSchema(continuous=_BREAST_COLUMNS, categorical=(), target="target", positive=0, sensitive=None,
                    leaky=("diagnosis",),
                    description="Breast Cancer Wisconsin (diagnostic), scikit-learn: target 0 = malignant."),
        None,
        standin={**{c: ("lognormal", 1.0, 0.3) for c in _BREAST_COLUMNS}, "target": {0: 0.37, 1: 0.63}},
        n_rows=569),
    "icu": TableSpec(
        "icu.csv",
        TableSchema(
            continuous=("age", "systolic", "hrtrate"),
            categorical=("sex", "race", "service", "cancer", "renal", "infect", "cpr", "previcu", "admit",
                         "fracture", "po2", "ph", "pco", "bic", "creatin", "coma", "uncons"),
            target="died", positive="Yes", sensitive="sex",
            description="ICU admissions (Hosmer-Lemeshow, R vcdExtra::ICU): died in hospital."),
        "https://vincentarelbundock.github.io/Rdatasets/csv/vcdExtra/ICU.csv",
        standin={"age": ("normal", 57, 20), "systolic": ("normal", 132, 33), "hrtrate": ("normal", 98, 27),
                 "sex": {"Male": 0.62, "Female": 0.38}, "race": {"White": 0.875, "Black": 0.075, "Other": 0.05},
                 "service": {"Medical": 0.47, "Surgical": 0.53}, "died": {"No": 0.8, "Yes": 0.2}},
        n_rows=200),
}

def _read_csv(source) -> pd.DataFrame:
    # "None" is a real level of icu's coma column: only empty cells are missing values.
    return pd.read_csv(source, keep_default_na=False, na_values=[""])


def _from_sklearn(name: str) -> pd.DataFrame:
    """The two tables scikit-learn ships inside its wheel (no network needed)."""
    from sklearn import datasets

    if name == "diabetes":
        bunch = datasets.load_diabetes(scaled=False)
        frame = pd.DataFrame(bunch.data, columns=["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"])
        frame["sex"] = frame["sex"].astype(int)
        frame["target"] = bunch.target.astype(int)
        return frame
    bunch = datasets.load_breast_cancer()
    frame = pd.DataFrame(bunch.data, columns=[n.replace(" ", "_") for n in bunch.feature_names])
    frame["target"] = bunch.target
    frame["diagnosis"] = np.where(bunch.target == 0, "malignant", "benign")
    return frame


def _normalise(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Bring a table from its public source to the course's columns (same as the shared CSVs)."""
    if name == "icu":
        frame = frame.drop(columns=[c for c in ("white",) if c in frame.columns])
        frame["coma"] = frame["coma"].fillna("None")
    if name == "diabetes":
        frame["progression_high"] = (frame["target"] > 140).astype(int)
    return frame


def _fetch(name: str, spec: TableSpec) -> pd.DataFrame | None:
    """Download a table from its public source into data/tabular; None when offline or it fails."""
    host = urlparse(spec.url).hostname
    if not network_reachable(host):
        return None
    try:
        with urllib.request.urlopen(spec.url, timeout=20) as response:
            raw = response.read().decode("utf-8")
    except OSError as err:
        runtime.warn_caller(f"Downloading {name} from {host} failed: {err}")
        return None
    header = None if name == "ilpd" else "infer"
    frame = pd.read_csv(io.StringIO(raw), header=header, keep_default_na=False, na_values=[""])
    if name == "ilpd":
        frame.columns = _ILPD_COLUMNS
    frame = frame.drop(columns=[c for c in ("rownames",) if c in frame.columns])  # Rdatasets' row index
    cache = runtime.data_cache_dir() / "tabular"
    cache.mkdir(parents=True, exist_ok=True)
    frame.to_csv(cache / spec.filename, index=False)
    return frame


def _local_file(spec: TableSpec) -> Path | None:
    roots = []
    if os.environ.get("COURSE_DATA_ROOT"):
        roots.append(Path(os.environ["COURSE_DATA_ROOT"]).expanduser() / "tabular")
    roots.append(runtime.data_cache_dir() / "tabular")
    for root in roots:
        if (root / spec.filename).is_file():
            return root / spec.filename
    return None


def standin_table(name: str, spec: TableSpec, seed: int = 0) -> pd.DataFrame:
    """Procedural rows with the real table's columns, rough marginals and a learnable outcome."""
    rng = np.random.default_rng(seed)
    n = spec.n_rows
    frame = {}
    for column, how in spec.standin.items():
        if isinstance(how, dict):
            levels, probs = list(how), np.array(list(how.values()), dtype=float)
            frame[column] = rng.choice(np.array(levels, dtype=object), size=n, p=probs / probs.sum())
        elif how[0] == "normal":
            frame[column] = rng.normal(how[1], how[2], n).round(2)
        else:
            frame[column] = (how[1] * np.exp(rng.normal(0, how[2], n))).round(3)
    frame = pd.DataFrame(frame)
    for column in spec.schema.categorical:
        if column not in frame:
            frame[column] = rng.choice(["No", "Yes"], size=n, p=[0.8, 0.2])
    first = [c for c in spec.schema.continuous if c in frame][:2]
    risk = sum((frame[c] - frame[c].mean()) / frame[c].std() for c in first) + rng.normal(0, 1, n)
    levels = list(spec.standin[spec.schema.target])
    prevalence = spec.standin[spec.schema.target][spec.schema.positive]
    positive = risk > np.quantile(risk, 1 - prevalence)
    other = [lv for lv in levels if lv != spec.schema.positive][0]
    frame[spec.schema.target] = np.where(positive, spec.schema.positive, other)
    return frame.infer_objects()


@timed("data loading")
def load_table(name: str | os.PathLike, schema: TableSchema | dict | None = None) -> Table:
    """Load a clinical table by name (``TABLES``) or any CSV path with a ``schema`` (a
    ``TableSchema`` or the equivalent dict, as notebooks receive it from papermill)."""
    if schema is not None or str(name).endswith(".csv"):
        if schema is None:
            raise ValueError(f"{name} is a CSV path: pass schema=TableSchema(...) naming its columns.")
        path = Path(name)
        if not path.is_file():
            raise DataNotFoundError(f"CSV file {path} does not exist.")
        frame = _read_csv(path)
        schema = TableSchema.from_mapping(schema)
        schema.check(frame)
        return Table(path.stem, frame, schema, "real", str(path))
    if name not in TABLES:
        raise ValueError(f"Unknown table {name!r}; choose one of {sorted(TABLES)} or pass a CSV path and schema.")
    spec, mode = TABLES[name], data_mode()
    frame, origin = None, ""
    if mode != "standin":
        path = _local_file(spec)
        if path is not None:
            frame, origin = _read_csv(path), str(path)
        elif spec.url is None:
            frame, origin = _from_sklearn(name), "scikit-learn"
        else:
            frame, origin = _fetch(name, spec), spec.url
    if frame is not None:
        frame, source = _normalise(name, frame), "real"
    elif mode == "real":
        raise DataNotFoundError(
            f"Real table {name!r} ({spec.filename}) was not found in $COURSE_DATA_ROOT/tabular or "
            f"{runtime.data_cache_dir() / 'tabular'} and could not be downloaded from {spec.url}. "
            f"Download it by hand into one of those folders, or point COURSE_DATA_ROOT at a folder "
            f"holding tabular/{spec.filename}; or unset COURSE_DATA to continue with a stand-in.")
    else:
        if mode == "auto":
            runtime.warn_caller(f"STAND-IN DATA: real table {name!r} is not available; using procedural rows "
                                f"with the same columns. They are not patients.")
        frame, source, origin = standin_table(name, spec), "stand-in", "procedural"
    if name == "breast_cancer" and source == "stand-in":
        frame["diagnosis"] = np.where(frame["target"] == 0, "malignant", "benign")
    schema = spec.schema
    schema.check(frame)
    runtime.note_data_source(name, source)
    return Table(name, frame, schema, source, origin)
