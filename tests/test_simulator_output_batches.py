"""Output batches: a PE with R destination registers computes layers of more than R·N rows in
several passes over the input (EIE §IV), each batch stored as its own relative-index slice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compression.sparse_format import decode_sparse, encode_sparse
from simulator import analytical_layer, load_accelerator, pruned_layer, simulate_layer
from simulator.cycle_model import cycle_timing
from simulator.lowering import (
    activation_stream,
    band_matrices,
    layer_work,
    output_batches,
    scanned_activations,
)
from simulator.pruned_layer import PrunedLayer
from simulator.simulate import weight_storage_bytes
from workloads.layer_spec import LayerSpec


def reference_band_entries(codes, n_pe, registers, index_bits):
    """(entries, fillers) [batches·cols, n_pe] counted from the dense codes: PE p walks, for
    batch b and column c, its rows of the batch in order, one entry per non-zero plus one
    filler per 2**r zeros skipped since the batch's first row or the previous entry."""
    rows, cols = codes.shape
    local_rows = -(-rows // n_pe)
    batches = max(1, -(-local_rows // registers))
    entries = np.zeros((batches * cols, n_pe), np.int64)
    fillers = np.zeros_like(entries)
    span = 1 << index_bits
    for b in range(batches):
        for c in range(cols):
            for p in range(n_pe):
                run = 0
                for local in range(b * registers, (b + 1) * registers):
                    row = p + local * n_pe
                    if row >= rows:
                        break
                    if codes[row, c] == 0:
                        run += 1
                        continue
                    extra = run // span
                    entries[b * cols + c, p] += 1 + extra
                    fillers[b * cols + c, p] += extra
                    run = 0
    return entries, fillers


@settings(max_examples=80, deadline=None)
@given(
    rows=st.integers(1, 48),
    cols=st.integers(1, 6),
    n_pe=st.integers(1, 5),
    registers=st.integers(1, 6),
    index_bits=st.integers(1, 3),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 99),
)
def test_batched_work_matches_a_reference_count(
    rows, cols, n_pe, registers, index_bits, density, seed
):
    rng = np.random.default_rng(seed)
    codes = (rng.random((rows, cols)) < density).astype(np.uint16)
    sm = encode_sparse(codes, n_pe, index_bits)
    spec = LayerSpec("t", "fc", cols, rows)
    work = layer_work(sm, spec, index_bits + 4, 64, registers)
    entries, fillers = reference_band_entries(codes, n_pe, registers, index_bits)
    np.testing.assert_array_equal(work.entries, entries)
    np.testing.assert_array_equal(work.fillers, fillers)
    # the batches hold exactly the layer: stacked back they decode to the codes
    bands = band_matrices(sm, registers)
    assert len(bands) == output_batches(rows, n_pe, registers)
    np.testing.assert_array_equal(np.vstack([decode_sparse(b) for b in bands]), codes)
    # restarting the index at a batch's first row never needs more fillers than one slice
    assert int(work.fillers.sum()) <= sm.n_fillers


@pytest.mark.parametrize(
    "rows, n_pe, registers, batches",
    [(4096, 64, 64, 1), (4097, 64, 64, 2), (8791, 64, 64, 3), (4096, 16, 64, 4), (1, 1, 1, 1)],
)
def test_output_batches(rows, n_pe, registers, batches):
    assert output_batches(rows, n_pe, registers) == batches
    assert output_batches(rows, n_pe, None) == 1


def test_fc_stream_is_broadcast_once_per_batch():
    spec = LayerSpec("t", "fc", 5, 9)
    x = np.array([0, 2, 0, 1, 3], np.float32)
    assert activation_stream(spec, x, 3).tolist() == [1, 3, 4, 6, 8, 9, 11, 13, 14]


def test_conv_stream_repeats_each_position_patch_per_batch():
    spec = LayerSpec(
        "c", "conv", 4, 6, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=2, input_hw=(5, 4)
    )
    rng = np.random.default_rng(1)
    x = (rng.random((4, 5, 4)) < 0.5).astype(np.float32)
    width = 2 * 18  # groups · cols
    expected = []
    oh, ow = spec.output_hw
    for oy in range(oh):  # explicit im2col, position by position
        for ox in range(ow):
            patch = []
            for g in range(2):
                for ci in range(2):
                    for ky in range(3):
                        for kx in range(3):
                            y, xx = oy * 2 - 1 + ky, ox * 2 - 1 + kx
                            if 0 <= y < 5 and 0 <= xx < 4 and x[g * 2 + ci, y, xx]:
                                patch.append(g * 18 + ci * 9 + ky * 3 + kx)
            expected += [t + b * width for b in range(3) for t in patch]
    assert activation_stream(spec, x, 3).tolist() == expected


def _layer(rows, cols, density, n_pe, seed=0):
    rng = np.random.default_rng(seed)
    codes = (rng.random((rows, cols)) < density).astype(np.uint16)
    spec = LayerSpec("t", "fc", cols, rows)
    return PrunedLayer(spec, encode_sparse(codes, n_pe, 4), 4, 4), rng


def test_batched_layer_events_and_storage():
    arch = load_accelerator("eie").replace(n_pe=4, activation_registers_per_pe=8)
    layer, rng = _layer(100, 30, 0.3, 4)  # 25 rows per PE -> 4 batches of at most 8
    x = (rng.random(30) < 0.5).astype(np.float32) * 2
    k = int(np.count_nonzero(x))
    result = simulate_layer(layer, x, arch)
    assert result.events["pointer_read"] == 4 * k * 4
    assert result.events["lnzd_op"] == 4 * scanned_activations(layer.spec)
    assert result.counts.entries - result.counts.fillers == pytest.approx(
        sum(
            np.count_nonzero(decode_sparse(layer.sparse)[:, j]) for j in np.flatnonzero(x)
        )  # every non-zero weight of a broadcast column is walked once, in its own batch
    )
    entries = sum(b.entries_per_pe for b in band_matrices(layer.sparse, 8))
    assert result.weight_bytes == sum(weight_storage_bytes(entries, layer.spec, arch, 8))
    assert weight_storage_bytes(entries, layer.spec, arch, 8)[1] == 4 * (4 * 30 + 1) * 2
    # registers enough for every row: one batch, the same work as any larger register file,
    # which only costs more per access (its address decode) and in flip-flops (clock, leakage)
    wide = simulate_layer(layer, x, arch.replace(activation_registers_per_pe=25))
    wider = simulate_layer(layer, x, arch.replace(activation_registers_per_pe=1000))
    assert wide.total_cycles == wider.total_cycles and wide.counts == wider.counts
    for action in ("pointer_read", "sparse_sram_read", "mac", "register_access", "fifo_access"):
        assert wide.events[action] == wider.events[action], action
    assert wider.energy_j > wide.energy_j
    assert wide.events["pointer_read"] == k * 4
    # the batched run walks the same weights but broadcasts four times
    assert result.total_cycles >= wide.total_cycles - arch.pipeline_latency_cycles


def test_batched_cycle_model_timing_is_the_concatenated_passes():
    """With a barrier-free FIFO the passes follow each other; the no-stall bound of the whole
    stream equals the kernel's result with an unbounded FIFO."""
    layer, rng = _layer(40, 12, 0.4, 2, seed=4)
    work = layer_work(layer.sparse, layer.spec, 8, 64, 5)  # 20 rows per PE -> 4 batches
    x = (rng.random(12) < 0.7).astype(np.float32)
    stream = activation_stream(layer.spec, x, 4)
    timing = cycle_timing(work, stream, len(stream) + 1, 0)
    free_at = np.zeros(2, np.int64)
    for i, item in enumerate(stream):
        for p in range(2):
            free_at[p] = max(free_at[p], i + 1) + max(1, int(work.entries[item, p]))
    assert timing.total_cycles == free_at.max()


def test_analytical_follows_the_batched_cycle_model():
    from workloads import get_network

    arch = load_accelerator("edge-16")  # fc6: 4096 rows / 16 PEs = 256 rows -> 4 batches
    spec = next(layer for layer in get_network("alexnet-caffe").layers if layer.name == "fc7")
    layer = pruned_layer(spec, 0.09, n_pe=16, seed=0)
    rng = np.random.default_rng(0)
    x = (rng.random(spec.matrix_shape[1]) < 0.35).astype(np.float32)
    cycle = simulate_layer(layer, x, arch)
    analytical = analytical_layer(
        spec, layer.sparse.n_nonzeros / spec.weights, np.count_nonzero(x) / x.size, 4, 4, arch
    )
    assert abs(analytical.total_cycles / cycle.total_cycles - 1) < 0.05
    assert abs(analytical.energy_j / cycle.energy_j - 1) < 0.05
    assert analytical.events["pointer_read"] == pytest.approx(cycle.events["pointer_read"], 0.01)
    assert abs(analytical.weight_bytes / cycle.weight_bytes - 1) < 0.01


def test_layer_work_is_computed_once_per_stored_matrix_and_arguments():
    """Every frame simulated on a stored layer shares its work arrays (they depend on the
    matrix, the registers and the word width, never on a frame); read-only, equal to a fresh
    computation, and recomputed for other arguments."""
    from compression.sparse_format import encode_sparse
    from simulator.lowering import _layer_work, layer_work
    from workloads.layer_spec import LayerSpec

    rng = np.random.default_rng(3)
    spec = LayerSpec("fc", "fc", 24, 40)
    codes = ((rng.random((40, 24)) < 0.3) * rng.integers(1, 16, (40, 24))).astype(np.uint16)
    sparse = encode_sparse(codes, 4, 4)
    first = layer_work(sparse, spec, 8, 64, 2)
    assert layer_work(sparse, spec, 8, 64, 2) is first
    fresh = _layer_work(sparse, spec, 8, 64, 2)
    for name in ("entries", "fillers", "words"):
        np.testing.assert_array_equal(getattr(first, name), getattr(fresh, name))
        assert not getattr(first, name).flags.writeable
    assert layer_work(sparse, spec, 8, 64, 3) is not first
    assert layer_work(sparse, spec, 12, 64, 2) is not first
    assert layer_work(encode_sparse(codes, 4, 4), spec, 8, 64, 2) is not first  # another matrix
