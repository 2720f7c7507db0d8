"""Losses, training loops, sampling and checkpoints of utils.train."""
import json
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from utils import train as T
from utils.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    TabularGenerator,
)
from utils.train import (
    CheckpointError,
    History,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    load_checkpoint,
    predict,
    sample,
    save_checkpoint,
    train_classifier,
    train_gan,
)

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _full_mode(monkeypatch):
    """Tests choose their own batch caps; a FAST shell must not change them."""
    monkeypatch.delenv("COURSE_FAST", raising=False)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")


@pytest.fixture(autouse=True)
def _one_thread():
    """These models are tiny: a second intra-op thread buys nothing, and on a busy 2-core
    machine its spin-waiting made the 320-step GAN test 70x slower (36 s instead of 0.5 s)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def gaussian_loader(n=512, mean=(3.0, -2.0), batch=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g) * 0.3 + torch.tensor(mean)
    return DataLoader(TensorDataset(x, torch.zeros(n, dtype=torch.long)), batch_size=batch, shuffle=True)


def image_loader(n=32, classes=3, batch=8):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    y = torch.arange(n) % classes
    return DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True)


def blobs(n, seed, n_classes=2):
    """Separable toy classes: Gaussian blobs around far-apart centres."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % n_classes
    centres = torch.tensor([[-3.0, 0.0], [3.0, 0.0], [0.0, 3.0]])[:n_classes]
    x = centres[y] + torch.randn(n, 2, generator=g)
    return TensorDataset(x, y)


def small_dcgan(seed=0):
    torch.manual_seed(seed)
    G = DCGANGenerator(latent_dim=8, channels=1, base=4, n_classes=3)
    D = DCGANDiscriminator(channels=1, base=4, n_classes=3)
    return G, D


# ----------------------------------------------------------------------------- History
def test_history_log_last_and_json():
    h = History()
    h.log(loss=1.0, acc=torch.tensor(0.5))
    h.log(loss=0.25)
    assert h["loss"] == [1.0, 0.25] and h.last("loss") == 0.25
    assert h.keys() == ["loss", "acc"]
    assert json.loads(json.dumps(h.as_dict())) == {"loss": [1.0, 0.25], "acc": [0.5]}
    assert isinstance(h.as_dict()["acc"][0], float)
    with pytest.raises(KeyError, match="logged keys"):
        h["missing"]
    h.snapshots.append(torch.zeros(2))
    copy = History()
    copy.load_state_dict(h.state_dict())
    assert copy.as_dict() == h.as_dict() and len(copy.snapshots) == 1


# ----------------------------------------------------------------------------- losses
def test_ns_losses_match_hand_computed_values():
    zero = torch.zeros(4)
    assert discriminator_loss(zero, zero, "ns").item() == pytest.approx(2 * math.log(2))
    assert generator_loss(zero, "ns").item() == pytest.approx(math.log(2))
    real, fake = torch.tensor([2.0]), torch.tensor([-1.0])
    expected = math.log(1 + math.exp(-2.0)) + math.log(1 + math.exp(-1.0))
    assert discriminator_loss(real, fake, "ns").item() == pytest.approx(expected)
    # non-saturating: -log sigmoid(f), not log(1 - sigmoid(f))
    assert generator_loss(fake, "ns").item() == pytest.approx(math.log(1 + math.exp(1.0)))


def test_hinge_losses():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-0.5, -3.0])
    # relu(1 - real) = [0.5, 0], relu(1 + fake) = [0.5, 0]
    assert discriminator_loss(real, fake, "hinge").item() == pytest.approx(0.5)
    assert generator_loss(fake, "hinge").item() == pytest.approx(1.75)


def test_wgan_loss_signs():
    real, fake = torch.tensor([3.0, 1.0]), torch.tensor([0.0, -2.0])
    # critic minimises fake - real: a good critic (real >> fake) has a negative loss
    assert discriminator_loss(real, fake, "wgan").item() == pytest.approx(-1.0 - 2.0)
    assert generator_loss(fake, "wgan").item() == pytest.approx(1.0)


def test_unknown_loss_kind():
    with pytest.raises(ValueError, match="Unknown GAN loss 'lsgan'"):
        discriminator_loss(torch.zeros(1), torch.zeros(1), "lsgan")
    with pytest.raises(ValueError, match="ns, hinge, wgan"):
        generator_loss(torch.zeros(1), "bce")


