"""One layer's `LayerResult` from its timing and counts: the step both models end with.

Part of `simulator` (DESIGN §4), after the timing: the cycle model (`simulator.simulate.
simulate_layer`) and the analytical model (`simulator.analytical_model.analytical_layer`) each
produce a layer's `Timing` and `LayerCounts` and its weight storage
(`simulator.memory_fit.weight_storage_bytes`); `assemble_layer_result` turns them into the
events (`simulator.layer_events`), the energy by component (events × the energy table,
`simulator.energy_table`), the latency (compute overlapped with DRAM transfers, feature-map
spills from `simulator.memory_fit`) and the footprint — the same code for both models, so they
can differ only in timing and counts.
"""

from __future__ import annotations

import math

from simulator.accelerator import Accelerator
from simulator.cycle_model import Timing
from simulator.energy_table import (
    build_energy_table,
    codebook_decode_bits,
    codebook_entries_for,
    energy_by_component,
)
from simulator.layer_events import layer_events, layer_latency
from simulator.lowering import input_shape
from simulator.memory_fit import activation_spill_bytes
from simulator.results import LayerCounts, LayerResult
from workloads.layer_spec import LayerSpec


def assemble_layer_result(
    spec: LayerSpec,
    timing: Timing,
    counts: LayerCounts,
    arch: Accelerator,
    *,
    model: str,
    weight_bits: int,
    sparse_bytes: int,
    pointer_bytes: int,
    weight_dram_bytes: float,
    codebook_entries: int | None = None,
) -> LayerResult:
    """Events, energy and latency of one layer from its timing and counts (both models);
    `codebook_entries`: the codebook it runs on (default: sized for this layer alone)."""
    if codebook_entries is None:
        codebook_entries = codebook_entries_for(arch, [weight_bits])
    n = arch.n_pe
    activation_dram = activation_spill_bytes(spec, arch)
    dram_bytes = weight_dram_bytes + activation_dram
    compute_s, dram_s, latency_s = (
        float(v)
        for v in layer_latency(
            timing.total_cycles, arch.clock_hz, dram_bytes, arch.dram_bandwidth_bytes_per_s
        )
    )
    events = {
        action: float(count)
        for action, count in layer_events(
            lambda name: getattr(arch, name),
            sram_words=counts.sram_words,
            broadcasts=counts.broadcasts,
            entries=counts.entries,
            scanned_activations=counts.scanned_activations,
            input_values=math.prod(input_shape(spec)),
            outputs=counts.outputs,
            decode_bits=codebook_decode_bits(codebook_entries),
            codebook_entries=codebook_entries,
            compute_cycles=timing.total_cycles,
            latency_s=latency_s,
            dram_bytes=dram_bytes,
        ).items()
    }
    table = build_energy_table(arch)
    useful = counts.entries - counts.fillers
    return LayerResult(
        layer=spec.name,
        kind=spec.kind,
        model=model,
        n_pe=n,
        total_cycles=timing.total_cycles,
        ideal_cycles=timing.ideal_cycles,
        stall_cycles=timing.stall_cycles,
        load_balance=timing.load_balance,
        utilization=useful / (n * timing.total_cycles) if timing.total_cycles else 0.0,
        counts=counts,
        busy_cycles_per_pe=timing.busy_cycles_per_pe,
        events=events,
        energy_by_component_j=energy_by_component(events, table),
        compute_s=compute_s,
        dram_s=dram_s,
        latency_s=latency_s,
        weight_bytes=sparse_bytes + pointer_bytes,
        sparse_bytes=sparse_bytes,
        pointer_bytes=pointer_bytes,
        weight_dram_bytes=weight_dram_bytes,
        activation_dram_bytes=activation_dram,
        codebook_entries=int(codebook_entries),
        codebook_fits=2**weight_bits <= arch.codebook_entries,
        dense_macs=int(spec.macs),
    )
