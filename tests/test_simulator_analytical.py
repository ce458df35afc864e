"""Analytical model vs cycle model, the array evaluation of hardware variants, and
`dcsim validate`'s EIE rows.

Agreement: the closed-form model (simulator.analytical_model) within 5 % of the cycle model on
total cycles — the nine EIE layers and every AlexNet layer, across PE counts, FIFO depths and
output batches (a grid here; the full 1…256 × 1…256 grid in benchmarks/bench_analytical.py),
and over random shapes and densities (hypothesis). Exact where the model is exact: a depth-1
FIFO or one PE with every column broadcast once.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compression.recipe import load_recipe
from compression.sparse_format import encode_sparse
from simulator import analytical_layer, load_accelerator, pruned_layer, simulate_layer
from simulator.accelerator import FIELD_NAMES
from simulator.analytical_model import broadcast_items, drain_cycles
from simulator.area_table import AREA_FIELDS, build_area_table
from simulator.cycle_model import cycle_timing
from simulator.energy_table import ENERGY_FIELDS, build_energy_table
from simulator.layer_statistics import layer_statistics
from simulator.lowering import activation_stream, layer_work, output_batches
from simulator.pruned_layer import pruned_codes
from simulator.simulate import default_activations, simulate_network
from simulator.structure_walk import structure_from_codes
from simulator.validation import validation_rows
from simulator.variant_evaluation import evaluate_variants, variants_from
from workloads import get_network
from workloads.layer_spec import LayerSpec

EIE_LAYERS = ("alex-6", "alex-7", "alex-8", "vgg-6", "vgg-7", "vgg-8", "nt-we", "nt-wd", "nt-lstm")
# Deep Compression's AlexNet densities, from the shipped `paper` recipe (DESIGN §5).
ALEXNET_DENSITY = {
    name: layer.density
    for name, layer in load_recipe("paper").layer_recipes(get_network("alexnet-caffe")).items()
}


def _spec_density(spec):
    return spec.weight_density or ALEXNET_DENSITY[spec.name]


def _cycle_and_model(spec, codes, x, n_pe, depths, registers=64, index_bits=4):
    """(cycle-model drain, analytical drain) per FIFO depth, same matrix and input."""
    rows = spec.matrix_shape[0]
    work = layer_work(encode_sparse(codes, n_pe, index_bits), spec, 8, 64, registers)
    stream = activation_stream(spec, x, output_batches(rows, n_pe, registers))
    stats = layer_statistics(structure_from_codes(codes), spec, n_pe, registers, index_bits, 8, 64)
    items = broadcast_items(stats, float(np.count_nonzero(x)) / x.size)
    out = []
    for depth in depths:
        cycle = cycle_timing(work, stream, depth, 0).total_cycles
        out.append((depth, cycle, drain_cycles(stats, items, depth)))
    return out


@pytest.mark.parametrize("density", [0.0, 0.04, 0.5, 1.0])
def test_pruned_codes_keep_what_magnitude_mask_keeps(density):
    from compression.pruning import magnitude_mask

    spec = get_network("alex-8").layers[0]
    rng = np.random.default_rng(3)
    weights = rng.integers(-40, 41, spec.matrix_shape).astype(np.float32) / 8  # many ties
    expected = magnitude_mask(weights, density).astype(np.uint16)
    np.testing.assert_array_equal(pruned_codes(spec, density, weights=weights), expected)


@pytest.mark.parametrize("name", EIE_LAYERS)
def test_eie_layers_within_5_percent_across_pe_counts_and_fifo_depths(name):
    spec = get_network(name).layers[0]
    codes = pruned_codes(spec, spec.weight_density, seed=0)
    x = default_activations(spec, 1, 0, 0.5)
    worst = 0.0
    for n_pe in (1, 4, 16, 64, 256):
        for depth, cycle, model in _cycle_and_model(spec, codes, x, n_pe, (1, 2, 8, 64, 256)):
            error = model / cycle - 1
            worst = max(worst, abs(error))
            assert abs(error) < 0.05, (n_pe, depth, cycle, model)
    assert worst < 0.05


@pytest.mark.parametrize("layer", list(ALEXNET_DENSITY))
def test_alexnet_layers_within_5_percent(layer):
    spec = get_network("alexnet-caffe").layer(layer)
    codes = pruned_codes(spec, ALEXNET_DENSITY[layer], seed=0)
    x = default_activations(spec, 0 if layer == "conv1" else 1, 0, 0.5)
    for n_pe in (2, 16, 128):
        for depth, cycle, model in _cycle_and_model(spec, codes, x, n_pe, (2, 8, 256)):
            assert abs(model / cycle - 1) < 0.05, (n_pe, depth, cycle, model)


def test_output_batches_within_5_percent():
    """fc6 / fc7 on few PEs run in up to 8 batches of 64 registers."""
    net = get_network("alexnet-caffe")
    for layer, n_pe in (("fc6", 8), ("fc7", 4), ("fc8", 2)):
        spec = net.layer(layer)
        codes = pruned_codes(spec, ALEXNET_DENSITY[layer], seed=0)
        x = default_activations(spec, 1, 0, 0.5)
        assert output_batches(spec.matrix_shape[0], n_pe, 64) > 1
        for depth, cycle, model in _cycle_and_model(spec, codes, x, n_pe, (1, 4, 32)):
            assert abs(model / cycle - 1) < 0.05, (layer, n_pe, depth, cycle, model)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(64, 1500),
    cols=st.integers(1500, 4000),
    density=st.floats(0.02, 0.9),
    act_density=st.floats(0.3, 1.0),
    n_pe=st.sampled_from([1, 2, 3, 8, 16, 32, 64]),
    depth=st.sampled_from([1, 2, 3, 4, 8, 16, 64]),
    seed=st.integers(0, 1000),
)
def test_random_fc_layers_within_5_percent(rows, cols, density, act_density, n_pe, depth, seed):
    spec = LayerSpec("fc", "fc", cols, rows)
    codes = pruned_codes(spec, density, seed=seed)
    rng = np.random.default_rng(seed)
    x = (rng.random(cols) < act_density).astype(np.float32)
    ((_, cycle, model),) = _cycle_and_model(spec, codes, x, n_pe, (depth,))
    assert abs(model / cycle - 1) < 0.05, (cycle, model)


@settings(max_examples=15, deadline=None)
@given(
    out_channels=st.integers(8, 96),
    groups=st.sampled_from([1, 2]),
    density=st.floats(0.1, 0.9),
    n_pe=st.sampled_from([2, 8, 32]),
    depth=st.sampled_from([1, 2, 8, 64]),
    seed=st.integers(0, 1000),
)
def test_random_conv_layers_within_5_percent(out_channels, groups, density, n_pe, depth, seed):
    spec = LayerSpec(
        "conv",
        "conv",
        16,
        out_channels * groups,
        kernel=(3, 3),
        padding=(1, 1),
        groups=groups,
        input_hw=(24, 24),
    )
    codes = pruned_codes(spec, density, seed=seed)
    x = default_activations(spec, 1, seed, 0.5)
    ((_, cycle, model),) = _cycle_and_model(spec, codes, x, n_pe, (depth,))
    assert abs(model / cycle - 1) < 0.05, (cycle, model)


def test_exact_with_a_depth_one_fifo_or_one_pe():
    """Every column broadcast once: depth 1 is Σ_j max_p cost + 1, one PE Σ cost + 1."""
    spec = LayerSpec("fc", "fc", 700, 300)
    codes = pruned_codes(spec, 0.1, seed=1)
    x = np.ones(700, np.float32)
    for n_pe, depth in ((16, 1), (1, 8), (1, 1)):
        ((_, cycle, model),) = _cycle_and_model(spec, codes, x, n_pe, (depth,))
        assert model == pytest.approx(cycle, rel=1e-12)


def test_events_are_exact_expectations():
    """With every column broadcast once, the analytical events equal the cycle model's."""
    arch = load_accelerator("eie").replace(n_pe=8)
    spec = LayerSpec("fc", "fc", 512, 200)
    layer = pruned_layer(spec, 0.2, n_pe=8, seed=2)
    x = np.ones(512, np.float32)
    cycle = simulate_layer(layer, x, arch)
    model = simulate_layer(layer, x, arch, model="analytical")
    for action in ("sparse_sram_read", "codebook_lookup", "pointer_read", "lnzd_op"):
        assert model.events[action] == pytest.approx(cycle.events[action], rel=1e-12)
    assert model.counts.fillers == pytest.approx(cycle.counts.fillers, rel=1e-12)
    assert model.weight_bytes == cycle.weight_bytes


