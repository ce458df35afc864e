"""Figures of the small-device trade-off (:mod:`reports.tradeoff`): accuracy vs model size vs
latency per network with the on-chip SRAM and frame-rate lines, and the knees of accuracy vs
density and vs bits.

Place in the flow: ``sweep ──► results.parquet ──► reports`` (drawn by
:mod:`reports.html_report` from the scan's :class:`reports.tradeoff.TradeoffData` and the drawn
points of :mod:`reports.report_scan`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.figure_common import ACC_LABEL, LAYOUT, Figure, brief_hover, message_figure
from reports.formatting import format_bytes
from reports.tradeoff import TradeoffData, knee_index

__all__ = ["knee_figure", "tradeoff_figure", "MAX_CAPACITY_LINES"]

#: Points from which the latency panel draws with WebGL (as the report's other scatters).
WEBGL_POINTS = 1_000
#: Most on-chip capacity lines drawn per panel (the smallest, the largest and evenly between).
MAX_CAPACITY_LINES = 4
_MAX_NETWORKS = 4
_MB = 1e-6


def _capacity_lines(capacities: list[float]) -> list[float]:
    if len(capacities) <= MAX_CAPACITY_LINES:
        return list(capacities)
    picks = np.linspace(0, len(capacities) - 1, MAX_CAPACITY_LINES).round().astype(int)
    return [capacities[i] for i in dict.fromkeys(picks.tolist())]


def _top_label(fig: go.Figure, row: int, col: int, x: float, text: str, left: bool) -> None:
    """A label at the top of a vertical line at data value `x` of a log x axis (annotations
    on log axes take log10 of the value; shapes take the value)."""
    index = (row - 1) * 2 + col
    suffix = "" if index == 1 else str(index)
    fig.add_annotation(
        x=math.log10(x), y=1.0, xref=f"x{suffix}", yref=f"y{suffix} domain", text=text,
        showarrow=False, font_size=10, xanchor="left" if left else "right", yanchor="top",
        bgcolor="rgba(255,255,255,0.8)",
    )  # fmt: skip


def _setting_label(row) -> str:
    parts = []
    for column, name in (("density_scale", "density ×"), ("conv_bits", "conv"), ("fc_bits", "fc")):
        if column in row and pd.notna(row[column]):
            value = row[column]
            parts.append(f"{name}{value:g}" if column == "density_scale" else f"{name} {value:g} b")
    return ", ".join(parts)


def tradeoff_figure(data: TradeoffData, drawn: pd.DataFrame) -> Figure:
    """Per network (a row): accuracy vs model size (each compression setting; filled marker
    where some accelerator meets the target) with the sweep's on-chip weight capacities as
    vertical lines, and accuracy vs latency (the drawn design points, coloured by model size)
    with the frame-rate deadline."""
    fid, title = "tradeoff", "Accuracy vs model size vs latency"
    networks = data.networks()
    if not networks:
        return Figure(fid, title, message_figure(title, "accuracy not measured"))
    shown = networks[:_MAX_NETWORKS]
    label = ACC_LABEL.get(data.metric or "", "accuracy")
    titles = []
    for network in shown:
        titles += [f"{network}: {label} vs model size", f"{network}: {label} vs latency"]
    fig = make_subplots(
        rows=len(shown),
        cols=2,
        subplot_titles=titles,
        horizontal_spacing=0.1,
        vertical_spacing=0.14,
    )
    deadline_ms = 1000.0 / data.target_fps if data.target_fps else None
    lines = _capacity_lines(data.capacities)
    for r, network in enumerate(shown, start=1):
        s = data.settings[data.settings["network"].astype(str) == network]
        s = s[np.isfinite(s["accuracy"].to_numpy(float))]
        meets = s["any_meets"].fillna(False).astype(bool).to_numpy()
        hover = [
            f"{_setting_label(row)}<br>{label} {row['accuracy']:.2%}<br>model "
            f"{format_bytes(row['model_bytes'])}<br>fastest {row['fastest_ms']:.3g} ms"
            for _, row in s.iterrows()
        ]
        fig.add_trace(
            go.Scatter(
                x=s["model_bytes"].to_numpy(float) * _MB,
                y=s["accuracy"].to_numpy(float) * 100,
                mode="markers",
                name="compression setting",
                legendgroup="setting",
                showlegend=r == 1,
                marker=dict(
                    size=9,
                    color="#1f77b4",
                    symbol=["circle" if m else "circle-open" for m in meets],
                    line_width=1.5,
                ),
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
            ),
            row=r,
            col=1,
        )
        for i, capacity in enumerate(lines):
            fig.add_vline(x=capacity * _MB, line_dash="dot", line_color="#7f7f7f", row=r, col=1)
            if i in (0, len(lines) - 1):
                _top_label(fig, r, 1, capacity * _MB, f"SRAM {format_bytes(capacity)}", i == 0)
        points = drawn[drawn["network"].astype(str) == network] if "network" in drawn else drawn
        metric = data.metric
        if metric and metric in points and "latency_ms" in points and len(points):
            acc = pd.to_numeric(points[metric], errors="coerce").to_numpy(float)
            keep = np.isfinite(acc)
            points = points[keep]
            size = pd.to_numeric(points.get("model_bytes"), errors="coerce")
            scatter = go.Scattergl if len(points) >= WEBGL_POINTS else go.Scatter
            fig.add_trace(
                scatter(
                    x=pd.to_numeric(points["latency_ms"], errors="coerce").to_numpy(float),
                    y=acc[keep] * 100,
                    mode="markers",
                    name="design point (colour: model MB)",
                    legendgroup="point",
                    showlegend=r == 1,
                    marker=dict(
                        size=6,
                        color=size.to_numpy(float) * _MB,
                        colorscale="Viridis",
                        showscale=r == 1,
                        colorbar=dict(title="model MB", len=0.4, y=0.8),
                    ),
                    customdata=[brief_hover(rec) for rec in points.to_dict("records")],
                    hovertemplate="%{customdata}<extra></extra>",
                ),
                row=r,
                col=2,
            )
        if deadline_ms:
            fig.add_vline(x=deadline_ms, line_dash="dash", line_color="#d62728", row=r, col=2)
            _top_label(fig, r, 2, deadline_ms, f"{data.target_fps:g} fps", False)
        fig.update_xaxes(title_text="model size (MB)", type="log", row=r, col=1)
        fig.update_xaxes(title_text="latency (ms)", type="log", row=r, col=2)
        fig.update_yaxes(title_text=f"{label} (%)", row=r, col=1)
        fig.update_yaxes(title_text=f"{label} (%)", row=r, col=2)
    fig.update_layout(
        **{**LAYOUT, "height": 120 + 360 * len(shown)},
        title=title,
        legend=dict(orientation="h", x=0, y=-0.22 / len(shown), yanchor="top"),
    )
    caption = (
        "Left: each compression setting once (its accuracy does not depend on the hardware); "
        "filled: some accelerator of the sweep runs it at the target frame rate; dotted lines: "
        "the on-chip weight capacities (sparse-matrix + pointer SRAM) of the sweep's "
        "accelerators, smallest to largest. Right: the design points drawn, the dashed line "
        "the frame-rate deadline."
    )
    if len(networks) > len(shown):
        caption += f" Showing {len(shown)} of {len(networks)} networks."
    return Figure(fid, title, fig, caption)


def knee_figure(data: TradeoffData) -> Figure:
    """Per network (a row): accuracy vs density scale, vs conv bits and vs fc bits, each with
    the other axes at their most accurate values, the knee ringed."""
    fid, title = "knees", "Knees of accuracy vs density and vs bits"
    networks = data.networks()
    if not networks:
        return Figure(fid, title, message_figure(title, "accuracy not measured"))
    shown = networks[:_MAX_NETWORKS]
    axes = (("density_scale", "density scale"), ("conv_bits", "conv bits"), ("fc_bits", "fc bits"))
    label = ACC_LABEL.get(data.metric or "", "accuracy")
    titles = [f"{n}: vs {name}" for n in shown for _, name in axes]
    fig = make_subplots(rows=len(shown), cols=3, subplot_titles=titles, vertical_spacing=0.14)
    for r, network in enumerate(shown, start=1):
        for c, (axis, name) in enumerate(axes, start=1):
            curve = data.curve(network, axis)
            if curve.empty:
                continue
            x = curve[axis].to_numpy(float)
            y = curve["accuracy"].to_numpy(float) * 100
            fig.add_trace(
                go.Scatter(
                    x=x, y=y, mode="lines+markers", name=name, showlegend=False,
                    line_color="#1f77b4",
                    hovertemplate=f"{name} %{{x}}<br>{label} %{{y:.2f}}%<extra></extra>",
                ),
                row=r, col=c,
            )  # fmt: skip
            k = knee_index(x, y / 100)
            if k is not None:
                fig.add_trace(
                    go.Scatter(
                        x=[x[k]], y=[y[k]], mode="markers", name="knee",
                        showlegend=r == 1 and c == 1,
                        marker=dict(size=16, symbol="circle-open", color="#d62728", line_width=2),
                        hovertemplate=f"knee: {name} %{{x}}<extra></extra>",
                    ),
                    row=r, col=c,
                )  # fmt: skip
            fig.update_xaxes(title_text=name, row=r, col=c)
            fig.update_yaxes(title_text=f"{label} (%)", row=r, col=c)
    fig.update_layout(**{**LAYOUT, "height": 80 + 320 * len(shown)}, title=title)
    caption = (
        "Each curve varies one axis with the others at their most accurate values. Knee "
        "(Kneedle, Satopää et al. 2011): where accuracy above the chord from the curve's first "
        "to its last point is largest, both scaled to [0, 1]; a curve spanning under 0.5 "
        "points, or about straight (largest scaled bend under 0.1), has none."
    )
    return Figure(fid, title, fig, caption)
