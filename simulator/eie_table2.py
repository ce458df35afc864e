"""EIE Table II checks: power and area of one PE by module and by component type, published
vs model (`dcsim validate --check eie-power --check eie-area`).

Part of `simulator` (DESIGN §5): `check_eie_power` and `check_eie_area` are registered as
`eie-power` and `eie-area` by `simulator.validation`, after its own checks. Published numbers
are copied from EIE (Han et al., ISCA 2016, arXiv:1602.01528v2): Table II (one PE, 45 nm, 800
MHz, post-layout: power and area by component type, lines 3–7, and by module, lines 8–13), §VI
(one LNZD unit: 0.023 mW, 189 µm²; 21 units for 64 PEs) and Table V (64 PEs: 40.8 mm²). Nothing
is tuned to them: the model's numbers come from the `eie` preset, the energy and area tables and
the synthetic Alex-6/7/8 layers of `simulator.eie_reference_layers`. Where a row misses, its
notes say which mechanism the model lacks.

How the model's energy is split over EIE's modules (`module_energy_j`): every action belongs
to one module (sparse_sram_read → SpmatRead; pointer_read → PtrRead; codebook, MAC and
arithmetic leakage → ArithmUnit; activation register and SRAM accesses → ActRW; FIFO accesses
→ Act_queue), the clock, register and flip-flop leakage events are split by the flip-flops of
each module (`simulator.pe_structure`, the same functions that count them), SRAM leakage by
each module's SRAM capacity; LNZD operations are outside the PE (EIE lists its LNZD units
separately) and so is DRAM.
"""

from __future__ import annotations

import math

from simulator.accelerator import load_accelerator
from simulator.area_table import REGISTER_UM2_PER_BIT, build_area_table
from simulator.check_registry import row
from simulator.eie_reference_layers import EIE_ALEXNET, eie_layer_result
from simulator.energy_table import build_energy_table
from simulator.pe_structure import (
    EIE_MODULES,
    UNITS,
    clock_events_by_unit,
    flip_flop_bits,
    register_events_by_unit,
)
from simulator.technology_scaling import area_scale

TABLE_II = "EIE Table II (Han et al., ISCA 2016, arXiv:1602.01528v2; one PE, 45 nm, 800 MHz)"
# (power mW, area µm²) per PE, by module (Table II lines 8-13) and by type (lines 3-7).
EIE_MODULE_PER_PE = {
    "Act_queue": (0.112, 758.0),
    "PtrRead": (1.807, 121_849.0),
    "SpmatRead": (4.955, 469_412.0),
    "ArithmUnit": (1.162, 3_110.0),
    "ActRW": (1.122, 18_934.0),
}
EIE_TYPE_PER_PE = {
    "memory": (5.416, 594_786.0),
    "clock network": (1.874, 866.0),
    "register": (1.026, 9_465.0),
    "combinational": (0.841, 8_946.0),
}
EIE_FILLER_UM2 = 23_961.0
EIE_PE_TOTAL = (9.157, 638_024.0)
EIE_LNZD_UNIT = (0.023, 189.0)  # §VI: one LNZD unit; 21 of them for 64 PEs
EIE_ARRAY_MM2 = 40.8  # Table V, EIE (ours, 64PE)

