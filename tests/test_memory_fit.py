"""On-chip fit per memory (simulator.memory_fit) and the codebook sized to the bits asked for."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.accelerator import load_accelerator
from simulator.energy_table import (
    COMPARATOR32_PJ_45,
    REGISTER_PJ_PER_BIT_45,
    build_energy_table,
    codebook_decode_bits,
    logic_scale,
)
from simulator.memory_fit import (
    MEMORY_LABELS,
    activation_need_bytes,
    activation_spill_bytes,
    memory_capacities,
    memory_fit_columns,
    streamed_bytes,
)
from simulator.pruned_layer import pruned_layer
from simulator.simulate import analytical_network, simulate_layer, simulate_network
from workloads import get_network
from workloads.layer_spec import LayerSpec


def _place_in_order(needs, capacity):
    """Plain-Python twin: fill the SRAM layer by layer, the rest of each layer streams."""
    left, out = capacity, []
    for need in needs:
        on = min(need, left)
        left -= on
        out.append(need - on)
    return out


@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=12),
    st.integers(0, 40_000),
)
def test_streamed_bytes_equals_in_order_placement(needs, capacity):
    assert streamed_bytes(needs, capacity).tolist() == _place_in_order(needs, capacity)


def test_streamed_bytes_places_many_points_at_once():
    needs = np.array([[5, 5, 5], [1, 2, 3]])
    capacity = np.array([7, 100])
    assert streamed_bytes(needs, capacity).tolist() == [[0, 3, 5], [0, 0, 0]]


def test_fit_rule_per_memory():
    caps = {"sparse_sram": 100, "pointer_sram": 10, "activation": 50}
    layer, total = memory_fit_columns([40, 50], [4, 8], [30, 20], caps)
    assert total["sparse_sram_need_bytes"] == 90 and total["pointer_sram_need_bytes"] == 12
    assert total["activation_need_bytes"] == 30  # max over layers: storage is reused
    assert total["overflow"] == "pointer SRAM" and total["fits_onchip"] is False
    assert total["binding_memory"] == "pointer SRAM"
    assert total["binding_utilization"] == pytest.approx(1.2)
    assert layer["overflow"] == ["", "pointer SRAM"]  # the second layer's pointers spill
    assert layer["fits_onchip"] == [True, False]
    _, total = memory_fit_columns([40, 50], [4, 4], [60, 20], caps)
    assert total["overflow"] == "activation storage"
    assert total["binding_memory"] == "activation storage"
    _, total = memory_fit_columns([40, 50], [4, 4], [30, 20], caps)
    assert total["overflow"] == "" and total["fits_onchip"] is True
    assert total["binding_memory"] == "sparse-matrix SRAM"  # 90 % against 80 % and 60 %
    assert total["binding_utilization"] == pytest.approx(0.9)


def test_activation_need_matches_spill():
    """need > capacity exactly when a feature map spills: 2·max(in, out) against the storage."""
    arch = load_accelerator("eie")
    for spec in get_network("alexnet-caffe").layers + get_network("lenet-300-100").layers:
        in_values = spec.in_channels * (math.prod(spec.input_hw) if spec.kind == "conv" else 1)
        out_values = math.prod(spec.output_shape)
        need = activation_need_bytes(spec, arch)
        assert need == 2 * 2 * max(in_values, out_values)  # 16-bit activations
        assert (need > arch.activation_storage_bytes) == (activation_spill_bytes(spec, arch) > 0)


def test_network_fit_agrees_with_the_columns():
    """simulate_network's fits_onchip and DRAM traffic follow the per-memory rule."""
    network = get_network("lenet-300-100")
    arch = load_accelerator("eie")
    layers = [pruned_layer(s, 0.1, n_pe=arch.n_pe, seed=0) for s in network.layers]
    sim = simulate_network(layers, arch, seed=0)
    _, total = memory_fit_columns(
        [r.sparse_bytes for r in sim.layers],
        [r.pointer_bytes for r in sim.layers],
        [activation_need_bytes(s, arch) for s in network.layers],
        memory_capacities(arch),
    )
    assert [r.weight_bytes for r in sim.layers] == [
        r.sparse_bytes + r.pointer_bytes for r in sim.layers
    ]
    assert sim.fits_onchip == total["fits_onchip"]
    # LeNet-300-100 on EIE: 785 + 301 + 101 pointers per PE fit in 32 KB, 20 % weights fit
    assert total["fits_onchip"] and sim.model_bytes_dram == 0
    small = arch.replace(pointer_sram_bytes_per_pe=1024)  # 512 pointers per PE: fc1 overflows
    sim = simulate_network(layers, small, seed=0)
    _, total = memory_fit_columns(
        [r.sparse_bytes for r in sim.layers],
        [r.pointer_bytes for r in sim.layers],
        [activation_need_bytes(s, small) for s in network.layers],
        memory_capacities(small),
    )
    assert total["overflow"] == MEMORY_LABELS["pointer_sram"]
    assert not sim.fits_onchip
    excess = total["pointer_sram_need_bytes"] - total["pointer_sram_capacity_bytes"]
    assert sim.model_bytes_dram == pytest.approx(excess)


