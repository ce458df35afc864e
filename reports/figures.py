"""Plotly figures of a sweep: Pareto fronts and sparsity × bits heatmaps, and the list of all.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports`` (this module builds the figures the
HTML report embeds; the per-layer figures are in :mod:`reports.layer_figures`, the on-chip
memory figure in :mod:`reports.footprint_figure`). It reads only the result table's columns
(:mod:`reports.columns`) and never imports the other dcsim packages. Every function is
NaN-safe: failed points (``status == "error"``) are left out, and where no accuracy was measured
the accuracy figures say so instead of failing. Figures are deterministic (fixed colours,
sorted inputs, no timestamps).

Per-network facets never share an axis: accuracy and latency of different networks (and data
sets) are different scales, so each facet's axes span its own points; a reference line (the
frame-rate target, an SRAM capacity) far outside a facet's points is named in a note instead of
stretching the axis.
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
    hover_text,
    isnan,
    message_figure,
    ok_totals,
    pareto_mask,
    point_label,
    title_and_menu,
)
from reports.footprint_figure import footprint_figure
from reports.formatting import format_number
from reports.layer_figures import breakdown_figure, load_balance_figure

__all__ = [
    "ACCURACY_METRICS",
    "BEST_POINT_RULE",
    "Figure",
    "accuracy_metric",
    "best_points",
    "build_figures",
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
# A reference line joins a facet's axis when it lies within this factor of the facet's points.
_REFERENCE_REACH = 2.0


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


def _axis_ref(axis: str, col: int) -> str:
    return axis if col == 1 else f"{axis}{col}"


def pareto_figure(totals: pd.DataFrame, which: str) -> Figure:
    """Accuracy vs latency / energy / model size, one panel per network with measured accuracy,
    each panel on its own axes; Pareto-optimal points ringed and joined; target-fps lines
    (latency) and weight-SRAM capacity lines (size); filled markers fit on chip, open markers
    overflow some on-chip memory."""
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
    accs = sorted(totals["accelerator"].astype(str).unique())
    colour = accelerator_colours(accs)
    fig = make_subplots(rows=1, cols=len(nets), subplot_titles=nets, horizontal_spacing=0.08)
    shown: set[str] = set()
    notes: list[str] = []
    for c, net in enumerate(nets, start=1):
        sub = totals[totals["network"] == net].reset_index(drop=True)
        x = pd.to_numeric(sub[col], errors="coerce").to_numpy(float) * scale
        y = pd.to_numeric(sub[metric], errors="coerce").to_numpy(float)
        opt = pareto_mask(x, y)
        fits = sub["fits_onchip"].fillna(False).astype(bool) if "fits_onchip" in sub else None
        for acc in accs:
            sel = (sub["accelerator"].astype(str) == acc).to_numpy()
            if not sel.any():
                continue
            recs = sub[sel].to_dict("records")
            symbols = [
                "circle" if fits is None or bool(fits[i]) else "circle-open"
                for i in np.flatnonzero(sel)
            ]
            fig.add_trace(
                go.Scatter(
                    x=x[sel],
                    y=y[sel],
                    mode="markers",
                    name=acc,
                    legendgroup=acc,
                    showlegend=acc not in shown,
                    marker=dict(color=colour[acc], size=10, symbol=symbols, line_width=1.5),
                    customdata=[hover_text(r) for r in recs],
                    hovertemplate="%{customdata}<extra></extra>",
                ),
                row=1,
                col=c,
            )
            shown.add(acc)
        order = np.flatnonzero(opt)[np.argsort(x[opt], kind="mergesort")]
        fig.add_trace(
            go.Scatter(
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
        if which == "latency" and "target_fps" in sub:
            for fps in sorted(pd.to_numeric(sub["target_fps"], errors="coerce").dropna().unique()):
                if fps > 0:
                    references[1000.0 / fps] = (f"{fps:g} fps target", "red")
        if which == "size" and "onchip_bytes" in sub:
            caps = sub.groupby("accelerator", sort=True)["onchip_bytes"].max()
            for acc, cap in caps.items():
                if not isnan(cap):
                    references[float(cap) * scale] = (
                        f"{acc} weight SRAM",
                        colour.get(str(acc), "grey"),
                    )
        x_range, drawn, off = facet_range(x, list(references))
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
            value = format_number(ref) + (" ms" if which == "latency" else " MB")
            notes.append(f"{net}: {text} at {value} is off this panel's scale")
        fig.update_xaxes(range=x_range, title_text=xlabel, row=1, col=c)
        y_range, _, _ = facet_range(y)
        span = y_range[1] - y_range[0]
        digits = 0 if span >= 0.05 else (1 if span >= 0.005 else 2)
        fig.update_yaxes(range=y_range, tickformat=f".{digits}%", row=1, col=c)
    fig.update_yaxes(title_text=ACC_LABEL[metric], row=1, col=1)
    fig.update_layout(title=title, **LAYOUT)
    missing = sorted(set(totals["network"].astype(str)) - set(nets))
    caption = (
        "Each network on its own axes (accuracies of different networks are not comparable). "
        "Open markers: some on-chip memory overflows (the footprint chart says which). "
    )
    if notes:
        caption += "; ".join(notes) + ". "
    if missing:
        caption += f"Accuracy not measured for: {', '.join(missing)}."
    return Figure(fid, title, fig, caption.strip())


# ----------------------------------------------------------------------------- heatmaps
_HEAT = {
    "latency": ("latency_ms", "latency (ms)", "min"),
    "energy": ("energy_mj", "energy (mJ)", "min"),
    "size": ("model_bytes", "model size on chip (MB)", "min"),
    "accuracy": (None, "accuracy", "max"),
}
_HEATMAP_HEIGHT = 540


def heatmap_figure(totals: pd.DataFrame, which: str, first: tuple | None = None) -> Figure:
    """density_scale × bits heatmap of one metric, one (network, accelerator) facet at a time
    (dropdown under the title; ``first``, e.g. the best point's (network, accelerator), is shown
    first). Where other axes vary too, a cell shows the best value among its points."""
    col, label, how = _HEAT[which]
    fid, title = f"heatmap-{which}", f"Sparsity × bits: {label}"
    if which == "accuracy":
        col = accuracy_metric(totals)
        if col is None:
            return Figure(fid, title, message_figure(title, "accuracy not measured"))
        label = ACC_LABEL[col]
        title = f"Sparsity × bits: {label}"
    needed = {"density_scale", "conv_bits", "fc_bits", "network", "accelerator", col}
    if totals.empty or not needed <= set(totals.columns):
        return Figure(fid, title, message_figure(title, "no density_scale × bits data"))
    bits = (
        "fc_bits"
        if totals["fc_bits"].nunique() > 1 or totals["conv_bits"].nunique() <= 1
        else "conv_bits"
    )
    scale = 1e-6 if col == "model_bytes" else 1.0
    df = totals.copy()
    df["_v"] = pd.to_numeric(df[col], errors="coerce") * scale
    facets = sorted(df.groupby(["network", "accelerator"]).groups.keys())
    if which == "accuracy":
        facets = [
            f
            for f in facets
            if df.loc[(df.network == f[0]) & (df.accelerator == f[1]), "_v"].notna().any()
        ]
    if first in facets:
        facets.remove(first)
        facets.insert(0, first)
    fig = go.Figure()
    for k, (net, acc) in enumerate(facets):
        sub = df[(df["network"] == net) & (df["accelerator"] == acc)].dropna(subset=["_v"])
        ys = sorted(pd.to_numeric(sub["density_scale"], errors="coerce").dropna().unique())
        xs = sorted(pd.to_numeric(sub[bits], errors="coerce").dropna().unique())
        z = np.full((len(ys), len(xs)), np.nan)
        hover = [["" for _ in xs] for _ in ys]
        for (yv, xv), grp in sub.groupby(["density_scale", bits]):
            i, j = ys.index(yv), xs.index(xv)
            pick = grp["_v"].idxmax() if how == "max" else grp["_v"].idxmin()
            z[i, j] = grp.at[pick, "_v"]
            hover[i][j] = f"{label}: {z[i, j]:.4g}<br>" + hover_text(grp.loc[pick].to_dict())
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=[str(int(v)) if float(v).is_integer() else str(v) for v in xs],
                y=[f"{v:g}" for v in ys],
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
                texttemplate="%{z:.3g}",
                colorscale="Viridis",
                reversescale=how == "min",
                colorbar=dict(title=label),
                visible=k == 0,
                name=f"{net} / {acc}",
            )
        )
    if not facets:
        return Figure(fid, title, message_figure(title, "no data"))
    buttons = [
        dict(
            label=f"{net} / {acc}",
            method="update",
            args=[{"visible": [i == k for i in range(len(facets))]}],
        )
        for k, (net, acc) in enumerate(facets)
    ]
    title_and_menu(fig, title, buttons, _HEATMAP_HEIGHT, subplot_titles=False)
    fig.update_layout(
        xaxis=dict(title=bits.replace("_", " "), type="category"),
        yaxis=dict(title="density scale (× profile densities)", type="category"),
    )
    caption = "Brighter is better. Each cell: the best point with that density scale and bits."
    return Figure(fid, title, fig, caption)


# ----------------------------------------------------------------------------- all
def build_figures(results: pd.DataFrame) -> tuple[list[Figure], pd.DataFrame]:
    """All report figures and the best point of each network (:func:`best_points`)."""
    totals = ok_totals(results)
    best = best_points(totals)
    figs = [pareto_figure(totals, w) for w in ("latency", "energy", "size")]
    first = None
    if len(best):
        rec = totals[totals["point_id"].astype(str) == best["point_id"].iloc[0]].iloc[0]
        first = (rec.get("network"), rec.get("accelerator"))
    figs += [heatmap_figure(totals, w, first) for w in ("latency", "energy", "size", "accuracy")]
    best_ids = best["point_id"].tolist()
    figs.append(breakdown_figure(results, totals, best_ids))
    figs.append(load_balance_figure(results, best_ids))
    figs.append(footprint_figure(totals))
    figs.append(energy_area_figure(totals))
    return figs, best
