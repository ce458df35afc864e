"""Accelerator spec validation, energy table, energy = Σ events × table, network API."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim.cli import main
from simulator import (
    load_accelerator,
    pruned_layer,
    simulate_layer,
    simulate_network,
)
from simulator.accelerator import accelerator_from_dict
from simulator.energy_table import COMPONENTS, build_energy_table
from workloads import get_network
from workloads.layer_spec import LayerSpec
from workloads.synthetic import synthetic_layer_input


def test_presets_load():
    eie = load_accelerator("eie")
    assert (eie.n_pe, eie.clock_hz, eie.fifo_depth, eie.entry_bits) == (64, 800e6, 8, 8)
    edge = load_accelerator("edge-16")
    assert (edge.n_pe, edge.technology_node_nm, edge.sparse_sram_bytes_per_pe) == (16, 28, 65536)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"n_pes": 4}, "n_pes"),
        ({"n_pe": 0}, "n_pe"),
        ({"fifo_depth": 2.5}, "fifo_depth"),
        ({"sram_cell": "magic"}, "sram_cell"),
        ({"technology_node_nm": 5}, "technology_node_nm"),
        ({"technology_node_nm": 250}, "technology_node_nm"),
        ({"technology_node_nm": 180, "vdd_v": 0.7}, "vdd_v"),
        ({"energy": {"sram_read_pj": 1.0}}, "sram_read_pj"),
        ({"energy": {"mac_pj": -1.0}}, "mac_pj"),
        ({"area": {"fifo_um2": float("nan")}}, "fifo_um2"),
        ({"area": {"fifo": 1.0}}, "fifo"),
        ({"energy": 3}, "energy"),
        ({"clock_hz": -1.0}, "clock_hz"),
    ],
)
def test_spec_validation_errors(data, field):
    with pytest.raises(ValueError) as info:
        accelerator_from_dict(data)
    message = str(info.value)
    assert field in message and "allowed" in message and "\n" not in message


def test_bad_toml_file(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('n_pe = 4\nsram_cell = "x"\n')
    assert main(["energy-table", "--arch", str(path)]) == 2
    assert "sram_cell" in capsys.readouterr().err


def test_energy_table_scales_with_node():
    eie = build_energy_table(load_accelerator("eie"))
    edge = build_energy_table(load_accelerator("edge-16"))
    assert math.isclose(eie["mac"].energy_j, 0.67e-12)
    assert edge["mac"].energy_j < eie["mac"].energy_j
    assert edge["sparse_sram_read"].energy_j < eie["sparse_sram_read"].energy_j
    assert all(e.source and e.formula for e in eie.values())


def test_energy_is_events_times_table():
    arch = load_accelerator("eie")
    spec = LayerSpec("fc", "fc", 512, 300)
    layer = pruned_layer(spec, 0.1, n_pe=64)
    result = simulate_layer(layer, synthetic_layer_input(spec, 0.4, 0), arch)
    table = build_energy_table(arch)
    total = sum(count * table[action].energy_j for action, count in result.events.items())
    assert math.isclose(result.energy_j, total, rel_tol=1e-12)
    assert set(result.energy_by_component_j) == set(COMPONENTS)
    assert result.events["mac"] == result.counts.entries
    assert result.total_cycles >= result.ideal_cycles


def test_network_api_deterministic_and_dram_overflow():
    network = get_network("lenet-300-100")
    layers = [pruned_layer(s, 0.1, n_pe=16, seed=0) for s in network.layers]
    edge = load_accelerator("edge-16")
    tiny = edge.replace(sparse_sram_bytes_per_pe=256)
    a = simulate_network(layers, edge, seed=3)
    b = simulate_network(layers, edge, seed=3)
    assert a.latency_s == b.latency_s and a.energy_j == b.energy_j
    assert a.fits_onchip and a.model_bytes_dram == 0
    c = simulate_network(layers, tiny, seed=3)
    assert not c.fits_onchip and c.model_bytes_dram > 0
    assert c.energy_by_component_j["dram"] > 0 and c.energy_j > a.energy_j
    assert c.rows()[-1]["layer"] == "total" and c.rows()[-1]["fps"] > 0


def test_n_pe_mismatch_is_an_error():
    spec = LayerSpec("fc", "fc", 64, 32)
    layer = pruned_layer(spec, 0.5, n_pe=8)
    with pytest.raises(ValueError, match="n_pe"):
        simulate_layer(layer, np.ones(64, np.float32), load_accelerator("eie"))


def test_cli_simulate_fc_and_energy_table(capsys):
    assert (
        main(
            [
                "simulate",
                "--fc",
                "256",
                "128",
                "--weight-density",
                "0.2",
                "--act-density",
                "0.5",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("layer,cycles,ideal_cycles,load_balance,latency_us,energy_uj")
    assert main(["energy-table", "--arch", "edge-16", "--format", "csv"]) == 0
    assert "sparse_sram_read" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("clock_hz = inf\n", "clock_hz=inf is invalid; allowed: a finite number > 0"),
        ("clock_hz = nan\n", "clock_hz=nan"),
        ("dram_bandwidth_bytes_per_s = inf\n", "dram_bandwidth_bytes_per_s=inf"),
        ("dram_energy_j_per_bit = inf\n", "dram_energy_j_per_bit=inf"),
        ("dram_energy_j_per_bit = nan\n", "dram_energy_j_per_bit=nan"),
        ("vdd_v = nan\n", "vdd_v=nan"),
        ("n_pe = 1000000000\n", "n_pe=1000000000 is invalid; allowed: an integer in [1, 4,096]"),
        ("fifo_depth = 1000000000\n", "fifo_depth=1000000000"),
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        ("n_pe = \n", "is not valid TOML"),
    ],
)
def test_accelerator_files_refuse_non_finite_oversized_and_empty(tmp_path, text, fragment):
    path = tmp_path / "arch.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load_accelerator(path)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_accelerator_file_errors_name_the_file(tmp_path):
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'description = "\xe9"\n')
    with pytest.raises(ValueError, match=r"latin1.toml' is not UTF-8 text \(byte 0xe9"):
        load_accelerator(latin1)
    folder = tmp_path / "arch.toml"
    folder.mkdir()
    with pytest.raises(ValueError, match="arch.toml' is a directory"):
        load_accelerator(folder)
    with pytest.raises(ValueError, match="does not exist"):
        load_accelerator(tmp_path / "absent.toml")
