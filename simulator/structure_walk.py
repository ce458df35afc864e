"""Walks over a matrix's non-zero structure: the O(nnz) kernels behind the layer statistics.

Part of `simulator` (DESIGN §8), under `simulator.layer_statistics`. `nonzero_structure` reads
the non-zeros of an encoded matrix once (column pointers and row indices, whatever the PE
count it was encoded for); `work_from_structure` replays the sparse format's interleaving for
N PEs and R destination registers from it — the exact per-(item type, PE) entries, fillers and
SRAM words of `simulator.lowering.layer_work`, without re-encoding (the tests check they agree
exactly) — and `segment_reductions` is the same walk reduced on the fly to what the statistics
need (cost histograms, moments, words for several entry widths), with no [types, N] arrays.
Numba kernels, free of Python objects.
"""

from __future__ import annotations

import weakref

import numba
import numpy as np

_STRUCTURE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@numba.njit(cache=True)
def _global_nonzeros(col_ptr, entry_gap, entry_code, n_pe, cols):
    """(col_ptr [cols + 1], rows [nnz]) of the stored non-zeros of an encoded matrix, rows
    ascending in each column. One PE's rows are ascending in each of its columns, so with one
    PE a counting sort by column is all; with several, the non-zeros are first laid out row
    by row (a counting sort by row), then read in row order into their columns (no
    comparison sort)."""
    counts = np.zeros(cols + 1, np.int64)
    n_rows = 0
    for p in range(n_pe):
        for j in range(cols):
            local = -1
            for k in range(col_ptr[p, j], col_ptr[p, j + 1]):
                local += np.int64(entry_gap[k]) + 1
                if entry_code[k] != 0:
                    counts[j + 1] += 1
                    if p + local * n_pe >= n_rows:
                        n_rows = p + local * n_pe + 1
    for j in range(cols):
        counts[j + 1] += counts[j]
    nnz = counts[cols]
    rows = np.empty(nnz, np.int64)
    fill = np.empty(cols, np.int64)
    for j in range(cols):
        fill[j] = counts[j]
    if n_pe == 1:
        for j in range(cols):
            local = -1
            for k in range(col_ptr[0, j], col_ptr[0, j + 1]):
                local += np.int64(entry_gap[k]) + 1
                if entry_code[k] != 0:
                    rows[fill[j]] = local
                    fill[j] += 1
        return counts, rows
    row_ptr = np.zeros(n_rows + 1, np.int64)  # row_ptr[r + 1]: non-zeros of row r, then offsets
    for p in range(n_pe):
        for j in range(cols):
            local = -1
            for k in range(col_ptr[p, j], col_ptr[p, j + 1]):
                local += np.int64(entry_gap[k]) + 1
                if entry_code[k] != 0:
                    row_ptr[p + local * n_pe + 1] += 1
    for r in range(n_rows):
        row_ptr[r + 1] += row_ptr[r]
    column_of = np.empty(nnz, np.int64)  # the non-zeros' columns, row by row
    for p in range(n_pe):
        for j in range(cols):
            local = -1
            for k in range(col_ptr[p, j], col_ptr[p, j + 1]):
                local += np.int64(entry_gap[k]) + 1
                if entry_code[k] != 0:
                    row = p + local * n_pe
                    column_of[row_ptr[row]] = j
                    row_ptr[row] += 1  # ends as the start of row + 1
    start = 0
    for r in range(n_rows):
        for t in range(start, row_ptr[r]):
            j = column_of[t]
            rows[fill[j]] = r
            fill[j] += 1
        start = row_ptr[r]
    return counts, rows


def nonzero_structure(sparse) -> tuple[np.ndarray, np.ndarray]:
    """(col_ptr int64 [cols + 1], rows int64 [nnz]): the non-zeros of a `SparseMatrix`
    column by column, rows ascending — independent of the PE count it was encoded for.
    O(nnz); cached per matrix object."""
    cached = _STRUCTURE.get(sparse)
    if cached is not None:
        return cached
    structure = _global_nonzeros(
        np.ascontiguousarray(sparse.col_ptr, dtype=np.int64),
        np.ascontiguousarray(sparse.entry_gap, dtype=np.uint16),
        np.ascontiguousarray(sparse.entry_code, dtype=np.uint16),
        int(sparse.n_pe),
        int(sparse.cols),
    )
    _STRUCTURE[sparse] = structure
    return structure


