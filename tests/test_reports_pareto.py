"""Pareto fronts and the best-point rule, streamed over batches, against plain references:
an O(n²) dominance check, and the best-point rule as one sort of the whole table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from reports.best_point import ACCURACY_METRICS, ACCURACY_TOLERANCE, BestPointScan, best_points
from reports.pareto import ParetoFront, pareto_mask


def brute_force_front(x, y) -> np.ndarray:
    """Point i is optimal when no point j dominates it (x_j <= x_i, y_j >= y_i, one strict)
    and no identical point comes before it; NaN coordinates are never optimal. O(n²)."""
    n = len(x)
    mask = np.zeros(n, dtype=bool)
    for i in range(n):
        if math.isnan(x[i]) or math.isnan(y[i]):
            continue
        beaten = False
        for j in range(n):
            if j == i or math.isnan(x[j]) or math.isnan(y[j]):
                continue
            dominates = x[j] <= x[i] and y[j] >= y[i] and (x[j] < x[i] or y[j] > y[i])
            duplicate_before = x[j] == x[i] and y[j] == y[i] and j < i
            if dominates or duplicate_before:
                beaten = True
                break
        mask[i] = not beaten
    return mask


# few distinct values (many ties and duplicates), and NaNs
_value = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, 7.0]), st.just(math.nan))
_points = st.lists(st.tuples(_value, _value), min_size=0, max_size=60)


@given(_points)
def test_pareto_mask_equals_brute_force(points):
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    assert pareto_mask(x, y).tolist() == brute_force_front(x, y).tolist()


@given(_points, st.lists(st.integers(1, 20), min_size=1, max_size=8))
def test_streamed_front_equals_brute_force_whatever_the_batches(points, cuts):
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    front = ParetoFront()
    start, k = 0, 0
    while start < len(x):
        stop = start + cuts[k % len(cuts)]
        front.add(x[start:stop], y[start:stop], np.arange(start, min(stop, len(x))))
        start, k = stop, k + 1
    assert front.ordinals().tolist() == np.flatnonzero(brute_force_front(x, y)).tolist()


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=300))
def test_streamed_front_of_continuous_values(points):
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    front = ParetoFront()
    for start in range(0, len(x), 7):
        front.add(x[start : start + 7], y[start : start + 7], np.arange(start, len(x))[:7])
    assert front.ordinals().tolist() == np.flatnonzero(brute_force_front(x, y)).tolist()


def reference_best_points(totals: pd.DataFrame) -> list[tuple[str, str]]:
    """The rule (reports.best_point.BEST_POINT_RULE) as one sort of the whole table:
    (network, point id) per network, first-seen order."""
    totals = totals[totals["status"].fillna("ok") == "ok"]
    picks = []
    for network in dict.fromkeys(totals["network"].astype(str)):
        group = totals[totals["network"].astype(str) == network]
        meets = group["meets_target"].fillna(False).astype(bool)
        candidates = group[meets] if meets.any() else group
        metric = next(
            (m for m in ACCURACY_METRICS if m in candidates and candidates[m].notna().any()), None
        )
        if metric is not None:
            accuracy = candidates[metric]
            best = accuracy.max()
            candidates = candidates[
                accuracy.isna() | (accuracy >= best - ACCURACY_TOLERANCE - 1e-12)
            ]
        keys = ["energy_mj", "latency_ms"] if meets.any() else ["latency_ms", "energy_mj"]
        pick = candidates.sort_values(
            [*keys, "point_id"], na_position="last", kind="mergesort"
        ).iloc[0]
        picks.append((network, str(pick["point_id"])))
    return picks


_row = st.fixed_dictionaries(
    {
        "network": st.sampled_from(["a", "b", "c"]),
        "status": st.sampled_from(["ok", "ok", "ok", "error"]),
        "meets_target": st.booleans(),
        "energy_mj": st.sampled_from([1.0, 2.0, 3.0, math.nan]),
        "latency_ms": st.sampled_from([1.0, 2.0, 5.0, math.nan]),
        "top1": st.sampled_from([0.9, 0.895, 0.85, 0.7, math.nan]),
    }
)


@given(st.lists(_row, min_size=1, max_size=40), st.integers(1, 9))
def test_streamed_best_points_equal_the_whole_table_rule(rows, batch):
    totals = pd.DataFrame(rows)
    totals["point_id"] = [f"p{i:03d}" for i in range(len(totals))][::-1]  # ids not in order
    totals.loc[totals["network"] == "c", "top1"] = math.nan  # a network without accuracy
    scan = BestPointScan()
    batches = [totals.iloc[i : i + batch] for i in range(0, len(totals), batch)]
    for part in batches:
        scan.observe(part)
    for part in batches:
        scan.consider(part)
    streamed = scan.result()
    assert list(zip(streamed["network"], streamed["point_id"])) == reference_best_points(totals)
    whole = best_points(totals)
    assert whole["point_id"].tolist() == streamed["point_id"].tolist()
