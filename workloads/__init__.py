"""workloads: what runs — layer shapes, networks, torch models, datasets, weights, activations.

First stage of the dcsim flow (DESIGN §1). Imports none of the other dcsim packages.
"""

from workloads.layer_spec import LayerKind, LayerSpec
from workloads.model_source import load_network
from workloads.networks import NETWORK_NAMES, Network, UnknownNetworkError, get_network

__all__ = [
    "LayerKind",
    "LayerSpec",
    "NETWORK_NAMES",
    "Network",
    "UnknownNetworkError",
    "get_network",
    "load_network",
]
