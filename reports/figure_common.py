"""What every report figure shares: the Figure record, layout, fixed colours, labels, hovers.

Place in the flow: part of ``reports`` (``sweep ──► tidy DataFrame ──► reports``); used by
:mod:`reports.figures`, :mod:`reports.layer_figures` and :mod:`reports.footprint_figure`. It
reads only the result table's columns.

Colours are fixed per thing, never per position in a list: an energy component (an action of
the energy reference table), a latency part and an on-chip memory keep their colour in every
figure (:data:`COMPONENT_COLOURS`, :func:`component_colour`); accelerators take theirs from
:data:`ACCELERATOR_PALETTE` in sorted order.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reports.best_point import ACCURACY_METRICS
from reports.formatting import format_value
from reports.pareto import pareto_mask as pareto_mask  # re-exported for the figures

LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=70, b=50), height=460)
MAX_SELECTABLE_POINTS = 25
ACC_LABEL = {
    "top1": "top-1 accuracy",
    "top5": "top-5 accuracy",
    "retrieval_map": "retrieval mAP",
    "precision_at_10": "retrieval precision@10",
}
ACCELERATOR_PALETTE = [
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
#: One colour per component, the same in every figure: the latency parts, the energy actions
#: of the energy reference table and the on-chip memories (a memory shares the colour of the
#: action that reads it). Pairs of a hue (dark / light) group related components.
COMPONENT_COLOURS: dict[str, str] = {
    "ideal": "#1f77b4",
    "imbalance & stalls": "#aec7e8",
    "sparse_sram_read": "#2ca02c",
    "pointer_read": "#98df8a",
    "activation_sram_read": "#9467bd",
    "activation_sram_write": "#c5b0d5",
    "codebook_lookup": "#8c564b",
    "codebook_decode": "#c49c94",
    "mac": "#ff7f0e",
    "register_access": "#ffbb78",
    "register_bit": "#e377c2",
    "clock_bit": "#f7b6d2",
    "lnzd_op": "#17becf",
    "fifo_access": "#9edae5",
    "sram_leakage_cycle": "#7f7f7f",
    "flop_leakage_cycle": "#c7c7c7",
    "arithmetic_leakage_cycle": "#bcbd22",
    "dram_bit": "#d62728",
    "sparse_sram": "#2ca02c",
    "pointer_sram": "#98df8a",
    "activation": "#9467bd",
}
# For components this table does not know (a future action): distinct from the above.
_EXTRA_COLOURS = [
    "#e377c2",
    "#f7b6d2",
    "#bcbd22",
    "#dbdb8d",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#5254a3",
]
SETTINGS = (
    "network",
    "network_source",
    "accelerator",
    "n_pe",
    "clock_mhz",
    "sram_per_pe_kb",
    "pointer_sram_per_pe_kb",
    "activation_sram_per_pe_kb",
    "registers_per_pe",
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
_HOVER_METRICS = (
    "latency_ms",
    "energy_mj",
    "model_bytes",
    "container_bytes",
    "fits_onchip",
    "overflow",
    "binding_memory",
    "codebook_fits",
    "codebook_entries",
    *ACCURACY_METRICS,
    "accuracy_source",
)


#: The columns :func:`hover_text` and :func:`point_label` read.
HOVER_COLUMNS = frozenset(("point_id", *SETTINGS, *_HOVER_METRICS, "host_ops", "config_json"))


@dataclass
class Figure:
    """One figure of the report: a stable id (the HTML div id), a title and the figure."""

    id: str
    title: str
    figure: go.Figure
    caption: str = ""


def component_colour(component: str) -> str:
    """The fixed colour of a component (energy action, latency part or memory)."""
    if component in COMPONENT_COLOURS:
        return COMPONENT_COLOURS[component]
    return _EXTRA_COLOURS[zlib.crc32(component.encode()) % len(_EXTRA_COLOURS)]


def accelerator_colours(accelerators) -> dict:
    """Accelerator → colour, by sorted position in `accelerators`."""
    return {
        a: ACCELERATOR_PALETTE[i % len(ACCELERATOR_PALETTE)] for i, a in enumerate(accelerators)
    }


def colour_column(totals: pd.DataFrame) -> str | None:
    """The column whose values colour the points: the accelerator when at most ten are drawn,
    else its preset (hardware variants of one part share a colour), else None (one colour)."""
    limit = len(ACCELERATOR_PALETTE)
    for column in ("accelerator", "accelerator_preset"):
        if column in totals and totals[column].astype(str).nunique() <= limit:
            return column
    return None


ALL_POINTS = "all points"


def colour_keys(frame: pd.DataFrame, colour_by: str | None) -> np.ndarray:
    """Each row's colour group: its `colour_by` value, or "all points" without a column."""
    if colour_by:
        return frame[colour_by].astype(str).to_numpy()
    return np.full(len(frame), ALL_POINTS, dtype=object)


def colour_groups(frame: pd.DataFrame) -> tuple[str | None, list[str]]:
    """(`colour_column(frame)`, its groups in legend order); one group without a column."""
    colour_by = colour_column(frame)
    if colour_by is None:
        return None, [ALL_POINTS]
    return colour_by, sorted(set(colour_keys(frame, colour_by)))


