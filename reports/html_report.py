"""The self-contained HTML report of a sweep (``report.html``).

Place in the flow: ``sweep ──► tidy DataFrame ──► reports`` (this module is the last step; the
``dcsim sweep`` and ``dcsim report`` commands call :func:`write_report`). It reads only the
result table's columns and the plain ``meta`` dict, and imports no other dcsim package.

The page works offline: plotly.js is inlined once in ``<head>``, images of the retrieval grid are
inline PNG (base64), and nothing is fetched. It holds the Pareto fronts, the sparsity × bits
heatmaps, the per-layer breakdown, load balance, footprint vs SRAM, the retrieval grid, the
validation table, the energy reference table, the accelerators, the config and the failed
points. The output is deterministic given the same inputs: the only time printed is
``meta['created']``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from reports.best_point import BEST_POINT_RULE
from reports.columns import header, meta_header
from reports.figures import Figure, build_figures, ok_totals
from reports.formatting import format_number, format_value
from reports.spreadsheet import _atomic_target

__all__ = ["build_report", "write_report", "image_png_base64"]

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
    caption = f'<p class="caption">{html.escape(fig.caption)}</p>' if fig.caption else ""
    return f'<div class="figure" data-figure="{fig.id}">{div}</div>{caption}'


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


def _failed_html(results: pd.DataFrame) -> str:
    if "status" not in results.columns or "row_type" not in results.columns:
        return '<p class="none">no failed points</p>'
    failed = results[(results["row_type"] == "total") & (results["status"] == "error")]
    cols = [
        c
        for c in ("point_id", "network", "accelerator", "density_scale", "conv_bits", "fc_bits")
        if c in failed.columns
    ]
    cols += [c for c in ("error", "config_json") if c in failed.columns]
    return _table(failed[cols].to_dict("records"), cols, "no failed points")


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


def _best_points_table(records: list[dict]) -> str:
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


def _summary_html(results: pd.DataFrame, best: pd.DataFrame) -> str:
    """Points run / failed, the best point of each network (with the rule), what fits on chip
    and which points need a larger codebook than their accelerator has."""
    totals = ok_totals(results)
    n_points = results["point_id"].nunique() if "point_id" in results else 0
    n_failed = n_points - len(totals)
    parts = [f"<p>{len(totals)} design points ran, {n_failed} failed.</p>"]
    if len(best):
        parts.append(f'<p class="rule">{html.escape(BEST_POINT_RULE)}</p>')
        records = []
        for pick in best.to_dict("records"):
            rec = totals[totals["point_id"].astype(str) == pick["point_id"]].iloc[0].to_dict()
            records.append({"why": pick["why"], **{c: rec.get(c) for c in SUMMARY_COLUMNS}})
        parts.append(_best_points_table(records))
    if "fits_onchip" in totals and len(totals):
        fits = totals["fits_onchip"].fillna(False).astype(bool)
        text = f"{int(fits.sum())} of {len(totals)} points fit on chip"
        if "binding_memory" in totals and (~fits).any():
            binding = totals.loc[~fits, "binding_memory"].astype(str).value_counts()
            text += "; the others overflow, binding memory: " + ", ".join(
                f"{name} ({count})" for name, count in binding.items()
            )
        parts.append(f"<p>{html.escape(text)}.</p>")
    if "codebook_fits" in totals and len(totals):
        short = totals[~totals["codebook_fits"].fillna(True).astype(bool)]
        if len(short):
            capacity = short.get("codebook_capacity_entries")
            need = short.get("codebook_need_entries")
            cases = [
                f"{n} entries on a {c}-entry codebook"
                for n, c in sorted(
                    {(int(n), int(c)) for n, c in zip(need, capacity) if n == n and c == c}
                )
            ]
            parts.append(
                '<p class="codebook"><b>Codebook:</b> '
                + html.escape(
                    f"{len(short)} of {len(totals)} points use more weight bits than their "
                    f"accelerator's codebook holds ({'; '.join(cases)}). They are simulated "
                    "with the codebook enlarged to 2^b entries and charged that register "
                    "file's decode energy (codebook_fits = no, codebook_entries = the size "
                    "simulated): they describe a modified accelerator, not the spec as given."
                )
                + "</p>"
            )
    return "\n".join(parts)


def build_report(results: pd.DataFrame, meta: dict) -> str:
    """The complete report as an HTML string (self-contained, offline, deterministic)."""
    meta = meta or {}
    figs, best = build_figures(results)
    by_id = {f.id: f for f in figs}
    sections: list[tuple[str, str, str]] = [
        ("summary", "Summary", _summary_html(results, best)),
        (
            "pareto",
            "Pareto fronts",
            "".join(_figure_html(by_id[f"pareto-{w}"]) for w in ("latency", "energy", "size")),
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
            _table(
                meta.get("energy_table") or [],
                ["accelerator", "action", "energy_pj", "unit", "formula", "source"],
                "no energy table",
                table="energy_table",
            ),
        ),
        (
            "area-table",
            "Area table",
            _table(meta.get("area_table") or [], None, "no area table", table="area_table"),
        ),
        (
            "accelerators",
            "Accelerators",
            _table(meta.get("accelerators") or [], ["name"], table="accelerators"),
        ),
        (
            "config",
            "Sweep configuration",
            "<pre>"
            + html.escape(json.dumps(meta.get("config", {}), indent=2, sort_keys=True, default=str))
            + "</pre>",
        ),
        ("failed", "Failed points", _failed_html(results)),
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


def write_report(results: pd.DataFrame, meta: dict, path: os.PathLike | str) -> Path:
    """Write :func:`build_report` to ``path`` atomically (temporary file + rename)."""
    text = build_report(results, meta)
    path, tmp = _atomic_target(path)
    try:
        Path(tmp).write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
