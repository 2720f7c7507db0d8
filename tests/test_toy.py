"""Toy Gaussian mixtures and the mode-coverage measure of utils.toy."""
import math

import numpy as np
import pytest
import torch

from utils.toy import (
    Coverage,
    GaussianMixture,
    assign_modes,
    grid_centers,
    make_mixture,
    mode_coverage,
    ring_centers,
)


def test_ring_centers_known_values():
    c = ring_centers(4, radius=2.0)
    np.testing.assert_allclose(c, [[2, 0], [0, 2], [-2, 0], [0, -2]], atol=1e-12)
    assert np.allclose(np.linalg.norm(ring_centers(8, 3.0), axis=1), 3.0)


def test_grid_centers_known_values():
    c = grid_centers(3, spacing=2.0)
    assert c.shape == (9, 2)
    assert set(map(tuple, c.round(9))) == {(x, y) for x in (-2.0, 0.0, 2.0) for y in (-2.0, 0.0, 2.0)}
    np.testing.assert_allclose(grid_centers(2, 1.0).mean(axis=0), [0, 0], atol=1e-12)


@pytest.mark.parametrize("bad", [dict(n_modes=0), dict(radius=0.0)])
def test_ring_centers_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        ring_centers(**bad)


def test_sample_shape_dtype_and_modes():
    mix = make_mixture("ring", std=0.05)
    x, modes = mix.sample(1000, seed=0, return_modes=True)
    assert x.shape == (1000, 2) and x.dtype == torch.float32
    assert modes.shape == (1000,) and int(modes.min()) >= 0 and int(modes.max()) < 8
    # every point is near the centre it was drawn from
    offsets = x.double() - torch.as_tensor(mix.centers)[modes]
    assert offsets.norm(dim=1).max() < 6 * 0.05
    assert abs(offsets.std().item() - 0.05) < 0.005


def test_sample_is_reproducible_and_streams_differ():
    mix = make_mixture("ring")
    assert torch.equal(mix.sample(64, seed=3), mix.sample(64, seed=3))
    assert not torch.equal(mix.sample(64, seed=3), mix.sample(64, seed=4))
    gen = torch.Generator().manual_seed(0)
    first, second = mix.sample(64, generator=gen), mix.sample(64, generator=gen)
    assert not torch.equal(first, second)
    with pytest.raises(ValueError):
        mix.sample(4, seed=0, generator=gen)


def test_weights_make_a_rare_mode():
    mix = GaussianMixture(ring_centers(4), std=0.01, weights=[1, 1, 1, 0.1])
    _, modes = mix.sample(20000, seed=1, return_modes=True)
    share = np.bincount(modes.numpy(), minlength=4) / 20000
    np.testing.assert_allclose(share, np.array([1, 1, 1, 0.1]) / 3.1, atol=0.01)
    with pytest.raises(ValueError):
        GaussianMixture(ring_centers(4), weights=[1, 1, 1])
    with pytest.raises(ValueError):
        GaussianMixture(ring_centers(4), weights=[1, -1, 1, 1])


def test_real_samples_cover_every_mode():
    for layout, k in (("ring", 8), ("grid", 25)):
        mix = make_mixture(layout)
        cov = mix.coverage(mix.sample(5000, seed=0))
        assert isinstance(cov, Coverage)
        assert cov.covered == k == cov.n_modes
        assert 0.98 < cov.high_quality < 0.995  # 3 std in 2-D holds 1 - exp(-4.5) = 98.9%
        assert cov.missing == []


def test_collapsed_samples_cover_one_mode():
    mix = make_mixture("ring", std=0.05)
    collapsed = torch.as_tensor(mix.centers[2]).repeat(500, 1) + 0.01 * torch.randn(500, 2)
    cov = mix.coverage(collapsed)
    assert cov.covered == 1
    assert cov.counts.tolist() == [0, 0, 500, 0, 0, 0, 0, 0]
    assert cov.missing == [0, 1, 3, 4, 5, 6, 7]
    assert "1/8 modes" in str(cov)


def test_coverage_counts_by_hand():
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.1, 0.0], [0.0, 0.25], [0.5, 0.0], [9.8, 0.0], [5.0, 5.0]])
    # std 0.1, 3 std = 0.3: the first two are near mode 0, the fourth near mode 1
    cov = mode_coverage(samples, centers, std=0.1, min_count=1)
    assert cov.counts.tolist() == [2, 1]
    assert cov.covered == 2
    assert math.isclose(cov.high_quality, 3 / 5)
    # asking for two nearby samples per mode drops mode 1
    assert mode_coverage(samples, centers, std=0.1, min_count=2).covered == 1
    # a wider window (n_std=6: 0.6) also catches the third sample
    assert mode_coverage(samples, centers, std=0.1, n_std=6, min_count=1).counts.tolist() == [3, 1]


def test_default_min_count_ignores_stray_points():
    mix = make_mixture("ring", std=0.05)
    bulk = torch.as_tensor(mix.centers[0]).repeat(995, 1)
    strays = torch.as_tensor(mix.centers[1:6])  # one sample on each of five other modes
    cov = mix.coverage(torch.cat([bulk, strays]).float())
    assert cov.min_count == 10 and cov.covered == 1
    assert mix.coverage(torch.cat([bulk, strays]).float(), min_count=1).covered == 6


def test_assign_modes_and_input_checks():
    nearest, dist = assign_modes(torch.tensor([[1.9, 0.1], [0.0, -2.2]]), ring_centers(4))
    assert nearest.tolist() == [0, 3]
    np.testing.assert_allclose(dist, [math.hypot(0.1, 0.1), 0.2], atol=1e-6)
    with pytest.raises(ValueError):
        mode_coverage(np.zeros((3, 3)), ring_centers(4), std=0.1)
    with pytest.raises(ValueError):
        mode_coverage(np.zeros((3, 2)), ring_centers(4), std=0.0)
    with pytest.raises(ValueError):
        make_mixture("spiral")
