"""Relative-index sparse format (DESIGN §3.4): EIE's example, a plain-Python reference encoder,
round trips and filler rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compression.sparse_format import SparseMatrix, decode_sparse, encode_sparse


def reference_encode(codes: np.ndarray, n_pe: int, index_bits: int):
    """Plain-Python encoder written from the format's definition."""
    rows, cols = codes.shape
    max_gap = 2**index_bits - 1
    out_codes, out_gaps = [], []
    col_ptr = np.zeros((n_pe, cols + 1), np.int64)
    for p in range(n_pe):
        for j in range(cols):
            col_ptr[p, j] = len(out_codes)
            gap = 0
            for i in range(p, rows, n_pe):
                if codes[i, j] == 0:
                    gap += 1
                    continue
                while gap > max_gap:
                    out_codes.append(0)
                    out_gaps.append(max_gap)
                    gap -= max_gap + 1
                out_codes.append(int(codes[i, j]))
                out_gaps.append(gap)
                gap = 0
        col_ptr[p, cols] = len(out_codes)
    return np.array(out_codes, np.uint16), np.array(out_gaps, np.uint16), col_ptr


def test_eie_example_encodes_exactly_as_published():
    column = np.array([0, 0, 1, 2] + [0] * 18 + [3]).reshape(-1, 1)
    sm = encode_sparse(column, n_pe=1, index_bits=4)
    assert sm.entry_code.tolist() == [1, 2, 0, 3]
    assert sm.entry_gap.tolist() == [2, 0, 15, 2]
    assert sm.col_ptr.tolist() == [[0, 4]]
    assert sm.n_fillers == 1 and sm.n_entries == 4 and sm.n_nonzeros == 3
    assert np.array_equal(decode_sparse(sm), column)


