"""Per-PE-count statistics of a layer: what the analytical model needs to know of the matrix.

Part of `simulator` (DESIGN §8), between the compressed layer and `simulator.analytical_model`.
For one PE count N and register count R (output batches, `simulator.lowering`) it reduces a
layer to the distribution of the work of one broadcast item, per output-batch / group segment:

- the exact per-(item type, PE) entries, fillers and SRAM words of `simulator.lowering.
  layer_work` — here computed in O(nnz + types·N) from the matrix's non-zero structure
  (`nonzero_structure`, built once per layer), not from an encoding for N; the tests check
  that both agree exactly;
- item-type frequencies: FC items are columns, uniformly; a conv item is a patch element,
  column c = (local channel, ky, kx), seen at every output position where the (dilated) tap
  is inside the input, so its frequency is the product of the in-bounds counts of ky and kx;
  every output batch, and every group inside a batch, receives an equal share of the items;
- per segment: the cost pmf (cost = max(1, entries)) of the PEs pooled by their row count,
  the mean and standard deviation of a cost, E[max_p cost] over the item types (exact, the
  FIFO-depth-1 rate), rows per PE and density (the keys of the κ table,
  `simulator.fifo_window`);
- per item, summed over PEs: expected entries, fillers and SRAM words (exact expectations:
  the analytical model's events), and the busy cycles per PE;
- per PE: stored entries over all batches (the on-chip footprint).

`density_statistics` gives the same statistics from densities alone, for a layer of i.i.d.
weights: the cost pmf of a column slice of n rows at density d with r-bit relative indices is
computed exactly (a dynamic programme over the rows: a non-zero after a zero run L costs
1 + floor(L / 2^r) entries, trailing zeros cost nothing).
"""

from __future__ import annotations

import functools
import hashlib
import math
import weakref
from dataclasses import dataclass, field, replace

import numba
import numpy as np

from simulator.lowering import output_batches
from workloads.layer_spec import LayerSpec


@dataclass(frozen=True, eq=False)
class SegmentStatistics:
    """One (output batch, group) segment of a layer on N PEs."""

    items_fraction: float  # share of the layer's broadcast items
    rows_per_pe: float  # mean rows per PE among the PEs holding rows of the segment
    density: float  # non-zero weights / weights of the segment
    pmfs: np.ndarray  # float64 [classes, support]: cost pmf of the PEs of each class
    counts: np.ndarray  # int64 [classes]: PEs per class
    mean_cost: float  # cycles per item, mean over PEs
    sd_cost: float  # standard deviation of one PE's cost, root-mean-square over PEs
    max_cost: float  # E over item types of max_p cost: cycles per item with a depth-1 FIFO
    lead_pes: int = 0  # PEs whose mean cost is within one standard deviation of the slowest
    lead_entries_mean: float = 0.0  # mean entries per item of those PEs (fillers included)
    lead_entries_var: float = 0.0  # variance of the entries per item of those PEs
    pe_class: np.ndarray | None = None  # int64 [N]: the class (row of pmfs) of each PE


@dataclass(frozen=True, eq=False)
class LayerStatistics:
    """A layer on N PEs with R destination registers (module docstring)."""

    n_pe: int
    batches: int
    segments: tuple[SegmentStatistics, ...]
    scanned_activations: int  # activation values scanned per inference and batch
    entries_per_item: float  # Σ_p E[entries walked by PE p] per broadcast item
    fillers_per_item: float
    words_per_item: float  # sparse-matrix SRAM words read, Σ over PEs
    busy_per_item: np.ndarray  # float64 [N]: E[entries] per item per PE
    stored_entries_per_pe: np.ndarray  # int64 [N]: entries stored, all batches
    positions: int = 1  # output positions per inference (conv), 1 otherwise
    # words_per_item of other entry widths (entry bits -> words), from the same walk: the only
    # statistic that depends on the entry width, so settings with other weight bits reuse the rest
    words_per_item_by_entry_bits: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- structure
