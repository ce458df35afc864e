"""The summary section of the HTML report: points run and failed, each network's best point
side by side, what fits on chip, the codebook caveat, and what a large sweep leaves out.

Place in the flow: ``sweep ──► results.parquet ──► reports``; :mod:`reports.html_report`
puts this section first in ``report.html``. It renders what :func:`reports.report_scan.scan_table`
gathered (counts, best points, binding memories, codebook cases) and the workbook's notes
(:func:`reports.workbook_plan.workbook_notes`); it reads only the result table's columns.
"""

from __future__ import annotations

import html

from reports.best_point import BEST_POINT_RULE
from reports.columns import header
from reports.formatting import format_value
from reports.report_scan import ReportData
from reports.workbook_plan import workbook_notes

__all__ = ["SUMMARY_COLUMNS", "best_points_table", "scale_notes", "summary_html"]


#: The quantities shown for each network's best point, in this order (absent ones skipped).
SUMMARY_COLUMNS = [
    "point_id",
    "network",
    "network_source",
    "accelerator",
    "density_scale",
    "conv_bits",
    "fc_bits",
    "latency_ms",
    "fps",
    "meets_target",
    "energy_mj",
    "model_bytes",
    "container_bytes",
    "compression_ratio",
    "fits_onchip",
    "overflow",
    "binding_memory",
    "binding_utilization",
    "codebook_fits",
    "codebook_entries",
    "top1",
    "top5",
    "retrieval_map",
    "accuracy_source",
    "host_ops",
]


def best_points_table(records: list[dict]) -> str:
    """The best points side by side: one column per network, one row per quantity."""
    head = "<th></th>" + "".join(f"<th>{html.escape(str(r['network']))}</th>" for r in records)
    rows = [
        "<tr><td>chosen because</td>"
        + "".join(f"<td>{html.escape(str(r['why']))}</td>" for r in records)
        + "</tr>"
    ]
    for column in SUMMARY_COLUMNS:
        if column == "network" or all(r.get(column) is None for r in records):
            continue
        cells = "".join(
            f"<td>{html.escape(format_value(column, r.get(column)))}</td>" for r in records
        )
        rows.append(f"<tr><td>{html.escape(header(column))}</td>{cells}</tr>")
    return (
        f'<table class="data best"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def summary_html(data: ReportData, notes: list[str]) -> str:
    """Points run / failed, the best point of each network (with the rule), what fits on chip,
    which points need a larger codebook than their accelerator has, and what the figures and
    the workbook leave out of a large sweep."""
    parts = [f"<p>{data.n_ok:,} design points ran, {data.n_failed:,} failed.</p>"]
    if len(data.best):
        parts.append(f'<p class="rule">{html.escape(BEST_POINT_RULE)}</p>')
        by_id = {str(r["point_id"]): r for r in data.drawn.to_dict("records")}
        records = []
        for pick in data.best.to_dict("records"):
            rec = by_id[pick["point_id"]]
            records.append({"why": pick["why"], **{c: rec.get(c) for c in SUMMARY_COLUMNS}})
        parts.append(best_points_table(records))
    if "fits_onchip" in data.columns and data.n_ok:
        text = f"{data.n_fit:,} of {data.n_ok:,} points fit on chip"
        if "binding_memory" in data.columns and data.n_fit < data.n_ok:
            text += "; the others overflow, binding memory: " + ", ".join(
                f"{name} ({count:,})" for name, count in data.binding_counts.items()
            )
        parts.append(f"<p>{html.escape(text)}.</p>")
    if data.codebook_short:
        cases = [f"{n} entries on a {c}-entry codebook" for n, c in data.codebook_cases]
        parts.append(
            '<p class="codebook"><b>Codebook:</b> '
            + html.escape(
                f"{data.codebook_short:,} of {data.n_ok:,} points use more weight bits than "
                f"their accelerator's codebook holds ({'; '.join(cases)}). They are simulated "
                "with the codebook enlarged to 2^b entries and charged that register "
                "file's decode energy (codebook_fits = no, codebook_entries = the size "
                "simulated): they describe a modified accelerator, not the spec as given."
            )
            + "</p>"
        )
    for note in notes:
        parts.append(f'<p class="scale-note">{html.escape(note)}</p>')
    return "\n".join(parts)


def scale_notes(data: ReportData) -> list[str]:
    """What a large sweep's report and workbook leave out, in words."""
    notes = []
    if data.sampled:
        notes.append(
            f"Figures: this sweep has {data.n_ok:,} points that ran; the scatter plots draw "
            f"{len(data.drawn):,} of them with WebGL — every Pareto-optimal point, each "
            "network's best point, the lowest-energy points and a deterministic sample of the "
            "others (the smallest hashes of the point ids). Counts, fronts, best points and "
            "heatmap cells are computed over all points."
        )
    notes += workbook_notes(data)
    return notes