def test_gradient_penalty_zero_for_unit_norm_linear_critic():
    D = nn.Linear(5, 1)
    with torch.no_grad():
        D.weight.copy_(torch.randn(1, 5))
        D.weight /= D.weight.norm()
    gp = gradient_penalty(D, torch.randn(16, 5), torch.randn(16, 5))
    assert gp.item() < 1e-8


def test_gradient_penalty_positive_and_differentiable():
    D = nn.Linear(5, 1)
    with torch.no_grad():
        D.weight.fill_(2.0)  # gradient norm 2*sqrt(5) everywhere
    gp = gradient_penalty(D, torch.randn(8, 5), torch.randn(8, 5))
    assert gp.item() == pytest.approx((2 * math.sqrt(5) - 1) ** 2, rel=1e-5)
    gp.backward()
    assert D.weight.grad is not None and D.weight.grad.abs().sum() > 0


def test_gradient_penalty_with_conditional_image_critic():
    torch.manual_seed(0)
    D = DCGANDiscriminator(channels=1, base=4, n_classes=3, norm="none")
    real, fake = torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28)
    gp = gradient_penalty(D, real, fake, torch.tensor([0, 1, 2, 0]))
    assert gp.ndim == 0 and gp.item() > 0


# ----------------------------------------------------------------------------- train_gan
def test_train_gan_moves_samples_towards_data_mean():
    torch.manual_seed(0)
    G, D = MLPGenerator(latent_dim=4, hidden=32), MLPDiscriminator(hidden=32)
    target = torch.tensor([3.0, -2.0])
    before = (sample(G, 512, 4, seed=1).mean(0) - target).norm().item()
    history = train_gan(G, D, gaussian_loader(mean=tuple(target.tolist())), epochs=40, latent_dim=4,
                        lr_g=1e-3, lr_d=1e-3, progress=False, seed=0)
    after = (sample(G, 512, 4, seed=1).mean(0) - target).norm().item()
    assert len(history["d_loss"]) == 40 * 8
    assert set(history.keys()) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert after < 0.25 * before, (before, after)


def test_train_gan_same_seed_same_history():
    def run():
        torch.manual_seed(0)
        G, D = MLPGenerator(latent_dim=4, hidden=16), MLPDiscriminator(hidden=16)
        return train_gan(G, D, gaussian_loader(n=128), epochs=2, latent_dim=4, progress=False, seed=7)

    assert run().as_dict() == run().as_dict()


@pytest.mark.parametrize("loss", ["hinge", "wgan"])
def test_train_gan_other_losses_and_n_critic(loss):
    G, D = small_dcgan()
    D = DCGANDiscriminator(channels=1, base=4, n_classes=3, norm="none")
    history = train_gan(G, D, image_loader(), epochs=1, latent_dim=8, loss=loss, n_critic=2,
                        conditional=True, progress=False, seed=0)
    assert len(history["d_loss"]) == 4 and len(history["g_loss"]) == 2
    assert all(math.isfinite(v) for v in history["d_loss"])


def test_train_gan_snapshots_fixed_noise():
    G, D = small_dcgan()
    noise = (torch.randn(6, 8), torch.tensor([0, 1, 2, 0, 1, 2]))
    history = train_gan(G, D, image_loader(), epochs=2, latent_dim=8, conditional=True,
                        snapshot_noise=noise, max_batches=2, progress=False, seed=0)
    assert len(history.snapshots) == 2
    assert history.snapshots[0].shape == (6, 1, 28, 28)
    assert history.snapshots[0].device.type == "cpu"
    assert G.training, "G goes back to train mode after each snapshot"
    assert not torch.equal(history.snapshots[0], history.snapshots[1])


def test_train_gan_stops_when_its_cpu_budget_is_spent(monkeypatch):
    clock = iter(range(10**6))  # a fake CPU clock: one second per reading
    monkeypatch.setattr(T.time, "process_time", lambda: float(next(clock)))
    G, D = small_dcgan()
    history = train_gan(G, D, image_loader(), epochs=10**6, latent_dim=8, conditional=True,
                        progress=False, seed=0, cpu_seconds=5)
    assert 1 <= len(history["d_loss"]) <= 5, "one batch per budget second at most, then stop mid-epoch"