_STRUCTURE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@numba.njit(cache=True)
def _global_nonzeros(col_ptr, entry_gap, entry_code, n_pe, cols):
    """(col_ptr [cols + 1], rows [nnz]) of the stored non-zeros of an encoded matrix, rows
    ascending in each column (a counting sort by column, then a sort inside each column)."""
    counts = np.zeros(cols + 1, np.int64)
    for p in range(n_pe):
        for j in range(cols):
            for k in range(col_ptr[p, j], col_ptr[p, j + 1]):
                if entry_code[k] != 0:
                    counts[j + 1] += 1
    for j in range(cols):
        counts[j + 1] += counts[j]
    rows = np.empty(counts[cols], np.int64)
    fill = counts[:cols].copy()
    for p in range(n_pe):
        for j in range(cols):
            local = -1
            for k in range(col_ptr[p, j], col_ptr[p, j + 1]):
                local += np.int64(entry_gap[k]) + 1
                if entry_code[k] != 0:
                    rows[fill[j]] = p + local * n_pe
                    fill[j] += 1
    if n_pe > 1:
        for j in range(cols):
            rows[counts[j] : counts[j + 1]] = np.sort(rows[counts[j] : counts[j + 1]])
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
    rows_per_group = n_rows // groups
    n_types = batches * groups * cols
    entries = np.zeros((n_types, n_pe), np.int32)
    fillers = np.zeros((n_types, n_pe), np.int32)
    words = np.zeros((n_types, n_pe), np.int32)
    # where every row lives (no divisions in the loops below)
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
    next_offset = np.zeros((batches, n_pe), np.int64)
    for p in range(n_pe):
        running = 0
        for b in range(batches):
            next_offset[b, p] = running
            running += totals[b, p]
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
    rows_per_group = n_rows // groups
    n_seg = batches * groups
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
    next_offset = np.zeros((batches, n_pe), np.int64)
    for p in range(n_pe):
        running = 0
        for b in range(batches):
            next_offset[b, p] = running
            running += totals[b, p]
    hist = np.zeros((n_seg, n_pe, largest + 1))
    max_cost = np.zeros(n_seg)
    e_mean = np.zeros((n_seg, n_pe))
    e_sq = np.zeros((n_seg, n_pe))
    fillers_sum = np.zeros(n_seg)
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


# --------------------------------------------------------------------------- frequencies
def _in_bounds_counts(size: int, out: int, kernel: int, stride: int, padding: int, dilation: int):
    """int64 [kernel]: output positions at which tap k of one axis lies inside the input."""
    o = np.arange(out)[:, None]
    k = np.arange(kernel)[None, :]
    position = o * stride - padding + k * dilation
    return ((position >= 0) & (position < size)).sum(axis=0).astype(np.int64)


def column_frequencies(spec: LayerSpec) -> np.ndarray:
    """float64 [cols]: how often each column of one group is broadcast per inference and
    batch, for an input of density 1 (sums to the scanned activations per group)."""
    rows, cols = spec.matrix_shape
    if spec.kind != "conv":
        return np.ones(cols)
    dilation = getattr(spec, "dilation", (1, 1))
    (h, w), (oh, ow) = spec.input_hw, spec.output_hw
    ys = _in_bounds_counts(h, oh, spec.kernel[0], spec.stride[0], spec.padding[0], dilation[0])
    xs = _in_bounds_counts(w, ow, spec.kernel[1], spec.stride[1], spec.padding[1], dilation[1])
    per_tap = np.outer(ys, xs).reshape(-1).astype(np.float64)
    channels = cols // per_tap.shape[0]
    return np.tile(per_tap, channels)


