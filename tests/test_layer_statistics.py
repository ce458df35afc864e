"""Per-PE-count statistics (simulator.layer_statistics): the O(nnz) work arrays equal the
lowering's, frequencies, the exact entries pmf, and the density path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compression.sparse_format import encode_sparse
from simulator.density_statistics import density_statistics, slice_entries_pmf
from simulator.layer_statistics import (
    column_frequencies,
    layer_statistics,
    layer_statistics_from_work,
)
from simulator.lowering import (
    layer_work,
    onchip_entries_per_pe,
    output_batches,
    scanned_activations,
)
from simulator.structure_walk import nonzero_structure, structure_from_codes, work_from_structure
from workloads.layer_spec import LayerSpec


@st.composite
def _layers(draw):
    if draw(st.booleans()):
        rows, cols = draw(st.integers(1, 150)), draw(st.integers(1, 25))
        spec = LayerSpec("fc", "fc", cols, rows)
    else:
        groups = draw(st.integers(1, 3))
        cin = groups * draw(st.integers(1, 3))
        cout = groups * draw(st.integers(1, 40))
        k = draw(st.integers(1, 3))
        spec = LayerSpec("conv", "conv", cin, cout, kernel=(k, k), groups=groups, input_hw=(5, 5))
    rows, cols = spec.matrix_shape
    seed = draw(st.integers(0, 2**16))
    density = draw(st.floats(0.0, 1.0))
    rng = np.random.default_rng(seed)
    codes = (rng.random((rows, cols)) < density) * rng.integers(1, 4, (rows, cols))
    return spec, codes.astype(np.uint16)


@settings(max_examples=80)
@given(
    _layers(),
    st.integers(1, 20),
    st.sampled_from([1, 2, 3, 64]),
    st.integers(1, 4),
    st.integers(2, 16),
    st.sampled_from([16, 64, 128]),
)
def test_work_from_structure_equals_the_lowering(layer, n_pe, registers, index_bits, entry, word):
    spec, codes = layer
    rows, cols = spec.matrix_shape
    groups = spec.groups if spec.kind == "conv" else 1
    reference = layer_work(encode_sparse(codes, n_pe, index_bits), spec, entry, word, registers)
    col_ptr, rows_of = structure_from_codes(codes)
    batches = output_batches(rows, n_pe, registers)
    entries, fillers, words = work_from_structure(
        col_ptr, rows_of, rows, n_pe, registers, batches, groups, index_bits, entry, word
    )
    np.testing.assert_array_equal(entries, reference.entries)
    np.testing.assert_array_equal(fillers, reference.fillers)
    np.testing.assert_array_equal(words, reference.words)
    stats = layer_statistics((col_ptr, rows_of), spec, n_pe, registers, index_bits, entry, word)
    np.testing.assert_array_equal(
        stats.stored_entries_per_pe,
        onchip_entries_per_pe(encode_sparse(codes, n_pe, index_bits), registers),
    )
    # the fused reductions equal the statistics of the full per-item-type arrays
    reference = layer_statistics_from_work(
        (col_ptr, rows_of), spec, n_pe, registers, index_bits, entry, word
    )
    for name in ("entries_per_item", "fillers_per_item", "words_per_item"):
        assert getattr(stats, name) == pytest.approx(getattr(reference, name), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(stats.busy_per_item, reference.busy_per_item, atol=1e-12)
    for fused, plain in zip(stats.segments, reference.segments, strict=True):
        assert fused.counts.tolist() == plain.counts.tolist() and fused.lead_pes == plain.lead_pes
        width = min(fused.pmfs.shape[1], plain.pmfs.shape[1])
        np.testing.assert_allclose(fused.pmfs[:, :width], plain.pmfs[:, :width], atol=1e-12)
        for name in ("mean_cost", "sd_cost", "max_cost", "lead_entries_mean", "density"):
            assert getattr(fused, name) == pytest.approx(getattr(plain, name), rel=1e-9, abs=1e-12)


@settings(max_examples=50)
@given(
    _layers(),
    st.integers(1, 20),
    st.sampled_from([None, 1, 3]),
    st.integers(1, 4),
    st.sampled_from([16, 24, 64]),  # 24: not a power of two (division, not a shift)
)
def test_one_walk_counts_the_words_of_every_entry_width(layer, n_pe, registers, index_bits, word):
    """The words per item of other entry widths, counted in the same walk, equal a walk of that
    width alone (bit for bit: same terms, same order) and the plain per-item-type arrays."""
    spec, codes = layer
    structure = structure_from_codes(codes)
    widths = tuple(index_bits + bits for bits in range(1, 9) if index_bits + bits <= word)
    together = layer_statistics(
        structure, spec, n_pe, registers, index_bits, widths[0], word, widths
    )
    assert set(together.words_per_item_by_entry_bits) == set(widths)
    for entry in widths:
        alone = layer_statistics(structure, spec, n_pe, registers, index_bits, entry, word)
        assert together.words_per_item_by_entry_bits[entry] == alone.words_per_item
        plain = layer_statistics_from_work(
            structure, spec, n_pe, registers, index_bits, entry, word
        )
        assert alone.words_per_item == pytest.approx(plain.words_per_item, rel=1e-12, abs=1e-12)


@settings(max_examples=40)
@given(_layers(), st.integers(1, 9), st.integers(1, 4))
def test_nonzero_structure_does_not_depend_on_the_encoding(layer, n_pe, index_bits):
    _, codes = layer
    col_ptr, rows_of = nonzero_structure(encode_sparse(codes, n_pe, index_bits))
    expected = structure_from_codes(codes)
    np.testing.assert_array_equal(col_ptr, expected[0])
    np.testing.assert_array_equal(rows_of, expected[1])


@pytest.mark.parametrize(
    "spec",
    [
        LayerSpec("fc", "fc", 30, 7),
        LayerSpec("c", "conv", 4, 6, kernel=(3, 3), padding=(1, 1), groups=2, input_hw=(7, 6)),
        LayerSpec(
            "s", "conv", 3, 8, kernel=(5, 3), stride=(2, 3), padding=(2, 0), input_hw=(9, 11)
        ),
    ],
)
def test_column_frequencies_sum_to_the_scanned_activations(spec):
    groups = spec.groups if spec.kind == "conv" else 1
    assert column_frequencies(spec).sum() * groups == scanned_activations(spec)


def test_column_frequencies_are_whole_counts_for_every_registered_layer():
    """`segment_reductions` sums them as int64: every layer of every network must give whole
    numbers (a column is broadcast a whole number of times)."""
    from workloads.networks import NETWORK_NAMES, get_network

    for name in NETWORK_NAMES:
        for layer in get_network(name).layers:
            frequency = column_frequencies(layer)
            assert np.array_equal(frequency, np.round(frequency)), (name, layer.name)


def _brute_entries_pmf(n_rows, density, index_bits):
    span = 1 << index_bits
    out = np.zeros(2 * n_rows + 2)
    for bits in itertools.product([0, 1], repeat=n_rows):
        p = np.prod([density if b else 1 - density for b in bits])
        entries = run = 0
        for b in bits:
            if b:
                entries += 1 + run // span
                run = 0
            else:
                run += 1
        out[entries] += p
    return out


@pytest.mark.parametrize(
    ("n_rows", "density", "index_bits"), [(1, 0.3, 1), (6, 0.2, 1), (10, 0.15, 2), (12, 0.5, 3)]
)
def test_slice_entries_pmf_is_exact(n_rows, density, index_bits):
    pmf = slice_entries_pmf(n_rows, density, index_bits)
    brute = _brute_entries_pmf(n_rows, density, index_bits)
    np.testing.assert_allclose(pmf, brute[: pmf.shape[0]], atol=1e-12)
    assert brute[pmf.shape[0] :].sum() < 1e-12


def test_density_statistics_match_a_large_iid_matrix():
    """The closed form's expectations equal a big i.i.d. matrix's measured statistics."""
    spec = LayerSpec("fc", "fc", 20000, 512)
    rng = np.random.default_rng(3)
    codes = (rng.random(spec.matrix_shape) < 0.06).astype(np.uint16)
    measured = layer_statistics(structure_from_codes(codes), spec, 16, 64, 4, 8, 64)
    expected = density_statistics(spec, float(codes.mean()), 16, 64, 4, 8, 64)
    assert expected.batches == measured.batches == 1
    for name in ("entries_per_item", "fillers_per_item", "words_per_item"):
        assert getattr(expected, name) == pytest.approx(getattr(measured, name), rel=0.02)
    seg_e, seg_m = expected.segments[0], measured.segments[0]
    assert seg_e.mean_cost == pytest.approx(seg_m.mean_cost, rel=0.01)
    assert seg_e.sd_cost == pytest.approx(seg_m.sd_cost, rel=0.03)
    assert seg_e.max_cost == pytest.approx(seg_m.max_cost, rel=0.03)
    np.testing.assert_allclose(
        expected.stored_entries_per_pe, measured.stored_entries_per_pe, rtol=0.02
    )


def test_statistics_are_shared_by_layers_with_the_same_structure():
    """Two compression settings that prune alike (other codes, same positions) share the
    statistics; another structure, spec or bit width does not."""
    from types import SimpleNamespace

    from simulator.layer_statistics import compressed_layer_statistics, structure_digest

    rng = np.random.default_rng(7)
    spec = LayerSpec("fc", "fc", 40, 64)
    mask = rng.random((64, 40)) < 0.3
    codes_a = (mask * rng.integers(1, 16, mask.shape)).astype(np.uint16)
    codes_b = (mask * rng.integers(1, 4, mask.shape)).astype(np.uint16)
    codes_c = codes_a.copy()
    codes_c[0, 0], codes_c[1, 0] = (0, 5) if codes_c[0, 0] else (5, 0)  # one non-zero moved

    def layer(codes, spec=spec):
        return SimpleNamespace(sparse=encode_sparse(codes, 4, 4), spec=spec, index_bits=4)

    a, b, c = layer(codes_a), layer(codes_b), layer(codes_c)
    assert structure_digest(a.sparse) == structure_digest(b.sparse)
    assert structure_digest(a.sparse) != structure_digest(c.sparse)
    first = compressed_layer_statistics(a, 8, None, 8, 64)
    assert compressed_layer_statistics(b, 8, None, 8, 64) is first
    assert compressed_layer_statistics(c, 8, None, 8, 64) is not first
    other_width = compressed_layer_statistics(b, 8, None, 6, 64)
    assert other_width is not first
    assert other_width.segments is first.segments  # only the words depend on the entry width
    fresh_6 = layer_statistics(structure_from_codes(codes_b), spec, 8, None, 4, 6, 64)
    assert other_width.words_per_item == fresh_6.words_per_item
    assert compressed_layer_statistics(a, 8, None, 6, 64) is other_width
    other_spec = layer(codes_a, LayerSpec("fc2", "fc", 40, 64))
    assert compressed_layer_statistics(other_spec, 8, None, 8, 64) is not first
    # and what is shared is what a fresh computation gives
    fresh = layer_statistics(structure_from_codes(codes_b), spec, 8, None, 4, 8, 64)
    assert fresh.entries_per_item == first.entries_per_item
    assert fresh.words_per_item == first.words_per_item
    np.testing.assert_array_equal(fresh.stored_entries_per_pe, first.stored_entries_per_pe)


def test_structure_digest_tells_a_filler_from_a_non_zero_at_the_same_place():
    """With 4-bit relative indices a gap of 16 zeros needs a filler (code 0) where another
    matrix has a real non-zero: same relative indices, different structures — the filler flags
    keep their digests apart; codes alone never change a digest."""
    from simulator.layer_statistics import structure_digest

    a = np.zeros((20, 1), np.uint16)
    a[16, 0] = 3  # stored as a filler at row 15, then the non-zero at row 16
    b = np.zeros((20, 1), np.uint16)
    b[15, 0], b[16, 0] = 5, 3  # two non-zeros at rows 15 and 16
    ea, eb = encode_sparse(a, 1, 4), encode_sparse(b, 1, 4)
    np.testing.assert_array_equal(ea.entry_gap, eb.entry_gap)  # the same relative indices
    assert structure_digest(ea) != structure_digest(eb)
    c = a.copy()
    c[16, 0] = 7  # another code at the same place
    assert structure_digest(encode_sparse(c, 1, 4)) == structure_digest(ea)


_REAL_STATISTICS = """
import numpy as np
from compression.compressed_layer import compress_layer
from compression.sorted_weights import SortedWeights
from simulator import structure_walk
from simulator.layer_statistics import compressed_layer_statistics
from workloads.layer_spec import LayerSpec

spec = LayerSpec("fc", "fc", 40, 30)
weights = np.random.default_rng(0).standard_normal((30, 40)).astype(np.float32)
layer = compress_layer(spec, SortedWeights(weights), density=0.3, weight_bits=4, n_pe=4)
for registers in (None, 2):
    compressed_layer_statistics(layer, 4, registers, 8, 64)
for kernel in (structure_walk.segment_reductions, structure_walk._global_nonzeros):
    stats = kernel.stats
    print(kernel.__name__, sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
"""


def test_compiled_statistics_kernels_serve_a_real_layer_from_the_cache(tmp_path):
    """`compile_statistics_kernels` in one process (a sweep's side worker) leaves in Numba's
    cache exactly the signatures a real compressed layer's statistics need in another: that
    process loads them (cache hits) and compiles none (no misses)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}

    def run(code):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    warm = "from simulator.layer_statistics import compile_statistics_kernels\n"
    run(warm + "compile_statistics_kernels()\n")
    lines = run(_REAL_STATISTICS).split()
    assert lines == ["segment_reductions", "1", "0", "_global_nonzeros", "1", "0"]
