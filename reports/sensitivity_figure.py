"""The per-layer pruning sensitivity figure: top-1 vs density, one line per layer.

Place in the flow: part of ``reports`` (what the architect sees). Its input is not the result
table but a sensitivity entry of ``run.json`` (``meta["sensitivity"]``, written by the sweep
when its ``[accuracy] sensitivity = true`` or an ``auto:L`` profile is used; the same mapping
``dcsim sensitivity --format json`` prints): ``network``, ``dense_top1``, ``bits`` and
``layers`` — each with ``layer``, ``kind``, ``weights``, ``densities`` and ``top1`` (fractions)
— and optionally ``auto`` (``max_loss_points`` → per-layer ``densities``).

The figure shows each layer pruned alone (no retraining): top-1 in percent against the layer's
density on a log axis, the dense network's top-1 as a dashed line, and, for each auto profile,
a marker at every layer's chosen density. Conv layers are drawn solid, fc layers dotted.
"""

from __future__ import annotations

import plotly.graph_objects as go

from reports.figure_common import ACCELERATOR_PALETTE, LAYOUT


def sensitivity_figure(entry: dict) -> go.Figure:
    """The sensitivity figure of one run.json sensitivity entry (module docstring)."""
    layers = entry.get("layers") or []
    if not layers:
        raise ValueError("sensitivity entry: layers=[] is invalid; allowed: at least one layer")
    dense_top1 = float(entry["dense_top1"])
    figure = go.Figure()
    for index, layer in enumerate(layers):
        colour = ACCELERATOR_PALETTE[index % len(ACCELERATOR_PALETTE)]
        densities = [1.0, *layer["densities"]]
        top1 = [dense_top1, *layer["top1"]]
        order = sorted(range(len(densities)), key=lambda i: densities[i])
        figure.add_trace(
            go.Scatter(
                x=[densities[i] for i in order],
                y=[100.0 * top1[i] for i in order],
                mode="lines+markers",
                name=f"{layer['layer']} ({layer['kind']}, {layer['weights']:,} weights)",
                legendgroup=layer["layer"],
                line=dict(color=colour, dash="solid" if layer["kind"] == "conv" else "dot"),
                hovertemplate=f"{layer['layer']}: density %{{x:.3g}}, top-1 %{{y:.2f}}%"
                "<extra></extra>",
            )
        )
    symbols = ("diamond", "square", "triangle-up", "x", "star")
    for number, auto in enumerate(entry.get("auto") or []):
        loss = float(auto["max_loss_points"])
        chosen = auto["densities"]
        figure.add_trace(
            go.Scatter(
                x=[chosen[layer["layer"]] for layer in layers if layer["layer"] in chosen],
                y=[
                    100.0 * _top1_at(layer, dense_top1, chosen[layer["layer"]])
                    for layer in layers
                    if layer["layer"] in chosen
                ],
                text=[layer["layer"] for layer in layers if layer["layer"] in chosen],
                mode="markers",
                marker=dict(symbol=symbols[number % len(symbols)], size=11, color="black"),
                name=f"auto:{loss:g} (each layer loses ≤ {loss:g} points alone)",
                hovertemplate=f"auto:{loss:g} %{{text}}: density %{{x:.3g}}<extra></extra>",
            )
        )
    figure.add_hline(
        y=100.0 * dense_top1,
        line=dict(color="grey", dash="dash"),
        annotation_text=f"dense {100.0 * dense_top1:.2f}%",
        annotation_position="bottom left",
    )
    bits = entry.get("bits")
    how = "pruned" if bits is None else f"pruned + {bits}-bit k-means"
    figure.update_layout(
        **LAYOUT,
        title=f"{entry.get('network', '')}: per-layer sensitivity (one layer {how} at a time, "
        "no retraining)",
    )
    figure.update_xaxes(type="log", title="layer density (kept weights / weights)")
    figure.update_yaxes(title="top-1 accuracy (%)")
    return figure


def _top1_at(layer: dict, dense_top1: float, density: float) -> float:
    """The layer's measured top-1 at `density` (1.0: the dense network)."""
    for d, top1 in zip(layer["densities"], layer["top1"]):
        if d == density:
            return float(top1)
    return dense_top1
