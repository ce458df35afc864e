"""Input validation shared by the compression stages: one-line errors naming field, value, range.

Part of `compression` (DESIGN §3, §7). Every public entry point of prune → share → encode
funnels its arguments through these helpers, so a bad bit width, density or weight array is
refused before any work is done, and the canonical form of the weights (float32, C order)
makes every result independent of the caller's dtype and memory order.
"""

from __future__ import annotations

import math

import numpy as np

MIN_BITS = 1
MAX_BITS = 16


def check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """`value` as an int in [lo, hi] (hi=None: unbounded), else a one-line ValueError."""
    allowed = f"an integer in [{lo}, {hi}]" if hi is not None else f"an integer >= {lo}"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}={value!r} is invalid; allowed: {allowed}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"{name}={value!r} is invalid; allowed: {allowed}")
    return value


def check_bits(name: str, value: object) -> int:
    """A bit width in [1, 16]."""
    return check_int(name, value, MIN_BITS, MAX_BITS)


def check_fraction(name: str, value: object) -> float:
    """A finite number in [0, 1] (a density)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}={value!r} is invalid; allowed: a number in [0, 1]")
    value = float(value)
    if not (0.0 <= value <= 1.0):  # also refuses NaN
        raise ValueError(f"{name}={value!r} is invalid; allowed: a number in [0, 1]")
    return value


def check_positive(name: str, value: object) -> float:
    """A finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}={value!r} is invalid; allowed: a finite number > 0")
    value = float(value)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{name}={value!r} is invalid; allowed: a finite number > 0")
    return value


def canonical_weights(
    weights: object,
    shape: tuple[int, ...] | None = None,
    name: str = "weights",
    *,
    check_finite: bool = True,
) -> np.ndarray:
    """`weights` as a C-contiguous float32 array (a copy when needed), checked for shape and
    finiteness. Integer, float16/32/64 inputs and any memory order give the same array.
    `check_finite=False` leaves the finiteness check to a caller that scans the values anyway
    (it must then call `check_finite_weights` when it finds a non-finite value)."""
    array = np.asarray(weights)
    if array.dtype.kind not in "fiub":
        raise ValueError(f"{name} dtype={array.dtype} is invalid; allowed: a real numeric dtype")
    if shape is not None and tuple(array.shape) != tuple(shape):
        raise ValueError(f"{name} shape={tuple(array.shape)} is invalid; allowed: {tuple(shape)}")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if check_finite:
        check_finite_weights(array, name)
    return array


def check_finite_weights(array: np.ndarray, name: str = "weights") -> None:
    """One-line ValueError naming the first non-finite value of `array`, if any."""
    if array.size and not np.isfinite(array).all():
        bad = array[~np.isfinite(array)][0]
        raise ValueError(f"{name} value={float(bad)!r} is invalid; allowed: finite numbers")
