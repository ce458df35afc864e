"""Compression reuse (issue 11 item 3): the sorted-weights fast path gives, byte for byte, the
containers of the straightforward path (`compression_reference`), for a small network, for
random shapes / densities / bits / PE counts / ties, and whatever order densities come in;
its Numba kernels agree with plain-Python twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from compression_reference import (
    reference_layer,
    reference_lloyd,
    reference_mask,
    reference_network,
    reference_share,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from compression import compress_layer, compress_network
from compression.compressed_network import (
    CompressedNetwork,
    clear_synthetic_cache,
    synthetic_sorted_weights,
)
from compression.container import serialize
from compression.pruning import kept_count, magnitude_mask
from compression.recipe import parse_recipe
from compression.sorted_weights import (
    SortedWeights,
    _count_at_least,
    _kth_largest_magnitude,
    _magnitude_histogram,
    sort_float32,
)
from compression.weight_codes import _code_table, _magnitude_of_bits
from compression.weight_sharing import (
    _count_at_most,
    _sort_centroids,
    kmeans_1d,
    kmeans_sorted,
    share_weights,
)
from workloads import LayerSpec, get_network
from workloads.synthetic import synthetic_weights


def _bytes(network: CompressedNetwork) -> tuple[bytes, bytes]:
    return serialize(network, "huffman")[0], serialize(network, "fixed")[0]


def _one_layer(layer) -> CompressedNetwork:
    return CompressedNetwork("n", (layer,), "r")


RECIPES = [
    {"density": 0.1, "weight_bits": 5},
    {"density": 0.05, "weight_bits": 2, "init": "density", "index_bits": 3},
    {"kind": {"fc": {"density": 0.3, "weight_bits": 4}}, "init": "random"},
    {"density": 1.0, "weight_bits": 3, "index_bits": 2},
    {"density": 0.0, "weight_bits": 4},
]


def test_small_network_containers_identical_to_the_plain_path():
    """lenet-300-100 (266,200 weights): several recipes through one cached set of synthetic
    weights (densities going down, up, to 1 and to 0) give the reference's exact bytes."""
    network = get_network("lenet-300-100")
    weights = {spec.name: synthetic_weights(spec, 7) for spec in network.layers}
    clear_synthetic_cache()
    for n_pe, data in zip([1, 4, 3, 1, 2], RECIPES, strict=True):
        recipe = parse_recipe(data, "case")
        fast = compress_network(network, recipe, n_pe=n_pe, seed=7)
        assert _bytes(fast) == _bytes(reference_network(network, recipe, weights, n_pe, 7))
    assert synthetic_sorted_weights(network, 7) is synthetic_sorted_weights(network, 7)


def test_synthetic_weights_are_drawn_once_per_network_and_seed():
    network = get_network("lenet-300-100")
    clear_synthetic_cache()
    first = synthetic_sorted_weights(network, 1)
    assert synthetic_sorted_weights(network, 1) is first
    for spec in network.layers:
        assert np.array_equal(first[spec.name].weights, synthetic_weights(spec, 1))
    other = synthetic_sorted_weights(network, 2)  # replaces the entry: one network's worth
    assert other is not first
    assert synthetic_sorted_weights(network, 1) is not first
    clear_synthetic_cache()


@st.composite
def layer_cases(draw):
    rows = draw(st.integers(1, 24))
    cols = draw(st.integers(1, 24))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["normal", "ties", "zeros", "signed-zeros", "constant", "few"]))
    weights = rng.standard_normal((rows, cols)).astype(np.float32)
    if kind == "ties":
        weights = np.round(weights * 2) / 2
    elif kind == "zeros":
        weights[rng.random((rows, cols)) < 0.5] = 0
    elif kind == "signed-zeros":
        weights[rng.random((rows, cols)) < 0.3] = -0.0
        weights[rng.random((rows, cols)) < 0.3] = 0.0
    elif kind == "constant":
        weights[:] = np.float32(rng.choice([-1.5, 0.25]))
    elif kind == "few":
        weights = rng.choice(np.array([-2, -1, 1, 3], np.float32), (rows, cols))
    densities = draw(
        st.lists(
            st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0, 1)), min_size=1, max_size=4
        )
    )
    return (
        weights.astype(np.float32),
        densities,
        draw(st.integers(1, 8)),  # weight bits
        draw(st.integers(1, 5)),  # index bits
        draw(st.integers(1, 5)),  # n_pe
        draw(st.sampled_from(["linear", "density", "random"])),
        draw(st.integers(0, 9)),  # k-means seed
    )


