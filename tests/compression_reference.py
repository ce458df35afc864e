"""The plain, straightforward prune → share → encode path, as dcsim computed it before the
sorted-weights fast path (`compression.sorted_weights`): a full mask, a fresh sort of the
survivors, textbook 1-D Lloyd on them, and an encoder that walks the transposed code matrix
column by column. Plain numpy/Python, written from the definitions in DESIGN §3 and the
module docstrings, independent of the library's kernels; the tests compare the library's
containers with these byte for byte.
"""

from __future__ import annotations

import numpy as np

from compression.accounting import layer_accounting
from compression.compressed_layer import CompressedLayer
from compression.compressed_network import CompressedNetwork
from compression.sparse_format import SparseMatrix

MAX_ITERATIONS = 10_000
MAX_RELOCATION_ROUNDS = 100


def reference_mask(weights: np.ndarray, density: float) -> np.ndarray:
    """Keep the round(density × n) largest |w|; ties by position, first wins (stable sort)."""
    flat = np.ascontiguousarray(weights, dtype=np.float32).ravel()
    keep = int(round(density * flat.size))
    order = np.argsort(-np.abs(flat), kind="stable")
    mask = np.zeros(flat.size, bool)
    mask[order[:keep]] = True
    return mask.reshape(np.shape(weights))


def reference_initial(sorted_values: np.ndarray, k: int, init: str, seed: int) -> np.ndarray:
    n = sorted_values.size
    if init == "linear":
        return np.linspace(float(sorted_values[0]), float(sorted_values[-1]), k)
    if init == "density":
        return sorted_values[np.round(np.linspace(0, n - 1, k)).astype(np.int64)].astype(np.float64)
    picks = np.random.default_rng(seed).choice(n, size=min(k, n), replace=False)
    chosen = np.sort(sorted_values[picks].astype(np.float64))
    return np.concatenate((chosen, np.full(k - chosen.size, chosen[-1])))


def _relocate(values, prefix, old, centroids, bounds):
    """Empty clusters take the point farthest from its (pre-update) centroid, farthest first;
    the donor's mean is recomputed without it; then the centroids are re-sorted."""
    k = centroids.size
    lo = np.concatenate(([0], bounds[:-1])).astype(np.int64)
    hi = bounds.astype(np.int64) - 1
    empty = bounds == np.concatenate(([0], bounds[:-1]))
    for c in range(k):
        if not empty[c]:
            continue
        best, donor, from_low = 0.0, -1, True
        for d in range(k):
            if hi[d] <= lo[d]:
                continue
            low = float(values[lo[d]]) - old[d]
            high = float(values[hi[d]]) - old[d]
            if low * low > best:
                best, donor, from_low = low * low, d, True
            if high * high > best:
                best, donor, from_low = high * high, d, False
        if donor < 0:
            break
        if from_low:
            centroids[c] = values[lo[donor]]
            lo[donor] += 1
        else:
            centroids[c] = values[hi[donor]]
            hi[donor] -= 1
        centroids[donor] = (prefix[hi[donor] + 1] - prefix[lo[donor]]) / (hi[donor] + 1 - lo[donor])
    centroids.sort()


