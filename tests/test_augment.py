"""utils.augment: classical transforms, synthetic fill-ups, training sets, one arm, verdicts."""
import math

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from utils import augment as A
from utils.models import DCGANGenerator


@pytest.fixture(autouse=True)
def _full_mode(monkeypatch):
    """Tests choose their own sizes; a FAST shell must not change them. One thread: these
    tiny models gain nothing from more, and lose a lot when other processes share the cores."""
    monkeypatch.delenv("COURSE_FAST", raising=False)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def ramp(n=2, channels=3):
    """Images whose pixel value grows left to right: flips and shifts are easy to see."""
    row = torch.linspace(-1, 1, 28)
    return row.view(1, 1, 1, 28).expand(n, channels, 28, 28).clone()


def toy_set(n_per_class=(12, 12), channels=1, seed=0):
    """Class 1 has a bright square in the middle, class 0 does not: an easy task."""
    g = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for c, n in enumerate(n_per_class):
        x = torch.rand(n, channels, 28, 28, generator=g) * 0.4 - 1
        if c == 1:
            x[:, :, 9:19, 9:19] += 1.5
        xs.append(x.clamp(-1, 1))
        ys.append(torch.full((n,), c, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


# ----------------------------------------------------------------------------- classical
def test_identity_settings_leave_images_unchanged():
    x = torch.rand(4, 3, 28, 28) * 2 - 1
    out = A.classical_augment(x, degrees=0, shift=0, hflip=False, vflip=False, jitter=0)
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_hflip_mirrors_left_and_right():
    x = ramp(64)
    out = A.random_affine(x, degrees=0, shift=0, hflip=True, vflip=False,
                          generator=torch.Generator().manual_seed(0))
    flipped = torch.isclose(out, x.flip(-1), atol=1e-5).flatten(1).all(1)
    same = torch.isclose(out, x, atol=1e-5).flatten(1).all(1)
    assert bool((flipped | same).all())
    assert 10 < int(flipped.sum()) < 54  # about half of the images are flipped


def test_vflip_off_keeps_rows_in_place():
    x = ramp(16).transpose(-1, -2)  # values grow top to bottom
    out = A.random_affine(x, degrees=0, shift=0, hflip=False, vflip=False,
                          generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_shift_moves_content_by_whole_pixels():
    x = torch.full((1, 1, 28, 28), -1.0)
    x[0, 0, 14, 14] = 1.0
    out = A.random_affine(x, degrees=0, shift=3, hflip=False, generator=torch.Generator().manual_seed(3))
    row, col = divmod(int(out.flatten().argmax()), 28)
    assert abs(row - 14) <= 3 and abs(col - 14) <= 3
    assert out.max() <= 1.0 and out.min() >= -1.0


def test_rotation_keeps_centre_and_range():
    x = torch.rand(8, 3, 28, 28) * 2 - 1
    out = A.random_affine(x, degrees=30, shift=0, hflip=False, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert not torch.allclose(out, x)
    assert float(out.min()) >= -1.0 - 1e-6 and float(out.max()) <= 1.0 + 1e-6


def test_color_jitter_stays_in_range_and_grayscale_has_no_saturation():
    x = torch.rand(16, 3, 28, 28) * 2 - 1
    out = A.color_jitter(x, brightness=0.5, contrast=0.5, saturation=0.5, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    gray = torch.rand(4, 1, 28, 28) * 2 - 1
    out = A.color_jitter(gray, brightness=0, contrast=0, saturation=1.0)
    torch.testing.assert_close(out, gray)


def test_brightness_only_adds_the_same_constant_to_every_pixel():
    x = torch.zeros(3, 3, 28, 28)
    out = A.color_jitter(x, brightness=0.2, contrast=0, saturation=0, generator=torch.Generator().manual_seed(1))
    per_image = out.flatten(1)
    assert torch.allclose(per_image, per_image[:, :1].expand_as(per_image))
    assert float(per_image.abs().max()) <= 0.2 + 1e-6


def test_same_generator_seed_gives_same_augmentation():
    x = torch.rand(5, 3, 28, 28) * 2 - 1
    a = A.classical_augment(x, generator=torch.Generator().manual_seed(7))
    b = A.classical_augment(x, generator=torch.Generator().manual_seed(7))
    c = A.classical_augment(x, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_augment_rejects_non_images():
    with pytest.raises(ValueError, match="N, C, H, W"):
        A.classical_augment(torch.zeros(28, 28))


def test_augmented_copies_counts_and_labels():
    x, y = toy_set((5, 3))
    ax, ay = A.augmented_copies(x, y, [2, 7], seed=0)
    assert ax.shape == (9, 1, 28, 28)
    assert ay.tolist() == [0, 0] + [1] * 7
    # class-1 copies keep the bright square (a small shift cannot move it out of the centre)
    assert float(ax[ay == 1][:, :, 12:16, 12:16].mean()) > float(ax[ay == 0][:, :, 12:16, 12:16].mean()) + 0.5
    ex, ey = A.augmented_copies(x, y, [0, 0])
    assert len(ex) == 0 and len(ey) == 0
    with pytest.raises(ValueError, match="class 1 has no real image"):
        A.augmented_copies(x[y == 0], y[y == 0], [1, 1])


# ----------------------------------------------------------------------------- counts and sampling
def test_balanced_counts_known_values():
    assert A.balanced_counts([10, 3, 0]).tolist() == [0, 7, 10]
    assert A.balanced_counts([10, 3, 0], target=5).tolist() == [0, 2, 5]
    assert A.balanced_counts(np.array([4, 4])).tolist() == [0, 0]
    with pytest.raises(ValueError):
        A.balanced_counts([3, -1])
    with pytest.raises(ValueError):
        A.balanced_counts([3, 1], target=-2)


def test_sample_per_class_conditional_and_per_class_generators():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=8, channels=1, base=8, n_classes=3)
    x, y = A.sample_per_class(G, [2, 0, 3], 8, seed=1)
    assert x.shape == (5, 1, 28, 28) and y.tolist() == [0, 0, 2, 2, 2]
    x2, _ = A.sample_per_class(G, [2, 0, 3], 8, seed=1)
    torch.testing.assert_close(x, x2)
    G0, G1 = DCGANGenerator(8, 1, 8), DCGANGenerator(8, 1, 8)
    x, y = A.sample_per_class({0: G0, 1: G1}, [1, 4], 8)
    assert x.shape == (5, 1, 28, 28) and y.tolist() == [0, 1, 1, 1, 1]
    x, y = A.sample_per_class([G0, None], [3, 0], 8)
    assert y.tolist() == [0, 0, 0]
    ex, ey = A.sample_per_class(G, [0, 0, 0], 8)
    assert ex.shape == (0, 1, 28, 28) and ey.shape == (0,)
    with pytest.raises(ValueError, match="no generator for class 1"):
        A.sample_per_class([G0, None], [1, 1], 8)


def test_build_training_set_concatenates_in_order():
    x, y = toy_set((3, 2))
    extra = (torch.zeros(4, 1, 28, 28), torch.tensor([1, 1, 0, 1]))
    ds = A.build_training_set((x, y), None, extra)
    assert isinstance(ds, TensorDataset) and len(ds) == 9
    assert ds.tensors[1].tolist() == y.tolist() + [1, 1, 0, 1]
    assert ds.tensors[1].dtype == torch.long
    with pytest.raises(ValueError, match="image shape"):
        A.build_training_set((x, y), (torch.zeros(2, 3, 28, 28), torch.zeros(2, dtype=torch.long)))
    with pytest.raises(ValueError):
        A.build_training_set(None)


def test_train_loader_fixed_epoch_length_and_augmentation():
    x, y = toy_set((6, 4))
    loader = A.make_train_loader((x, y), batch_size=8, samples_per_epoch=30)
    assert sum(len(b[1]) for b in loader) == 30
    plain = torch.cat([b[0] for b in A.make_train_loader((x, y), batch_size=10, seed=3)])
    augmented = torch.cat([b[0] for b in A.make_train_loader((x, y), batch_size=10, seed=3, augment=True)])
    assert not torch.allclose(plain, augmented)


# ----------------------------------------------------------------------------- one arm
def test_run_arm_learns_an_easy_task_and_reports_metrics():
    train = toy_set((40, 40), seed=0)
    test = toy_set((20, 10), seed=1)
    out = A.run_arm(train, test, n_classes=2, epochs=6, seed=0, width=8, val=test, batch_size=16)
    assert set(out) >= {"balanced_accuracy", "recall", "macro_auc", "history", "model"}
    assert len(out["recall"]) == 2
    assert out["macro_auc"] > 0.9 and out["balanced_accuracy"] > 0.8
    assert "val_loss" in out["history"].keys() and len(out["history"]["train_loss"]) == 6
    again = A.run_arm(train, test, n_classes=2, epochs=6, seed=0, width=8, val=test, batch_size=16)
    assert again["macro_auc"] == pytest.approx(out["macro_auc"])


def test_evaluate_balanced_accuracy_is_mean_recall():
    test = toy_set((20, 10), seed=1)

    class Oracle(torch.nn.Module):  # says class 1 when the centre is bright: always right
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            bright = x[:, 0, 12:16, 12:16].mean((1, 2))
            return torch.stack([-bright, bright], 1) + 0 * self.dummy

    out = A.evaluate(Oracle(), test, n_classes=3)
    assert out["balanced_accuracy"] == pytest.approx(1.0)
    assert out["recall"][:2] == [1.0, 1.0] and math.isnan(out["recall"][2])
    assert out["macro_auc"] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- over seeds
def test_summarize_uses_sample_std():
    mean, std = A.summarize([1.0, 2.0, 3.0, 4.0])
    assert mean == pytest.approx(2.5) and std == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    mean, std = A.summarize([0.7])
    assert mean == pytest.approx(0.7) and math.isnan(std)


def test_confidence_halfwidth_known_value():
    # t(0.975, df=2) = 4.302653
    assert A.confidence_halfwidth(1.0, 3) == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert math.isnan(A.confidence_halfwidth(1.0, 1))


def test_verdict_reads_each_case():
    assert "evidence that it helped" in A.verdict("GAN", "recall", 0.10, 0.01, 3)
    assert "evidence that it hurt" in A.verdict("GAN", "recall", -0.10, 0.01, 3)
    text = A.verdict("GAN", "recall", 0.02, 0.05, 3)
    assert "no evidence" in text and "+2.0 ± 5.0 points" in text
    assert "one seed" in A.verdict("GAN", "recall", 0.02, float("nan"), 1)
    lower = A.verdict("synthetic", "val loss", -0.2, 0.01, 3, scale=1, unit="", better="lower", digits=3)
    assert "evidence that it helped" in lower and "-0.200 ± 0.010" in lower
    neutral = A.verdict("synthetic", "train loss", 0.2, 0.01, 3, scale=1, unit="", better=None)
    assert "evidence that it raised train loss" in neutral
    with pytest.raises(ValueError):
        A.verdict("x", "y", 0.1, 0.1, 3, better="up")
