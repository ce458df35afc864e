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

The walks over the structure are Numba kernels in `simulator.structure_walk`;
`simulator.density_statistics` gives the same statistics from densities alone (synthetic
layers without a matrix).
"""

from __future__ import annotations

import hashlib
import math
import weakref
from dataclasses import dataclass, field, replace

import numpy as np

from simulator.lowering import output_batches
from simulator.structure_walk import (
    nonzero_structure,
    segment_reductions,
    work_from_structure,
)
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
    (module docstring), in O(nnz + segments · N · R) without per-item-type arrays.
    `other_entry_bits`: entry widths whose words per item the same walk also counts
    (`words_per_item_by_entry_bits`, which always holds `entry_bits` too)."""
    col_ptr, rows_of = structure
    rows, cols = spec.matrix_shape
    groups = spec.groups if spec.kind == "conv" else 1
    batches = output_batches(rows, n_pe, registers)
    regs = int(registers) if registers is not None else max(1, -(-rows // n_pe))
    frequency = column_frequencies(spec)
    scanned_per_group = float(frequency.sum())
    options = np.array([entry_bits, *(b for b in other_entry_bits if b != entry_bits)], np.int64)
    hist, max_cost, e_mean, e_sq, fillers, words, stored, nz_segment = segment_reductions(
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
        frequency.astype(np.int64),  # whole counts (column_frequencies)
    )
    seg_rows = segment_rows(rows, groups, n_pe, registers)
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


# --------------------------------------------------------------------------- caching
_LAYER_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DIGESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: `_layout_digest` by the identity of read-only (col_ptr, entry_gap) arrays
_LAYOUT_DIGESTS: dict[tuple, tuple] = {}
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
    """blake2b of a stored matrix's non-zero structure, read from its encoding: the shape, PE
    count and index bits, the column pointers, every entry's relative index and whether it is
    a filler (code 0). The encoding is a function of the structure for a given PE count and
    index bits (fillers sit where gaps force them), so matrices with non-zeros at the same
    positions, whatever their codes, stored alike, have the same digest, and different
    structures different ones; no global structure is built and a quarter of the bytes of
    (col_ptr, rows) are hashed. Cached per matrix object, and the part without the filler
    flags per shared layout (`_layout_digest`)."""
    cached = _DIGESTS.get(sparse)
    if cached is None:
        digest = hashlib.blake2b(_layout_digest(sparse), digest_size=16)
        digest.update(np.packbits(np.asarray(sparse.entry_code) == 0).tobytes())
        cached = _DIGESTS[sparse] = digest.hexdigest()
    return cached


def _layout_digest(sparse) -> bytes:
    """blake2b of the shape, PE count, index bits, column pointers and relative indices;
    cached by the arrays' identity when they are read-only (`sparse_format.sparse_from_rows`
    shares them between the matrices of one density's bit widths)."""
    shape = (sparse.rows, sparse.cols, sparse.n_pe, sparse.index_bits)
    arrays = (sparse.col_ptr, sparse.entry_gap)
    key = (*(id(a) for a in arrays), *shape)
    known = _LAYOUT_DIGESTS.get(key)
    if known is not None and all(ref() is a for ref, a in zip(known[:2], arrays, strict=True)):
        return known[2]
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.asarray(shape, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(sparse.col_ptr, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(sparse.entry_gap, dtype=np.uint16).tobytes())
    value = digest.digest()
    if all(isinstance(a, np.ndarray) and not a.flags.writeable for a in arrays):
        forget = lambda _ref: _LAYOUT_DIGESTS.pop(key, None)  # noqa: E731
        _LAYOUT_DIGESTS[key] = (*(weakref.ref(a, forget) for a in arrays), value)
    return value


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


def compile_statistics_kernels() -> None:
    """Run `compressed_layer_statistics` once on a tiny layer stored the way a sweep stores
    its layers (`sparse_format.sparse_from_rows`, read-only arrays), so that Numba compiles its
    kernels, or loads them from its cache, with the argument types of the real calls. A
    sweep's side worker runs it before the validation rows: with an empty Numba cache, the
    worker on the first unit then loads these kernels (~3.4 s of compiling on the 2-core VM)
    from the cache instead of compiling them as well."""
    from compression.sparse_format import sparse_from_rows
    from simulator.pruned_layer import PrunedLayer

    codes = np.zeros((6, 5), np.uint16)
    codes[::2, 1::2] = 1
    codes[5, 4] = 2
    rows, cols = np.nonzero(codes)
    row_end = np.cumsum(np.bincount(rows, minlength=6)).astype(np.int64)
    column = cols.astype(np.int32)
    for array in (row_end, column):
        array.flags.writeable = False
    sparse = sparse_from_rows((6, 5), row_end, column, codes[rows, cols], 2, 4, keep_layout=True)
    layer = PrunedLayer(LayerSpec("warm-up", "fc", 5, 6), sparse, 4, 4)
    for registers in (None, 1):  # one batch, several batches
        compressed_layer_statistics(layer, 2, registers, 8, 64)