def test_train_gan_cpu_budget_on_the_real_clock_and_bad_budgets():
    G, D = MLPGenerator(latent_dim=4, hidden=16), MLPDiscriminator(hidden=16)
    history = train_gan(G, D, gaussian_loader(n=128), epochs=10**6, latent_dim=4, progress=False,
                        seed=0, cpu_seconds=0.3)
    assert len(history["d_loss"]) > 0
    with pytest.raises(ValueError, match="cpu_seconds"):
        train_gan(G, D, gaussian_loader(n=128), epochs=1, latent_dim=4, progress=False, cpu_seconds=0)


def test_train_gan_conditional_needs_labels():
    G, D = small_dcgan()
    unlabeled = DataLoader(torch.rand(8, 1, 28, 28), batch_size=4)
    with pytest.raises(ValueError, match="yields \\(inputs, labels\\)"):
        train_gan(G, D, unlabeled, epochs=1, latent_dim=8, conditional=True, progress=False)


def test_checkpoint_resume_matches_uninterrupted_run(tmp_path, capsys):
    loader = image_loader()
    noise = (torch.randn(3, 8), torch.tensor([0, 1, 2]))
    kwargs = dict(latent_dim=8, conditional=True, snapshot_noise=noise, max_batches=3,
                  progress=False, seed=3)

    G_full, D_full = small_dcgan()
    full = train_gan(G_full, D_full, loader, epochs=3, **kwargs)

    ckpt = tmp_path / "gan.pt"
    G, D = small_dcgan()
    train_gan(G, D, loader, epochs=1, checkpoint=ckpt, **kwargs)
    assert load_checkpoint(ckpt)["epoch"] == 1
    G, D = small_dcgan(seed=99)  # fresh objects, different weights: all must come from the file
    resumed = train_gan(G, D, loader, epochs=3, checkpoint=ckpt, **kwargs)

    assert "resumed" in capsys.readouterr().out.lower()
    assert load_checkpoint(ckpt)["epoch"] == 3
    assert resumed.as_dict() == full.as_dict()
    assert len(resumed.snapshots) == 3
    for a, b in zip(G.state_dict().values(), G_full.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(D.state_dict().values(), D_full.state_dict().values()):
        assert torch.equal(a, b)


def test_finished_checkpoint_is_not_retrained(tmp_path, capsys):
    ckpt = tmp_path / "gan.pt"
    G, D = small_dcgan()
    train_gan(G, D, image_loader(), epochs=1, latent_dim=8, conditional=True, max_batches=1,
              checkpoint=ckpt, progress=False)
    capsys.readouterr()
    weights = {k: v.clone() for k, v in G.state_dict().items()}
    history = train_gan(G, D, image_loader(), epochs=1, latent_dim=8, conditional=True,
                        checkpoint=ckpt, progress=False)
    assert "at epoch 1" in capsys.readouterr().out
    assert len(history["d_loss"]) == 1
    assert all(torch.equal(weights[k], v) for k, v in G.state_dict().items())


def test_fast_mode_caps_batches(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    loader = gaussian_loader(n=320, batch=16)  # 20 batches
    G, D = MLPGenerator(latent_dim=4, hidden=8), MLPDiscriminator(hidden=8)
    history = train_gan(G, D, loader, epochs=2, latent_dim=4, progress=False)
    assert len(history["d_loss"]) == 2 * T.FAST_MAX_BATCHES
    history = train_gan(G, D, loader, epochs=1, latent_dim=4, max_batches=6, progress=False)
    assert len(history["d_loss"]) == 6, "an explicit max_batches wins over FAST mode"
    clf = train_classifier(nn.Linear(2, 2), DataLoader(blobs(320, 0), batch_size=16), epochs=1,
                           progress=False)
    assert len(clf["train_loss"]) == 1
    monkeypatch.delenv("COURSE_FAST")
    history = train_gan(G, D, loader, epochs=1, latent_dim=4, progress=False)
    assert len(history["d_loss"]) == 20


# ----------------------------------------------------------------------------- checkpoints
def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    model = nn.Linear(2, 2)
    save_checkpoint(path, model=model, epoch=1)

    def broken_save(obj, f):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(T.torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model=model, epoch=2)
    monkeypatch.undo()
    assert load_checkpoint(path, model=nn.Linear(2, 2))["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"], "no temporary file left behind"


def test_load_checkpoint_restores_modules_and_optimizers(tmp_path):
    model = nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    save_checkpoint(tmp_path / "c.pt", model=model, opt=opt, epoch=5, note="hi")
    other = nn.Linear(3, 2)
    other_opt = torch.optim.Adam(other.parameters())
    state = load_checkpoint(tmp_path / "c.pt", model=other, opt=other_opt)
    assert state["epoch"] == 5 and state["note"] == "hi"
    assert torch.equal(other.weight, model.weight)
    assert other_opt.state_dict()["state"][0]["step"] == 1


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint at"):
        load_checkpoint(tmp_path / "nope.pt")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_checkpoint_has_helpful_error(tmp_path, damage):
    path = tmp_path / "gan.pt"
    if damage == "garbage":
        path.write_bytes(b"\x00\x13this is not a checkpoint" * 10)
    else:
        save_checkpoint(path, model=nn.Linear(50, 50), epoch=1)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="Delete it or pass a new path to retrain"):
        load_checkpoint(path, model=nn.Linear(50, 50))
    G, D = small_dcgan()
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        train_gan(G, D, image_loader(), epochs=1, latent_dim=8, conditional=True,
                  checkpoint=path, progress=False)
    assert issubclass(CheckpointError, RuntimeError)


def test_mismatched_architecture_names_key_and_shapes(tmp_path):
    path = tmp_path / "g.pt"
    save_checkpoint(path, G=DCGANGenerator(latent_dim=8, channels=1, base=4))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, G=DCGANGenerator(latent_dim=8, channels=1, base=8))
    message = str(info.value)
    assert "'project.0.weight'" in message
    assert "(392, 8)" in message and "(784, 8)" in message


