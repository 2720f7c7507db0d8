"""utils.diffusion: the noise-prediction network, the CPU-budgeted training loop, the sampling
loops (driven by stand-ins for the student's step functions) and the membership score."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from utils import diffusion as D
from utils.diffusion import (NoiseUNet, ddim_timesteps, denoising_losses, sample_ancestral, sample_ddim,
                             timestep_embedding, train_denoiser)


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def alpha_bars(T=20):
    return torch.cumprod(1 - torch.linspace(1e-4, 0.2, T), dim=0)


def q_sample(x0, t, noise, ab):
    a = ab[t].view(-1, 1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def tiny(n_classes=2):
    torch.manual_seed(0)
    return NoiseUNet(channels=1, n_classes=n_classes, widths=(8, 8, 16))


class Zeros(torch.nn.Module):
    """Predicts no noise at all; has a class embedding so the loops pass labels."""
    label = True

    def forward(self, x, t, labels=None):
        return torch.zeros_like(x)


def test_timestep_embedding_is_sin_and_cos_of_t():
    emb = timestep_embedding(torch.tensor([0, 5]), 6)
    assert emb.shape == (2, 6)
    assert torch.allclose(emb[0], torch.tensor([0.0, 0, 0, 1, 1, 1]))
    assert torch.allclose(emb[1, 0], torch.sin(torch.tensor(5.0)))
    with pytest.raises(ValueError, match="even"):
        timestep_embedding(torch.tensor([1]), 5)


def test_noise_unet_shapes_conditioning_and_errors():
    model = tiny()
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([0, 10, 999])
    out = model(x, t, torch.tensor([0, 1, 0]))
    assert out.shape == x.shape
    assert not torch.allclose(out, model(x, t, torch.tensor([1, 0, 1]))), "the class changes the prediction"
    assert not torch.allclose(out, model(x, torch.tensor([5, 500, 50]), torch.tensor([0, 1, 0]))), "so does t"
    with pytest.raises(ValueError, match="divisible by 4"):
        model(torch.randn(2, 1, 30, 30), torch.tensor([0, 1]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="one timestep per image"):
        model(x, torch.tensor([0]), torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="needs class labels"):
        model(x, t)
    with pytest.raises(ValueError, match="multiples of 8"):
        NoiseUNet(widths=(6, 8, 8))
    assert NoiseUNet(channels=3, widths=(8, 8, 8))(torch.randn(1, 3, 28, 28), torch.tensor([3])).shape == (1, 3, 28, 28)


def loader(n=32):
    g = torch.Generator().manual_seed(0)
    x = torch.tanh(torch.randn(n, 1, 12, 12, generator=g))
    return DataLoader(TensorDataset(x, torch.arange(n) % 2), batch_size=8, shuffle=True, generator=g)


def noise_loss(model, x0, labels, ab=alpha_bars()):
    t = torch.randint(0, len(ab), (len(x0),))
    noise = torch.randn_like(x0)
    return (model(q_sample(x0, t, noise, ab), t, labels) - noise).pow(2).mean()


def test_train_denoiser_learns_and_continues_with_the_same_optimizer():
    model = tiny()
    torch.manual_seed(1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = train_denoiser(model, loader(), noise_loss, cpu_seconds=1e6, max_steps=40, optimizer=opt,
                           progress=False)
    assert len(first["loss"]) == 40, "the loader (4 batches) is cycled until max_steps"
    assert np.mean(first["loss"][-10:]) < np.mean(first["loss"][:5])
    assert all(np.diff(first["cpu_seconds"]) >= 0)
    second = train_denoiser(model, loader(), noise_loss, cpu_seconds=1e6, max_steps=3, optimizer=opt,
                            progress=False)
    assert len(second["loss"]) == 3 and opt.state, "the optimizer state carries over"


def test_train_denoiser_stops_when_the_cpu_budget_is_spent(monkeypatch):
    clock = iter(range(10**6))
    monkeypatch.setattr(D.time, "process_time", lambda: float(next(clock)))
    history = train_denoiser(tiny(), loader(), noise_loss, cpu_seconds=6, progress=False)
    assert 1 <= len(history["loss"]) <= 3, "two clock readings per update: at most 3 updates in 6 s"
    with pytest.raises(ValueError, match="cpu_seconds"):
        train_denoiser(tiny(), loader(), noise_loss, cpu_seconds=0)
    with pytest.raises(ValueError, match="no batches"):
        train_denoiser(tiny(), [], noise_loss, cpu_seconds=1, progress=False)


def test_sample_ancestral_calls_the_step_from_T_down_to_0_with_fresh_noise():
    calls = []

    def step(x, eps_hat, t, betas, ab, noise):
        calls.append((t, float(noise.abs().sum())))
        return 0.5 * x + noise

    ab = alpha_bars(5)
    labels = torch.tensor([0, 1, 1])
    out = sample_ancestral(Zeros(), labels, step, 1 - ab, ab, image_shape=(1, 4, 4), seed=3)
    assert out.shape == (3, 1, 4, 4) and out.abs().max() <= 1
    assert [t for t, _ in calls] == [4, 3, 2, 1, 0]
    assert calls[-1][1] == 0 and all(s > 0 for _, s in calls[:-1]), "noise at every step but the last"
    again = sample_ancestral(Zeros(), labels, step, 1 - ab, ab, image_shape=(1, 4, 4), seed=3)
    assert torch.equal(out, again)
    assert not torch.equal(out, sample_ancestral(Zeros(), labels, step, 1 - ab, ab, image_shape=(1, 4, 4), seed=4))


def test_sample_ddim_jumps_in_n_steps_and_lands_on_t_minus_one():
    assert ddim_timesteps(1000, 5) == [999, 749, 500, 250, 0]
    assert ddim_timesteps(10, 10) == list(range(9, -1, -1))
    with pytest.raises(ValueError, match="n_steps"):
        ddim_timesteps(10, 11)
    jumps = []

    def step(x, eps_hat, t, t_prev, ab):
        jumps.append((t, t_prev))
        return x * 0.9

    out = sample_ddim(Zeros(), torch.tensor([0, 1]), step, alpha_bars(20), image_shape=(1, 4, 4), n_steps=4,
                      batch=1)
    assert out.shape == (2, 1, 4, 4)
    assert jumps[:4] == [(19, 13), (13, 6), (6, 0), (0, -1)] and len(jumps) == 8, "every batch runs all jumps"


def test_denoising_losses_are_deterministic_and_low_for_a_memorized_image():
    ab = alpha_bars(500)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 1, 8, 8, generator=g) * 2 - 1
    member = images[0]

    class Memorizer(torch.nn.Module):
        """Knows one training image by heart, so it can recover the noise exactly for it."""
        label = None

        def forward(self, x, t, labels=None):
            a = ab[t].view(-1, 1, 1, 1)
            return (x - a.sqrt() * member) / (1 - a).sqrt()

    losses = denoising_losses(Memorizer(), images, torch.zeros(4, dtype=torch.long), q_sample, ab,
                              timesteps=(10, 100), batch=3)
    assert losses.shape == (4,)
    assert losses[0] < 1e-8 < losses[1:].min()
    again = denoising_losses(Memorizer(), images, torch.zeros(4, dtype=torch.long), q_sample, ab, timesteps=(10, 100))
    assert np.allclose(losses, again)
    with pytest.raises(ValueError, match="labels"):
        denoising_losses(Memorizer(), images, torch.zeros(3, dtype=torch.long), q_sample, ab)