def test_codebook_decode_bits():
    assert [codebook_decode_bits(d) for d in (1, 2, 16, 17, 256)] == [0, 2, 64, 85, 2048]


@pytest.mark.parametrize("entries", [16, 64, 256])
def test_codebook_energy_is_aladdins_register_file_rule(entries):
    """Energy of one lookup in a D-entry codebook = register read + D × comparator(log2 D b),
    computed here independently from energy-data.md §2.2/§2.4."""
    arch = load_accelerator("eie")
    table = build_energy_table(arch)
    per_lookup = (
        table["codebook_lookup"].energy_j
        + codebook_decode_bits(entries) * table["codebook_decode"].energy_j
    )
    scale = logic_scale(45, 0.9)
    expected_pj = (
        REGISTER_PJ_PER_BIT_45 * 16 + entries * COMPARATOR32_PJ_45 * math.log2(entries) / 32
    ) * scale
    assert per_lookup / 1e-12 == pytest.approx(expected_pj, rel=1e-12)


def test_codebook_sized_to_the_bits_asked_for_and_flagged():
    arch = load_accelerator("eie")  # 16-entry codebook
    spec = LayerSpec("fc", "fc", 256, 128)
    narrow = pruned_layer(spec, 0.3, n_pe=arch.n_pe, seed=1, weight_bits=4)
    wide = pruned_layer(spec, 0.3, n_pe=arch.n_pe, seed=1, weight_bits=8)
    x = np.ones(256)
    a = simulate_layer(narrow, x, arch)
    b = simulate_layer(wide, x, arch)
    assert a.codebook_fits and a.codebook_entries == 16
    assert not b.codebook_fits and b.codebook_entries == 256
    assert a.events["codebook_lookup"] == a.counts.entries
    assert a.events["codebook_decode"] == a.counts.entries * 16 * 4
    assert b.events["codebook_decode"] == b.counts.entries * 256 * 8
    # one codebook per network, sized for its widest layer
    spec2 = LayerSpec("fc2", "fc", 128, 64)
    other = pruned_layer(spec2, 0.3, n_pe=arch.n_pe, seed=2, weight_bits=2)
    sim = simulate_network([wide, other], arch, seed=0)
    assert [r.codebook_entries for r in sim.layers] == [256, 256]
    assert [r.codebook_fits for r in sim.layers] == [False, True]
    an = analytical_network([(spec, 0.3, 1.0, 8, 4), (spec2, 0.3, 0.5, 2, 4)], arch)
    assert [r.codebook_entries for r in an.layers] == [256, 256]
    assert an.layers[1].events["codebook_decode"] == an.layers[1].counts.entries * 2048
