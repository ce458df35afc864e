"""Weight sharing: 1-D k-means over a layer's surviving weights, and the layer's codebook.

Part of `compression` (DESIGN §3.2), the second step of prune → share → encode.

Codebook convention (EIE's layout): a layer quantized to b bits has 2**b codes. Code 0 is
reserved for the zero weight — pruned weights, and the filler entries of the sparse format,
store code 0 and decode to exactly 0.0. Codes 1 .. 2**b − 1 are the k = 2**b − 1 k-means
centroids of the surviving weights, in ascending order. So `codebook[0] == 0.0` always, and a
layer has at most 2**b − 1 distinct non-zero weights.

k-means in one dimension: once the data are sorted, each cluster is a contiguous run of the
sorted values, bounded by the midpoints between consecutive (sorted) centroids. A Lloyd
iteration is then k searches for the run boundaries plus k means from prefix sums —
O(k log n) instead of O(n k); each search gallops outwards from the boundary's previous
position, so late iterations, where boundaries move a few places, cost O(k) and stay in cache
— and iterations continue until the boundaries stop moving (exact convergence). Assignment
ties (a value exactly at a midpoint) go to the lower centroid, as in scikit-learn. As in
scikit-learn, a cluster left empty by an update is moved onto the point farthest from its own
centroid (farthest first; at most `MAX_RELOCATION_ROUNDS` rounds), and the centroids are
re-sorted. Pruned layers are bimodal (nothing survives near zero), so
linear initialisation leaves centroids in the empty middle: without relocation they would
stay there unused. Running to exact convergence rather than to a tolerance, the result's
inertia is at least as low as scikit-learn's from the same start on the data we measured
(`benchmarks/bench_compression.py`, tests) — Lloyd only finds local optima, so this is
checked, not guaranteed.

Initialisations (Han et al. 2016, §3.1): `linear` — k points evenly spaced over
[min, max] (the paper's best); `density` — evenly spaced over the empirical CDF (the sorted
values at ranks round(linspace(0, n − 1, k))); `random` — Forgy, k distinct surviving weights
drawn with `seed`. With k or fewer distinct values the codebook is simply those values.

`kmeans_sorted` is the same on values already sorted (no copy, no sort): what
`compress_layer` calls with the sorted survivors `compression.sorted_weights` hands it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from compression.checks import canonical_weights, check_bits, check_int
from compression.sorted_weights import sort_float32

INITS: tuple[str, ...] = ("linear", "density", "random")
DEFAULT_MAX_ITERATIONS = 10_000
MAX_RELOCATION_ROUNDS = 100


@dataclass(frozen=True, eq=False)
class KMeansResult:
    """Outcome of `kmeans_1d`: sorted float64 centroids, inertia (sum of squared distances to
    the assigned centroid, float64), and Lloyd iterations run."""

    centroids: np.ndarray
    inertia: float
    iterations: int


@numba.njit(cache=True)
def _count_at_most(sorted_values, value, hint):
    """Number of sorted_values <= value (np.searchsorted(..., side="right")), searched by
    galloping outwards from index `hint`: O(log d) for an answer d places from the hint."""
    n = sorted_values.shape[0]
    if hint < 0:
        hint = 0
    if hint > n:
        hint = n
    if hint < n and sorted_values[hint] <= value:  # the answer is above hint
        lo = hint + 1  # sorted_values[lo - 1] <= value
        step = 1
        hi = lo
        while hi < n and sorted_values[hi] <= value:
            lo = hi + 1
            hi += step
            step *= 2
        if hi > n:
            hi = n
    else:  # the answer is at most hint
        hi = hint  # sorted_values[hi] > value, or hi == n
        step = 1
        lo = hi
        while lo > 0 and sorted_values[lo - 1] > value:
            hi = lo - 1
            lo -= step
            step *= 2
        if lo < 0:
            lo = 0
    while lo < hi:  # invariant: values below lo are <= value, values at hi or above are not
        mid = (lo + hi) // 2
        if sorted_values[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True)
def _boundaries(sorted_values, centroids, bounds):
    """bounds[c] = end (exclusive) of cluster c's run in sorted_values; ties go to the lower.
    The previous contents of `bounds` are the search hints (boundaries move little between
    Lloyd iterations); any hints give the same result."""
    k = centroids.shape[0]
    for c in range(k - 1):
        mid = 0.5 * (centroids[c] + centroids[c + 1])
        bounds[c] = _count_at_most(sorted_values, mid, bounds[c])
    bounds[k - 1] = sorted_values.shape[0]


@numba.njit(cache=True)
def _lloyd_sorted(sorted_values, centroids, max_iterations):
    """Run Lloyd on sorted data in place on `centroids` (sorted); returns iterations run."""
    n = sorted_values.shape[0]
    k = centroids.shape[0]
    prefix = np.zeros(n + 1, np.float64)
    for i in range(n):
        prefix[i + 1] = prefix[i] + sorted_values[i]
    bounds = np.zeros(k, np.int64)
    for c in range(k):  # first hints: equal shares
        bounds[c] = (n * (c + 1)) // k
    previous = np.empty(k, np.int64)  # bounds of the previous iteration (set before read)
    iterations = 0
    relocations = 0
    old_centroids = np.empty(k, np.float64)
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
        for c in range(k):
            old_centroids[c] = centroids[c]
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
def _relocate_empty(sorted_values, prefix, old_centroids, centroids, bounds):
    """scikit-learn's rule for empty clusters: the points farthest from their (pre-update)
    centroid become the empty clusters' centroids, farthest first, and leave the clusters
    they came from (whose means are recomputed without them); then re-sort the centroids.

    Runs are contiguous and each run lies in its centroid's interval, so the farthest
    remaining point of a cluster is at one end of what is left of its run: each pick is a
    scan over the k run ends, O(k) per empty cluster."""
    k = centroids.shape[0]
    lo = np.empty(k, np.int64)
    hi = np.empty(k, np.int64)
    start = 0
    for c in range(k):
        lo[c] = start
        hi[c] = bounds[c] - 1
        start = bounds[c]
    for c in range(k):
        if bounds[c] != (bounds[c - 1] if c > 0 else 0):  # cluster c is not empty
            continue
        best = 0.0
        best_cluster = -1
        best_low = True
        for d in range(k):
            if hi[d] <= lo[d]:  # never empty a donor completely
                continue
            low = sorted_values[lo[d]] - old_centroids[d]
            high = sorted_values[hi[d]] - old_centroids[d]
            if low * low > best:
                best, best_cluster, best_low = low * low, d, True
            if high * high > best:
                best, best_cluster, best_low = high * high, d, False
        if best_cluster < 0:
            break
        if best_low:
            centroids[c] = sorted_values[lo[best_cluster]]
            lo[best_cluster] += 1
        else:
            centroids[c] = sorted_values[hi[best_cluster]]
            hi[best_cluster] -= 1
        d = best_cluster
        centroids[d] = (prefix[hi[d] + 1] - prefix[lo[d]]) / (hi[d] + 1 - lo[d])
    _sort_centroids(centroids)


@numba.njit(cache=True)
def _sort_centroids(values):
    """Sort the centroids in place by value, −0.0 before +0.0 (the one tie whose order shows in
    the bits). Insertion sort: after `_relocate_empty` only the relocated centroids are out of
    place among k ≤ 256; no call to Numba's generic sort, whose compilation takes ~2 s."""
    for i in range(1, values.shape[0]):
        v = values[i]
        negative_zero = v == 0.0 and math.copysign(1.0, v) < 0.0
        j = i
        while j > 0:
            u = values[j - 1]
            if not (v < u or (negative_zero and u == 0.0 and math.copysign(1.0, u) > 0.0)):
                break
            values[j] = u
            j -= 1
        values[j] = v


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


