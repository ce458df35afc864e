"""Plotly figures of a sweep: Pareto fronts, heatmaps, per-layer breakdowns, footprints.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports`` (this module builds the figures the
HTML report embeds). It reads only the result table's columns (:mod:`reports.columns`) and never
imports the other dcsim packages. Every function is NaN-safe: failed points (``status ==
"error"``) are left out, and where no accuracy was measured the accuracy figures say so instead
of failing. Figures are deterministic (fixed colours, sorted inputs, no timestamps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.columns import component_of, energy_component_columns

__all__ = [
    "ACCURACY_METRICS",
    "Figure",
    "accuracy_metric",
    "best_point",
    "build_figures",
    "hover_text",
    "ok_totals",
    "pareto_mask",
    "point_label",
]

#: Accuracy columns in order of preference for the Pareto fronts and heatmaps.
ACCURACY_METRICS = ("top1", "top5", "retrieval_map", "precision_at_10")
_ACC_LABEL = {
    "top1": "top-1 accuracy",
    "top5": "top-5 accuracy",
    "retrieval_map": "retrieval mAP",
    "precision_at_10": "retrieval precision@10",
}
_PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]
_SETTINGS = (
    "network",
    "network_source",
    "accelerator",
    "n_pe",
    "clock_mhz",
    "sram_per_pe_kb",
    "fifo_depth",
    "node_nm",
    "density_profile",
    "density_scale",
    "conv_bits",
    "fc_bits",
    "index_bits",
    "centroid_init",
    "sim_model",
    "seed",
    "target_fps",
)
_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=70, b=50), height=460)
MAX_SELECTABLE_POINTS = 25


@dataclass
class Figure:
    """One figure of the report: a stable id (the HTML div id), a title and the figure."""

    id: str
    title: str
    figure: go.Figure
    caption: str = ""


# ----------------------------------------------------------------------------- helpers
def _isnan(v) -> bool:
    try:
        return v is None or (isinstance(v, float) and math.isnan(v)) or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _fmt(v) -> str:
    if _isnan(v):
        return "—"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return str(v)


def ok_totals(results: pd.DataFrame) -> pd.DataFrame:
    """The total rows of points that ran (``status`` ok, or no status column)."""
    if "row_type" not in results.columns:
        return results.iloc[0:0]
    totals = results[results["row_type"] == "total"]
    if "status" in totals.columns:
        totals = totals[totals["status"].fillna("ok") == "ok"]
    return totals.reset_index(drop=True)


def accuracy_metric(totals: pd.DataFrame) -> str | None:
    """The first accuracy column with at least one measured value, or None."""
    for m in ACCURACY_METRICS:
        if m in totals.columns and pd.to_numeric(totals[m], errors="coerce").notna().any():
            return m
    return None


def point_label(rec) -> str:
    """Short label of a point: id, network/accelerator, density scale and bits."""
    parts = [str(rec.get("point_id", "?"))]
    if "network" in rec and "accelerator" in rec:
        parts.append(f"{rec['network']}/{rec['accelerator']}")
    if not _isnan(rec.get("density_scale")):
        parts.append(f"×{_fmt(rec['density_scale'])}")
    if not _isnan(rec.get("conv_bits")) and not _isnan(rec.get("fc_bits")):
        parts.append(f"{_fmt(rec['conv_bits'])}/{_fmt(rec['fc_bits'])}b")
    return " ".join(parts)


def _wrap(text: str, width: int = 90) -> str:
    return "<br>".join(text[i : i + width] for i in range(0, len(text), width))


def hover_text(rec) -> str:
    """Hover text with the point's full settings (and its config JSON, wrapped)."""
    lines = [f"<b>{rec.get('point_id', '?')}</b>"]
    for key in _SETTINGS:
        if key in rec and not _isnan(rec[key]):
            lines.append(f"{key}: {_fmt(rec[key])}")
    for key, unit in (("latency_ms", "ms"), ("energy_mj", "mJ"), ("model_bytes", "B")):
        if key in rec and not _isnan(rec[key]):
            lines.append(f"{key}: {_fmt(rec[key])} {unit}")
    for key in ACCURACY_METRICS:
        if key in rec and not _isnan(rec[key]):
            lines.append(f"{key}: {_fmt(rec[key])}")
    if "accuracy_source" in rec and not _isnan(rec["accuracy_source"]):
        lines.append(f"accuracy_source: {rec['accuracy_source']}")
    if isinstance(rec.get("host_ops"), str) and rec["host_ops"]:
        lines.append(f"outside the engine, not modelled: {rec['host_ops']}")
    cfg = rec.get("config_json")
    if isinstance(cfg, str) and cfg:
        lines.append("config: " + _wrap(cfg.replace("<", "&lt;")))
    return "<br>".join(lines)