def test_densities_only_layer_follows_the_cycle_model():
    arch = load_accelerator("eie")
    spec = get_network("alex-7").layers[0]
    layer = pruned_layer(spec, spec.weight_density, n_pe=arch.n_pe, seed=0)
    x = default_activations(spec, 1, 0, 0.5)
    cycle = simulate_layer(layer, x, arch)
    density = float(np.count_nonzero(x)) / x.size
    model = analytical_layer(spec, spec.weight_density, density, 4, 4, arch)
    assert abs(model.total_cycles / cycle.total_cycles - 1) < 0.05
    assert abs(model.energy_j / cycle.energy_j - 1) < 0.05
    assert abs(model.weight_bytes / cycle.weight_bytes - 1) < 0.01


@pytest.fixture(scope="module")
def small_network():
    from compression import compress_network
    from compression.recipe import parse_recipe

    recipe = parse_recipe(
        {
            "kind": {
                "conv": {"density": 0.6, "weight_bits": 8},
                "fc": {"density": 0.1, "weight_bits": 5},
            }
        }
    )
    return compress_network(get_network("lenet-5"), recipe, n_pe=1, seed=0)


def test_variant_arrays_equal_the_single_point_model(small_network):
    """Every variant's arrays equal simulate_network(model="analytical") for that variant."""
    base = load_accelerator("edge-16")
    variants = variants_from(
        base,
        n_pe=[1, 4, 16],
        fifo_depth=[1, 8],
        clock_hz=[1e8, 5e8],
        sparse_sram_bytes_per_pe=[256, 65536],
    )
    _assert_variants_equal_single_points(small_network, variants)


