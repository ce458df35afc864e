"""The synthetic EIE benchmark layers the validation checks simulate, shared between checks.

Part of `simulator` (DESIGN §5), beneath the checks of `simulator.validation` and
`simulator.eie_table2`: the single-layer EIE benchmarks (`workloads.networks`, EIE Table III)
with a uniformly random pattern at their published weight density (what pruning synthetic
i.i.d. weights keeps, drawn directly: `simulator.pruned_layer.uniform_pattern_rows`) and
synthetic activations at their published densities, simulated with the cycle model. Within one
`validation_rows` call the checks share what they simulate (the same Alex-7 serves the FIFO
sweep and, re-encoded, the PE sweep; Alex-6/7/8 serve both the timing and the Table II power
checks); `clear_shared_layers` empties the caches at the end of the call.
"""

from __future__ import annotations

import functools

import numpy as np

from simulator.pruned_layer import PrunedLayer, pruned_layer, uniform_pattern_rows
from simulator.simulate import simulate_layer
from workloads import get_network
from workloads.synthetic import synthetic_layer_input

#: The EIE AlexNet layers (EIE Table IV's Alex-6/7/8): the timing gate and the layers whose
#: average power is compared with Table II.
EIE_ALEXNET = ("alex-6", "alex-7", "alex-8")


@functools.cache
def _eie_rows(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    spec = get_network(name).layers[0]
    return uniform_pattern_rows(spec, spec.weight_density, seed=seed)


@functools.cache
def _eie_layer(name: str, n_pe: int, seed: int) -> PrunedLayer:
    """Layer `name`'s pattern (`_eie_rows`, shared across N) encoded for n_pe PEs."""
    spec = get_network(name).layers[0]
    return pruned_layer(spec, spec.weight_density, n_pe=n_pe, rows=_eie_rows(name, seed))


@functools.cache
def _eie_input(name: str, seed: int) -> np.ndarray:
    spec = get_network(name).layers[0]
    return synthetic_layer_input(spec, spec.activation_density, seed)


@functools.cache
def eie_layer_result(name: str, arch, seed: int):
    """The cycle model's `LayerResult` of EIE layer `name` on `arch` (synthetic at its
    published densities, `seed`); cached until `clear_shared_layers`."""
    return simulate_layer(_eie_layer(name, arch.n_pe, seed), _eie_input(name, seed), arch)


def clear_shared_layers() -> None:
    """Forget the layers, inputs and results shared within one `validation_rows` call."""
    for cached in (_eie_rows, _eie_layer, _eie_input, eie_layer_result):
        cached.cache_clear()
