"""utils.tabular: record encoding, the tabular GAN loop and sampling."""
import numpy as np
import pandas as pd
import pytest
import torch

from utils.data import TableSchema
from utils.tabular import (
    RecordEncoder,
    cpu_threads,
    features_and_labels,
    sample_records,
    split_frame,
    train_tabular_gan,
)

SCHEMA = TableSchema(continuous=("age", "creat"), categorical=("sex", "grade"), target="died",
                     positive="Yes", sensitive="sex", leaky=("futime",))


@pytest.fixture(autouse=True)
def _full_mode(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")


def toy_frame(n=200, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 90, n)
    frame = pd.DataFrame({
        "age": age,
        "creat": np.round(np.exp(rng.normal(0, 0.4, n)), 2),
        "sex": pd.array(rng.choice(["F", "M"], n), dtype="string"),
        "grade": rng.choice([1, 2, 3], n),
        "futime": rng.integers(0, 5000, n),
        "died": np.where(age + rng.normal(0, 10, n) > 70, "Yes", "No"),
    })
    frame.loc[[3, 7], "creat"] = np.nan
    return frame


def test_layout_and_blocks():
    enc = RecordEncoder(SCHEMA).fit(toy_frame())
    assert enc.columns == ["age", "creat", "sex", "grade", "died"]  # leaky futime left out
    assert enc.n_continuous == 2
    assert enc.categorical_sizes == [2, 3, 2]
    assert enc.width == 2 + 2 + 3 + 2
    assert enc.blocks == [("age", "continuous", 0, 1), ("creat", "continuous", 1, 2),
                          ("sex", "categorical", 2, 4), ("grade", "categorical", 4, 7),
                          ("died", "categorical", 7, 9)]
    assert enc.levels_["grade"] == [1, 2, 3] and enc.levels_["died"] == ["No", "Yes"]


def test_transform_values():
    frame = toy_frame()
    enc = RecordEncoder(SCHEMA).fit(frame)
    X = enc.transform(frame)
    assert X.dtype == np.float32 and X.shape == (len(frame), enc.width)
    # one-hot blocks: exactly one 1 per block, at the right level
    np.testing.assert_array_equal(X[:, 4:7].argmax(1), frame["grade"].to_numpy() - 1)
    np.testing.assert_array_equal(X[:, 2:].sum(1), np.full(len(frame), 3.0))
    # continuous: roughly standard normal; missing creatinine = median's code
    assert abs(X[:, 0].mean()) < 0.2 and 0.7 < X[:, 0].std() < 1.3
    median_code = enc.quantile_.transform([[frame["age"].median(), frame["creat"].median()]])[0, 1]
    np.testing.assert_allclose(X[[3, 7], 1], median_code, atol=1e-6)
    # monotone: older patients get larger codes
    order = np.argsort(frame["age"].to_numpy(), kind="stable")
    assert np.all(np.diff(X[order, 0]) >= -1e-6)


def test_round_trip_keeps_values_and_dtypes():
    frame = toy_frame().dropna().reset_index(drop=True)
    enc = RecordEncoder(SCHEMA).fit(frame)
    back = enc.inverse_transform(enc.transform(frame))
    assert list(back.columns) == enc.columns
    for column in enc.columns:
        assert back[column].dtype == frame[column].dtype, column
    pd.testing.assert_frame_equal(back, frame[enc.columns], check_exact=False, rtol=1e-3)


def test_inverse_takes_argmax_of_soft_rows_and_rounds():
    enc = RecordEncoder(SCHEMA, columns=["age", "grade"]).fit(toy_frame())
    soft = np.array([[0.0, 0.2, 0.7, 0.1], [0.3, 0.5, 0.1, 0.4]])
    back = enc.inverse_transform(soft)
    assert back["grade"].tolist() == [2, 1]
    assert back["age"].dtype == np.int64  # whole years stay whole


def test_unseen_level_and_unfitted_errors():
    frame = toy_frame()
    enc = RecordEncoder(SCHEMA)
    with pytest.raises(RuntimeError, match="fit"):
        enc.transform(frame)
    enc.fit(frame)
    bad = frame.head(3).copy()
    bad["grade"] = [1, 9, 2]
    with pytest.raises(ValueError, match=r"grade.*9"):
        enc.transform(bad)
    with pytest.raises(ValueError, match="neither"):
        RecordEncoder(SCHEMA, columns=["age", "futime"])
    with pytest.raises(ValueError, match="shape"):
        enc.inverse_transform(np.zeros((2, enc.width + 1)))


def test_missing_categorical_gets_the_mode():
    frame = toy_frame()
    enc = RecordEncoder(SCHEMA).fit(frame)
    row = frame.head(1).copy()
    row["sex"] = pd.array([pd.NA], dtype="string")
    mode = frame["sex"].mode().iloc[0]
    assert enc.inverse_transform(enc.transform(row))["sex"].iloc[0] == mode


def test_features_and_labels_drop_the_target():
    frame = toy_frame()
    enc = RecordEncoder(SCHEMA).fit(frame)
    X, y = features_and_labels(enc, frame)
    assert X.shape == (len(frame), enc.width - 2)
    np.testing.assert_array_equal(y, (frame["died"] == "Yes").to_numpy().astype(int))


def test_split_is_reproducible_and_disjoint():
    frame = toy_frame().reset_index(names="row")
    a_train, a_test = split_frame(frame, 0.25, seed=3, stratify="died")
    b_train, _ = split_frame(frame, 0.25, seed=3, stratify="died")
    assert a_train["row"].tolist() == b_train["row"].tolist()
    assert not set(a_train["row"]) & set(a_test["row"]) and len(a_test) == 50


def test_gan_learns_and_samples_are_reproducible():
    frame = toy_frame(400)
    enc = RecordEncoder(SCHEMA).fit(frame)
    G, history = train_tabular_gan(enc, frame, epochs=30, batch_size=64, lr=1e-3, progress=False, seed=1)
    assert len(history["d_loss"]) == 30 * 7 and len(history["g_loss"]) == 30 * 7
    assert np.all(np.isfinite(history["d_loss"]))
    synth = sample_records(G, enc, 300, seed=5)
    again = sample_records(G, enc, 300, seed=5)
    pd.testing.assert_frame_equal(synth, again)
    assert list(synth.columns) == enc.columns and len(synth) == 300
    assert set(synth["grade"]) <= {1, 2, 3} and set(synth["died"]) <= {"No", "Yes"}
    # training moved the age distribution towards the real one (untrained G: all near the median)
    assert abs(synth["age"].mean() - frame["age"].mean()) < 10
    assert synth["age"].std() > 5


def test_seed_makes_training_repeatable_and_threads_are_restored():
    frame = toy_frame(100)
    enc = RecordEncoder(SCHEMA).fit(frame)
    before = torch.get_num_threads()
    G1, _ = train_tabular_gan(enc, frame, epochs=2, batch_size=32, progress=False, seed=4)
    G2, _ = train_tabular_gan(enc, frame, epochs=2, batch_size=32, progress=False, seed=4)
    assert torch.get_num_threads() == before
    for p, q in zip(G1.parameters(), G2.parameters()):
        assert torch.equal(p, q)
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_conditional_gan_respects_condition():
    frame = toy_frame(300)
    enc = RecordEncoder(SCHEMA, columns=["age", "creat", "sex"]).fit(frame)
    cond = (frame["died"] == "Yes").to_numpy().astype(int)
    G, D, _ = train_tabular_gan(enc, frame, epochs=2, condition=cond, progress=False,
                                return_discriminator=True)
    assert G.n_classes == 2 and D.n_classes == 2
    np.testing.assert_array_equal(G.condition_counts, np.bincount(cond))
    assert len(sample_records(G, enc, 10, condition=1)) == 10
    assert len(sample_records(G, enc, 10)) == 10
    with pytest.raises(ValueError, match="one int"):
        sample_records(G, enc, 10, condition=[0, 1])
    with pytest.raises(ValueError, match="one integer per row"):
        train_tabular_gan(enc, frame, epochs=1, condition=cond[:5], progress=False)


def test_fast_mode_caps_batches(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    frame = toy_frame(400)
    enc = RecordEncoder(SCHEMA).fit(frame)
    _, history = train_tabular_gan(enc, frame, epochs=2, batch_size=16, progress=False)
    assert len(history["d_loss"]) == 2 * 4


def test_on_epoch_callback_sees_each_epoch():
    frame = toy_frame(100)
    enc = RecordEncoder(SCHEMA).fit(frame)
    seen = []
    train_tabular_gan(enc, frame, epochs=3, batch_size=50, progress=False,
                      on_epoch=lambda epoch, G, D: seen.append((epoch, G.training, D.training)))
    assert seen == [(1, False, False), (2, False, False), (3, False, False)]


def test_figures_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.tabular import auc_bars, quantile_figure

    fig = quantile_figure([1.0, 2.0, np.nan, 10.0], [-1.0, 0.0, 1.0], "kappa")
    assert len(fig.axes) == 2
    plt.close(fig)
    fig = auc_bars({"TRTR": 0.8, "TSTR": 0.75})
    assert len(fig.axes) == 1
    plt.close(fig)
    with pytest.raises(ValueError):
        auc_bars({})


def test_fidelity_statistics_known_values():
    from utils.tabular import correlation_gap, fidelity_table, ks_statistic, total_variation

    assert ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_statistic([1, 2], [5, 6]) == 1.0
    assert ks_statistic([1, 2, 3], [2, 3, 4]) == pytest.approx(1 / 3)
    assert total_variation(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(1 / 3)
    assert total_variation(["a"], ["b"]) == 1.0
    frame = toy_frame()
    enc = RecordEncoder(SCHEMA).fit(frame)
    table = fidelity_table(frame, frame.fillna(0), enc)
    assert list(table.index) == enc.columns and table.loc["sex", "metric"] == "TV"
    assert table.loc["age", "value"] == 0.0 and table.loc["creat", "missing_in_real"] == pytest.approx(0.01)
    assert correlation_gap(frame[["age", "creat"]], frame[["age", "creat"]]) == 0.0
    shuffled = frame.assign(creat=frame["creat"].sample(frac=1, random_state=0).to_numpy())
    assert correlation_gap(frame[["age", "grade"]], shuffled[["age", "grade"]]) == 0.0
    assert correlation_gap(frame[["age", "creat"]], frame.assign(creat=frame["age"])[["age", "creat"]]) > 0.3
