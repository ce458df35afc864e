"""The small-device trade-off at a glance, per network: accuracy against model size and
latency, the smallest accelerator that meets the frame rate and fits on chip within an accuracy
loss, and the knees of accuracy vs density and vs bits.

Place in the flow: ``sweep ──► results.parquet ──► reports``. :class:`TradeoffScan` is fed
the ok total rows of every batch of one streamed pass of :func:`reports.report_scan.scan_table`
and keeps one row per compression setting (``network, density_profile, density_scale,
conv_bits, fc_bits``), so its memory grows with the settings, never with the hardware points.

Definitions (the report's captions repeat them):

- **Setting accuracy**: a setting's accuracy metric (top-1 where measured) is the same on every
  accelerator; the scan keeps its largest value (they are equal) and its model size.
- **Reference accuracy** of a network: the most accurate setting of the sweep (normally its
  densest, widest one). The *loss* of a setting is reference − setting accuracy, in percentage
  points of the metric.
- **Smallest accelerator** meeting the target within loss L: among the points with
  ``meets_target`` and ``fits_onchip`` whose setting loses at most L, the one with the least
  silicon area ``area_mm2`` where the table has it, else the least on-chip capacity (sparse +
  pointer + activation bytes); ties broken by fewer PEs, lower clock, lower energy, then point
  id (so the choice is deterministic and independent of the batch order).
- **Knee** (Kneedle, Satopää et al. 2011): on a curve of accuracy vs x sorted by x, both scaled
  to [0, 1], the x where scaled accuracy − scaled x (the bend) is largest — the point after
  which more density (or bits) buys little accuracy. A curve whose accuracy spans less than
  :data:`FLAT_SPAN` has no knee (flat within measurement noise), nor one whose largest bend is
  below :data:`MIN_BEND` (about straight), nor one of fewer than three points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.table_source import flag_values, number_values

__all__ = [
    "FLAT_SPAN",
    "LOSS_LEVELS",
    "MIN_BEND",
    "SETTING_COLUMNS",
    "TradeoffData",
    "TradeoffScan",
    "knee_index",
]

#: Accuracy losses (fractions of the metric: 0.01 = one percentage point) the table answers.
LOSS_LEVELS = (0.0, 0.005, 0.01, 0.02, 0.05)
#: The columns that identify a compression setting (those the table has are used).
SETTING_COLUMNS = ("network", "density_profile", "density_scale", "conv_bits", "fc_bits")
#: A curve whose accuracy spans less than this (fraction) has no knee.
FLAT_SPAN = 0.005
#: A curve whose largest scaled bend (scaled accuracy − scaled x) is below this is about
#: straight: no knee (a straight line's bend is 0, a right angle's 1).
MIN_BEND = 0.1
_CAPACITY = (
    "sparse_sram_capacity_bytes",
    "pointer_sram_capacity_bytes",
    "activation_capacity_bytes",
)
#: The columns of a candidate accelerator point the table shows.
CANDIDATE_COLUMNS = (
    "point_id",
    "accelerator",
    "n_pe",
    "clock_mhz",
    "sram_per_pe_kb",
    "area_mm2",
    "onchip_capacity_bytes",
    "fps",
    "latency_ms",
    "energy_mj",
)
_KEY = ("_area", "onchip_capacity_bytes", "n_pe", "clock_mhz", "energy_mj", "point_id")


def knee_index(x, y) -> int | None:
    """Index (into the arrays as given) of the Kneedle knee of accuracy `y` over `x`, or None
    when fewer than three finite points or a span of `y` below :data:`FLAT_SPAN`."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if finite.size < 3:
        return None
    xs, ys = x[finite], y[finite]
    if np.ptp(ys) < FLAT_SPAN or np.ptp(xs) <= 0:
        return None
    order = np.argsort(xs, kind="stable")
    xn = (xs[order] - xs.min()) / np.ptp(xs)
    yn = (ys[order] - ys.min()) / np.ptp(ys)
    bend = yn - xn
    if bend.max() < MIN_BEND:
        return None
    return int(finite[order[int(np.argmax(bend))]])


