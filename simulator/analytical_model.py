"""Analytical model: the cycle model's outputs in closed form, for large sweeps.

Part of `simulator` (DESIGN §4, §8): the same `Timing` and `LayerCounts` as the cycle model
(`simulator.cycle_model`, `simulator.simulate.simulate_layer`) without walking an activation
stream. No random sampling: every number is an expectation computed from the layer's
per-PE-count statistics (`simulator.layer_statistics`) — from the real compressed matrix
(exact per-PE entries, fillers and words of every item type, in O(nnz)) or, for a synthetic
layer, from its densities — and the activation density.

Items. K = activation density × activations scanned × output batches (every batch broadcasts
the input again). Item types are drawn with their scan frequencies; each batch, and each group
inside a batch, receives an equal share.

Events (exact expectations given K): entries walked = K × Σ_p E[entries per item], fillers and
SRAM words likewise; broadcasts = K; scanned activations and outputs as the cycle model.

Time. Per segment (batch b, group g) with K_s items, the drain of the broadcast / FIFO
recurrence is the window model of `simulator.fifo_window`:
    T_s = K_s · [M_s(w) / w + (E_t[max_p c] − M_s(1)) / w],   w = min(w_D, K_s),
M_s(w) the expected maximum over the PEs of w summed item costs (the PEs independent), w_D the
FIFO's window (κ from the table derived from the cycle kernel, looked up at the segment's
moment-matched rows per PE and density and its leading PEs). The second term restores the
exact depth-1 rate E_t[max_p c] (it includes the correlation of the PEs through the column) and
fades as the window grows. Batches follow each other: T = Σ_b T_b + 1 (first push) + pipeline.
Groups of a grouped conv alternate in runs (one run per group and output position, R = positions
· G runs per batch). When the PEs' cost differs between groups, the PEs that are slow in one
group's run fill their FIFOs and stall the broadcast, and drain their backlog while the next
group's slow PEs fill theirs: every run gets (D − 1)·μ cycles of relief from the FIFO, and no
schedule beats the PEs' work averaged over the groups. So
    T_b = max(K_b · r_mix, Σ_g T_(b,g) − R · (D − 1) · μ),
r_mix the window rate of the PEs' costs averaged over the groups (normal approximation). With
a depth-1 FIFO or one PE, T is exact: K · E_t[max_p c] + 1, or Σ costs + 1.
Stall cycles: the broadcast's lost cycles, T − 1 − K − (the last D items of the slowest PEs,
min(D, K)·μ), never negative.

Validation: `tests/test_simulator_analytical.py` (within 5 % of the cycle model on total
cycles, EIE layers, AlexNet layers, PE counts, FIFO depths and output batches; hypothesis over
random shapes and densities) and `benchmarks/bench_analytical.py` (the full grid).
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from simulator.accelerator import Accelerator, load_accelerator
from simulator.cycle_model import Timing
from simulator.density_statistics import density_statistics
from simulator.fifo_window import (
    _normal_expected_max,
    expected_max_of_sums,
    lookup_kappa,
    window_items,
    window_rate,
)
from simulator.layer_assembly import assemble_layer_result
from simulator.layer_statistics import (
    LayerStatistics,
    SegmentStatistics,
    compressed_layer_statistics,
)
from simulator.lowering import output_batches
from simulator.memory_fit import weight_storage_bytes
from simulator.results import LayerCounts, LayerResult
from workloads.layer_spec import LayerSpec


def _check_density(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ValueError(f"{name}={value!r} is invalid; allowed: a number in [0, 1]")
    return float(value)


def _table_point(segment: SegmentStatistics) -> tuple[float, float]:
    """(rows per PE, density) of the max(1, Binomial) family with the leading PEs' entry mean
    and variance (moment matching; the κ table's coordinates)."""
    mean, var = segment.lead_entries_mean, segment.lead_entries_var
    if mean <= 0.0:
        return 1.0, 0.005
    density = min(max(1.0 - var / mean, 0.005), 0.9)
    return max(mean / density, 1.0), density


def _window(segment: SegmentStatistics, n_pe: int, fifo_depth: int, mean, sd, items) -> float:
    rows, density = _table_point(segment)
    kappa = lookup_kappa(rows, density, max(segment.lead_pes, 2), fifo_depth)
    return max(1.0, min(window_items(kappa, fifo_depth, mean, sd), max(items, 1.0)))


def segment_rate(segment: SegmentStatistics, n_pe: int, fifo_depth: int, items: float) -> float:
    """Expected cycles per item of one segment (module docstring)."""
    if n_pe == 1:
        return segment.mean_cost
    if fifo_depth <= 1 or segment.sd_cost <= 0.0:
        return segment.max_cost
    w = _window(segment, n_pe, fifo_depth, segment.mean_cost, segment.sd_cost, items)
    correlation = segment.max_cost - expected_max_of_sums(segment.pmfs, segment.counts, 1)
    return window_rate(segment.pmfs, segment.counts, w) + correlation / w


def _class_spread(segment: SegmentStatistics) -> float:
    values = np.arange(segment.pmfs.shape[1], dtype=np.float64)
    means = segment.pmfs @ values
    return float(means.max() - means.min())


def _mixed_rate(segments, n_pe: int, fifo_depth: int, items: float) -> float:
    """Window rate of the PEs' costs averaged over the groups of one batch (normal)."""
    mean_p = np.zeros(n_pe)
    var_p = np.zeros(n_pe)
    for segment in segments:
        values = np.arange(segment.pmfs.shape[1], dtype=np.float64)
        mean_c = segment.pmfs @ values
        var_c = np.maximum(segment.pmfs @ values**2 - mean_c**2, 0.0)
        mean_p += mean_c[segment.pe_class] / len(segments)
        var_p += var_c[segment.pe_class] / len(segments)
    sd = math.sqrt(float(var_p.mean()))
    if sd <= 0.0:
        return float(mean_p.max())
    w = _window(segments[0], n_pe, fifo_depth, float(mean_p.mean()), sd, items)
    key, counts = np.unique(np.round(np.c_[mean_p, var_p], 12), axis=0, return_counts=True)
    return _normal_expected_max(w * key[:, 0], np.sqrt(w * key[:, 1]), counts) / w


# drain_cycles is a pure function of (statistics object, items, FIFO depth); statistics are
# shared by compression settings that prune alike (`compressed_layer_statistics`), so a sweep's
# settings of one density reuse these too.
_DRAIN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def drain_cycles(stats: LayerStatistics, items: float, fifo_depth: int) -> float:
    """Expected cycle in which the last PE drains (before the pipeline latency)."""
    if items <= 0.0:
        return 0.0
    cached = _DRAIN.setdefault(stats, {})
    key = (float(items), int(fifo_depth))
    if key not in cached:
        cached[key] = _drain_cycles(stats, items, fifo_depth)
    return cached[key]


def _drain_cycles(stats: LayerStatistics, items: float, fifo_depth: int) -> float:
    n_pe = stats.n_pe
    groups = len(stats.segments) // stats.batches
    total = 0.0
    for b in range(stats.batches):
        segments = stats.segments[b * groups : (b + 1) * groups]
        separate = sum(
            items * s.items_fraction * segment_rate(s, n_pe, fifo_depth, items * s.items_fraction)
            for s in segments
        )
        if groups > 1 and n_pe > 1 and fifo_depth > 1:
            spread = max(_class_spread(s) for s in segments)
            if spread > 0.0:
                batch_items = items / stats.batches
                runs = stats.positions * groups
                mean_cost = float(np.mean([s.mean_cost for s in segments]))
                relief = runs * (fifo_depth - 1) * mean_cost
                mixed = batch_items * _mixed_rate(segments, n_pe, fifo_depth, batch_items)
                separate = max(mixed, separate - relief)
        total += separate
    return total + 1.0


def analytical_timing(
    stats: LayerStatistics, items: float, fifo_depth: int, pipeline_cycles: int
) -> Timing:
    """Expected `Timing` of `items` broadcasts through a layer with statistics `stats`."""
    drain = drain_cycles(stats, items, fifo_depth)
    mean_cost = sum(s.items_fraction * s.mean_cost for s in stats.segments)
    tail = min(float(fifo_depth), items) * mean_cost
    stall = max(0.0, drain - 1.0 - items - tail) if items > 0 else 0.0
    busy = items * stats.busy_per_item
    return Timing(
        total_cycles=drain + pipeline_cycles,
        ideal_cycles=float(busy.sum()) / stats.n_pe,
        stall_cycles=stall,
        broadcasts=int(round(items)),
        busy_cycles_per_pe=busy,
    )


def analytical_counts(stats: LayerStatistics, spec: LayerSpec, items: float) -> LayerCounts:
    """Expected `LayerCounts` of `items` broadcasts."""
    return LayerCounts(
        broadcasts=items,
        entries=items * stats.entries_per_item,
        fillers=items * stats.fillers_per_item,
        sram_words=items * stats.words_per_item,
        scanned_activations=float(stats.scanned_activations * stats.batches),
        outputs=float(math.prod(spec.output_shape)),
    )


def broadcast_items(stats: LayerStatistics, activation_density: float) -> float:
    """K: expected non-zero activations broadcast per inference, over all output batches."""
    return float(activation_density) * stats.scanned_activations * stats.batches


def analytical_timing_counts(
    spec: LayerSpec,
    weight_density: float,
    activation_density: float,
    entry_bits: int,
    index_bits: int,
    arch: Accelerator,
) -> tuple[Timing, LayerCounts]:
    """Expected Timing and LayerCounts of a layer of i.i.d. weights at `weight_density`."""
    weight_density = _check_density("weight_density", weight_density)
    activation_density = _check_density("activation_density", activation_density)
    stats = density_statistics(
        spec,
        weight_density,
        arch.n_pe,
        arch.activation_registers_per_pe,
        index_bits,
        entry_bits,
        arch.sparse_sram_word_bits,
    )
    items = broadcast_items(stats, activation_density)
    timing = analytical_timing(stats, items, arch.fifo_depth, arch.pipeline_latency_cycles)
    return timing, analytical_counts(stats, spec, items)


def compressed_timing_counts(
    layer, activation_density: float, arch: Accelerator
) -> tuple[Timing, LayerCounts]:
    """Expected Timing and LayerCounts of a compressed layer (its real matrix) at an input
    activation density."""
    activation_density = _check_density("activation_density", activation_density)
    stats = compressed_layer_statistics(
        layer,
        arch.n_pe,
        arch.activation_registers_per_pe,
        int(layer.weight_bits) + int(layer.index_bits),
        arch.sparse_sram_word_bits,
    )
    items = broadcast_items(stats, activation_density)
    timing = analytical_timing(stats, items, arch.fifo_depth, arch.pipeline_latency_cycles)
    return timing, analytical_counts(stats, layer.spec, items)


def analytical_storage_bytes(
    spec: LayerSpec, weight_density: float, weight_bits: int, index_bits: int, arch: Accelerator
) -> tuple[int, int]:
    """Expected (sparse-matrix bytes, pointer bytes) of `spec` on `arch`: the expected entries
    of every PE's column slices, packed in SRAM words (`memory_fit.weight_storage_bytes`)."""
    stats = density_statistics(
        spec,
        _check_density("weight_density", weight_density),
        arch.n_pe,
        arch.activation_registers_per_pe,
        index_bits,
        weight_bits + index_bits,
        arch.sparse_sram_word_bits,
    )
    return weight_storage_bytes(stats.stored_entries_per_pe, spec, arch, weight_bits + index_bits)


def analytical_layer(
    spec: LayerSpec,
    weight_density: float,
    activation_density: float,
    weight_bits: int,
    index_bits: int,
    arch: Accelerator | str,
    *,
    weight_dram_bytes: float | None = None,
    codebook_entries: int | None = None,
) -> LayerResult:
    """LayerResult of `spec` from densities alone (no compressed layer needed)."""
    arch = load_accelerator(arch)
    timing, counts = analytical_timing_counts(
        spec, weight_density, activation_density, weight_bits + index_bits, index_bits, arch
    )
    sparse_bytes, pointer_bytes = analytical_storage_bytes(
        spec, weight_density, weight_bits, index_bits, arch
    )
    if weight_dram_bytes is None:
        weight_dram_bytes = max(0, sparse_bytes - arch.sparse_sram_bytes) + max(
            0, pointer_bytes - arch.pointer_sram_bytes
        )
    return assemble_layer_result(
        spec,
        timing,
        counts,
        arch,
        model="analytical",
        weight_bits=weight_bits,
        sparse_bytes=sparse_bytes,
        pointer_bytes=pointer_bytes,
        weight_dram_bytes=float(weight_dram_bytes),
        codebook_entries=codebook_entries,
    )


__all__ = [
    "analytical_counts",
    "analytical_layer",
    "analytical_storage_bytes",
    "analytical_timing",
    "analytical_timing_counts",
    "broadcast_items",
    "compressed_timing_counts",
    "drain_cycles",
    "output_batches",
    "segment_rate",
]
