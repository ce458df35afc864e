"""Layer statistics from densities alone, for a layer of i.i.d. weights (no matrix).

Part of `simulator` (DESIGN §8), beside `simulator.layer_statistics` (which computes the same
`LayerStatistics` from a real matrix's structure): the analytical model uses it for synthetic
layers that have no compressed matrix. The cost pmf of a column slice of n rows at density d
with r-bit relative indices is computed exactly (a dynamic programme over the rows: a non-zero
after a zero run L costs 1 + floor(L / 2^r) entries, trailing zeros cost nothing).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from simulator.layer_statistics import (
    LayerStatistics,
    SegmentStatistics,
    column_frequencies,
    segment_rows,
)
from simulator.lowering import output_batches
from workloads.layer_spec import LayerSpec

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