@dataclass
class TradeoffData:
    """What the trade-off figures and tables draw: one row per compression setting
    (``settings``: the setting columns, ``accuracy``, ``model_bytes``, ``fastest_ms``, any
    point meeting the target, then the setting's smallest candidate accelerator's columns
    prefixed ``best_``), the distinct on-chip weight capacities of the sweep's accelerators,
    the target frame rate and the metric."""

    settings: pd.DataFrame
    capacities: list[float]
    target_fps: float | None
    metric: str | None

    def networks(self) -> list[str]:
        """Networks with a measured (or published) accuracy for at least one setting."""
        if self.settings.empty:
            return []
        measured = self.settings[np.isfinite(self.settings["accuracy"].to_numpy(float))]
        return sorted(measured["network"].astype(str).unique().tolist())

    def smallest_table(self) -> pd.DataFrame:
        """Per network and loss level, the smallest accelerator meeting the target and fitting
        on chip with a setting within the loss (a row with empty point_id when there is none)."""
        rows = []
        for network in self.networks():
            s = self.settings[self.settings["network"].astype(str) == network]
            acc = s["accuracy"].to_numpy(float)
            reference = float(np.nanmax(acc))
            has = s["best_point_id"].notna().to_numpy()
            for loss in LOSS_LEVELS:
                ok = has & (acc >= reference - loss - 1e-12)
                row = {"network": network, "loss_allowed": loss, "reference": reference}
                if ok.any():
                    chosen = s[ok].sort_values(
                        [f"best{k}" if k == "_area" else f"best_{k}" for k in _KEY],
                        kind="mergesort",
                        na_position="last",
                    )
                    pick = chosen.iloc[0]
                    row.update(
                        {c: pick[c] for c in SETTING_COLUMNS if c in pick and c != "network"}
                    )
                    row.update({"accuracy": pick["accuracy"], "model_bytes": pick["model_bytes"]})
                    row.update({c: pick[f"best_{c}"] for c in CANDIDATE_COLUMNS})
                rows.append(row)
        return pd.DataFrame(rows)

    def curve(self, network: str, axis: str) -> pd.DataFrame:
        """Accuracy along one axis (``density_scale``, ``conv_bits`` or ``fc_bits``) with the
        other setting axes at their largest values (most accurate), in the network's most
        common density profile; sorted by the axis."""
        s = self.settings[self.settings["network"].astype(str) == network]
        s = s[np.isfinite(s["accuracy"].to_numpy(float))]
        if "density_profile" in s and s["density_profile"].notna().any():
            profile = s["density_profile"].astype(str).value_counts().sort_index().idxmax()
            s = s[s["density_profile"].astype(str) == profile]
        for other in ("density_scale", "conv_bits", "fc_bits"):
            if other != axis and other in s and len(s):
                s = s[s[other] == s[other].max()]
        if axis not in s:
            return s.iloc[0:0]
        return s.sort_values(axis, kind="mergesort").reset_index(drop=True)

    def knees(self) -> pd.DataFrame:
        """Per network and axis: the knee's x and accuracy, or NaN where the curve is flat or
        shorter than three points, with the curve's accuracy span."""
        rows = []
        for network in self.networks():
            for axis in ("density_scale", "conv_bits", "fc_bits"):
                c = self.curve(network, axis)
                k = knee_index(c[axis], c["accuracy"]) if len(c) else None
                span = float(np.ptp(c["accuracy"])) if len(c) else math.nan
                rows.append(
                    {
                        "network": network,
                        "axis": axis,
                        "points": len(c),
                        "accuracy_span": span,
                        "knee": math.nan if k is None else float(c[axis].iloc[k]),
                        "knee_accuracy": math.nan if k is None else float(c["accuracy"].iloc[k]),
                    }
                )
        return pd.DataFrame(rows)


