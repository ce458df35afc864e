"""CompressedNetwork: every weight layer of a network compressed by a recipe.

Part of `compression` (DESIGN §3): `compress_network` runs prune → share → encode on each
layer with the recipe's settings and collects the layers and their total accounting, which
`dcsim storage` / `dcsim compress` print and `compression.container` writes to a `.dcz` file.

Synthetic weights (`weights=None`) are drawn and prepared (`compression.sorted_weights`) once
per (network, seed) and kept for the next call in this process — one network's worth (for
alexnet-caffe 244 MB of weights plus the sorted survivors), replaced when another network or
seed is asked for — so a sweep over densities and bits pays for them once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compression.accounting import NetworkAccounting, storage_rows
from compression.checks import check_int
from compression.compressed_layer import DEFAULT_N_PE, CompressedLayer, compress_layer
from compression.recipe import Recipe, load_recipe
from compression.sorted_weights import SortedWeights
from compression.sparse_format import MAX_N_PE
from workloads.networks import Network
from workloads.synthetic import synthetic_weights


@dataclass(frozen=True, eq=False)
class CompressedNetwork:
    """A network's compressed layers, in network order."""

    name: str
    layers: tuple[CompressedLayer, ...]
    recipe_name: str = ""

    @property
    def n_pe(self) -> int:
        return self.layers[0].n_pe if self.layers else DEFAULT_N_PE

    @property
    def accounting(self) -> NetworkAccounting:
        return NetworkAccounting.total([layer.accounting for layer in self.layers])

    def storage_rows(self) -> list[dict]:
        """One `dcsim storage` row per layer, then `total`."""
        return storage_rows([layer.accounting for layer in self.layers])

    def layer(self, name: str) -> CompressedLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        known = ", ".join(layer.name for layer in self.layers)
        raise ValueError(f"layer={name!r} is not in {self.name!r}; allowed: {known}")


def weights_from_state_dict(network: Network, state_dict: dict) -> dict[str, np.ndarray]:
    """Each layer's weight array from a torchvision-layout state_dict (`<module>.weight`)."""
    out = {}
    for layer in network.layers:
        key = f"{network.module_paths[layer.name]}.weight"
        if key not in state_dict:
            raise ValueError(
                f"weights: key {key!r} is missing; allowed: a state_dict of "
                f"{network.name!r} with every layer's weight"
            )
        tensor = state_dict[key]
        out[layer.name] = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else tensor
    return out


_synthetic_lock = threading.Lock()
_synthetic_cache: list = []  # at most one (key, {layer: SortedWeights}) entry


def synthetic_sorted_weights(network: Network, seed: int = 0) -> dict[str, SortedWeights]:
    """Every layer's seeded synthetic weights (`workloads.synthetic`), prepared as
    `SortedWeights`; cached for one (network, seed) at a time (see the module docstring).
    The arrays are shared: treat them as read-only."""
    seed = check_int("seed", seed, 0)
    key = (network.layers, seed)
    with _synthetic_lock:
        if _synthetic_cache and _synthetic_cache[0][0] == key:
            return _synthetic_cache[0][1]
        _synthetic_cache.clear()  # free the previous network before drawing the next
        prepared = {
            layer.name: SortedWeights(synthetic_weights(layer, seed), name=layer.name)
            for layer in network.layers
        }
        _synthetic_cache.append((key, prepared))
        return prepared


def clear_synthetic_cache() -> None:
    """Drop the cached synthetic weights (frees their memory)."""
    with _synthetic_lock:
        _synthetic_cache.clear()


def compress_network(
    network: Network,
    recipe: Recipe | str | Path,
    *,
    weights: dict[str, np.ndarray] | None = None,
    n_pe: int | None = None,
    seed: int = 0,
) -> CompressedNetwork:
    """Compress every layer of `network` with `recipe` (a Recipe, built-in name or TOML path).

    `weights` maps layer name → array of the layer's weight shape (or its `SortedWeights`,
    reused across calls); None draws synthetic weights with `seed` (`workloads.synthetic`),
    cached for the next call (`synthetic_sorted_weights`). `n_pe`: None takes the recipe's
    `n_pe`, else 64 (EIE). The same inputs and seed give identical output.
    """
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    seed = check_int("seed", seed, 0)
    if n_pe is None:
        n_pe = recipe.n_pe if recipe.n_pe is not None else DEFAULT_N_PE
    n_pe = check_int("n_pe", n_pe, 1, MAX_N_PE)
    settings = recipe.layer_recipes(network)
    if weights is not None:
        known = [layer.name for layer in network.layers]
        extra = [name for name in weights if name not in known]
        missing = [name for name in known if name not in weights]
        if extra or missing:
            bad = extra[0] if extra else missing[0]
            what = "is not in the network" if extra else "is missing"
            raise ValueError(f"weights: layer={bad!r} {what}; allowed: {', '.join(known)}")
    if weights is None:
        weights = synthetic_sorted_weights(network, seed)
    layers = []
    for layer in network.layers:
        values = weights[layer.name]
        setting = settings[layer.name]
        layers.append(
            compress_layer(
                layer,
                values,
                density=setting.density,
                weight_bits=setting.weight_bits,
                index_bits=setting.index_bits,
                n_pe=n_pe,
                init=recipe.init,
                seed=seed,
            )
        )
    return CompressedNetwork(network.name, tuple(layers), recipe.name)
