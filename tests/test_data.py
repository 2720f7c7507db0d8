"""utils.data: real files first, checked; loud stand-ins; clear errors; subsets and tables."""
import os
import shutil
import warnings

import numpy as np
import pytest
import torch

from conftest import real_medmnist_root
from utils import runtime
from utils.data import (
    DataError,
    DataNotFoundError,
    TableSchema,
    balanced_subset,
    class_counts,
    class_subset,
    fraction_subset,
    load_medmnist,
    load_table,
    make_loader,
)
from utils.data import images as images_module
from utils.data.standin import KNOWN_COUNTS

needs_tables = pytest.mark.skipif(
    not (os.environ.get("COURSE_DATA_ROOT") and os.path.isdir(os.path.join(os.environ["COURSE_DATA_ROOT"], "tabular"))),
    reason="real clinical tables not found (set COURSE_DATA_ROOT or provide ../shared/data/tabular)")
needs_real = pytest.mark.skipif(real_medmnist_root() is None,
                                reason="real MedMNIST files not found (set MEDMNIST_ROOT or provide ../shared/data/medmnist)")


@needs_real
def test_real_breastmnist_loads_with_expected_counts(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "real")
    data = load_medmnist("breastmnist", "train")
    assert data.source == "real"
    assert len(data) == 546
    assert data.x.shape == (546, 1, 28, 28) and data.x.dtype == torch.float32
    assert data.x.min() >= -1 and data.x.max() <= 1
    assert class_counts(data).tolist() == [147, 399]
    assert data.class_names == ["malignant", "normal, benign"]
    assert runtime.data_sources()["breastmnist"] == "real"


@needs_real
def test_real_pneumoniamnist_all_splits(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "real")
    sizes = {split: len(load_medmnist("pneumoniamnist", split)) for split in ("train", "val", "test")}
    assert sizes == {"train": 4708, "val": 524, "test": 624}


@needs_real
def test_corrupt_file_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "breastmnist.npz"
    shutil.copy(real_medmnist_root() / "breastmnist.npz", bad)
    with open(bad, "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 64)
    monkeypatch.setenv("MEDMNIST_ROOT", str(tmp_path))
    with pytest.raises(DataError, match="checksum.*delete it"):
        load_medmnist("breastmnist")


def test_required_real_data_fails_fast_with_instructions(empty_data_env, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "real")
    with pytest.raises(DataNotFoundError) as err:
        load_medmnist("dermamnist")
    message = str(err.value)
    assert "MEDMNIST_ROOT" in message and "download=True" in message and "zenodo" in message


def test_missing_data_falls_back_to_a_loud_standin(empty_data_env):
    with pytest.warns(UserWarning, match="STAND-IN DATA") as record:
        data = load_medmnist("dermamnist", "train")
    assert record[0].filename == __file__, "the warning must name the caller's line, not the library's"
    assert data.source == "stand-in"
    assert data.x.shape == (7007, 3, 28, 28)
    assert class_counts(data).tolist() == KNOWN_COUNTS["dermamnist"]["train"]
    assert runtime.data_sources()["dermamnist"] == "stand-in" and runtime.any_standin()
    assert "STAND-IN" in runtime.banner(data.source)


def test_forced_standin_is_quiet_and_deterministic(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "standin")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = load_medmnist("breastmnist", "val")
    b = load_medmnist("breastmnist", "val")
    assert a.source == "stand-in" and torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert class_counts(a).tolist() == KNOWN_COUNTS["breastmnist"]["val"]


def test_standin_images_carry_class_structure(monkeypatch):
    """A nearest-class-mean classifier beats chance by a wide margin on the stand-in."""
    monkeypatch.setenv("COURSE_DATA", "standin")
    train, test = load_medmnist("dermamnist", "train"), load_medmnist("dermamnist", "test")
    means = torch.stack([train.x[train.y == c].mean(0).flatten() for c in range(7)])
    predicted = torch.cdist(test.x.flatten(1), means).argmin(1)
    recall = [(predicted[test.y == c] == c).float().mean().item() for c in range(7)]
    assert np.mean(recall) > 0.4  # chance is 1/7


def test_download_is_attempted_when_missing(empty_data_env, monkeypatch):
    calls = []
    monkeypatch.setattr(images_module, "download", lambda flag, size: calls.append((flag, size)))
    with pytest.warns(UserWarning):
        load_medmnist("breastmnist")
    assert calls == [("breastmnist", 28)]


def test_offline_probe_returns_quickly(monkeypatch):
    from utils.data.policy import network_reachable

    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    assert network_reachable("192.0.2.1", timeout=0.5) is False  # TEST-NET-1: never routable


@pytest.mark.parametrize("flag, split, size, match", [
    ("dermamnist3d", "train", 28, "Unknown 2D MedMNIST flag"),
    ("organmnist3d", "train", 28, "Unknown 2D MedMNIST flag"),
    ("dermamnist", "training", 28, "split must be one of"),
    ("dermamnist", "train", 32, "size must be"),
])
def test_bad_arguments_get_clear_errors(flag, split, size, match):
    with pytest.raises(ValueError, match=match):
        load_medmnist(flag, split, size)


def test_bad_course_data_setting(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "maybe")
    with pytest.raises(ValueError, match="COURSE_DATA"):
        load_medmnist("breastmnist")


def test_subsets_keep_metadata_and_proportions(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "standin")
    data = load_medmnist("dermamnist", "train")
    small = fraction_subset(data, 0.05, seed=1)
    counts = class_counts(small)
    assert abs(len(small) - 0.05 * len(data)) <= 7
    assert counts.min() >= 1 and np.argmax(counts) == 5  # nevi stay the majority
    balanced = balanced_subset(data, per_class=50, seed=0)
    assert class_counts(balanced).tolist() == [50] * 7
    melanoma = class_subset(data, 4)
    assert len(melanoma) == 779 and set(melanoma.y.tolist()) == {4}
    assert melanoma.class_names == data.class_names and melanoma.source == "stand-in"
    assert torch.equal(fraction_subset(data, 0.05, seed=1).y, small.y)
    with pytest.raises(ValueError, match="out of range"):
        class_subset(data, 9)
    with pytest.raises(ValueError, match="fraction"):
        fraction_subset(data, 0)


def test_loader_order_is_fixed_by_seed(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "standin")
    data = load_medmnist("breastmnist", "test")
    first = [y for _, y in make_loader(data, 32, seed=3)]
    second = [y for _, y in make_loader(data, 32, seed=3)]
    other = [y for _, y in make_loader(data, 32, seed=4)]
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))
    images, labels = next(iter(make_loader(data, 16)))
    assert images.shape == (16, 1, 28, 28) and labels.dtype == torch.long


