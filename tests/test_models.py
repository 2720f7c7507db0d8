"""Shape contracts, input checks and initialisation of the course's networks."""
import pytest
import torch
from torch import nn

from utils.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    SmallCNN,
    TabularDiscriminator,
    TabularGenerator,
    count_parameters,
    weights_init,
)

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_mlp_gan_shapes():
    G, D = MLPGenerator(latent_dim=8, out_dim=2), MLPDiscriminator(in_dim=2)
    x = G(torch.randn(5, 8))
    assert x.shape == (5, 2)
    assert D(x).shape == (5,)
    assert sum(isinstance(m, nn.Linear) for m in MLPGenerator(n_layers=4).modules()) == 4
    assert any(isinstance(m, nn.LeakyReLU) for m in D.modules())


def test_mlp_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        MLPGenerator(latent_dim=8)(torch.randn(5, 3))
    with pytest.raises(ValueError, match="points"):
        MLPDiscriminator(in_dim=2)(torch.randn(5))
    with pytest.raises(ValueError, match="n_layers"):
        MLPGenerator(n_layers=1)


@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_unconditional_shapes_and_range(channels):
    G = DCGANGenerator(latent_dim=16, channels=channels, base=8)
    D = DCGANDiscriminator(channels=channels, base=8)
    x = G(torch.randn(4, 16))
    assert x.shape == (4, channels, 28, 28)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (4,)


def test_dcgan_conditional_shapes_and_label_effect():
    G = DCGANGenerator(latent_dim=16, channels=3, base=8, n_classes=5).eval()
    D = DCGANDiscriminator(channels=3, base=8, n_classes=5).eval()
    z = torch.randn(4, 16)
    a, b = torch.tensor([0, 1, 2, 3]), torch.tensor([4, 4, 4, 4])
    x = G(z, a)
    assert x.shape == (4, 3, 28, 28)
    assert not torch.allclose(x, G(z, b)), "labels must change the generator's output"
    assert D(x, a).shape == (4,)
    assert not torch.allclose(D(x, a), D(x, b)), "labels must change the discriminator's score"


def test_dcgan_label_errors():
    cond_G = DCGANGenerator(latent_dim=16, base=8, n_classes=3)
    cond_D = DCGANDiscriminator(base=8, n_classes=3)
    z, x = torch.randn(2, 16), torch.randn(2, 3, 28, 28)
    with pytest.raises(ValueError, match="conditional.*needs labels"):
        cond_G(z)
    with pytest.raises(ValueError, match="conditional.*needs labels"):
        cond_D(x)
    with pytest.raises(ValueError, match="unconditional"):
        DCGANGenerator(latent_dim=16, base=8)(z, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="unconditional"):
        DCGANDiscriminator(base=8)(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"labels of shape \(2,\)"):
        cond_G(z, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="outside 0..2"):
        cond_G(z, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="torch.long"):
        cond_G(z, torch.tensor([0.0, 1.0]))