def initial_centroids(sorted_values: np.ndarray, k: int, init: str, seed: int = 0) -> np.ndarray:
    """k sorted float64 initial centroids for sorted 1-D data (see the module docstring)."""
    if init not in INITS:
        raise ValueError(f"init={init!r} is invalid; allowed: {', '.join(INITS)}")
    k = check_int("k", k, 1)
    n = sorted_values.shape[0]
    if n == 0:
        return np.zeros(k, np.float64)
    lo, hi = float(sorted_values[0]), float(sorted_values[-1])
    if init == "linear":
        return np.linspace(lo, hi, k)
    if init == "density":
        ranks = np.round(np.linspace(0, n - 1, k)).astype(np.int64)
        return sorted_values[ranks].astype(np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.choice(n, size=min(k, n), replace=False)
    chosen = np.sort(sorted_values[picks].astype(np.float64))
    if chosen.shape[0] < k:
        chosen = np.concatenate((chosen, np.full(k - chosen.shape[0], chosen[-1])))
    return chosen


def kmeans_1d(
    values: np.ndarray,
    k: int,
    init: str | np.ndarray = "linear",
    seed: int = 0,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
) -> KMeansResult:
    """k-means of 1-D `values` into k clusters; `init` is a name or k initial centroids.
    The values are sorted with `sort_float32` (as np.sort; −0.0 before +0.0)."""
    k = check_int("k", k, 1)
    max_iterations = check_int("max_iterations", max_iterations, 1)
    sorted_values = sort_float32(canonical_weights(values, name="values").ravel())
    return kmeans_sorted(sorted_values, k, init, seed, max_iterations)


def distinct_sorted(sorted_values: np.ndarray) -> np.ndarray:
    """The distinct values of an ascending array, in O(n) (np.unique without its sort)."""
    if sorted_values.size == 0:
        return sorted_values[:0].copy()
    first = np.empty(sorted_values.shape[0], bool)
    first[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return sorted_values[first]


@numba.njit(cache=True)
def _more_distinct_than(sorted_values, k):
    """True when the ascending array holds more than k distinct values (stops early)."""
    distinct = 1 if sorted_values.shape[0] else 0
    for i in range(1, sorted_values.shape[0]):
        if sorted_values[i] != sorted_values[i - 1]:
            distinct += 1
            if distinct > k:
                return True
    return distinct > k


def kmeans_sorted(
    sorted_values: np.ndarray,
    k: int,
    init: str | np.ndarray = "linear",
    seed: int = 0,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    *,
    with_inertia: bool = True,
) -> KMeansResult:
    """`kmeans_1d` of values that are already sorted ascending (a 1-D finite float32 array,
    used in place: no copy, no sort). The same values give the same result as `kmeans_1d`.
    `with_inertia=False` skips the O(n) inertia pass (the result's inertia is then NaN)."""
    k = check_int("k", k, 1)
    max_iterations = check_int("max_iterations", max_iterations, 1)
    sorted_values = np.asarray(sorted_values)
    if sorted_values.ndim != 1 or sorted_values.dtype != np.float32:
        raise ValueError(
            f"sorted_values dtype={sorted_values.dtype} shape={sorted_values.shape} is invalid; "
            "allowed: a 1-D float32 array"
        )
    if isinstance(init, str):
        centroids = initial_centroids(sorted_values, k, init, seed)
    else:
        centroids = np.sort(np.asarray(init, dtype=np.float64).ravel())
        if centroids.shape != (k,) or not np.isfinite(centroids).all():
            raise ValueError(f"init shape={centroids.shape} is invalid; allowed: ({k},) finite")
    if not _more_distinct_than(sorted_values, k):
        distinct = distinct_sorted(sorted_values)
        centroids = np.concatenate(
            (distinct, np.full(k - distinct.shape[0], distinct[-1] if distinct.size else 0.0))
        ).astype(np.float64)
        return KMeansResult(centroids, 0.0, 0)
    iterations = _lloyd_sorted(sorted_values, centroids, max_iterations)
    inertia = float(_inertia_sorted(sorted_values, centroids)) if with_inertia else math.nan
    return KMeansResult(centroids, inertia, iterations)


def share_weights(
    weights: np.ndarray, weight_bits: int, init: str = "linear", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Quantize pruned `weights` (zeros are pruned) to b bits.

    Returns (codebook float32 [2**b] with codebook[0] == 0, codes uint16 of weights' shape):
    zero weights get code 0; every other weight gets 1 + the index of its k-means cluster.
    """
    weight_bits = check_bits("weight_bits", weight_bits)
    values = canonical_weights(weights)
    flat = values.ravel()
    survivors = flat[flat != 0]
    k = (1 << weight_bits) - 1
    codebook = np.zeros(k + 1, np.float32)
    codes = np.zeros(flat.shape, np.uint16)
    if survivors.size == 0 or k == 0:
        return codebook, codes.reshape(values.shape)
    result = kmeans_sorted(sort_float32(survivors), k, init, seed, with_inertia=False)
    codebook[1:] = result.centroids.astype(np.float32)
    midpoints = 0.5 * (result.centroids[:-1] + result.centroids[1:])
    nonzero = np.flatnonzero(flat)
    codes[nonzero] = 1 + np.searchsorted(midpoints, flat[nonzero].astype(np.float64), side="left")
    return codebook, codes.reshape(values.shape)
