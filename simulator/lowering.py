"""Lowering a layer onto the PE array: per-PE work of every broadcast item, and the item stream.

Part of `simulator` (DESIGN §4), between the compressed layer and the cycle model. The cycle
model sees a layer as (a) a table `entries[item_type, pe]` — the stored entries (fillers
included) PE `pe` walks when the activation of that item type is broadcast — and (b) the
stream of item types, one per non-zero activation, in broadcast order.

FC / LSTM: item type j = input column j; the stream is the indices of the non-zero input
activations in increasing order; `entries[j, p] = col_ptr[p, j+1] − col_ptr[p, j]`.

Conv (im2col dataflow). The weight matrix is (out_channels, in/groups·kh·kw): rows are
filters, interleaved over PEs (filter o lives in PE o mod N, as for FC rows); column
c = local_in_channel·kh·kw + ky·kw + kx. For every output position (oy, ox), in raster order,
and for every group g in order, the LNZD scans that position's input patch of group g
(in-bounds elements only: padding is generated as zero and never read) and broadcasts each
non-zero patch element as item type g·cols + c. Tap (ky, kx) of position (oy, ox) reads input
pixel (oy·sh − ph + ky·dh, ox·sw − pw + kx·dw) (dilation d spaces the taps; d = 1 is a plain
convolution). A depthwise convolution (groups = channels) is the grouped case with one input
channel per group: each group's patch holds kh·kw elements and reaches only that group's
rows. The PEs accumulate the position's outputs in their destination registers; positions
follow each other through the same FIFOs without a barrier (the destination registers hold
the current position's outputs while the previous ones are written back), so one conv layer
is one long broadcast stream. For groups > 1, item (g, c) costs PE p the stored entries of
column c in its rows of group g: rows are stored in order inside a column, so they are a
contiguous run of the column (fillers are attributed to the group of the row they occupy);
the PE reads one pointer pair per item as for FC.
Utilization = useful MACs / (N × cycles); it is low when a layer has few filters per PE.

Output batches (EIE §IV, "Activation Read/Write"): a PE accumulates its outputs in
`activation_registers_per_pe` (R) destination registers, so a layer whose PEs hold more than R
rows each (rows > R·N) is computed in B = ceil(ceil(rows / N) / R) batches. Batch b covers
the R·N consecutive rows [b·R·N, (b+1)·R·N) (PE-local rows [b·R, (b+1)·R)); the non-zero
inputs are broadcast once per batch (for conv: each output position's patch once per batch),
the source activations are re-read and re-scanned each time, and the destination registers
are written back at the end of the batch. On chip each batch is stored as its own relative-
index CSC slice (`band_matrices`: the index restarts at the batch's first row; one pointer
pair per batch and column), and item type (b, g, c) = (b·G + g)·cols + c. With rows <= R·N
(every EIE benchmark layer but NT-Wd) B = 1 and nothing changes.

SRAM words: entries are packed back to back in `sparse_sram_word_bits`-wide words from the
start of each PE's slice (batch after batch); an item touching PE-local entries [a, b) reads
the words floor(a·w/W) … floor((b·w − 1)/W) (w = entry bits, W = word bits). No word is
reused between items (no read buffer is modelled).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numba
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from compression.sparse_format import SparseMatrix, decode_sparse, encode_sparse
from workloads.layer_spec import LayerSpec


@dataclass(frozen=True, eq=False)
class LayerWork:
    """Per-PE work of every item type of one layer (see module docstring). Arrays [types, N]."""

    entries: np.ndarray  # int32: stored entries (fillers included) walked per item
    fillers: np.ndarray  # int32: of which fillers
    words: np.ndarray  # int32: sparse-matrix SRAM words read per item
    n_pe: int

    @property
    def n_types(self) -> int:
        return int(self.entries.shape[0])

    @property
    def costs(self) -> np.ndarray:
        """Cycles a PE spends on an item: max(1, entries) — see `simulator.cycle_model`."""
        return np.maximum(self.entries, 1).astype(np.int32)


@numba.njit(cache=True)
def _work_from_entries(
    col_ptr,
    entry_gap,
    entry_code,
    n_pe,
    groups,
    rows_per_group,
    entry_bits,
    word_bits,
    row_offset,
    start,
):
    """entries/fillers/words [groups·cols, n_pe] from the stored entry stream of one batch
    whose first row is global row `row_offset`; start[p] = PE p's entries stored before it."""
    cols = col_ptr.shape[1] - 1
    n_types = groups * cols
    entries = np.zeros((n_types, n_pe), np.int32)
    fillers = np.zeros((n_types, n_pe), np.int32)
    words = np.zeros((n_types, n_pe), np.int32)
    for p in range(n_pe):
        base = col_ptr[p, 0] - start[p]
        for j in range(cols):
            local = -1
            current = -1
            first = 0
            last = 0
            for k in range(col_ptr[p, j], col_ptr[p, j + 1]):
                local += np.int64(entry_gap[k]) + 1
                g = (row_offset + p + local * n_pe) // rows_per_group
                if g >= groups:
                    g = groups - 1
                if g != current:
                    if current >= 0:
                        t = current * cols + j
                        words[t, p] = (
                            (last * entry_bits - 1) // word_bits
                            - (first * entry_bits) // word_bits
                            + 1
                        )
                    current = g
                    first = k - base
                t = g * cols + j
                entries[t, p] += 1
                if entry_code[k] == 0:
                    fillers[t, p] += 1
                last = k - base + 1
            if current >= 0:
                t = current * cols + j
                words[t, p] = (
                    (last * entry_bits - 1) // word_bits - (first * entry_bits) // word_bits + 1
                )
    return entries, fillers, words


