"""Retraining mechanics on a tiny network: masks hold through retraining, trained quantization
moves each centroid by the sum of its members' gradients, stages are cached and reproducible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from compression.deep_compression import (
    RetrainSchedule,
    deep_compress,
    prune_with_retraining,
    quantize_with_retraining,
)
from compression.recipe import parse_recipe
from workloads.networks import get_network
from workloads.torch_models import build_model, layer_modules
from workloads.training import TensorData, TrainingSettings

NETWORK = get_network("lenet-300-100")


def _data(n: int = 48, seed: int = 0) -> TensorData:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(n, *NETWORK.input_shape, generator=generator)
    labels = torch.randint(0, 10, (n,), generator=generator)
    return TensorData(images, labels, {"random": seed, "n": n})


def _weights(model) -> dict[str, np.ndarray]:
    return {n: m.weight.detach().numpy().copy() for n, m in layer_modules(model, NETWORK).items()}


def test_masks_hold_through_retraining():
    model = build_model(NETWORK, seed=0)
    densities = {"fc1": 0.08, "fc2": 0.09, "fc3": 0.26}
    settings = TrainingSettings(epochs=2, learning_rate=1e-2, batch_size=16, weight_decay=1e-3)
    masks = prune_with_retraining(model, NETWORK, densities, 3, _data(), settings, seed=0)
    after = _weights(model)
    for name, mask in masks.items():
        assert mask.sum() == round(densities[name] * mask.size)
        assert not after[name][~mask].any(), name  # pruned weights exactly zero
        assert np.count_nonzero(after[name]) == mask.sum()
    # retraining really changed the survivors (the test would pass vacuously otherwise)
    fresh = build_model(NETWORK, seed=0)
    before = _weights(fresh)
    assert not np.allclose(after["fc1"][masks["fc1"]], before["fc1"][masks["fc1"]])


def test_centroid_step_is_the_sum_of_member_gradients():
    model = build_model(NETWORK, seed=1)
    prune_with_retraining(
        model, NETWORK, {"fc1": 0.1, "fc2": 0.1, "fc3": 0.3}, 1, None, TrainingSettings()
    )
    data = _data(n=32, seed=3)
    bits = {"fc1": 3, "fc2": 3, "fc3": 2}
    # Reference: the quantized weights as a plain dense model; gradients of the whole batch.
    reference = build_model(NETWORK, seed=1)
    reference.load_state_dict(model.state_dict())
    quantized = quantize_with_retraining(
        reference, NETWORK, bits, "linear", None, TrainingSettings()
    )
    reference.zero_grad()
    torch.nn.functional.cross_entropy(reference(data.images), data.labels).backward()
    lr = 0.05
    expected = {}
    for name, module in layer_modules(reference, NETWORK).items():
        codebook, codes = quantized[name]
        grad = module.weight.grad.numpy().astype(np.float64)
        sums = np.bincount(codes.ravel(), weights=grad.ravel(), minlength=codebook.size)
        expected[name] = codebook.astype(np.float64) - lr * sums
        expected[name][0] = 0.0
    # One SGD step (no momentum) on all 32 samples trains only the centroids.
    step = TrainingSettings(
        epochs=1,
        learning_rate=lr,
        batch_size=32,
        optimizer="sgd",
        schedule="constant",
        momentum=0.0,
    )
    trained = quantize_with_retraining(model, NETWORK, bits, "linear", data, step, seed=0)
    for name, (codebook, codes) in trained.items():
        assert np.array_equal(codes, quantized[name][1])  # indices stay fixed
        assert codebook[0] == 0.0
        np.testing.assert_allclose(codebook, expected[name], rtol=1e-5, atol=1e-7)
        assert not np.allclose(codebook, quantized[name][0])  # something did move
    # the model now holds exactly codebook[codes]
    for name, module in layer_modules(model, NETWORK).items():
        codebook, codes = trained[name]
        assert np.array_equal(module.weight.detach().numpy(), codebook[codes])


RECIPE = parse_recipe(
    {
        "name": "tiny",
        "n_pe": 4,
        "prune_steps": 2,
        "init": "linear",
        "weight_bits": 3,
        "layers": {"fc1": {"density": 0.1}, "fc2": {"density": 0.1}, "fc3": {"density": 0.3}},
        "training": {
            "prune": {"epochs": 1, "batch_size": 16},
            "quantize": {"epochs": 1, "batch_size": 16, "max_steps": 2},
        },
    }
)


def test_deep_compress_stages_are_cached_and_reproducible(monkeypatch, tmp_path):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path))
    model = build_model(NETWORK, seed=2)
    original = _weights(model)
    first = deep_compress(model, NETWORK, "parent-a", RECIPE, _data(), seed=0)
    assert not first.pruned.from_cache and not first.quantized.from_cache
    assert all(np.array_equal(original[n], w) for n, w in _weights(model).items())  # untouched
    second = deep_compress(model, NETWORK, "parent-a", RECIPE, _data(), seed=0)
    assert second.pruned.from_cache and second.quantized.from_cache
    for a, b in zip(first.compressed.layers, second.compressed.layers):
        assert np.array_equal(a.codebook, b.codebook)
        assert np.array_equal(a.codes(), b.codes())
    # the same settings recomputed without the cache give identical layers
    third = deep_compress(model, NETWORK, "parent-a", RECIPE, _data(), seed=0, use_cache=False)
    for a, c in zip(first.compressed.layers, third.compressed.layers):
        assert np.array_equal(a.codebook, c.codebook) and np.array_equal(a.codes(), c.codes())
    compressed_weights = _weights(first.model)
    for layer in first.compressed.layers:
        values = compressed_weights[layer.name]
        assert np.array_equal(values, layer.dequantized_weights())
        assert len(np.unique(values[values != 0])) <= 2**layer.weight_bits - 1
        assert not values[~first.masks[layer.name]].any()
    # a different parent (or seed) is a different cache entry
    other = deep_compress(model, NETWORK, "parent-b", RECIPE, _data(), seed=0)
    assert not other.pruned.from_cache


@pytest.mark.parametrize("field", ["bits", "init"])
def test_quantized_stage_reuses_the_pruned_stage(monkeypatch, tmp_path, field):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path))
    model = build_model(NETWORK, seed=2)
    deep_compress(model, NETWORK, "p", RECIPE, _data(), seed=0)
    import dataclasses

    changed = (
        dataclasses.replace(RECIPE, defaults={**RECIPE.defaults, "weight_bits": 2})
        if field == "bits"
        else dataclasses.replace(RECIPE, init="density")
    )
    again = deep_compress(model, NETWORK, "p", changed, _data(), seed=0)
    assert again.pruned.from_cache and not again.quantized.from_cache


def test_schedule_override_reaches_the_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path))
    model = build_model(NETWORK, seed=2)
    a = deep_compress(model, NETWORK, "p", RECIPE, _data(), seed=0)
    schedule = RetrainSchedule(
        prune=TrainingSettings(epochs=1, batch_size=16, learning_rate=2e-4),
        quantize=TrainingSettings(epochs=1, batch_size=16, max_steps=2),
    )
    b = deep_compress(model, NETWORK, "p", RECIPE, _data(), seed=0, schedule=schedule)
    assert a.pruned.key != b.pruned.key and not b.pruned.from_cache
