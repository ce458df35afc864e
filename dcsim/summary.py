"""One-screen summary of a sweep for the terminal: the best points per network.

Part of the application layer (DESIGN §6); the full picture is in report.html.
"""

from __future__ import annotations

import pandas as pd


def best_points_lines(totals: pd.DataFrame) -> list[str]:
    """Per network: the lowest-energy point meeting the frame-rate target (or the fastest point
    when none meets it), with its settings and metrics."""
    lines = []
    ok = totals[totals["status"] == "ok"]
    for network, group in ok.groupby("network", sort=False):
        meeting = group[group["meets_target"].astype(bool)]
        pick = (
            meeting.sort_values("energy_mj").iloc[0]
            if len(meeting)
            else group.sort_values("latency_ms").iloc[0]
        )
        why = "lowest energy at target fps" if len(meeting) else "fastest (none meets target)"
        accuracy = (
            f", top-1 {pick['top1']:.1%} ({pick['accuracy_source']})"
            if pd.notna(pick.get("top1"))
            else ""
        )
        lines.append(
            f"  {network}: {why}: {pick['accelerator']} (N={int(pick['n_pe'])}), density x"
            f"{pick['density_scale']:g}, conv/fc bits {int(pick['conv_bits'])}/"
            f"{int(pick['fc_bits'])} -> {pick['latency_ms']:.3g} ms ({pick['fps']:.0f} fps), "
            f"{pick['energy_mj']:.3g} mJ/frame, {pick['container_bytes'] / 1e6:.3g} MB "
            f"({pick['compression_ratio']:.1f}x){accuracy}"
        )
    return lines