def output_batches(rows: int, n_pe: int, registers_per_pe: int | None) -> int:
    """B = ceil(ceil(rows / N) / R): passes over the input (module docstring); 1 if R is None."""
    if registers_per_pe is None:
        return 1
    local_rows = -(-int(rows) // int(n_pe))
    return max(1, -(-local_rows // int(registers_per_pe)))


_BANDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def band_matrices(sparse: SparseMatrix, registers_per_pe: int | None) -> tuple[SparseMatrix, ...]:
    """The layer as stored on an accelerator with R = `registers_per_pe` destination registers:
    one SparseMatrix per output batch (rows [b·R·N, (b+1)·R·N), relative index restarting at
    the batch's first row). One batch: `sparse` itself. Cached per `sparse` object."""
    batches = output_batches(sparse.rows, sparse.n_pe, registers_per_pe)
    if batches == 1:
        return (sparse,)
    key = int(registers_per_pe)
    cached = _BANDS.get(sparse)
    if cached is not None and cached[0] == key:
        return cached[1]
    codes = decode_sparse(sparse)
    span = key * sparse.n_pe
    bands = tuple(
        encode_sparse(codes[b * span : (b + 1) * span], sparse.n_pe, sparse.index_bits)
        for b in range(batches)
    )
    _BANDS[sparse] = (key, bands)
    return bands


def onchip_entries_per_pe(sparse: SparseMatrix, registers_per_pe: int | None) -> np.ndarray:
    """int64 [n_pe]: entries (fillers included) each PE stores, over all output batches."""
    return sum(band.entries_per_pe for band in band_matrices(sparse, registers_per_pe))


_WORK: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def layer_work(
    sparse,
    spec: LayerSpec,
    entry_bits: int,
    word_bits: int,
    registers_per_pe: int | None = None,
) -> LayerWork:
    """LayerWork of a stored `SparseMatrix` (compression.sparse_format) for layer `spec`, on
    PEs with `registers_per_pe` destination registers (None: unlimited, one batch).

    A function of the stored matrix and these arguments only — not of any frame's
    activations — so it is computed once per matrix object and arguments and shared by every
    frame simulated on it (its arrays are read-only)."""
    rows, cols = spec.matrix_shape
    if (sparse.rows, sparse.cols) != (rows, cols):
        raise ValueError(
            f"layer {spec.name!r}: sparse matrix shape={(sparse.rows, sparse.cols)} is invalid; "
            f"allowed: the layer's matrix shape {(rows, cols)}"
        )
    key = (spec, int(entry_bits), int(word_bits), registers_per_pe)
    per_matrix = _WORK.setdefault(sparse, {})
    if key not in per_matrix:
        work = _layer_work(sparse, spec, entry_bits, word_bits, registers_per_pe)
        for array in (work.entries, work.fillers, work.words):
            array.flags.writeable = False
        per_matrix[key] = work
    return per_matrix[key]


def _layer_work(sparse, spec, entry_bits, word_bits, registers_per_pe) -> LayerWork:
    rows, cols = spec.matrix_shape
    groups = spec.groups if spec.kind == "conv" else 1
    n_pe = int(sparse.n_pe)
    bands = band_matrices(sparse, registers_per_pe)
    span = (int(registers_per_pe) * n_pe) if len(bands) > 1 else 0
    start = np.zeros(n_pe, np.int64)
    parts = []
    for b, band in enumerate(bands):
        parts.append(
            _work_from_entries(
                np.ascontiguousarray(band.col_ptr, dtype=np.int64),
                np.ascontiguousarray(band.entry_gap, dtype=np.uint16),
                np.ascontiguousarray(band.entry_code, dtype=np.uint16),
                n_pe,
                int(groups),
                int(rows // groups),
                int(entry_bits),
                int(word_bits),
                int(b * span),
                start.copy(),
            )
        )
        start += band.entries_per_pe
    if len(parts) == 1:
        entries, fillers, words = parts[0]
    else:
        entries, fillers, words = (np.concatenate(arrays) for arrays in zip(*parts))
    return LayerWork(entries, fillers, words, n_pe)


def input_shape(spec: LayerSpec) -> tuple[int, ...]:
    """Shape of one input of `spec`: (C, H, W) for conv, (in_features,) otherwise."""
    if spec.kind == "conv":
        return (spec.in_channels, *spec.input_hw)
    return (spec.in_channels,)


def _axis_in_bounds(
    size: int, out: int, kernel: int, stride: int, padding: int, dilation: int = 1
) -> int:
    """Σ over output positions along one axis of the kernel taps that fall inside the input:
    tap t of position o reads o·stride − padding + t·dilation."""
    o = np.arange(out, dtype=np.int64)
    total = 0
    for t in range(kernel):
        pixel = o * stride - padding + t * dilation
        total += int(np.count_nonzero((pixel >= 0) & (pixel < size)))
    return total


def scanned_activations(spec: LayerSpec) -> int:
    """Activation values the LNZD scans for one inference (in-bounds patch elements for conv;
    each group scans its own channels, so the total is in_channels × in-bounds taps)."""
    if spec.kind != "conv":
        return spec.in_channels
    (h, w), (oh, ow) = spec.input_hw, spec.output_hw
    ys = _axis_in_bounds(h, oh, spec.kernel[0], spec.stride[0], spec.padding[0], spec.dilation[0])
    xs = _axis_in_bounds(w, ow, spec.kernel[1], spec.stride[1], spec.padding[1], spec.dilation[1])
    return spec.in_channels * ys * xs


def activation_stream(spec: LayerSpec, activations: np.ndarray, batches: int = 1) -> np.ndarray:
    """int32 item types of the non-zero activations in broadcast order, every input (conv: every
    position's patch) broadcast once per output batch (module docstring)."""
    expected = input_shape(spec)
    x = np.asarray(activations)
    if x.shape != expected and not (spec.kind != "conv" and x.size == expected[0]):
        raise ValueError(
            f"layer {spec.name!r}: activations shape={x.shape} is invalid; allowed: {expected}"
        )
    if spec.kind != "conv":
        nonzero = np.flatnonzero(x.reshape(-1)).astype(np.int32)
        if batches == 1:
            return nonzero
        cols = np.int32(expected[0])
        return np.concatenate([nonzero + np.int32(b) * cols for b in range(batches)])
    c, h, w = expected
    (kh, kw), (sh, sw), (ph, pw) = spec.kernel, spec.stride, spec.padding
    dh, dw = spec.dilation
    oh, ow = spec.output_hw
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # input pixels a window covers
    nonzero = np.zeros((c, h + 2 * ph, w + 2 * pw), dtype=bool)
    nonzero[:, ph : ph + h, pw : pw + w] = x != 0
    windows = sliding_window_view(nonzero, (span_h, span_w), axis=(1, 2))[
        :, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, ::dh, ::dw
    ]  # (C, oh, ow, kh, kw)
    patches = np.ascontiguousarray(windows.transpose(1, 2, 0, 3, 4)).reshape(oh * ow, -1)
    if batches > 1:  # each position's patch once per batch, batch b's types offset by b·width
        patches = np.tile(patches, (1, batches))
    width = patches.shape[1]  # [batches ·] groups · cols: channel-major, group-contiguous
    flat = np.flatnonzero(patches)
    return (flat % width).astype(np.int32)
