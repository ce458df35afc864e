"""simulator.pruned_layer: the row form of a pruning (`pruned_rows`) stores exactly the layer
the dense mask (`pruned_codes`) does, for any N, ties, zeros and densities; the directly drawn
uniform pattern (`uniform_pattern_rows`) keeps exactly the pruning's count, agrees with a
plain-Python Floyd's algorithm and is uniform over the places."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from compression.pruning import kept_count
from compression.sparse_format import encode_sparse
from simulator.pruned_layer import (
    _pattern_columns,
    pruned_codes,
    pruned_layer,
    pruned_rows,
    uniform_pattern_rows,
)
from workloads.layer_spec import LayerSpec


@settings(max_examples=80, deadline=None)
@given(
    rows=st.integers(1, 20),
    cols=st.integers(1, 12),
    density=st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 1)),
    kind=st.sampled_from(["normal", "ties", "zeros"]),
    n_pe=st.integers(1, 5),
    index_bits=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_row_form_stores_the_layer_the_mask_does(rows, cols, density, kind, n_pe, index_bits, seed):
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((rows, cols)).astype(np.float32)
    if kind == "ties":
        weights = np.round(weights * 2) / 2
    elif kind == "zeros":
        weights[rng.random((rows, cols)) < 0.4] = 0
    spec = LayerSpec("fc", "fc", cols, rows)
    codes = pruned_codes(spec, density, weights=weights)
    form = pruned_rows(spec, density, weights=weights)
    keeps_a_zero = bool(((codes == 1) & (weights == 0)).any())
    assert (form is None) == keeps_a_zero  # the row form refuses exactly these
    want = encode_sparse(codes, n_pe, index_bits)
    got = pruned_layer(spec, density, n_pe=n_pe, index_bits=index_bits, weights=weights).sparse
    for name in ("entry_code", "entry_gap", "col_ptr"):
        assert np.array_equal(getattr(got, name), getattr(want, name))
    if form is not None:
        again = pruned_layer(spec, density, n_pe=n_pe, index_bits=index_bits, rows=form).sparse
        assert np.array_equal(again.entry_code, want.entry_code)


def _floyd_reference(counts, cols, uniforms):
    """Floyd's algorithm row by row, in plain Python (the twin of `_pattern_columns`)."""
    columns, used = [], 0
    for c in counts:
        chosen = set()
        for i in range(cols - c, cols):
            j = min(int(uniforms[used] * (i + 1)), i)
            used += 1
            chosen.add(i if j in chosen else j)
        columns.extend(sorted(chosen))
    return columns


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 12),
    cols=st.integers(1, 40),
    data=st.data(),
)
def test_pattern_columns_agree_with_plain_floyd(rows, cols, data):
    counts = np.array(data.draw(st.lists(st.integers(0, cols), min_size=rows, max_size=rows)))
    uniforms = np.array(
        data.draw(
            st.lists(
                st.floats(0, 1, exclude_max=True),
                min_size=int(counts.sum()),
                max_size=int(counts.sum()),
            )
        ),
        dtype=np.float64,
    )
    column = np.empty(int(counts.sum()), np.int32)
    _pattern_columns(counts.astype(np.int64), cols, uniforms, column)
    assert column.tolist() == _floyd_reference(counts.tolist(), cols, uniforms.tolist())


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 30),
    cols=st.integers(1, 30),
    density=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)),
    n_pe=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_uniform_pattern_keeps_the_pruning_count_in_row_form(rows, cols, density, n_pe, seed):
    spec = LayerSpec("fc", "fc", cols, rows)
    row_end, column, code = uniform_pattern_rows(spec, density, seed=seed)
    keep = kept_count(rows * cols, density)
    assert row_end.shape == (rows,) and int(row_end[-1]) == keep == column.shape[0]
    assert not row_end.flags.writeable and not column.flags.writeable
    assert np.all(code == 1) and code.shape == (keep,)
    mask = np.zeros((rows, cols), np.uint16)
    starts = np.concatenate(([0], row_end[:-1]))
    for r in range(rows):
        cols_r = column[starts[r] : row_end[r]]
        assert np.all(np.diff(cols_r) > 0) and np.all((0 <= cols_r) & (cols_r < cols))
        mask[r, cols_r] = 1
    # the same layer as the dense mask of those places, for any N
    got = pruned_layer(spec, density, n_pe=n_pe, rows=(row_end, column, code)).sparse
    want = encode_sparse(mask, n_pe, 4)
    for name in ("entry_code", "entry_gap", "col_ptr"):
        assert np.array_equal(getattr(got, name), getattr(want, name))
    again = uniform_pattern_rows(spec, density, seed=seed)
    assert np.array_equal(again[0], row_end) and np.array_equal(again[1], column)


def test_uniform_pattern_is_uniform_over_places():
    """Every place of a 4×6 matrix is kept with probability k/n = 7/24 (2,000 seeds: the
    count of each place is within 4.5 standard deviations), and every k-subset is as likely
    as pruning i.i.d. weights makes it: the per-row count follows the hypergeometric law."""
    spec = LayerSpec("fc", "fc", 6, 4)
    trials, keep, n = 2000, 7, 24
    hits = np.zeros((4, 6))
    row0 = np.zeros(7)
    for seed in range(trials):
        row_end, column, _ = uniform_pattern_rows(spec, keep / n, seed=seed)
        rows = np.repeat(np.arange(4), np.diff(np.concatenate(([0], row_end))))
        hits[rows, column] += 1
        row0[int(row_end[0])] += 1
    p = keep / n
    sigma = np.sqrt(trials * p * (1 - p))
    assert np.all(np.abs(hits - trials * p) < 4.5 * sigma)
    from math import comb

    expected = np.array([comb(6, c) * comb(18, keep - c) / comb(24, keep) for c in range(7)])
    assert np.all(np.abs(row0 - trials * expected) < 4.5 * np.sqrt(trials * expected) + 1)
