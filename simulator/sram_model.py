"""On-chip SRAM macros: read/write energy, leakage and area from CACTI 7, at any node 7…180 nm.

Part of `simulator` (DESIGN §4): the energy table (`simulator.energy_table`) and the area table
(`simulator.area_table`) price the sparse-matrix, pointer and activation SRAMs of a PE with
these functions. The numbers are CACTI 7 model output (energy-sources.md §2), not silicon.

Rules (section numbers are energy-sources.md's):
- Read energy at the CACTI nodes (65, 45, 32, 28, 22 nm): the least-squares fits
  E_read = a · (capacity in KB)^b pJ per access, by cell flavour and port width (32/64/128 b;
  other widths from the nearest fitted width with Accelergy's width rule 0.7·w/w0 + 0.3).
- Write energy: read × CACTI's write/read ratio at the nearest tabulated capacity (45 nm data
  for nodes ≥ 45 nm, 28 nm data below).
- Leakage: CACTI µW per KB by node and flavour, × capacity.
- Area (64-bit port): the CACTI areas tabulated at 45 and 28 nm, log-log interpolated between
  the tabulated capacities (1 KB … 1 MB) and linear in capacity beyond them (Accelergy's rule:
  area scales linearly with depth); 65 and 32 nm scale the 45 nm table, 22 nm the 28 nm table,
  by CACTI's fitted area per KB (midpoints of the ranges in §2, *derived*). Area does not
  depend on the port width (Accelergy's CACTI plug-in scales area linearly in width and depth,
  i.e. with capacity). A memory of B banks is B macros of capacity / B.
- Between CACTI nodes (55, 40 nm): linear in nm between the neighbouring CACTI nodes, as the
  Accelergy CACTI plug-in interpolates between its native nodes.
- Below 22 nm: the Accelergy CACTI plug-in's rule — energy × (node/22)^0.5, area × node/22,
  leakage × (node/22)^0.5 · 0.79 (FinFET factor) from the 22 nm values.
- Above 65 nm: the 65 nm values × the Stillmaker–Baas factors from 65 nm (energy and leakage
  at the reference supply, area by the area table), as Accelergy's library plug-in scales every
  component it tabulates (`simulator.technology_scaling`).
SRAM energies are CACTI's at its nominal supply: the spec's `vdd_v` scales logic only.
"""

from __future__ import annotations

import math

from simulator.technology_scaling import area_scale, leakage_scale

SRAM_CELLS: tuple[str, ...] = ("itrs-hp", "itrs-lstp")
CACTI_NODES_NM: tuple[int, ...] = (65, 45, 32, 28, 22)

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
# §2 write and read pJ per 64-bit access and area (mm²) at 1 KB … 1 MB.
CAPACITIES_KB: tuple[int, ...] = (1, 2, 8, 32, 128, 512, 1024)
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
SRAM_AREA_MM2: dict[tuple[int, str], tuple[float, ...]] = {
    (45, "itrs-hp"): (0.0036, 0.00755, 0.0263, 0.0949, 0.387, 1.58, 3.17),
    (28, "itrs-hp"): (0.00139, 0.00293, 0.0102, 0.0433, 0.166, 0.666, 1.23),
    (45, "itrs-lstp"): (0.0036, 0.00754, 0.0263, 0.0949, 0.43, 1.65, 3.26),
    (28, "itrs-lstp"): (0.00139, 0.00291, 0.0101, 0.0432, 0.193, 0.716, 1.26),
}
#: CACTI area per KB at ≥ 32 KB (µm²), midpoints of the ranges of §2 (*derived*).
SRAM_AREA_UM2_PER_KB: dict[tuple[int, str], float] = {
    (65, "itrs-hp"): 6425.0,
    (45, "itrs-hp"): 3100.0,
    (32, "itrs-hp"): 1675.0,
    (28, "itrs-hp"): 1300.0,
    (22, "itrs-hp"): 800.0,
    (65, "itrs-lstp"): 6700.0,
    (45, "itrs-lstp"): 3250.0,
    (32, "itrs-lstp"): 1795.0,
    (28, "itrs-lstp"): 1400.0,
    (22, "itrs-lstp"): 865.0,
}
_AREA_BASE_NODE = {65: 45, 45: 45, 32: 45, 28: 28, 22: 28}
BELOW_22NM_LEAKAGE_FINFET = 0.79  # Accelergy CACTI plug-in, below 22 nm


