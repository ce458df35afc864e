"""Timing-only layers: a magnitude-pruned layer encoded over the PEs, without weight sharing.

Part of `simulator`: the cycle model only needs where the surviving weights are (the stored
entries per PE and column), not their shared values. `pruned_layer` prunes weights (synthetic
by default, `workloads.synthetic`) to an exact density by the rule of
`compression.pruning.magnitude_mask` (computed with `compression.sorted_weights`), encodes the
mask with `compression.sparse_format.encode_sparse` and returns an object with the attributes
`simulate_layer` reads from a `CompressedLayer` (spec, sparse, weight_bits, index_bits). Used
by `dcsim simulate --fc`, by validation and by tests, where k-means would only cost time.

`uniform_pattern_rows` draws such a layer's places directly: magnitude-pruning i.i.d.
continuous weights keeps a uniformly random set of exactly `kept_count` places, and a
timing-only layer needs nothing else, so the validation's EIE layers (up to VGG-6's 103 M
weights) are drawn in O(kept) without drawing or ranking every weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from compression.pruning import kept_count
from compression.sorted_weights import SortedWeights
from compression.sparse_format import SparseMatrix, encode_sparse, sparse_from_rows
from workloads.layer_spec import LayerSpec
from workloads.synthetic import layer_rng, synthetic_weights


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


def pruned_rows(
    spec: LayerSpec,
    weight_density: float,
    *,
    seed: int = 0,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """`pruned_codes` in row-major compacted form (row_end, column, code: the input of
    `sparse_format.sparse_from_rows`, every code 1), from one scan of the weights with no
    dense mask or code matrix (0.6 GB less for VGG-6's 103 M weights) and encodable for any
    N without another scan. None where the pruning keeps zero weights (a density above the
    non-zero fraction), which `pruned_codes` marks kept and the row form cannot."""
    if weights is None:
        weights = synthetic_weights(spec, seed)
    values = SortedWeights(np.asarray(weights))
    selection = values.select(weight_density)
    if not selection.threshold > 0:
        return None
    # every survivor is non-zero (|w| >= threshold > 0): with no midpoints each gets code 1
    return values.quantize(selection, np.zeros(0), spec.matrix_shape, selection.keep)


@numba.njit(cache=True)
def _pattern_columns(counts, cols, uniforms, column):
    """Row by row, counts[r] distinct columns of [0, cols) chosen uniformly at random by
    Floyd's algorithm — for i = cols - c, ..., cols - 1: j = floor(u · (i + 1)) with the next
    of `uniforms` (float64 in [0, 1)), taking j unless already taken, else i — written
    ascending into `column` (int32, Σ counts) one row after the other."""
    taken = np.zeros(cols, np.bool_)
    start = 0
    next_uniform = 0
    for r in range(counts.shape[0]):
        c = counts[r]
        end = start + c
        k = start
        for i in range(cols - c, cols):
            j = min(np.int64(uniforms[next_uniform] * (i + 1)), i)  # u·(i+1) may round up to i+1
            next_uniform += 1
            if taken[j]:
                j = i
            taken[j] = True
            column[k] = j
            k += 1
        column[start:end].sort()
        for t in range(start, end):
            taken[column[t]] = False
        start = end


def uniform_pattern_rows(
    spec: LayerSpec, weight_density: float, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A uniformly random set of exactly `kept_count(weights, weight_density)` places of
    `spec`'s matrix in `pruned_rows`' form (row_end and column read-only, every code 1): the
    distribution of `pruned_rows` of i.i.d. continuous weights, drawn from stream
    ("pattern/<name>", `seed`) in O(kept) — the kept count of each row by a multivariate
    hypergeometric draw (numpy's limit for it, 10^9 weights, is above `LayerSpec`'s 2^28),
    its columns by Floyd's algorithm (`_pattern_columns`)."""
    rows, cols = spec.matrix_shape
    keep = kept_count(rows * cols, weight_density)
    rng = layer_rng(seed, f"pattern/{spec.name}")
    counts = rng.multivariate_hypergeometric(
        np.full(rows, cols, np.int64), keep, method="marginals"
    )
    column = np.empty(keep, np.int32)
    _pattern_columns(counts.astype(np.int64), int(cols), rng.random(keep), column)
    row_end = np.cumsum(counts, dtype=np.int64)
    for array in (row_end, column):
        array.flags.writeable = False  # as `pruned_rows` returns them: one kernel signature
    return row_end, column, np.ones(keep, np.uint16)


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
    rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> PrunedLayer:
    """Prune `weights` (synthetic with `seed` if None) to `weight_density`, encode over n_pe;
    `rows` (from `pruned_rows`) or `codes` (from `pruned_codes`) skip the pruning, to encode
    one pruning for several N. The same layer whichever way (`sparse_from_rows` and
    `encode_sparse` store a matrix alike)."""
    if rows is None and codes is None:
        rows = pruned_rows(spec, weight_density, seed=seed, weights=weights)
        if rows is None:
            codes = pruned_codes(spec, weight_density, seed=seed, weights=weights)
    if rows is not None:
        sparse = sparse_from_rows(spec.matrix_shape, *rows, n_pe, index_bits)
    else:
        sparse = encode_sparse(codes, n_pe, index_bits)
    return PrunedLayer(spec, sparse, weight_bits, index_bits)
