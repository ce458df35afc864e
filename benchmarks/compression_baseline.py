"""The compression path as it was before compression reuse (issue 11, item 3), kept as the
baseline `bench_compression.py` measures in the same run.

Per layer and setting: `magnitude_mask` (np.partition over |w|) → `apply_mask` → k-means on a
fresh np.sort of the survivors (np.unique for the distinct check, Lloyd with a full binary
search per boundary per iteration) → codes by np.searchsorted over the non-zeros → encode from
a transposed copy of the code matrix. The Lloyd and encoder kernels are verbatim copies of
the previous `compression.weight_sharing` / `compression.sparse_format` kernels; the pruning
and accounting functions are the library's (their results and cost did not change apart from
accounting's shared symbol counts). Not part of the package: a benchmark baseline only.
"""

from __future__ import annotations

import numba
import numpy as np

from compression.accounting import layer_accounting
from compression.checks import canonical_weights
from compression.compressed_layer import CompressedLayer
from compression.compressed_network import CompressedNetwork
from compression.pruning import apply_mask, magnitude_mask
from compression.sparse_format import SparseMatrix
from compression.weight_sharing import _relocate_empty, initial_centroids

MAX_RELOCATION_ROUNDS = 100


@numba.njit(cache=True)
def _boundaries(sorted_values, centroids, bounds):
    k = centroids.shape[0]
    for c in range(k - 1):
        mid = 0.5 * (centroids[c] + centroids[c + 1])
        bounds[c] = np.searchsorted(sorted_values, mid, side="right")
    bounds[k - 1] = sorted_values.shape[0]


@numba.njit(cache=True)
def _lloyd_sorted(sorted_values, centroids, max_iterations):
    n = sorted_values.shape[0]
    k = centroids.shape[0]
    prefix = np.zeros(n + 1, np.float64)
    for i in range(n):
        prefix[i + 1] = prefix[i] + sorted_values[i]
    bounds = np.zeros(k, np.int64)
    previous = np.full(k, -1, np.int64)
    iterations = 0
    relocations = 0
    old_centroids = centroids.copy()
    while iterations < max_iterations:
        _boundaries(sorted_values, centroids, bounds)
        if iterations > 0:
            same = True
            for c in range(k):
                if bounds[c] != previous[c]:
                    same = False
                    break
            if same:
                break
        iterations += 1
        old_centroids[:] = centroids
        start = 0
        empties = 0
        for c in range(k):
            end = bounds[c]
            if end > start:
                centroids[c] = (prefix[end] - prefix[start]) / (end - start)
            else:
                empties += 1
            start = end
            previous[c] = end
        if empties > 0 and relocations < MAX_RELOCATION_ROUNDS:
            relocations += 1
            _relocate_empty(sorted_values, prefix, old_centroids, centroids, bounds)
    return iterations


@numba.njit(cache=True)
def _inertia_sorted(sorted_values, centroids):
    k = centroids.shape[0]
    bounds = np.zeros(k, np.int64)
    _boundaries(sorted_values, centroids, bounds)
    total = 0.0
    start = 0
    for c in range(k):
        for i in range(start, bounds[c]):
            d = sorted_values[i] - centroids[c]
            total += d * d
        start = bounds[c]
    return total


@numba.njit(cache=True)
def _count_entries(codes_t, n_pe, index_bits, counts):
    cols, rows = codes_t.shape
    prev = np.empty(n_pe, np.int64)
    for j in range(cols):
        for p in range(n_pe):
            prev[p] = -1
        column = codes_t[j]
        for i in range(rows):
            if column[i] != 0:
                p = i % n_pe
                local = i // n_pe
                gap = local - prev[p] - 1
                counts[p, j] += (gap >> index_bits) + 1
                prev[p] = local