def test_variant_arrays_follow_the_sram_and_register_axes(small_network):
    """The sweep's pointer/activation SRAM and register axes (dcsim.config.HARDWARE_OVERRIDES):
    every variant's events, energy and area equal the single-point model's, and the areas they
    size differ between variants."""
    variants = variants_from(
        load_accelerator("edge-16"),
        n_pe=[4, 16],
        pointer_sram_bytes_per_pe=[8 * 1024, 64 * 1024],
        activation_sram_bytes_per_pe=[1024, 16 * 1024],
        activation_registers_per_pe=[16, 128],
    )
    results = _assert_variants_equal_single_points(small_network, variants)
    for component in ("pointer_sram", "activation_sram", "activation_registers"):
        assert len(np.unique(results.area_mm2[component])) == 4, component  # × 2 PE counts
    assert len(np.unique(results.energy_per_event_j["pointer_read"])) == 2
    assert len(np.unique(results.energy_per_event_j["register_access"])) == 2


def _assert_variants_equal_single_points(small_network, variants):
    densities = [1.0, 0.5, 0.5, 0.5]
    results = evaluate_variants(small_network.layers, densities, variants)
    for v, arch in enumerate(variants.accelerators):
        activations = {
            layer.spec.name: d for layer, d in zip(small_network.layers, densities, strict=True)
        }
        sim = simulate_network(small_network, arch, activations, model="analytical")
        for j, result in enumerate(sim.layers):
            assert results.layers["cycles"][v, j] == pytest.approx(result.total_cycles, rel=1e-12)
            assert results.layers["latency_s"][v, j] == pytest.approx(result.latency_s, rel=1e-12)
            assert results.layers["weight_dram_bytes"][v, j] == result.weight_dram_bytes
            total = sum(results.energy_j[a][v, j] for a in results.energy_j)
            assert total == pytest.approx(result.energy_j, rel=1e-12)
            for action, count in result.events.items():
                assert results.events[action][v, j] == pytest.approx(count, rel=1e-12)
        # energy per event: exactly the single point's table (the leakage entries are divided
        # by each variant's clock with the same floating-point operations)
        for row in sim.energy_table:
            assert results.energy_per_event_j[row["action"]][v] == row["energy_pj"] * 1e-12
        # area: the same area table, component by component
        for row in sim.area_table:
            assert results.area_mm2[row["component"]][v] == row["area_mm2"]
        assert results.area_tables[results.area_table_index[v]] == sim.area_table
    return results


def test_a_leakage_override_stays_fixed_across_clocks(small_network):
    """Variants share an energy table across clocks; the leakage entries are then divided by
    each clock, but an `[energy]` override of one is a fixed energy per cycle."""
    import dataclasses

    from simulator.energy_table import CLOCK_DIVIDED_ACTIONS

    base = dataclasses.replace(
        load_accelerator("edge-16"), energy_overrides_pj=(("flop_leakage_cycle_pj", 0.25),)
    )
    variants = variants_from(base, clock_hz=[1e8, 3e8, 7e8], n_pe=[2, 8])
    results = _assert_variants_equal_single_points(small_network, variants)
    assert set(results.energy_per_event_j["flop_leakage_cycle"]) == {0.25 * 1e-12}
    assert set(CLOCK_DIVIDED_ACTIONS) == {
        "flop_leakage_cycle",
        "sram_leakage_cycle",  # the whole array's SRAM: one value per (clock, PE count)
        "arithmetic_leakage_cycle",  # one PE's: one value per clock
    }
    assert len(np.unique(results.energy_per_event_j["sram_leakage_cycle"])) == 6
    assert len(np.unique(results.energy_per_event_j["arithmetic_leakage_cycle"])) == 3


