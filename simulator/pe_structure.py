"""The parts of one processing element, counted from the spec, grouped by EIE's modules.

Part of `simulator` (DESIGN §4): the one inventory of flip-flops and register files that the
events (`simulator.layer_events`: clock, register and leakage events), the area table
(`simulator.area_table`) and the validation against EIE Table II (`simulator.validation`) all
read, so the three can never count different hardware. Every function takes `get(field)` —
an accelerator field by name, a scalar (`Accelerator`) or an array (hardware variants) — and
returns numpy values that broadcast.

Units are EIE's modules (Han et al., ISCA 2016, §IV and Table II):
- `sparse_matrix_read` (SpmatRead): the sparse-matrix SRAM; the fetched SRAM word (a
  `sparse_sram_word_bits` register: eight 8-bit entries, one handed on per cycle) and the
  current pointer (`pointer_bits`), both free-running;
- `pointer_read` (PtrRead): the two pointer SRAM banks; the pointer pair p_j, p_j+1
  (2 × `pointer_bits`, free-running);
- `arithmetic` (ArithmUnit): the codebook (a register file), the multiplier and adders, the
  pipeline registers (`pipeline_stages` × 2 × `datapath_bits`: each stage latches one operand
  pair) and the destination-address accumulator (ceil(log2 registers) bits), free-running;
- `activation_rw` (ActRW): the source and destination activation register files
  (2 × `activation_registers_per_pe` × `activation_bits`) and the activation SRAM;
- `activation_queue` (Act_queue): the activation FIFO (`fifo_depth` entries of
  `activation_bits` + a 16-bit column index), a register file, with its head and tail pointers
  (2 × ceil(log2 fifo_depth) bits, free-running).

Clocking. Free-running registers are clocked in every cycle the array computes. Register files
(codebook, activation registers, FIFO) are clock-gated per word: a write clocks one word's
flip-flops and an access costs one word, the register-file model of Aladdin as Accelergy's
Aladdin plug-in implements it (energy-sources.md §1). Register (data) energy is charged when a
register takes new data (Accelergy's `data_delta` rule: no data change, no register energy):
the pipeline registers, pointer and address accumulator on every entry walked, the SRAM word
register on every word read, the pointer pair on every pointer read, the FIFO pointers on every
push and pop.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

UNITS: tuple[str, ...] = (
    "sparse_matrix_read",
    "pointer_read",
    "arithmetic",
    "activation_rw",
    "activation_queue",
)
EIE_MODULES: dict[str, str] = {
    "sparse_matrix_read": "SpmatRead",
    "pointer_read": "PtrRead",
    "arithmetic": "ArithmUnit",
    "activation_rw": "ActRW",
    "activation_queue": "Act_queue",
}
FIFO_INDEX_BITS = 16  # a FIFO entry carries the activation value and a 16-bit column index

Get = Callable[[str], object]


def ceil_log2(values) -> np.ndarray:
    """ceil(log2(v)) for v ≥ 1 (0 for v = 1), exact for integers, scalars or arrays."""
    v = np.asarray(values, dtype=np.int64)
    bits = np.frompyfunc(lambda x: (int(x) - 1).bit_length() if x > 1 else 0, 1, 1)(v)
    return np.asarray(bits, dtype=np.float64)


def fifo_entry_bits(get: Get) -> np.ndarray:
    return np.asarray(get("activation_bits"), dtype=np.float64) + FIFO_INDEX_BITS


def address_bits(get: Get) -> np.ndarray:
    """Bits of the destination-register address (the relative-index accumulator)."""
    return ceil_log2(get("activation_registers_per_pe"))


def pipeline_register_bits(get: Get) -> np.ndarray:
    return (
        np.asarray(get("pipeline_stages"), dtype=np.float64)
        * 2
        * np.asarray(get("datapath_bits"), dtype=np.float64)
    )


def free_running_bits(get: Get) -> dict[str, np.ndarray]:
    """Free-running flip-flops of one PE, by unit (clocked every computing cycle)."""
    pointer = np.asarray(get("pointer_bits"), dtype=np.float64)
    return {
        "sparse_matrix_read": np.asarray(get("sparse_sram_word_bits"), dtype=np.float64) + pointer,
        "pointer_read": 2 * pointer,
        "arithmetic": pipeline_register_bits(get) + address_bits(get),
        "activation_rw": np.zeros_like(pointer),
        "activation_queue": 2 * ceil_log2(get("fifo_depth")),
    }


def register_file_bits(get: Get, codebook_entries) -> dict[str, np.ndarray]:
    """Register-file flip-flops of one PE, by unit (clock-gated per word); the codebook has
    `codebook_entries` entries (the one the network runs on)."""
    activation_bits = np.asarray(get("activation_bits"), dtype=np.float64)
    return {
        "sparse_matrix_read": np.zeros_like(activation_bits),
        "pointer_read": np.zeros_like(activation_bits),
        "arithmetic": np.asarray(codebook_entries, dtype=np.float64)
        * np.asarray(get("codebook_value_bits"), dtype=np.float64),
        "activation_rw": 2
        * np.asarray(get("activation_registers_per_pe"), dtype=np.float64)
        * activation_bits,
        "activation_queue": np.asarray(get("fifo_depth"), dtype=np.float64) * fifo_entry_bits(get),
    }


def flip_flop_bits(get: Get, codebook_entries) -> dict[str, np.ndarray]:
    """All flip-flops of one PE, by unit (free-running + register files): what leaks."""
    free = free_running_bits(get)
    files = register_file_bits(get, codebook_entries)
    return {unit: free[unit] + files[unit] for unit in UNITS}


def clock_events_by_unit(
    get: Get, *, compute_cycles, entries, broadcasts, n_pe
) -> dict[str, np.ndarray]:
    """Flip-flop clock edges of a layer, by unit: every free-running flip-flop of every PE in
    every computing cycle, plus the word written in a register file (a destination register
    per entry walked, a FIFO entry per push)."""
    free = free_running_bits(get)
    cycles = np.asarray(compute_cycles, dtype=np.float64) * n_pe
    out = {unit: free[unit] * cycles for unit in UNITS}
    out["activation_rw"] = out["activation_rw"] + np.asarray(entries, dtype=np.float64) * (
        np.asarray(get("activation_bits"), dtype=np.float64)
    )
    out["activation_queue"] = out["activation_queue"] + np.asarray(
        broadcasts, dtype=np.float64
    ) * n_pe * fifo_entry_bits(get)
    return out


def register_events_by_unit(
    get: Get, *, entries, broadcasts, sram_words, n_pe
) -> dict[str, np.ndarray]:
    """Free-running register bits that take new data in a layer, by unit (module docstring)."""
    entries = np.asarray(entries, dtype=np.float64)
    pops = np.asarray(broadcasts, dtype=np.float64) * n_pe
    pointer = np.asarray(get("pointer_bits"), dtype=np.float64)
    return {
        "sparse_matrix_read": np.asarray(sram_words, dtype=np.float64)
        * np.asarray(get("sparse_sram_word_bits"), dtype=np.float64)
        + entries * pointer,
        "pointer_read": pops * 2 * pointer,
        "arithmetic": entries * (pipeline_register_bits(get) + address_bits(get)),
        "activation_rw": np.zeros_like(entries * pointer),
        "activation_queue": pops * 2 * ceil_log2(get("fifo_depth")),
    }


def lnzd_nodes(n_pe, pe_per_lnzd) -> np.ndarray:
    """Nodes of the leading-non-zero-detection tree over `n_pe` PEs, fan-out `pe_per_lnzd`
    (one node per group at the leaves, then one per group of nodes up to the root): for EIE's
    64 PEs and fan-out 4, 16 + 4 + 1 = 21 (EIE §VI). Fan-out 1: one detector per PE."""

    def count(n: int, fan_out: int) -> int:
        if fan_out <= 1:
            return int(n)
        total, level = 0, int(n)
        while True:
            level = -(-level // fan_out)
            total += level
            if level <= 1:
                return total

    nodes = np.frompyfunc(count, 2, 1)(
        np.asarray(n_pe, dtype=np.int64), np.asarray(pe_per_lnzd, dtype=np.int64)
    )
    return np.asarray(nodes, dtype=np.float64)