def structure_from_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`nonzero_structure` of a dense code (or mask) matrix."""
    cols_of, rows_of = np.nonzero(np.asarray(codes).T)
    col_ptr = np.zeros(codes.shape[1] + 1, np.int64)
    np.cumsum(np.bincount(cols_of, minlength=codes.shape[1]), out=col_ptr[1:])
    return col_ptr, np.ascontiguousarray(rows_of, dtype=np.int64)


@numba.njit(cache=True)
def _row_places(n_rows, n_pe, registers, groups):
    """Where every row lives, so that the walks need no divisions: its PE, output batch, local
    index inside the batch and group (int64 [n_rows] each)."""
    rows_per_group = n_rows // groups
    pe_of = np.empty(n_rows, np.int64)
    batch_of = np.empty(n_rows, np.int64)
    inner_of = np.empty(n_rows, np.int64)
    group_of = np.empty(n_rows, np.int64)
    for row in range(n_rows):
        local = row // n_pe
        pe_of[row] = row - local * n_pe
        batch_of[row] = local // registers
        inner_of[row] = local - batch_of[row] * registers
        g = row // rows_per_group
        group_of[row] = g if g < groups else groups - 1
    return pe_of, batch_of, inner_of, group_of


@numba.njit(cache=True)
def _batch_offsets(totals):
    """First storage offset of each (batch, PE) slice: a PE stores its batches one after the
    other (`totals`: entries per (batch, PE))."""
    batches, n_pe = totals.shape
    offsets = np.zeros((batches, n_pe), np.int64)
    for p in range(n_pe):
        running = 0
        for b in range(batches):
            offsets[b, p] = running
            running += totals[b, p]
    return offsets


# --------------------------------------------------------------------------- work arrays
@numba.njit(cache=True)
def work_from_structure(
    col_ptr, rows_of, n_rows, n_pe, registers, batches, groups, index_bits, entry_bits, word_bits
):
    """entries, fillers, words int32 [batches·groups·cols, n_pe]: identical to
    `simulator.lowering.layer_work` of the matrix encoded for n_pe PEs (see its docstring),
    computed from the non-zero structure in O(nnz + types·n_pe)."""
    cols = col_ptr.shape[0] - 1
    span = 1 << index_bits
    n_types = batches * groups * cols
    entries = np.zeros((n_types, n_pe), np.int32)
    fillers = np.zeros((n_types, n_pe), np.int32)
    words = np.zeros((n_types, n_pe), np.int32)
    pe_of, batch_of, inner_of, group_of = _row_places(n_rows, n_pe, registers, groups)
    # pass 1: entries per (batch, PE), for the start of each batch's slice in a PE's storage
    totals = np.zeros((batches, n_pe), np.int64)
    prev = np.empty(n_pe, np.int64)
    prev_batch = np.empty(n_pe, np.int64)
    for j in range(cols):
        for p in range(n_pe):
            prev[p] = -1
            prev_batch[p] = -1
        for k in range(col_ptr[j], col_ptr[j + 1]):
            row = rows_of[k]
            p = pe_of[row]
            b = batch_of[row]
            inner = inner_of[row]
            if prev_batch[p] != b:
                prev[p] = -1
                prev_batch[p] = b
            gap = inner - prev[p] - 1
            totals[b, p] += 1 + (gap >> index_bits)
            prev[p] = inner
    # next free offset of each (batch, PE) slice: batches are stored one after the other
    next_offset = _batch_offsets(totals)
    # pass 2: walk the stored entries (fillers included) in order, per PE
    cursor = np.empty(n_pe, np.int64)
    current = np.empty(n_pe, np.int64)  # open item type of the PE, -1 none
    first = np.empty(n_pe, np.int64)
    for j in range(cols):
        for p in range(n_pe):
            prev[p] = -1
            prev_batch[p] = -1
            current[p] = -1
        for k in range(col_ptr[j], col_ptr[j + 1]):
            row = rows_of[k]
            p = pe_of[row]
            b = batch_of[row]
            inner = inner_of[row]
            if prev_batch[p] != b:
                if current[p] >= 0:
                    t = current[p]
                    words[t, p] = (
                        (cursor[p] * entry_bits - 1) // word_bits
                        - (first[p] * entry_bits) // word_bits
                        + 1
                    )
                    current[p] = -1
                if prev_batch[p] >= 0:
                    next_offset[prev_batch[p], p] = cursor[p]
                prev[p] = -1
                prev_batch[p] = b
                cursor[p] = next_offset[b, p]
            gap = inner - prev[p] - 1
            n_fill = gap >> index_bits
            for f in range(n_fill + 1):
                if f < n_fill and groups > 1:
                    position = prev[p] + span * (f + 1)
                    g = group_of[(b * registers + position) * n_pe + p]
                else:
                    g = group_of[row]
                t = (b * groups + g) * cols + j
                if t != current[p]:
                    if current[p] >= 0:
                        u = current[p]
                        words[u, p] = (
                            (cursor[p] * entry_bits - 1) // word_bits
                            - (first[p] * entry_bits) // word_bits
                            + 1
                        )
                    current[p] = t
                    first[p] = cursor[p]
                entries[t, p] += 1
                if f < n_fill:
                    fillers[t, p] += 1
                cursor[p] += 1
            prev[p] = inner
        for p in range(n_pe):
            if current[p] >= 0:
                t = current[p]
                words[t, p] = (
                    (cursor[p] * entry_bits - 1) // word_bits
                    - (first[p] * entry_bits) // word_bits
                    + 1
                )
            if prev_batch[p] >= 0:
                next_offset[prev_batch[p], p] = cursor[p]
    return entries, fillers, words


@numba.njit(cache=True, inline="always")
def _words_of_run(first, end, entry_bits, word_bits, word_shift):
    """SRAM words spanned by the entries [first, end) of `entry_bits` each in `word_bits`-bit
    words (a shift when the word width is a power of two, `word_shift` >= 0)."""
    if word_shift >= 0:
        return ((end * entry_bits - 1) >> word_shift) - ((first * entry_bits) >> word_shift) + 1
    return (end * entry_bits - 1) // word_bits - (first * entry_bits) // word_bits + 1


@numba.njit(cache=True)
def segment_reductions(
    col_ptr,
    rows_of,
    n_rows,
    n_pe,
    registers,
    batches,
    groups,
    index_bits,
    entry_bits_options,
    word_bits,
    weights,
):
    """What `layer_statistics` needs of `work_from_structure`'s arrays, reduced on the fly
    (no [types, N] arrays): per segment s = batch·groups + group, with w_j the column weights
    (summing to 1) and e = entries, c = max(1, e) of (s, column j, PE p):
    hist[s, p, c] = Σ_j w_j [c(s,j,p) = c]; max_cost[s] = Σ_j w_j max_p c; e_mean[s, p] =
    Σ_j w_j e; e_sq[s, p] = Σ_j w_j e²; fillers[s] and words[s] = Σ_j w_j Σ_p of each; and the
    entries each PE stores. The same walk as `work_from_structure` (the tests check both)."""
    cols = col_ptr.shape[0] - 1
    span = 1 << index_bits
    n_seg = batches * groups
    pe_of, batch_of, inner_of, group_of = _row_places(n_rows, n_pe, registers, groups)
    # pass 1: entries per (batch, PE) for the storage offsets, and the largest cost
    totals = np.zeros((batches, n_pe), np.int64)
    column_count = np.zeros((batches, n_pe), np.int64)
    prev = np.empty(n_pe, np.int64)
    prev_batch = np.empty(n_pe, np.int64)
    largest = 1
    for j in range(cols):
        for p in range(n_pe):
            prev[p] = -1
            prev_batch[p] = -1
        for k in range(col_ptr[j], col_ptr[j + 1]):
            row = rows_of[k]
            p = pe_of[row]
            b = batch_of[row]
            inner = inner_of[row]
            if prev_batch[p] != b:
                prev[p] = -1
                prev_batch[p] = b
            n = 1 + ((inner - prev[p] - 1) >> index_bits)
            totals[b, p] += n
            column_count[b, p] += n
            if column_count[b, p] > largest:
                largest = column_count[b, p]
            prev[p] = inner
        for k in range(col_ptr[j], col_ptr[j + 1]):
            row = rows_of[k]
            column_count[batch_of[row], pe_of[row]] = 0
    next_offset = _batch_offsets(totals)
    hist = np.zeros((n_seg, n_pe, largest + 1))
    max_cost = np.zeros(n_seg, np.float64)
    e_mean = np.zeros((n_seg, n_pe))
    e_sq = np.zeros((n_seg, n_pe))
    fillers_sum = np.zeros(n_seg, np.float64)
    n_opt = entry_bits_options.shape[0]
    word_shift = -1
    if word_bits & (word_bits - 1) == 0:
        word_shift = 0
        while (1 << word_shift) < word_bits:
            word_shift += 1
    words_sum = np.zeros((n_seg, n_opt))
    ent = np.zeros((n_seg, n_pe), np.int64)
    fil = np.zeros((n_seg, n_pe), np.int64)
    cursor = np.empty(n_pe, np.int64)
    current = np.empty(n_pe, np.int64)  # open segment of the PE in this column, -1 none
    first = np.empty(n_pe, np.int64)
    for j in range(cols):
        w = weights[j]
        for p in range(n_pe):
            prev[p] = -1
            prev_batch[p] = -1
            current[p] = -1
        for k in range(col_ptr[j], col_ptr[j + 1]):
            row = rows_of[k]
            p = pe_of[row]
            b = batch_of[row]
            inner = inner_of[row]
            if prev_batch[p] != b:
                if current[p] >= 0:
                    for q in range(n_opt):
                        eb = entry_bits_options[q]
                        words_sum[current[p], q] += w * (
                            _words_of_run(first[p], cursor[p], eb, word_bits, word_shift)
                        )
                    current[p] = -1
                if prev_batch[p] >= 0:
                    next_offset[prev_batch[p], p] = cursor[p]
                prev[p] = -1
                prev_batch[p] = b
                cursor[p] = next_offset[b, p]
            gap = inner - prev[p] - 1
            n_fill = gap >> index_bits
            for f in range(n_fill + 1):
                if f < n_fill and groups > 1:
                    g = group_of[(b * registers + prev[p] + span * (f + 1)) * n_pe + p]
                else:
                    g = group_of[row]
                t = b * groups + g
                if t != current[p]:
                    if current[p] >= 0:
                        for q in range(n_opt):
                            eb = entry_bits_options[q]
                            words_sum[current[p], q] += w * (
                                _words_of_run(first[p], cursor[p], eb, word_bits, word_shift)
                            )
                    current[p] = t
                    first[p] = cursor[p]
                ent[t, p] += 1
                if f < n_fill:
                    fil[t, p] += 1
                cursor[p] += 1
            prev[p] = inner
        for p in range(n_pe):
            if current[p] >= 0:
                for q in range(n_opt):
                    eb = entry_bits_options[q]
                    words_sum[current[p], q] += w * (
                        _words_of_run(first[p], cursor[p], eb, word_bits, word_shift)
                    )
            if prev_batch[p] >= 0:
                next_offset[prev_batch[p], p] = cursor[p]
        for t in range(n_seg):
            most = 1
            for p in range(n_pe):
                e = ent[t, p]
                c = e if e > 1 else 1
                hist[t, p, c] += w
                if c > most:
                    most = c
                e_mean[t, p] += w * e
                e_sq[t, p] += w * e * e
                fillers_sum[t] += w * fil[t, p]
                ent[t, p] = 0
                fil[t, p] = 0
            max_cost[t] += w * most
    stored = np.zeros(n_pe, np.int64)
    for p in range(n_pe):
        for b in range(batches):
            stored[p] += totals[b, p]
    return hist, max_cost, e_mean, e_sq, fillers_sum, words_sum, stored
