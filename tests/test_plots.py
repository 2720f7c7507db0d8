"""utils.plots: every function draws what it promises and marks stand-in data."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from utils import plots, runtime  # noqa: E402

CLASSES = ["normal", "benign", "malignant"]


pytestmark = pytest.mark.usefixtures("clean_figures_and_sources")


def gray(n=6, size=8):
    return torch.rand(n, 1, size, size) * 2 - 1


def rgb(n=6, size=8):
    return np.random.default_rng(0).uniform(-1, 1, (n, 3, size, size))


def tables():
    rng = np.random.default_rng(0)
    frames = []
    for shift in (0.0, 0.5):
        age = rng.normal(60 + shift, 10, 200)
        frames.append(pd.DataFrame({
            "age": age,
            "bp": age * 0.5 + rng.normal(0, 5, 200),
            "bmi": rng.normal(27, 4, 200),
            "sex": rng.choice(["F", "M"], 200),
        }))
    return frames


# One call per public drawing function, each with its expected number of axes.
CASES = {
    "image_grid": (lambda s: plots.image_grid(gray(10), nrow=4, title="t", source=s), 1),
    "image_grid_labels": (
        lambda s: plots.image_grid(gray(5), nrow=3, labels=[0, 1, 2, 0, 1],
                                   class_names=CLASSES, source=s), 5),
    "class_montage": (
        lambda s: plots.class_montage(rgb(9), np.arange(9) % 3, CLASSES, per_class=2,
                                      source=s), 3),
    "class_counts": (lambda s: plots.class_counts([700, 200, 100], CLASSES, source=s), 1),
    "loss_curves": (
        lambda s: plots.loss_curves({"d_loss": [1.0, 0.8, 0.7], "g_loss": [2, 1, 1]},
                                    source=s), 1),
    "samples_over_time": (
        lambda s: plots.samples_over_time([gray(), gray()], epochs=[1, 5], n=4, source=s), 2),
    "real_vs_synthetic": (lambda s: plots.real_vs_synthetic(gray(), gray(), n=4, source=s), 2),
    "nearest_neighbours": (
        lambda s: plots.nearest_neighbours(gray(3), gray(5), [4, 0, 2], [0.1, 0.2, 0.3],
                                           source=s), 6),
    "learning_curves": (
        lambda s: plots.learning_curves([10, 100, 1000], [0.9, 0.95, 0.97], [0.5, 0.6, 0.7],
                                        source=s), 1),
    "per_class_bars": (
        lambda s: plots.per_class_bars({"none": [0.9, 0.5, 0.2], "gan": [0.9, 0.6, 0.4]},
                                       CLASSES, source=s), 1),
    "subgroup_bars": (lambda s: plots.subgroup_bars({"F": 0.1, "M": 0.2}, source=s), 1),
    "scatter_2d": (lambda s: plots.scatter_2d(np.zeros((5, 2)), torch.ones(7, 2), source=s), 1),
    "marginals": (lambda s: plots.marginals(*tables(), ["age", "sex"], source=s), 2),
    "correlation_pair": (lambda s: plots.correlation_pair(*tables(), source=s), 5),
}


@pytest.mark.parametrize("name", CASES)
def test_returns_figure_with_expected_axes(name):
    draw, n_axes = CASES[name]
    fig = draw("real")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes


@pytest.mark.parametrize("name", CASES)
def test_standin_mark_follows_source(name):
    draw, _ = CASES[name]
    marked = draw("stand-in")
    texts = [t for t in marked.texts if t.get_gid() == plots.STANDIN_GID]
    assert len(texts) == 1 and texts[0].get_text() == plots.STANDIN_LABEL
    assert texts[0].get_visible()
    assert not plots.has_standin_mark(draw("real"))


@pytest.mark.parametrize("name", ["image_grid", "class_counts", "correlation_pair"])
def test_default_source_follows_runtime(name):
    draw, _ = CASES[name]
    runtime.note_data_source("breastmnist", "real")
    assert not plots.has_standin_mark(draw(None))
    runtime.note_data_source("pathmnist", "stand-in")
    assert plots.has_standin_mark(draw(None))
    assert not plots.has_standin_mark(draw("real"))  # an explicit "real" wins


def test_mark_added_once_when_drawing_twice_on_one_axes():
    fig, ax = plt.subplots()
    plots.class_counts([1, 2, 3], CLASSES, ax=ax, source="stand-in")
    assert plots.loss_curves({"d_loss": [1], "g_loss": [2]}, ax=ax, source="stand-in") is fig
    assert sum(t.get_gid() == plots.STANDIN_GID for t in fig.texts) == 1


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="source must be"):
        plots.class_counts([1, 2, 3], CLASSES, source="fake")


def test_pixels_mapped_from_minus_one_one_to_unit_range():
    images = -torch.ones(2, 1, 4, 4)
    images[0, 0, 0, 0] = 0.0
    images[1, 0, 0, 0] = 1.0
    montage = plots.image_grid(images, nrow=2, source="real").axes[0].images[0]
    pad = plots._PAD
    assert montage.get_cmap().name == "gray"
    pixels = montage.get_array()
    assert pixels[pad, pad] == pytest.approx(0.5)
    assert pixels[pad, pad + 4 + pad] == pytest.approx(1.0)
    assert pixels[pad + 1, pad + 1] == pytest.approx(0.0)

    captioned = plots.image_grid(images, labels=[0, 1], source="real")
    assert captioned.axes[0].images[0].get_array()[0, 0] == pytest.approx(0.5)


def test_rgb_images_shown_in_colour_channels_last():
    images = np.full((1, 3, 4, 4), -1.0)
    images[0, 0] = 1.0  # pure red
    shown = plots.image_grid(images, labels=[2], class_names=CLASSES, source="real")
    pixel = shown.axes[0].images[0].get_array()[0, 0]
    assert np.allclose(pixel, [1.0, 0.0, 0.0])
    assert shown.axes[0].get_title() == "malignant"


def test_class_montage_rows_show_names_and_counts():
    fig = plots.class_montage(gray(7), [0, 0, 0, 1, 1, 1, 1], CLASSES, per_class=2,
                              source="real")
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels == ["normal\n(n = 3)", "benign\n(n = 4)", "malignant\n(n = 0)"]


def test_class_counts_writes_counts_and_percentages():
    fig = plots.class_counts([750, 250], ["no finding", "finding"], source="real")
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["750 (75.0%)", "250 (25.0%)"]
    assert len(fig.axes[0].patches) == 2


class History:
    """Mimics utils.train.History: a mapping-like log, not a dict."""

    def __init__(self, **logs):
        self._logs = logs

    def keys(self):
        return self._logs.keys()

    def __getitem__(self, key):
        return self._logs[key]


def test_loss_curves_smoothing_adds_moving_average():
    history = History(d_loss=[1.0, 3.0, 1.0, 3.0], g_loss=[0.0] * 4, d_real=[0.5] * 4)
    ax = plots.loss_curves(history, smooth=2, source="real").axes[0]
    assert len(ax.lines) == 4  # raw + smoothed for each key
    smoothed = ax.lines[1]
    assert np.allclose(smoothed.get_ydata(), [2.0, 2.0, 2.0])
    assert np.allclose(smoothed.get_xdata(), [1, 2, 3])
    one = plots.loss_curves(history, keys=("d_real",), source="real").axes[0]
    assert len(one.lines) == 1


def test_learning_curves_seed_band_and_log_axis():
    per_size = [[0.5, 0.7], [0.6, 0.8], [0.7, 0.9]]
    per_seed = [[0.5, 0.6, 0.7], [0.7, 0.8, 0.9]]
    for val in (per_size, per_seed):
        ax = plots.learning_curves([10, 100, 1000], [1.0, 1.0, 1.0], val, source="real").axes[0]
        assert ax.get_xscale() == "log"
        assert np.allclose(ax.lines[1].get_ydata(), [0.6, 0.7, 0.8])
        assert len(ax.collections) == 1  # one min-max band, for the seeded line
        plt.close("all")


def test_grouped_and_subgroup_bars_count_patches_and_error_bars():
    ax = plots.per_class_bars({"a": [1, 2, 3], "b": [3, 2, 1]}, CLASSES,
                              errors={"a": [0.1, 0.1, 0.1]}, source="real").axes[0]
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES
    ax = plots.subgroup_bars({"age < 40": 0.1, "age >= 40": 0.3}, errors={"age < 40": 0.02,
                             "age >= 40": 0.05}, source="real").axes[0]
    assert len(ax.patches) == 2
    assert ax.get_ylabel() == "false-negative rate"


def test_scatter_and_tables_draw_both_datasets():
    ax = plots.scatter_2d(np.zeros((5, 2)), np.ones((7, 2)), source="real").axes[0]
    assert [len(c.get_offsets()) for c in ax.collections] == [5, 7]
    fig = plots.marginals(*tables(), ["age", "sex"], source="real")
    assert len(fig.axes[1].patches) == 4  # two categories x (real, synthetic)
    assert [ax.get_title() for ax in fig.axes] == ["age", "sex"]
    fig = plots.correlation_pair(*tables(), source="real")
    assert fig.axes[2].images[0].get_array().shape == (3, 3)  # numeric columns only


def test_save_figure_writes_png(tmp_path):
    fig = plots.class_counts([1, 2, 3], CLASSES, source="stand-in")
    path = plots.save_figure(fig, "counts", folder=tmp_path / "figs")
    assert path == tmp_path / "figs" / "counts.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000


def test_save_figure_defaults_to_build_figures(monkeypatch, tmp_path):
    monkeypatch.setattr(runtime, "repo_root", lambda: tmp_path)
    path = plots.save_figure(plots.class_counts([1], ["a"], source="real"), "one.png")
    assert path == tmp_path / "build" / "figures" / "one.png" and path.is_file()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: plots.image_grid(torch.zeros(4, 8, 8)), r"\(N, C, H, W\)"),
        (lambda: plots.image_grid(torch.zeros(4, 2, 8, 8)), r"C = 1 or 3"),
        (lambda: plots.image_grid(torch.zeros(0, 1, 8, 8)), "empty"),
        (lambda: plots.image_grid(gray(4), labels=[0, 1]), "4 entries"),
        (lambda: plots.class_montage(gray(4), [0, 1], CLASSES), "4 entries"),
        (lambda: plots.class_counts([1, 2], CLASSES), "3 entries"),
        (lambda: plots.loss_curves({"d_loss": [1]}), "available keys"),
        (lambda: plots.samples_over_time([gray()], epochs=[1, 2]), "one entry per snapshot"),
        (lambda: plots.samples_over_time([torch.zeros(2, 8, 8)]), r"\(N, C, H, W\)"),
        (lambda: plots.real_vs_synthetic(gray(), torch.zeros(3, 3)), "fake must have shape"),
        (lambda: plots.nearest_neighbours(gray(3), gray(2), [0, 1], [0.1] * 3),
         r"indices must have shape \(3,\)"),
        (lambda: plots.nearest_neighbours(gray(3), gray(2), [0, 1, 5], [0.1] * 3),
         r"\[0, 2\)"),
        (lambda: plots.learning_curves([10, 100], [1, 1, 1], [1, 1]), "training scores"),
        (lambda: plots.learning_curves([0, 100], [1, 1], [1, 1]), "positive"),
        (lambda: plots.per_class_bars({"a": [1, 2]}, CLASSES), "3 entries"),
        (lambda: plots.subgroup_bars({"F": 0.1, "M": 0.2}, errors={"F": 0.1}), "missing"),
        (lambda: plots.scatter_2d(np.zeros((5, 3)), np.zeros((5, 2))), r"\(N, 2\)"),
        (lambda: plots.marginals(*tables(), ["weight"]), "no columns"),
        (lambda: plots.correlation_pair(tables()[0][["age", "sex"]], tables()[1]),
         "at least 2 numeric"),
    ],
)
def test_bad_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
