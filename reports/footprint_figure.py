"""The footprint figure: each on-chip memory's need against its capacity, per design point.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports`` (:mod:`reports.figures` lists it
for the HTML report). Reads only the result table's columns: the per-memory need and capacity
columns of the fit rule (``<memory>_need_bytes`` / ``<memory>_capacity_bytes``, total rows;
the rule itself is documented with the columns in :mod:`reports.columns`).

Every point gets one bar per memory — sparse-matrix SRAM, pointer SRAM, activation storage —
at its need / capacity (log scale, 100 % = full); the tallest bar is the binding memory, and a
point fits on chip when every bar stays below the 100 % line. Points are ordered by their
binding memory's utilization. A result table from before these columns existed gets the old
chart: model size (sparse + pointers) against the weight SRAM capacity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reports.figure_common import (
    LAYOUT,
    Figure,
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


def _has_memory_columns(totals: pd.DataFrame) -> bool:
    return all(f"{m}_{part}_bytes" in totals for m, _ in MEMORIES for part in ("need", "capacity"))


def footprint_figure(totals: pd.DataFrame) -> Figure:
    """Need / capacity of every on-chip memory of every point (module docstring)."""
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
            + hover_text(rec)
            for n, c, rec in zip(need, cap, df.to_dict("records"))
        ]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=(need / cap).to_numpy(float),
                name=name,
                marker_color=component_colour(memory),
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    fig.add_hline(
        y=1.0,
        line=dict(color="black", dash="dash"),
        annotation_text="capacity (100 %)",
        annotation_position="top left",
    )
    fig.update_layout(
        title=_TITLE,
        barmode="group",
        yaxis=dict(title="need / capacity", type="log", tickformat=".0%"),
        xaxis=dict(
            type="category",
            categoryorder="array",
            categoryarray=labels,
            tickangle=-45,
            showticklabels=len(labels) <= 60,  # many points: labels in the hover only
            title="design points (by the binding memory's need / capacity)",
        ),
        **{**LAYOUT, "height": 520},
    )
    fits = df["fits_onchip"].fillna(False).astype(bool) if "fits_onchip" in df else None
    n_fit = int(fits.sum()) if fits is not None else 0
    caption = (
        "One bar per on-chip memory: its need over its capacity. The tallest bar of a point is "
        "its binding memory; a point fits on chip when no bar crosses 100 %. Needs: "
        "sparse-matrix SRAM and pointer SRAM sum over the layers (all stay resident), the "
        "activation storage needs twice the largest feature map (half in, half out). "
        f"{n_fit} of {len(df)} points fit."
    )
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
