"""Plotly figures of a sweep: the Pareto-front scatters, and the list of all figures.

Place in the flow: ``sweep ──► tidy table ──► reports`` (this module builds the figures the
HTML report embeds; the heatmaps are in :mod:`reports.heatmaps`, the per-layer figures in
:mod:`reports.layer_figures`, the on-chip memory figure in :mod:`reports.footprint_figure`;
all of them draw what :func:`reports.report_scan.scan_table` gathered). It reads only the
result table's columns (:mod:`reports.columns`) and never imports the other dcsim packages.
Every function is
NaN-safe: failed points (``status == "error"``) are left out, and where no accuracy was measured
the accuracy figures say so instead of failing. Figures are deterministic (fixed colours,
sorted inputs, no timestamps).

Per-network facets never share an axis: accuracy and latency of different networks (and data
sets) are different scales, so each facet's axes span its own points; a reference line (the
frame-rate target, an SRAM capacity) far outside a facet's points is named in a note instead of
stretching the axis.

Large sweeps: a figure draws at most a bounded set of points (every Pareto-optimal point plus
a deterministic sample, :mod:`reports.report_scan`) and says so in its caption ("N of M points
shown; all Pareto-optimal points included"); from :data:`WEBGL_POINTS` points on it draws
with WebGL (``scattergl``), and beyond :data:`FULL_HOVER_POINTS` the ordinary points' hover is
short. Colours follow the accelerator when at most ten are drawn, else its preset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.area_figure import energy_area_figure
from reports.best_point import ACCURACY_METRICS, BEST_POINT_RULE, best_points
from reports.figure_common import (
    ACC_LABEL,
    LAYOUT,
    Figure,
    accelerator_colours,
    accuracy_metric,
    brief_hover,
    colour_groups,
    colour_keys,
    group_legend,
    hover_text,
    isnan,
    message_figure,
    ok_totals,
    pareto_mask,
    point_label,
)
from reports.footprint_figure import footprint_figure, footprint_points
from reports.formatting import format_number
from reports.heatmaps import HEAT, heatmap_figure, heatmap_of
from reports.layer_figures import breakdown_figure, load_balance_figure
from reports.report_scan import ReportData, scan_table
from reports.tradeoff_figures import knee_figure, tradeoff_figure

__all__ = [
    "ACCURACY_METRICS",
    "BEST_POINT_RULE",
    "Figure",
    "accuracy_metric",
    "best_points",
    "build_figures",
    "figures_of",
    "heatmap_figure",
    "pareto_figure",
    "hover_text",
    "ok_totals",
    "pareto_mask",
    "point_label",
]

# ----------------------------------------------------------------------------- Pareto
_PARETO_AXES = {
    "latency": ("latency_ms", "latency (ms)", 1.0),
    "energy": ("energy_mj", "energy per inference (mJ)", 1.0),
    "size": ("model_bytes", "model size on chip (MB)", 1e-6),
}
#: The scatter figures, in report order: energy vs latency, then accuracy vs each cost.
PARETO_FIGURES = ("energy-latency", "latency", "energy", "size")
# A reference line joins a facet's axis when it lies within this factor of the facet's points.
_REFERENCE_REACH = 2.0
#: A facet whose positive values span more than this factor gets a log axis (energy-latency).
_LOG_SPAN = 30.0
#: A scatter figure drawing at least this many points uses WebGL (plotly ``scattergl``).
WEBGL_POINTS = 1_000
#: Above this many points in a figure, a point's hover is short (its label and coordinates),
#: except for the Pareto-optimal and best points, which keep the full description.
FULL_HOVER_POINTS = 1_000


def facet_range(values, references=()) -> tuple[list[float], list[float], list[float]]:
    """(axis range, references drawn, references off scale) of one facet: the range spans the
    facet's own values (padded 8 %), widened only for references within a factor
    `_REFERENCE_REACH` of them."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [0.0, 1.0], [], list(references)
    lo, hi = float(v.min()), float(v.max())
    drawn, off = [], []
    for ref in references:
        near = lo / _REFERENCE_REACH <= ref <= hi * _REFERENCE_REACH if lo > 0 else ref <= hi * 2
        (drawn if near else off).append(float(ref))
    lo, hi = min([lo, *drawn]), max([hi, *drawn])
    pad = (hi - lo) * 0.08 if hi > lo else max(abs(hi) * 0.08, 1e-9)
    return [lo - pad, hi + pad], drawn, off


def _log_axis(values) -> bool:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return v.size > 1 and float(v.max()) / float(v.min()) > _LOG_SPAN


def _log_range(values, references=()) -> tuple[list[float], list[float], list[float]]:
    """:func:`facet_range` on a log axis (the range in log10 units, as plotly wants it)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    refs = [r for r in references if r > 0]
    (lo, hi), drawn, off = facet_range(np.log10(v), [float(np.log10(r)) for r in refs])
    back = dict(zip([float(np.log10(r)) for r in refs], refs))
    off = [back[r] for r in off] + [r for r in references if r <= 0]
    return [lo, hi], [back[r] for r in drawn], off


def cloud_note(drawn: int, total: int | None) -> str:
    """What a figure shows when a large sweep's cloud is reduced (empty when it shows all)."""
    if total is None or total <= drawn:
        return ""
    return (
        f"{drawn:,} of {total:,} points shown; all Pareto-optimal points included (with each "
        "network's best point, the lowest-energy points and a deterministic sample of the "
        "others: the smallest hashes of the point ids)."
    )