class TradeoffScan:
    """Streaming collector of :class:`TradeoffData` (see the module docstring)."""

    #: The columns :meth:`observe` reads (those present are used).
    COLUMNS = (
        *SETTING_COLUMNS,
        "model_bytes",
        "latency_ms",
        "fps",
        "energy_mj",
        "meets_target",
        "fits_onchip",
        "target_fps",
        "point_id",
        "accelerator",
        "n_pe",
        "clock_mhz",
        "sram_per_pe_kb",
        "area_mm2",
        *_CAPACITY,
    )

    def __init__(self) -> None:
        self._settings: pd.DataFrame | None = None
        self._best: pd.DataFrame | None = None
        self._capacities: set[float] = set()
        self._target: float | None = None

    def observe(self, frame: pd.DataFrame, metric: str | None) -> None:
        """Add the ok total rows `frame` of one batch; `metric`: the accuracy column."""
        if frame.empty:
            return
        keys = [c for c in SETTING_COLUMNS if c in frame]
        part = frame[keys].copy()
        part["accuracy"] = number_values(frame, metric) if metric else np.nan
        part["model_bytes"] = number_values(frame, "model_bytes")
        part["fastest_ms"] = number_values(frame, "latency_ms")
        part["any_meets"] = flag_values(frame, "meets_target")
        agg = {"accuracy": "max", "model_bytes": "max", "fastest_ms": "min", "any_meets": "any"}
        grouped = part.groupby(keys, dropna=False, sort=False).agg(agg).reset_index()
        if self._settings is not None:
            grouped = pd.concat([self._settings, grouped], ignore_index=True)
            grouped = grouped.groupby(keys, dropna=False, sort=False).agg(agg).reset_index()
        self._settings = grouped
        if self._target is None and "target_fps" in frame and frame["target_fps"].notna().any():
            self._target = float(frame["target_fps"].dropna().iloc[0])
        weights = number_values(frame, "sparse_sram_capacity_bytes") + np.nan_to_num(
            number_values(frame, "pointer_sram_capacity_bytes")
        )
        if len(self._capacities) < 64:
            self._capacities.update(np.unique(weights[np.isfinite(weights)]).tolist())
        candidate = flag_values(frame, "meets_target") & flag_values(frame, "fits_onchip")
        if not candidate.any():
            return
        rows = frame.loc[candidate, keys].copy()
        picked = frame[candidate]
        for column in CANDIDATE_COLUMNS:
            if column == "onchip_capacity_bytes":
                values = sum(np.nan_to_num(number_values(picked, c)) for c in _CAPACITY)
            elif column in ("point_id", "accelerator"):
                values = picked[column].astype(str).to_numpy() if column in picked else ""
            else:
                values = number_values(picked, column)
            rows[f"best_{column}"] = values
        area = rows["best_area_mm2"].to_numpy(float)
        rows["best_area"] = np.where(np.isfinite(area), area, np.inf)
        if self._best is not None:
            rows = pd.concat([self._best, rows], ignore_index=True)
        order = [f"best{k}" if k == "_area" else f"best_{k}" for k in _KEY]
        rows = rows.sort_values(order, kind="mergesort", na_position="last")
        self._best = rows.drop_duplicates(keys, keep="first").reset_index(drop=True)

    def result(self, metric: str | None) -> TradeoffData:
        """The collected :class:`TradeoffData`."""
        columns = [*SETTING_COLUMNS, "accuracy", "model_bytes", "fastest_ms", "any_meets"]
        settings = self._settings if self._settings is not None else pd.DataFrame(columns=columns)
        if self._best is not None and len(settings):
            keys = [c for c in SETTING_COLUMNS if c in settings and c in self._best]
            settings = settings.merge(self._best, on=keys, how="left")
        for column in CANDIDATE_COLUMNS:
            if f"best_{column}" not in settings:
                settings[f"best_{column}"] = np.nan
        if "best_area" not in settings:
            settings["best_area"] = np.inf
        if "network" not in settings:
            settings["network"] = ""
        settings["best_point_id"] = settings["best_point_id"].where(
            settings["best_point_id"].notna(), None
        )
        return TradeoffData(settings, sorted(self._capacities), self._target, metric)
