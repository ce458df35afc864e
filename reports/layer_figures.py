"""Per-layer figures of a sweep: latency and energy breakdown by component, load balance.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports`` (:mod:`reports.figures` lists
them for the HTML report). Reads only the result table's columns. Every component has its
fixed colour (:func:`reports.figure_common.component_colour`), the same in every figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.columns import component_of, energy_component_columns
from reports.figure_common import (
    LAYOUT,
    MAX_SELECTABLE_POINTS,
    Figure,
    accelerator_colours,
    colour_groups,
    colour_keys,
    component_colour,
    group_legend,
    message_figure,
    point_label,
    title_and_menu,
)

_BREAKDOWN_HEIGHT = 700


def selectable_points(totals: pd.DataFrame, best: list[str]) -> list[str]:
    """The best points first (one per network), then the others by energy."""
    ids = list(dict.fromkeys(best))
    rest = totals.sort_values(
        [c for c in ("energy_mj", "point_id") if c in totals.columns], kind="mergesort"
    )["point_id"].astype(str)
    ids += [p for p in rest if p not in ids]
    return ids[:MAX_SELECTABLE_POINTS]


def breakdown_figure(results: pd.DataFrame, totals: pd.DataFrame, best: list[str]) -> Figure:
    """Per-layer latency (ideal + imbalance/stalls) and energy by component, stacked, for the
    first network's best point; a dropdown (under the title) switches among the other networks'
    best points and up to 25 points in all."""
    fid, title = "layer-breakdown", "Per-layer latency and energy breakdown"
    needed = {"row_type", "point_id", "layer", "latency_ms"}
    if needed <= set(results.columns) and "point_id" in totals:
        layers = results[results["row_type"] == "layer"]
    else:
        layers = results.iloc[0:0]
        totals = totals.iloc[0:0]
    ids = [
        p for p in selectable_points(totals, best) if (layers["point_id"].astype(str) == p).any()
    ]
    if not ids:
        return Figure(fid, title, message_figure(title, "no per-layer results"))
    comps = energy_component_columns(layers.columns)
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
        if pid in best:
            labels[pid] = "best: " + labels[pid]
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
                    showlegend=k == 0,
                    marker_color=component_colour(name),
                    visible=k == 0,
                    hovertemplate="%{x}: %{y:.4g} ms<extra>" + name + "</extra>",
                ),
                row=1,
                col=1,
            )
        for comp in comps:
            action = str(component_of(comp))
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=pd.to_numeric(sub[comp], errors="coerce").to_numpy(float),
                    name=action,
                    legendgroup=comp,
                    showlegend=k == 0,
                    marker_color=component_colour(action),
                    visible=k == 0,
                    hovertemplate="%{x}: %{y:.4g} mJ<extra>" + action + "</extra>",
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
                args=[{"visible": vis}, {"title.text": f"{title}: {labels[pid]}"}],
            )
        )
        start += n
    title_and_menu(fig, f"{title}: {labels[ids[0]]}", buttons, _BREAKDOWN_HEIGHT)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="ms", row=1, col=1)
    fig.update_yaxes(title_text="mJ", row=2, col=1)
    return Figure(
        fid,
        title,
        fig,
        "Default: the best point of the first network (the rule is in the summary); the "
        "dropdown lists every network's best point first. Each component keeps its colour in "
        "every figure.",
    )


#: Above this many layer rows, the boxes are drawn from their statistics (quartiles and
#: fences computed here) without a marker per layer row.
BOX_POINTS = 3_000


def _box_statistics(values: np.ndarray) -> dict[str, float] | None:
    """Plotly's box statistics of `values`: linear quartiles, whiskers to the farthest values
    within 1.5 IQR (plotly's own rule for boxes it computes)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return None
    q1, median, q3 = np.percentile(v, [25, 50, 75])
    iqr = q3 - q1
    return {
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
        "lowerfence": float(v[v >= q1 - 1.5 * iqr].min()),
        "upperfence": float(v[v <= q3 + 1.5 * iqr].max()),
        "mean": float(v.mean()),
    }


def load_balance_figure(
    results: pd.DataFrame,
    best: list[str],
    *,
    total_points: int | None = None,
    sampled_points: int | None = None,
) -> Figure:
    """Load-balance efficiency per layer: spread over the points (a box per accelerator, or
    per preset when more than ten are drawn) and each network's best point (diamonds).
    ``total_points`` / ``sampled_points``: the sweep's ok points and the points whose layer
    rows `results` holds, when that is a sample (the caption says so)."""
    fid, title = "load-balance", "Load balance per layer"
    if not {"row_type", "load_balance", "layer", "point_id"} <= set(results.columns):
        return Figure(fid, title, message_figure(title, "no load-balance data"))
    layers = results[results["row_type"] == "layer"]
    if layers.empty:
        return Figure(fid, title, message_figure(title, "no per-layer results"))
    colour_by, groups = colour_groups(layers)
    keys = colour_keys(layers, colour_by)
    colour = accelerator_colours(groups)
    order = list(dict.fromkeys(layers["layer"].astype(str)))
    fig = go.Figure()
    for group in groups:
        sub = layers[keys == group]
        name = group_legend(group, colour_by)
        if len(layers) <= BOX_POINTS:
            fig.add_trace(
                go.Box(
                    x=sub["layer"].astype(str),
                    y=pd.to_numeric(sub["load_balance"], errors="coerce"),
                    name=name,
                    marker_color=colour[group],
                    boxpoints="all",
                    jitter=0.3,
                    customdata=[point_label(r) for r in sub.to_dict("records")],
                    hovertemplate="%{x}: %{y:.1%}<br>%{customdata}<extra></extra>",
                )
            )
            continue
        names, stats = [], []
        values = pd.to_numeric(sub["load_balance"], errors="coerce").to_numpy(float)
        layer_of = sub["layer"].astype(str).to_numpy()
        for layer in order:
            stat = _box_statistics(values[layer_of == layer])
            if stat is not None:
                names.append(layer)
                stats.append(stat)
        if not stats:
            continue
        fig.add_trace(
            go.Box(
                x=names,
                name=name,
                marker_color=colour[group],
                boxpoints=False,
                **{k: [s[k] for s in stats] for k in stats[0]},
            )
        )
    for pid in best:
        sub = layers[layers["point_id"].astype(str) == pid]
        if sub.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=sub["layer"].astype(str),
                y=pd.to_numeric(sub["load_balance"], errors="coerce"),
                mode="markers",
                marker=dict(symbol="diamond", size=13, color="black"),
                name=f"best point {pid} ({sub['network'].iloc[0]})",
                hovertemplate="%{x}: %{y:.1%}<extra>best</extra>",
            )
        )
    fig.update_layout(
        title=title,
        boxmode="group",
        yaxis=dict(title="load-balance efficiency", tickformat=".0%"),
        xaxis=dict(title="layer", categoryorder="array", categoryarray=order),
        **LAYOUT,
    )
    caption = "1 − bubbles / total cycles; 100% is perfect balance."
    if total_points is not None and sampled_points is not None and total_points > sampled_points:
        caption += (
            f" Boxes over the layers of {sampled_points:,} of {total_points:,} points (a "
            "deterministic sample: the smallest hashes of the point ids, and each network's "
            "best point)."
        )
    return Figure(fid, title, fig, caption)
