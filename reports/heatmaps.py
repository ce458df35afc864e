"""Sparsity × bits heatmaps of a sweep: per (network, accelerator) facet, the best value of a
metric in each (density scale, bits) cell — accumulated over the table in batches.

Place in the flow: ``sweep ──► tidy table ──► reports`` (:mod:`reports.figures` lists these
figures for the HTML report). Reads only the result table's columns.

A cell shows the best (lowest latency, energy or size; highest accuracy) among the points
with that network, accelerator, density scale and bits; its hover describes that point. Ties
go to the first point in table order, as with a sort of the whole table. The accumulator
(:class:`HeatmapCells`) keeps one record per cell, so memory is bounded by the number of
cells drawn, not by the number of points; a sweep with more facets than
:data:`MAX_FACETS` draws the best points' facets first, then the others in name order, and
says how many were left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reports.figure_common import (
    ACC_LABEL,
    HOVER_COLUMNS,
    Figure,
    accuracy_metric,
    brief_hover,
    hover_text,
    message_figure,
    title_and_menu,
)

__all__ = [
    "HEAT",
    "MAX_FACETS",
    "HeatmapCells",
    "bits_axis",
    "facet_mask",
    "heatmap_figure",
    "heatmap_of",
]

HEAT = {
    "latency": ("latency_ms", "latency (ms)", "min"),
    "energy": ("energy_mj", "energy (mJ)", "min"),
    "size": ("model_bytes", "model size on chip (MB)", "min"),
    "accuracy": (None, "accuracy", "max"),
}
#: Most (network, accelerator) facets one heatmap offers in its dropdown.
MAX_FACETS = 40
#: Distinct facets counted exactly (the scan stops collecting new ones there).
FACET_COUNT_CAP = 100_000
#: Above this many cells in one figure, a cell's hover is brief (label and main metrics): a
#: full hover (every setting and the config) is about 1.5 kB, so full hovers stay ≤ 150 kB
#: per heatmap (a report has three or four).
FULL_HOVER_CELLS = 100
_HEATMAP_HEIGHT = 540


def bits_axis(fc_bits_values: int, conv_bits_values: int) -> str:
    """The bits column on the x axis, from the number of distinct values of each."""
    return "fc_bits" if fc_bits_values > 1 or conv_bits_values <= 1 else "conv_bits"


def facet_mask(totals: pd.DataFrame, facets) -> np.ndarray:
    """Which rows of `totals` belong to one of `facets` ((network, accelerator) pairs)."""
    keys = totals["network"].astype(str) + "\x1f" + totals["accelerator"].astype(str)
    wanted = [f"{network}\x1f{accelerator}" for network, accelerator in facets]
    return keys.isin(wanted).to_numpy()


class HeatmapCells:
    """The best point of each (network, accelerator, density scale, bits) cell of one metric,
    over batches of ok total rows. ``facets``: the facets to keep (None: all)."""

    def __init__(self, which: str, metric: str | None, bits: str, facets=None):
        column, self.label, self.how = HEAT[which]
        self.which = which
        self.column = metric if which == "accuracy" else column
        if which == "accuracy" and metric is not None:
            self.label = ACC_LABEL[metric]
        self.bits = bits
        self.scale = 1e-6 if self.column == "model_bytes" else 1.0
        self.facets = None if facets is None else set(facets)
        self.cells: dict[tuple, tuple[float, dict]] = {}

    def needed(self) -> set[str]:
        return {"density_scale", "conv_bits", "fc_bits", "network", "accelerator", self.column}

    def add(self, totals: pd.DataFrame, in_facets: np.ndarray | None = None) -> None:
        """Accumulate a batch of ok total rows; ``in_facets``: which rows belong to the kept
        facets, when the caller already knows (else computed here)."""
        if self.column is None or totals.empty or not self.needed() <= set(totals.columns):
            return
        keys = ["network", "accelerator", "density_scale", self.bits]
        value = pd.to_numeric(totals[self.column], errors="coerce").to_numpy(float) * self.scale
        rows = ~np.isnan(value)
        if self.facets is not None:
            rows &= facet_mask(totals, self.facets) if in_facets is None else in_facets
        for column in keys[2:]:
            rows &= pd.notna(totals[column]).to_numpy()
        positions = np.flatnonzero(rows)
        if positions.size == 0:
            return
        df = pd.DataFrame({k: totals[k].to_numpy()[positions] for k in keys})
        df["_v"] = value[positions]
        grouped = df.groupby(keys, sort=False)["_v"]
        picks = grouped.idxmax() if self.how == "max" else grouped.idxmin()
        improved, chosen = [], []
        candidate = df["_v"].to_numpy()
        for key, index in picks.items():
            best = float(candidate[index])
            old = self.cells.get(key)
            if old is None or (best > old[0] if self.how == "max" else best < old[0]):
                improved.append((key, best))
                chosen.append(positions[index])
        if chosen:
            keep = [c for c in totals.columns if c in HOVER_COLUMNS]
            records = totals[keep].iloc[chosen].to_dict("records")
            for (key, best), record in zip(improved, records):
                self.cells[key] = (best, record)


def heatmap_of(
    cells: HeatmapCells, facets: list[tuple], first=None, *, total_facets: int | None = None
) -> Figure:
    """The figure of accumulated `cells`: one facet at a time (dropdown under the title),
    ``first`` (e.g. the best point's (network, accelerator)) shown first."""
    which, label = cells.which, cells.label
    fid, title = f"heatmap-{which}", f"Sparsity × bits: {label}"
    if cells.column is None:
        return Figure(fid, title, message_figure(title, "accuracy not measured"))
    facets = list(facets)
    if which == "accuracy":
        with_cells = {k[:2] for k in cells.cells}
        facets = [f for f in facets if f in with_cells]
    if first in facets:
        facets.remove(first)
        facets.insert(0, first)
    if not facets:
        return Figure(fid, title, message_figure(title, "no data"))
    by_facet: dict[tuple, list] = {f: [] for f in facets}
    for key, pick in cells.cells.items():
        if key[:2] in by_facet:
            by_facet[key[:2]].append((key[2], key[3], pick))
    full_hover = sum(len(v) for v in by_facet.values()) <= FULL_HOVER_CELLS
    fig = go.Figure()
    for k, (net, acc) in enumerate(facets):
        entries = by_facet[(net, acc)]
        ys = sorted({float(e[0]) for e in entries if e[0] == e[0]})
        xs = sorted({float(e[1]) for e in entries if e[1] == e[1]})
        z = np.full((len(ys), len(xs)), np.nan)
        hover = [["" for _ in xs] for _ in ys]
        for yv, xv, (value, rec) in entries:
            i, j = ys.index(float(yv)), xs.index(float(xv))
            z[i, j] = value
            hover[i][j] = f"{label}: {value:.4g}<br>" + (
                hover_text(rec) if full_hover else brief_hover(rec)
            )
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=[str(int(v)) if float(v).is_integer() else str(v) for v in xs],
                y=[f"{v:g}" for v in ys],
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
                texttemplate="%{z:.3g}",
                colorscale="Viridis",
                reversescale=cells.how == "min",
                colorbar=dict(title=label),
                visible=k == 0,
                name=f"{net} / {acc}",
            )
        )
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
        xaxis=dict(title=cells.bits.replace("_", " "), type="category"),
        yaxis=dict(title="density scale (× profile densities)", type="category"),
    )
    caption = "Brighter is better. Each cell: the best point with that density scale and bits."
    if total_facets is not None and total_facets > len(facets):
        counted = f"{total_facets:,}" if total_facets < FACET_COUNT_CAP else "more than 100,000"
        caption += (
            f" The dropdown offers {len(facets)} of {counted} (network, accelerator) facets: "
            "each network's best point's facet first, then the others in name order."
        )
    return Figure(fid, title, fig, caption)


def heatmap_figure(totals: pd.DataFrame, which: str, first: tuple | None = None) -> Figure:
    """density_scale × bits heatmap of one metric over a table in memory (every facet)."""
    metric = accuracy_metric(totals)
    column = metric if which == "accuracy" else HEAT[which][0]
    needed = {"density_scale", "conv_bits", "fc_bits", "network", "accelerator", column}
    if column is not None and (totals.empty or not needed <= set(totals.columns)):
        cells = HeatmapCells(which, metric, "fc_bits")
        title = f"Sparsity × bits: {cells.label}"
        return Figure(
            f"heatmap-{which}", title, message_figure(title, "no density_scale × bits data")
        )
    bits = "fc_bits"
    if column is not None:
        bits = bits_axis(totals["fc_bits"].nunique(), totals["conv_bits"].nunique())
    cells = HeatmapCells(which, metric, bits)
    cells.add(totals)
    facets = sorted(totals.groupby(["network", "accelerator"]).groups.keys()) if len(totals) else []
    return heatmap_of(cells, facets, first)
