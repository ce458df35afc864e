"""One-screen summary of a sweep for the terminal: the best point of each network.

Part of the application layer (DESIGN §6); the full picture is in report.html. The points are
chosen by `reports.best_point.best_points`, the rule the report states and uses, so the
terminal and the report always name the same points.
"""

from __future__ import annotations

import pandas as pd

from reports.best_point import BEST_POINT_RULE, best_points
from reports.formatting import format_bytes


def _fit_text(pick) -> str:
    if "fits_onchip" not in pick or pd.isna(pick["fits_onchip"]):
        return ""
    if bool(pick["fits_onchip"]):
        return ", fits on chip"
    return f", overflows {pick.get('overflow') or 'on-chip memory'}"


def _codebook_text(pick) -> str:
    if "codebook_fits" not in pick or pd.isna(pick["codebook_fits"]) or bool(pick["codebook_fits"]):
        return ""
    return (
        f", needs a {int(pick['codebook_need_entries'])}-entry codebook "
        f"(spec {int(pick['codebook_capacity_entries'])}; simulated enlarged)"
    )


def best_points_lines(totals: pd.DataFrame, picks: pd.DataFrame | None = None) -> list[str]:
    """The rule, then per network its best point with settings and metrics. ``picks``: the
    best points already chosen over the whole table (``reports.scan_table(...).best``) when
    `totals` holds only some of its rows (``.drawn``, which includes the picked points)."""
    picks = best_points(totals) if picks is None else picks
    if picks.empty:
        return []
    lines = [f"  {BEST_POINT_RULE}"]
    for pick in picks.to_dict("records"):
        point = totals[totals["point_id"].astype(str) == pick["point_id"]].iloc[0]
        metric = pick["accuracy_metric"] or "top1"
        accuracy = (
            f", {metric} {point[metric]:.1%} ({point['accuracy_source']})"
            if metric in point and pd.notna(point[metric])
            else ", accuracy not measured"
        )
        lines.append(
            f"  {pick['network']}: {pick['why']}: point {pick['point_id']}, "
            f"{point['accelerator']} (N={int(point['n_pe'])}), density x"
            f"{point['density_scale']:g}, conv/fc bits {int(point['conv_bits'])}/"
            f"{int(point['fc_bits'])} -> {point['latency_ms']:.3g} ms ({point['fps']:.0f} fps), "
            f"{point['energy_mj']:.3g} mJ/frame, container {format_bytes(point['container_bytes'])}"
            f" ({point['compression_ratio']:.1f}x){_fit_text(point)}{_codebook_text(point)}"
            f"{accuracy}"
        )
    return lines
