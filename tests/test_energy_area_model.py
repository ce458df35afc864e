"""Energy and area tables reproduce their formulas from the sourced constants (recomputed here
from energy-sources.md's numbers, not by the code under test), overrides take effect and are
labelled "user", energy = Σ events × table, area = Σ components, nodes 7…180 nm."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.cli import main
from simulator import load_accelerator, pruned_layer, simulate_layer, simulate_network
from simulator.accelerator import TECHNOLOGY_NODES_NM
from simulator.area_table import AREA_COMPONENTS, area_mm2, build_area_table
from simulator.energy_table import ACTIONS, build_energy_table, references
from simulator.pe_structure import lnzd_nodes
from workloads import get_network
from workloads.layer_spec import LayerSpec
from workloads.synthetic import synthetic_layer_input

PJ = 1e-12


def sb(row: tuple[float, float, float], v: float) -> float:
    """Stillmaker–Baas E(V) = a·V² + b·V + c (energy-sources.md §4)."""
    a, b, c = row
    return a * v * v + b * v + c


HP45 = (1.018, -0.3107, 0.1539)
HP32 = (0.8367, -0.4341, 0.1701)
HP20 = (0.373, -0.1582, 0.04104)
HP7 = (0.1776, -0.09097, 0.02447)
N65 = (3.755, -4.398, 1.975)
N90 = (4.762, -4.781, 2.092)
E45 = sb(HP45, 0.9)
E28 = (2 / 3) * sb(HP32, 0.9) + (1 / 3) * sb(HP20, 0.9)  # linear in nm between 32 and 20


def pj(table, action):
    return table[action].energy_j / PJ


def test_eie_energy_table_reproduces_its_formulas():
    t = build_energy_table(load_accelerator("eie"))
    assert pj(t, "mac") == pytest.approx(0.62 + 0.05, rel=1e-12)
    # Aladdin register file: one 16-b word + 64 × comparator(6 b), comparators 0.029 pJ / 32 b
    assert pj(t, "register_access") == pytest.approx(0.009 * 16 + 0.029 / 32 * 64 * 6, rel=1e-12)
    # Aladdin FIFO: one 32-b entry + comparator(log2 8 = 3 b)
    assert pj(t, "fifo_access") == pytest.approx(0.009 * 32 + 0.029 / 32 * 3, rel=1e-12)
    assert pj(t, "register_bit") == pytest.approx(0.009, rel=1e-12)
    # ZigZag 28 nm DFF: 3 × 0.7 fF at 0.9 V, scaled 28 nm → 45 nm by Stillmaker–Baas
    assert pj(t, "clock_bit") == pytest.approx(2.1e-3 * 0.81 * E45 / E28, rel=1e-12)
    # leakage per cycle at 800 MHz: flip-flop 7e-5 mW; multiplier 0.08 mW·(16/32)²,
    # adders 0.0023 mW·(16 + 6)/32; SRAM 0.029 µW/KB × 162 KB × 64 PEs
    assert t["flop_leakage_cycle"].energy_j == pytest.approx(7e-8 / 800e6, rel=1e-12)
    assert t["arithmetic_leakage_cycle"].energy_j == pytest.approx(
        (0.08 * 0.25 + 0.0023 * 22 / 32) * 1e-3 / 800e6, rel=1e-12
    )
    assert t["sram_leakage_cycle"].energy_j == pytest.approx(0.029e-6 * 162 * 64 / 800e6, rel=1e-12)
    # CACTI 7 fits (45 nm lstp): 128 KB 64-b port; pointer banks 16 KB at 16 b from the
    # 32-b fit with the width rule 0.7·w/w0 + 0.3, both banks read
    assert pj(t, "sparse_sram_read") == pytest.approx(1.85 * 128**0.58, rel=1e-12)
    assert pj(t, "pointer_read") == pytest.approx(
        2 * 1.51 * 16**0.56 * (0.7 * 16 / 32 + 0.3), rel=1e-12
    )
    assert pj(t, "dram_bit") == pytest.approx(20.0, rel=1e-12)


def test_logic_and_sram_scale_to_nodes_outside_cacti():
    eie = load_accelerator("eie")
    at = {n: build_energy_table(eie.replace(technology_node_nm=n)) for n in (7, 16, 40, 90)}
    # logic: Stillmaker–Baas rows, vdd unchanged (0.9 V)
    assert pj(at[7], "mac") == pytest.approx(0.67 * sb(HP7, 0.9) / E45, rel=1e-12)
    assert pj(at[90], "mac") == pytest.approx(0.67 * sb(N90, 0.9) / E45, rel=1e-12)
    # SRAM below 22 nm: Accelergy CACTI rule, the 22 nm fit × (node / 22)^0.5
    assert pj(at[16], "sparse_sram_read") == pytest.approx(
        0.43 * 128**0.58 * math.sqrt(16 / 22), rel=1e-12
    )
    # above 65 nm: the 65 nm fit × the Stillmaker–Baas factor 65 → 90 nm at 0.9 V
    assert pj(at[90], "sparse_sram_read") == pytest.approx(
        2.99 * 128**0.60 * sb(N90, 0.9) / sb(N65, 0.9), rel=1e-12
    )
    # between CACTI nodes: linear in nm (40 nm: 5/13 of the way from 45 to 32 nm)
    e45, e32 = 1.85 * 128**0.58, 0.99 * 128**0.58
    assert pj(at[40], "sparse_sram_read") == pytest.approx(e45 + (e32 - e45) * 5 / 13, rel=1e-12)
    assert pj(at[7], "sram_leakage_cycle") == pytest.approx(
        pj(
            build_energy_table(eie.replace(technology_node_nm=22)),
            "sram_leakage_cycle",
        )
        * math.sqrt(7 / 22)
        * 0.79,
        rel=1e-12,
    )


def test_edge16_scales_logic_and_clock_from_28nm():
    t = build_energy_table(load_accelerator("edge-16"))
    assert pj(t, "register_bit") == pytest.approx(0.009 * E28 / E45, rel=1e-12)
    assert pj(t, "clock_bit") == pytest.approx(2.1e-3 * 0.81, rel=1e-12)  # ZigZag's own node


def test_eie_area_table_reproduces_its_formulas():
    t = build_area_table(load_accelerator("eie"))
    um2 = {c: e.area_um2 for c, e in t.items()}
    # CACTI 7, 45 nm lstp: 128 KB; 16 KB banks: log-log between 8 KB and 32 KB; 2 KB
    assert um2["sparse_sram"] == pytest.approx(0.43e6, rel=1e-12)
    assert um2["pointer_sram"] == pytest.approx(2 * math.sqrt(0.0263 * 0.0949) * 1e6, rel=1e-9)
    assert um2["activation_sram"] == pytest.approx(0.00754e6, rel=1e-12)
    # Aladdin: 5.98 µm²/bit, comparator 71 µm² per 32 b, multiplier 6,350 µm², adder 278 µm²
    assert um2["codebook"] == pytest.approx(16 * 16 * 5.98 + 16 * 71 * 4 / 32, rel=1e-12)
    assert um2["multiplier"] == pytest.approx(6350 / 4, rel=1e-12)
    assert um2["adders"] == pytest.approx(278 * (16 + 6) / 32, rel=1e-12)
    assert um2["pipeline_registers"] == pytest.approx((4 * 2 * 16 + 6) * 5.98, rel=1e-12)
    assert um2["activation_registers"] == pytest.approx(
        2 * (64 * 16 * 5.98 + 64 * 71 * 6 / 32), rel=1e-12
    )
    assert um2["fifo"] == pytest.approx((8 * 32 + 2 * 3) * 5.98 + 71 * 3 / 32, rel=1e-12)
    assert um2["sparse_registers"] == pytest.approx((64 + 16) * 5.98, rel=1e-12)
    assert um2["pointer_registers"] == pytest.approx(32 * 5.98, rel=1e-12)
    assert um2["lnzd"] == pytest.approx(4 * 71 * 16 / 32, rel=1e-12)
    assert t["lnzd"].instances == 21  # 16 + 4 + 1 nodes (EIE §VI)
    assert all(t[c].instances == 64 for c in AREA_COMPONENTS if c != "lnzd")


def test_area_scales_with_node():
    eie = load_accelerator("eie")

    def area(node, component):
        return build_area_table(eie.replace(technology_node_nm=node))[component].area_um2

    base = area(45, "multiplier")
    assert area(28, "multiplier") == pytest.approx(base * (0.46 - 0.25 * 4 / 12), rel=1e-12)
    assert area(180, "multiplier") == pytest.approx(base * 19, rel=1e-12)
    assert area(7, "multiplier") == pytest.approx(base * 0.059, rel=1e-12)
    # SRAM: 65 nm = 45 nm table × CACTI's area per KB (6,700 / 3,250, lstp); 64 KB at 28 nm
    # log-log between 32 and 128 KB; below 22 nm × node/22; above 65 nm × 19 / 1.5
    assert area(65, "sparse_sram") == pytest.approx(0.43e6 * 6700 / 3250, rel=1e-12)
    edge = build_area_table(load_accelerator("edge-16"))
    assert edge["sparse_sram"].area_um2 == pytest.approx(math.sqrt(0.0432 * 0.193) * 1e6, rel=1e-9)
    a22 = 0.193e6 * 865 / 1400
    assert area(22, "sparse_sram") == pytest.approx(a22, rel=1e-12)
    assert area(16, "sparse_sram") == pytest.approx(a22 * 16 / 22, rel=1e-12)
    assert area(180, "sparse_sram") == pytest.approx(0.43e6 * 6700 / 3250 * 19 / 1.5, rel=1e-12)


def test_every_area_entry_cites_a_reference_of_the_shipped_document():
    citations = references().values()
    for node in (180, 45, 28, 7):
        for entry in build_area_table(
            load_accelerator("eie").replace(technology_node_nm=node)
        ).values():
            assert entry.formula and any(c in entry.source for c in citations), entry.component


@pytest.mark.parametrize("node", TECHNOLOGY_NODES_NM)
def test_every_node_builds_finite_positive_tables(node):
    arch = load_accelerator("eie").replace(technology_node_nm=node, vdd_v=1.0)
    energies = [e.energy_j for e in build_energy_table(arch).values()]
    assert all(math.isfinite(e) and e > 0 for e in energies)
    assert 0 < area_mm2(arch) < math.inf


def test_nodes_beyond_the_scaling_data_and_bad_supplies_are_refused(capsys, tmp_path):
    for text, field in (
        ("technology_node_nm = 5", "technology_node_nm"),
        ("technology_node_nm = 250", "technology_node_nm"),
        ("technology_node_nm = 180\nvdd_v = 0.7", "vdd_v"),
    ):
        path = tmp_path / "bad.toml"
        path.write_text(text + "\n")
        assert main(["area-table", "--arch", str(path)]) == 2
        err = capsys.readouterr().err
        assert field in err and "allowed" in err and len(err.splitlines()) == 1


OVERRIDES = """
name = "mine"
[energy]
sparse_sram_read_pj = 25.0
clock_bit_pj = 0.0
[area]
sparse_sram_um2 = 400000.0
"""


@pytest.fixture
def override_file(tmp_path):
    base = load_accelerator("eie").to_dict()
    lines = [
        f"{k} = {json.dumps(v)}"
        for k, v in base.items()
        if k not in ("name", "energy_overrides_pj", "area_overrides_um2")
    ]
    path = tmp_path / "mine.toml"
    path.write_text("\n".join(lines) + "\n" + OVERRIDES)
    return path


def test_overrides_take_effect_and_are_labelled_user(override_file, capsys):
    arch = load_accelerator(str(override_file))
    eie = load_accelerator("eie")
    energy = build_energy_table(arch)
    assert energy["sparse_sram_read"].energy_j == pytest.approx(25e-12)
    assert energy["clock_bit"].energy_j == 0.0
    assert energy["sparse_sram_read"].source == "user" == energy["clock_bit"].source
    untouched = build_energy_table(eie)
    assert all(
        energy[a] == untouched[a] for a in ACTIONS if a not in ("sparse_sram_read", "clock_bit")
    )
    area = build_area_table(arch)
    assert area["sparse_sram"].area_um2 == 400000.0 and area["sparse_sram"].source == "user"
    assert area_mm2(arch) == pytest.approx(
        area_mm2(eie) + 64 * (400000.0 - 430000.0) * 1e-6, rel=1e-12
    )
    # the simulation uses them: energy = Σ events × the overridden table
    spec = LayerSpec("fc", "fc", 512, 300)
    layer = pruned_layer(spec, 0.1, n_pe=64)
    x = synthetic_layer_input(spec, 0.4, 0)
    mine, base = simulate_layer(layer, x, arch), simulate_layer(layer, x, eie)
    assert mine.events == base.events
    assert mine.energy_by_component_j["sparse_sram"] == pytest.approx(
        mine.events["sparse_sram_read"] * 25e-12, rel=1e-12
    )
    assert mine.energy_by_component_j["clock"] == 0.0
    # the overrides survive a round trip through the spec's dict, and the CLI labels them
    from simulator.accelerator import accelerator_from_dict

    assert accelerator_from_dict(arch.to_dict()) == arch
    assert main(["energy-table", "--arch", str(override_file), "--format", "json"]) == 0
    rows = {r["action"]: r for r in json.loads(capsys.readouterr().out)}
    assert (
        rows["sparse_sram_read"]["source"] == "user"
        and rows["sparse_sram_read"]["energy_pj"] == 25.0
    )
    assert main(["area-table", "--arch", str(override_file), "--format", "json"]) == 0
    rows = {r["component"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["sparse_sram"]["source"] == "user"
    assert rows["total"]["area_mm2"] == pytest.approx(area_mm2(arch), rel=1e-12)


def test_area_table_cli_total_and_codebook_size(capsys):
    assert (
        main(["area-table", "--arch", "eie", "--format", "csv", "--codebook-entries", "256"]) == 0
    )
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    parts = [r for r in rows if r["component"] != "total"]
    total = next(r for r in rows if r["component"] == "total")
    assert float(total["area_mm2"]) == pytest.approx(sum(float(r["area_mm2"]) for r in parts))
    codebook = next(r for r in parts if r["component"] == "codebook")
    assert float(codebook["area_um2"]) == pytest.approx(256 * 16 * 5.98 + 256 * 71 * 8 / 32)
    assert main(["area-table", "--codebook-entries", "0"]) == 2
    assert "--codebook-entries" in capsys.readouterr().err


@settings(max_examples=40, deadline=None)
@given(
    n_pe=st.sampled_from([1, 3, 16, 64, 256]),
    fifo=st.sampled_from([1, 2, 8, 100]),
    registers=st.sampled_from([1, 16, 64, 200]),
    sparse_kb=st.sampled_from([0.5, 3, 64, 128, 2048]),
    banks=st.sampled_from([1, 2, 4]),
    act_kb=st.sampled_from([0, 1, 2, 16]),
    node=st.sampled_from(TECHNOLOGY_NODES_NM),
    cell=st.sampled_from(["itrs-hp", "itrs-lstp"]),
    codebook=st.sampled_from([2, 16, 256]),
)
def test_area_is_the_sum_of_its_components(
    n_pe, fifo, registers, sparse_kb, banks, act_kb, node, cell, codebook
):
    arch = load_accelerator("eie").replace(
        n_pe=n_pe,
        fifo_depth=fifo,
        activation_registers_per_pe=registers,
        sparse_sram_bytes_per_pe=int(sparse_kb * 1024),
        pointer_sram_banks=banks,
        activation_sram_bytes_per_pe=int(act_kb * 1024),
        technology_node_nm=node,
        sram_cell=cell,
        vdd_v=1.0,
    )
    table = build_area_table(arch, codebook)
    assert list(table) == list(AREA_COMPONENTS)
    total = sum(e.instances * e.area_um2 for e in table.values()) * 1e-6
    assert area_mm2(arch, codebook) == pytest.approx(total, rel=1e-12)
    assert all(e.area_um2 >= 0 and math.isfinite(e.area_um2) for e in table.values())
    assert table["lnzd"].instances == int(lnzd_nodes(n_pe, arch.pe_per_lnzd))
    bigger = build_area_table(
        arch.replace(sparse_sram_bytes_per_pe=arch.sparse_sram_bytes_per_pe * 2), codebook
    )
    assert bigger["sparse_sram"].area_um2 > table["sparse_sram"].area_um2


def test_lnzd_tree_nodes():
    assert lnzd_nodes(64, 4) == 21 and lnzd_nodes(256, 4) == 64 + 16 + 4 + 1
    assert lnzd_nodes(1, 4) == 1 and lnzd_nodes(5, 4) == 2 + 1 and lnzd_nodes(7, 1) == 7


def test_activation_path_and_clock_events_as_eie_does_them():
    """4 PEs × 8 registers hold 32 source activations: a 100-input layer reads 32/100 of its
    scanned inputs from registers and the rest from 64-b SRAM words; its 50 outputs exceed the
    32 destination registers, so they are written back to SRAM (and read from registers)."""
    arch = load_accelerator("eie").replace(n_pe=4, activation_registers_per_pe=8, fifo_depth=4)
    spec = LayerSpec("fc", "fc", 100, 50)
    layer = pruned_layer(spec, 0.3, n_pe=4, seed=1)
    result = simulate_layer(layer, synthetic_layer_input(spec, 0.5, 1), arch)
    counts, ev = result.counts, result.events
    batches = math.ceil(math.ceil(50 / 4) / 8)
    assert counts.scanned_activations == 100 * batches
    from_registers = counts.scanned_activations * 32 / 100
    assert ev["activation_sram_read"] == math.ceil(
        (counts.scanned_activations - from_registers) * 16 / 64
    )
    assert ev["activation_sram_write"] == math.ceil(50 * 16 / 64)
    assert ev["register_access"] == pytest.approx(2 * counts.entries + from_registers + 50)
    # clock: free-running flip-flops of 4 PEs every cycle — SRAM word + pointer (64 + 16),
    # pointer pair (32), pipeline 4 × 2 × 16 + address 3, FIFO head/tail 2 × 2 — plus the
    # destination word written per entry (16) and a FIFO entry per push (32)
    free = (64 + 16) + 32 + (128 + 3) + 4
    assert ev["clock_bit"] == pytest.approx(
        free * 4 * result.total_cycles + 16 * counts.entries + 32 * counts.broadcasts * 4
    )
    assert ev["register_bit"] == pytest.approx(
        counts.sram_words * 64
        + counts.entries * (16 + 128 + 3)
        + counts.broadcasts * 4 * (2 * 16 + 2 * 2)
    )
    flops = free + 16 * 16 + 2 * 8 * 16 + 4 * 32
    cycles = result.latency_s * arch.clock_hz
    assert ev["flop_leakage_cycle"] == pytest.approx(flops * 4 * cycles)
    assert ev["arithmetic_leakage_cycle"] == pytest.approx(4 * cycles)
    # small layer on EIE: inputs in the source registers, outputs stay in the destination ones
    spec = LayerSpec("fc", "fc", 512, 300)
    small = simulate_layer(
        pruned_layer(spec, 0.1, n_pe=64), synthetic_layer_input(spec, 0.4, 0), "eie"
    )
    assert small.events["activation_sram_read"] == small.events["activation_sram_write"] == 0


def test_network_result_reports_area_power_and_efficiency():
    layers = [pruned_layer(s, 0.1, n_pe=16, seed=0) for s in get_network("lenet-300-100").layers]
    sim = simulate_network(layers, "edge-16", seed=0)
    arch = load_accelerator("edge-16")
    assert sim.area_mm2 == pytest.approx(sum(r["area_mm2"] for r in sim.area_table), rel=1e-12)
    assert sim.area_mm2 == pytest.approx(area_mm2(arch, 16), rel=1e-12)
    total = sim.rows()[-1]
    assert total["power_mw"] == pytest.approx(sim.energy_j / sim.latency_s * 1e3)
    assert total["fps_per_mm2"] == pytest.approx(sim.fps / sim.area_mm2)
    assert total["frames_per_j"] == pytest.approx(1 / sim.energy_j)
    macs = sum(s.macs for s in get_network("lenet-300-100").layers)
    assert total["tops_per_w_dense"] == pytest.approx(2 * macs / sim.energy_j / 1e12)
    assert np.isnan(sim.rows()[0]["area_mm2"])  # layer rows: not a layer's property
