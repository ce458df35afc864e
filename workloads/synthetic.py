"""Seeded synthetic weights and activations, for when only shapes are known.

Part of `workloads` (DESIGN §2). Real weights come from training (the accuracy stage) or from
a user's file; synthetic ones let the compression and simulation stages run on any network
shape. Every generator is deterministic in its `seed`; per-layer streams are derived from the
seed *and* the layer name, so adding or reordering layers does not change another layer's
weights.

Distributions (documented, so results can be reproduced elsewhere)
- weights, `normal` (default): i.i.d. N(0, σ²) with σ = sqrt(2 / fan_in) (He et al. 2015),
  fan_in = in_channels / groups × kernel_h × kernel_w for conv, in_features for fc/lstm.
  Trained networks' weights are bell-shaped around zero with about this spread.
- weights, `laplace`: i.i.d. Laplace(0, b) with the same standard deviation (b = σ / √2);
  heavier tails, closer to trained fc layers.
- input densities (`synthetic_input_densities`): a layer's published activation density where
  it has one, else the density that flows through the network's graph from ReLU outputs at a
  given density (`workloads.graph`);
- activations: exactly round(density × n) non-zero entries at uniformly random positions, each
  |N(0, 1)| (half-normal, as after a ReLU); every other entry is exactly zero.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from workloads.layer_spec import LayerSpec
from workloads.network import Network

WEIGHT_DISTRIBUTIONS: tuple[str, ...] = ("normal", "laplace")


def layer_rng(seed: int, key: str) -> np.random.Generator:
    """A generator for one named stream, derived from `seed` and a stable hash of `key`."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed={seed!r} is invalid; allowed: an integer >= 0")
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(key.encode())]))


def fan_in(layer: LayerSpec) -> int:
    """Inputs feeding one output: the number of columns of the layer's weight matrix."""
    return layer.matrix_shape[1]


def synthetic_weights(layer: LayerSpec, seed: int = 0, distribution: str = "normal") -> np.ndarray:
    """float32 weights of `layer.weight_shape`, drawn as documented in the module docstring."""
    if distribution not in WEIGHT_DISTRIBUTIONS:
        raise ValueError(
            f"distribution={distribution!r} is invalid; allowed: {', '.join(WEIGHT_DISTRIBUTIONS)}"
        )
    rng = layer_rng(seed, f"weights/{layer.name}")
    std = math.sqrt(2.0 / fan_in(layer))
    if distribution == "normal":
        values = rng.standard_normal(layer.weights, dtype=np.float32)
        values *= np.float32(std)  # in place: the same float32 products, no second array
    else:
        values = rng.laplace(0.0, std / math.sqrt(2.0), layer.weights).astype(np.float32)
    return values.reshape(layer.weight_shape)


def _check_density(density: float) -> float:
    if not isinstance(density, int | float) or not (0.0 <= float(density) <= 1.0):
        raise ValueError(f"density={density!r} is invalid; allowed: a number in [0, 1]")
    return float(density)


def synthetic_activations(
    shape: int | tuple[int, ...], density: float, seed: int = 0, key: str = "activations"
) -> np.ndarray:
    """float32 activations of `shape` with exactly round(density × size) non-zeros (half-normal)."""
    density = _check_density(density)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    size = math.prod(shape)
    rng = layer_rng(seed, key)
    count = int(round(density * size))
    out = np.zeros(size, dtype=np.float32)
    positions = rng.choice(size, size=count, replace=False) if count else np.empty(0, np.int64)
    values = np.abs(rng.standard_normal(count, dtype=np.float32))
    # |N(0,1)| can be exactly 0 with negligible probability; keep the count exact regardless.
    values[values == 0] = np.float32(1e-3)
    out[positions] = values
    return out.reshape(shape)


def synthetic_layer_input(layer: LayerSpec, density: float, seed: int = 0) -> np.ndarray:
    """A synthetic input for `layer`: (in_channels, H, W) for conv, (in_features,) otherwise."""
    shape = (layer.in_channels, *layer.input_hw) if layer.kind == "conv" else (layer.in_channels,)
    return synthetic_activations(shape, density, seed, key=f"input/{layer.name}")


def synthetic_input_densities(network: Network, hidden_density: float) -> dict[str, float]:
    """Each weight layer's expected input density when activations are not measured: a
    layer's published density if it has one, else the density that flows through the
    network's graph with ReLU outputs at `hidden_density` (`workloads.graph`)."""
    from workloads.graph import synthetic_input_densities as flow

    flowed = flow(network.graph, hidden_density)
    return {
        layer.name: (
            layer.activation_density if layer.activation_density is not None else flowed[layer.name]
        )
        for layer in network.layers
    }