def test_missing_and_unexpected_keys(tmp_path):
    path = tmp_path / "mlp.pt"
    save_checkpoint(path, G=MLPGenerator(n_layers=3))
    with pytest.raises(CheckpointError, match=r"lacks it"):
        load_checkpoint(path, G=MLPGenerator(n_layers=4))
    save_checkpoint(path, G=MLPGenerator(n_layers=4))
    with pytest.raises(CheckpointError, match=r"which the model lacks"):
        load_checkpoint(path, G=MLPGenerator(n_layers=3))
    with pytest.raises(CheckpointError, match=r"has no 'D'"):
        load_checkpoint(path, D=MLPDiscriminator())


# ----------------------------------------------------------------------------- classifier
def test_train_classifier_separable_problem():
    torch.manual_seed(0)
    train = DataLoader(blobs(300, 0, n_classes=3), batch_size=32, shuffle=True)
    val = DataLoader(blobs(150, 1, n_classes=3), batch_size=64)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    history = train_classifier(model, train, val, epochs=8, lr=1e-2, progress=False)
    assert set(history.keys()) == {"train_loss", "train_acc", "val_loss", "val_acc", "val_balanced_acc"}
    assert len(history["val_acc"]) == 8
    assert history.last("val_acc") > 0.9
    assert history["train_loss"][-1] < history["train_loss"][0]


