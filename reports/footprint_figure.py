"""The footprint figure: each on-chip memory's need against its capacity, per design point.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports`` (:mod:`reports.figures` lists it
for the HTML report). Reads only the result table's columns: the per-memory need and capacity
columns of the fit rule (``<memory>_need_bytes`` / ``<memory>_capacity_bytes``, total rows;
the rule itself is documented with the columns in :mod:`reports.columns`).

Every point gets one bar per memory — sparse-matrix SRAM, pointer SRAM, activation storage —
at its need / capacity (horizontal, log scale, 100 % = full); the longest bar is the binding
memory, and a point fits on chip when every bar stays left of the 100 % line. Points are
ordered by their binding memory's utilization, the tightest fit first. A result table from
before these columns existed gets the old chart: model size (sparse + pointers) against the
weight SRAM capacity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reports.figure_common import (
    LAYOUT,
    Figure,
    brief_hover,
    component_colour,
    hover_text,
    message_figure,
    point_label,
)
from reports.formatting import format_bytes

MEMORIES = (
    ("sparse_sram", "sparse-matrix SRAM"),
    ("pointer_sram", "pointer SRAM"),
    ("activation", "activation storage"),
)
_TITLE = "On-chip memory need vs capacity"
_ROW_PX = 30  # per design point (three bars)
_MAX_HEIGHT_PX = 2400
#: Most points the figure draws (three bars each); a larger sweep draws each network's best
#: point, then the Pareto-optimal points, then a deterministic sample (smallest point-id hash).
FOOTPRINT_POINTS = 150
_FULL_HOVER_POINTS = 80  # beyond, a bar's hover is brief (label and main metrics)
_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)


def _has_memory_columns(totals: pd.DataFrame) -> bool:
    return all(f"{m}_{part}_bytes" in totals for m, _ in MEMORIES for part in ("need", "capacity"))


def footprint_points(drawn: pd.DataFrame, best_ids=()) -> pd.DataFrame:
    """At most :data:`FOOTPRINT_POINTS` of the drawn points: best first, then Pareto-optimal
    (``_front``), then by the sampling hash (``_hash``), in table order."""
    if len(drawn) <= FOOTPRINT_POINTS:
        return drawn
    best = drawn["point_id"].astype(str).isin(list(best_ids)).to_numpy()
    front = drawn["_front"].to_numpy(bool) if "_front" in drawn else np.zeros(len(drawn), bool)
    key = drawn["_hash"].to_numpy() if "_hash" in drawn else np.arange(len(drawn))
    order = np.lexsort((np.arange(len(drawn)), key, ~front, ~best))[:FOOTPRINT_POINTS]
    return drawn.iloc[np.sort(order)]


def footprint_figure(
    totals: pd.DataFrame, *, total_points: int | None = None, total_fit: int | None = None
) -> Figure:
    """Need / capacity of every on-chip memory of every point (module docstring); with
    ``total_points`` (the sweep's ok points, when `totals` is a selection of them) the caption
    says how many are shown and how many of all fit (``total_fit``)."""
    fid = "footprint"
    if totals.empty or "model_bytes" not in totals:
        return Figure(fid, _TITLE, message_figure(_TITLE, "no footprint data"))
    if not _has_memory_columns(totals):
        return _legacy_footprint(totals)
    ratio = {
        m: pd.to_numeric(totals[f"{m}_need_bytes"], errors="coerce")
        / pd.to_numeric(totals[f"{m}_capacity_bytes"], errors="coerce")
        for m, _ in MEMORIES
    }
    binding = pd.concat(ratio, axis=1).max(axis=1)
    order = np.lexsort((totals["point_id"].astype(str).to_numpy(), binding.to_numpy()))
    df = totals.iloc[order].reset_index(drop=True)
    labels = [point_label(r) for r in df.to_dict("records")]
    fig = go.Figure()
    for memory, name in MEMORIES:
        need = pd.to_numeric(df[f"{memory}_need_bytes"], errors="coerce")
        cap = pd.to_numeric(df[f"{memory}_capacity_bytes"], errors="coerce")
        hover = [
            f"{name}: needs {format_bytes(n)} of {format_bytes(c)} ({n / c:.0%})"
            + (" — overflows" if n > c else "")
            + "<br>"
            + (hover_text(rec) if len(df) <= _FULL_HOVER_POINTS else brief_hover(rec))
            for n, c, rec in zip(need, cap, df.to_dict("records"))
        ]
        fig.add_trace(
            go.Bar(
                y=labels,
                x=(need / cap).to_numpy(float),
                orientation="h",
                name=name,
                marker_color=component_colour(memory),
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    capacity_line = dict(color="black", dash="dash")
    fig.add_vline(x=1.0, line=capacity_line)
    fig.add_trace(  # the line's legend entry
        go.Scatter(x=[None], y=[None], mode="lines", line=capacity_line, name="capacity (100 %)")
    )
    ratios = np.concatenate([np.asarray(t.x, dtype=float) for t in fig.data if t.x is not None])
    ratios = ratios[np.isfinite(ratios) & (ratios > 0)]
    lo, hi = (float(ratios.min()), float(ratios.max())) if ratios.size else (0.5, 2.0)
    ticks = [v for v in _TICKS if lo / 2.5 <= v <= hi * 2.5] or [1.0]
    height = int(min(_MAX_HEIGHT_PX, 170 + _ROW_PX * len(labels)))
    fig.update_layout(
        title=_TITLE,
        barmode="group",
        xaxis=dict(
            title="need / capacity (log scale)",
            type="log",
            tickvals=ticks,
            ticktext=[f"{v:.0%}" for v in ticks],
        ),
        yaxis=dict(
            type="category",
            categoryorder="array",
            categoryarray=labels,
            autorange="reversed",
            showticklabels=len(labels) <= 80,  # many points: labels in the hover only
            title="",
        ),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0, yanchor="bottom"),
        **{**LAYOUT, "height": height, "margin": {**LAYOUT["margin"], "l": 20}},
    )
    fig.update_yaxes(automargin=True)
    fits = df["fits_onchip"].fillna(False).astype(bool) if "fits_onchip" in df else None
    n_fit = int(fits.sum()) if fits is not None else 0
    caption = (
        "One bar per on-chip memory: its need over its capacity. The longest bar of a point is "
        "its binding memory; a point fits on chip when no bar crosses 100 %. Needs: "
        "sparse-matrix SRAM and pointer SRAM sum over the layers (all stay resident), the "
        "activation storage needs twice the largest feature map (half in, half out). "
        f"{n_fit} of {len(df)} points fit."
    )
    if total_points is not None and total_points > len(df):
        caption += (
            f" Shown: {len(df):,} of {total_points:,} points (each network's best point, then "
            "Pareto-optimal points, then a deterministic sample: the smallest hashes of the "
            "point ids)."
        )
        if total_fit is not None:
            caption += f" Of all {total_points:,} points, {total_fit:,} fit on chip."
    return Figure(fid, _TITLE, fig, caption)


def _legacy_footprint(totals: pd.DataFrame) -> Figure:
    """Model size (sparse-matrix words + pointers) against the weight SRAM capacity."""
    title = "Model size on chip vs weight SRAM capacity"
    df = totals.sort_values(["model_bytes", "point_id"], kind="mergesort").reset_index(drop=True)
    labels = [point_label(r) for r in df.to_dict("records")]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=labels,
            y=pd.to_numeric(df["model_bytes"], errors="coerce") * 1e-6,
            name="model size on chip",
            marker_color=component_colour("sparse_sram"),
            customdata=[hover_text(r) for r in df.to_dict("records")],
            hovertemplate="%{y:.3f} MB<br>%{customdata}<extra></extra>",
        )
    )
    if "onchip_bytes" in df:
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=pd.to_numeric(df["onchip_bytes"], errors="coerce") * 1e-6,
                mode="markers",
                marker=dict(symbol="line-ew", size=22, line=dict(width=3, color="black")),
                name="weight SRAM capacity (sparse + pointer)",
                hovertemplate="capacity %{y:.3f} MB<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        yaxis=dict(title="MB"),
        xaxis=dict(type="category", categoryorder="array", categoryarray=labels, tickangle=-45),
        **LAYOUT,
    )
    return Figure(
        "footprint",
        title,
        fig,
        "This result table has no per-memory columns (it predates them): rerun the sweep to "
        "see which memory binds.",
    )
