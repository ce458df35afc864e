"""The energy reference table: energy per action of one accelerator, with formula and source.

Part of `simulator` (DESIGN §4): built from an `Accelerator` spec; `simulator.simulate`
multiplies it with a layer's event counts (energy = Σ events × energy per event). Every entry's
`source` is a full citation (authors, title, venue, year, and the table, figure or section),
taken from the reference list of `simulator/energy-sources.md`, which ships with the package
(`dcsim energy-table --sources` prints it; `docs/energy-sources.md` in the repository). The
section numbers (§) below are that file's.

Scaling rules
- SRAM (sparse matrix, pointers, activation SRAM): CACTI 7 least-squares fits
  E_read = a · (capacity in KB)^b pJ per access (§2, fitted table), by node,
  cell flavour and port width (32/64/128 b fitted; other widths from the nearest fitted width
  with Accelergy's width rule (0.7·w/w0 + 0.3), §2). Writes: the CACTI write/read ratio at
  the nearest tabulated capacity (§2 write table; 45 nm data for 45/65 nm, 28 nm data for
  32/28/22 nm). Leakage: CACTI µW per KB by node and flavour (§2). SRAM numbers are CACTI's at
  its nominal supply: `vdd_v` scales logic only.
- Logic (MAC, registers, codebook, LNZD, FIFO): 45 nm values (Horowitz via EIE, Aladdin; §1)
  scaled by Stillmaker–Baas E(V) = a·V² + b·V + c (§4): factor E_node(vdd) /
  E_HP45(0.9 V). 65 nm uses its row; 32 nm the HP32 row; 28 and 22 nm interpolate the HP32 and
  HP20 factors linearly in nm (the paper has no 28/22 nm rows, §4).
- Codebook: a register file (Aladdin's rule, §1: ≤128 entries and ≤32 b are registers;
  energy = register read + depth × comparator(log2 depth bits)). The register read is the
  `codebook_lookup` action (value bits × per-bit register energy); the address decode is the
  `codebook_decode` action, one event per comparator bit: a lookup in a D-entry codebook
  costs D · ceil(log2 D) of them (`codebook_decode_bits`). D is the codebook the layer runs
  on: the spec's `codebook_entries`, enlarged to 2^b when the network's widest layer has b
  weight bits and 2^b > codebook_entries (`simulator.simulate` sizes it and flags the point);
  beyond 128 entries the register rule is extrapolated.
- DRAM: the spec's energy per bit (§5).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from importlib import resources

from simulator.accelerator import Accelerator

SOURCES_FILE = "energy-sources.md"
_REFERENCE_LINE = re.compile(r"^- \[(?P<key>[A-Za-z0-9]+)\] (?P<citation>.+)$")


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

# energy-sources.md §2 fitted table: (node, cell) -> {width: (a, b)}; leakage µW per KB.
SRAM_READ_FIT: dict[tuple[int, str], dict[int, tuple[float, float]]] = {
    (65, "itrs-hp"): {32: (2.32, 0.57), 64: (2.70, 0.58), 128: (3.92, 0.58)},
    (45, "itrs-hp"): {32: (1.49, 0.51), 64: (1.65, 0.57), 128: (2.33, 0.57)},
    (32, "itrs-hp"): {32: (0.74, 0.53), 64: (0.88, 0.56), 128: (1.27, 0.57)},
    (28, "itrs-hp"): {32: (0.56, 0.54), 64: (0.65, 0.57), 128: (0.98, 0.57)},
    (22, "itrs-hp"): {32: (0.36, 0.53), 64: (0.42, 0.57), 128: (0.62, 0.58)},
    (65, "itrs-lstp"): {32: (2.14, 0.61), 64: (2.99, 0.60), 128: (5.20, 0.58)},
    (45, "itrs-lstp"): {32: (1.51, 0.56), 64: (1.85, 0.58), 128: (2.81, 0.58)},
    (32, "itrs-lstp"): {32: (0.82, 0.55), 64: (0.99, 0.58), 128: (1.53, 0.58)},
    (28, "itrs-lstp"): {32: (0.65, 0.54), 64: (0.73, 0.58), 128: (1.13, 0.58)},
    (22, "itrs-lstp"): {32: (0.39, 0.54), 64: (0.43, 0.58), 128: (0.67, 0.58)},
}
SRAM_LEAKAGE_UW_PER_KB: dict[tuple[int, str], float] = {
    (65, "itrs-hp"): 620.0,
    (45, "itrs-hp"): 537.0,
    (32, "itrs-hp"): 214.0,
    (28, "itrs-hp"): 154.0,
    (22, "itrs-hp"): 85.0,
    (65, "itrs-lstp"): 0.19,
    (45, "itrs-lstp"): 0.029,
    (32, "itrs-lstp"): 0.050,
    (28, "itrs-lstp"): 0.13,
    (22, "itrs-lstp"): 0.17,
}
# §2 write and read pJ per 64-bit access at 1 KB … 1 MB, for the write/read ratio.
_CAPACITIES_KB = (1, 2, 8, 32, 128, 512, 1024)
_WRITE_64: dict[tuple[int, str], tuple[float, ...]] = {
    (45, "itrs-hp"): (2.91, 3.52, 6.5, 12.7, 21.2, 40.2, 55.9),
    (28, "itrs-hp"): (1.19, 1.42, 2.66, 4.54, 8.44, 17.9, 25.3),
    (45, "itrs-lstp"): (3.49, 4.24, 7.88, 15.4, 26.1, 51.4, 76.2),
    (28, "itrs-lstp"): (1.37, 1.65, 3.08, 5.39, 10.7, 21.1, 30.0),
}
_READ_64: dict[tuple[int, str], tuple[float, ...]] = {
    (45, "itrs-hp"): (1.43, 2.35, 5.29, 14.9, 33.0, 52.0, 67.7),
    (28, "itrs-hp"): (0.571, 0.959, 2.3, 5.38, 11.7, 21.2, 31.7),
    (45, "itrs-lstp"): (1.67, 2.76, 6.14, 17.0, 32.3, 68.3, 93.5),
    (28, "itrs-lstp"): (0.647, 1.09, 2.58, 6.17, 12.4, 25.6, 38.7),
}
# Stillmaker–Baas energy coefficients (a, b, c), energy-sources.md §4.
STILLMAKER_BAAS: dict[str, tuple[float, float, float]] = {
    "65": (3.755, -4.398, 1.975),
    "HP45": (1.018, -0.3107, 0.1539),
    "HP32": (0.8367, -0.4341, 0.1701),
    "HP20": (0.373, -0.1582, 0.04104),
}
REFERENCE_VDD_V = 0.9  # Horowitz's 45 nm table (energy-sources.md §4)

# 45 nm logic energies (pJ) and where they come from.
MULT16_PJ_45 = 0.62  # EIE Fig. 10: 16-b fixed mult 5× below 32-b int mult 3.1 pJ (§1)
ADD16_PJ_45 = 0.05  # Horowitz 16-bit int add (§1)
REGISTER_PJ_PER_BIT_45 = 0.009  # Aladdin reg.csv, 40 nm, per bit access (§2.4)
COMPARATOR32_PJ_45 = 0.029  # Aladdin comparator.csv, 40 nm, 32 b (§2.4)
COMPARATOR_PJ_PER_BIT_45 = COMPARATOR32_PJ_45 / 32  # Aladdin linear width rule (§1)
FIFO_INDEX_BITS = 16  # a FIFO entry carries the activation value and a 16-bit column index


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


def logic_scale(node_nm: int, vdd_v: float) -> float:
    """Stillmaker–Baas energy factor from HP45 at 0.9 V to `node_nm` at `vdd_v`."""

    def e(row: str) -> float:
        a, b, c = STILLMAKER_BAAS[row]
        return a * vdd_v**2 + b * vdd_v + c

    a, b, c = STILLMAKER_BAAS["HP45"]
    reference = a * REFERENCE_VDD_V**2 + b * REFERENCE_VDD_V + c
    if node_nm == 65:
        target = e("65")
    elif node_nm == 45:
        target = e("HP45")
    elif node_nm == 32:
        target = e("HP32")
    else:  # 28 or 22: linear in nm between HP32 and HP20
        weight = (32 - node_nm) / 12
        target = (1 - weight) * e("HP32") + weight * e("HP20")
    return target / reference


def sram_read_pj(capacity_bytes: float, width_bits: int, node_nm: int, cell: str) -> float:
    """CACTI-fit read energy (pJ per access) of one SRAM macro."""
    fits = SRAM_READ_FIT[(node_nm, cell)]
    base_width = min(fits, key=lambda w: (abs(math.log2(width_bits / w)), w))
    a, b = fits[base_width]
    energy = a * max(capacity_bytes / 1024, 1e-3) ** b
    if width_bits != base_width:
        energy *= 0.7 * width_bits / base_width + 0.3
    return energy


def sram_write_ratio(capacity_bytes: float, node_nm: int, cell: str) -> float:
    """CACTI write/read energy ratio at the nearest tabulated capacity (§2)."""
    data_node = 45 if node_nm >= 45 else 28
    kb = capacity_bytes / 1024
    index = min(range(len(_CAPACITIES_KB)), key=lambda i: abs(math.log(kb / _CAPACITIES_KB[i])))
    return _WRITE_64[(data_node, cell)][index] / _READ_64[(data_node, cell)][index]


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
    "codebook_value_bits",
    "sparse_sram_bytes_per_pe",
    "sparse_sram_word_bits",
    "pointer_sram_bytes_per_pe",
    "pointer_sram_banks",
    "pointer_bits",
    "activation_sram_bytes_per_pe",
    "activation_sram_word_bits",
    "activation_bits",
    "datapath_bits",
    "technology_node_nm",
    "vdd_v",
    "sram_cell",
    "dram_energy_j_per_bit",
)


def build_energy_table(arch: Accelerator) -> dict[str, EnergyEntry]:
    """The per-action energy table of `arch`, keyed by action (event) name."""
    node, cell = arch.technology_node_nm, arch.sram_cell
    scale = logic_scale(node, arch.vdd_v)
    logic_note = f"× Stillmaker–Baas {scale:.3f} (HP45 0.9 V → {node} nm {arch.vdd_v} V, §4)"
    scaling = cite("StillmakerBaas2017", f"Table 5 energy coefficients, {node} nm (§4)")

    def cacti(what: str) -> str:
        return (
            cite("CACTI7", f"{what}, {node} nm {cell} (energy-sources.md §2)")
            + "; "
            + cite("AccelergyCacti", "CACTI plug-in default configuration (§2)")
        )

    entries: list[EnergyEntry] = []

    sparse_kb = arch.sparse_sram_bytes_per_pe / 1024
    sparse = sram_read_pj(arch.sparse_sram_bytes_per_pe, arch.sparse_sram_word_bits, node, cell)
    entries.append(
        EnergyEntry(
            "sparse_sram_read",
            "sparse_sram",
            sparse * PJ,
            f"{arch.sparse_sram_word_bits}-bit word",
            f"a·{sparse_kb:g}^b pJ ({arch.sparse_sram_word_bits}-b port)",
            cacti("read-energy fit a·KB^b"),
        )
    )
    bank_bytes = arch.pointer_sram_bytes_per_pe / arch.pointer_sram_banks
    pointer = sram_read_pj(bank_bytes, arch.pointer_bits, node, cell)
    entries.append(
        EnergyEntry(
            "pointer_read",
            "pointer_sram",
            2 * pointer * PJ,
            "pointer pair (p_j, p_j+1)",
            f"2 × a·{bank_bytes / 1024:g}^b pJ ({arch.pointer_bits}-b port, one read per bank)",
            cacti("read-energy fit a·KB^b; width rule 0.7·w/w0 + 0.3 of cacti_wrapper.py")
            + "; "
            + cite("EIE", "§IV, two pointer banks read together (§3)"),
        )
    )
    act_bytes = max(arch.activation_sram_bytes_per_pe, 1)
    act_read = sram_read_pj(act_bytes, arch.activation_sram_word_bits, node, cell)
    act_write = act_read * sram_write_ratio(act_bytes, node, cell)
    entries.append(
        EnergyEntry(
            "activation_sram_read",
            "activation_sram",
            act_read * PJ,
            f"{arch.activation_sram_word_bits}-bit word",
            f"a·{act_bytes / 1024:g}^b pJ",
            cacti("read-energy fit a·KB^b"),
        )
    )
    entries.append(
        EnergyEntry(
            "activation_sram_write",
            "activation_sram",
            act_write * PJ,
            f"{arch.activation_sram_word_bits}-bit word",
            "read × CACTI write/read ratio at the nearest tabulated capacity",
            cacti("write/read energy ratio, write table"),
        )
    )
    codebook = REGISTER_PJ_PER_BIT_45 * arch.codebook_value_bits * scale
    entries.append(
        EnergyEntry(
            "codebook_lookup",
            "codebook",
            codebook * PJ,
            f"{arch.codebook_value_bits}-bit value read",
            f"{REGISTER_PJ_PER_BIT_45} pJ/bit × {arch.codebook_value_bits} b {logic_note}",
            cite("Aladdin", "register energy per bit")
            + "; "
            + cite(
                "AccelergyAladdin",
                "data/reg.csv; a register file of ≤128 entries and ≤32 b is registers (§1)",
            )
            + "; its address decode is codebook_decode; "
            + scaling,
        )
    )
    decode = COMPARATOR_PJ_PER_BIT_45 * scale
    entries.append(
        EnergyEntry(
            "codebook_decode",
            "codebook",
            decode * PJ,
            "one address-comparator bit of the codebook decode (a lookup in a D-entry "
            "codebook is D·ceil(log2 D) of them)",
            f"{COMPARATOR32_PJ_45} pJ / 32 b per comparator bit {logic_note}",
            cite(
                "AccelergyAladdin",
                "register-file rule depth × comparator(log2 depth bits) in aladdin_table.py; "
                "data/comparator.csv, 32-b comparator 0.029 pJ, linear width rule (§1)",
            )
            + "; "
            + scaling,
        )
    )
    width = arch.datapath_bits / 16
    mac = (MULT16_PJ_45 * width**2 + ADD16_PJ_45 * width) * scale
    entries.append(
        EnergyEntry(
            "mac",
            "mac",
            mac * PJ,
            f"{arch.datapath_bits}-bit fixed-point multiply-accumulate",
            f"({MULT16_PJ_45}·(w/16)² + {ADD16_PJ_45}·(w/16)) pJ {logic_note}",
            cite("EIE", "Fig. 10 and Table I: 16-b mult 3.1 pJ / 5 = 0.62 pJ (§1)")
            + "; "
            + cite("Horowitz2014", "45 nm table: 16-b add 0.05 pJ (§1)")
            + ", as reproduced in "
            + cite("Stillwater", "secondary")
            + "; "
            + cite("AccelergyAladdin", "aladdin_table.py width rules (§1)")
            + "; "
            + scaling,
        )
    )
    register = REGISTER_PJ_PER_BIT_45 * arch.activation_bits * scale
    entries.append(
        EnergyEntry(
            "register_access",
            "registers",
            register * PJ,
            f"{arch.activation_bits}-bit register read or write",
            f"{REGISTER_PJ_PER_BIT_45} pJ/bit × {arch.activation_bits} b {logic_note}",
            cite("AccelergyAladdin", "data/reg.csv, 0.009 pJ per bit (§1)")
            + "; "
            + cite("TimeloopExercises", "16-b register 0.144 pJ (§1)")
            + "; "
            + scaling,
        )
    )
    lnzd = COMPARATOR32_PJ_45 * arch.activation_bits / 32 * scale
    entries.append(
        EnergyEntry(
            "lnzd_op",
            "lnzd",
            lnzd * PJ,
            "one activation tested for zero",
            f"{COMPARATOR32_PJ_45} pJ × {arch.activation_bits}/32 {logic_note}",
            cite("AccelergyAladdin", "data/comparator.csv, 32-b comparator, linear width rule (§1)")
            + "; "
            + scaling,
        )
    )
    fifo_bits = arch.activation_bits + FIFO_INDEX_BITS
    fifo = REGISTER_PJ_PER_BIT_45 * fifo_bits * scale
    entries.append(
        EnergyEntry(
            "fifo_access",
            "fifo",
            fifo * PJ,
            f"push or pop of a {fifo_bits}-bit entry (value + 16-b index)",
            f"{REGISTER_PJ_PER_BIT_45} pJ/bit × {fifo_bits} b {logic_note}",
            cite("AccelergyAladdin", "data/reg.csv, register FIFO at 0.009 pJ per bit (§1)")
            + "; "
            + scaling,
        )
    )
    leak_kb = (
        arch.sparse_sram_bytes_per_pe
        + arch.pointer_sram_bytes_per_pe
        + arch.activation_sram_bytes_per_pe
    ) / 1024
    leak_w = SRAM_LEAKAGE_UW_PER_KB[(node, cell)] * 1e-6 * leak_kb * arch.n_pe
    entries.append(
        EnergyEntry(
            "leakage_cycle",
            "leakage",
            leak_w / arch.clock_hz,
            "clock cycle of the whole array",
            f"{SRAM_LEAKAGE_UW_PER_KB[(node, cell)]} µW/KB × {leak_kb:g} KB × {arch.n_pe} PEs "
            f"/ {arch.clock_hz:g} Hz (SRAM only; logic leakage not modelled)",
            cacti("leakage µW per KB"),
        )
    )
    entries.append(
        EnergyEntry(
            "dram_bit",
            "dram",
            arch.dram_energy_j_per_bit,
            "bit moved to/from DRAM",
            "spec dram_energy_j_per_bit",
            cite("EIE", "Table I: LPDDR2 640 pJ per 32 b = 20 pJ/b (§5)")
            + "; "
            + cite("AccelergyCacti", "cacti_wrapper.py CactiDRAM: LPDDR4 8 pJ/b (§5)"),
        )
    )
    return {entry.action: entry for entry in entries}


ACTIONS: tuple[str, ...] = (
    "sparse_sram_read",
    "pointer_read",
    "activation_sram_read",
    "activation_sram_write",
    "codebook_lookup",
    "codebook_decode",
    "mac",
    "register_access",
    "lnzd_op",
    "fifo_access",
    "leakage_cycle",
    "dram_bit",
)
COMPONENTS: tuple[str, ...] = (
    "sparse_sram",
    "pointer_sram",
    "activation_sram",
    "codebook",
    "mac",
    "registers",
    "lnzd",
    "fifo",
    "leakage",
    "dram",
)


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
