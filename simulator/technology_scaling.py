"""Technology-node scaling of logic: energy, leakage and area factors from 45 nm to 7…180 nm.

Part of `simulator` (DESIGN §4): the energy table (`simulator.energy_table`), the SRAM model
(`simulator.sram_model`) and the area table (`simulator.area_table`) hold their logic numbers
at 45 nm and multiply them by these factors. Section numbers (§) are those of
`simulator/energy-sources.md`.

- Energy (§4): Stillmaker & Baas 2017 fit the energy of one operation at supply V as
  E(V) = a·V² + b·V + c per node; the factor from 45 nm at 0.9 V to node n at supply V is
  E_n(V) / E_HP45(0.9 V). Rows: 180, 130, 90, 65 nm and the high-performance (HP) rows
  45 … 7 nm, as tabulated in nodeScale (whose 130 … 7 nm rows agree with energy-data.md §3.1).
- Leakage (§4): the energy factor at the reference supply (0.9 V), whatever the spec's supply:
  Accelergy's library plug-in scales leakage by technology like energy and does not scale it
  by voltage (`scale_leak` in scaling.py).
- Area (§4): the Stillmaker–Baas area factors from 45 nm (nodeScale / Accelergy, identical).
- Between two tabulated nodes (28, 22, 40, 55, 12 nm …) every factor is interpolated linearly
  in nanometres between its two neighbours (*derived*; Accelergy's corrected interpolation in
  hwcomponents does the same between table entries).

`TECHNOLOGY_NODES_NM` lists the nodes a spec may name; the 180 nm energy fit is linear in V and
reaches zero at 0.73 V, so a supply at or below that is refused there (`logic_scale`).
"""

from __future__ import annotations

#: Stillmaker–Baas energy coefficients (a, b, c) of E(V) = a·V² + b·V + c, by node in nm
#: (nodeScale.py depCoeffDict; 45 … 7 nm are its HP rows).
STILLMAKER_BAAS_ENERGY: dict[int, tuple[float, float, float]] = {
    180: (0.0, 24.64, -17.98),
    130: (7.171, -6.709, 2.904),
    90: (4.762, -4.781, 2.092),
    65: (3.755, -4.398, 1.975),
    45: (1.018, -0.3107, 0.1539),
    32: (0.8367, -0.4341, 0.1701),
    20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024),
    14: (0.2363, -0.09675, 0.02239),
    10: (0.2068, -0.09311, 0.02375),
    7: (0.1776, -0.09097, 0.02447),
}
#: Stillmaker–Baas area factor from 45 nm to the node (nodeScale areaDict / Accelergy
#: AREA_SCALING, row 45 nm).
AREA_FROM_45NM: dict[int, float] = {
    180: 19.0,
    130: 6.4,
    90: 2.8,
    65: 1.5,
    45: 1.0,
    32: 0.46,
    20: 0.21,
    16: 0.19,
    14: 0.17,
    10: 0.10,
    7: 0.059,
}
TABLE_NODES_NM: tuple[int, ...] = tuple(sorted(STILLMAKER_BAAS_ENERGY, reverse=True))
#: The nodes a spec may name: the tabulated ones and common foundry nodes between them.
TECHNOLOGY_NODES_NM: tuple[int, ...] = (
    180,
    130,
    90,
    65,
    55,
    45,
    40,
    32,
    28,
    22,
    20,
    16,
    14,
    12,
    10,
    7,
)
REFERENCE_VDD_V = 0.9  # supply of Horowitz's 45 nm table (energy-sources.md §4)
REFERENCE_NODE_NM = 45


def _neighbours(node_nm: float) -> tuple[int, int, float]:
    """(larger node, smaller node, weight of the smaller one) around `node_nm`."""
    if not TABLE_NODES_NM[-1] <= node_nm <= TABLE_NODES_NM[0]:
        raise ValueError(
            f"technology_node_nm={node_nm!r} is invalid; allowed: {TABLE_NODES_NM[-1]} to "
            f"{TABLE_NODES_NM[0]} nm (the reach of the Stillmaker–Baas scaling data)"
        )
    for larger, smaller in zip(TABLE_NODES_NM, TABLE_NODES_NM[1:]):
        if smaller <= node_nm <= larger:
            return larger, smaller, (larger - node_nm) / (larger - smaller)
    return TABLE_NODES_NM[-1], TABLE_NODES_NM[-1], 0.0  # pragma: no cover


def interpolate_nodes(values: dict[int, float], node_nm: float) -> float:
    """`values` (by tabulated node) at `node_nm`, linear in nm between the neighbours."""
    if node_nm in values:
        return values[int(node_nm)]
    larger, smaller, weight = _neighbours(node_nm)
    return (1 - weight) * values[larger] + weight * values[smaller]


def _energy_factor(node: int, vdd_v: float) -> float:
    a, b, c = STILLMAKER_BAAS_ENERGY[node]
    return a * vdd_v**2 + b * vdd_v + c


def logic_scale(node_nm: float, vdd_v: float) -> float:
    """Stillmaker–Baas energy factor from HP45 at 0.9 V to `node_nm` at `vdd_v`; a one-line
    ValueError where the fit gives no positive energy (180 nm at or below 0.73 V)."""
    larger, smaller, weight = _neighbours(node_nm)
    target = (1 - weight) * _energy_factor(larger, vdd_v) + weight * _energy_factor(smaller, vdd_v)
    if not target > 0:
        raise ValueError(
            f"vdd_v={vdd_v!r} is invalid at technology_node_nm={node_nm}; allowed: a supply "
            "where the Stillmaker–Baas energy fit of the node is positive (180 nm: above 0.73 V)"
        )
    return target / _energy_factor(REFERENCE_NODE_NM, REFERENCE_VDD_V)


def leakage_scale(node_nm: float) -> float:
    """Leakage factor from 45 nm to `node_nm`: the energy factor at the reference supply."""
    return logic_scale(node_nm, REFERENCE_VDD_V)


def area_scale(node_nm: float) -> float:
    """Stillmaker–Baas area factor from 45 nm to `node_nm`."""
    return interpolate_nodes(AREA_FROM_45NM, node_nm)