def test_dcgan_shape_errors():
    G = DCGANGenerator(latent_dim=16, base=8)
    with pytest.raises(ValueError, match=r"z of shape \(N, 16\)"):
        G(torch.randn(2, 16, 1, 1))
    with pytest.raises(ValueError, match=r"z of shape \(N, 16\)"):
        G(torch.randn(2, 17))
    with pytest.raises(ValueError, match=r"\(N, 3, 28, 28\)"):
        DCGANDiscriminator(channels=3, base=8)(torch.randn(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        DCGANDiscriminator(channels=1, base=8)(torch.randn(2, 1, 32, 32))


def test_discriminator_norm_option():
    has_bn = lambda m: any(isinstance(x, nn.BatchNorm2d) for x in m.modules())  # noqa: E731
    assert has_bn(DCGANDiscriminator(base=8))
    critic = DCGANDiscriminator(base=8, norm="none")
    assert not has_bn(critic)
    assert critic(torch.randn(1, 3, 28, 28)).shape == (1,)  # no batch statistics needed
    with pytest.raises(ValueError, match="norm must be one of"):
        DCGANDiscriminator(norm="layer")


def test_weights_init_statistics():
    G = DCGANGenerator(latent_dim=64, channels=3, base=64)
    G.apply(weights_init)
    for m in G.modules():
        if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
            assert abs(m.weight.std().item() - 0.02) < 0.002
            assert abs(m.weight.mean().item()) < 0.002
            assert torch.all(m.bias == 0)
        if isinstance(m, nn.BatchNorm2d):
            assert abs(m.weight.mean().item() - 1.0) < 0.01
            assert 0.01 < m.weight.std().item() < 0.03
            assert torch.all(m.bias == 0)
    D = DCGANDiscriminator(base=64)
    D.apply(weights_init)
    conv = D.features[2]
    assert abs(conv.weight.std().item() - 0.02) < 0.002


@pytest.mark.parametrize("in_channels", [1, 3])
def test_small_cnn_logits_and_features(in_channels):
    model = SmallCNN(in_channels=in_channels, n_classes=7, width=8, feature_dim=32).eval()
    x = torch.randn(6, in_channels, 28, 28)
    assert model(x).shape == (6, 7)
    feats = model.features(x)
    assert feats.shape == (6, 32)
    assert torch.allclose(model.classifier(feats), model(x), atol=1e-6)  # eval: dropout is off
    with pytest.raises(ValueError, match="images of shape"):
        model(torch.randn(6, in_channels + 1, 28, 28))


def test_tabular_generator_blocks():
    G = TabularGenerator(latent_dim=8, n_continuous=3, categorical_sizes=[2, 4], hidden=32)
    assert G.out_dim == 3 + 2 + 4
    out = G(torch.randn(50, 8))
    assert out.shape == (50, 9)
    for lo, hi in ((3, 5), (5, 9)):
        block = out[:, lo:hi]
        assert torch.allclose(block.sum(dim=1), torch.ones(50), atol=1e-5)
        assert (block >= 0).all()
    assert not torch.all((out[:, 3:] == 0) | (out[:, 3:] == 1)), "soft samples should not be one-hot"


def test_tabular_generator_hard_is_one_hot_and_differentiable():
    G = TabularGenerator(latent_dim=8, n_continuous=2, categorical_sizes=[3, 2], hidden=32)
    out = G(torch.randn(40, 8), hard=True)
    cats = out[:, 2:]
    assert torch.all((cats == 0) | (cats == 1))
    assert torch.all(cats[:, :3].sum(1) == 1) and torch.all(cats[:, 3:].sum(1) == 1)
    out.sum().backward()
    assert all(h.weight.grad is not None for h in G.categorical)


def test_tabular_conditional_and_errors():
    G = TabularGenerator(latent_dim=4, n_continuous=1, categorical_sizes=[3], hidden=16, n_classes=2)
    D = TabularDiscriminator(in_dim=4, hidden=16, n_classes=2)
    labels = torch.tensor([0, 1, 1])
    x = G(torch.randn(3, 4), labels)
    assert x.shape == (3, 4)
    assert D(x, labels).shape == (3,)
    with pytest.raises(ValueError, match="needs labels"):
        G(torch.randn(3, 4))
    with pytest.raises(ValueError, match=r"records of shape \(N, 4\)"):
        D(torch.randn(3, 5), labels)
    with pytest.raises(ValueError, match="categorical size"):
        TabularGenerator(latent_dim=4, n_continuous=1, categorical_sizes=[1])
    only_cats = TabularGenerator(latent_dim=4, n_continuous=0, categorical_sizes=[2])
    assert only_cats(torch.randn(3, 4)).shape == (3, 2)


def test_count_parameters():
    assert count_parameters(nn.Linear(3, 2)) == 8
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    assert count_parameters(model) == 3
    assert count_parameters(model, trainable_only=False) == 11