_MODULE_ACTIONS = {
    "sparse_matrix_read": ("sparse_sram_read",),
    "pointer_read": ("pointer_read",),
    "arithmetic": ("codebook_lookup", "codebook_decode", "mac", "arithmetic_leakage_cycle"),
    "activation_rw": ("register_access", "activation_sram_read", "activation_sram_write"),
    "activation_queue": ("fifo_access",),
}
_TYPE_ACTIONS = {
    "memory": (
        "sparse_sram_read",
        "pointer_read",
        "activation_sram_read",
        "activation_sram_write",
        "sram_leakage_cycle",
    ),
    "clock network": ("clock_bit",),
    "register": (
        "register_bit",
        "register_access",
        "fifo_access",
        "codebook_lookup",
        "flop_leakage_cycle",
    ),
    "combinational": ("mac", "codebook_decode", "arithmetic_leakage_cycle"),
}
# What each module of the model holds and lacks (the notes of its rows).
MODULE_NOTES = {
    "SpmatRead": "model: 64-b word reads of the 128 KB CACTI 7 macro, word and pointer "
    "registers, clock load, leakage; missing: a read buffer (the model re-reads a word for every "
    "column that touches it: a read every {cycles_per_read:.1f} cycles where EIE §VI states one "
    "every 8 in the steady state)",
    "PtrRead": "model: both 16 KB banks read per broadcast, pointer-pair registers, clock load, "
    "leakage; the 16-b banks' read energy is the 32-b CACTI fit scaled by Accelergy's width "
    "rule (no CACTI run at 16 b)",
    "ArithmUnit": "model: codebook lookup + decode, MAC, pipeline and address registers, clock "
    "load, leakage; missing: data-dependent toggling (every bit of a register taking new data is "
    "charged Aladdin's 0.009 pJ), the bypass path and control",
    "ActRW": "model: source/destination register files (reads, writes with decode, the written "
    "word's clock, leakage) and activation SRAM traffic per batch",
    "Act_queue": "model: FIFO push/pop (32-b entries: value + 16-b index; EIE does not publish "
    "the entry width), head/tail pointers, clock load, leakage",
}
AREA_NOTES = {
    "SpmatRead": "model: CACTI 7 area of the 128 KB macro + word and pointer registers",
    "PtrRead": "model: CACTI 7 area of two 16 KB macros + pointer-pair registers; missing: the "
    "periphery of narrow (16-b) ports (CACTI area linear in capacity, Accelergy's rule)",
    "ArithmUnit": "model: codebook register file with decoder, 16-b multiplier, adders, pipeline "
    "and address registers (Aladdin at 1 ns); missing: the bypass path and control",
    "ActRW": "model: two 64 × 16-b register files of flip-flops with decoders (Aladdin) + the "
    "2 KB CACTI macro",
    "Act_queue": "model: 8 × 32-b FIFO entries (value + 16-b index; EIE does not publish the "
    "entry width) + head/tail pointers and comparator",
}
TYPE_NOTES = {
    "memory": "model: SRAM reads, writes and leakage (CACTI 7); see SpmatRead (no read buffer)",
    "clock network": "model: the flip-flops' clock load only (ZigZag C_DFF); missing: the clock "
    "tree's wires and buffers",
    "register": "model: Aladdin register energy of free-running registers and register files "
    "(their address decoders included), flip-flop leakage; missing: data-dependent toggling",
    "combinational": "model: MAC, codebook decode, arithmetic leakage; missing: control, muxes, "
    "the bypass path",
}


def module_energy_j(result, arch) -> dict[str, float]:
    """Energy of one `LayerResult` on `arch` by EIE module (module docstring), plus "LNZD" and
    "DRAM"; the values add up to `result.energy_j`."""
    table = build_energy_table(arch)
    events = result.events
    energy = {a: events[a] * table[a].energy_j for a in events}

    def get(name: str):
        return getattr(arch, name)

    counts = result.counts
    clock = clock_events_by_unit(
        get,
        compute_cycles=result.total_cycles,
        entries=counts.entries,
        broadcasts=counts.broadcasts,
        n_pe=arch.n_pe,
    )
    registers = register_events_by_unit(
        get,
        entries=counts.entries,
        broadcasts=counts.broadcasts,
        sram_words=counts.sram_words,
        n_pe=arch.n_pe,
    )
    flops = flip_flop_bits(get, result.codebook_entries)
    all_flops = sum(float(flops[u]) for u in UNITS)
    sram = {
        "sparse_matrix_read": arch.sparse_sram_bytes_per_pe,
        "pointer_read": arch.pointer_sram_bytes_per_pe,
        "activation_rw": arch.activation_sram_bytes_per_pe,
    }
    sram_total = sum(sram.values())
    out = {}
    for unit in UNITS:
        joules = sum(energy[a] for a in _MODULE_ACTIONS[unit])
        joules += float(clock[unit]) * table["clock_bit"].energy_j
        joules += float(registers[unit]) * table["register_bit"].energy_j
        joules += energy["flop_leakage_cycle"] * float(flops[unit]) / all_flops
        joules += energy["sram_leakage_cycle"] * sram.get(unit, 0) / sram_total
        out[EIE_MODULES[unit]] = joules
    out["LNZD"] = energy["lnzd_op"]
    out["DRAM"] = energy["dram_bit"]
    return out


