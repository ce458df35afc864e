"""Events and latency of one layer for one inference: the counts the energy table multiplies.

Part of `simulator` (DESIGN §4): shared by both models and by both evaluation paths — one
design point (`simulator.layer_assembly.assemble_layer_result`, scalars) and arrays of hardware
variants (`simulator.variant_evaluation`, numpy arrays that broadcast) — so the two can never
disagree. Energy = Σ_action events × energy per event (`simulator.energy_table`). The spec is
read through `get(field)` (a scalar per field, or an array over variants); the flip-flop
inventory behind the clock, register and leakage events is `simulator.pe_structure`'s.

Events per layer and inference (N PEs, R activation registers per PE):
- sparse_sram_read: sparse-matrix SRAM words read (`simulator.lowering`);
- pointer_read: one pointer pair (both banks) per broadcast per PE;
- codebook_lookup, mac: one per entry walked (fillers included); codebook_decode: the decode
  bits of the codebook the network runs on, per lookup;
- activation read/write path as EIE's PE does it (§IV "Activation Read/Write"): the source
  activations live in the source register files (R·N values) and, beyond them, in the
  activation SRAM; each scanned activation is a register read when the layer's input fits in
  the source registers (a fraction min(1, R·N / input values) of them) and is read from SRAM
  words otherwise (ceil(values × activation bits / word bits)). Every entry walked reads and
  writes its destination register. The outputs stay in the destination registers (which
  become the next layer's sources) when they fit (outputs ≤ R·N); otherwise every output is
  read from its register and written to activation SRAM words at the end of its batch.
  register_access = 2 × entries + source register reads + outputs written back;
- lnzd_op: one per scanned activation; fifo_access: a push and a pop per broadcast per PE;
- register_bit: bits of free-running registers taking new data; clock_bit: flip-flop clock
  edges (free-running flip-flops every computing cycle, plus the register-file words written);
- sram_leakage_cycle: clock cycles of the whole layer time (DRAM-bound time included);
  flop_leakage_cycle: every flip-flop of every PE for those cycles; arithmetic_leakage_cycle:
  every PE for those cycles;
- dram_bit: 8 × the bytes moved to or from DRAM (weights streamed + feature-map spill).
A layer run in B output batches broadcasts and scans its input B times (its counts say so).
Computing cycles are the layer's cycles (`total_cycles`); while the array waits for DRAM beyond
them its clock is taken as gated (only leakage).

Latency: DRAM transfers overlap compute (double buffering), so latency = max(compute, DRAM),
compute = cycles / clock, DRAM = bytes / bandwidth.
"""

from __future__ import annotations

import numpy as np

from simulator.pe_structure import (
    UNITS,
    clock_events_by_unit,
    flip_flop_bits,
    register_events_by_unit,
)


def layer_latency(total_cycles, clock_hz, dram_bytes, dram_bandwidth_bytes_per_s):
    """(compute_s, dram_s, latency_s) — scalars or arrays."""
    compute_s = np.asarray(total_cycles, dtype=np.float64) / clock_hz
    dram_s = np.asarray(dram_bytes, dtype=np.float64) / dram_bandwidth_bytes_per_s
    return compute_s, dram_s, np.maximum(compute_s, dram_s)


def activation_path(get, *, scanned_activations, input_values, outputs) -> dict:
    """Source-register reads, activation SRAM words read / written and outputs written back
    of one layer (module docstring)."""
    bits = np.asarray(get("activation_bits"), dtype=np.float64)
    word = np.asarray(get("activation_sram_word_bits"), dtype=np.float64)
    capacity = np.asarray(get("activation_registers_per_pe"), dtype=np.float64) * np.asarray(
        get("n_pe"), dtype=np.float64
    )
    scanned = np.asarray(scanned_activations, dtype=np.float64)
    inputs = np.asarray(input_values, dtype=np.float64)
    outputs = np.asarray(outputs, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        in_registers = np.where(inputs > 0, np.minimum(1.0, capacity / inputs), 1.0)
    register_reads = scanned * in_registers
    written_back = np.where(outputs > capacity, outputs, 0.0)
    return {
        "source_register_reads": register_reads,
        "sram_words_read": np.ceil((scanned - register_reads) * bits / word),
        "outputs_written_back": written_back,
        "sram_words_written": np.ceil(written_back * bits / word),
    }


def layer_events(
    get,
    *,
    sram_words,
    broadcasts,
    entries,
    scanned_activations,
    input_values,
    outputs,
    decode_bits,
    codebook_entries,
    compute_cycles,
    latency_s,
    dram_bytes,
) -> dict:
    """Event counts by action (module docstring); `get(field)` reads the spec, every other
    argument is a scalar or an array."""
    n_pe = np.asarray(get("n_pe"), dtype=np.float64)
    entries = np.asarray(entries, dtype=np.float64)
    broadcasts = np.asarray(broadcasts, dtype=np.float64)
    path = activation_path(
        get, scanned_activations=scanned_activations, input_values=input_values, outputs=outputs
    )
    clock = clock_events_by_unit(
        get, compute_cycles=compute_cycles, entries=entries, broadcasts=broadcasts, n_pe=n_pe
    )
    registers = register_events_by_unit(
        get, entries=entries, broadcasts=broadcasts, sram_words=sram_words, n_pe=n_pe
    )
    flops = flip_flop_bits(get, codebook_entries)
    cycles = np.asarray(latency_s, dtype=np.float64) * np.asarray(get("clock_hz"))
    return {
        "sparse_sram_read": np.asarray(sram_words, dtype=np.float64),
        "pointer_read": broadcasts * n_pe,
        "activation_sram_read": path["sram_words_read"],
        "activation_sram_write": path["sram_words_written"],
        "codebook_lookup": entries,
        "codebook_decode": entries * decode_bits,
        "mac": entries,
        "register_access": 2.0 * entries
        + path["source_register_reads"]
        + path["outputs_written_back"],
        "register_bit": sum(registers[unit] for unit in UNITS),
        "clock_bit": sum(clock[unit] for unit in UNITS),
        "lnzd_op": np.asarray(scanned_activations, dtype=np.float64),
        "fifo_access": 2.0 * broadcasts * n_pe,
        "sram_leakage_cycle": cycles,
        "flop_leakage_cycle": sum(flops[unit] for unit in UNITS) * n_pe * cycles,
        "arithmetic_leakage_cycle": n_pe * cycles,
        "dram_bit": 8.0 * np.asarray(dram_bytes, dtype=np.float64),
    }
