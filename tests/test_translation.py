"""utils.translation: degradations, the U-Net scaffold, the shared training step, evaluation helpers."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from utils import plots, translation


class _AddUp(nn.Module):
    """A decoder stage for the scaffold's tests (nearest up-sampling, skip added after 1x1 projections)."""

    def __init__(self, c_in, c_skip, c_out):
        super().__init__()
        self.coarse, self.fine = nn.Conv2d(c_in, c_out, 1), nn.Conv2d(c_skip, c_out, 1)

    def forward(self, x, skip):
        return self.coarse(F.interpolate(x, scale_factor=2)) + self.fine(skip)


def _images(n=8, c=1, seed=0):
    return torch.rand(n, c, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _mse(a, b):
    return float((a - b).pow(2).mean())


def test_low_dose_keeps_shape_and_range_and_is_seeded():
    x = _images(4, 3)
    a = translation.low_dose(x, 20, torch.Generator().manual_seed(1))
    b = translation.low_dose(x, 20, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert float(a.min()) >= -1 and float(a.max()) <= 1
    assert torch.equal(a, b)


def test_fewer_photons_mean_more_noise_and_dense_tissue_is_noisiest():
    x = _images(16)
    errors = [_mse(translation.low_dose(x, dose, torch.Generator().manual_seed(0)), x) for dose in (5, 50, 5000)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3  # at a high dose the image comes back almost unchanged
    dark, bright = torch.full((64, 1, 28, 28), -0.6), torch.full((64, 1, 28, 28), 0.6)
    noise = [float(translation.low_dose(t, 50, torch.Generator().manual_seed(2)).std()) for t in (dark, bright)]
    assert noise[1] > noise[0], "bright (dense) pixels let fewer photons through, so they must be noisier"


def test_low_dose_rejects_a_non_positive_dose():
    with pytest.raises(ValueError, match="photons"):
        translation.low_dose(_images(1), 0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        translation.low_dose(torch.zeros(28, 28), 10)


def test_low_resolution_averages_blocks_and_shows_them_at_full_size():
    x = _images(2)
    y = translation.low_resolution(x, 4)
    assert y.shape == x.shape
    assert torch.allclose(y[..., :4, :4], x[..., :4, :4].mean(dim=(-2, -1), keepdim=True).expand(2, 1, 4, 4))
    assert torch.allclose(F.avg_pool2d(y, 4), F.avg_pool2d(x, 4), atol=1e-6)
    with pytest.raises(ValueError, match="divide"):
        translation.low_resolution(x, 3)


def test_degradation_validates_and_dispatches():
    with pytest.raises(ValueError, match="task"):
        translation.Degradation("blur", 2)
    with pytest.raises(ValueError, match="integer factor"):
        translation.Degradation("low-resolution", 2.5)
    with pytest.raises(ValueError, match="photons"):
        translation.Degradation("low-dose", -1)
    x = _images(3)
    low_res = translation.Degradation("low-resolution", 2)
    assert torch.equal(low_res(x), translation.low_resolution(x, 2))
    dose = translation.Degradation("low-dose", 30)
    assert torch.equal(translation.degrade_fixed(dose, x, 5), translation.degrade_fixed(dose, x, 5))
    assert "30 photons" in str(dose) and "2x" in str(low_res)


def test_classical_restorers_help_and_keep_flat_images_flat():
    flat = torch.full((2, 1, 28, 28), 0.3)
    assert torch.allclose(translation.gaussian_filter(flat, 1.5), flat, atol=1e-6)
    assert torch.allclose(translation.Degradation("low-resolution", 4).classical(flat), flat, atol=1e-6)
    smooth = translation.gaussian_filter(_images(8), 2.0)  # images with structure larger than the noise
    dose = translation.Degradation("low-dose", 20)
    noisy = translation.degrade_fixed(dose, smooth, 0)
    assert _mse(dose.classical(noisy, 1.0), smooth) < _mse(noisy, smooth)
    assert torch.equal(translation.gaussian_filter(noisy, 0), noisy)


def test_unet_needs_a_decoder_stage_and_keeps_the_image_shape():
    with pytest.raises(TypeError, match="up_block"):
        translation.UNet(1, 8)
    net = translation.UNet(3, 4, up_block=_AddUp)
    y = net(_images(2, 3))
    assert y.shape == (2, 3, 28, 28) and float(y.detach().abs().max()) <= 1
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.zeros(1, 3, 30, 30))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        net(torch.zeros(1, 1, 28, 28))


def _l1(D, degraded, clean, restored):
    return (restored - clean).abs().mean()


def _tiny_d_loss(D, degraded, clean, restored):
    real, fake = D(torch.cat([degraded, clean], 1)), D(torch.cat([degraded, restored.detach()], 1))
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def _tiny_g_loss(D, degraded, clean, restored):
    return F.softplus(-D(torch.cat([degraded, restored], 1))).mean() + 10 * _l1(D, degraded, clean, restored)


def _tiny_d():
    """A one-layer discriminator on (degraded, candidate) stacked as channels (the losses above stack them)."""
    return nn.Conv2d(2, 1, 3, padding=1)


def test_training_is_seeded_and_logs_losses_and_cpu_seconds():
    x = _images(32)
    dose = translation.Degradation("low-dose", 30)
    weights = []
    for _ in range(2):
        torch.manual_seed(0)
        G = translation.UNet(1, 4, up_block=_AddUp)
        history = translation.train_restorer(G, x, dose, _l1, steps=3, batch_size=8, seed=1, device="cpu",
                                             progress=False)
        weights.append(torch.cat([p.detach().flatten() for p in G.parameters()]))
    assert torch.equal(weights[0], weights[1])
    assert len(history["g_loss"]) == 3 and "d_loss" not in history
    assert history.last("cpu_seconds") >= 0 and history.last("wall_seconds") > 0
    assert not G.training


def test_pix2pix_training_updates_both_networks():
    x = _images(16)
    torch.manual_seed(0)
    G, D = translation.UNet(1, 4, up_block=_AddUp), _tiny_d()
    before = [p.detach().clone() for p in D.parameters()]
    history = translation.train_restorer(G, x, translation.Degradation("low-resolution", 2), _tiny_g_loss, D=D,
                                         d_loss=_tiny_d_loss, steps=2, batch_size=4, device="cpu", progress=False)
    assert len(history["d_loss"]) == len(history["g_loss"]) == 2
    assert any(not torch.equal(b, p) for b, p in zip(before, D.parameters()))
    with pytest.raises(ValueError, match="both D and d_loss"):
        translation.train_restorer(G, x, translation.Degradation("low-dose", 5), _l1, D=D, steps=1, progress=False)
    with pytest.raises(ValueError, match="steps"):
        translation.train_restorer(G, x, translation.Degradation("low-dose", 5), _l1, steps=0, progress=False)


def test_restore_and_class_probabilities_leave_the_model_mode_alone():
    G = translation.UNet(1, 4, up_block=_AddUp).train()
    out = translation.restore(G, _images(5), batch=2)
    assert out.shape == (5, 1, 28, 28) and G.training and not out.requires_grad
    clf = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 3)).train()
    probs = translation.class_probabilities(clf, _images(7), batch=3)
    assert probs.shape == (7, 3) and np.allclose(probs.sum(1), 1) and clf.training


def test_ssim_is_one_for_identical_images_and_lower_for_noisy_ones():
    x = translation.gaussian_filter(_images(4), 1.0)
    assert torch.allclose(translation.ssim(x, x), torch.ones(4), atol=1e-5)
    noisy = (x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    values = translation.ssim(noisy, x)
    assert values.shape == (4,) and bool((values < 0.95).all())
    with pytest.raises(ValueError, match="shapes differ"):
        translation.ssim(x, x[:, :, :14, :14])


def test_wilson_interval_known_values():
    low, high = translation.wilson_interval(5, 10)
    assert math.isclose(low, 0.2366, abs_tol=1e-4) and math.isclose(high, 0.7634, abs_tol=1e-4)
    low, high = translation.wilson_interval(0, 10)
    assert low == 0 and math.isclose(high, 0.2775, abs_tol=1e-4)
    with pytest.raises(ValueError):
        translation.wilson_interval(3, 2)


def test_worst_cases_figure_has_four_panels_per_image_and_marks_stand_ins(clean_figures_and_sources):
    x = _images(6, 3)
    fig = translation.worst_cases_figure(x, x.flip(-1), x * 0.5, [0, 3], ["a", "b"], source="stand-in")
    assert len(fig.axes) == 8 and plots.has_standin_mark(fig)
    assert not plots.has_standin_mark(translation.worst_cases_figure(x, x, x, [1], source="real"))
    with pytest.raises(ValueError, match="no images"):
        translation.worst_cases_figure(x, x, x, [])
