"""Sorted weights: a layer's weights prepared once so that pruning it to any density costs
O(log n) and its sorted survivors O(survivors) — what a sweep over densities and bits reuses.

Part of `compression` (DESIGN §3.1–3.2; §8 "compression group … real tensors, cached"): the
fast path of prune → share → encode behind `compress_layer` / `compress_network`. It gives
exactly the results of the plain path (`magnitude_mask` → `apply_mask` → `share_weights` →
`encode_sparse`); the tests compare the two bit for bit.

`SortedWeights(weights)` keeps the canonical (float32, C order) weights in place — the caller
must not modify them afterwards — plus
- a histogram of |w| over the top 16 bits of its float32 bit pattern (sign 0, 8 exponent bits,
  7 mantissa bits: 32,768 bins, monotone in |w|), one O(n) pass;
- `sorted_values`: the weights with |w| at or above a floor (a bin edge), sorted ascending by
  signed value. The floor only goes down, when a density needs more survivors than are
  covered: the new ring floor' <= |w| < floor is selected in one O(n) pass and sorted
  (`sort_float32`, an O(ring) radix sort), and since negatives precede positives the ring's
  negatives go right after the covered negatives and its non-negatives right before the
  covered positives — no merge. A sweep pays for sorting each weight at most once.

Pruning to a density, as a rule (`MagnitudeSelection`): `magnitude_mask` keeps the keep =
round(density × n) largest |w|, ties at the threshold magnitude t broken by position (C order,
first wins). So t is the keep-th largest |w| — found by bisecting on t's bit pattern with
counts from `sorted_values` — and weight i survives iff |w_i| > t, or |w_i| == t and
i <= tie_cutoff, where tie_cutoff is the position of the last tied weight kept (n when all
ties are kept, as for continuous weights; otherwise one scan in C order finds it).

Sorted survivors: in `sorted_values` the weights below −t are a prefix and those above t a
suffix; the kept ties add copies of −t and t between them. Zeros never survive (share_weights
treats a zero weight as pruned), so the survivors k-means needs are
prefix + ties + suffix without zeros, in order, without sorting anything again.

Codes (`quantize`): one pass over the weights in row-major order assigns every surviving
non-zero weight its code (`compression.weight_codes`: 1 + the number of k-means midpoints
below it, `share_weights`' rule) and compacts them row by row for the encoder
(`sparse_format.sparse_from_rows`); the survivors' places are kept, so another bit width of
the same density visits only them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numba
import numpy as np

from compression.checks import (
    canonical_weights,
    check_finite_weights,
    check_fraction,
    check_int,
)
from compression.pruning import kept_count
from compression.weight_codes import (
    _code_table,
    _magnitude_of_bits,
    _quantize_rows,
    _survivor_codes,
)

MAGNITUDE_BIN_SHIFT = 16
MAGNITUDE_BINS = 1 << (31 - MAGNITUDE_BIN_SHIFT)
FIRST_NONFINITE_BIN = 0x7F800000 >> MAGNITUDE_BIN_SHIFT
RADIX_BITS = 16
MASK_CHUNK = 1 << 22  # weights per step of `SortedWeights.mask` (16 MB of |w| at a time)


@numba.njit(cache=True)
def _sort_keys(bits):
    """uint32 keys that order like the float32 values whose bit patterns are `bits` (uint32):
    negatives bit-flipped, non-negatives with the sign bit set (so −0.0 sorts just before
    +0.0)."""
    keys = np.empty(bits.shape[0], np.uint32)
    for i in range(bits.shape[0]):
        u = bits[i]
        keys[i] = ~u if u >> 31 else u | np.uint32(0x80000000)
    return keys


@numba.njit(cache=True)
def _radix_sort_keys(keys):
    """LSD radix sort of uint32 keys, two 16-bit digits; a digit all keys share is skipped."""
    n = keys.shape[0]
    buckets = 1 << RADIX_BITS
    mask = np.uint32(buckets - 1)
    counts = np.zeros((2, buckets), np.int64)
    for i in range(n):
        u = keys[i]
        counts[0, u & mask] += 1
        counts[1, u >> RADIX_BITS] += 1
    source = keys
    target = np.empty(n, np.uint32)
    for digit in range(2):
        shift = RADIX_BITS * digit
        skip = False
        for b in range(buckets):
            if counts[digit, b] == n:
                skip = True
        if skip:
            continue
        total = 0
        for b in range(buckets):
            c = counts[digit, b]
            counts[digit, b] = total
            total += c
        for i in range(n):
            u = source[i]
            d = (u >> shift) & mask
            target[counts[digit, d]] = u
            counts[digit, d] += 1
        source, target = target, source
    return source


@numba.njit(cache=True)
def _values_of_keys(keys, bits):
    """The inverse of `_sort_keys`: writes the bit patterns (uint32) of the keys' values."""
    for i in range(keys.shape[0]):
        u = keys[i]
        bits[i] = u & np.uint32(0x7FFFFFFF) if u >> 31 else ~u


