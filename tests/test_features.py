"""utils.features: the domain feature extractor behind the course's Fréchet distance."""
import numpy as np
import pytest
import torch

from utils import features, runtime
from utils.data import load_medmnist
from utils.metrics import frechet_distance_from_features
from utils.models import SmallCNN

torch.set_num_threads(2)
FLAG = "breastmnist"  # the smallest flag: 546 training images, real when ../shared has it


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Full mode, CPU, and a private cache folder for the whole module."""
    patch = pytest.MonkeyPatch()
    patch.setenv("COURSE_CACHE", str(tmp_path_factory.mktemp("cache")))
    patch.setenv("COURSE_DEVICE", "cpu")
    patch.delenv("COURSE_FAST", raising=False)
    yield patch
    patch.undo()


@pytest.fixture(scope="module")
def extractor(env):
    return features.feature_extractor(FLAG, seed=0, epochs=1)


@pytest.fixture(scope="module")
def data(env):
    with _quiet():
        return load_medmnist(FLAG, "train"), load_medmnist(FLAG, "test")


class _quiet:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def test_metric_names():
    assert features.metric_name("dermamnist") == "Derma-FID"
    assert features.metric_name("BreastMNIST") == "Breast-FID"
    assert features.metric_name("pneumoniamnist") == "Pneumonia-FID"
    assert features.metric_name("newmnist") == "New-FID"


def test_extract_features_shape_dtype_and_batch_independence():
    torch.manual_seed(0)
    model = SmallCNN(in_channels=1, n_classes=2)
    model.train()
    images = torch.rand(10, 1, 28, 28) * 2 - 1
    whole = features.extract_features(model, images)
    pieces = features.extract_features(model, images.numpy(), batch=3)
    assert whole.shape == (10, model.feature_dim) and whole.dtype == np.float64
    np.testing.assert_allclose(whole, pieces, rtol=1e-5, atol=1e-6)  # eval mode: no batch statistics
    assert model.training, "the model's mode must be restored"
    assert (whole >= 0).all(), "penultimate features come after a ReLU"


def test_extract_features_rejects_bad_input():
    model = SmallCNN(in_channels=1, n_classes=2)
    with pytest.raises(ValueError, match="shape"):
        features.extract_features(model, torch.zeros(28, 28))
    with pytest.raises(ValueError, match="expects images"):
        features.extract_features(model, torch.zeros(2, 3, 28, 28))  # wrong channel count
    with pytest.raises(TypeError, match="features"):
        features.extract_features(torch.nn.Linear(2, 2), torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="batch"):
        features.extract_features(model, torch.zeros(2, 1, 28, 28), batch=0)


def test_trains_names_and_caches(extractor, data):
    train, _ = data
    assert extractor.name == "Breast-FID"
    assert extractor.flag == FLAG and extractor.source == train.source
    assert not extractor.from_cache and extractor.path.is_file()
    assert extractor.path == features.cache_path(FLAG, train.source, 0, 1, fast=False)
    assert 0.0 <= extractor.val_balanced_accuracy <= 1.0
    assert "Breast-FID" in repr(extractor) and "trained now" in repr(extractor)
    again = features.feature_extractor(FLAG, seed=0, epochs=1)
    assert again.from_cache and again.val_balanced_accuracy == extractor.val_balanced_accuracy
    x = train.x[:16]
    np.testing.assert_array_equal(again(x), extractor(x))
    np.testing.assert_array_equal(features.extract_features(again, train), again(train.x))


def test_cache_key_separates_seed_epochs_and_fast_mode(extractor, monkeypatch):
    paths = {features.cache_path(FLAG, "real", s, e, f) for s in (0, 1) for e in (1, 2) for f in (False, True)}
    assert len(paths) == 8
    assert features.cache_path(FLAG, "real", 0, 2, False) != features.cache_path(FLAG, "stand-in", 0, 2, False)
    monkeypatch.setenv("COURSE_FAST", "1")
    fast = features.feature_extractor(FLAG, seed=0, epochs=1)
    assert fast.fast and not fast.from_cache and fast.path != extractor.path


def test_corrupt_cache_is_retrained_to_the_same_weights(env, data, capsys):
    first = features.feature_extractor(FLAG, seed=5, epochs=1)
    x = data[0].x[:32]
    before = first(x)
    first.path.write_bytes(b"not a checkpoint")
    second = features.feature_extractor(FLAG, seed=5, epochs=1)
    assert not second.from_cache and "Ignoring the cached" in capsys.readouterr().out
    np.testing.assert_allclose(second(x), before, rtol=1e-4, atol=1e-5)  # same seed, same network
    assert features.feature_extractor(FLAG, seed=5, epochs=1).from_cache


def test_features_separate_real_from_noise(extractor, data):
    """The property the Fréchet distance relies on: real vs real is far closer than real vs noise."""
    train, test = data
    n = min(len(test), 150)
    real_a, real_b = extractor(train.x[:n]), extractor(test.x[:n])
    noise = extractor(torch.rand(n, *train.x.shape[1:], generator=torch.Generator().manual_seed(0)) * 2 - 1)
    assert frechet_distance_from_features(real_a, real_a) == pytest.approx(0.0, abs=1e-6)
    real_vs_real = frechet_distance_from_features(real_a, real_b)
    real_vs_noise = frechet_distance_from_features(real_a, noise)
    assert real_vs_noise > 3 * real_vs_real


def test_rejects_bad_epochs(env):
    with pytest.raises(ValueError, match="epochs"):
        features.feature_extractor(FLAG, epochs=0)