def test_energy_fields_are_all_the_table_reads():
    """Changing a field outside ENERGY_FIELDS never changes the energy table."""
    base = load_accelerator("eie")
    reference = {k: v.energy_j for k, v in build_energy_table(base).items()}
    changes = {
        "dram_bandwidth_bytes_per_s": 1e9,
        "pipeline_stages": 7,
        "pe_per_lnzd": 8,
        "codebook_entries": 256,
        "weight_index_bits": 3,
        "relative_index_bits": 3,
        "name": "other",
        "description": "x",
        "area_overrides_um2": {"sparse_sram_um2": 1.0},
    }
    assert set(changes) | set(ENERGY_FIELDS) == set(FIELD_NAMES)
    for field, value in changes.items():
        table = build_energy_table(dataclasses.replace(base, **{field: value}))
        assert {k: v.energy_j for k, v in table.items()} == reference, field
    # and every field it reads does change it (FIFO depth: the FIFO pointer comparators)
    readers = {
        "n_pe": 16,
        "clock_hz": 1e9,
        "fifo_depth": 64,
        "codebook_value_bits": 8,
        "sparse_sram_bytes_per_pe": 65536,
        "sparse_sram_word_bits": 128,
        "pointer_sram_bytes_per_pe": 65536,
        "pointer_sram_banks": 4,
        "pointer_bits": 32,
        "activation_registers_per_pe": 128,
        "activation_sram_bytes_per_pe": 4096,
        "activation_sram_word_bits": 32,
        "activation_bits": 8,
        "datapath_bits": 8,
        "technology_node_nm": 28,
        "vdd_v": 0.8,
        "sram_cell": "itrs-hp",
        "dram_energy_j_per_bit": 8e-12,
        "energy_overrides_pj": {"mac_pj": 1.0},
    }
    assert set(readers) == set(ENERGY_FIELDS)
    for field, value in readers.items():
        table = build_energy_table(dataclasses.replace(base, **{field: value}))
        assert {k: v.energy_j for k, v in table.items()} != reference, field


def test_area_fields_are_all_the_area_table_reads():
    """Changing a field outside AREA_FIELDS never changes the area table; each one in it does."""
    base = load_accelerator("eie")
    reference = {k: v.total_mm2 for k, v in build_area_table(base, 16).items()}
    unread = [f for f in FIELD_NAMES if f not in AREA_FIELDS]
    assert set(unread) == {
        "name",
        "description",
        "clock_hz",
        "weight_index_bits",
        "relative_index_bits",
        "codebook_entries",  # the codebook size is an argument: the one the network runs on
        "activation_sram_word_bits",
        "vdd_v",
        "dram_energy_j_per_bit",
        "dram_bandwidth_bytes_per_s",
        "energy_overrides_pj",
    }
    for field in unread:
        value = {"name": "x", "description": "x", "vdd_v": 1.0, "codebook_entries": 256}.get(
            field, {"energy_overrides_pj": {"mac_pj": 1.0}}.get(field)
        )
        if value is None:
            value = getattr(base, field) * 2
        table = build_area_table(dataclasses.replace(base, **{field: value}), 16)
        assert {k: v.total_mm2 for k, v in table.items()} == reference, field
    for field in AREA_FIELDS:
        value = {
            "technology_node_nm": 28,
            "sram_cell": "itrs-hp",
            "area_overrides_um2": {"fifo_um2": 1.0},
            "pointer_sram_banks": 4,
        }.get(field)
        if value is None:
            value = getattr(base, field) * 2
        table = build_area_table(dataclasses.replace(base, **{field: value}), 16)
        assert {k: v.total_mm2 for k, v in table.items()} != reference, field
    assert build_area_table(base)["codebook"] == build_area_table(base, 16)["codebook"]
    assert build_area_table(base, 256)["codebook"].area_um2 > 15 * reference["codebook"] / 64e-6


@pytest.fixture(scope="module")
def eie_rows():
    return {r["check"]: r for r in validation_rows(["eie-alexnet"])}


@pytest.mark.parametrize(
    "name",
    [
        "alex-6",
        "alex-7",
        pytest.param(
            "alex-8",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known miss (-17.7%): synthetic i.i.d. weights give 7.5 us theoretical vs "
                "EIE's 8.9 us; with 15.6 rows per PE no fillers are possible, and VGG-8 (same "
                "shape, same density product) lands at -1.2%, so the extra work is in the "
                "trained fc8 and its inputs (run `dcsim validate --weights --data` on them)",
            ),
        ),
    ],
)
def test_validate_eie_alexnet_within_15_percent(eie_rows, name):
    assert abs(eie_rows[f"{name} time"]["error_pct"]) < 15, eie_rows[f"{name} time"]
