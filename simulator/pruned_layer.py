"""Timing-only layers: a magnitude-pruned layer encoded over the PEs, without weight sharing.

Part of `simulator`: the cycle model only needs where the surviving weights are (the stored
entries per PE and column), not their shared values. `pruned_layer` prunes weights (synthetic
by default, `workloads.synthetic`) to an exact density by the rule of
`compression.pruning.magnitude_mask` (computed with `compression.sorted_weights`), encodes the
mask with `compression.sparse_format.encode_sparse` and returns an object with the attributes
`simulate_layer` reads from a `CompressedLayer` (spec, sparse, weight_bits, index_bits). Used
by `dcsim simulate --fc`, by validation and by tests, where k-means would only cost time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compression.sorted_weights import SortedWeights
from compression.sparse_format import SparseMatrix, encode_sparse
from workloads.layer_spec import LayerSpec
from workloads.synthetic import synthetic_weights


@dataclass(frozen=True, eq=False)
class PrunedLayer:
    """The storage-relevant part of a compressed layer (see module docstring)."""

    spec: LayerSpec
    sparse: SparseMatrix
    weight_bits: int
    index_bits: int

    @property
    def name(self) -> str:
        return self.spec.name


def pruned_codes(
    spec: LayerSpec,
    weight_density: float,
    *,
    seed: int = 0,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """uint16 matrix of `spec` (1 = kept): `weights` (synthetic with `seed` if None) pruned by
    magnitude to `weight_density`. Independent of the PE count."""
    if weights is None:
        weights = synthetic_weights(spec, seed)
    # `magnitude_mask(weights, density)` exactly, from a magnitude histogram and a sort of the
    # kept bins only (`compression.sorted_weights`): 0.7 s instead of 2.2 s for VGG-6's 103 M
    # weights, with no full-size partition copy
    values = SortedWeights(np.asarray(weights))
    mask = values.mask(values.select(weight_density))
    return mask.reshape(spec.matrix_shape).astype(np.uint16)


def pruned_layer(
    spec: LayerSpec,
    weight_density: float,
    *,
    n_pe: int,
    weight_bits: int = 4,
    index_bits: int = 4,
    seed: int = 0,
    weights: np.ndarray | None = None,
    codes: np.ndarray | None = None,
) -> PrunedLayer:
    """Prune `weights` (synthetic with `seed` if None) to `weight_density`, encode over n_pe;
    `codes` (from `pruned_codes`) skips the pruning, to encode one mask for several N."""
    if codes is None:
        codes = pruned_codes(spec, weight_density, seed=seed, weights=weights)
    return PrunedLayer(spec, encode_sparse(codes, n_pe, index_bits), weight_bits, index_bits)