def group_legend(group: str, colour_by: str | None) -> str:
    """A colour group's legend name: a preset's group says it holds all its variants."""
    return f"{group} (all variants)" if colour_by == "accelerator_preset" else group


def isnan(v) -> bool:
    try:
        return v is None or (isinstance(v, float) and math.isnan(v)) or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def fmt(v) -> str:
    if isnan(v):
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


def _compression_words(rec) -> list[str]:
    """A point's density scale and conv / fc bits as label words (`×0.4`, `8/4b`)."""
    words = []
    if not isnan(rec.get("density_scale")):
        words.append(f"×{fmt(rec['density_scale'])}")
    if not isnan(rec.get("conv_bits")) and not isnan(rec.get("fc_bits")):
        words.append(f"{fmt(rec['conv_bits'])}/{fmt(rec['fc_bits'])}b")
    return words


def point_label(rec) -> str:
    """Short label of a point: id, network/accelerator, density scale and bits."""
    parts = [str(rec.get("point_id", "?"))]
    if "network" in rec and "accelerator" in rec:
        parts.append(f"{rec['network']}/{rec['accelerator']}")
    return " ".join(parts + _compression_words(rec))


def _wrap(text: str, width: int = 90) -> str:
    return "<br>".join(text[i : i + width] for i in range(0, len(text), width))


def hover_text(rec) -> str:
    """Hover text with the point's settings, its metrics (sizes humanised) and config JSON."""
    lines = [f"<b>{rec.get('point_id', '?')}</b>"]
    for key in SETTINGS:
        if key in rec and not isnan(rec[key]):
            lines.append(f"{key}: {fmt(rec[key])}")
    for key in _HOVER_METRICS:
        if key in rec and not isnan(rec[key]) and rec[key] != "":
            lines.append(f"{key}: {format_value(key, rec[key])}")
    if isinstance(rec.get("host_ops"), str) and rec["host_ops"]:
        lines.append(f"outside the engine, not modelled: {rec['host_ops']}")
    cfg = rec.get("config_json")
    if isinstance(cfg, str) and cfg:
        lines.append("config: " + _wrap(cfg.replace("<", "&lt;")))
    return "<br>".join(lines)


_BRIEF_UNITS = {"latency_ms": "ms", "energy_mj": "mJ"}


def brief_hover(rec) -> str:
    """A short hover for figures with many points (a few thousand per figure): the point's id,
    network and compression on the first line, its accelerator on the second, and its main
    metrics on the third, with the units in the words."""
    head = [f"<b>{rec.get('point_id', '?')}</b>"]
    if isinstance(rec.get("network"), str):
        head.append(rec["network"])
    lines = [" ".join(head + _compression_words(rec))]
    if isinstance(rec.get("accelerator"), str) and rec["accelerator"]:
        lines.append(rec["accelerator"])
    metrics = []
    for key, unit in _BRIEF_UNITS.items():
        if key in rec and not isnan(rec[key]):
            metrics.append(f"{format_value(key, rec[key])} {unit}")
    if "model_bytes" in rec and not isnan(rec["model_bytes"]):
        metrics.append(f"model {format_value('model_bytes', rec['model_bytes'])}")
    for key in ACCURACY_METRICS:
        if key in rec and not isnan(rec[key]):
            metrics.append(f"{key} {format_value(key, rec[key])}")
    if "fits_onchip" in rec and not isnan(rec["fits_onchip"]):
        metrics.append("fits on chip" if bool(rec["fits_onchip"]) else "does not fit on chip")
    if metrics:
        lines.append(", ".join(metrics))
    return "<br>".join(lines)


def message_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font_size=16
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title, **{**LAYOUT, "height": 260})
    return fig


# Title band and dropdown band at the top of a figure with a point / facet selector: the
# title on the first line, the dropdown on its own line under it, the plot below both.
TITLE_FONT_PX = 17
TITLE_TOP_PX = 10
MENU_TOP_PX = 44
MENU_HEIGHT_PX = 30
SUBPLOT_TITLE_PX = 30  # room for subplot titles between the dropdown and the plot


def title_and_menu(
    fig: go.Figure, title: str, buttons: list[dict], height: int, *, subplot_titles: bool = True
) -> None:
    """Lay out `title` and a dropdown of `buttons` so that neither covers the other nor the
    plot: both left-aligned, the title in the top band, the dropdown in the band under it,
    then (with `subplot_titles`) room for the subplots' titles, then the plot."""
    top = MENU_TOP_PX + MENU_HEIGHT_PX + (SUBPLOT_TITLE_PX if subplot_titles else 12)
    margin = {**LAYOUT["margin"], "t": top}
    plot_px = height - margin["t"] - margin["b"]
    menu_y = 1.0 + (margin["t"] - MENU_TOP_PX) / plot_px  # paper y of the menu's top edge
    fig.update_layout(
        **{**LAYOUT, "margin": margin, "height": height},
        title=dict(
            text=title,
            x=0.0,
            xanchor="left",
            xref="container",
            y=1.0,
            yanchor="top",
            yref="container",
            pad=dict(t=TITLE_TOP_PX, l=margin["l"]),
            font=dict(size=TITLE_FONT_PX),
        ),
        updatemenus=[
            dict(
                buttons=buttons,
                x=0.0,
                xanchor="left",
                y=menu_y,
                yanchor="top",
                direction="down",
                showactive=True,
            )
        ],
    )
