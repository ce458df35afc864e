"""Analytical model vs cycle model (within 5% on total cycles) and `dcsim validate`."""

from __future__ import annotations

import numpy as np
import pytest

from compression.recipe import load_recipe
from simulator import analytical_layer, load_accelerator, pruned_layer, simulate_layer
from simulator.simulate import default_activations
from simulator.validation import validation_rows
from workloads import get_network

EIE_LAYERS = ("alex-6", "alex-7", "alex-8", "vgg-6", "vgg-7", "vgg-8", "nt-we", "nt-wd", "nt-lstm")
# Deep Compression's AlexNet densities, from the shipped `paper` recipe (DESIGN §5).
ALEXNET_DENSITY = {
    name: layer.density
    for name, layer in load_recipe("paper").layer_recipes(get_network("alexnet-caffe")).items()
}


def _specs():
    specs = [get_network(name).layers[0] for name in EIE_LAYERS]
    return specs + list(get_network("alexnet-caffe").layers)


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_analytical_within_5_percent_of_cycle_model(spec):
    arch = load_accelerator("eie")
    density = spec.weight_density or ALEXNET_DENSITY[spec.name]
    layer = pruned_layer(spec, density, n_pe=arch.n_pe, seed=0)
    x = default_activations(spec, 0 if spec.name == "conv1" else 1, 0, 0.5)
    cycle = simulate_layer(layer, x, arch)
    act_density = np.count_nonzero(x) / x.size
    analytical = analytical_layer(
        spec, layer.sparse.n_nonzeros / spec.weights, act_density, 4, 4, arch
    )
    assert abs(analytical.total_cycles / cycle.total_cycles - 1) < 0.05
    assert abs(analytical.energy_j / cycle.energy_j - 1) < 0.05


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
