"""Magnitude pruning: which weights survive, and schedules for iterative prune → retrain.

Part of `compression` (DESIGN §3.1), the first step of prune → share → encode. A mask is a
bool array of the weights' shape, True where the weight survives. Pruned weights are set to
exactly zero. Keeping the mask enforced while retraining is `compression.retraining`'s job.

- `magnitude_mask(weights, density)`: keeps exactly round(density × n) weights, the largest
  |w|. Ties at the threshold magnitude are broken by position (C order, first wins), so the
  count is exact and the result deterministic.
- `threshold_mask(weights, quality)`: keeps |w| > quality × std(w) (Han et al. 2015).
- `density_schedule(target, steps, start=1)`: the densities of an iterative schedule, geometric
  from `start` (1: the dense layer; a pruning trajectory's previous checkpoint otherwise) to
  `target` (each step removes the same fraction of the survivors).
"""

from __future__ import annotations

import numpy as np

from compression.checks import canonical_weights, check_fraction, check_int, check_positive


def kept_count(n_weights: int, density: float) -> int:
    """Number of weights a layer of `n_weights` keeps at `density` (round half to even)."""
    return int(round(check_fraction("density", density) * n_weights))


def magnitude_mask(weights: np.ndarray, density: float) -> np.ndarray:
    """bool mask keeping exactly round(density × n) largest-magnitude weights."""
    values = canonical_weights(weights)
    n = values.size
    keep = kept_count(n, density)
    mask = np.zeros(n, dtype=bool)
    if keep == 0:
        return mask.reshape(values.shape)
    magnitude = np.abs(values.ravel())
    if keep == n:
        mask[:] = True
        return mask.reshape(values.shape)
    threshold = np.partition(magnitude, n - keep)[n - keep]
    above = magnitude > threshold
    mask |= above
    missing = keep - int(np.count_nonzero(above))
    tied = np.flatnonzero(magnitude == threshold)
    mask[tied[:missing]] = True
    return mask.reshape(values.shape)


def threshold_mask(weights: np.ndarray, quality: float) -> np.ndarray:
    """bool mask keeping |w| > quality × std(w) (std over the whole layer, float64)."""
    quality = check_positive("quality", quality)
    values = canonical_weights(weights)
    if values.size == 0:
        return np.zeros(values.shape, dtype=bool)
    threshold = quality * float(np.std(values, dtype=np.float64))
    return np.abs(values.astype(np.float64)) > threshold


def apply_mask(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """float32 copy of `weights` with pruned entries set to exactly 0.0 (never -0.0)."""
    values = canonical_weights(weights)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != values.shape:
        raise ValueError(f"mask shape={mask.shape} is invalid; allowed: {values.shape}")
    return np.where(mask, values, np.float32(0.0)).astype(np.float32)


def density_schedule(target_density: float, steps: int, start: float = 1.0) -> list[float]:
    """Densities of an iterative prune → retrain schedule from density `start` (1: dense):
    start × (target / start) ** (s / steps), s = 1..steps.

    One step prunes straight to the target; the last density is always exactly the target.
    With start = 1 the values are target ** (s / steps), bit for bit."""
    target_density = check_fraction("density", target_density)
    start = check_fraction("start density", start)
    steps = check_int("prune_steps", steps, 1, 100)
    if target_density > start:
        raise ValueError(
            f"density={target_density!r} is invalid; allowed: at most the start density {start!r}"
        )
    if start == 0.0:
        return [0.0] * steps
    ratio = target_density / start
    schedule = [start * ratio ** (s / steps) for s in range(1, steps)]
    return [*schedule, target_density]