def sort_float32(values: np.ndarray) -> np.ndarray:
    """Finite float32 values sorted ascending, in O(n) (a radix sort on their bit patterns).

    Equal to np.sort(values) element for element; −0.0 is placed before +0.0."""
    values = np.ascontiguousarray(values, dtype=np.float32).ravel()
    out = np.empty(values.shape[0], np.float32)
    _values_of_keys(_radix_sort_keys(_sort_keys(values.view(np.uint32))), out.view(np.uint32))
    return out


@numba.njit(cache=True)
def _magnitude_histogram(bits):
    """int64 [MAGNITUDE_BINS]: how many weights fall in each |w| bin (bits(|w|) >> 16), from
    the weights' float32 bit patterns `bits` (uint32)."""
    counts = np.zeros(MAGNITUDE_BINS, np.int64)
    for i in range(bits.shape[0]):
        counts[(bits[i] & np.uint32(0x7FFFFFFF)) >> MAGNITUDE_BIN_SHIFT] += 1
    return counts


@numba.njit(cache=True)
def _select_ring(flat, bits, low_bin, high_bin, size):
    """The `size` weights whose |w| bin lies in [low_bin, high_bin), in C order (branch-free:
    every weight is written at the cursor, which advances on the selected ones); `bits`:
    `flat` viewed as uint32."""
    out = np.empty(size + 1, np.float32)
    width = np.uint32(high_bin - low_bin)
    k = 0
    for i in range(flat.shape[0]):
        b = ((bits[i] & np.uint32(0x7FFFFFFF)) >> MAGNITUDE_BIN_SHIFT) - np.uint32(low_bin)
        out[k] = flat[i]
        k += b < width  # unsigned: bins below low_bin wrap around to large values
        if k > size:
            break
    return out[:size]


@numba.njit(cache=True)
def _count_at_least(sorted_values, magnitude):
    """Number of sorted (covered) values with |v| >= magnitude > 0: those <= −magnitude
    (np.searchsorted(..., side="right")) plus those >= magnitude (n − np.searchsorted(...,
    side="left")), by bisection (the values are finite)."""
    n = sorted_values.shape[0]
    lo = 0  # values below lo are <= −magnitude, values at hi or above are not
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_values[mid] <= -magnitude:
            lo = mid + 1
        else:
            hi = mid
    below = lo
    hi = n  # values below lo are < magnitude, values at hi or above are not
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_values[mid] < magnitude:
            lo = mid + 1
        else:
            hi = mid
    return below + n - lo


@numba.njit(cache=True)
def _kth_largest_magnitude(sorted_values, keep, floor_bits):
    """The keep-th largest |v| (1 <= keep <= covered count), by bisection on the bit pattern
    between the floor and +inf: the largest t with count(|v| >= t) >= keep. Only t > 0 is
    ever probed, so a floor of 0 (zeros covered) needs no special case: the answer is then 0
    exactly when fewer than keep weights are non-zero."""
    lo = np.int64(floor_bits)  # count(|v| >= float(lo)) >= keep
    hi = np.int64(0x7F800000)  # count(|v| >= inf) == 0 < keep
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _count_at_least(sorted_values, _magnitude_of_bits(mid)) >= keep:
            lo = mid
        else:
            hi = mid
    return _magnitude_of_bits(lo)


@numba.njit(cache=True)
def _tie_scan(flat, magnitude, kept_ties):
    """Position of the kept_ties-th weight (C order) with |w| == magnitude, and how many of
    the first kept_ties such weights are negative."""
    seen = 0
    negatives = 0
    for i in range(flat.shape[0]):
        if abs(flat[i]) == magnitude:
            seen += 1
            if flat[i] < 0:
                negatives += 1
            if seen == kept_ties:
                return i, negatives
    return flat.shape[0], negatives


