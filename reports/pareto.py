"""Pareto fronts of a sweep in O(n log n), in memory or streamed over batches.

Place in the flow: part of ``reports`` (``sweep ──► tidy table ──► reports``); the report's
figures ring the Pareto-optimal points, the workbook keeps their per-layer rows. Reads only
numbers handed to it.

Semantics (one definition everywhere, :func:`pareto_mask`): minimise ``x``, maximise ``y``;
a point with a NaN coordinate is never optimal. Point *i* is optimal when no other point *j*
dominates it — ``x_j <= x_i`` and ``y_j >= y_i`` with one of them strict — and no identical
point (same x and y) comes before it in the table (exact duplicates: the first one is on the
front). Sorting by (x ascending, y descending, table order) and keeping the points whose y
beats every y before them gives exactly that set.

Streaming (:class:`ParetoFront`): the front of a union is the front of the union of the
parts' fronts, because dominance (with the table-order tie rule) is a strict partial order:
every point off its part's front is dominated by a point on it. So each batch's front is
merged with the running front — O(n log n) in all, memory bounded by the front's size — and
the result does not depend on how the table was split into batches.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ParetoFront", "pareto_mask"]


def pareto_mask(x, y, order=None) -> np.ndarray:
    """Pareto-optimal points when minimising ``x`` and maximising ``y`` (module docstring).
    ``order`` (default: position) breaks ties between identical points: lower first."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    order = np.arange(n) if order is None else np.asarray(order)
    mask = np.zeros(n, dtype=bool)
    valid = np.flatnonzero(~(np.isnan(x) | np.isnan(y)))
    if valid.size == 0:
        return mask
    ranked = valid[np.lexsort((order[valid], -y[valid], x[valid]))]
    ys = y[ranked]
    best_before = np.maximum.accumulate(np.concatenate(([-np.inf], ys[:-1])))
    mask[ranked[ys > best_before]] = True
    return mask


class ParetoFront:
    """The running Pareto front of points seen so far (minimise x, maximise y), each point
    identified by its ordinal (its position in the table, which also breaks ties)."""

    def __init__(self):
        self.x = np.empty(0)
        self.y = np.empty(0)
        self.ordinal = np.empty(0, dtype=np.int64)

    def add(self, x, y, ordinal) -> None:
        """Merge a batch of points into the front."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        ordinal = np.asarray(ordinal, dtype=np.int64)
        keep = pareto_mask(x, y, ordinal)
        x = np.concatenate((self.x, x[keep]))
        y = np.concatenate((self.y, y[keep]))
        ordinal = np.concatenate((self.ordinal, ordinal[keep]))
        keep = pareto_mask(x, y, ordinal)
        self.x, self.y, self.ordinal = x[keep], y[keep], ordinal[keep]

    def ordinals(self) -> np.ndarray:
        """The ordinals of the points on the front, ascending."""
        return np.sort(self.ordinal)

    def __len__(self) -> int:
        return len(self.ordinal)
