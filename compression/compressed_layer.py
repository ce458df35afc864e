"""CompressedLayer: one layer after prune → share → encode, and `compress_layer` that makes it.

Part of `compression` (DESIGN §3): the object the simulator consumes. It holds the layer's
shape (`LayerSpec`), its codebook (float32 [2**b], codebook[0] == 0.0 — see
`compression.weight_sharing` for the convention), its relative-index sparse matrix over the
accelerator's PEs (`compression.sparse_format`, rows × cols = `spec.matrix_shape`) and its
storage accounting (`compression.accounting`).

The weight tensor maps onto the matrix as `weights.reshape(rows, -1)`: fc/lstm (out, in);
conv (out_channels, in/groups · kh · kw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compression.accounting import LayerAccounting, layer_accounting
from compression.checks import canonical_weights, check_bits, check_fraction, check_int
from compression.sorted_weights import SortedWeights
from compression.sparse_format import (
    MAX_N_PE,
    SparseMatrix,
    decode_sparse,
    encode_sparse,
    sparse_from_rows,
)
from compression.weight_sharing import INITS, kmeans_sorted
from workloads.layer_spec import LayerSpec

DEFAULT_INDEX_BITS = 4
DEFAULT_N_PE = 64


@dataclass(frozen=True, eq=False)
class CompressedLayer:
    """A pruned, weight-shared, relative-index-encoded layer."""

    spec: LayerSpec
    weight_bits: int
    index_bits: int
    codebook: np.ndarray
    sparse: SparseMatrix
    accounting: LayerAccounting

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def n_pe(self) -> int:
        return self.sparse.n_pe

    def codes(self) -> np.ndarray:
        """uint16 code matrix of `spec.matrix_shape` (0 = zero weight)."""
        return decode_sparse(self.sparse)

    def dequantized_weights(self) -> np.ndarray:
        """float32 weights of `spec.weight_shape`: codebook[code] for every weight."""
        return self.codebook[self.codes()].reshape(self.spec.weight_shape)


def layer_from_codes(
    spec: LayerSpec,
    codebook: np.ndarray,
    codes: np.ndarray,
    *,
    index_bits: int = DEFAULT_INDEX_BITS,
    n_pe: int = DEFAULT_N_PE,
) -> CompressedLayer:
    """Build a CompressedLayer from an already quantized layer: `codebook` float32 [2**b]
    with codebook[0] == 0 and integer `codes` of the weight shape or the matrix shape."""
    codebook = np.ascontiguousarray(codebook, dtype=np.float32)
    size = codebook.shape[0] if codebook.ndim == 1 else 0
    weight_bits = size.bit_length() - 1
    if codebook.ndim != 1 or size < 2 or size != 1 << weight_bits or weight_bits > 16:
        raise ValueError(
            f"codebook shape={codebook.shape} is invalid; allowed: (2**b,) for b in [1, 16]"
        )
    if codebook[0] != 0 or not np.isfinite(codebook).all():
        raise ValueError(
            f"codebook[0]={float(codebook[0])!r} is invalid; allowed: 0.0 and finite entries"
        )
    codes = np.asarray(codes)
    if codes.shape not in (spec.weight_shape, spec.matrix_shape):
        raise ValueError(
            f"codes shape={codes.shape} is invalid; allowed: {spec.weight_shape} "
            f"or {spec.matrix_shape}"
        )
    if codes.size and (int(codes.min()) < 0 or int(codes.max()) >= size):
        raise ValueError(f"codes value out of range; allowed: integers in [0, {size - 1}]")
    sparse = encode_sparse(codes.reshape(spec.matrix_shape), n_pe, index_bits)
    codebook.flags.writeable = False
    accounting = layer_accounting(spec.name, spec.weights, weight_bits, sparse)
    return CompressedLayer(spec, weight_bits, sparse.index_bits, codebook, sparse, accounting)


def compress_layer(
    spec: LayerSpec,
    weights: np.ndarray | SortedWeights,
    *,
    density: float,
    weight_bits: int,
    index_bits: int = DEFAULT_INDEX_BITS,
    n_pe: int = DEFAULT_N_PE,
    init: str = "linear",
    seed: int = 0,
) -> CompressedLayer:
    """Prune `weights` to exactly round(density × n) survivors by magnitude, share them into
    2**b − 1 k-means centroids (plus the zero code), and encode over `n_pe` PEs.

    Weights that are already exactly zero stay zero (code 0) even if the mask keeps them.
    The result is, bit for bit, `magnitude_mask` → `apply_mask` → `share_weights` →
    `layer_from_codes`; it is computed through `SortedWeights` (`compression.sorted_weights`),
    and passing a `SortedWeights` of the layer reuses its sorted values across calls.
    """
    density = check_fraction(f"layer {spec.name!r}: density", density)
    weight_bits = check_bits(f"layer {spec.name!r}: weight_bits", weight_bits)
    index_bits = check_bits(f"layer {spec.name!r}: index_bits", index_bits)
    n_pe = check_int("n_pe", n_pe, 1, MAX_N_PE)
    if init not in INITS:
        raise ValueError(f"init={init!r} is invalid; allowed: {', '.join(INITS)}")
    if isinstance(weights, SortedWeights):
        if weights.shape != spec.weight_shape:
            raise ValueError(
                f"layer {spec.name!r}: weights shape={weights.shape} is invalid; "
                f"allowed: {spec.weight_shape}"
            )
        prepared = weights
    else:
        values = canonical_weights(weights, spec.weight_shape, name=f"layer {spec.name!r}: weights")
        prepared = SortedWeights(values)
    selection = prepared.select(density)
    survivors = prepared.sorted_survivors(selection)
    k = (1 << weight_bits) - 1
    codebook = np.zeros(k + 1, np.float32)
    if survivors.size:
        centroids = kmeans_sorted(survivors, k, init, seed, with_inertia=False).centroids
        codebook[1:] = centroids.astype(np.float32)
        midpoints = 0.5 * (centroids[:-1] + centroids[1:])
    else:  # nothing survives: every code is 0, the codebook all zeros
        midpoints = np.zeros(0, np.float64)
    nonzero_codes = prepared.quantize(selection, midpoints, spec.matrix_shape, survivors.size)
    sparse = sparse_from_rows(spec.matrix_shape, *nonzero_codes, n_pe, index_bits, keep_layout=True)
    codebook.flags.writeable = False
    accounting = layer_accounting(spec.name, spec.weights, weight_bits, sparse)
    return CompressedLayer(spec, weight_bits, sparse.index_bits, codebook, sparse, accounting)