@dataclass(frozen=True)
class MagnitudeSelection:
    """Which weights `magnitude_mask(weights, density)` keeps, as a rule: weight i (flat, C
    order) survives iff |w_i| > threshold, or |w_i| == threshold and i <= tie_cutoff.

    keep: weights kept; threshold: the keep-th largest |w| as float32 (+inf when keep == 0);
    kept_ties / negative_kept_ties: kept weights with |w| == threshold, and how many of them
    are negative."""

    keep: int
    threshold: np.float32
    tie_cutoff: int
    kept_ties: int
    negative_kept_ties: int


class SortedWeights:
    """A layer's weights with their values sorted once (see the module docstring)."""

    def __init__(self, weights: object, name: str = "weights") -> None:
        self.weights = canonical_weights(weights, name=name, check_finite=False).view()
        self.weights.flags.writeable = False  # a read-only view; the caller's array is untouched
        self.flat = self.weights.reshape(-1)
        self._histogram = _magnitude_histogram(self.flat.view(np.uint32))
        if self._histogram[FIRST_NONFINITE_BIN:].any():  # inf / NaN: the bins from 0x7F80
            check_finite_weights(self.weights, name)
        # at_least[b] = weights whose |w| bin is >= b
        self._at_least = np.concatenate((np.cumsum(self._histogram[::-1])[::-1], [0]))
        self._floor_bin = MAGNITUDE_BINS  # bins >= _floor_bin are covered (none yet)
        self._sorted = np.empty(0, np.float32)
        self._lock = threading.Lock()
        # (selection, matrix shape, non-zeros) -> (row_end, column) of the last `quantize`
        self._survivors: tuple[tuple, np.ndarray, np.ndarray] | None = None

    @property
    def size(self) -> int:
        return int(self.flat.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.weights.shape)

    @property
    def nbytes(self) -> int:
        """Memory held: the weights (shared with the caller when they were canonical already),
        the sorted values and the histogram."""
        return int(
            self.weights.nbytes
            + self._sorted.nbytes
            + self._histogram.nbytes
            + self._at_least.nbytes
        )

    @property
    def covered(self) -> int:
        """How many of the largest-magnitude weights are sorted so far."""
        return int(self._sorted.shape[0])

    def sorted_values(self, keep: int) -> np.ndarray:
        """Ascending float32 values of (at least) every weight among the `keep` largest |w|,
        down to a magnitude-bin edge; extends the coverage when needed."""
        return self._coverage(check_int("keep", keep, 0, self.size))[0]

    def _coverage(self, keep: int) -> tuple[np.ndarray, int]:
        """(sorted values, floor bin) covering the `keep` largest |w|, consistent with each
        other even when another thread extends the coverage meanwhile."""
        with self._lock:
            if keep > self._sorted.shape[0]:
                self._extend(keep)
            return self._sorted, self._floor_bin

    def _extend(self, keep: int) -> None:
        low_bin = int(np.flatnonzero(self._at_least >= keep)[-1])
        ring_size = int(self._at_least[low_bin] - self._at_least[self._floor_bin])
        ring = _select_ring(
            self.flat, self.flat.view(np.uint32), low_bin, self._floor_bin, ring_size
        )
        ring = sort_float32(ring)
        old = self._sorted
        old_split = int(np.searchsorted(old, 0.0, side="left"))
        ring_split = int(np.searchsorted(ring, 0.0, side="left"))
        self._sorted = np.concatenate(
            (old[:old_split], ring[:ring_split], ring[ring_split:], old[old_split:])
        )
        self._sorted.flags.writeable = False
        self._floor_bin = low_bin

    def select(self, density: float) -> MagnitudeSelection:
        """The rule `magnitude_mask(weights, density)` follows (see MagnitudeSelection)."""
        keep = kept_count(self.size, check_fraction("density", density))
        if keep == 0:
            return MagnitudeSelection(0, np.float32(np.inf), -1, 0, 0)
        values, floor_bin = self._coverage(keep)
        threshold = np.float32(
            _kth_largest_magnitude(values, keep, floor_bin << MAGNITUDE_BIN_SHIFT)
        )
        if threshold > 0:
            below = np.searchsorted(values, -threshold, side="left")
            above = values.shape[0] - np.searchsorted(values, threshold, side="right")
            negative_ties = np.searchsorted(values, -threshold, side="right") - below
            positive_ties = (
                values.shape[0] - above - np.searchsorted(values, threshold, side="left")
            )
            ties = int(negative_ties + positive_ties)
            greater = int(below + above)
        else:
            zeros = np.searchsorted(values, 0.0, "right") - np.searchsorted(values, 0.0, "left")
            ties, negative_ties = int(zeros), 0
            greater = self.size - ties
        kept_ties = keep - greater
        if kept_ties == ties:
            return MagnitudeSelection(keep, threshold, self.size, kept_ties, int(negative_ties))
        cutoff, negatives = _tie_scan(self.flat, threshold, kept_ties)
        return MagnitudeSelection(keep, threshold, int(cutoff), kept_ties, int(negatives))

    def mask(self, selection: MagnitudeSelection, chunk: int = MASK_CHUNK) -> np.ndarray:
        """bool mask of the weights' shape: `magnitude_mask(weights, density)`, computed
        `chunk` weights at a time (no full-size |w| copy: 411 MB less for a 103 M-weight
        layer)."""
        chunk = check_int("chunk", chunk, 1)
        mask = np.empty(self.size, dtype=bool)
        for start in range(0, self.size, chunk):
            magnitude = np.abs(self.flat[start : start + chunk])
            part = mask[start : start + magnitude.shape[0]]
            np.greater(magnitude, selection.threshold, out=part)
            if selection.tie_cutoff >= start:
                tied = np.flatnonzero(magnitude == selection.threshold) + start
                mask[tied[tied <= selection.tie_cutoff]] = True
        return mask.reshape(self.weights.shape)

    def sorted_survivors(self, selection: MagnitudeSelection) -> np.ndarray:
        """Ascending float32 non-zero survivors: np.sort(w[mask & (w != 0)]), in O(survivors)."""
        if selection.keep == 0:
            return np.empty(0, np.float32)
        values = self._coverage(selection.keep)[0]
        t = selection.threshold
        below = int(np.searchsorted(values, -t, side="left"))
        above = int(np.searchsorted(values, t, side="right"))
        if t == 0:
            return np.concatenate((values[:below], values[above:]))
        negative = selection.negative_kept_ties
        positive = selection.kept_ties - negative
        return np.concatenate(
            (
                values[:below],
                np.full(negative, -t, np.float32),
                np.full(positive, t, np.float32),
                values[above:],
            )
        )

    def quantize(
        self,
        selection: MagnitudeSelection,
        midpoints: np.ndarray,
        matrix_shape: tuple[int, int],
        nonzeros: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row_end, column, code): the row-major non-zero codes of the weights as a
        `matrix_shape` matrix (`sparse_format.sparse_from_rows`). A weight's code is 0 unless
        it survives `selection` and is non-zero, else 1 + the number of float64 `midpoints`
        below it (`share_weights`' rule); `nonzeros` is the number of non-zero survivors.

        The first call scans every weight; row_end and column (read-only) are kept, and a
        call with the same selection, shape and count (a sweep's other bit widths of one
        density) computes only the survivors' codes, by the same rule, and returns the same
        row_end and column objects."""
        matrix = self.flat.reshape(matrix_shape)
        midpoints = np.ascontiguousarray(midpoints, dtype=np.float64)
        threshold = np.float32(selection.threshold)
        table = _code_table(threshold, midpoints)
        code = np.empty(nonzeros + 1, np.uint16)
        key = (selection, tuple(matrix_shape), int(nonzeros))
        with self._lock:
            cached = self._survivors
        if cached is not None and cached[0] == key:
            # the same survivors (another bit width of one density): only their codes change
            _, row_end, column = cached
            _survivor_codes(
                matrix,
                matrix.view(np.uint32),
                row_end,
                column,
                table,
                threshold,
                selection.tie_cutoff,
                midpoints,
                code,
            )
            code[nonzeros] = 0
            return row_end, column, code
        row_end = np.empty(matrix_shape[0], np.int64)
        column = np.empty(nonzeros + 1, np.int32)
        exact = _quantize_rows(
            matrix,
            matrix.view(np.uint32),
            table,
            threshold,
            selection.tie_cutoff,
            midpoints,
            row_end,
            column,
            code,
        )
        if not exact:
            raise ValueError(f"nonzeros={nonzeros} is invalid; allowed: the survivors' count")
        for array in (row_end, column):
            array.flags.writeable = False
        with self._lock:
            self._survivors = (key, row_end, column)
        return row_end, column, code