def pareto_mask(x, y) -> np.ndarray:
    """Pareto-optimal points when minimising ``x`` and maximising ``y`` (NaNs never optimal)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    mask = np.zeros(len(x), dtype=bool)
    valid = np.flatnonzero(~(np.isnan(x) | np.isnan(y)))
    order = valid[np.lexsort((-y[valid], x[valid]))]  # by x ascending, then y descending
    best = -np.inf
    for i in order:
        if y[i] > best:
            mask[i] = True
            best = y[i]
    return mask


def _colours(values) -> dict:
    return {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(values)}


def _message_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font_size=16
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title, **{**_LAYOUT, "height": 260})
    return fig


def best_point(totals: pd.DataFrame) -> tuple[str | None, bool]:
    """The best point meeting the target: highest accuracy, then lowest energy, then latency.

    Returns ``(point_id, meets_target)``; when no point meets the target, the best of all.
    """
    if totals.empty:
        return None, False
    metric = accuracy_metric(totals)
    cand = totals
    meets = False
    if "meets_target" in totals.columns:
        m = totals["meets_target"].fillna(False).astype(bool)
        if m.any():
            cand, meets = totals[m], True
    keys, asc = [], []
    if metric:
        keys.append(metric)
        asc.append(False)
    for k in ("energy_mj", "latency_ms", "point_id"):
        if k in cand.columns:
            keys.append(k)
            asc.append(True)
    cand = cand.sort_values(keys, ascending=asc, na_position="last", kind="mergesort")
    return str(cand.iloc[0]["point_id"]), meets


# ----------------------------------------------------------------------------- Pareto
_PARETO_AXES = {
    "latency": ("latency_ms", "latency (ms)", 1.0),
    "energy": ("energy_mj", "energy per inference (mJ)", 1.0),
    "size": ("model_bytes", "model size (MB)", 1e-6),
}


def pareto_figure(totals: pd.DataFrame, which: str) -> Figure:
    """Accuracy vs latency / energy / model size, one panel per network with measured accuracy;
    Pareto-optimal points ringed and joined; target-fps line (latency) and on-chip capacity
    lines (size); filled markers fit on chip, open markers do not."""
    col, xlabel, scale = _PARETO_AXES[which]
    fid, title = f"pareto-{which}", f"Pareto front: accuracy vs {xlabel}"
    metric = accuracy_metric(totals)
    if metric is None or col not in totals.columns:
        return Figure(fid, title, _message_figure(title, "accuracy not measured"))
    nets = [
        n
        for n in sorted(totals["network"].astype(str).unique())
        if pd.to_numeric(totals.loc[totals["network"] == n, metric], errors="coerce").notna().any()
    ]
    accs = sorted(totals["accelerator"].astype(str).unique())
    colour = _colours(accs)
    fig = make_subplots(rows=1, cols=len(nets), subplot_titles=nets, shared_yaxes=True)
    shown: set[str] = set()
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
        if which == "latency" and "target_fps" in sub:
            for fps in sorted(pd.to_numeric(sub["target_fps"], errors="coerce").dropna().unique()):
                if fps > 0:
                    fig.add_vline(
                        x=1000.0 / fps,
                        line=dict(color="red", dash="dash"),
                        annotation_text=f"{fps:g} fps target",
                        row=1,
                        col=c,
                    )
        if which == "size" and "onchip_bytes" in sub:
            caps = sub.groupby("accelerator", sort=True)["onchip_bytes"].max()
            for acc, cap in caps.items():
                if not _isnan(cap):
                    fig.add_vline(
                        x=float(cap) * scale,
                        line=dict(color=colour.get(str(acc), "grey"), dash="dash"),
                        annotation_text=f"{acc} on-chip",
                        row=1,
                        col=c,
                    )
    fig.update_xaxes(title_text=xlabel)
    fig.update_yaxes(title_text=_ACC_LABEL[metric], tickformat=".0%", row=1, col=1)
    fig.update_layout(title=title, **_LAYOUT)
    missing = sorted(set(totals["network"].astype(str)) - set(nets))
    caption = "Open markers: model does not fit on chip. "
    if missing:
        caption += f"Accuracy not measured for: {', '.join(missing)}."
    return Figure(fid, title, fig, caption)


# ----------------------------------------------------------------------------- heatmaps
_HEAT = {
    "latency": ("latency_ms", "latency (ms)", "min"),
    "energy": ("energy_mj", "energy (mJ)", "min"),
    "size": ("model_bytes", "model size (MB)", "min"),
    "accuracy": (None, "accuracy", "max"),
}


def heatmap_figure(totals: pd.DataFrame, which: str, first: tuple | None = None) -> Figure:
    """density_scale × bits heatmap of one metric, one (network, accelerator) facet at a time
    (dropdown; ``first``, e.g. the best point's (network, accelerator), is shown first). Where
    other axes vary too, a cell shows the best value among its points."""
    col, label, how = _HEAT[which]
    fid, title = f"heatmap-{which}", f"Sparsity × bits: {label}"
    if which == "accuracy":
        col = accuracy_metric(totals)
        if col is None:
            return Figure(fid, title, _message_figure(title, "accuracy not measured"))
        label = _ACC_LABEL[col]
        title = f"Sparsity × bits: {label}"
    needed = {"density_scale", "conv_bits", "fc_bits", "network", "accelerator", col}
    if totals.empty or not needed <= set(totals.columns):
        return Figure(fid, title, _message_figure(title, "no density_scale × bits data"))
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
        return Figure(fid, title, _message_figure(title, "no data"))
    buttons = [
        dict(
            label=f"{net} / {acc}",
            method="update",
            args=[{"visible": [i == k for i in range(len(facets))]}],
        )
        for k, (net, acc) in enumerate(facets)
    ]
    fig.update_layout(
        title=title,
        xaxis=dict(title=bits.replace("_", " "), type="category"),
        yaxis=dict(title="density scale (× profile densities)", type="category"),
        updatemenus=[dict(buttons=buttons, x=1.0, xanchor="right", y=1.15, yanchor="top")],
        **_LAYOUT,
    )
    caption = "Brighter is better. Each cell: the best point with that density scale and bits."
    return Figure(fid, title, fig, caption)


# ----------------------------------------------------------------------------- per layer
def _selectable(totals: pd.DataFrame, best: str | None) -> list[str]:
    ids = [best] if best else []
    rest = totals.sort_values(
        [c for c in ("energy_mj", "point_id") if c in totals.columns], kind="mergesort"
    )["point_id"].astype(str)
    ids += [p for p in rest if p != best]
    return ids[:MAX_SELECTABLE_POINTS]


def breakdown_figure(results: pd.DataFrame, totals: pd.DataFrame, best: str | None) -> Figure:
    """Per-layer latency (ideal + imbalance/stalls) and energy by component, stacked, for the
    best point meeting the target; a dropdown switches among up to 25 points."""
    fid, title = "layer-breakdown", "Per-layer latency and energy breakdown"
    if "row_type" in results.columns:
        layers = results[results["row_type"] == "layer"]
    else:
        layers = results.iloc[0:0]
    ids = [p for p in _selectable(totals, best) if (layers["point_id"].astype(str) == p).any()]
    if not ids:
        return Figure(fid, title, _message_figure(title, "no per-layer results"))
    comps = energy_component_columns(layers.columns)
    colour = _colours(["ideal", "imbalance & stalls", *comps])
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=("latency per layer (ms)", "energy per layer (mJ)"),
    )
    groups: list[int] = []
    labels = {}
    for k, pid in enumerate(ids):
        sub = layers[layers["point_id"].astype(str) == pid]
        labels[pid] = point_label(totals[totals["point_id"].astype(str) == pid].iloc[0].to_dict())
        names = sub["layer"].astype(str).tolist()
        lat = pd.to_numeric(sub["latency_ms"], errors="coerce").to_numpy(float)
        if {"cycles", "ideal_cycles"} <= set(sub.columns):
            cyc = pd.to_numeric(sub["cycles"], errors="coerce").to_numpy(float)
            ideal_c = pd.to_numeric(sub["ideal_cycles"], errors="coerce").to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                ideal = np.where(cyc > 0, lat * np.minimum(ideal_c / cyc, 1.0), lat)
        else:
            ideal = lat
        n0 = len(fig.data)
        for name, vals in (("ideal", ideal), ("imbalance & stalls", lat - ideal)):
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=vals,
                    name=name,
                    legendgroup=name,
                    marker_color=colour[name],
                    visible=k == 0,
                    hovertemplate="%{x}: %{y:.4g} ms<extra>" + name + "</extra>",
                ),
                row=1,
                col=1,
            )
        for comp in comps:
            action = component_of(comp)
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=pd.to_numeric(sub[comp], errors="coerce").to_numpy(float),
                    name=action,
                    legendgroup=comp,
                    marker_color=colour[comp],
                    visible=k == 0,
                    hovertemplate="%{x}: %{y:.4g} mJ<extra>" + str(action) + "</extra>",
                ),
                row=2,
                col=1,
            )
        groups.append(len(fig.data) - n0)
    buttons = []
    start = 0
    total = len(fig.data)
    for pid, n in zip(ids, groups):
        vis = [start <= i < start + n for i in range(total)]
        buttons.append(
            dict(
                label=labels[pid],
                method="update",
                args=[{"visible": vis}, {"title": f"{title}: {labels[pid]}"}],
            )
        )
        start += n
    fig.update_layout(
        barmode="stack",
        title=f"{title}: {labels[ids[0]]}",
        updatemenus=[dict(buttons=buttons, x=1.0, xanchor="right", y=1.18, yanchor="top")],
        **{**_LAYOUT, "height": 640},
    )
    fig.update_yaxes(title_text="ms", row=1, col=1)
    fig.update_yaxes(title_text="mJ", row=2, col=1)
    return Figure(fid, title, fig, "Default: the best point meeting the target frame rate.")


def load_balance_figure(results: pd.DataFrame, best: str | None) -> Figure:
    """Load-balance efficiency per layer: spread over all points (box per accelerator) and the
    best point (diamonds)."""
    fid, title = "load-balance", "Load balance per layer"
    if "row_type" not in results or "load_balance" not in results:
        return Figure(fid, title, _message_figure(title, "no load-balance data"))
    layers = results[results["row_type"] == "layer"]
    if layers.empty:
        return Figure(fid, title, _message_figure(title, "no per-layer results"))
    accs = sorted(layers["accelerator"].astype(str).unique())
    colour = _colours(accs)
    fig = go.Figure()
    for acc in accs:
        sub = layers[layers["accelerator"].astype(str) == acc]
        fig.add_trace(
            go.Box(
                x=sub["layer"].astype(str),
                y=pd.to_numeric(sub["load_balance"], errors="coerce"),
                name=acc,
                marker_color=colour[acc],
                boxpoints="all",
                jitter=0.3,
                customdata=[point_label(r) for r in sub.to_dict("records")],
                hovertemplate="%{x}: %{y:.1%}<br>%{customdata}<extra></extra>",
            )
        )
    if best is not None:
        sub = layers[layers["point_id"].astype(str) == best]
        fig.add_trace(
            go.Scatter(
                x=sub["layer"].astype(str),
                y=pd.to_numeric(sub["load_balance"], errors="coerce"),
                mode="markers",
                marker=dict(symbol="diamond", size=13, color="black"),
                name=f"best point {best}",
                hovertemplate="%{x}: %{y:.1%}<extra>best</extra>",
            )
        )
    fig.update_layout(
        title=title,
        boxmode="group",
        yaxis=dict(title="load-balance efficiency", tickformat=".0%"),
        xaxis=dict(
            title="layer",
            categoryorder="array",
            categoryarray=list(dict.fromkeys(layers["layer"].astype(str))),
        ),
        **_LAYOUT,
    )
    return Figure(fid, title, fig, "1 − bubbles / total cycles; 100% is perfect balance.")


def footprint_figure(totals: pd.DataFrame) -> Figure:
    """Compressed model size of every point against its accelerator's on-chip SRAM capacity."""
    fid, title = "footprint", "Model footprint vs on-chip SRAM capacity"
    if totals.empty or "model_bytes" not in totals:
        return Figure(fid, title, _message_figure(title, "no footprint data"))
    df = totals.sort_values(["model_bytes", "point_id"], kind="mergesort").reset_index(drop=True)
    labels = [point_label(r) for r in df.to_dict("records")]
    fits = (
        df["fits_onchip"].fillna(False).astype(bool)
        if "fits_onchip" in df
        else pd.Series(True, index=df.index)
    )
    fig = go.Figure()
    for flag, name, col in ((True, "fits on chip", "#2ca02c"), (False, "does not fit", "#d62728")):
        sel = (fits == flag).to_numpy()
        if not sel.any():
            continue
        fig.add_trace(
            go.Bar(
                x=[labels[i] for i in np.flatnonzero(sel)],
                y=pd.to_numeric(df.loc[sel, "model_bytes"], errors="coerce") * 1e-6,
                name=name,
                marker_color=col,
                customdata=[hover_text(r) for r in df[sel].to_dict("records")],
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
                name="on-chip capacity",
                hovertemplate="capacity %{y:.3f} MB<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        yaxis=dict(title="MB"),
        xaxis=dict(
            type="category",
            categoryorder="array",
            categoryarray=labels,
            tickangle=-45,
            showticklabels=len(labels) <= 60,  # many points: labels in the hover only
            title="design points (by model size)",
        ),
        **_LAYOUT,
    )
    return Figure(fid, title, fig)


# ----------------------------------------------------------------------------- all
def build_figures(results: pd.DataFrame) -> tuple[list[Figure], str | None, bool]:
    """All report figures, plus the chosen point (best meeting target) and whether it meets it."""
    totals = ok_totals(results)
    best, meets = best_point(totals)
    figs = [pareto_figure(totals, w) for w in ("latency", "energy", "size")]
    first = None
    if best is not None:
        rec = totals[totals["point_id"].astype(str) == best].iloc[0]
        first = (rec.get("network"), rec.get("accelerator"))
    figs += [heatmap_figure(totals, w, first) for w in ("latency", "energy", "size", "accuracy")]
    figs.append(breakdown_figure(results, totals, best))
    figs.append(load_balance_figure(results, best))
    figs.append(footprint_figure(totals))
    return figs, best, meets