def _facet_scatter(
    totals: pd.DataFrame,
    fid: str,
    title: str,
    nets: list[str],
    axes: tuple[str, str, float, str, str, float],
    minimise_y: bool,
    which: str,
    total_points: int | None,
) -> tuple[go.Figure, list[str]]:
    """Scatter facets (one per network, own axes) with their Pareto fronts ringed."""
    x_col, xlabel, x_scale, y_col, ylabel, y_scale = axes
    colour_by, groups = colour_groups(totals)
    colour = accelerator_colours(groups)
    n_drawn = int(totals["network"].astype(str).isin(nets).sum())
    scatter = go.Scattergl if n_drawn >= WEBGL_POINTS else go.Scatter
    short = n_drawn > FULL_HOVER_POINTS
    fig = make_subplots(rows=1, cols=len(nets), subplot_titles=nets, horizontal_spacing=0.08)
    shown: set[str] = set()
    notes: list[str] = []
    for c, net in enumerate(nets, start=1):
        sub = totals[totals["network"].astype(str) == net].reset_index(drop=True)
        x = pd.to_numeric(sub[x_col], errors="coerce").to_numpy(float) * x_scale
        y = pd.to_numeric(sub[y_col], errors="coerce").to_numpy(float) * y_scale
        order_key = sub["_ordinal"].to_numpy() if "_ordinal" in sub else None
        opt = pareto_mask(x, -y if minimise_y else y, order_key)
        special = opt | (sub["_best"].to_numpy(bool) if "_best" in sub else False)
        fits = sub["fits_onchip"].fillna(False).astype(bool) if "fits_onchip" in sub else None
        keys = colour_keys(sub, colour_by)
        recs = sub.to_dict("records")
        for group in groups:
            sel = keys == group
            if not sel.any():
                continue
            idx = np.flatnonzero(sel)
            hovers = [
                brief_hover(recs[i]) if short and not special[i] else hover_text(recs[i])
                for i in idx
            ]
            name = group_legend(group, colour_by)
            fig.add_trace(
                scatter(
                    x=x[sel],
                    y=y[sel],
                    mode="markers",
                    name=name,
                    legendgroup=group,
                    showlegend=group not in shown,
                    marker=dict(
                        color=colour[group],
                        size=10 if not short else 7,
                        symbol=[
                            "circle" if fits is None or bool(fits[i]) else "circle-open"
                            for i in idx
                        ],
                        line_width=1.5,
                    ),
                    customdata=hovers,
                    hovertemplate="%{customdata}<extra></extra>",
                ),
                row=1,
                col=c,
            )
            shown.add(group)
        order = np.flatnonzero(opt)[np.argsort(x[opt], kind="mergesort")]
        fig.add_trace(
            scatter(
                x=x[order],
                y=y[order],
                mode="lines+markers",
                line=dict(shape="hv", color="black", dash="dot", width=1),
                marker=dict(size=16, symbol="circle-open", color="black", line_width=2),
                name="Pareto-optimal",
                legendgroup="pareto",
                showlegend=c == 1,
                hoverinfo="skip",
            ),
            row=1,
            col=c,
        )
        references: dict[float, tuple[str, str]] = {}
        if x_col == "latency_ms" and "target_fps" in sub:
            for fps in sorted(pd.to_numeric(sub["target_fps"], errors="coerce").dropna().unique()):
                if fps > 0:
                    references[1000.0 / fps] = (f"{fps:g} fps target", "red")
        if which == "size" and "onchip_bytes" in sub and colour_by == "accelerator":
            caps = sub.groupby("accelerator", sort=True)["onchip_bytes"].max()
            for acc, cap in caps.items():
                if not isnan(cap):
                    references[float(cap) * x_scale] = (
                        f"{acc} weight SRAM",
                        colour.get(str(acc), "grey"),
                    )
        log_x = _log_axis(x)
        ranger = _log_range if log_x else facet_range
        x_range, drawn, off = ranger(x, list(references))
        for ref in drawn:
            text, line_colour = references[ref]
            fig.add_vline(
                x=ref,
                line=dict(color=line_colour, dash="dash"),
                annotation_text=text,
                annotation_position="top left",
                row=1,
                col=c,
            )
        for ref in off:
            text, _ = references[ref]
            value = format_number(ref) + (" MB" if which == "size" else " ms")
            notes.append(f"{net}: {text} at {value} is off this panel's scale")
        fig.update_xaxes(
            range=x_range,
            title_text=xlabel,
            type="log" if log_x else None,
            tickformat="~g" if minimise_y or log_x else None,
            row=1,
            col=c,
        )
        if minimise_y:
            log_y = _log_axis(y)
            y_range, _, _ = (_log_range if log_y else facet_range)(y)
            fig.update_yaxes(
                range=y_range, type="log" if log_y else None, tickformat="~g", row=1, col=c
            )
        else:
            y_range, _, _ = facet_range(y)
            span = y_range[1] - y_range[0]
            digits = 0 if span >= 0.05 else (1 if span >= 0.005 else 2)
            fig.update_yaxes(range=y_range, tickformat=f".{digits}%", row=1, col=c)
    fig.update_yaxes(title_text=ylabel, row=1, col=1)
    fig.update_layout(title=title, **LAYOUT)
    note = cloud_note(n_drawn, total_points)
    if note:
        notes.append(note)
    return fig, notes


