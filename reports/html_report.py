"""The self-contained HTML report of a sweep (``report.html``).

Place in the flow: ``sweep ──► results.parquet ──► reports`` (this module is the last step;
:func:`reports.outputs.write_outputs` and ``dcsim report`` call it). It reads only the result
table's columns and the plain ``meta`` dict, and imports no other dcsim package. It draws what
:func:`reports.report_scan.scan_table` gathered, so a table of any size gives a report of
bounded size: counts, best points, Pareto fronts and heatmap cells cover every point, the
point clouds a bounded selection (every Pareto-optimal point and a deterministic sample),
and the summary says what was left out of the figures and the workbook.

The page works offline: plotly.js is inlined once in ``<head>``, images of the retrieval grid are
inline PNG (base64), and nothing is fetched. It holds the summary (:mod:`reports.report_summary`),
the Pareto fronts, the sparsity × bits heatmaps, the per-layer breakdown, load balance, footprint
vs SRAM, the retrieval grid, the validation table, the energy reference table, the accelerators,
the config and the failed points. The output is deterministic given the same inputs: the only
time printed is ``meta['created']``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from reports.columns import header, meta_header
from reports.figure_common import ACC_LABEL
from reports.figures import PARETO_FIGURES, Figure, figures_of
from reports.formatting import format_number, format_value
from reports.output_file import atomic_output
from reports.report_scan import ReportData, scan_table
from reports.report_summary import scale_notes, summary_html
from reports.sensitivity_figure import sensitivity_figure

__all__ = ["build_report", "image_png_base64", "report_html", "write_report"]

#: Rows of the energy reference table and of the accelerator specs shown in the report
#: (a sweep over thousands of hardware variants has a spec and an energy table for each).
MAX_META_ROWS = 500

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 0 2em 3em;
       color: #222; max-width: 1400px; }
h1 { margin-bottom: 0.2em; } .meta { color: #555; margin-top: 0; }
nav { background: #f4f6f9; padding: 0.6em 1em; border-radius: 6px; line-height: 1.8; }
nav a { margin-right: 1.2em; }
section { margin-top: 2.2em; } .caption { color: #555; font-size: 0.9em; }
table.data { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
table.data th, table.data td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
table.data th { background: #dde4ee; } table.data td:first-child { text-align: left; }
pre { background: #f4f6f9; padding: 1em; overflow-x: auto; font-size: 0.85em; }
.retrieval td { text-align: center; vertical-align: top; font-size: 0.8em; padding: 4px; }
.retrieval img { image-rendering: pixelated; border: 1px solid #999; }
.none { color: #777; font-style: italic; }
.figure { margin-top: 1em; }
"""


