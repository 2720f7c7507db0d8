"""utils.widgets: the visual Turing test's logic, its widget and its static fallback."""
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from utils import runtime, widgets  # noqa: E402
from utils.widgets import TuringTest  # noqa: E402


pytestmark = pytest.mark.usefixtures("clean_figures_and_sources")


def pools(channels=3, n_real=20, n_fake=15):
    """Real images are all +0.5, fake ones all -0.5: the key can be read off each image."""
    real = torch.full((n_real, channels, 28, 28), 0.5)
    fake = np.full((n_fake, channels, 28, 28), -0.5, dtype=np.float32)
    return real, fake


def truth_of(test, i):
    return bool(test.question(i).mean() > 0)


def test_rounds_are_half_real_and_match_the_key():
    test = TuringTest(*pools(), n_rounds=10, seed=3)
    assert len(test) == test.n_rounds == 10
    kinds = [truth_of(test, i) for i in range(10)]
    assert sum(kinds) == 5
    assert kinds == [test.is_real(i) for i in range(10)]
    assert test.question(0).shape == (3, 28, 28)


def test_order_depends_on_seed_only():
    a = [TuringTest(*pools(), n_rounds=12, seed=1).is_real(i) for i in range(12)]
    b = [TuringTest(*pools(), n_rounds=12, seed=1).is_real(i) for i in range(12)]
    orders = {tuple(TuringTest(*pools(), n_rounds=12, seed=s).is_real(i) for i in range(12)) for s in range(6)}
    assert a == b
    assert len(orders) > 1


def test_odd_rounds_and_grayscale():
    test = TuringTest(*pools(channels=1), n_rounds=7, seed=0)
    n_real = sum(test.is_real(i) for i in range(7))
    assert n_real in (3, 4)
    assert test.question(6).shape == (1, 28, 28)


def test_answers_and_score():
    test = TuringTest(*pools(), n_rounds=6, seed=0)
    assert test.score()["answered"] == 0 and math.isnan(test.score()["accuracy"])
    assert test.summary().startswith("No answers")
    # right on rounds 0..3, wrong on 4, unanswered 5
    for i in range(4):
        assert test.answer(i, test.is_real(i)) is True
    assert test.answer(4, not test.is_real(4)) is False
    s = test.score()
    assert (s["answered"], s["correct"], s["done"]) == (5, 4, False)
    assert s["accuracy"] == pytest.approx(0.8)
    assert s["p_value"] == pytest.approx((5 + 1) / 32)  # P(X >= 4), X ~ Binomial(5, 1/2)
    assert test.next_unanswered() == 5
    test.answer(4, test.is_real(4))  # answering again replaces the verdict
    assert test.score()["correct"] == 5


def test_per_kind_rates():
    test = TuringTest(*pools(), n_rounds=8, seed=2)
    for i in range(8):
        test.answer(i, True)  # call everything real
    s = test.score()
    assert s["real_called_real"] == 1.0 and s["synthetic_caught"] == 0.0
    assert s["accuracy"] == 0.5 and s["done"]


def test_perfect_score_p_value():
    test = TuringTest(*pools(), n_rounds=10, seed=0)
    key = "".join("R" if test.is_real(i) else "S" for i in range(10))
    s = test.answer_all(key.lower())
    assert s["correct"] == 10 and s["p_value"] == pytest.approx(1 / 1024)
    assert "(you: right)" in test.reveal() and "(you: wrong)" not in test.reveal()


def test_answer_all_rejects_bad_guesses():
    test = TuringTest(*pools(), n_rounds=4, seed=0)
    with pytest.raises(ValueError, match="R \\(real\\)"):
        test.answer_all("RXSR")
    with pytest.raises(ValueError, match="expected 4"):
        test.answer_all("RSR")
    assert test.answer_all([True, False, True, False])["answered"] == 4


def test_invalid_inputs():
    real, fake = pools()
    with pytest.raises(ValueError, match="need"):
        TuringTest(real, fake[:2], n_rounds=10)
    with pytest.raises(ValueError, match="shape"):
        TuringTest(real, fake[:, :1], n_rounds=4)
    with pytest.raises(ValueError, match="n_rounds"):
        TuringTest(real, fake, n_rounds=1)
    test = TuringTest(real, fake, n_rounds=4)
    with pytest.raises(IndexError):
        test.question(4)
    with pytest.raises(IndexError):
        test.answer(-1, True)


