"""The energy reference table: energy per action of one accelerator, with formula and source.

Part of `simulator` (DESIGN §4): built from an `Accelerator` spec; `simulator.layer_events`
counts the events and energy = Σ events × energy per event. Every entry's `source` is a full
citation (authors, title, venue, year, and the table, figure or section), taken from the
reference list of `simulator/energy-sources.md`, which ships with the package
(`dcsim energy-table --sources` prints it; `docs/energy-sources.md` in the repository). The
section numbers (§) below are that file's. Nothing here is fitted to a published power: EIE's
Table II is a check (`simulator.validation`), never an input.

Scaling rules
- SRAM (sparse matrix, pointers, activation SRAM): `simulator.sram_model` (CACTI 7 fits by
  node, cell flavour and port width; Accelergy's rules outside CACTI's 22–65 nm).
- Logic (MAC, registers, codebook, LNZD, FIFO, clock): 45 nm values (Horowitz via EIE,
  Aladdin; §1) × the Stillmaker–Baas factor of `simulator.technology_scaling` (§4); logic
  leakage × the leakage factor (technology only, not voltage).
- Register files (codebook, activation registers, FIFO): Aladdin's rule (§1): an access costs
  one word of registers plus its address decode, depth × comparator(log2 depth bits). The
  codebook's decode is the `codebook_decode` action (one event per comparator bit: its size D
  is the codebook the network runs on, the spec's `codebook_entries` or 2^b of the widest
  layer if larger; `simulator.simulate` sizes it and flags the point); the activation register
  file's and the FIFO's decodes are part of `register_access` / `fifo_access`.
- Clock network (`clock_bit`, §6): one flip-flop clocked once charges its clock load,
  C_DFF · V², with C_DFF = 3 × the NAND2 input capacitance of ZigZag's 28 nm technology
  (2.1 fF at 0.9 V), scaled from 28 nm at 0.9 V by Stillmaker–Baas. Only the flip-flops' load:
  the clock tree's wires and buffers are not modelled (a lower bound).
- Sequential (`register_bit`, §6): a free-running register bit taking new data, Aladdin's
  register energy per bit; which flip-flops are free-running and when they take data is
  `simulator.pe_structure`'s.
- Leakage (§6): SRAM (CACTI µW per KB), flip-flops (Aladdin: 7·10⁻⁵ mW per bit) and the
  arithmetic units (Aladdin's idle energy of the 32-bit multiplier and adder at 1 ns, width
  rules as for energy), per clock cycle.
- DRAM: the spec's energy per bit (§5).

Per-action overrides: an accelerator's `[energy]` table (`energy_overrides_pj`) replaces an
entry's energy; its formula and source then say "user".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from importlib import resources

from simulator.accelerator import Accelerator
from simulator.cost_catalogue import ACTIONS, COMPONENTS
from simulator.pe_structure import FIFO_INDEX_BITS, ceil_log2
from simulator.sram_model import (
    sram_leakage_uw_per_kb,
    sram_read_pj,
    sram_write_ratio,
)
from simulator.technology_scaling import leakage_scale, logic_scale

SOURCES_FILE = "energy-sources.md"
_REFERENCE_LINE = re.compile(r"^- \[(?P<key>[A-Za-z0-9]+)\] (?P<citation>.+)$")
USER_SOURCE = "user"


def energy_sources_text() -> str:
    """The shipped document that explains every energy number and lists its references."""
    return resources.files("simulator").joinpath(SOURCES_FILE).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def references() -> dict[str, str]:
    """Reference key -> full citation, as listed under "References" in the shipped document."""
    out = {}
    for line in energy_sources_text().splitlines():
        match = _REFERENCE_LINE.match(line)
        if match:
            out[match["key"]] = match["citation"].rstrip(".")
    return out


def cite(key: str, where: str) -> str:
    """A source string: the full citation of reference `key`, then where in it (or in
    energy-sources.md) the number is."""
    return f"{references()[key]} — {where}"


PJ = 1e-12

# 45 nm logic energies (pJ) and where they come from (energy-sources.md §1, §6).
MULT16_PJ_45 = 0.62  # EIE Fig. 10: 16-b fixed mult 5× below 32-b int mult 3.1 pJ (§1)
ADD16_PJ_45 = 0.05  # Horowitz 16-bit int add (§1)
REGISTER_PJ_PER_BIT_45 = 0.009  # Aladdin reg.csv, 40 nm, per bit access (§1)
COMPARATOR32_PJ_45 = 0.029  # Aladdin comparator.csv, 40 nm, 32 b (§1)
COMPARATOR_PJ_PER_BIT_45 = COMPARATOR32_PJ_45 / 32  # Aladdin linear width rule (§1)
# clock load of a flip-flop (§6): ZigZag's 28 nm technology parameters
ZIGZAG_NAND2_CAP_F = 0.7e-15
ZIGZAG_DFF_CAP_F = 3 * ZIGZAG_NAND2_CAP_F
ZIGZAG_VDD_V = 0.9
ZIGZAG_NODE_NM = 28
# leakage at 40 nm (Aladdin tables, §6): mW
REGISTER_LEAK_MW_PER_BIT = 7e-5  # reg.csv
MULT32_LEAK_MW = 0.08  # aladdin_multiplier.csv: idle 0.08 pJ per 1 ns cycle
ADD32_LEAK_MW = 0.0023  # aladdin_adder.csv: leak 0.0023 pJ per 1 ns cycle


@dataclass(frozen=True)
class EnergyEntry:
    """One row of the energy reference table."""

    action: str  # the event name the simulator counts
    component: str  # the energy component it is reported under
    energy_j: float  # per event
    unit: str  # what one event is
    formula: str
    source: str

    def as_row(self) -> dict:
        return {
            "action": self.action,
            "component": self.component,
            "energy_pj": self.energy_j / PJ,
            "unit": self.unit,
            "formula": self.formula,
            "source": self.source,
        }


def codebook_decode_bits(entries: int) -> int:
    """Comparator bits of one lookup in an `entries`-entry register-file codebook (Aladdin,
    energy-sources.md §1: depth × comparator(log2 depth bits)): entries · ceil(log2 entries)."""
    entries = int(entries)
    return entries * (entries - 1).bit_length() if entries > 1 else 0


def codebook_entries_for(arch: Accelerator, weight_bits) -> int:
    """Entries of the codebook a network runs on: the spec's, or 2^b for the widest layer's b
    weight bits when that is larger (the codebook is sized to the bits asked for)."""
    widest = max((int(b) for b in weight_bits), default=0)
    return max(arch.codebook_entries, 2**widest)


#: The accelerator fields `build_energy_table` reads: variants that agree on these share one
#: table (`simulator.variant_evaluation`); a test checks that no other field changes it.
ENERGY_FIELDS: tuple[str, ...] = (
    "n_pe",
    "clock_hz",
    "fifo_depth",
    "codebook_value_bits",
    "sparse_sram_bytes_per_pe",
    "sparse_sram_word_bits",
    "pointer_sram_bytes_per_pe",
    "pointer_sram_banks",
    "pointer_bits",
    "activation_registers_per_pe",
    "activation_sram_bytes_per_pe",
    "activation_sram_word_bits",
    "activation_bits",
    "datapath_bits",
    "technology_node_nm",
    "vdd_v",
    "sram_cell",
    "dram_energy_j_per_bit",
    "energy_overrides_pj",
)


def _sram_entries(arch: Accelerator, cacti) -> list[EnergyEntry]:
    node, cell = arch.technology_node_nm, arch.sram_cell
    sparse_kb = arch.sparse_sram_bytes_per_pe / 1024
    sparse = sram_read_pj(arch.sparse_sram_bytes_per_pe, arch.sparse_sram_word_bits, node, cell)
    bank_bytes = arch.pointer_sram_bytes_per_pe / arch.pointer_sram_banks
    pointer = sram_read_pj(bank_bytes, arch.pointer_bits, node, cell)
    act_bytes = max(arch.activation_sram_bytes_per_pe, 1)
    act_read = sram_read_pj(act_bytes, arch.activation_sram_word_bits, node, cell)
    act_write = act_read * sram_write_ratio(act_bytes, node, cell)
    act_bits = arch.activation_sram_word_bits
    return [
        EnergyEntry(
            "sparse_sram_read",
            "sparse_sram",
            sparse * PJ,
            f"{arch.sparse_sram_word_bits}-bit word",
            f"a·{sparse_kb:g}^b pJ ({arch.sparse_sram_word_bits}-b port)",
            cacti("read-energy fit a·KB^b"),
        ),
        EnergyEntry(
            "pointer_read",
            "pointer_sram",
            2 * pointer * PJ,
            "pointer pair (p_j, p_j+1)",
            f"2 × a·{bank_bytes / 1024:g}^b pJ ({arch.pointer_bits}-b port, one read per bank)",
            cacti("read-energy fit a·KB^b; width rule 0.7·w/w0 + 0.3 of cacti_wrapper.py")
            + "; "
            + cite("EIE", "§IV, two pointer banks read together (§3)"),
        ),
        EnergyEntry(
            "activation_sram_read",
            "activation_sram",
            act_read * PJ,
            f"{act_bits}-bit word",
            f"a·{act_bytes / 1024:g}^b pJ",
            cacti("read-energy fit a·KB^b"),
        ),
        EnergyEntry(
            "activation_sram_write",
            "activation_sram",
            act_write * PJ,
            f"{act_bits}-bit word",
            "read × CACTI write/read ratio at the nearest tabulated capacity",
            cacti("write/read energy ratio, write table"),
        ),
    ]


def _logic_entries(arch: Accelerator, scale: float, note: str, scaling: str) -> list[EnergyEntry]:
    reg, comp = REGISTER_PJ_PER_BIT_45, COMPARATOR_PJ_PER_BIT_45
    aladdin_reg = cite("AccelergyAladdin", "data/reg.csv, 0.009 pJ per bit (§1)")
    regfile_rule = cite(
        "AccelergyAladdin",
        "register-file rule: one word of registers + depth × comparator(log2 depth bits), "
        "data/reg.csv 0.009 pJ/bit, data/comparator.csv 0.029 pJ per 32 b (§1)",
    )
    width = arch.datapath_bits / 16
    mac = (MULT16_PJ_45 * width**2 + ADD16_PJ_45 * width) * scale
    depth = arch.activation_registers_per_pe
    depth_bits = int(ceil_log2(depth))
    register = (reg * arch.activation_bits + comp * depth * depth_bits) * scale
    fifo_bits = arch.activation_bits + FIFO_INDEX_BITS
    fifo_depth_bits = int(ceil_log2(arch.fifo_depth))
    fifo = (reg * fifo_bits + comp * fifo_depth_bits) * scale
    clock = ZIGZAG_DFF_CAP_F * ZIGZAG_VDD_V**2 / PJ * scale / logic_scale(ZIGZAG_NODE_NM, 0.9)
    return [
        EnergyEntry(
            "codebook_lookup",
            "codebook",
            reg * arch.codebook_value_bits * scale * PJ,
            f"{arch.codebook_value_bits}-bit value read",
            f"{reg} pJ/bit × {arch.codebook_value_bits} b {note}",
            cite("Aladdin", "register energy per bit")
            + "; "
            + cite(
                "AccelergyAladdin",
                "data/reg.csv; a register file of ≤128 entries and ≤32 b is registers (§1)",
            )
            + "; its address decode is codebook_decode; "
            + scaling,
        ),
        EnergyEntry(
            "codebook_decode",
            "codebook",
            comp * scale * PJ,
            "one address-comparator bit of the codebook decode (a lookup in a D-entry "
            "codebook is D·ceil(log2 D) of them)",
            f"{COMPARATOR32_PJ_45} pJ / 32 b per comparator bit {note}",
            cite(
                "AccelergyAladdin",
                "register-file rule depth × comparator(log2 depth bits) in aladdin_table.py; "
                "data/comparator.csv, 32-b comparator 0.029 pJ, linear width rule (§1)",
            )
            + "; "
            + scaling,
        ),
        EnergyEntry(
            "mac",
            "mac",
            mac * PJ,
            f"{arch.datapath_bits}-bit fixed-point multiply-accumulate",
            f"({MULT16_PJ_45}·(w/16)² + {ADD16_PJ_45}·(w/16)) pJ {note}",
            cite("EIE", "Fig. 10 and Table I: 16-b mult 3.1 pJ / 5 = 0.62 pJ (§1)")
            + "; "
            + cite("Horowitz2014", "45 nm table: 16-b add 0.05 pJ (§1)")
            + ", as reproduced in "
            + cite("Stillwater", "secondary")
            + "; "
            + cite("AccelergyAladdin", "aladdin_table.py width rules (§1)")
            + "; "
            + scaling,
        ),
        EnergyEntry(
            "register_access",
            "registers",
            register * PJ,
            f"read or write of one {arch.activation_bits}-bit activation register "
            f"({depth}-entry register file)",
            f"({reg} pJ/bit × {arch.activation_bits} b + {COMPARATOR32_PJ_45}/32 pJ × "
            f"{depth} × {depth_bits} decode bits) {note}",
            regfile_rule
            + "; "
            + cite("TimeloopExercises", "16-b register 0.144 pJ (§1)")
            + "; "
            + scaling,
        ),
        EnergyEntry(
            "register_bit",
            "registers",
            reg * scale * PJ,
            "one bit of a free-running register (pipeline, pointer, address, SRAM word, FIFO "
            "pointer) taking new data",
            f"{reg} pJ/bit {note}",
            aladdin_reg
            + "; "
            + cite("AccelergyAladdin", "data_delta rule of aladdin_table.py (§6)")
            + "; "
            + scaling,
        ),
        EnergyEntry(
            "clock_bit",
            "clock",
            clock * PJ,
            "one flip-flop clocked once (its clock load)",
            f"3 × {ZIGZAG_NAND2_CAP_F * 1e15:g} fF × ({ZIGZAG_VDD_V} V)² at 28 nm × "
            f"Stillmaker–Baas {scale / logic_scale(ZIGZAG_NODE_NM, 0.9):.3f} (28 nm 0.9 V → "
            f"{arch.technology_node_nm} nm {arch.vdd_v} V); clock-tree wires and buffers not "
            "modelled",
            cite("ZigZag", "TECH_PARAM_28NM: dff_cap = 3 × nd2_cap = 2.1 fF, vdd 0.9 V (§6)")
            + "; "
            + scaling,
        ),
        EnergyEntry(
            "lnzd_op",
            "lnzd",
            COMPARATOR32_PJ_45 * arch.activation_bits / 32 * scale * PJ,
            "one activation tested for zero",
            f"{COMPARATOR32_PJ_45} pJ × {arch.activation_bits}/32 {note}",
            cite("AccelergyAladdin", "data/comparator.csv, 32-b comparator, linear width rule (§1)")
            + "; "
            + scaling,
        ),
        EnergyEntry(
            "fifo_access",
            "fifo",
            fifo * PJ,
            f"push or pop of a {fifo_bits}-bit entry (value + 16-b index) in a "
            f"{arch.fifo_depth}-entry FIFO",
            f"({reg} pJ/bit × {fifo_bits} b + {COMPARATOR32_PJ_45}/32 pJ × {fifo_depth_bits} "
            f"pointer-comparator bits) {note}",
            cite(
                "AccelergyAladdin",
                "FIFO rule of aladdin_table.py: one entry of registers + comparator(log2 depth "
                "bits); data/reg.csv, data/comparator.csv (§1)",
            )
            + "; "
            + scaling,
        ),
    ]


#: The leakage actions: energy per clock cycle = a leakage power (`leakage_powers_w`, W) /
#: `clock_hz`, the only entries that depend on the clock. `simulator.variant_evaluation` builds
#: one table per spec with the clock left out and divides these by each variant's clock.
CLOCK_DIVIDED_ACTIONS: tuple[str, ...] = (
    "sram_leakage_cycle",
    "flop_leakage_cycle",
    "arithmetic_leakage_cycle",
)


def _leakage_kb(arch: Accelerator) -> float:
    """KB of SRAM leaking per PE: sparse matrix, pointers and activations."""
    return (
        arch.sparse_sram_bytes_per_pe
        + arch.pointer_sram_bytes_per_pe
        + arch.activation_sram_bytes_per_pe
    ) / 1024


def _leakage_powers(arch: Accelerator) -> dict[str, float]:
    """Action of `CLOCK_DIVIDED_ACTIONS` -> the leakage power (W) its table entry divides by the
    clock (before any `[energy]` override)."""
    node, cell = arch.technology_node_nm, arch.sram_cell
    leak = leakage_scale(node)
    width = arch.datapath_bits / 32
    address = float(ceil_log2(arch.activation_registers_per_pe)) / 32
    arith_mw = (MULT32_LEAK_MW * width**2 + ADD32_LEAK_MW * (width + address)) * leak
    sram_w = sram_leakage_uw_per_kb(node, cell) * 1e-6 * _leakage_kb(arch) * arch.n_pe
    return {
        "sram_leakage_cycle": sram_w,
        "flop_leakage_cycle": REGISTER_LEAK_MW_PER_BIT * 1e-3 * leak,
        "arithmetic_leakage_cycle": arith_mw * 1e-3,
    }


def leakage_powers_w(arch: Accelerator) -> dict[str, float]:
    """Action of `CLOCK_DIVIDED_ACTIONS` -> the leakage power (W) whose quotient by `clock_hz` is
    exactly its table entry; an action the `[energy]` table overrides (fixed per cycle) is out."""
    overridden = {key.removesuffix("_pj") for key, _ in arch.energy_overrides_pj}
    return {a: w for a, w in _leakage_powers(arch).items() if a not in overridden}


def _leakage_entries(arch: Accelerator, cacti) -> list[EnergyEntry]:
    node, cell = arch.technology_node_nm, arch.sram_cell
    leak = leakage_scale(node)
    leak_note = f"× leakage factor {leak:.3f} (45 → {node} nm, §4)"
    leak_kb = _leakage_kb(arch)
    uw_per_kb = sram_leakage_uw_per_kb(node, cell)
    address = float(ceil_log2(arch.activation_registers_per_pe)) / 32
    power_w = _leakage_powers(arch)
    library = cite(
        "AccelergyLibrary",
        "library/aladdin/aladdin_multiplier.csv idle 0.08 pJ, aladdin_adder.csv leak 0.0023 pJ "
        "per 1 ns cycle (32 b); quadratic / linear width rules (§6)",
    )
    return [
        EnergyEntry(
            "sram_leakage_cycle",
            "leakage",
            power_w["sram_leakage_cycle"] / arch.clock_hz,
            "clock cycle of the whole array (SRAM leakage)",
            f"{uw_per_kb:g} µW/KB × {leak_kb:g} KB × {arch.n_pe} PEs / {arch.clock_hz:g} Hz",
            cacti("leakage µW per KB"),
        ),
        EnergyEntry(
            "flop_leakage_cycle",
            "leakage",
            power_w["flop_leakage_cycle"] / arch.clock_hz,
            "one flip-flop leaking for one clock cycle",
            f"{REGISTER_LEAK_MW_PER_BIT} mW/bit {leak_note} / {arch.clock_hz:g} Hz",
            cite("AccelergyAladdin", "data/reg.csv, leakage 7e-5 mW per bit (§6)")
            + "; "
            + cite("AccelergyLibrary", "scaling.py: leakage scales with technology, not voltage"),
        ),
        EnergyEntry(
            "arithmetic_leakage_cycle",
            "leakage",
            power_w["arithmetic_leakage_cycle"] / arch.clock_hz,
            "one PE's multiplier and adders leaking for one clock cycle",
            f"({MULT32_LEAK_MW}·({arch.datapath_bits}/32)² + {ADD32_LEAK_MW}·"
            f"({arch.datapath_bits} + {address * 32:g})/32) mW {leak_note} / "
            f"{arch.clock_hz:g} Hz",
            library,
        ),
    ]


def build_energy_table(arch: Accelerator) -> dict[str, EnergyEntry]:
    """The per-action energy table of `arch`, keyed by action (event) name."""
    node, cell = arch.technology_node_nm, arch.sram_cell
    scale = logic_scale(node, arch.vdd_v)
    note = f"× Stillmaker–Baas {scale:.3f} (HP45 0.9 V → {node} nm {arch.vdd_v} V, §4)"
    scaling = cite("StillmakerBaas2017", f"Table 5 energy coefficients, {node} nm (§4)")

    def cacti(what: str) -> str:
        return (
            cite("CACTI7", f"{what}, {node} nm {cell} (energy-sources.md §2)")
            + "; "
            + cite("AccelergyCacti", "CACTI plug-in default configuration; node rules (§2)")
        )

    entries = [
        *_sram_entries(arch, cacti),
        *_logic_entries(arch, scale, note, scaling),
        *_leakage_entries(arch, cacti),
        EnergyEntry(
            "dram_bit",
            "dram",
            arch.dram_energy_j_per_bit,
            "bit moved to/from DRAM",
            "spec dram_energy_j_per_bit",
            cite("EIE", "Table I: LPDDR2 640 pJ per 32 b = 20 pJ/b (§5)")
            + "; "
            + cite("AccelergyCacti", "cacti_wrapper.py CactiDRAM: LPDDR4 8 pJ/b (§5)"),
        ),
    ]
    table = {entry.action: entry for entry in entries}
    table = {action: table[action] for action in ACTIONS}
    for key, value in arch.energy_overrides_pj:
        action = key.removesuffix("_pj")
        table[action] = replace(
            table[action],
            energy_j=float(value) * PJ,
            formula=f"{key} = {value:g} (accelerator [energy] table)",
            source=USER_SOURCE,
        )
    return table


def energy_table_rows(arch: Accelerator) -> list[dict]:
    """The table as rows (action, component, energy_pj, unit, formula, source)."""
    return [entry.as_row() for entry in build_energy_table(arch).values()]


def energy_by_component(events: dict[str, float], table: dict[str, EnergyEntry]) -> dict:
    """Joules per component: Σ over actions of events × energy per event."""
    out = dict.fromkeys(COMPONENTS, 0.0)
    for action, count in events.items():
        entry = table[action]
        out[entry.component] += float(count) * entry.energy_j
    return out


__all__ = [
    "ACTIONS",
    "CLOCK_DIVIDED_ACTIONS",
    "COMPONENTS",
    "ENERGY_FIELDS",
    "EnergyEntry",
    "build_energy_table",
    "codebook_decode_bits",
    "codebook_entries_for",
    "energy_by_component",
    "energy_table_rows",
    "leakage_powers_w",
    "logic_scale",
]
