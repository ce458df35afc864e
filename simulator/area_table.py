"""The area table: silicon area of every component of an accelerator, with formula and source.

Part of `simulator` (DESIGN §4), next to the energy table (`simulator.energy_table`): built
from an `Accelerator` spec (and the size of the codebook the network runs on), one row per
component with its EIE module, the number of instances, the area of one instance, the formula
and the full citation of every number (energy-sources.md §7; `dcsim area-table --arch`). The
accelerator's area is Σ instances × area per instance (`area_mm2`). Nothing is fitted: EIE's
Table II areas are a check (`dcsim validate --check eie-area`).

Components (per PE unless noted; counts from `simulator.pe_structure`):
- SRAM macros (sparse matrix; pointers in `pointer_sram_banks` banks; activation SRAM): CACTI
  7 area by capacity, banks, cell flavour and node (`simulator.sram_model`);
- flip-flops — register files (codebook, activation registers, FIFO entries) and free-running
  registers (SRAM word and pointer, pointer pair, pipeline and address, FIFO pointers):
  Aladdin's 5.98 µm² per bit; a register file adds its address decode, depth ×
  comparator(log2 depth bits) (Aladdin's register-file rule), the FIFO one comparator of
  log2 depth bits (Aladdin's FIFO rule); comparators 71 µm² per 32 bits, linear in width;
- arithmetic: the multiplier (Aladdin's 32-bit multiplier, 6,350 µm² at 1 ns, quadratic in
  width) and two adders (the accumulate adder, `datapath_bits`, and the destination-address
  accumulator; Aladdin's 32-bit adder, 278 µm² at 1 ns, linear in width);
- LNZD nodes (array level, one per node of the detection tree): `pe_per_lnzd` zero tests of
  `activation_bits` each (comparators).
Logic areas are the 40 nm Aladdin data taken as 45 nm (as Accelergy's library plug-in labels
them) × the Stillmaker–Baas area factor to the node (`simulator.technology_scaling`).
Not modelled (named in the validation rows): the clock tree's buffers, control logic, filler
cells, wiring between PEs and the central control unit.

Per-component overrides: an accelerator's `[area]` table (`area_overrides_um2`:
`<component>_um2` = µm² per instance) replaces an entry; its source then says "user".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simulator.accelerator import Accelerator
from simulator.cost_catalogue import AREA_COMPONENTS
from simulator.energy_table import USER_SOURCE, cite
from simulator.pe_structure import (
    FIFO_INDEX_BITS,
    address_bits,
    ceil_log2,
    lnzd_nodes,
    pipeline_register_bits,
)
from simulator.sram_model import sram_area_mm2
from simulator.technology_scaling import area_scale

REGISTER_UM2_PER_BIT = 5.98  # Aladdin reg.csv, 40 nm (energy-sources.md §1, §7)
COMPARATOR32_UM2 = 71.0  # aladdin_comparator.csv (Accelergy library plug-in)
MULT32_UM2 = 6350.0  # aladdin_multiplier.csv, 1 ns
ADD32_UM2 = 278.0  # aladdin_adder.csv, 1 ns


@dataclass(frozen=True)
class AreaEntry:
    """One row of the area table."""

    component: str
    module: str  # the EIE module it belongs to (Table II), or "LNZD" (array level)
    instances: int  # how many the accelerator has
    area_um2: float  # of one instance
    formula: str
    source: str

    @property
    def total_mm2(self) -> float:
        return self.instances * self.area_um2 * 1e-6

    def as_row(self) -> dict:
        return {
            "component": self.component,
            "module": self.module,
            "instances": self.instances,
            "area_um2": self.area_um2,
            "area_mm2": self.total_mm2,
            "formula": self.formula,
            "source": self.source,
        }


#: The accelerator fields `build_area_table` reads (with the codebook size it is given).
AREA_FIELDS: tuple[str, ...] = (
    "n_pe",
    "fifo_depth",
    "codebook_value_bits",
    "sparse_sram_bytes_per_pe",
    "sparse_sram_word_bits",
    "pointer_sram_bytes_per_pe",
    "pointer_sram_banks",
    "pointer_bits",
    "activation_registers_per_pe",
    "activation_sram_bytes_per_pe",
    "activation_bits",
    "datapath_bits",
    "pe_per_lnzd",
    "pipeline_stages",
    "technology_node_nm",
    "sram_cell",
    "area_overrides_um2",
)


def _comparator_um2(bits: float) -> float:
    return COMPARATOR32_UM2 * bits / 32


def build_area_table(
    arch: Accelerator, codebook_entries: int | None = None
) -> dict[str, AreaEntry]:
    """The area table of `arch` keyed by component; `codebook_entries`: the codebook the
    network runs on (default: the spec's)."""
    entries_cb = arch.codebook_entries if codebook_entries is None else int(codebook_entries)
    node, cell = arch.technology_node_nm, arch.sram_cell
    scale = area_scale(node)
    note = f"× Stillmaker–Baas area {scale:.3g} (45 → {node} nm)"
    scaling = (
        cite("StillmakerBaas2017", f"area factors, {node} nm (§4)")
        + "; "
        + cite("NodeScale", "areaDict (§4)")
    )

    def get(name: str):
        return getattr(arch, name)

    def sram(what: str, capacity: float, banks: int = 1) -> tuple[float, str, str]:
        um2 = sram_area_mm2(capacity, node, cell, banks) * 1e6
        formula = (
            f"CACTI area of {banks} × {capacity / banks / 1024:g} KB ({cell}, {node} nm)"
            if banks > 1
            else f"CACTI area of {capacity / 1024:g} KB ({cell}, {node} nm)"
        )
        source = (
            cite("CACTI7", f"area table, {what} (energy-sources.md §2, §7)")
            + "; "
            + cite("AccelergyCacti", "area linear in width and depth; node rules (§2)")
        )
        return um2, formula, source

    reg = REGISTER_UM2_PER_BIT
    aladdin_reg = cite("AccelergyAladdin", "data/reg.csv, 5.98 µm² per bit (§7)")
    library = cite("AccelergyLibrary", "library/aladdin/*.csv areas at 1 ns (§7)")
    regfile = cite(
        "AccelergyAladdin",
        "register-file area rule: registers + depth × comparator(log2 depth bits) (§7)",
    )

    def logic(um2_45: float) -> float:
        return um2_45 * scale

    rows: list[AreaEntry] = []
    n = arch.n_pe
    um2, formula, source = sram("sparse-matrix SRAM", arch.sparse_sram_bytes_per_pe)
    rows.append(AreaEntry("sparse_sram", "SpmatRead", n, um2, formula, source))
    bits = arch.sparse_sram_word_bits + arch.pointer_bits
    rows.append(
        AreaEntry(
            "sparse_registers",
            "SpmatRead",
            n,
            logic(bits * reg),
            f"({arch.sparse_sram_word_bits}-b SRAM word + {arch.pointer_bits}-b pointer) × "
            f"{reg} µm²/bit {note}",
            aladdin_reg + "; " + scaling,
        )
    )
    um2, formula, source = sram(
        "pointer SRAM banks", arch.pointer_sram_bytes_per_pe, arch.pointer_sram_banks
    )
    rows.append(AreaEntry("pointer_sram", "PtrRead", n, um2, formula, source))
    rows.append(
        AreaEntry(
            "pointer_registers",
            "PtrRead",
            n,
            logic(2 * arch.pointer_bits * reg),
            f"2 × {arch.pointer_bits} b (p_j, p_j+1) × {reg} µm²/bit {note}",
            aladdin_reg + "; " + scaling,
        )
    )
    cb_decode = entries_cb * float(ceil_log2(entries_cb))
    rows.append(
        AreaEntry(
            "codebook",
            "ArithmUnit",
            n,
            logic(entries_cb * arch.codebook_value_bits * reg + _comparator_um2(cb_decode)),
            f"({entries_cb} × {arch.codebook_value_bits} b × {reg} µm²/bit + {entries_cb} × "
            f"comparator({int(ceil_log2(entries_cb))} b)) {note}",
            regfile + "; " + library + "; " + scaling,
        )
    )
    width = arch.datapath_bits / 32
    rows.append(
        AreaEntry(
            "multiplier",
            "ArithmUnit",
            n,
            logic(MULT32_UM2 * width**2),
            f"{MULT32_UM2:g} µm² × ({arch.datapath_bits}/32)² {note}",
            library + "; " + cite("AccelergyAladdin", "quadratic width rule (§7)") + "; " + scaling,
        )
    )
    addr = float(address_bits(get))
    rows.append(
        AreaEntry(
            "adders",
            "ArithmUnit",
            n,
            logic(ADD32_UM2 * (arch.datapath_bits + addr) / 32),
            f"{ADD32_UM2:g} µm² × ({arch.datapath_bits} + {addr:g})/32 (accumulate + "
            f"address adders) {note}",
            library + "; " + cite("AccelergyAladdin", "linear width rule (§7)") + "; " + scaling,
        )
    )
    pipe = float(pipeline_register_bits(get)) + addr
    rows.append(
        AreaEntry(
            "pipeline_registers",
            "ArithmUnit",
            n,
            logic(pipe * reg),
            f"({arch.pipeline_stages} stages × 2 × {arch.datapath_bits} b + {addr:g}-b address) "
            f"× {reg} µm²/bit {note}",
            aladdin_reg + "; " + cite("EIE", "§VI, 4 pipeline stages (§7)") + "; " + scaling,
        )
    )
    depth = arch.activation_registers_per_pe
    depth_bits = float(ceil_log2(depth))
    rows.append(
        AreaEntry(
            "activation_registers",
            "ActRW",
            n,
            logic(2 * (depth * arch.activation_bits * reg + _comparator_um2(depth * depth_bits))),
            f"2 × ({depth} × {arch.activation_bits} b × {reg} µm²/bit + {depth} × "
            f"comparator({depth_bits:g} b)) {note}",
            regfile
            + "; "
            + library
            + "; "
            + cite("EIE", "§IV, source and destination")
            + "; "
            + scaling,
        )
    )
    um2, formula, source = sram("activation SRAM", arch.activation_sram_bytes_per_pe)
    rows.append(AreaEntry("activation_sram", "ActRW", n, um2, formula, source))
    entry_bits = arch.activation_bits + FIFO_INDEX_BITS
    fifo_bits = float(ceil_log2(arch.fifo_depth))
    rows.append(
        AreaEntry(
            "fifo",
            "Act_queue",
            n,
            logic(
                (arch.fifo_depth * entry_bits + 2 * fifo_bits) * reg + _comparator_um2(fifo_bits)
            ),
            f"({arch.fifo_depth} × {entry_bits} b + 2 × {fifo_bits:g}-b pointers) × {reg} "
            f"µm²/bit + comparator({fifo_bits:g} b) {note}",
            cite("AccelergyAladdin", "FIFO area rule of aladdin_table.py (§7)")
            + "; "
            + library
            + "; "
            + scaling,
        )
    )
    nodes = int(lnzd_nodes(arch.n_pe, arch.pe_per_lnzd))
    rows.append(
        AreaEntry(
            "lnzd",
            "LNZD",
            nodes,
            logic(arch.pe_per_lnzd * _comparator_um2(arch.activation_bits)),
            f"{arch.pe_per_lnzd} × comparator({arch.activation_bits} b) per node, {nodes} nodes "
            f"{note}",
            library + "; " + cite("EIE", "§IV, LNZD quadtree (§7)") + "; " + scaling,
        )
    )
    table = {row.component: row for row in rows}
    table = {component: table[component] for component in AREA_COMPONENTS}
    for key, value in arch.area_overrides_um2:
        component = key.removesuffix("_um2")
        table[component] = replace(
            table[component],
            area_um2=float(value),
            formula=f"{key} = {value:g} (accelerator [area] table)",
            source=USER_SOURCE,
        )
    return table


def area_table_rows(arch: Accelerator, codebook_entries: int | None = None) -> list[dict]:
    """The table as rows (component, module, instances, area_um2, area_mm2, formula, source)."""
    return [entry.as_row() for entry in build_area_table(arch, codebook_entries).values()]


def area_mm2(arch: Accelerator, codebook_entries: int | None = None) -> float:
    """The accelerator's area: Σ instances × area per instance."""
    return sum(entry.total_mm2 for entry in build_area_table(arch, codebook_entries).values())
