"""The best design point of each network: one rule, shared by the terminal and the report.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports``. The HTML report's summary, its
figures' default selection and ``dcsim sweep``'s terminal summary (``dcsim.summary``) all call
:func:`best_points`, so they always name the same points. It reads only the result table's
total rows.

The rule (:data:`BEST_POINT_RULE`), per network — accuracy is compared only within one
network, never across networks (each network has its own data set: digits top-1 and ImageNet
top-1 are different scales):

1. the network's points that ran; of those, the ones meeting the target frame rate, when any
   does (else all of them, and the summary says none meets it);
2. where accuracy is known (measured or published), drop the points more than
   :data:`ACCURACY_TOLERANCE` below the best accuracy among them — a point whose accuracy was
   not measured is not dropped, and it is labelled as such;
3. the lowest energy per inference (ties: the lower latency, then the point id) — or, when no
   point meets the target, the lowest latency (ties: the lower energy, then the point id): the
   point closest to the target.

Energy and latency already include DRAM traffic, so a point that does not fit on chip pays for
it there; whether it fits is shown next to it.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ACCURACY_METRICS", "ACCURACY_TOLERANCE", "BEST_POINT_RULE", "best_points"]

#: Accuracy columns in order of preference (the first one measured for a network is used).
ACCURACY_METRICS = ("top1", "top5", "retrieval_map", "precision_at_10")
#: How far below the network's best known accuracy a point may be (a fraction: 0.01 = one
#: percentage point).
ACCURACY_TOLERANCE = 0.01

BEST_POINT_RULE = (
    "Best point, per network (accuracy is compared only within a network, never across "
    "networks or data sets): among the network's points that meet the target frame rate (all "
    "its points if none does), drop those whose accuracy is known and more than "
    f"{ACCURACY_TOLERANCE * 100:g} percentage point below the best known accuracy, then take "
    "the lowest "
    "energy per inference (ties: lower latency, then point id); when no point meets the "
    "target, take the lowest latency instead (ties: lower energy, then point id)."
)


def _metric(group: pd.DataFrame) -> str | None:
    for metric in ACCURACY_METRICS:
        if metric in group and pd.to_numeric(group[metric], errors="coerce").notna().any():
            return metric
    return None


def _ok(totals: pd.DataFrame) -> pd.DataFrame:
    if "status" in totals:
        totals = totals[totals["status"].fillna("ok") == "ok"]
    return totals


def best_points(totals: pd.DataFrame) -> pd.DataFrame:
    """One row per network (first-seen order): ``network``, ``point_id``, ``meets_target``
    (whether the pick meets the target frame rate), ``accuracy_metric`` (the column compared,
    or None) and ``why`` (the rule's outcome in words). Empty when no point ran."""
    columns = ["network", "point_id", "meets_target", "accuracy_metric", "why"]
    totals = _ok(totals)
    if totals.empty or "point_id" not in totals:
        return pd.DataFrame(columns=columns)
    networks = totals["network"] if "network" in totals else pd.Series("", index=totals.index)
    picks = []
    for network in dict.fromkeys(networks.astype(str)):
        group = totals[networks.astype(str) == network]
        meets = (
            group["meets_target"].fillna(False).astype(bool)
            if "meets_target" in group
            else pd.Series(False, index=group.index)
        )
        candidates = group[meets] if meets.any() else group
        metric = _metric(candidates)
        why = (
            "lowest energy at the target frame rate"
            if meets.any()
            else "fastest: no point meets the target frame rate"
        )
        if metric is not None:
            accuracy = pd.to_numeric(candidates[metric], errors="coerce")
            keep = accuracy.isna() | (accuracy >= accuracy.max() - ACCURACY_TOLERANCE - 1e-12)
            if not keep.all():
                why += f", {metric} within {ACCURACY_TOLERANCE * 100:g} point of the best"
            candidates = candidates[keep]
        order = ("energy_mj", "latency_ms") if meets.any() else ("latency_ms", "energy_mj")
        keys = [k for k in (*order, "point_id") if k in candidates]
        pick = candidates.sort_values(keys, na_position="last", kind="mergesort").iloc[0]
        picks.append(
            {
                "network": network,
                "point_id": str(pick["point_id"]),
                "meets_target": bool(meets.any()),
                "accuracy_metric": metric,
                "why": why,
            }
        )
    return pd.DataFrame(picks, columns=columns)
