"""Analytical model: the cycle model's outputs from densities alone, for large sweeps.

Part of `simulator` (DESIGN §4): same `LayerResult` as the cycle model
(`simulator.simulate.simulate_layer`), but from (layer shape, weight density, activation
density, bit widths, accelerator) — no compressed layer, no activation vector. Validated
against the cycle model in `tests/test_simulator_analytical.py` (within 5% on total cycles for
the EIE benchmark layers and the AlexNet layers).

Model. Weights survive independently with probability d (the magnitude-pruned synthetic
weights are exchangeable, so this is the large-layer limit).
- Entries of one column in a PE slice of n local rows, index width r (M = 2^r): the stored
  non-zeros (mean n·d) plus fillers; the non-zero at local row i is preceded by a zero run
  L_i = min(Geometric, i) and costs floor(L_i / M) fillers, so
  E[fillers] = d · Σ_i Σ_{k=1..⌊i/M⌋} (1−d)^{M·k} (exact). Variance: binomial variance of the
  non-zeros scaled by (1 + fillers/non-zeros)² (approximation).
  A PE spends max(1, entries) cycles on an item; P(entries = 0) = (1−d)^n exactly.
- Items: K = activation density × activations scanned (all inputs for FC; the in-bounds patch
  elements of every output position for conv, item types spread evenly over the groups), times
  the B output batches (`simulator.lowering`): every batch broadcasts the input again, and its
  column slices have only the batch's rows (at most R per PE), so the per-slice moments above
  are taken per (batch, group) segment, and items are spread evenly over the segments.
- FIFO smoothing and imbalance: the broadcast / FIFO recurrence of the cycle model
  (`simulator.cycle_model.broadcast_schedule`, the same kernel) is run on a *statistical*
  item sequence: min(K, 4096) items whose per-PE costs max(1, entries) are drawn from the
  exact distribution of independent weights (each column slice of n rows is drawn as
  geometric zero runs, each non-zero costing 1 + floor(run / M) entries; item groups uniform),
  with a fixed seed, so results are deterministic. Its
  ratio drain / Σ cost / N (the imbalance after FIFO smoothing) multiplies the exact expected
  ideal cost K · Σ_p E[max(1, entries_p)] / N; the layer never beats the broadcast bound K + 1.
  Total = drain + pipeline latency. Cost: O(min(K, 4096) · N), independent of the layer size.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from simulator.accelerator import Accelerator, load_accelerator
from simulator.cycle_model import Timing, broadcast_schedule
from simulator.lowering import output_batches, scanned_activations
from simulator.results import LayerCounts, LayerResult
from workloads.layer_spec import LayerSpec


def column_entry_moments(n_rows: int, density: float, index_bits: int):
    """(E[entries], Var[entries], E[fillers], P(entries = 0)) of one PE column of n_rows."""
    if n_rows <= 0 or density <= 0.0:
        return 0.0, 0.0, 0.0, 1.0
    q = 1.0 - density
    span = 1 << index_bits
    nonzeros = n_rows * density
    fillers = 0.0
    if q > 0.0 and n_rows > span:
        # Σ_i Σ_{k=1..⌊i/M⌋} q^{Mk} = Σ_k q^{Mk} · #{i < n : i >= M·k}
        k = np.arange(1, (n_rows - 1) // span + 1, dtype=np.float64)
        fillers = density * float(np.sum(q ** (span * k) * (n_rows - span * k)))
    ratio = 1.0 + (fillers / nonzeros if nonzeros else 0.0)
    variance = n_rows * density * q * ratio**2
    return nonzeros + fillers, variance, fillers, q**n_rows


def rows_per_pe_and_group(
    rows: int, groups: int, n_pe: int, registers_per_pe: int | None = None
) -> np.ndarray:
    """int64 [B·groups, n_pe]: how many rows of group g in output batch b PE p holds (row i in
    PE i mod N, PE-local row i // N in batch (i // N) // R; B = 1 when R is None)."""
    batches = output_batches(rows, n_pe, registers_per_pe)
    i = np.arange(rows, dtype=np.int64)
    batch = (i // n_pe) // registers_per_pe if batches > 1 else np.zeros_like(i)
    group = np.minimum(i // (rows // groups), groups - 1)
    out = np.zeros((batches * groups, n_pe), np.int64)
    np.add.at(out, (batch * groups + group, i % n_pe), 1)
    return out


SAMPLED_ITEMS = 4096
SAMPLE_SEED = 0


@numba.njit(cache=True)
def _sample_costs(rows, density, index_bits, rng):
    """int32 [k, N]: max(1, entries) of random column slices of rows[i, p] local rows."""
    k, n_pe = rows.shape
    costs = np.ones((k, n_pe), np.int32)
    if density <= 0.0:
        return costs
    for i in range(k):
        for p in range(n_pe):
            n = rows[i, p]
            position = -1
            entries = 0
            while True:
                zeros = rng.geometric(density) - 1 if density < 1.0 else 0
                position += zeros + 1
                if position >= n:
                    break
                entries += 1 + (zeros >> index_bits)
            if entries > 1:
                costs[i, p] = entries
    return costs


def _fifo_imbalance(rows_gp, density, index_bits, items, fifo_depth):
    """(drain / ideal cost, stall cycles per item) of a sampled item sequence (docstring)."""
    groups, n_pe = rows_gp.shape
    k = int(min(SAMPLED_ITEMS, max(1, round(items))))
    rng = np.random.default_rng(SAMPLE_SEED)
    item_group = rng.integers(0, groups, size=k)
    rows = np.ascontiguousarray(rows_gp[item_group], dtype=np.int64)  # [k, N]
    costs = _sample_costs(rows, float(density), int(index_bits), rng)
    stream = np.arange(k, dtype=np.int32)
    free_at = np.zeros(n_pe, np.int64)
    drain, last_push = broadcast_schedule(costs, stream, int(fifo_depth), free_at)
    ideal = costs.sum() / n_pe
    return float(drain) / float(ideal), float(last_push - (k - 1)) / k


def analytical_timing_counts(
    spec: LayerSpec,
    weight_density: float,
    activation_density: float,
    entry_bits: int,
    index_bits: int,
    arch: Accelerator,
) -> tuple[Timing, LayerCounts]:
    """Expected Timing and LayerCounts of one layer (module docstring)."""
    for name, value in (
        ("weight_density", weight_density),
        ("activation_density", activation_density),
    ):
        if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name}={value!r} is invalid; allowed: a number in [0, 1]")
    n = arch.n_pe
    rows, _cols = spec.matrix_shape
    groups = spec.groups if spec.kind == "conv" else 1
    batches = output_batches(rows, n, arch.activation_registers_per_pe)
    rows_gp = rows_per_pe_and_group(rows, groups, n, arch.activation_registers_per_pe)
    slots = arch.sparse_sram_word_bits / entry_bits
    mean_e = np.zeros(rows_gp.shape)
    var_e = np.zeros(rows_gp.shape)
    fill = np.zeros(rows_gp.shape)
    p_zero = np.zeros(rows_gp.shape)
    cache: dict[int, tuple] = {}
    for g in range(rows_gp.shape[0]):
        for p in range(n):
            rp = int(rows_gp[g, p])
            if rp not in cache:
                cache[rp] = column_entry_moments(rp, float(weight_density), index_bits)
            mean_e[g, p], var_e[g, p], fill[g, p], p_zero[g, p] = cache[rp]
    mean_c = mean_e + p_zero
    # Mixture over the (batch, group) segments: every item is broadcast once per batch and the
    # items of one batch are spread evenly over the groups.
    mu = mean_c.mean(axis=0)
    scanned = float(scanned_activations(spec)) * batches
    items = float(activation_density) * scanned
    entries_per_item = mean_e.mean(axis=0)  # per PE
    busy = items * entries_per_item
    if items > 0:
        imbalance, stall_per_item = _fifo_imbalance(
            rows_gp, float(weight_density), index_bits, items, arch.fifo_depth
        )
        drain = max(items * float(mu.sum()) / n * imbalance, items + 1.0)
        stall = stall_per_item * items
    else:
        drain, stall = 0.0, 0.0
    timing = Timing(
        total_cycles=drain + arch.pipeline_latency_cycles,
        ideal_cycles=float(busy.sum()) / n,
        stall_cycles=stall,
        broadcasts=int(round(items)),
        busy_cycles_per_pe=busy,
    )
    words = (mean_e + (slots - 1.0) * (1.0 - p_zero)) / slots
    counts = LayerCounts(
        broadcasts=items,
        entries=float(busy.sum()),
        fillers=items * float(fill.mean(axis=0).sum()),
        sram_words=items * float(words.mean(axis=0).sum()),
        scanned_activations=scanned,
        outputs=float(math.prod(spec.output_shape)),
    )
    return timing, counts


def analytical_storage_bytes(
    spec: LayerSpec, weight_density: float, weight_bits: int, index_bits: int, arch: Accelerator
) -> tuple[int, int]:
    """Expected (sparse-matrix bytes, pointer bytes) of `spec` on `arch`: the expected entries
    of every PE's column slices, packed in SRAM words (`simulate.weight_storage_bytes`)."""
    from simulator.simulate import weight_storage_bytes

    rows, cols = spec.matrix_shape
    groups = spec.groups if spec.kind == "conv" else 1
    rows_gp = rows_per_pe_and_group(rows, groups, arch.n_pe, arch.activation_registers_per_pe)
    per_pe = np.zeros(arch.n_pe)
    for g in range(rows_gp.shape[0]):
        for p in range(arch.n_pe):
            per_pe[p] += (
                cols
                * column_entry_moments(int(rows_gp[g, p]), float(weight_density), index_bits)[0]
            )
    return weight_storage_bytes(per_pe, spec, arch, weight_bits + index_bits)


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
    from simulator.simulate import assemble_layer_result

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