@numba.njit(cache=True)
def _fill_entries(codes_t, n_pe, index_bits, col_ptr, entry_code, entry_gap):
    cols, rows = codes_t.shape
    max_gap = (1 << index_bits) - 1
    prev = np.empty(n_pe, np.int64)
    cursor = np.empty(n_pe, np.int64)
    for j in range(cols):
        for p in range(n_pe):
            prev[p] = -1
            cursor[p] = col_ptr[p, j]
        column = codes_t[j]
        for i in range(rows):
            code = column[i]
            if code != 0:
                p = i % n_pe
                local = i // n_pe
                gap = local - prev[p] - 1
                k = cursor[p]
                while gap > max_gap:
                    entry_code[k] = 0
                    entry_gap[k] = max_gap
                    k += 1
                    gap -= max_gap + 1
                entry_code[k] = code
                entry_gap[k] = gap
                cursor[p] = k + 1
                prev[p] = local


def encode_before(codes: np.ndarray, n_pe: int, index_bits: int) -> SparseMatrix:
    codes = np.asarray(codes)
    if codes.size and (int(codes.min()) < 0 or int(codes.max()) > 65535):
        raise ValueError("codes out of range")
    rows, cols = codes.shape
    codes_t = np.ascontiguousarray(codes.T, dtype=np.uint16)
    counts = np.zeros((n_pe, cols), np.int64)
    _count_entries(codes_t, n_pe, index_bits, counts)
    col_ptr = np.zeros((n_pe, cols + 1), np.int64)
    flat = np.cumsum(counts.ravel())
    col_ptr[:, 1:] = flat.reshape(n_pe, cols)
    col_ptr[:, 0] = np.concatenate(([0], col_ptr[:-1, -1])) if n_pe > 1 else 0
    n_entries = int(flat[-1]) if flat.size else 0
    entry_code = np.zeros(n_entries, np.uint16)
    entry_gap = np.zeros(n_entries, np.uint16)
    _fill_entries(codes_t, n_pe, index_bits, col_ptr, entry_code, entry_gap)
    return SparseMatrix(rows, cols, n_pe, index_bits, entry_code, entry_gap, col_ptr)


def kmeans_before(values: np.ndarray, k: int, init: str, seed: int) -> np.ndarray:
    sorted_values = np.sort(canonical_weights(values).ravel())
    centroids = initial_centroids(sorted_values, k, init, seed)
    distinct = np.unique(sorted_values)
    if distinct.shape[0] <= k:
        return np.concatenate(
            (distinct, np.full(k - distinct.shape[0], distinct[-1] if distinct.size else 0.0))
        ).astype(np.float64)
    _lloyd_sorted(sorted_values, centroids, 10_000)
    _inertia_sorted(sorted_values, centroids)  # kmeans_1d computed it; share_weights dropped it
    return centroids


def share_before(pruned: np.ndarray, weight_bits: int, init: str, seed: int):
    flat = canonical_weights(pruned).ravel()
    survivors = flat[flat != 0]
    k = (1 << weight_bits) - 1
    codebook = np.zeros(k + 1, np.float32)
    codes = np.zeros(flat.shape, np.uint16)
    if survivors.size == 0:
        return codebook, codes.reshape(pruned.shape)
    centroids = kmeans_before(survivors, k, init, seed)
    codebook[1:] = centroids.astype(np.float32)
    midpoints = 0.5 * (centroids[:-1] + centroids[1:])
    nonzero = np.flatnonzero(flat)
    codes[nonzero] = 1 + np.searchsorted(midpoints, flat[nonzero].astype(np.float64), side="left")
    return codebook, codes.reshape(pruned.shape)


def compress_network_before(network, recipe, weights: dict, n_pe: int, seed: int = 0):
    """`compress_network` as it was: every layer pruned, shared and encoded from scratch."""
    settings = recipe.layer_recipes(network)
    layers = []
    for spec in network.layers:
        s = settings[spec.name]
        values = canonical_weights(weights[spec.name], spec.weight_shape)
        pruned = apply_mask(values, magnitude_mask(values, s.density))
        codebook, codes = share_before(pruned, s.weight_bits, recipe.init, seed)
        sparse = encode_before(codes.reshape(spec.matrix_shape), n_pe, s.index_bits)
        accounting = layer_accounting(spec.name, spec.weights, s.weight_bits, sparse)
        layers.append(
            CompressedLayer(spec, s.weight_bits, s.index_bits, codebook, sparse, accounting)
        )
    return CompressedNetwork(network.name, tuple(layers), recipe.name)