def test_question_is_a_copy():
    test = TuringTest(*pools(), n_rounds=4, seed=0)
    before = test.is_real(0)
    test.question(0)[:] = -5
    assert truth_of(test, 0) == before


def test_png_is_an_enlarged_png():
    from PIL import Image
    import io

    data = widgets.to_png(np.zeros((3, 28, 28)), scale=4)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(data)).size == (112, 112)
    assert Image.open(io.BytesIO(widgets.to_png(np.zeros((1, 28, 28))))).mode == "L"


def test_widget_buttons_update_the_score():
    test = TuringTest(*pools(), n_rounds=3, seed=0)
    box = widgets.turing_test_widget(test)
    assert widgets.CSS_BOX in box._dom_classes
    assert box.real_button.description == "Real" and widgets.CSS_REAL in box.real_button._dom_classes
    assert box.synthetic_button.description == "Synthetic"
    assert widgets.CSS_SYNTHETIC in box.synthetic_button._dom_classes
    assert widgets.CSS_SCORE in box.score_label._dom_classes
    assert "Score: 0 / 0" in box.score_label.value
    first_png = box.image.value

    right_button = box.real_button if test.is_real(0) else box.synthetic_button
    right_button.click()
    assert test.score()["answered"] == 1 and test.score()["correct"] == 1
    assert "Score: 1 / 1" in box.score_label.value and "Right" in box.score_label.value
    assert box.image.value != first_png or test.is_real(0) == test.is_real(1)

    wrong_button = box.synthetic_button if test.is_real(1) else box.real_button
    wrong_button._click_handlers(wrong_button)  # the path a browser click takes
    assert "Score: 1 / 2" in box.score_label.value and "Wrong" in box.score_label.value
    box.real_button.click()
    assert test.score()["done"]
    assert box.real_button.disabled and box.synthetic_button.disabled
    assert "Done" in box.score_label.value
    box.real_button.click()  # clicks after the end change nothing
    assert test.score()["answered"] == 3


def test_widget_resumes_a_partly_answered_test():
    test = TuringTest(*pools(), n_rounds=4, seed=0)
    test.answer(0, True)
    box = widgets.turing_test_widget(test)
    assert "image 2 of 4" in box.score_label.value


def test_static_fallback_is_a_numbered_grid_without_the_key():
    test = TuringTest(*pools(), n_rounds=8, seed=0)
    fig = widgets.static_turing_test(test, ncol=4)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [f"#{i + 1}" for i in range(8)]
    text = " ".join(titles + [t.get_text() for t in fig.texts])
    assert "synthetic" not in text.replace("real or synthetic", "")


def test_interactive_only_outside_fast_and_grading(monkeypatch):
    monkeypatch.delenv("COURSE_WIDGETS", raising=False)
    monkeypatch.setenv("COURSE_FAST", "1")
    assert widgets.interactive_available() is False
    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert widgets.interactive_available() is False
    monkeypatch.setenv("COURSE_WIDGETS", "1")
    assert widgets.interactive_available() is False, "grading never shows widgets, whatever COURSE_WIDGETS says"
    monkeypatch.delenv("NBGRADER_EXECUTION")
    assert widgets.interactive_available() is False  # pytest is not a Jupyter kernel


class _Kernel:
    kernel = object()


def test_widget_switches_in_a_kernel(monkeypatch):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: _Kernel())
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_WIDGETS", raising=False)
    monkeypatch.setenv("COURSE_FAST", "0")
    assert widgets.interactive_available() is True
    monkeypatch.setenv("COURSE_WIDGETS", "0")
    assert widgets.interactive_available() is False
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("COURSE_WIDGETS", "1")
    assert widgets.interactive_available() is True, "COURSE_WIDGETS=1 shows the widget in FAST mode (browser tests)"
    monkeypatch.delenv("COURSE_WIDGETS")
    assert widgets.interactive_available() is False
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("COURSE_WIDGETS", "1")
    assert widgets.interactive_available() is False
