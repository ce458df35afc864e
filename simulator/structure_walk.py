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


@numba.njit(cache=True, inline="always")
def _open_batch(p, b, prev, prev_batch, cursor, next_offset):
    """PE p's next entry is in batch b: the slice of the batch it leaves ends at its cursor,
    and it goes on from b's next free offset, with no row of b seen yet."""
    if prev_batch[p] >= 0:
        next_offset[prev_batch[p], p] = cursor[p]
    prev[p] = -1
    prev_batch[p] = b
    cursor[p] = next_offset[b, p]


@numba.njit(cache=True)
def _batch_totals(col_ptr, rows_of, pe_of, batch_of, inner_of, n_pe, batches, index_bits):
    """Entries (fillers included) per (batch, PE) over all columns, for the start of each
    batch's slice in a PE's storage (`_batch_offsets`); all zero with one batch, whose slice
    starts at 0 (no walk then)."""
    totals = np.zeros((batches, n_pe), np.int64)
    if batches == 1:
        return totals
    prev = np.empty(n_pe, np.int64)
    prev_batch = np.empty(n_pe, np.int64)
    for j in range(col_ptr.shape[0] - 1):
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
            totals[b, p] += 1 + ((inner - prev[p] - 1) >> index_bits)
            prev[p] = inner
    return totals


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
    totals = _batch_totals(col_ptr, rows_of, pe_of, batch_of, inner_of, n_pe, batches, index_bits)
    prev = np.empty(n_pe, np.int64)
    prev_batch = np.empty(n_pe, np.int64)
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
                    words[current[p], p] = _words_of_run(
                        first[p], cursor[p], entry_bits, word_bits, -1
                    )
                    current[p] = -1
                _open_batch(p, b, prev, prev_batch, cursor, next_offset)
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
                        words[current[p], p] = _words_of_run(
                            first[p], cursor[p], entry_bits, word_bits, -1
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
                words[current[p], p] = _words_of_run(first[p], cursor[p], entry_bits, word_bits, -1)
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


@numba.njit(cache=True, inline="always")
def _add_run_words(words_count, t, first, end, weight, widths):
    """words_count[t, q] += weight × the words of the entries [first, end) at each entry width
    entry_bits_options[q], with widths = (entry_bits_options, word_bits, word_shift)
    (`_words_of_run`)."""
    entry_bits_options, word_bits, word_shift = widths
    for q in range(entry_bits_options.shape[0]):
        words_count[t, q] += weight * _words_of_run(
            first, end, entry_bits_options[q], word_bits, word_shift
        )


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
    frequency,
):
    """What `layer_statistics` needs of `work_from_structure`'s arrays, reduced on the fly
    (no [types, N] arrays): per segment s = batch·groups + group, with f_j the integer
    broadcast counts of the columns (`frequency`, int64, F = Σ_j f_j) and e = entries,
    c = max(1, e) of (s, column j, PE p):
    hist[s, p, c] = Σ_j f_j [c(s,j,p) = c] / F; max_cost[s] = Σ_j f_j max_p c / F;
    e_mean[s, p] = Σ_j f_j e / F; e_sq[s, p] = Σ_j f_j e² / F; fillers[s] and words[s] =
    Σ_j f_j Σ_p of each / F; the entries each PE stores; and the non-zeros of each segment.
    The same walk as `work_from_structure` (the tests check both).

    The sums are kept in int64 (exact) and divided by F once at the end, so a column costs
    only its non-zeros and the (segment, PE) pairs they touch: a PE the column gives no entry
    has c = 1 and adds nothing else, and its count is F minus the columns that gave it c >= 2.
    c never exceeds R (an entry, real or filler, takes one of a batch's R register positions),
    which sizes hist without a first pass; that pass (`_batch_totals`) runs only with several
    batches, for the offsets of their slices in a PE's storage. With one group (every fc
    layer) a non-zero and the fillers before it fall in one segment, its batch, so they are
    counted at once and a (segment, PE) pair opens only where the PE's batch changes: the same
    sums, 20 % faster on alexnet-caffe."""
    cols = col_ptr.shape[0] - 1
    span = 1 << index_bits
    n_seg = batches * groups
    pe_of, batch_of, inner_of, group_of = _row_places(n_rows, n_pe, registers, groups)
    prev = np.empty(n_pe, np.int64)
    prev_batch = np.empty(n_pe, np.int64)
    totals = _batch_totals(col_ptr, rows_of, pe_of, batch_of, inner_of, n_pe, batches, index_bits)
    next_offset = _batch_offsets(totals)
    total_frequency = 0
    for j in range(cols):
        total_frequency += frequency[j]
    hist_count = np.zeros((n_seg, n_pe, registers + 1), np.int64)  # c >= 2 only
    max_extra = np.zeros(n_seg, np.int64)  # Σ_j f_j (max_p c - 1)
    e_sum = np.zeros((n_seg, n_pe), np.int64)
    e_sq_sum = np.zeros((n_seg, n_pe), np.int64)
    fillers_count = np.zeros(n_seg, np.int64)
    n_opt = entry_bits_options.shape[0]
    word_shift = -1
    if word_bits & (word_bits - 1) == 0:
        word_shift = 0
        while (1 << word_shift) < word_bits:
            word_shift += 1
    words_count = np.zeros((n_seg, n_opt), np.int64)
    widths = (entry_bits_options, word_bits, word_shift)
    nonzeros = np.zeros(n_seg, np.int64)
    ent = np.zeros((n_seg, n_pe), np.int64)
    fil = np.zeros((n_seg, n_pe), np.int64)
    touched = np.empty(n_seg * n_pe, np.int64)  # (segment, PE) pairs of this column
    column_max = np.ones(n_seg, np.int64)
    cursor = np.empty(n_pe, np.int64)
    current = np.empty(n_pe, np.int64)  # open segment of the PE in this column, -1 none
    first = np.empty(n_pe, np.int64)
    pes = np.empty(n_pe, np.int64)  # the PEs this column gives entries, in order
    for p in range(n_pe):
        prev[p] = -1
        prev_batch[p] = -1
        current[p] = -1
    for j in range(cols):
        f_j = frequency[j]
        n_touched = 0
        n_pes = 0
        if groups == 1:  # a column's run of a PE in one batch is one segment: counted at once
            for k in range(col_ptr[j], col_ptr[j + 1]):
                row = rows_of[k]
                p = pe_of[row]
                b = batch_of[row]
                inner = inner_of[row]
                if prev_batch[p] != b:  # the PE's first entry of this column or batch
                    if prev_batch[p] < 0:
                        pes[n_pes] = p
                        n_pes += 1
                    else:
                        _add_run_words(words_count, current[p], first[p], cursor[p], f_j, widths)
                    _open_batch(p, b, prev, prev_batch, cursor, next_offset)
                    current[p] = b
                    first[p] = cursor[p]
                    touched[n_touched] = b * n_pe + p
                    n_touched += 1
                n_fill = (inner - prev[p] - 1) >> index_bits
                ent[b, p] += n_fill + 1
                fil[b, p] += n_fill
                nonzeros[b] += 1
                cursor[p] += n_fill + 1
                prev[p] = inner
        else:
            for k in range(col_ptr[j], col_ptr[j + 1]):
                row = rows_of[k]
                p = pe_of[row]
                b = batch_of[row]
                inner = inner_of[row]
                if prev_batch[p] != b:
                    if prev_batch[p] < 0:
                        pes[n_pes] = p
                        n_pes += 1
                    if current[p] >= 0:
                        _add_run_words(words_count, current[p], first[p], cursor[p], f_j, widths)
                        current[p] = -1
                    _open_batch(p, b, prev, prev_batch, cursor, next_offset)
                gap = inner - prev[p] - 1
                n_fill = gap >> index_bits
                for f in range(n_fill + 1):
                    if f < n_fill:  # a filler: the group of its own register position
                        g = group_of[(b * registers + prev[p] + span * (f + 1)) * n_pe + p]
                    else:
                        g = group_of[row]
                    t = b * groups + g
                    if t != current[p]:
                        if current[p] >= 0:
                            _add_run_words(
                                words_count, current[p], first[p], cursor[p], f_j, widths
                            )
                        current[p] = t
                        first[p] = cursor[p]
                    if ent[t, p] == 0:
                        touched[n_touched] = t * n_pe + p
                        n_touched += 1
                    ent[t, p] += 1
                    if f < n_fill:
                        fil[t, p] += 1
                    else:
                        nonzeros[t] += 1
                    cursor[p] += 1
                prev[p] = inner
        for i in range(n_pes):
            p = pes[i]
            if current[p] >= 0:
                _add_run_words(words_count, current[p], first[p], cursor[p], f_j, widths)
            next_offset[prev_batch[p], p] = cursor[p]
            prev[p] = -1
            prev_batch[p] = -1
            current[p] = -1
        for i in range(n_touched):
            t = touched[i] // n_pe
            p = touched[i] - t * n_pe
            e = ent[t, p]
            if e > 1:
                hist_count[t, p, e] += f_j
                if e > column_max[t]:
                    column_max[t] = e
            e_sum[t, p] += f_j * e
            e_sq_sum[t, p] += f_j * e * e
            fillers_count[t] += f_j * fil[t, p]
            ent[t, p] = 0
            fil[t, p] = 0
        for i in range(n_touched):
            t = touched[i] // n_pe
            if column_max[t] > 1:
                max_extra[t] += f_j * (column_max[t] - 1)
                column_max[t] = 1
    scale = np.float64(total_frequency)
    hist = np.zeros((n_seg, n_pe, registers + 1))
    max_cost = np.empty(n_seg)
    e_mean = np.empty((n_seg, n_pe))
    e_sq = np.empty((n_seg, n_pe))
    fillers_sum = np.empty(n_seg)
    words_sum = np.empty((n_seg, n_opt))
    for t in range(n_seg):
        max_cost[t] = (total_frequency + max_extra[t]) / scale
        fillers_sum[t] = fillers_count[t] / scale
        for q in range(n_opt):
            words_sum[t, q] = words_count[t, q] / scale
        for p in range(n_pe):
            ones = total_frequency
            for c in range(2, registers + 1):
                if hist_count[t, p, c] != 0:
                    ones -= hist_count[t, p, c]
                    hist[t, p, c] = hist_count[t, p, c] / scale
            hist[t, p, 1] = ones / scale
            e_mean[t, p] = e_sum[t, p] / scale
            e_sq[t, p] = e_sq_sum[t, p] / scale
    # the last batch's slice ends where a PE's storage ends: its entries, all batches
    stored = np.empty(n_pe, np.int64)
    for p in range(n_pe):
        stored[p] = next_offset[batches - 1, p]
    return hist, max_cost, e_mean, e_sq, fillers_sum, words_sum, stored, nonzeros
