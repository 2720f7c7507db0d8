"""utils.privacy: per-sample gradients, clipping and noise, accounting, attacks."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from utils.models import TabularDiscriminator
from utils.privacy import (
    balanced_members,
    clip_and_noise,
    discriminator_scores,
    distance_scores,
    dp_discriminator_step,
    epsilon,
    per_sample_gradients,
    rdp,
)
from utils.train import discriminator_loss


def test_clip_scales_each_sample_to_at_most_c():
    grads = [torch.tensor([[3.0, 4.0], [0.3, 0.4]]), torch.zeros(2, 1)]  # norms 5 and 0.5
    out = clip_and_noise(grads, max_norm=1.0, noise_multiplier=0.0)
    # sample 1 scaled to norm 1 (0.6, 0.8), sample 2 untouched; then the mean of the two
    torch.testing.assert_close(out[0], torch.tensor([(0.6 + 0.3) / 2, (0.8 + 0.4) / 2]))
    torch.testing.assert_close(out[1], torch.zeros(1))


def test_clip_uses_the_norm_over_all_parameters():
    grads = {"w": torch.tensor([[3.0]]), "b": torch.tensor([[4.0]])}  # joint norm 5
    out = clip_and_noise(grads, max_norm=1.0, noise_multiplier=0.0)
    assert set(out) == {"w", "b"}
    torch.testing.assert_close(out["w"], torch.tensor([0.6]))
    torch.testing.assert_close(out["b"], torch.tensor([0.8]))


def test_noise_has_std_sigma_c_over_batch():
    grads = [torch.zeros(4, 200_000)]
    out = clip_and_noise(grads, max_norm=0.5, noise_multiplier=2.0, generator=torch.Generator().manual_seed(0))
    assert abs(out[0].std().item() - 2.0 * 0.5 / 4) < 0.005
    assert abs(out[0].mean().item()) < 0.005
    with pytest.raises(ValueError):
        clip_and_noise(grads, max_norm=0.0, noise_multiplier=1.0)


def test_per_sample_gradients_match_a_loop():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x, y = torch.randn(5, 3), torch.randn(5, 1)

    def loss(forward, xi, yi):
        return ((forward(xi) - yi) ** 2).sum()

    grads = per_sample_gradients(model, loss, x, y)
    for i in range(5):
        model.zero_grad()
        ((model(x[i:i + 1]) - y[i:i + 1]) ** 2).sum().backward()
        for name, p in model.named_parameters():
            torch.testing.assert_close(grads[name][i], p.grad)
    with pytest.raises(ValueError, match="BatchNorm"):
        per_sample_gradients(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), loss, x, y)


@pytest.mark.parametrize("conditional", [False, True])
def test_dp_step_without_noise_or_clipping_is_an_ordinary_step(conditional):
    torch.manual_seed(1)
    n_classes = 2 if conditional else 0
    D1 = TabularDiscriminator(6, hidden=8, n_classes=n_classes)
    D2 = TabularDiscriminator(6, hidden=8, n_classes=n_classes)
    D2.load_state_dict(D1.state_dict())
    real, fake = torch.randn(7, 6), torch.randn(7, 6)
    labels = torch.randint(0, 2, (7,)) if conditional else None
    extra = () if labels is None else (labels,)
    opt1 = torch.optim.SGD(D1.parameters(), lr=0.1)
    opt2 = torch.optim.SGD(D2.parameters(), lr=0.1)
    log = dp_discriminator_step(max_norm=1e6, noise_multiplier=0.0)(D1, opt1, real, fake, labels)
    assert log["clipped"] == 0.0 and set(log) >= {"d_loss", "d_real", "d_fake"}
    opt2.zero_grad()
    discriminator_loss(D2(real, *extra), D2(fake, *extra), "ns").backward()
    opt2.step()
    for p, q in zip(D1.parameters(), D2.parameters()):
        torch.testing.assert_close(p, q)


def test_dp_step_uses_the_given_privatizer():
    calls = []

    def privatize(grads, max_norm, noise_multiplier):
        calls.append((len(grads), grads[0].shape[0], max_norm, noise_multiplier))
        return [torch.zeros_like(g[0]) for g in grads]

    D = TabularDiscriminator(4, hidden=8)
    before = [p.detach().clone() for p in D.parameters()]
    opt = torch.optim.SGD(D.parameters(), lr=1.0)
    dp_discriminator_step(0.5, 1.5, privatize)(D, opt, torch.randn(3, 4), torch.randn(3, 4), None)
    assert calls == [(len(before), 3, 0.5, 1.5)]
    for p, q in zip(D.parameters(), before):
        torch.testing.assert_close(p, q)  # zero gradients: nothing moved


def test_rdp_of_the_plain_gaussian_is_alpha_over_two_sigma_squared():
    orders = [2, 5, 10]
    np.testing.assert_allclose(rdp(2.0, 1.0, 3, orders), [3 * a / (2 * 4.0) for a in orders], rtol=1e-9)


def test_epsilon_behaves():
    base = epsilon(1.0, 0.01, 1000)
    assert 0 < base < math.inf
    assert epsilon(2.0, 0.01, 1000) < base  # more noise, more privacy
    assert epsilon(1.0, 0.01, 4000) > base  # more steps, less privacy
    assert epsilon(1.0, 0.05, 1000) > base  # larger batches (per row), less privacy
    assert epsilon(0.0, 0.01, 10) == math.inf
    assert epsilon(1.0, 0.01, 0) == 0.0
    # subsampling amplifies privacy: far below the unsampled Gaussian's epsilon
    assert base < epsilon(1.0, 1.0, 1000)


def test_discriminator_scores_are_logits():
    D = TabularDiscriminator(3, hidden=4)
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    with torch.no_grad():
        expected = D(torch.as_tensor(x)).numpy()
    scores = discriminator_scores(D, x, batch=4)
    assert scores.shape == (10,)
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_distance_scores_are_higher_for_copies():
    synthetic = np.array([[0.0, 0.0], [5.0, 5.0]])
    candidates = np.array([[5.0, 5.0], [1.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(distance_scores(candidates, synthetic), [0.0, -1.0, -math.sqrt(5)])


def test_chance_band_matches_a_simulation():
    from utils.metrics import membership_inference_auc
    from utils.privacy import chance_band

    assert chance_band(1000, 1000) == pytest.approx(2 * math.sqrt(2001 / 12e6))
    rng = np.random.default_rng(0)
    aucs = [membership_inference_auc(rng.normal(size=200), rng.normal(size=200)) for _ in range(300)]
    assert np.std(aucs) == pytest.approx(chance_band(200, 200) / 2, rel=0.15)


def test_balanced_members():
    a, b = balanced_members(np.arange(10), np.arange(100, 104), seed=0)
    assert len(a) == len(b) == 4 and set(b) == {100, 101, 102, 103}
    with pytest.raises(ValueError):
        balanced_members(np.arange(3), np.arange(3), n=5)


def test_epsilon_matches_the_published_mnist_figure():
    # TensorFlow Privacy's MNIST tutorial: noise 1.1, batch 256 of 60,000, 60 epochs, delta 1e-5 -> epsilon ~3.0
    assert 2.9 < epsilon(1.1, 256 / 60000, 60 * 60000 // 256, delta=1e-5) < 3.1


def test_figures_draw(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils import plots, runtime
    from utils.privacy import dcr_figure, leakage_figure, tradeoff_figure

    rows = [{"sigma": None, "epsilon": None, "epochs": 10, "attack_auc": 0.8, "tstr_auc": 0.7},
            {"sigma": 1.0, "epsilon": 12.3, "epochs": 10, "attack_auc": 0.5, "tstr_auc": 0.6}]
    for fig in (dcr_figure([0.1, 0.5], [0.2, 0.4]), leakage_figure([1, 2], [0.5, 0.6], [0.5, 0.52], reference=0.5),
                tradeoff_figure(rows)):
        assert len(fig.axes) == 1
        plt.close(fig)
    monkeypatch.setattr(runtime, "_DATA_SOURCES", {"x": "stand-in"})
    fig = tradeoff_figure(rows)
    assert plots.has_standin_mark(fig)
    plt.close(fig)