@st.composite
def code_matrices(draw):
    rows = draw(st.integers(0, 40))
    cols = draw(st.integers(0, 6))
    weight_bits = draw(st.integers(1, 16))
    density = draw(st.sampled_from([0.0, 0.05, 0.3, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 2**weight_bits, (rows, cols)) if weight_bits > 0 else 0
    codes = np.where(rng.random((rows, cols)) < density, values, 0)
    return codes, draw(st.integers(1, 9)), draw(st.integers(1, 6))


@settings(max_examples=150, deadline=None)
@given(code_matrices())
def test_matches_reference_and_round_trips(case):
    codes, n_pe, index_bits = case
    sm = encode_sparse(codes, n_pe, index_bits)
    ref_codes, ref_gaps, ref_ptr = reference_encode(codes, n_pe, index_bits)
    assert np.array_equal(sm.entry_code, ref_codes)
    assert np.array_equal(sm.entry_gap, ref_gaps)
    assert np.array_equal(sm.col_ptr, ref_ptr)
    assert np.array_equal(decode_sparse(sm), codes)
    assert sm.n_nonzeros == np.count_nonzero(codes)
    assert int(sm.entries_per_pe.sum()) == sm.n_entries
    assert np.array_equal(sm.entries_per_pe_col.sum(axis=1), sm.entries_per_pe)
    if n_pe > 1:
        assert np.array_equal(sm.col_ptr[1:, 0], sm.col_ptr[:-1, -1])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(0, 100), st.integers(1, 4))
def test_fillers_appear_exactly_when_a_gap_overflows(index_bits, gap, n_pe):
    """One column, one PE's local rows: zeros, then a single non-zero after `gap` zeros."""
    rows = (gap + 1) * n_pe
    codes = np.zeros((rows, 1), np.int64)
    codes[gap * n_pe, 0] = 7  # PE 0, local row `gap`
    sm = encode_sparse(codes, n_pe, index_bits)
    span = 2**index_bits
    assert sm.n_fillers == gap // span
    assert sm.entry_gap[-1] == gap % span
    assert np.array_equal(decode_sparse(sm), codes)


@pytest.mark.parametrize("index_bits", [1, 2, 4])
def test_gap_of_exactly_max_and_max_plus_one(index_bits):
    max_gap = 2**index_bits - 1
    exact = np.zeros((max_gap + 1, 1), np.int64)
    exact[max_gap, 0] = 1
    over = np.zeros((max_gap + 2, 1), np.int64)
    over[max_gap + 1, 0] = 1
    sm = encode_sparse(exact, 1, index_bits)
    assert sm.entry_code.tolist() == [1] and sm.entry_gap.tolist() == [max_gap]
    sm = encode_sparse(over, 1, index_bits)
    assert sm.entry_code.tolist() == [0, 1] and sm.entry_gap.tolist() == [max_gap, 0]


def test_empty_single_and_full_matrices():
    assert encode_sparse(np.zeros((0, 0), int), 4, 4).n_entries == 0
    empty = encode_sparse(np.zeros((5, 3), int), 2, 4)
    assert empty.n_entries == 0 and empty.col_ptr.shape == (2, 4) and not empty.col_ptr.any()
    single = np.zeros((9, 4), int)
    single[8, 3] = 5
    sm = encode_sparse(single, 3, 4)
    assert sm.n_entries == 1 and np.array_equal(decode_sparse(sm), single)
    full = np.arange(1, 41).reshape(8, 5)
    sm = encode_sparse(full, 64, 1)
    assert sm.n_entries == 40 and sm.n_fillers == 0 and not sm.entry_gap.any()
    assert np.array_equal(decode_sparse(sm), full)


def test_does_not_depend_on_dtype_or_memory_order():
    rng = np.random.default_rng(1)
    codes = np.where(rng.random((30, 20)) < 0.2, rng.integers(1, 200, (30, 20)), 0)
    a = encode_sparse(codes.astype(np.int64), 4, 4)
    b = encode_sparse(np.asfortranarray(codes.astype(np.uint16)), 4, 4)
    assert np.array_equal(a.entry_code, b.entry_code)
    assert np.array_equal(a.entry_gap, b.entry_gap)
    assert np.array_equal(a.col_ptr, b.col_ptr)


@pytest.mark.parametrize(
    ("codes", "n_pe", "index_bits", "match"),
    [
        (np.zeros(4, int), 1, 4, "codes shape"),
        (np.zeros((2, 2)), 1, 4, "codes dtype"),
        (np.full((2, 2), -1), 1, 4, "codes value=-1"),
        (np.full((2, 2), 70000), 1, 4, "codes value=70000"),
        (np.zeros((2, 2), int), 0, 4, "n_pe=0"),
        (
            np.zeros((2, 2), int),
            1,
            17,
            r"index_bits=17 is invalid; allowed: an integer in \[1, 16\]",
        ),
        (np.zeros((2, 2), int), 1, 0, "index_bits=0"),
    ],
)
def test_bad_input_gets_one_line_errors(codes, n_pe, index_bits, match):
    with pytest.raises(ValueError, match=match) as info:
        encode_sparse(codes, n_pe, index_bits)
    assert "\n" not in str(info.value)


def test_decode_refuses_inconsistent_matrices():
    sm = encode_sparse(np.eye(4, dtype=int), 1, 4)
    too_far = SparseMatrix(4, 4, 1, 4, sm.entry_code, np.full(4, 15, np.uint16), sm.col_ptr)
    with pytest.raises(ValueError, match="row is invalid"):
        decode_sparse(too_far)
    bad_ptr = SparseMatrix(4, 4, 1, 4, sm.entry_code, sm.entry_gap, sm.col_ptr[:, ::-1].copy())
    with pytest.raises(ValueError, match="col_ptr"):
        decode_sparse(bad_ptr)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 9),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
)
def test_rows_encoding_reuses_its_layout_for_other_codes(rows, cols, n_pe, index_bits, seed):
    """Read-only (row_end, column) encoded again with other codes (`keep_layout`): the same
    SparseMatrix as encoding the dense matrix, gaps and column pointers shared with the first
    encoding."""
    from compression.sparse_format import sparse_from_rows

    rng = np.random.default_rng(seed)
    mask = rng.random((rows, cols)) < 0.4
    row_end = np.cumsum(mask.sum(axis=1)).astype(np.int64)
    column = np.nonzero(mask)[1].astype(np.int32)
    for array in (row_end, column):
        array.flags.writeable = False
    first = second = None
    for _ in range(2):
        codes = np.where(mask, rng.integers(1, 16, (rows, cols)), 0).astype(np.uint16)
        got = sparse_from_rows(
            (rows, cols), row_end, column, codes[mask], n_pe, index_bits, keep_layout=True
        )
        want = encode_sparse(codes, n_pe, index_bits)
        for name in ("entry_code", "entry_gap", "col_ptr"):
            assert np.array_equal(getattr(got, name), getattr(want, name))
        first, second = (got, None) if first is None else (first, got)
    assert second.entry_gap is first.entry_gap and second.col_ptr is first.col_ptr


def test_encode_sparse_hands_read_only_rows_on_like_every_other_caller(monkeypatch):
    """`sparse_from_rows`' kernels see read-only row arrays from every caller (the compressed
    layers and the drawn patterns pass theirs read-only), so Numba compiles one signature of
    each instead of two (about 0.45 s with an empty cache)."""
    from compression import sparse_format

    seen = []
    real = sparse_format.sparse_from_rows

    def spy(shape, row_end, column, code, n_pe, index_bits, keep_layout=False):
        seen.append((row_end.flags.writeable, column.flags.writeable))
        return real(shape, row_end, column, code, n_pe, index_bits, keep_layout)

    monkeypatch.setattr(sparse_format, "sparse_from_rows", spy)
    codes = np.array([[0, 1, 0], [2, 0, 3]], np.uint16)
    sparse = sparse_format.encode_sparse(codes, 2, 2)
    assert seen == [(False, False)]
    assert np.array_equal(decode_sparse(sparse), codes)