class ConstantClassifier(nn.Module):
    """Always predicts class 0: accuracy rewards it on imbalanced data, balanced accuracy does not."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.tensor([5.0, 0.0]))

    def forward(self, x):
        return self.bias.expand(x.shape[0], 2)


def test_balanced_accuracy_is_mean_recall():
    y = torch.tensor([0] * 90 + [1] * 10)
    val = DataLoader(TensorDataset(torch.zeros(100, 1), y), batch_size=25)
    history = train_classifier(ConstantClassifier(), val, val, epochs=1, lr=0.0, progress=False)
    assert history.last("val_acc") == pytest.approx(0.9)
    assert history.last("val_balanced_acc") == pytest.approx(0.5)


def test_class_weights_change_the_loss():
    y = torch.tensor([0] * 90 + [1] * 10)
    loader = DataLoader(TensorDataset(torch.zeros(100, 1), y), batch_size=100)
    plain = train_classifier(ConstantClassifier(), loader, epochs=1, lr=0.0, progress=False)
    weighted = train_classifier(ConstantClassifier(), loader, epochs=1, lr=0.0, progress=False,
                                class_weights=[1.0, 9.0])
    assert weighted.last("train_loss") > plain.last("train_loss")


def test_early_stopping_restores_best_weights(tmp_path):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    # random labels: the model can only memorise, so validation loss soon rises
    train = DataLoader(TensorDataset(torch.randn(64, 10, generator=g), torch.randint(0, 2, (64,), generator=g)),
                       batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(torch.randn(64, 10, generator=g), torch.randint(0, 2, (64,), generator=g)),
                     batch_size=64)
    model = nn.Sequential(nn.Linear(10, 128), nn.ReLU(), nn.Linear(128, 2))
    ckpt = tmp_path / "clf.pt"
    history = train_classifier(model, train, val, epochs=50, lr=1e-2, patience=3, checkpoint=ckpt,
                               progress=False)
    losses = history["val_loss"]
    assert len(losses) < 50, "should have stopped early"
    assert len(losses) - 1 - int(np.argmin(losses)) == 3
    y_true, probs = predict(model, val)
    restored = nn.functional.nll_loss(torch.log(torch.from_numpy(probs)), torch.from_numpy(y_true)).item()
    assert restored == pytest.approx(min(losses), rel=1e-4)
    torch.manual_seed(1)
    again = nn.Sequential(nn.Linear(10, 128), nn.ReLU(), nn.Linear(128, 2))
    resumed = train_classifier(again, train, val, epochs=50, patience=3, checkpoint=ckpt, progress=False)
    assert resumed.as_dict() == history.as_dict(), "a run that already stopped stays stopped"
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), model.state_dict().values()))
    with pytest.raises(ValueError, match="patience needs a val_loader"):
        train_classifier(model, train, epochs=1, patience=2, progress=False)


def test_train_classifier_checkpoint_resume(tmp_path, capsys):
    def fresh(seed):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))

    train = DataLoader(blobs(64, 0), batch_size=16, shuffle=True)
    val = DataLoader(blobs(32, 1), batch_size=32)
    full_model = fresh(0)
    torch.manual_seed(5)
    full = train_classifier(full_model, train, val, epochs=3, progress=False)

    ckpt = tmp_path / "clf.pt"
    model = fresh(0)
    torch.manual_seed(5)
    train_classifier(model, train, val, epochs=2, checkpoint=ckpt, progress=False)
    model = fresh(1)
    resumed = train_classifier(model, train, val, epochs=3, checkpoint=ckpt, progress=False)
    assert "at epoch 2" in capsys.readouterr().out
    assert resumed.as_dict() == full.as_dict()
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), full_model.state_dict().values()))


# ----------------------------------------------------------------------------- inference
def test_predict_returns_probabilities_and_restores_mode():
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5))
    loader = DataLoader(blobs(30, 0, n_classes=3), batch_size=8)
    y_true, probs = predict(model, loader)
    assert isinstance(y_true, np.ndarray) and y_true.shape == (30,)
    assert probs.shape == (30, 3)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(y_true, blobs(30, 0, n_classes=3).tensors[1].numpy())
    assert model.training
    _, again = predict(model, loader)
    np.testing.assert_array_equal(probs, again)  # eval mode: dropout off, deterministic
    assert len(predict(model, loader, max_batches=2)[0]) == 16


def test_sample_shapes_seed_and_labels():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=8, channels=1, base=4, n_classes=3)
    x = sample(G, 10, 8, labels=2, batch=3, seed=4)
    assert x.shape == (10, 1, 28, 28) and x.device.type == "cpu"
    assert torch.allclose(x, sample(G, 10, 8, labels=2, batch=10, seed=4), atol=1e-6), "batching must not matter"
    assert not torch.equal(x, sample(G, 10, 8, labels=2, seed=5))
    assert G.training, "sample restores the generator's mode"
    labels = torch.tensor([0, 1, 2, 0])
    assert sample(G, 4, 8, labels=labels).shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="labels has 4 entries"):
        sample(G, 5, 8, labels=labels)


def test_sample_seed_covers_noise_inside_generator_and_spares_global_rng():
    G = TabularGenerator(latent_dim=4, n_continuous=1, categorical_sizes=[5], hidden=16)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = sample(G, 64, 4, seed=0, hard=True)
    assert torch.equal(torch.rand(1), expected_next), "sample(seed=...) must not move the global RNG"
    assert torch.equal(a, sample(G, 64, 4, seed=0, hard=True))
    assert torch.all(a[:, 1:].sum(1) == 1)


def test_classifier_trains_channels_last_on_cpu_and_comes_back_ordinary():
    from utils.models import SmallCNN

    torch.manual_seed(0)
    x, y = torch.randn(48, 3, 28, 28), torch.randint(0, 3, (48,))
    model = SmallCNN(in_channels=3, n_classes=3, width=8)
    seen = []
    model.register_forward_pre_hook(lambda m, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    train_classifier(model, DataLoader(TensorDataset(x, y), batch_size=16), epochs=1, progress=False, device="cpu")
    assert seen and all(seen), "the training batches must reach the model channels-last"
    assert all(p.is_contiguous() for p in model.parameters()), "the trained model comes back in the ordinary layout"