def _alexnet_results(seed: int):
    arch = load_accelerator("eie")
    return arch, [eie_layer_result(name, arch, seed) for name in EIE_ALEXNET]


def check_eie_power(seed: int = 0) -> list[dict]:
    """Average power of Alex-6/7/8 (Σ energy / Σ time) by EIE module, by component type, of
    the LNZD units and in total, against EIE Table II and §VI (context, not pass/fail)."""
    arch, results = _alexnet_results(seed)
    seconds = sum(r.latency_s for r in results)
    n = arch.n_pe
    by_module: dict[str, float] = {}
    by_action: dict[str, float] = {}
    for r in results:
        for module, joules in module_energy_j(r, arch).items():
            by_module[module] = by_module.get(module, 0.0) + joules
        table = build_energy_table(arch)
        for action, count in r.events.items():
            by_action[action] = by_action.get(action, 0.0) + count * table[action].energy_j

    def mw(joules: float) -> float:
        return joules / seconds * 1e3

    source = f"{TABLE_II}, power by module"
    cycles_per_read = (
        sum(r.total_cycles for r in results) * n / sum(r.counts.sram_words for r in results)
    )
    rows = [
        row(
            f"power, {module}",
            per_pe[0] * n,
            mw(by_module[module]),
            "mW",
            f"{per_pe[0]} mW/PE × {n} on Alex-6/7/8; "
            + MODULE_NOTES[module].format(cycles_per_read=cycles_per_read)
            + "; context only",
            source=source,
        )
        for module, per_pe in EIE_MODULE_PER_PE.items()
    ]
    rows += [
        row(
            f"power, {kind}",
            per_pe[0] * n,
            mw(sum(by_action[a] for a in _TYPE_ACTIONS[kind])),
            "mW",
            f"{per_pe[0]} mW/PE × {n}; {TYPE_NOTES[kind]}; context only",
            source=f"{TABLE_II}, power by component type",
        )
        for kind, per_pe in EIE_TYPE_PER_PE.items()
    ]
    nodes = 21
    rows.append(
        row(
            "power, LNZD units",
            EIE_LNZD_UNIT[0] * nodes,
            mw(by_module["LNZD"]),
            "mW",
            f"{EIE_LNZD_UNIT[0]} mW × {nodes} units; model: zero tests only (LNZD-node registers, "
            "their clock and the broadcast H-tree are not modelled); context only",
            source="EIE §VI (one LNZD unit 0.023 mW; 21 units for 64 PEs)",
        )
    )
    pe_total = sum(by_module[m] for m in EIE_MODULE_PER_PE)
    rows.append(
        row(
            "power, total",
            EIE_PE_TOTAL[0] * n,
            mw(pe_total),
            "mW",
            f"{EIE_PE_TOTAL[0]} mW/PE × {n}; model: the five modules (the PEs; LNZD units and "
            "DRAM apart); context only",
            source=f"{TABLE_II}, total power per PE",
        )
    )
    return rows


def area_by_module_um2(arch, codebook_entries: int | None = None) -> dict[str, float]:
    """Area of one PE by EIE module (µm²) and of one LNZD node ("LNZD"), from the area table."""
    out: dict[str, float] = {}
    for entry in build_area_table(arch, codebook_entries).values():
        out[entry.module] = out.get(entry.module, 0.0) + entry.area_um2
    return out