def _at_node(value_at_cacti_node, node_nm: float, kind: str) -> float:
    """A CACTI quantity (`value_at_cacti_node(n)` for n in CACTI_NODES_NM) at `node_nm`, by
    the module's rules; `kind` is "energy", "leakage" or "area"."""
    if node_nm in CACTI_NODES_NM:
        return value_at_cacti_node(int(node_nm))
    if node_nm < 22:
        ratio = node_nm / 22
        factor = {"energy": math.sqrt(ratio), "area": ratio}.get(
            kind, math.sqrt(ratio) * BELOW_22NM_LEAKAGE_FINFET
        )
        return value_at_cacti_node(22) * factor
    if node_nm > 65:
        factor = (
            area_scale(node_nm) / area_scale(65)
            if kind == "area"
            else leakage_scale(node_nm) / leakage_scale(65)
        )
        return value_at_cacti_node(65) * factor
    larger = min(n for n in CACTI_NODES_NM if n > node_nm)
    smaller = max(n for n in CACTI_NODES_NM if n < node_nm)
    weight = (larger - node_nm) / (larger - smaller)
    return (1 - weight) * value_at_cacti_node(larger) + weight * value_at_cacti_node(smaller)


def _fit_read_pj(capacity_bytes: float, width_bits: int, node: int, cell: str) -> float:
    fits = SRAM_READ_FIT[(node, cell)]
    base_width = min(fits, key=lambda w: (abs(math.log2(width_bits / w)), w))
    a, b = fits[base_width]
    energy = a * max(capacity_bytes / 1024, 1e-3) ** b
    if width_bits != base_width:
        energy *= 0.7 * width_bits / base_width + 0.3
    return energy


def sram_read_pj(capacity_bytes: float, width_bits: int, node_nm: float, cell: str) -> float:
    """Read energy (pJ per access) of one SRAM macro."""
    return _at_node(lambda n: _fit_read_pj(capacity_bytes, width_bits, n, cell), node_nm, "energy")


def _nearest_capacity(capacity_bytes: float) -> int:
    kb = max(capacity_bytes, 1) / 1024
    return min(range(len(CAPACITIES_KB)), key=lambda i: abs(math.log(kb / CAPACITIES_KB[i])))


def sram_write_ratio(capacity_bytes: float, node_nm: float, cell: str) -> float:
    """CACTI write/read energy ratio at the nearest tabulated capacity (§2)."""
    data_node = 45 if node_nm >= 45 else 28
    index = _nearest_capacity(capacity_bytes)
    return _WRITE_64[(data_node, cell)][index] / _READ_64[(data_node, cell)][index]


def sram_leakage_uw_per_kb(node_nm: float, cell: str) -> float:
    """Leakage (µW per KB of capacity)."""
    return _at_node(lambda n: SRAM_LEAKAGE_UW_PER_KB[(n, cell)], node_nm, "leakage")


def _table_area_mm2(capacity_bytes: float, node: int, cell: str) -> float:
    """CACTI area (mm²) of one macro at a tabulated node (45 or 28 nm)."""
    areas = SRAM_AREA_MM2[(node, cell)]
    kb = capacity_bytes / 1024
    if kb <= CAPACITIES_KB[0]:
        return areas[0] * kb / CAPACITIES_KB[0]
    if kb >= CAPACITIES_KB[-1]:
        return areas[-1] * kb / CAPACITIES_KB[-1]
    i = max(j for j in range(len(CAPACITIES_KB)) if CAPACITIES_KB[j] <= kb)
    if CAPACITIES_KB[i] == kb:
        return areas[i]
    t = math.log(kb / CAPACITIES_KB[i]) / math.log(CAPACITIES_KB[i + 1] / CAPACITIES_KB[i])
    return math.exp((1 - t) * math.log(areas[i]) + t * math.log(areas[i + 1]))


def _cacti_area_mm2(capacity_bytes: float, node: int, cell: str) -> float:
    base = _AREA_BASE_NODE[node]
    area = _table_area_mm2(capacity_bytes, base, cell)
    if base != node:
        area *= SRAM_AREA_UM2_PER_KB[(node, cell)] / SRAM_AREA_UM2_PER_KB[(base, cell)]
    return area


def sram_area_mm2(capacity_bytes: float, node_nm: float, cell: str, banks: int = 1) -> float:
    """Area (mm²) of a memory of `capacity_bytes` in `banks` equal macros."""
    if capacity_bytes <= 0:
        return 0.0
    each = capacity_bytes / banks
    return banks * _at_node(lambda n: _cacti_area_mm2(each, n, cell), node_nm, "area")