def image_png_base64(image, size: int = 64) -> str:
    """A 2-D grey image (list of lists or array) as a ``data:image/png;base64,…`` URI,
    min–max normalised and scaled up to ``size`` pixels (nearest neighbour)."""
    from PIL import Image

    a = np.asarray(image, dtype=float)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"retrieval image: expected a 2-D grey image, got shape {a.shape}")
    a = np.nan_to_num(a)
    lo, hi = float(a.min()), float(a.max())
    norm = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    img = Image.fromarray((norm * 255).round().astype(np.uint8), mode="L")
    scale = max(1, size // max(a.shape))
    img = img.resize((a.shape[1] * scale, a.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _cell(value, formatter) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return formatter(value)


def _table(
    records,
    columns: list[str] | None = None,
    empty: str = "none",
    *,
    table: str | None = None,
) -> str:
    """An HTML table of `records`. Result-table records (`table` None) get the catalogue's
    headers and humanised values (sizes as 8.79 MB); the other tables (`table` = energy_table,
    validation, …) get `meta_header` headers and plain numbers, never e-notation."""
    df = pd.DataFrame(list(records))
    if df.empty:
        return f'<p class="none">{html.escape(empty)}</p>'
    if columns:
        df = df[[c for c in columns if c in df.columns] + [c for c in df if c not in columns]]
    head = "".join(
        f"<th>{html.escape(header(c) if table is None else meta_header(table, c))}</th>"
        for c in df.columns
    )
    rows = []
    for rec in df.to_dict("records"):
        cells = []
        for c in df.columns:
            if table is None:
                text = _cell(rec[c], lambda v, c=c: format_value(c, v))
            else:
                text = _cell(rec[c], _plain)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _plain(value) -> str:
    """A value of the report's other tables: numbers with four significant digits."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return format_number(value)
    return str(value)


def _figure_html(fig: Figure) -> str:
    div = pio.to_html(
        fig.figure,
        full_html=False,
        include_plotlyjs=False,
        div_id=fig.id,
        config=_PLOTLY_CONFIG,
        validate=True,
    )
    for escaped, tag in _HOVER_TAGS:
        div = div.replace(escaped, tag)
    caption = f'<p class="caption">{html.escape(fig.caption)}</p>' if fig.caption else ""
    return f'<div class="figure" data-figure="{fig.id}">{div}</div>{caption}'


#: The hover markup plotly's JSON writes escaped (`<` as \u003c, so that no string can close
#: the script): these exact tags cannot form `</script` or `<!--`, and written as themselves
#: they take a quarter of the bytes — a sweep's figures hold about 10^5 of them.
_HOVER_TAGS: tuple[tuple[str, str], ...] = tuple(
    (tag.replace("<", "\\u003c").replace(">", "\\u003e"), tag) for tag in ("<br>", "<b>", "</b>")
)


def _retrieval_html(examples: list) -> str:
    if not examples:
        return '<p class="none">no retrieval examples in this sweep</p>'
    out = []
    for ex in examples:
        title = f"{ex.get('network', '')} — point {ex.get('point_id', '')}"
        rows = []
        q = ex.get("query_image")
        qcell = (
            f'<img src="{image_png_base64(q)}" alt="query"><br>query: '
            f"{html.escape(str(ex.get('query_label', '')))}"
            if q is not None
            else "—"
        )
        for key, label in (("dense_top5", "dense top-5"), ("compressed_top5", "compressed top-5")):
            cells = []
            for hit in ex.get(key) or []:
                src = image_png_base64(hit.get("image"))
                lab = html.escape(str(hit.get("label", "")))
                match = "✓" if str(hit.get("label")) == str(ex.get("query_label")) else "✗"
                cells.append(f'<td><img src="{src}" alt="{lab}"><br>{lab} {match}</td>')
            rows.append(f"<tr><th>{label}</th>{''.join(cells)}</tr>")
        out.append(
            f'<h3>{html.escape(title)}</h3><table class="retrieval"><tr><th>query</th>'
            f"<td>{qcell}</td></tr>{''.join(rows)}</table>"
        )
    return "\n".join(out)


def _failed_html(data: ReportData) -> str:
    """The failed points with their reasons (the first :data:`MAX_FAILED_ROWS`; with more,
    every distinct message and how many points it stopped)."""
    failed = data.failed
    if failed.empty:
        return '<p class="none">no failed points</p>'
    cols = [c for c in failed.columns]
    parts = [_table(failed.to_dict("records"), cols, "no failed points")]
    if data.n_failed > len(failed):
        parts.insert(
            0,
            f"<p>{data.n_failed:,} points failed; the first {len(failed):,} are listed (all "
            "are in results.csv and the workbook's summary sheet). Their messages:</p>"
            + _table(
                [{"error": m, "points": c} for m, c in data.failure_messages],
                ["error", "points"],
                table="failures",
            ),
        )
    return "\n".join(parts)


def _limited(records: list, what: str) -> tuple[list, str]:
    """The first :data:`MAX_META_ROWS` records and a note when there are more."""
    if len(records) <= MAX_META_ROWS:
        return records, ""
    note = (
        f'<p class="caption">The first {MAX_META_ROWS:,} of {len(records):,} {what} are '
        "shown; all are in results.xlsx and run.json.</p>"
    )
    return records[:MAX_META_ROWS], note


def _sensitivity_html(entries: list) -> str:
    """One per-layer sensitivity figure per run.json entry (`reports.sensitivity_figure`)."""
    if not entries:
        return (
            '<p class="none">Per-layer sensitivity not computed for this sweep (set '
            "<code>[accuracy] sensitivity = true</code> or use an <code>auto:L</code> density "
            "profile; or run <code>dcsim sensitivity</code>).</p>"
        )
    parts = []
    for entry in entries:
        network = str(entry.get("network", ""))
        title = f"Per-layer pruning sensitivity: {network}"
        try:
            figure = sensitivity_figure(entry)
        except (KeyError, TypeError, ValueError) as error:
            parts.append(f'<p class="none">{html.escape(title)}: {html.escape(str(error))}</p>')
            continue
        fid = "sensitivity-" + re.sub(r"[^A-Za-z0-9_-]+", "-", network)
        caption = (
            "Each layer pruned alone to each density (no retraining), the others dense; the "
            "dashed line is the dense network's top-1; markers: the auto profiles' densities."
        )
        parts.append(_figure_html(Figure(fid, title, figure, caption)))
    return "".join(parts)


def _tradeoff_html(data: ReportData, by_id: dict, meta: dict | None = None) -> str:
    """The trade-off section: the figure, the smallest accelerator per accuracy loss, the
    knees (figure and table), the per-layer sensitivity."""
    tradeoff = data.tradeoff
    parts = [_figure_html(by_id["tradeoff"])]
    if tradeoff is not None and tradeoff.networks():
        metric = ACC_LABEL.get(tradeoff.metric or "", "accuracy")
        fps = f"{tradeoff.target_fps:g} fps" if tradeoff.target_fps else "the target frame rate"
        rows = []
        for rec in tradeoff.smallest_table().to_dict("records"):
            found = isinstance(rec.get("point_id"), str) and rec["point_id"] != ""
            row = {
                "network": rec["network"],
                "reference": f"{rec['reference']:.2%}",
                "loss allowed": f"≤ {rec['loss_allowed'] * 100:g} points",
                metric: format_value("top1", rec.get("accuracy")) if found else "—",
            }
            if found:
                for column in (
                    "density_scale", "conv_bits", "fc_bits", "model_bytes", "n_pe",
                    "clock_mhz", "sram_per_pe_kb", "area_mm2", "onchip_capacity_bytes", "fps",
                    "energy_mj", "accelerator", "point_id",
                ):  # fmt: skip
                    value = rec.get(column)
                    kind = "onchip_bytes" if column == "onchip_capacity_bytes" else column
                    row[
                        header(kind) if column != "onchip_capacity_bytes" else "on-chip capacity"
                    ] = format_value(kind, value)
            else:
                row["smallest accelerator"] = f"none meets {fps} and fits on chip"
            rows.append(row)
        parts.append(
            f"<h3>Smallest accelerator that meets {html.escape(fps)} and fits on chip, within "
            'an accuracy loss</h3><p class="caption">Loss: percentage points of '
            f"{html.escape(metric)} below the network's most accurate setting in the sweep "
            "(the reference column). Smallest: least area where the table has it, else least "
            "on-chip capacity; ties: fewer PEs, lower clock, lower energy.</p>"
            + _table(rows, table="tradeoff")
        )
        knees = []
        for rec in tradeoff.knees().to_dict("records"):
            flat = not np.isfinite(rec["knee"])
            knees.append(
                {
                    "network": rec["network"],
                    "axis": rec["axis"].replace("_", " "),
                    "points": rec["points"],
                    f"{metric} span": f"{rec['accuracy_span'] * 100:.2f} points"
                    if np.isfinite(rec["accuracy_span"])
                    else "—",
                    "knee": "none (flat or too few points)" if flat else f"{rec['knee']:g}",
                    f"{metric} at knee": "—" if flat else f"{rec['knee_accuracy']:.2%}",
                }
            )
        parts.append(_figure_html(by_id["knees"]) + _table(knees, table="knees"))
    else:
        parts.append(_figure_html(by_id["knees"]))
    parts.append(_sensitivity_html(list((meta or {}).get("sensitivity") or [])))
    return "".join(parts)


def report_html(data: ReportData, meta: dict) -> str:
    """The complete report of a scanned table as an HTML string (self-contained, offline,
    deterministic)."""
    meta = meta or {}
    figs = figures_of(data)
    by_id = {f.id: f for f in figs}
    energy_rows, energy_note = _limited(list(meta.get("energy_table") or []), "energy rows")
    accelerators, accelerators_note = _limited(list(meta.get("accelerators") or []), "specs")
    area_rows, area_note = _limited(list(meta.get("area_table") or []), "area rows")
    sections: list[tuple[str, str, str]] = [
        ("summary", "Summary", summary_html(data, scale_notes(data))),
        ("tradeoff", "Accuracy, size and speed", _tradeoff_html(data, by_id, meta)),
        (
            "pareto",
            "Pareto fronts",
            "".join(_figure_html(by_id[f"pareto-{w}"]) for w in PARETO_FIGURES),
        ),
        (
            "heatmaps",
            "Sparsity × bits",
            "".join(
                _figure_html(by_id[f"heatmap-{w}"])
                for w in ("latency", "energy", "size", "accuracy")
            ),
        ),
        ("layers", "Per-layer breakdown", _figure_html(by_id["layer-breakdown"])),
        ("balance", "Load balance", _figure_html(by_id["load-balance"])),
        (
            "footprint",
            "On-chip memory: need vs capacity",
            _figure_html(by_id["footprint"]),
        ),
        ("energy-area", "Energy vs area", _figure_html(by_id["energy-area"])),
        ("retrieval", "Retrieval examples", _retrieval_html(list(meta.get("retrieval") or []))),
        (
            "validation",
            "Validation against published numbers",
            _table(
                meta.get("validation") or [],
                ["check", "published", "model", "error_pct", "unit", "source", "notes"],
                "no validation rows",
                table="validation",
            ),
        ),
        (
            "energy-table",
            "Energy reference table",
            energy_note
            + _table(
                energy_rows,
                ["accelerator", "action", "energy_pj", "unit", "formula", "source"],
                "no energy table",
                table="energy_table",
            ),
        ),
        (
            "area-table",
            "Area table",
            area_note + _table(area_rows, None, "no area table", table="area_table"),
        ),
        (
            "accelerators",
            "Accelerators",
            accelerators_note + _table(accelerators, ["name"], table="accelerators"),
        ),
        (
            "config",
            "Sweep configuration",
            "<pre>"
            + html.escape(json.dumps(meta.get("config", {}), indent=2, sort_keys=True, default=str))
            + "</pre>",
        ),
        ("failed", "Failed points", _failed_html(data)),
    ]
    # section ids carry a prefix so they never collide with a figure's div id
    nav = "".join(f'<a href="#sec-{sid}">{html.escape(t)}</a>' for sid, t, _ in sections)
    body = "\n".join(
        f'<section id="sec-{sid}"><h2>{html.escape(t)}</h2>\n{content}</section>'
        for sid, t, content in sections
    )
    version = html.escape(str(meta.get("dcsim_version", "")))
    created = html.escape(str(meta.get("created", "")))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>dcsim sweep report</title>"
        f"<style>{_CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        "</head><body>"
        "<h1>dcsim sweep report</h1>"
        f'<p class="meta">dcsim {version} · created {created} · {len(figs)} figures</p>'
        f"<nav>{nav}</nav>\n{body}\n</body></html>\n"
    )


def build_report(results, meta: dict) -> str:
    """The complete report of a table (a DataFrame, or a parquet path streamed) as HTML."""
    return report_html(scan_table(results), meta)


def write_report(
    results, meta: dict, path: os.PathLike | str, *, data: ReportData | None = None
) -> Path:
    """Write the report to ``path`` atomically (temporary file + rename); ``data``: the table
    already scanned (:func:`reports.report_scan.scan_table`), else `results` is scanned."""
    text = report_html(data if data is not None else scan_table(results), meta)
    with atomic_output(path) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(path)