def area_by_type_um2(arch, codebook_entries: int | None = None) -> dict[str, float]:
    """Area of one PE by EIE component type: memory (SRAM macros), register (flip-flops at
    Aladdin's µm² per bit) and combinational (the rest of the PE's logic)."""
    table = build_area_table(arch, codebook_entries)
    memory = sum(table[c].area_um2 for c in ("sparse_sram", "pointer_sram", "activation_sram"))
    pe = sum(e.area_um2 for e in table.values() if e.module != "LNZD")
    entries = arch.codebook_entries if codebook_entries is None else codebook_entries
    flops = flip_flop_bits(lambda name: getattr(arch, name), entries)
    register = (
        sum(float(flops[u]) for u in UNITS)
        * REGISTER_UM2_PER_BIT
        * area_scale(arch.technology_node_nm)
    )
    return {
        "memory": memory,
        "clock network": 0.0,
        "register": register,
        "combinational": pe - memory - register,
    }


def check_eie_area(seed: int = 0) -> list[dict]:
    """Area of one PE by EIE module and component type, of an LNZD unit, of the PE and of the
    64-PE array, against EIE Table II, §VI and Table V (context, not pass/fail)."""
    del seed  # area does not depend on the workload
    arch = load_accelerator("eie")
    modules = area_by_module_um2(arch)
    types = area_by_type_um2(arch)
    source = f"{TABLE_II}, area by module"
    rows = [
        row(
            f"area, {module}",
            per_pe[1],
            modules[module],
            "um2",
            f"one PE; {AREA_NOTES[module]}",
            source=source,
        )
        for module, per_pe in EIE_MODULE_PER_PE.items()
    ]
    type_notes = {
        "memory": "model: CACTI 7 area of the SRAM macros",
        "clock network": "clock buffers are not modelled (mechanism missing)",
        "register": "model: every flip-flop × Aladdin's 5.98 µm² per bit",
        "combinational": "model: multiplier, adders, address decoders; control and muxes are "
        "not modelled",
    }
    rows += [
        row(
            f"area, {kind}",
            per_pe[1],
            types[kind],
            "um2",
            f"one PE; {type_notes[kind]}",
            source=f"{TABLE_II}, area by component type",
        )
        for kind, per_pe in EIE_TYPE_PER_PE.items()
    ]
    pe = sum(modules[m] for m in EIE_MODULE_PER_PE)
    rows.append(
        row(
            "area, LNZD unit",
            EIE_LNZD_UNIT[1],
            modules["LNZD"],
            "um2",
            "model: 4 zero tests of 16 b; the node's registers are not modelled",
            source="EIE §VI (one LNZD unit: 189 um2)",
        )
    )
    rows.append(
        row(
            "area, PE total",
            EIE_PE_TOTAL[1],
            pe,
            "um2",
            f"published total includes {EIE_FILLER_UM2:,.0f} um2 of filler cells, which the "
            "model does not place",
            source=f"{TABLE_II}, total area per PE",
        )
    )
    rows.append(
        row(
            "area, PE without filler cells",
            EIE_PE_TOTAL[1] - EIE_FILLER_UM2,
            pe,
            "um2",
            "published: total − filler cells (derived)",
            source=f"{TABLE_II}, total and filler-cell area",
        )
    )
    total_mm2 = sum(e.total_mm2 for e in build_area_table(arch).values())
    rows.append(
        row(
            "area, 64 PEs",
            EIE_ARRAY_MM2,
            total_mm2,
            "mm2",
            "model: 64 PEs + 21 LNZD nodes; the central control unit is not modelled",
            source="EIE Table V (EIE, ours, 64PE: area 40.8 mm2)",
        )
    )
    if not all(math.isfinite(r["model"]) for r in rows):  # pragma: no cover
        raise RuntimeError("eie-area: a model value is not finite")
    return rows


__all__ = ["area_by_module_um2", "area_by_type_um2", "module_energy_j"]
