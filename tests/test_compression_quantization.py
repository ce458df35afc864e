"""Pruning and weight sharing (DESIGN §3.1–3.2): exact sparsity, k-means against plain-Python
Lloyd and scikit-learn, ≤ 2**b distinct values, zero stays zero, dtype/order independence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans

from compression.compressed_layer import compress_layer
from compression.pruning import (
    apply_mask,
    density_schedule,
    kept_count,
    magnitude_mask,
    threshold_mask,
)
from compression.weight_sharing import kmeans_1d, share_weights
from workloads import LayerSpec


def reference_lloyd(values, centroids, iterations, relocation_rounds=100):
    """Textbook Lloyd on sorted values: ties to the lower centroid; a cluster left empty is
    moved onto the point farthest from its own (updated) centroid, farthest first."""
    centroids = np.sort(np.array(centroids, np.float64))
    previous = None
    for _ in range(iterations):
        assign = np.argmin(np.abs(values[:, None] - centroids[None, :]), axis=1)
        if previous is not None and np.array_equal(assign, previous):
            break
        previous = assign
        new = centroids.copy()
        empty = []
        for c in range(centroids.size):
            members = values[assign == c]
            if members.size:
                new[c] = members.sum() / members.size
            else:
                empty.append(c)
        if empty and relocation_rounds > 0:
            relocation_rounds -= 1
            distance = (values - centroids[assign]) ** 2
            members = np.bincount(assign, minlength=centroids.size)
            taken = np.zeros(values.size, bool)
            for c, i in zip(empty, np.argsort(-distance, kind="stable")):
                if distance[i] <= 0 or members[assign[i]] <= 1:
                    break
                new[c] = values[i]
                taken[i] = True
                members[assign[i]] -= 1
                donor = (assign == assign[i]) & ~taken
                new[assign[i]] = values[donor].sum() / donor.sum()
            new = np.sort(new)
        centroids = new
    return centroids


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 400), st.sampled_from([0.0, 0.01, 0.37, 0.5, 1.0]), st.integers(0, 99))
def test_magnitude_pruning_sparsity_is_exact(n, density, seed):
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal(n).astype(np.float32)
    weights[: n // 4] = np.round(weights[: n // 4])  # ties at the threshold magnitude
    mask = magnitude_mask(weights, density)
    assert int(mask.sum()) == kept_count(n, density) == round(density * n)
    if mask.any() and (~mask).any():
        assert np.abs(weights[mask]).min() >= np.abs(weights[~mask]).max()
    pruned = apply_mask(weights, mask)
    assert np.all(pruned[~mask] == 0) and np.array_equal(pruned[mask], weights[mask])


def test_threshold_pruning_and_schedule():
    weights = np.array([0.1, -2.0, 0.5, 3.0, -0.2], np.float32)
    std = float(np.std(weights.astype(np.float64)))
    assert threshold_mask(weights, 1.0).tolist() == (np.abs(weights) > std).tolist()
    assert density_schedule(0.09, 1) == [0.09]
    schedule = density_schedule(0.09, 3)
    assert schedule[-1] == 0.09 and schedule == sorted(schedule, reverse=True)
    assert schedule[0] == pytest.approx(0.09 ** (1 / 3))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 200), st.integers(1, 12), st.integers(0, 999))
def test_kmeans_matches_plain_python_lloyd(n, k, seed):
    values = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    result = kmeans_1d(values, k, init="linear")
    if np.unique(values).size <= k:
        assert result.inertia == 0.0
        return
    expected = reference_lloyd(
        np.sort(values).astype(np.float64),
        np.linspace(float(values.min()), float(values.max()), k),
        10_000,
    )
    np.testing.assert_allclose(result.centroids, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("init", ["linear", "density", "random"])
def test_kmeans_at_least_as_good_as_sklearn_from_same_centroids(init):
    rng = np.random.default_rng(3)
    k = 31
    laplace = rng.laplace(0, 0.02, 20_000).astype(np.float32)
    normal = rng.standard_normal(60_000).astype(np.float32)
    pruned = normal[np.abs(normal) > 1.7]  # bimodal, like a layer's survivors at ~9% density
    for values in (laplace, pruned):
        _check_against_sklearn(values, k, init)


def _check_against_sklearn(values, k, init):
    start = kmeans_1d(values, k, init=init, seed=5, max_iterations=1).centroids  # after 1 step
    from compression.weight_sharing import initial_centroids

    init_centroids = initial_centroids(np.sort(values), k, init, seed=5)
    ours = kmeans_1d(values, k, init=init, seed=5)
    sk = KMeans(k, init=init_centroids.reshape(-1, 1), n_init=1, max_iter=300).fit(
        values.astype(np.float64).reshape(-1, 1)
    )
    assert ours.inertia <= sk.inertia_ * (1 + 1e-9)
    assert np.all(np.diff(ours.centroids) >= 0) and start.shape == (k,)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 300),
    st.integers(1, 8),
    st.sampled_from([0.0, 0.1, 0.6, 1.0]),
    st.sampled_from(["linear", "density", "random"]),
    st.integers(0, 99),
)
def test_sharing_keeps_zero_and_at_most_2b_values(n, bits, density, init, seed):
    weights = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    pruned = apply_mask(weights, magnitude_mask(weights, density))
    codebook, codes = share_weights(pruned, bits, init=init, seed=seed)
    assert codebook.shape == (2**bits,) and codebook[0] == 0.0
    assert np.all(np.diff(codebook[1:]) >= 0)
    quantized = codebook[codes]
    assert np.all(quantized[pruned == 0] == 0)
    assert np.all(codes[pruned != 0] > 0)
    assert np.unique(quantized[quantized != 0]).size <= 2**bits - 1
    if n and np.count_nonzero(pruned):  # each weight goes to its nearest centroid
        nearest = np.abs(pruned[pruned != 0][:, None] - codebook[1:][None, :]).min(axis=1)
        chosen = np.abs(pruned[pruned != 0] - quantized[pruned != 0])
        np.testing.assert_allclose(chosen, nearest, atol=1e-6)


FC = LayerSpec("fc", "fc", in_channels=40, out_channels=24)
CONV = LayerSpec("conv", "conv", in_channels=4, out_channels=6, kernel=(3, 3), input_hw=(8, 8))


@pytest.mark.parametrize("spec", [FC, CONV])
def test_compress_layer_independent_of_dtype_and_memory_order(spec):
    rng = np.random.default_rng(7)
    weights = rng.standard_normal(spec.weight_shape).astype(np.float32)
    a = compress_layer(spec, weights, density=0.3, weight_bits=4, n_pe=4)
    for variant in (weights.astype(np.float64), np.asfortranarray(weights), weights[::-1][::-1]):
        b = compress_layer(spec, variant, density=0.3, weight_bits=4, n_pe=4)
        assert np.array_equal(a.codebook, b.codebook)
        assert np.array_equal(a.sparse.entry_code, b.sparse.entry_code)
        assert np.array_equal(a.sparse.entry_gap, b.sparse.entry_gap)
        assert a.accounting == b.accounting
    again = compress_layer(spec, weights, density=0.3, weight_bits=4, n_pe=4)
    assert np.array_equal(a.dequantized_weights(), again.dequantized_weights())
    dq = a.dequantized_weights()
    assert dq.shape == spec.weight_shape and dq.dtype == np.float32
    assert np.count_nonzero(dq) == round(0.3 * spec.weights)
    assert a.sparse.rows, a.sparse.cols == spec.matrix_shape


@pytest.mark.parametrize(
    ("kwargs", "weights", "match"),
    [
        (
            {"density": 1.5, "weight_bits": 4},
            None,
            r"density=1.5 is invalid; allowed: a number in \[0, 1\]",
        ),
        ({"density": -0.1, "weight_bits": 4}, None, "density=-0.1"),
        (
            {"density": 0.5, "weight_bits": 0},
            None,
            r"weight_bits=0 is invalid; allowed: an integer in \[1, 16\]",
        ),
        ({"density": 0.5, "weight_bits": 17}, None, "weight_bits=17"),
        ({"density": 0.5, "weight_bits": 4, "index_bits": 20}, None, "index_bits=20"),
        ({"density": 0.5, "weight_bits": 4, "init": "kmeans++"}, None, "init='kmeans"),
        ({"density": 0.5, "weight_bits": 4}, np.full(FC.weight_shape, np.nan), "value=nan"),
        ({"density": 0.5, "weight_bits": 4}, np.full(FC.weight_shape, np.inf), "value=inf"),
        ({"density": 0.5, "weight_bits": 4}, np.zeros((3, 3)), r"shape=\(3, 3\) is invalid"),
    ],
)
def test_bad_input_gets_one_line_errors(kwargs, weights, match):
    values = np.ones(FC.weight_shape, np.float32) if weights is None else weights
    with pytest.raises(ValueError, match=match) as info:
        compress_layer(FC, values, **kwargs)
    assert "\n" not in str(info.value)