@settings(max_examples=150)
@given(layer_cases())
def test_random_layers_bit_exact_for_any_order_of_densities(case):
    weights, densities, bits, index_bits, n_pe, init, seed = case
    spec = LayerSpec("fc", "fc", weights.shape[1], weights.shape[0])
    prepared = SortedWeights(weights)
    for density in densities:  # one SortedWeights serves every density, in any order
        # a second bit width of the same density reuses the survivors' places (quantize)
        for weight_bits in (bits, 1 + bits % 8):
            fast = compress_layer(
                spec,
                prepared,
                density=density,
                weight_bits=weight_bits,
                index_bits=index_bits,
                n_pe=n_pe,
                init=init,
                seed=seed,
            )
            plain = reference_layer(
                spec, weights, density, weight_bits, index_bits, n_pe, init, seed
            )
            assert _bytes(_one_layer(fast)) == _bytes(_one_layer(plain))
        one_shot = compress_layer(
            spec, weights, density=density, weight_bits=bits, index_bits=index_bits, n_pe=n_pe
        )
        linear = reference_layer(spec, weights, density, bits, index_bits, n_pe, "linear", 0)
        assert _bytes(_one_layer(one_shot)) == _bytes(_one_layer(linear))


@settings(max_examples=150)
@given(layer_cases())
def test_selection_is_magnitude_mask_and_survivors_come_sorted(case):
    weights, densities, *_ = case
    prepared = SortedWeights(weights)
    for density in densities:
        selection = prepared.select(density)
        mask = magnitude_mask(weights, density)
        assert np.array_equal(prepared.mask(selection), mask)
        for chunk in (1, 3, 64):  # computed a few weights at a time: ties across chunk edges
            assert np.array_equal(prepared.mask(selection, chunk=chunk), mask)
        assert np.array_equal(mask, reference_mask(weights, density))
        assert selection.keep == kept_count(weights.size, density)
        kept = weights[mask]
        expected = np.sort(kept[kept != 0])
        survivors = prepared.sorted_survivors(selection)
        assert survivors.dtype == np.float32
        assert np.array_equal(survivors.view(np.uint32), expected.view(np.uint32))


@settings(max_examples=80)
@given(layer_cases())
def test_share_weights_matches_the_plain_path(case):
    weights, densities, bits, _, _, init, seed = case
    pruned = np.where(reference_mask(weights, densities[0]), weights, np.float32(0))
    codebook, codes = share_weights(pruned, bits, init=init, seed=seed)
    expected_codebook, expected_codes = reference_share(pruned, bits, init, seed)
    assert np.array_equal(codebook.view(np.uint32), expected_codebook.view(np.uint32))
    assert np.array_equal(codes, expected_codes)


@settings(max_examples=60)
@given(st.integers(1, 3000), st.integers(1, 40), st.integers(0, 999))
def test_kmeans_on_sorted_values_matches_plain_lloyd_exactly(n, k, seed):
    rng = np.random.default_rng(seed)
    values = np.sort(rng.laplace(0, 1, n).astype(np.float32))
    values = values[np.abs(values) > 0.3]  # bimodal, like pruned layers
    if np.unique(values).size <= k:
        return
    for init in ("linear", "density", "random"):
        ours = kmeans_sorted(values, k, init, seed, with_inertia=False)
        assert np.array_equal(ours.centroids, kmeans_1d(values, k, init, seed).centroids)
        start = kmeans_sorted(values, k, init, seed, max_iterations=1)  # same start
        assert start.iterations == 1
    expected = reference_lloyd(values, np.linspace(float(values[0]), float(values[-1]), k))
    got = kmeans_sorted(values, k, "linear").centroids
    assert np.array_equal(got, expected)


@settings(max_examples=200)
@given(
    st.lists(st.integers(-50, 50), min_size=0, max_size=60),
    st.floats(-60, 60),
    st.integers(-5, 70),
)
def test_galloping_search_equals_searchsorted(values, value, hint):
    array = np.sort(np.array(values, np.float32))
    assert _count_at_most(array, value, hint) == np.searchsorted(
        array.astype(np.float64), value, side="right"
    )


finite_float32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@settings(max_examples=200)
@given(st.lists(finite_float32, min_size=0, max_size=80), finite_float32)
def test_count_at_least_equals_searchsorted(values, magnitude):
    array = np.sort(np.array(values, np.float32))
    magnitude = np.float32(abs(magnitude) or 1.0)  # the kernel's domain: magnitude > 0
    below = np.searchsorted(array, -magnitude, side="right")
    above = array.size - np.searchsorted(array, magnitude, side="left")
    assert _count_at_least(array, magnitude) == below + above


@settings(max_examples=150)
@given(
    st.lists(
        st.one_of(st.sampled_from([-0.0, 0.0, 1.0, -2.5]), st.floats(-1e3, 1e3)),
        min_size=0,
        max_size=300,
    )
)
def test_centroid_sort_orders_by_value_then_negative_zero_first(values):
    """`_sort_centroids` gives numpy's sorted values, with −0.0 before +0.0 (the one tie whose
    order shows in the bits), as a sort by (value, +0.0 after −0.0) does."""
    array = np.array(values, np.float64)
    expected = np.array(sorted(values, key=lambda v: (v, math.copysign(1.0, v))), np.float64)
    _sort_centroids(array)
    assert np.array_equal(array.view(np.uint64), expected.view(np.uint64))
    assert np.array_equal(array, np.sort(np.array(values, np.float64)))


