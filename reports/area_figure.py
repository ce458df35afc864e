"""The energy-vs-area figure: which design points give the least energy and area at the target
frame rate.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports`` (:mod:`reports.figures` lists it
for the HTML report). Reads only the result table's total-row columns ``area_mm2``,
``energy_mj``, ``meets_target``, ``fps`` and ``target_fps``, ``network`` and ``accelerator``.

One panel per network: every point at (silicon area, energy per frame). Points that meet the
target frame rate are filled, in their accelerator's colour (with more accelerators than
colours, their preset's, else one colour: `figure_common.colour_column`, as the Pareto
figures); points that miss it are open and grey. The Pareto front of the points that meet
the target — no other such point has both less area and less energy — is ringed and joined:
the architect's "least energy and area that meets 30 fps".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.figure_common import (
    LAYOUT,
    Figure,
    accelerator_colours,
    brief_hover,
    colour_groups,
    colour_keys,
    group_legend,
    hover_text,
    message_figure,
    pareto_mask,
)

FIGURE_ID = "energy-area"
#: Beyond this many points in a panel, hovers are brief and the markers drawn with WebGL (the
#: report's other scatters use the same limits).
FULL_HOVER_POINTS = 1_000
WEBGL_POINTS = 1_000
_TITLE = "Energy vs area at the target frame rate"
_MISS_COLOUR = "#b0b0b0"


def _target_text(totals: pd.DataFrame) -> str:
    if "target_fps" not in totals:
        return "the target frame rate"
    targets = pd.to_numeric(totals["target_fps"], errors="coerce").dropna().unique()
    if len(targets) == 1:
        return f"{targets[0]:g} fps"
    return "each point's target frame rate"


def energy_area_figure(totals: pd.DataFrame) -> Figure:
    """Energy per frame vs silicon area, Pareto front of the points meeting the target fps."""
    needed = {"area_mm2", "energy_mj", "network", "accelerator"}
    if totals.empty or not needed <= set(totals.columns):
        return Figure(FIGURE_ID, _TITLE, message_figure(_TITLE, "no area data"))
    area = pd.to_numeric(totals["area_mm2"], errors="coerce")
    if not area.notna().any():
        return Figure(FIGURE_ID, _TITLE, message_figure(_TITLE, "no area data"))
    title = f"{_TITLE} ({_target_text(totals)})"
    nets = sorted(totals["network"].astype(str).unique())
    colour_by, groups = colour_groups(totals)
    colour = accelerator_colours(groups)
    fig = make_subplots(rows=1, cols=len(nets), subplot_titles=nets, horizontal_spacing=0.08)
    shown: set[str] = set()
    for c, net in enumerate(nets, start=1):
        sub = totals[totals["network"].astype(str) == net].reset_index(drop=True)
        x = pd.to_numeric(sub["area_mm2"], errors="coerce").to_numpy(float)
        y = pd.to_numeric(sub["energy_mj"], errors="coerce").to_numpy(float)
        meets = (
            sub["meets_target"].fillna(False).astype(bool).to_numpy()
            if "meets_target" in sub
            else np.ones(len(sub), dtype=bool)
        )
        recs = sub.to_dict("records")
        hover = brief_hover if len(sub) > FULL_HOVER_POINTS else hover_text
        scatter = go.Scattergl if len(sub) >= WEBGL_POINTS else go.Scatter
        keys = colour_keys(sub, colour_by)
        for acc in groups:
            label = group_legend(acc, colour_by)
            for hit in (True, False):
                sel = (keys == acc) & (meets == hit)
                if not sel.any():
                    continue
                name = label if hit else f"{label} (misses target)"
                fig.add_trace(
                    scatter(
                        x=x[sel],
                        y=y[sel],
                        mode="markers",
                        name=name,
                        legendgroup=name,
                        showlegend=name not in shown,
                        marker=dict(
                            color=colour[acc] if hit else _MISS_COLOUR,
                            size=10,
                            symbol="circle" if hit else "circle-open",
                            line_width=1.5,
                        ),
                        customdata=[hover(recs[i]) for i in np.flatnonzero(sel)],
                        hovertemplate="%{customdata}<extra></extra>",
                    ),
                    row=1,
                    col=c,
                )
                shown.add(name)
        front = np.zeros(len(sub), dtype=bool)
        if meets.any():
            idx = np.flatnonzero(meets)
            front[idx[pareto_mask(x[idx], -y[idx])]] = True
        order = np.flatnonzero(front)[np.argsort(x[front], kind="mergesort")]
        if len(order):
            fig.add_trace(
                go.Scatter(
                    x=x[order],
                    y=y[order],
                    mode="lines+markers",
                    name="Pareto front (meets target)",
                    legendgroup="front",
                    showlegend="front" not in shown,
                    line=dict(color="black", width=1, dash="dot"),
                    marker=dict(size=16, symbol="circle-open", color="black", line_width=1),
                    hoverinfo="skip",
                ),
                row=1,
                col=c,
            )
            shown.add("front")
        fig.update_xaxes(title_text="area (mm²)", type="log", row=1, col=c)
        fig.update_yaxes(title_text="energy per frame (mJ)", type="log", row=1, col=c)
    fig.update_layout(title=title, **{**LAYOUT, "height": 480})
    caption = (
        "Filled: meets the target frame rate; open grey: misses it. Ringed and joined: the "
        "points meeting the target for which no other such point has both less area and less "
        "energy. Area: dcsim area-table (SRAM macros, register files, arithmetic, LNZD; no "
        "clock buffers, control or filler cells)."
    )
    return Figure(FIGURE_ID, title, fig, caption)
