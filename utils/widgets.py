"""A visual Turing test: is this image real or synthetic?

The logic lives in the plain class ``TuringTest`` (testable without a front end); two
views sit on top of it:

* ``turing_test_widget(test)``: ipywidgets for JupyterLab, one image at a time with
  "Real" / "Synthetic" buttons and a live score (CSS classes ``turing-test``,
  ``turing-real``, ``turing-synthetic``, ``turing-score`` for browser tests);
* ``static_turing_test(test)``: a numbered grid of all rounds, for graders, headless runs
  and PDF exports; ``test.answer_all("RSSR...")`` scores written guesses and
  ``test.reveal()`` prints the key.

Widgets hang autograders, so notebooks show the widget only when ``interactive_available()``
(never under nbgrader; not in FAST mode unless ``COURSE_WIDGETS=1``).
"""
from __future__ import annotations

import io
import math
import os

import numpy as np

from utils import runtime

CSS_BOX, CSS_REAL, CSS_SYNTHETIC, CSS_SCORE = "turing-test", "turing-real", "turing-synthetic", "turing-score"


def _as_images(images, name: str) -> np.ndarray:
    if hasattr(images, "x") and not isinstance(images, np.ndarray):  # ImageData
        images = images.x
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have shape (N, C, H, W) with C = 1 or 3, got {arr.shape}")
    return arr


class TuringTest:
    """``n_rounds`` images, about half real and half synthetic, in a seeded random order.

    ``question(i)`` gives round i's image (C, H, W) in [-1, 1]; ``answer(i, says_real)``
    records a verdict (answering again replaces it) and returns whether it was right;
    ``score()`` sums up. With an odd ``n_rounds`` the seed decides which kind gets the extra.
    """

    def __init__(self, real, fake, n_rounds: int = 10, seed: int = 0):
        real, fake = _as_images(real, "real"), _as_images(fake, "fake")
        if real.shape[1:] != fake.shape[1:]:
            raise ValueError(f"real and fake images differ in shape: {real.shape[1:]} vs {fake.shape[1:]}")
        if int(n_rounds) != n_rounds or n_rounds < 2:
            raise ValueError(f"n_rounds must be an integer >= 2, got {n_rounds!r}")
        n_rounds = int(n_rounds)
        rng = np.random.default_rng(seed)
        n_real = n_rounds // 2 + (int(rng.integers(2)) if n_rounds % 2 else 0)
        n_fake = n_rounds - n_real
        if len(real) < n_real or len(fake) < n_fake:
            raise ValueError(f"{n_rounds} rounds need {n_real} real and {n_fake} fake images; "
                             f"got {len(real)} and {len(fake)}")
        picked = np.concatenate([real[rng.choice(len(real), n_real, replace=False)],
                                 fake[rng.choice(len(fake), n_fake, replace=False)]])
        truth = np.array([True] * n_real + [False] * n_fake)
        order = rng.permutation(n_rounds)
        self._images, self._is_real = picked[order], truth[order]
        self._answers: list[bool | None] = [None] * n_rounds

    @property
    def n_rounds(self) -> int:
        return len(self._is_real)

    def __len__(self) -> int:
        return self.n_rounds

    def _check(self, i) -> int:
        if int(i) != i or not 0 <= i < self.n_rounds:
            raise IndexError(f"round {i!r} does not exist: rounds are 0..{self.n_rounds - 1}")
        return int(i)

    def question(self, i: int) -> np.ndarray:
        """The image of round ``i``, shape (C, H, W), values in [-1, 1] (a copy)."""
        return self._images[self._check(i)].copy()

    def answer(self, i: int, says_real: bool) -> bool:
        """Record the verdict for round ``i``; return True when it was right."""
        i = self._check(i)
        self._answers[i] = bool(says_real)
        return self._answers[i] == bool(self._is_real[i])

    def answer_all(self, guesses) -> dict:
        """Score written guesses: a string like "RSSR..." (R = real, S = synthetic) or booleans."""
        if isinstance(guesses, str):
            letters = [c for c in guesses.upper() if not c.isspace() and c not in ",;"]
            bad = sorted({c for c in letters if c not in "RS"})
            if bad:
                raise ValueError(f"guesses must use R (real) and S (synthetic) only; found {bad}")
            guesses = [c == "R" for c in letters]
        guesses = list(guesses)
        if len(guesses) != self.n_rounds:
            raise ValueError(f"expected {self.n_rounds} guesses (one per image), got {len(guesses)}")
        for i, says_real in enumerate(guesses):
            self.answer(i, says_real)
        return self.score()

    def is_real(self, i: int) -> bool:
        """The key for round ``i``."""
        return bool(self._is_real[self._check(i)])

    def next_unanswered(self) -> int | None:
        """The first round without an answer, or None when all are answered."""
        return next((i for i, a in enumerate(self._answers) if a is None), None)

    def score(self) -> dict:
        """Correct / answered, accuracy, how each kind was judged, and the chance of guessing as well.

        ``real_called_real`` is the fraction of real images judged real, ``synthetic_caught``
        the fraction of synthetic images judged synthetic (NaN until one is answered).
        ``p_value`` is the probability of at least this many correct answers by coin flips:
        a high p-value means the player could not tell real from synthetic.
        """
        answers = np.array([a if a is not None else False for a in self._answers])
        done = np.array([a is not None for a in self._answers])
        right = done & (answers == self._is_real)
        answered, correct = int(done.sum()), int(right.sum())

        def rate(mask):
            return float(right[mask & done].mean()) if (mask & done).any() else float("nan")

        p_value = sum(math.comb(answered, j) for j in range(correct, answered + 1)) / 2**answered
        return {"n_rounds": self.n_rounds, "answered": answered, "correct": correct,
                "accuracy": correct / answered if answered else float("nan"),
                "real_called_real": rate(self._is_real), "synthetic_caught": rate(~self._is_real),
                "p_value": float(p_value), "done": answered == self.n_rounds}

    def summary(self) -> str:
        """One sentence on the score, for a label or a print."""
        s = self.score()
        if not s["answered"]:
            return f"No answers yet ({s['n_rounds']} rounds)."
        return (f"{s['correct']} of {s['answered']} correct ({s['accuracy']:.0%}). By coin flips alone, "
                f"{s['p_value']:.0%} of players would score at least this well.")

    def reveal(self) -> str:
        """The answer key, with your verdicts where given."""
        lines = []
        for i, truth in enumerate(self._is_real):
            kind = "real" if truth else "synthetic"
            said = self._answers[i]
            mark = "" if said is None else ("  (you: right)" if said == truth else "  (you: wrong)")
            lines.append(f"#{i + 1:>2}: {kind}{mark}")
        return "\n".join(lines)