# --------------------------------------------------------------------------- statistics
def _segment(costs, entries_rows, weights, rows_in_segment, nonzeros_in_segment, cols):
    """SegmentStatistics of one segment: costs [cols, N] (max(1, entries)), weights [cols]
    (item-type frequencies, summing to 1), rows_in_segment [N]."""
    n_pe = costs.shape[1]
    support = int(costs.max()) + 1 if costs.size else 2
    support = max(support, 2)
    classes, pe_class = np.unique(rows_in_segment, return_inverse=True)
    pe_class = pe_class.reshape(-1)
    counts = np.bincount(pe_class, minlength=classes.shape[0]).astype(np.int64)
    flat = (pe_class[None, :] * support + costs).reshape(-1)
    pmfs = np.bincount(
        flat, weights=np.repeat(weights, n_pe), minlength=classes.shape[0] * support
    ).reshape(classes.shape[0], support)
    pmfs /= np.maximum(pmfs.sum(axis=1, keepdims=True), 1e-300)
    values = np.arange(support, dtype=np.float64)
    mean_c = pmfs @ values
    var_c = np.maximum(pmfs @ values**2 - mean_c**2, 0.0)
    mean = float(counts @ mean_c) / n_pe
    sd = math.sqrt(float(counts @ var_c) / n_pe)
    holding = rows_in_segment[rows_in_segment > 0]
    rows_per_pe = float(holding.mean()) if holding.size else 0.0
    weights_total = float(rows_in_segment.sum()) * cols
    # The PEs that decide the maximum: those whose mean cost is within one standard deviation
    # of the slowest class's.
    sd_c = np.sqrt(var_c)
    slowest = int(np.argmax(mean_c))
    lead_classes = mean_c >= mean_c[slowest] - max(sd_c[slowest], 1e-12)
    lead = np.isin(rows_in_segment, classes[lead_classes])
    lead_entries = entries_rows[:, lead].astype(np.float64)
    e_mean = float(weights @ lead_entries.mean(axis=1)) if lead.any() else 0.0
    e_sq = float(weights @ (lead_entries**2).mean(axis=1)) if lead.any() else 0.0
    return SegmentStatistics(
        items_fraction=0.0,
        rows_per_pe=rows_per_pe,
        density=float(nonzeros_in_segment) / weights_total if weights_total else 0.0,
        pmfs=pmfs,
        counts=counts,
        mean_cost=mean,
        sd_cost=sd,
        max_cost=float(weights @ costs.max(axis=1)),
        lead_pes=int(lead.sum()),
        pe_class=pe_class,
        lead_entries_mean=e_mean,
        lead_entries_var=max(e_sq - e_mean * e_mean, 0.0),
    )