# ---- clinical tables -------------------------------------------------------------------

EXPECTED_ROWS = {"ilpd": 583, "flchain": 7874, "diabetes": 442, "breast_cancer": 569, "icu": 200}


@needs_tables
@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
def test_real_tables_load_with_schema(name, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "real")
    table = load_table(name)
    assert table.source == "real" and len(table) == EXPECTED_ROWS[name]
    for column in table.schema.features + [table.schema.target]:
        assert column in table.frame.columns
    assert not set(table.schema.leaky) & set(table.schema.features)
    labels = table.labels()
    assert set(np.unique(labels)) == {0, 1}


@needs_tables
def test_liver_table_matches_uci_documentation(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "real")
    table = load_table("ilpd")
    assert table.frame["Gender"].value_counts().to_dict() == {"Male": 441, "Female": 142}
    assert int(table.labels().sum()) == 416
    assert len(table.complete_cases()) == 579  # four missing A/G ratios


@needs_tables
def test_icu_keeps_coma_none_as_a_level(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "real")
    coma = load_table("icu").frame["coma"]
    assert coma.isna().sum() == 0 and (coma == "None").sum() == 185


def test_tables_fall_back_loudly_and_fail_when_real_required(empty_data_env, monkeypatch):
    with pytest.warns(UserWarning, match="STAND-IN DATA") as record:
        table = load_table("flchain")
    assert record[0].filename == __file__
    assert table.source == "stand-in" and len(table) == 7874
    assert set(table.schema.features) <= set(table.frame.columns)
    monkeypatch.setenv("COURSE_DATA", "real")
    with pytest.raises(DataNotFoundError, match="COURSE_DATA_ROOT"):
        load_table("ilpd")


def test_scikit_learn_tables_need_no_files(empty_data_env):
    table = load_table("diabetes")
    assert table.source == "real" and table.origin == "scikit-learn"
    assert table.frame["progression_high"].sum() == (table.frame["target"] > 140).sum()


def test_any_csv_with_a_schema(tmp_path):
    path = tmp_path / "cohort.csv"
    path.write_text("age,sex,outcome\n50,F,1\n60,M,0\n")
    schema = TableSchema(continuous=("age",), categorical=("sex",), target="outcome", positive=1, sensitive="sex")
    table = load_table(path, schema=schema)
    assert table.labels().tolist() == [1, 0]
    with pytest.raises(ValueError, match="schema"):
        load_table(str(path))
    bad = TableSchema(continuous=("bmi",), categorical=(), target="outcome", positive=1)
    with pytest.raises(DataError, match="bmi"):
        load_table(path, schema=bad)
    with pytest.raises(ValueError, match="Unknown table"):
        load_table("mimic")


def test_csv_schema_given_as_a_dict(tmp_path):
    """Notebooks receive TABLE_SCHEMA from papermill as a plain dict with lists."""
    path = tmp_path / "cohort.csv"
    path.write_text("age,sex,outcome\n50,F,1\n60,M,0\n")
    table = load_table(path, schema={"continuous": ["age"], "categorical": ["sex"], "target": "outcome",
                                     "positive": 1, "sensitive": "sex"})
    assert table.schema.continuous == ("age",) and table.schema.features == ["age", "sex"]
    with pytest.raises(ValueError, match="unknown keys \\['sensitve'\\]"):
        load_table(path, schema={"continuous": ["age"], "categorical": [], "target": "outcome", "positive": 1,
                                 "sensitve": "sex"})
    with pytest.raises(ValueError, match="lacks \\['positive'\\]"):
        load_table(path, schema={"continuous": ["age"], "categorical": [], "target": "outcome"})
