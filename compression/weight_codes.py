"""The code each weight gets: 0 unless it survives the pruning rule and is non-zero, else 1 +
the number of k-means midpoints below it (`share_weights`' rule) — decided for most weights
by one table lookup on the top 16 bits of their float32 bit pattern.

Part of `compression`, under `compression.sorted_weights` (whose `SortedWeights.quantize`
runs these kernels): `_code_table` gives the code every weight of a 16-bit bin gets where the
bin lies wholly on one side of the threshold and between two midpoints, and -1 where it does
not (the bin holds the threshold magnitude, zero, a midpoint, or inf/NaN), where `_exact_code`
decides weight by weight. `_quantize_rows` scans every weight of a matrix and compacts the
non-zero codes row by row; `_survivor_codes` recomputes the codes of non-zeros found before
(another bit width of the same pruning), visiting only them. Numba kernels.
"""

from __future__ import annotations

import numba
import numpy as np

# FLOAT32_ULP_OF_EXPONENT[e] = 2**(max(e, 1) − 150): the value of one unit of the significand
# of a finite float32 with exponent field e (a constant array the kernels read)
FLOAT32_ULP_OF_EXPONENT = np.ldexp(1.0, np.maximum(np.arange(255), 1) - 150)


@numba.njit(cache=True)
def _magnitude_of_bits(bits):
    """The float32 whose bit pattern is `bits` (an integer in [0, 0x7F800000): +0.0, a
    subnormal or a normal number), computed as its integer significand × 2**exponent — exact,
    since the product is a float32 value — rather than through an array view."""
    exponent = bits >> 23
    significand = bits & 0x7FFFFF
    if exponent > 0:
        significand |= 0x800000
    return np.float32(np.float64(significand) * FLOAT32_ULP_OF_EXPONENT[exponent])


@numba.njit(cache=True)
def _code_of(value, midpoints):
    """1 + the number of midpoints below `value` (np.searchsorted(..., side="left") + 1)."""
    lo = 0
    hi = midpoints.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if midpoints[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo + 1


@numba.njit(cache=True)
def _exact_code(w, position, threshold, tie_cutoff, midpoints):
    """The code of weight `w` at flat `position`: 0 unless it survives and is non-zero."""
    magnitude = abs(w)
    if w == 0 or magnitude < threshold or (magnitude == threshold and position > tie_cutoff):
        return 0
    return _code_of(np.float64(w), midpoints)


@numba.njit(cache=True)
def _code_table(threshold, midpoints):
    """int32 [65536]: the code every weight gets whose float32 bit pattern >> 16 is the index,
    where that is the same for all values of the bin (bit patterns sharing their top 16 bits
    form an interval of values); -1 where it is not (the bin holds the threshold magnitude,
    zero, a midpoint, or inf/NaN), to be decided weight by weight."""
    table = np.empty(1 << 16, np.int32)
    for s in range(1 << 16):
        low_bits = (s & 0x7FFF) << 16
        if low_bits >= 0x7F800000:
            table[s] = -1
            continue
        low = _magnitude_of_bits(low_bits)  # the bin's magnitudes run from low to high
        high = _magnitude_of_bits(low_bits | 0xFFFF)
        if high < threshold:
            table[s] = 0
        elif low > threshold:
            if s >= 0x8000:
                first = _code_of(-np.float64(high), midpoints)
                last = _code_of(-np.float64(low), midpoints)
            else:
                first = _code_of(np.float64(low), midpoints)
                last = _code_of(np.float64(high), midpoints)
            table[s] = first if first == last else -1
        else:
            table[s] = -1
    return table


@numba.njit(cache=True)
def _quantize_rows(matrix, bits, table, threshold, tie_cutoff, midpoints, row_end, column, code):
    """Row-major compaction (`sparse_format._compact_rows`) of the codes of every weight of
    `matrix` (`bits`: the same array viewed as uint32): a table lookup per weight, the exact
    rule (`_exact_code`) only in the bins the table leaves open."""
    rows, cols = matrix.shape
    last = column.shape[0] - 1  # slots: the non-zeros expected, plus one
    k = 0
    for i in range(rows):
        weights = matrix[i]
        patterns = bits[i]
        base = i * cols
        for j in range(cols):
            c = table[patterns[j] >> 16]
            if c < 0:
                c = _exact_code(weights[j], base + j, threshold, tie_cutoff, midpoints)
            column[k] = j
            code[k] = c
            k += c != 0
            if k > last:  # more non-zeros than expected: stop before writing out of bounds
                return False
        row_end[i] = k
    return k == last


@numba.njit(cache=True)
def _survivor_codes(matrix, bits, row_end, column, table, threshold, tie_cutoff, midpoints, code):
    """The codes of `_quantize_rows` for the non-zeros it found before (row_end, column), by
    the same rule (table lookup, `_exact_code` in open bins), visiting only those weights."""
    cols = matrix.shape[1]
    start = 0
    for i in range(row_end.shape[0]):
        weights = matrix[i]
        patterns = bits[i]
        for k in range(start, row_end[i]):
            j = column[k]
            c = table[patterns[j] >> 16]
            if c < 0:
                c = _exact_code(weights[j], i * cols + j, threshold, tie_cutoff, midpoints)
            code[k] = c
        start = row_end[i]