def segment_rows(rows: int, groups: int, n_pe: int, registers: int | None) -> np.ndarray:
    """int64 [batches·groups, N]: rows of segment (b, g) held by PE p."""
    batches = output_batches(rows, n_pe, registers)
    i = np.arange(rows, dtype=np.int64)
    batch = (i // n_pe) // registers if batches > 1 else np.zeros_like(i)
    group = np.minimum(i // (rows // groups), groups - 1)
    out = np.zeros((batches * groups, n_pe), np.int64)
    np.add.at(out, (batch * groups + group, i % n_pe), 1)
    return out


def layer_statistics(
    structure: tuple[np.ndarray, np.ndarray],
    spec: LayerSpec,
    n_pe: int,
    registers: int | None,
    index_bits: int,
    entry_bits: int,
    word_bits: int,
    other_entry_bits: tuple[int, ...] = (),
) -> LayerStatistics:
    """Statistics of a layer with non-zero `structure` (`nonzero_structure`) on `n_pe` PEs
    (module docstring), in O(nnz + columns · segments · N) without per-item-type arrays.
    `other_entry_bits`: entry widths whose words per item the same walk also counts
    (`words_per_item_by_entry_bits`, which always holds `entry_bits` too)."""
    col_ptr, rows_of = structure
    rows, cols = spec.matrix_shape
    groups = spec.groups if spec.kind == "conv" else 1
    batches = output_batches(rows, n_pe, registers)
    regs = int(registers) if registers is not None else max(1, -(-rows // n_pe))
    frequency = column_frequencies(spec)
    scanned_per_group = float(frequency.sum())
    weights = frequency / scanned_per_group
    options = np.array([entry_bits, *(b for b in other_entry_bits if b != entry_bits)], np.int64)
    hist, max_cost, e_mean, e_sq, fillers, words, stored = segment_reductions(
        col_ptr,
        rows_of,
        rows,
        n_pe,
        regs,
        batches,
        groups,
        index_bits,
        options,
        word_bits,
        np.ascontiguousarray(weights, dtype=np.float64),
    )
    seg_rows = segment_rows(rows, groups, n_pe, registers)
    nz_batch = (rows_of // n_pe) // regs if batches > 1 else np.zeros_like(rows_of)
    nz_group = np.minimum(rows_of // (rows // groups), groups - 1)
    nz_segment = np.bincount(nz_batch * groups + nz_group, minlength=batches * groups)
    fraction = 1.0 / (batches * groups)
    segments = []
    for s in range(batches * groups):
        segments.append(
            _segment_from_reductions(
                hist[s],
                float(max_cost[s]),
                e_mean[s],
                e_sq[s],
                seg_rows[s],
                int(nz_segment[s]),
                cols,
                fraction,
            )
        )
    busy = fraction * e_mean.sum(axis=0)
    return LayerStatistics(
        positions=spec.output_positions if spec.kind == "conv" else 1,
        n_pe=n_pe,
        batches=batches,
        segments=tuple(segments),
        scanned_activations=int(round(scanned_per_group)) * groups,
        entries_per_item=float(busy.sum()),
        fillers_per_item=fraction * float(fillers.sum()),
        words_per_item=fraction * float(words[:, 0].sum()),
        busy_per_item=busy,
        stored_entries_per_pe=stored,
        words_per_item_by_entry_bits={
            int(b): fraction * float(words[:, q].sum()) for q, b in enumerate(options)
        },
    )


def _segment_from_reductions(
    hist, max_cost, e_mean, e_sq, rows_in_segment, nonzeros, cols, fraction
) -> SegmentStatistics:
    """SegmentStatistics from `segment_reductions`' per-PE cost histograms and moments."""
    n_pe = hist.shape[0]
    last = int(np.flatnonzero(hist.sum(axis=0))[-1]) if hist.any() else 1
    support = max(last + 1, 2)
    hist = hist[:, :support]
    classes, pe_class = np.unique(rows_in_segment, return_inverse=True)
    pe_class = pe_class.reshape(-1)
    counts = np.bincount(pe_class, minlength=classes.shape[0]).astype(np.int64)
    pmfs = np.zeros((classes.shape[0], support))
    np.add.at(pmfs, pe_class, hist)
    pmfs /= np.maximum(pmfs.sum(axis=1, keepdims=True), 1e-300)
    values = np.arange(support, dtype=np.float64)
    mean_c = pmfs @ values
    var_c = np.maximum(pmfs @ values**2 - mean_c**2, 0.0)
    sd_c = np.sqrt(var_c)
    slowest = int(np.argmax(mean_c))
    lead_classes = mean_c >= mean_c[slowest] - max(sd_c[slowest], 1e-12)
    lead = np.isin(rows_in_segment, classes[lead_classes])
    lead_mean = float(e_mean[lead].mean()) if lead.any() else 0.0
    lead_sq = float(e_sq[lead].mean()) if lead.any() else 0.0
    holding = rows_in_segment[rows_in_segment > 0]
    weights_total = float(rows_in_segment.sum()) * cols
    return SegmentStatistics(
        items_fraction=fraction,
        rows_per_pe=float(holding.mean()) if holding.size else 0.0,
        density=float(nonzeros) / weights_total if weights_total else 0.0,
        pmfs=pmfs,
        counts=counts,
        mean_cost=float(counts @ mean_c) / n_pe,
        sd_cost=math.sqrt(float(counts @ var_c) / n_pe),
        max_cost=max_cost,
        lead_pes=int(lead.sum()),
        lead_entries_mean=lead_mean,
        lead_entries_var=max(lead_sq - lead_mean * lead_mean, 0.0),
        pe_class=pe_class,
    )


def layer_statistics_from_work(
    structure: tuple[np.ndarray, np.ndarray],
    spec: LayerSpec,
    n_pe: int,
    registers: int | None,
    index_bits: int,
    entry_bits: int,
    word_bits: int,
) -> LayerStatistics:
    """`layer_statistics` computed from `work_from_structure`'s full [types, N] arrays — the
    plain reference the fused `segment_reductions` path is tested against."""
    col_ptr, rows_of = structure
    rows, cols = spec.matrix_shape
    groups = spec.groups if spec.kind == "conv" else 1
    batches = output_batches(rows, n_pe, registers)
    regs = int(registers) if registers is not None else max(1, -(-rows // n_pe))
    entries, fillers, words = work_from_structure(
        col_ptr, rows_of, rows, n_pe, regs, batches, groups, index_bits, entry_bits, word_bits
    )
    frequency = column_frequencies(spec)
    scanned_per_group = float(frequency.sum())
    weights = frequency / scanned_per_group
    seg_rows = segment_rows(rows, groups, n_pe, registers)
    # non-zeros per segment
    nz_rows = rows_of
    nz_batch = (nz_rows // n_pe) // regs if batches > 1 else np.zeros_like(nz_rows)
    nz_group = np.minimum(nz_rows // (rows // groups), groups - 1)
    nz_segment = np.bincount(nz_batch * groups + nz_group, minlength=batches * groups)
    segments = []
    fraction = 1.0 / (batches * groups)
    per_item_entries = np.zeros(n_pe)
    per_item_fillers = 0.0
    per_item_words = 0.0
    for s in range(batches * groups):
        part = slice(s * cols, (s + 1) * cols)
        costs = np.maximum(entries[part], 1)
        segment = _segment(costs, entries[part], weights, seg_rows[s], nz_segment[s], cols)
        segments.append(SegmentStatistics(**{**segment.__dict__, "items_fraction": fraction}))
        per_item_entries += fraction * (weights @ entries[part])
        per_item_fillers += fraction * float(weights @ fillers[part].sum(axis=1))
        per_item_words += fraction * float(weights @ words[part].sum(axis=1))
    return LayerStatistics(
        positions=spec.output_positions if spec.kind == "conv" else 1,
        n_pe=n_pe,
        batches=batches,
        segments=tuple(segments),
        scanned_activations=int(round(scanned_per_group)) * groups,
        entries_per_item=float(per_item_entries.sum()),
        fillers_per_item=per_item_fillers,
        words_per_item=per_item_words,
        busy_per_item=per_item_entries,
        stored_entries_per_pe=entries.astype(np.int64).sum(axis=0),
    )


# --------------------------------------------------------------------------- from densities
EXACT_SLICE_ROWS = 256  # column slices up to this many rows get the exact entries pmf


@functools.lru_cache(maxsize=4096)
def slice_entries_pmf(n_rows: int, density: float, index_bits: int) -> np.ndarray:
    """pmf of the stored entries of one column slice of `n_rows` rows of i.i.d. weights kept
    with probability `density`, r = `index_bits` (fillers included: a non-zero after a zero run
    L costs 1 + floor(L / 2^r) entries; trailing zeros cost nothing). Exact (a dynamic
    programme over the rows on (run mod 2^r, pending fillers, entries)) up to
    `EXACT_SLICE_ROWS` rows; beyond, Binomial(n, d) convolved with a Poisson of the exact
    expected fillers."""
    if n_rows <= 0 or density <= 0.0:
        return np.array([1.0])
    span = 1 << index_bits
    if density >= 1.0:
        out = np.zeros(n_rows + 1)
        out[n_rows] = 1.0
        return out
    if n_rows <= EXACT_SLICE_ROWS:
        pending_max = n_rows // span
        entries_max = n_rows + pending_max
        state = np.zeros((span, pending_max + 1, entries_max + 1))
        state[0, 0, 0] = 1.0
        for _ in range(n_rows):
            new = np.zeros_like(state)
            # a zero: the run grows; a full block of 2^r zeros becomes a pending filler
            new[1:, :, :] += (1.0 - density) * state[:-1, :, :]
            new[0, 1:, :] += (1.0 - density) * state[-1, :-1, :]
            # a non-zero: 1 entry plus the pending fillers, the run restarts
            for pending in range(pending_max + 1):
                mass = state[:, pending, :].sum(axis=0) * density
                new[0, 0, pending + 1 :] += mass[: entries_max + 1 - pending - 1]
            state = new
        pmf = state.sum(axis=(0, 1))
        return pmf / pmf.sum()
    k = np.arange(n_rows + 1)
    from scipy.stats import binom, poisson

    nonzeros = binom.pmf(k, n_rows, density)
    q = 1.0 - density
    j = np.arange(1, (n_rows - 1) // span + 1, dtype=np.float64)
    fillers = density * float(np.sum(q ** (span * j) * (n_rows - span * j)))
    extra = poisson.pmf(np.arange(int(fillers + 10 * math.sqrt(fillers + 1)) + 1), fillers)
    pmf = np.convolve(nonzeros, extra)
    return pmf / pmf.sum()


def _cost_pmf(entries_pmf: np.ndarray) -> np.ndarray:
    out = np.zeros(max(entries_pmf.shape[0], 2))
    out[: entries_pmf.shape[0]] = entries_pmf
    out[1] += out[0]
    out[0] = 0.0
    return out


def density_statistics(
    spec: LayerSpec,
    weight_density: float,
    n_pe: int,
    registers: int | None,
    index_bits: int,
    entry_bits: int,
    word_bits: int,
) -> LayerStatistics:
    """`layer_statistics` of a layer of i.i.d. weights kept with probability `weight_density`
    (expectations; the max over PEs treats the PEs as independent, which they are here)."""
    rows, cols = spec.matrix_shape
    groups = spec.groups if spec.kind == "conv" else 1
    batches = output_batches(rows, n_pe, registers)
    seg_rows = segment_rows(rows, groups, n_pe, registers)
    fraction = 1.0 / (batches * groups)
    slots = word_bits / entry_bits
    segments = []
    busy = np.zeros(n_pe)
    fillers_per_item = 0.0
    words_per_item = 0.0
    stored = np.zeros(n_pe)
    for s in range(batches * groups):
        classes, pe_class = np.unique(seg_rows[s], return_inverse=True)
        pe_class = pe_class.reshape(-1)
        counts = np.bincount(pe_class, minlength=classes.shape[0]).astype(np.int64)
        entries_pmfs = [
            slice_entries_pmf(int(n), float(weight_density), index_bits) for n in classes
        ]
        support = max(max(p.shape[0] for p in entries_pmfs), 2)
        pmfs = np.zeros((classes.shape[0], support))
        e_mean = np.zeros(classes.shape[0])
        e_var = np.zeros(classes.shape[0])
        p_empty = np.zeros(classes.shape[0])
        for c, pmf in enumerate(entries_pmfs):
            pmfs[c, : max(pmf.shape[0], 2)] = _cost_pmf(pmf)
            values = np.arange(pmf.shape[0], dtype=np.float64)
            e_mean[c] = pmf @ values
            e_var[c] = max(pmf @ values**2 - e_mean[c] ** 2, 0.0)
            p_empty[c] = pmf[0]
        fill_mean = np.array(
            [e_mean[c] - weight_density * classes[c] for c in range(classes.shape[0])]
        )
        values = np.arange(support, dtype=np.float64)
        mean_c = pmfs @ values
        var_c = np.maximum(pmfs @ values**2 - mean_c**2, 0.0)
        cdf = np.cumsum(pmfs, axis=1)
        with np.errstate(divide="ignore"):
            log_max_cdf = counts @ np.log(np.minimum(cdf, 1.0))
        max_cost = float(np.sum(1.0 - np.exp(log_max_cdf[:-1])))
        slowest = int(np.argmax(mean_c))
        lead_classes = mean_c >= mean_c[slowest] - max(math.sqrt(var_c[slowest]), 1e-12)
        lead_count = int(counts[lead_classes].sum())
        lead_mean = float(counts[lead_classes] @ e_mean[lead_classes]) / max(lead_count, 1)
        lead_sq = float(counts[lead_classes] @ (e_var + e_mean**2)[lead_classes]) / max(
            lead_count, 1
        )
        holding = seg_rows[s][seg_rows[s] > 0]
        segments.append(
            SegmentStatistics(
                items_fraction=fraction,
                rows_per_pe=float(holding.mean()) if holding.size else 0.0,
                density=float(weight_density),
                pmfs=pmfs,
                counts=counts,
                mean_cost=float(counts @ mean_c) / n_pe,
                sd_cost=math.sqrt(float(counts @ var_c) / n_pe),
                max_cost=max_cost,
                lead_pes=lead_count,
                lead_entries_mean=lead_mean,
                lead_entries_var=max(lead_sq - lead_mean * lead_mean, 0.0),
                pe_class=pe_class,
            )
        )
        busy += fraction * e_mean[pe_class]
        fillers_per_item += fraction * float(counts @ np.maximum(fill_mean, 0.0))
        # words: e entries from a random alignment span (e·w + W − w) / W words when e >= 1
        words_c = (e_mean * entry_bits + (word_bits - entry_bits) * (1.0 - p_empty)) / word_bits
        words_per_item += fraction * float(counts @ words_c)
        stored += cols * e_mean[pe_class]
    del slots
    frequency = column_frequencies(spec)
    return LayerStatistics(
        n_pe=n_pe,
        batches=batches,
        segments=tuple(segments),
        scanned_activations=int(round(float(frequency.sum()))) * groups,
        entries_per_item=float(busy.sum()),
        fillers_per_item=fillers_per_item,
        words_per_item=words_per_item,
        busy_per_item=busy,
        stored_entries_per_pe=stored,
        positions=spec.output_positions if spec.kind == "conv" else 1,
    )


# --------------------------------------------------------------------------- caching
_LAYER_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DIGESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: Statistics by content (structure digest, layer shape, N, R, index/entry/word bits), shared
#: by compression settings that prune alike: a sweep's bit-width axes change the codes, not the
#: positions, so every setting of one density reuses them (bounded, least recently used).
_BY_CONTENT: dict[tuple, dict[int, LayerStatistics]] = {}
CONTENT_CACHE_ENTRIES = 512
#: weight bit widths whose entry width (weight + index bits) every computed statistics object
#: also counts the words of (a sweep's bit axes stay within these)
ENTRY_WEIGHT_BITS: tuple[int, ...] = tuple(range(1, 9))


def clear_statistics_cache() -> None:
    """Forget the statistics shared by content (a sweep calls it when its analytical units are
    done: the cycle model it verifies with does not use them)."""
    _BY_CONTENT.clear()


def structure_digest(sparse) -> str:
    """blake2b of a matrix's non-zero structure (`nonzero_structure`): equal for matrices with
    non-zeros at the same positions, whatever their codes; cached per matrix object."""
    cached = _DIGESTS.get(sparse)
    if cached is None:
        col_ptr, rows_of = nonzero_structure(sparse)
        digest = hashlib.blake2b(digest_size=16)
        digest.update(np.ascontiguousarray(col_ptr, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(rows_of, dtype=np.int64).tobytes())
        cached = _DIGESTS[sparse] = digest.hexdigest()
    return cached


def compressed_layer_statistics(
    layer, n_pe: int, registers: int | None, entry_bits: int, word_bits: int
) -> LayerStatistics:
    """`layer_statistics` of a compressed (or pruned) layer's real matrix, cached per layer
    object and (N, R, entry bits, word bits), and by the matrix's content (`structure_digest`)
    so that another layer object with the same non-zeros and the same spec reuses them (the
    statistics are a function of exactly these inputs). The entry width changes only the
    words per item: one walk counts them for every width of `ENTRY_WEIGHT_BITS` weight bits
    (plus the layer's index bits), and another width reuses everything else."""
    key = (int(n_pe), registers, int(entry_bits), int(word_bits))
    per_layer = _LAYER_CACHE.setdefault(layer.sparse, {})
    if key not in per_layer:
        spec = layer.spec
        index_bits = int(layer.index_bits)
        content = (structure_digest(layer.sparse), spec, index_bits, int(n_pe), registers)
        content += (int(word_bits),)
        by_width = _BY_CONTENT.pop(content, {})
        if int(entry_bits) not in by_width:
            base = next(iter(by_width.values()), None)
            words = base.words_per_item_by_entry_bits if base is not None else {}
            if int(entry_bits) in words:
                by_width[int(entry_bits)] = replace(base, words_per_item=words[int(entry_bits)])
            else:
                by_width[int(entry_bits)] = layer_statistics(
                    nonzero_structure(layer.sparse),
                    spec,
                    int(n_pe),
                    registers,
                    index_bits,
                    int(entry_bits),
                    int(word_bits),
                    tuple(index_bits + b for b in ENTRY_WEIGHT_BITS),
                )
        _BY_CONTENT[content] = by_width  # most recently used last
        while len(_BY_CONTENT) > CONTENT_CACHE_ENTRIES:
            del _BY_CONTENT[next(iter(_BY_CONTENT))]
        per_layer[key] = by_width[int(entry_bits)]
    return per_layer[key]
