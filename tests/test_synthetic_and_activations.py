"""Synthetic weights/activations (seeds, distributions, densities) and hook-based capture."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from workloads import get_network
from workloads.activations import activation_density, capture_layer_inputs
from workloads.synthetic import synthetic_activations, synthetic_layer_input, synthetic_weights
from workloads.torch_models import build_model


def test_synthetic_weights_seeded_and_per_layer():
    net = get_network("lenet-5")
    conv1, conv2 = net.layers[0], net.layers[1]
    a = synthetic_weights(conv2, seed=1)
    assert a.shape == conv2.weight_shape and a.dtype == np.float32
    assert np.array_equal(a, synthetic_weights(conv2, seed=1))
    assert not np.array_equal(a, synthetic_weights(conv2, seed=2))
    assert not np.array_equal(synthetic_weights(conv1, 1).ravel()[:10], a.ravel()[:10])


@pytest.mark.parametrize("distribution", ["normal", "laplace"])
def test_synthetic_weights_follow_documented_distribution(distribution):
    layer = get_network("alexnet-caffe").layer("fc7")  # 16.7 M samples
    w = synthetic_weights(layer, seed=0, distribution=distribution).astype(np.float64)
    sigma = math.sqrt(2.0 / 4096)
    assert abs(w.mean()) < 1e-3 * sigma * 10
    assert abs(w.std() / sigma - 1) < 2e-3
    excess_kurtosis = ((w - w.mean()) ** 4).mean() / w.var() ** 2 - 3
    assert abs(excess_kurtosis - (0.0 if distribution == "normal" else 3.0)) < 0.05


def test_unknown_distribution_and_bad_seed():
    layer = get_network("lenet-5").layers[0]
    with pytest.raises(ValueError, match="distribution"):
        synthetic_weights(layer, distribution="uniform")
    with pytest.raises(ValueError, match="seed"):
        synthetic_weights(layer, seed=-1)


@given(
    size=st.integers(0, 3000),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_synthetic_activations_have_exact_density(size, density, seed):
    x = synthetic_activations(size, density, seed)
    assert x.shape == (size,) and x.dtype == np.float32
    assert np.count_nonzero(x) == round(density * size)
    assert np.all(x >= 0)
    assert np.array_equal(x, synthetic_activations(size, density, seed))


@pytest.mark.parametrize("density", [-0.1, 1.01, float("nan")])
def test_synthetic_activation_density_is_validated(density):
    with pytest.raises(ValueError, match="density"):
        synthetic_activations(10, density)


def test_synthetic_layer_input_shapes():
    net = get_network("alexnet-caffe")
    x = synthetic_layer_input(net.layer("conv2"), 0.5, seed=0)
    assert x.shape == (96, 27, 27) and np.count_nonzero(x) == round(0.5 * x.size)
    assert synthetic_layer_input(net.layer("fc7"), 0.3).shape == (4096,)


def test_capture_layer_inputs_matches_manual_forward():
    net = get_network("lenet-300-100")
    model = build_model(net, seed=0)
    x = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    captured = capture_layer_inputs(model, net, x)
    assert list(captured) == ["fc1", "fc2", "fc3"]
    flat = x.flatten(1)
    h1 = torch.relu(model.classifier[0](flat))
    np.testing.assert_array_equal(captured["fc1"], flat.numpy())
    np.testing.assert_allclose(captured["fc2"], h1.detach().numpy(), rtol=1e-6)
    assert 0 < activation_density(captured["fc2"]) < 1  # after a ReLU, some zeros
    assert model.training  # mode restored
    # hooks removed: a second forward pass captures nothing new
    assert all(not m._forward_pre_hooks for m in model.modules())