@settings(max_examples=150)
@given(st.lists(finite_float32, min_size=0, max_size=300))
def test_radix_sort_equals_numpy_sort(values):
    array = np.array(values, np.float32)
    got = sort_float32(array)
    assert np.array_equal(got, np.sort(array))
    assert np.all(np.diff(got.view(np.uint32)[got < 0].astype(np.int64)) <= 0)
    assert np.all(np.diff(got.view(np.uint32)[got > 0].astype(np.int64)) >= 0)


@settings(max_examples=300)
@given(
    st.one_of(
        st.sampled_from([0, 1, 0x7FFFFF, 0x800000, 0x3F800000, 0x7F7FFFFF]),
        st.integers(0, 0x7F7FFFFF),
    )
)
def test_magnitude_of_bits_is_the_float32_with_that_bit_pattern(bits):
    got = _magnitude_of_bits(bits)
    assert np.float32(got).view(np.uint32) == bits


@settings(max_examples=100)
@given(st.lists(finite_float32, min_size=1, max_size=200), st.data())
def test_histogram_and_kth_largest_magnitude_match_plain_python(values, data):
    array = np.array(values, np.float32)
    bins = (array.view(np.uint32) & 0x7FFFFFFF) >> 16
    histogram = _magnitude_histogram(array.view(np.uint32))
    assert np.array_equal(histogram[: bins.max() + 1], np.bincount(bins))
    assert histogram.sum() == array.size
    keep = data.draw(st.integers(1, array.size))
    magnitudes = np.sort(np.abs(array))[::-1]
    assert _kth_largest_magnitude(np.sort(array), keep, 0) == magnitudes[keep - 1]


@settings(max_examples=60)
@given(
    st.lists(st.floats(-4, 4, width=32), min_size=1, max_size=20, unique=True),
    st.floats(0, 3, width=32),
)
def test_code_table_bins_are_uniform(centroids, threshold):
    """Every bin the table decides gets, for all its values, the exact rule's code."""
    centroids = np.sort(np.array(centroids, np.float64))
    midpoints = 0.5 * (centroids[:-1] + centroids[1:])
    table = _code_table(np.float32(threshold), midpoints)
    decided = np.flatnonzero(table >= 0)
    for offset in (0, 1, 0x7FFF, 0xFFFE, 0xFFFF):  # values spread over each decided bin
        patterns = (decided.astype(np.uint32) << 16) | np.uint32(offset)
        values = patterns.view(np.float32)
        expected = np.where(
            (values == 0) | (np.abs(values) < np.float32(threshold)),
            0,
            1 + np.searchsorted(midpoints, values.astype(np.float64), side="left"),
        )
        assert np.array_equal(table[decided], expected)


def test_bad_inputs_are_refused_in_one_line():
    spec = LayerSpec("fc", "fc", 4, 3)
    with pytest.raises(ValueError, match=r"weights shape=\(2, 2\) is invalid"):
        compress_layer(spec, SortedWeights(np.ones((2, 2))), density=0.5, weight_bits=2)
    with pytest.raises(ValueError, match="value=nan is invalid"):
        SortedWeights(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="density=1.5 is invalid"):
        SortedWeights(np.ones(3)).select(1.5)
    with pytest.raises(ValueError, match="sorted_values dtype=float64"):
        kmeans_sorted(np.arange(5.0), 2)
    prepared = SortedWeights(np.arange(1.0, 13.0).reshape(3, 4))
    selection = prepared.select(0.5)
    with pytest.raises(ValueError, match="nonzeros=5 is invalid"):  # 6 survive: refused,
        prepared.quantize(selection, np.zeros(0), (3, 4), 5)  # never written out of bounds


def test_quantize_reuses_the_survivors_of_the_same_selection():
    """Another bit width of one density: the survivors' places are the same objects, their
    codes those a fresh SortedWeights scan gives for the new midpoints."""
    weights = np.random.default_rng(3).standard_normal((40, 30)).astype(np.float32)
    prepared = SortedWeights(weights)
    selection = prepared.select(0.3)
    count = prepared.sorted_survivors(selection).size
    first = prepared.quantize(selection, np.array([-0.5, 0.0, 0.5]), (40, 30), count)
    second = prepared.quantize(selection, np.array([-1.0, 1.0]), (40, 30), count)
    assert second[0] is first[0] and second[1] is first[1]
    fresh = SortedWeights(weights)
    expected = fresh.quantize(fresh.select(0.3), np.array([-1.0, 1.0]), (40, 30), count)
    for got, want in zip(second, expected, strict=True):
        assert np.array_equal(got[:count], want[:count])
    assert not first[0].flags.writeable and not first[1].flags.writeable