def to_png(image, scale: int = 8) -> bytes:
    """PNG bytes of one (C, H, W) image in [-1, 1], enlarged ``scale`` times (nearest pixel)."""
    from PIL import Image

    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[0] not in (1, 3):
        raise ValueError(f"image must have shape (C, H, W) with C = 1 or 3, got {arr.shape}")
    pixels = np.clip((arr + 1) * 127.5, 0, 255).round().astype(np.uint8).transpose(1, 2, 0)
    pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def interactive_available() -> bool:
    """Show the widget? Only in a live Jupyter kernel with ipywidgets, never under nbgrader.

    FAST mode shows the static fallback unless ``COURSE_WIDGETS=1`` (browser tests of the
    widget run a FAST kernel); ``COURSE_WIDGETS=0`` always shows the fallback.
    """
    if os.environ.get("NBGRADER_EXECUTION"):
        return False
    forced = os.environ.get("COURSE_WIDGETS", "").strip().lower()
    if forced in ("0", "false", "no", "off"):
        return False
    if runtime.is_fast() and forced not in ("1", "true", "yes", "on"):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def turing_test_widget(test: TuringTest, scale: int = 8):
    """An ipywidgets VBox: the current image, "Real" / "Synthetic" buttons and a live score.

    Each click answers the current round, updates the score label and shows the next
    image; after the last round the buttons are disabled and the summary is shown. The
    box keeps handles for tests: ``box.test``, ``box.real_button``,
    ``box.synthetic_button``, ``box.image``, ``box.score_label``.
    """
    import ipywidgets as widgets

    first = test.next_unanswered()
    side = f"{test.question(0).shape[-1] * scale}px"  # fixed size: JupyterLab would stretch it to full width
    image = widgets.Image(value=to_png(test.question(0 if first is None else first), scale), format="png",
                          layout=widgets.Layout(width=side, height=side, object_fit="contain"))
    real_button = widgets.Button(description="Real", button_style="success",
                                 tooltip="I think this image is a real patient image")
    synthetic_button = widgets.Button(description="Synthetic", button_style="danger",
                                      tooltip="I think a generator made this image")
    real_button.add_class(CSS_REAL)
    synthetic_button.add_class(CSS_SYNTHETIC)
    score_label = widgets.HTML()
    score_label.add_class(CSS_SCORE)
    state = {"current": first}

    def refresh(feedback: str = "") -> None:
        s = test.score()
        if state["current"] is None:
            real_button.disabled = synthetic_button.disabled = True
            score_label.value = f"{feedback}<b>Done.</b> Score: {s['correct']} / {s['answered']}. {test.summary()}"
            return
        counted = f"Score: {s['correct']} / {s['answered']}" if s["answered"] else "Score: 0 / 0"
        score_label.value = f"{feedback}{counted} &middot; image {state['current'] + 1} of {test.n_rounds}"

    def on_verdict(says_real: bool) -> None:
        i = state["current"]
        if i is None:
            return
        right = test.answer(i, says_real)
        truth = "real" if test.is_real(i) else "synthetic"
        feedback = f"{'Right' if right else 'Wrong'}: image {i + 1} was {truth}. "
        state["current"] = test.next_unanswered()
        if state["current"] is not None:
            image.value = to_png(test.question(state["current"]), scale)
        refresh(feedback)

    real_button.on_click(lambda _button: on_verdict(True))
    synthetic_button.on_click(lambda _button: on_verdict(False))
    title = widgets.HTML("<b>Visual Turing test:</b> is this image real or synthetic?")
    box = widgets.VBox([title, image, widgets.HBox([real_button, synthetic_button]), score_label])
    box.add_class(CSS_BOX)
    box.test, box.image, box.score_label = test, image, score_label
    box.real_button, box.synthetic_button = real_button, synthetic_button
    refresh()
    return box


def static_turing_test(test: TuringTest, ncol: int | None = None, source=None):
    """The fallback without a front end: every round in one numbered grid (no answers shown).

    Write down R or S for each number, score it with ``test.answer_all("RS...")`` and print
    ``test.reveal()`` afterwards.
    """
    from utils import plots

    images = np.stack([test.question(i) for i in range(test.n_rounds)])
    ncol = ncol or min(6, test.n_rounds)
    names = [f"#{i + 1}" for i in range(test.n_rounds)]
    return plots.image_grid(images, nrow=ncol, labels=np.arange(test.n_rounds), class_names=names,
                            title="Visual Turing test: real or synthetic?", source=source)
