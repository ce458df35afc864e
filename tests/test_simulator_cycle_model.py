"""Cycle model: Numba kernel vs a cycle-by-cycle plain-Python reference, and invariants."""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from compression.sparse_format import encode_sparse
from simulator.cycle_model import broadcast_schedule, cycle_timing
from simulator.lowering import LayerWork, activation_stream, layer_work
from workloads.layer_spec import LayerSpec


def reference_schedule(costs: np.ndarray, stream: list[int], fifo_depth: int):
    """Literal cycle stepping of DESIGN §4 as documented in simulator.cycle_model.

    Returns (drain_cycle, stall_cycles).
    """
    n_pe = costs.shape[1]
    fifos = [deque() for _ in range(n_pe)]
    remaining = [0] * n_pe  # cycles left on the head item (0 = idle)
    next_item, stalls, t = 0, 0, 0
    while True:
        if next_item == len(stream) and all(not f for f in fifos):
            return t, stalls
        for p in range(n_pe):  # PE phase
            if remaining[p] == 0 and fifos[p]:
                remaining[p] = int(costs[fifos[p][0], p])
            if remaining[p] > 0:
                remaining[p] -= 1
                if remaining[p] == 0:
                    fifos[p].popleft()
        if next_item < len(stream):  # broadcast phase
            if all(len(f) < fifo_depth for f in fifos):
                for f in fifos:
                    f.append(stream[next_item])
                next_item += 1
            else:
                stalls += 1
        t += 1


@settings(max_examples=150, deadline=None)
@given(
    n_pe=st.integers(1, 6),
    n_types=st.integers(1, 6),
    depth=st.integers(1, 5),
    data=st.data(),
)
def test_kernel_matches_reference(n_pe, n_types, depth, data):
    costs = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(1, 7), min_size=n_pe, max_size=n_pe),
                min_size=n_types,
                max_size=n_types,
            )
        ),
        dtype=np.int32,
    )
    stream = data.draw(st.lists(st.integers(0, n_types - 1), max_size=25))
    free_at = np.zeros(n_pe, np.int64)
    drain, last_push = broadcast_schedule(costs, np.array(stream, np.int32), depth, free_at)
    ref_drain, ref_stalls = reference_schedule(costs, stream, depth)
    assert drain == ref_drain
    if stream:
        assert last_push - (len(stream) - 1) == ref_stalls


def _work(costs: np.ndarray) -> LayerWork:
    entries = costs.astype(np.int32)
    zeros = np.zeros_like(entries)
    return LayerWork(entries, zeros, zeros, costs.shape[1])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 30),
    n_pe=st.integers(1, 8),
    density=st.floats(0.0, 1.0),
    act=st.floats(0.0, 1.0),
    seed=st.integers(0, 99),
)
def test_invariants_on_encoded_layers(rows, cols, n_pe, density, act, seed):
    rng = np.random.default_rng(seed)
    codes = (rng.random((rows, cols)) < density).astype(np.uint16)
    spec = LayerSpec("t", "fc", cols, rows)
    sm = encode_sparse(codes, n_pe, 2)
    work = layer_work(sm, spec, 4, 64)
    assert int(work.entries.sum()) == sm.n_entries
    assert int(work.fillers.sum()) == sm.n_fillers
    x = (rng.random(cols) < act).astype(np.float32)
    stream = activation_stream(spec, x)
    timing = cycle_timing(work, stream, 3, 4)
    assert timing.total_cycles >= timing.ideal_cycles
    # FIFO deeper than the stream: no stalls, equals the no-stall (unbounded FIFO) bound
    unbounded = cycle_timing(work, stream, max(1, len(stream)), 4)
    free_at = np.zeros(n_pe, np.int64)
    for k, item in enumerate(stream):  # no-stall bound: push k at cycle k
        for p in range(n_pe):
            free_at[p] = max(free_at[p], k + 1) + max(1, int(work.entries[item, p]))
    bound = (free_at.max() if len(stream) else 0) + 4
    assert unbounded.total_cycles == bound
    assert unbounded.stall_cycles == 0
    assert timing.total_cycles >= unbounded.total_cycles


def test_all_zero_activations_cost_only_pipeline_latency():
    costs = np.array([[3, 1], [2, 5]], np.int32)
    timing = cycle_timing(_work(costs), np.zeros(0, np.int32), 8, 4)
    assert timing.total_cycles == 4 and timing.ideal_cycles == 0


def test_more_pes_never_cost_more_ideal_cycles():
    rng = np.random.default_rng(1)
    codes = (rng.random((256, 64)) < 0.1).astype(np.uint16)
    spec = LayerSpec("t", "fc", 64, 256)
    stream = np.arange(64, dtype=np.int32)
    ideal = []
    for n_pe in (1, 2, 4, 8, 16, 32, 64):
        work = layer_work(encode_sparse(codes, n_pe, 4), spec, 8, 64)
        ideal.append(cycle_timing(work, stream, 8, 4).ideal_cycles)
    assert all(b <= a for a, b in zip(ideal, ideal[1:]))


def test_conv_stream_matches_explicit_im2col():
    spec = LayerSpec(
        "c", "conv", 4, 6, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=2, input_hw=(7, 5)
    )
    rng = np.random.default_rng(0)
    x = (rng.random((4, 7, 5)) < 0.5).astype(np.float32)
    stream = activation_stream(spec, x)
    expected = []
    oh, ow = spec.output_hw
    for oy in range(oh):
        for ox in range(ow):
            for g in range(2):
                for ci in range(2):
                    for ky in range(3):
                        for kx in range(3):
                            y, xx = oy * 2 - 1 + ky, ox * 2 - 1 + kx
                            if 0 <= y < 7 and 0 <= xx < 5 and x[g * 2 + ci, y, xx]:
                                expected.append(g * 18 + ci * 9 + ky * 3 + kx)
    assert stream.tolist() == expected


def test_grouped_work_splits_columns_by_row_group():
    spec = LayerSpec("c", "conv", 4, 6, kernel=(1, 1), groups=2, input_hw=(2, 2))
    rng = np.random.default_rng(3)
    codes = (rng.random((6, 2)) < 0.6).astype(np.uint16)
    sm = encode_sparse(codes, 4, 4)
    work = layer_work(sm, spec, 8, 64)
    for g in range(2):
        for c in range(2):
            for p in range(4):
                rows = [r for r in range(g * 3, g * 3 + 3) if r % 4 == p]
                assert work.entries[g * 2 + c, p] == sum(int(codes[r, c] != 0) for r in rows)