def reference_lloyd(sorted_values: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Lloyd on sorted data until the run boundaries stop moving; each iteration a full
    np.searchsorted of the midpoints, means from float64 prefix sums."""
    values = sorted_values.astype(np.float64)
    centroids = centroids.astype(np.float64).copy()
    prefix = np.concatenate(([0.0], np.cumsum(values)))
    previous = None
    relocations = 0
    for _ in range(MAX_ITERATIONS):
        bounds = np.append(
            np.searchsorted(values, 0.5 * (centroids[:-1] + centroids[1:]), side="right"),
            values.size,
        )
        if previous is not None and np.array_equal(bounds, previous):
            break
        previous = bounds
        old = centroids.copy()
        starts = np.concatenate(([0], bounds[:-1]))
        filled = bounds > starts
        centroids[filled] = (prefix[bounds[filled]] - prefix[starts[filled]]) / (
            bounds[filled] - starts[filled]
        )
        if not filled.all() and relocations < MAX_RELOCATION_ROUNDS:
            relocations += 1
            _relocate(values, prefix, old, centroids, bounds)
    return centroids


def reference_share(pruned: np.ndarray, weight_bits: int, init: str, seed: int):
    """(codebook float32 [2**b], codes uint16 like `pruned`) — see share_weights."""
    flat = pruned.ravel()
    k = (1 << weight_bits) - 1
    codebook = np.zeros(k + 1, np.float32)
    codes = np.zeros(flat.size, np.uint16)
    survivors = np.sort(flat[flat != 0])
    if survivors.size == 0:
        return codebook, codes.reshape(pruned.shape)
    distinct = np.unique(survivors)
    if distinct.size <= k:
        centroids = np.concatenate((distinct, np.full(k - distinct.size, distinct[-1])))
        centroids = centroids.astype(np.float64)
    else:
        centroids = reference_lloyd(survivors, reference_initial(survivors, k, init, seed))
    codebook[1:] = centroids.astype(np.float32)
    midpoints = 0.5 * (centroids[:-1] + centroids[1:])
    nonzero = np.flatnonzero(flat)
    codes[nonzero] = 1 + np.searchsorted(midpoints, flat[nonzero].astype(np.float64), "left")
    return codebook, codes.reshape(pruned.shape)


def reference_encode(codes: np.ndarray, n_pe: int, index_bits: int) -> SparseMatrix:
    """Relative-index CSC per PE from the transposed code matrix, column by column."""
    rows, cols = codes.shape
    codes_t = np.ascontiguousarray(codes.T, dtype=np.uint16)
    span = 1 << index_bits
    entry_codes, entry_gaps = [], []
    col_ptr = np.zeros((n_pe, cols + 1), np.int64)
    offset = 0
    for p in range(n_pe):
        for j in range(cols):
            col_ptr[p, j] = offset
            column = codes_t[j, p::n_pe]
            local = np.flatnonzero(column)
            gaps = np.diff(np.concatenate(([-1], local))) - 1
            fillers = gaps // span
            for code, gap, filler in zip(column[local], gaps, fillers, strict=True):
                entry_codes += [0] * int(filler) + [int(code)]
                entry_gaps += [span - 1] * int(filler) + [int(gap - filler * span)]
            offset += int(local.size + fillers.sum())
        col_ptr[p, cols] = offset
    return SparseMatrix(
        rows,
        cols,
        n_pe,
        index_bits,
        np.array(entry_codes, np.uint16),
        np.array(entry_gaps, np.uint16),
        col_ptr,
    )


def reference_layer(spec, weights, density, weight_bits, index_bits, n_pe, init, seed):
    """A CompressedLayer built the straightforward way."""
    values = np.ascontiguousarray(weights, dtype=np.float32).reshape(spec.weight_shape)
    pruned = np.where(reference_mask(values, density), values, np.float32(0.0))
    codebook, codes = reference_share(pruned, weight_bits, init, seed)
    sparse = reference_encode(codes.reshape(spec.matrix_shape), n_pe, index_bits)
    accounting = layer_accounting(spec.name, spec.weights, weight_bits, sparse)
    return CompressedLayer(spec, weight_bits, index_bits, codebook, sparse, accounting)


def reference_network(network, recipe, weights, n_pe, seed) -> CompressedNetwork:
    settings = recipe.layer_recipes(network)
    layers = tuple(
        reference_layer(
            spec,
            weights[spec.name],
            settings[spec.name].density,
            settings[spec.name].weight_bits,
            settings[spec.name].index_bits,
            n_pe,
            recipe.init,
            seed,
        )
        for spec in network.layers
    )
    return CompressedNetwork(network.name, layers, recipe.name)
