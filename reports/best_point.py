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

import math

import numpy as np
import pandas as pd

__all__ = [
    "ACCURACY_METRICS",
    "ACCURACY_TOLERANCE",
    "BEST_POINT_RULE",
    "BestPointScan",
    "best_points",
]

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


class BestPointScan:
    """The rule (:data:`BEST_POINT_RULE`) over a table streamed in batches of total rows: pass
    1 (:meth:`observe`, every batch) learns per network whether any point meets the target
    and the best known accuracy among the candidates; pass 2 (:meth:`consider`, every batch
    again, in the same order) keeps per network the one candidate that sorts first. Memory
    is one row per network; the picks equal those of sorting the whole table."""

    COLUMNS = ("point_id", "network", "status", "meets_target", "energy_mj", "latency_ms")
    COLUMNS += ACCURACY_METRICS

    def __init__(self):
        self._meets: dict[str, bool] = {}  # network → any point meets the target (first-seen)
        # network → metric → [max among meeting points, max among all points] (NaN: none)
        self._best_accuracy: dict[str, dict[str, list[float]]] = {}
        self._picks: dict[str, pd.DataFrame] = {}
        self._dropped: dict[str, bool] = {}

    @staticmethod
    def _prepare(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        frame = _ok(frame)
        networks = (
            frame["network"].astype(str)
            if "network" in frame
            else pd.Series("", index=frame.index, dtype=object)
        )
        meets = (
            frame["meets_target"].fillna(False).astype(bool)
            if "meets_target" in frame
            else pd.Series(False, index=frame.index)
        )
        return frame, networks, meets

    def observe(self, frame: pd.DataFrame) -> None:
        """Pass 1 over a batch of total rows."""
        frame, networks, meets = self._prepare(frame)
        if frame.empty or "point_id" not in frame:
            return
        for network in dict.fromkeys(networks):
            sel = (networks == network).to_numpy()
            here = meets.to_numpy()[sel]
            self._meets[network] = self._meets.get(network, False) or bool(here.any())
            stats = self._best_accuracy.setdefault(network, {})
            for metric in ACCURACY_METRICS:
                if metric not in frame:
                    continue
                values = pd.to_numeric(frame[metric], errors="coerce").to_numpy(float)[sel]
                best = stats.setdefault(metric, [math.nan, math.nan])
                for k, part in enumerate((values[here], values)):
                    part = part[~np.isnan(part)]
                    if part.size:
                        best[k] = float(np.fmax(best[k], part.max()))

    def _metric(self, network: str) -> tuple[str | None, float]:
        """The accuracy column compared for `network` and its best value among candidates."""
        k = 0 if self._meets.get(network) else 1
        for metric in ACCURACY_METRICS:
            best = self._best_accuracy.get(network, {}).get(metric)
            if best is not None and not math.isnan(best[k]):
                return metric, best[k]
        return None, math.nan

    def consider(self, frame: pd.DataFrame) -> None:
        """Pass 2 over a batch of total rows (after every batch went through :meth:`observe`)."""
        frame, networks, meets = self._prepare(frame)
        if frame.empty or "point_id" not in frame:
            return
        for network in dict.fromkeys(networks):
            sel = networks == network
            meets_any = self._meets.get(network, False)
            candidates = frame[sel & meets] if meets_any else frame[sel]
            metric, best = self._metric(network)
            if metric is not None and len(candidates):
                accuracy = pd.to_numeric(candidates[metric], errors="coerce")
                keep = accuracy.isna() | (accuracy >= best - ACCURACY_TOLERANCE - 1e-12)
                self._dropped[network] = self._dropped.get(network, False) or not keep.all()
                candidates = candidates[keep]
            if candidates.empty:
                continue
            order = ("energy_mj", "latency_ms") if meets_any else ("latency_ms", "energy_mj")
            keys = [k for k in (*order, "point_id") if k in candidates]
            previous = self._picks.get(network)
            pool = candidates if previous is None else pd.concat([previous, candidates])
            pick = pool.sort_values(keys, na_position="last", kind="mergesort").iloc[:1]
            self._picks[network] = pick

    def pick_records(self) -> dict[str, dict]:
        """network → the picked point's row (the columns :meth:`consider` was given)."""
        return {network: pick.iloc[0].to_dict() for network, pick in self._picks.items()}

    def result(self) -> pd.DataFrame:
        """One row per network (first-seen order), as :func:`best_points` returns."""
        columns = ["network", "point_id", "meets_target", "accuracy_metric", "why"]
        picks = []
        for network, pick in self._picks.items():
            meets_any = self._meets.get(network, False)
            metric, _ = self._metric(network)
            why = (
                "lowest energy at the target frame rate"
                if meets_any
                else "fastest: no point meets the target frame rate"
            )
            if metric is not None and self._dropped.get(network):
                why += f", {metric} within {ACCURACY_TOLERANCE * 100:g} point of the best"
            picks.append(
                {
                    "network": network,
                    "point_id": str(pick["point_id"].iloc[0]),
                    "meets_target": bool(meets_any),
                    "accuracy_metric": metric,
                    "why": why,
                }
            )
        order = list(self._meets)
        picks.sort(key=lambda p: order.index(p["network"]))
        return pd.DataFrame(picks, columns=columns)


def _ok(totals: pd.DataFrame) -> pd.DataFrame:
    if "status" in totals:
        totals = totals[totals["status"].fillna("ok") == "ok"]
    return totals


def best_points(totals: pd.DataFrame) -> pd.DataFrame:
    """One row per network (first-seen order): ``network``, ``point_id``, ``meets_target``
    (whether the pick meets the target frame rate), ``accuracy_metric`` (the column compared,
    or None) and ``why`` (the rule's outcome in words). Empty when no point ran. The same
    picks as :class:`BestPointScan` over the table in batches."""
    scan = BestPointScan()
    scan.observe(totals)
    scan.consider(totals)
    return scan.result()