def pareto_figure(totals: pd.DataFrame, which: str, *, total_points: int | None = None) -> Figure:
    """A scatter of the sweep's points with their Pareto fronts, one panel per network, each
    on its own axes: ``energy-latency`` (both minimised; target-fps lines) or accuracy vs
    ``latency`` / ``energy`` / ``size`` (panels of networks with measured accuracy;
    target-fps lines and weight-SRAM capacity lines). Filled markers fit on chip, open
    markers overflow some on-chip memory. ``total_points``: the ok points of the whole sweep
    when `totals` holds a reduced cloud (the caption says what is drawn)."""
    if which == "energy-latency":
        fid, title = "pareto-energy-latency", "Pareto front: energy vs latency"
        needed = {"latency_ms", "energy_mj", "network"}
        if totals.empty or not needed <= set(totals.columns):
            return Figure(fid, title, message_figure(title, "no latency and energy data"))
        nets = sorted(totals["network"].astype(str).unique())
        axes = ("latency_ms", "latency (ms)", 1.0, "energy_mj", "energy per inference (mJ)", 1.0)
        fig, notes = _facet_scatter(totals, fid, title, nets, axes, True, which, total_points)
        caption = (
            "The hardware trade-off, each network on its own axes (log scale where the points "
            "span more than 30×). Ringed and joined: Pareto-optimal points (no other point is "
            "both faster and lower in energy). Open markers: some on-chip memory overflows. "
        )
        if notes:
            caption += "; ".join(n.rstrip(".") for n in notes) + "."
        return Figure(fid, title, fig, caption.strip())
    col, xlabel, scale = _PARETO_AXES[which]
    fid, title = f"pareto-{which}", f"Pareto front: accuracy vs {xlabel}"
    metric = accuracy_metric(totals)
    if metric is None or col not in totals.columns:
        return Figure(fid, title, message_figure(title, "accuracy not measured"))
    nets = [
        n
        for n in sorted(totals["network"].astype(str).unique())
        if pd.to_numeric(totals.loc[totals["network"] == n, metric], errors="coerce").notna().any()
    ]
    axes = (col, xlabel, scale, metric, ACC_LABEL[metric], 1.0)
    fig, notes = _facet_scatter(totals, fid, title, nets, axes, False, which, total_points)
    missing = sorted(set(totals["network"].astype(str)) - set(nets))
    caption = (
        "Each network on its own axes (accuracies of different networks are not comparable; "
        "a log scale where the points span more than 30×). "
        "Open markers: some on-chip memory overflows (the footprint chart says which). "
    )
    if notes:
        caption += "; ".join(n.rstrip(".") for n in notes) + ". "
    if missing:
        caption += f"Accuracy not measured for: {', '.join(missing)}."
    return Figure(fid, title, fig, caption.strip())


# ----------------------------------------------------------------------------- all
def figures_of(data: ReportData) -> list[Figure]:
    """Every report figure from a scanned table (:func:`reports.report_scan.scan_table`)."""
    drawn = data.drawn
    total = data.n_ok if data.sampled else None
    figs = [pareto_figure(drawn, w, total_points=total) for w in PARETO_FIGURES]
    for which in HEAT:
        accuracy = which == "accuracy"
        figs.append(
            heatmap_of(
                data.heatmaps[which],
                data.accuracy_facets if accuracy else data.facets,
                data.first_facet,
                total_facets=data.n_accuracy_facets if accuracy else data.n_facets,
            )
        )
    best_ids = data.best_ids
    figs.append(breakdown_figure(data.breakdown_layers, drawn, best_ids))
    figs.append(
        load_balance_figure(
            data.balance_layers, best_ids, total_points=total, sampled_points=data.balance_points
        )
    )
    figs.append(
        footprint_figure(
            footprint_points(drawn, best_ids), total_points=data.n_ok, total_fit=data.n_fit
        )
    )
    figs.append(energy_area_figure(drawn))
    if data.tradeoff is not None:
        figs.append(tradeoff_figure(data.tradeoff, drawn))
        figs.append(knee_figure(data.tradeoff))
    return figs


def build_figures(results) -> tuple[list[Figure], pd.DataFrame]:
    """All report figures and the best point of each network (:func:`best_points`), from a
    DataFrame (or a parquet path) — the same figures the streamed report draws."""
    data = scan_table(results)
    return figures_of(data), data.best
