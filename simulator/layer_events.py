"""Events and latency of one layer for one inference: the counts the energy table multiplies.

Part of `simulator` (DESIGN §4): shared by both models and by both evaluation paths — one
design point (`simulator.simulate.assemble_layer_result`, scalars) and arrays of hardware
variants (`simulator.variant_evaluation`, numpy arrays that broadcast) — so the two can never
disagree. Energy = Σ_action events × energy per event (`simulator.energy_table`).

Events per layer and inference:
- sparse_sram_read: sparse-matrix SRAM words read (`simulator.lowering`);
- pointer_read: one pointer pair per broadcast per PE;
- activation_sram_read / _write: the scanned activations / the outputs, packed in activation
  SRAM words (ceil(values × activation bits / word bits));
- codebook_lookup, mac: one per entry walked (fillers included); codebook_decode: the decode
  bits of the codebook the network runs on, per lookup; register_access: 2 per entry (read +
  write of the destination accumulator);
- lnzd_op: one per scanned activation; fifo_access: a push and a pop per broadcast per PE;
- leakage_cycle: clock cycles of the whole layer time (DRAM-bound time included);
- dram_bit: 8 × the bytes moved to or from DRAM (weights streamed + feature-map spill).
A layer run in B output batches broadcasts and scans its input B times (its counts say so).

Latency: DRAM transfers overlap compute (double buffering), so latency = max(compute, DRAM),
compute = cycles / clock, DRAM = bytes / bandwidth.
"""

from __future__ import annotations

import numpy as np


def layer_latency(total_cycles, clock_hz, dram_bytes, dram_bandwidth_bytes_per_s):
    """(compute_s, dram_s, latency_s) — scalars or arrays."""
    compute_s = np.asarray(total_cycles, dtype=np.float64) / clock_hz
    dram_s = np.asarray(dram_bytes, dtype=np.float64) / dram_bandwidth_bytes_per_s
    return compute_s, dram_s, np.maximum(compute_s, dram_s)


def layer_events(
    *,
    sram_words,
    broadcasts,
    entries,
    scanned_activations,
    outputs,
    n_pe,
    activation_bits,
    activation_sram_word_bits,
    decode_bits,
    latency_s,
    clock_hz,
    dram_bytes,
) -> dict:
    """Event counts by action (module docstring); every argument a scalar or an array."""
    words_in = np.ceil(
        np.asarray(scanned_activations) * activation_bits / activation_sram_word_bits
    )
    words_out = np.ceil(np.asarray(outputs) * activation_bits / activation_sram_word_bits)
    entries = np.asarray(entries, dtype=np.float64)
    broadcasts = np.asarray(broadcasts, dtype=np.float64)
    return {
        "sparse_sram_read": np.asarray(sram_words, dtype=np.float64),
        "pointer_read": broadcasts * n_pe,
        "activation_sram_read": words_in,
        "activation_sram_write": words_out,
        "codebook_lookup": entries,
        "codebook_decode": entries * decode_bits,
        "mac": entries,
        "register_access": 2.0 * entries,
        "lnzd_op": np.asarray(scanned_activations, dtype=np.float64),
        "fifo_access": 2.0 * broadcasts * n_pe,
        "leakage_cycle": np.asarray(latency_s, dtype=np.float64) * clock_hz,
        "dram_bit": 8.0 * np.asarray(dram_bytes, dtype=np.float64),
    }
