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

from reports.figures import Figure, build_figures, ok_totals, point_label
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


def _table(records, columns: list[str] | None = None, empty: str = "none") -> str:
    df = pd.DataFrame(list(records))
    if df.empty:
        return f'<p class="none">{html.escape(empty)}</p>'
    if columns:
        df = df[[c for c in columns if c in df.columns] + [c for c in df if c not in columns]]
    for c in df.columns:
        if df[c].map(lambda v: isinstance(v, (dict, list))).any():
            df[c] = df[c].map(
                lambda v: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
            )
    return df.to_html(
        index=False, escape=True, na_rep="—", classes="data", border=0, float_format="{:.6g}".format
    )


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


def _summary_html(results: pd.DataFrame, best: str | None, meets: bool) -> str:
    totals = ok_totals(results)
    n_points = results["point_id"].nunique() if "point_id" in results else 0
    n_failed = n_points - len(totals)
    parts = [f"<p>{len(totals)} design points ran, {n_failed} failed.</p>"]
    if best is not None:
        rec = totals[totals["point_id"].astype(str) == best].iloc[0].to_dict()
        what = (
            "best point meeting the target frame rate"
            if meets
            else ("no point meets the target frame rate; best point overall")
        )
        parts.append(f"<p><b>{html.escape(what)}:</b> {html.escape(point_label(rec))}</p>")
        cols = [
            "point_id",
            "network",
            "network_source",
            "accelerator",
            "latency_ms",
            "fps",
            "energy_mj",
            "model_bytes",
            "compression_ratio",
            "fits_onchip",
            "top1",
            "top5",
            "retrieval_map",
            "accuracy_source",
            "host_ops",
        ]
        parts.append(_table([{c: rec.get(c) for c in cols if c in rec}], cols))
    return "\n".join(parts)


def build_report(results: pd.DataFrame, meta: dict) -> str:
    """The complete report as an HTML string (self-contained, offline, deterministic)."""
    meta = meta or {}
    figs, best, meets = build_figures(results)
    by_id = {f.id: f for f in figs}
    sections: list[tuple[str, str, str]] = [
        ("summary", "Summary", _summary_html(results, best, meets)),
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
        ("footprint", "Footprint vs SRAM", _figure_html(by_id["footprint"])),
        ("retrieval", "Retrieval examples", _retrieval_html(list(meta.get("retrieval") or []))),
        (
            "validation",
            "Validation against published numbers",
            _table(
                meta.get("validation") or [],
                ["check", "published", "model", "error_pct", "unit", "notes"],
                "no validation rows",
            ),
        ),
        (
            "energy-table",
            "Energy reference table",
            _table(
                meta.get("energy_table") or [],
                ["accelerator", "action", "energy_pj", "unit_event", "formula", "source"],
                "no energy table",
            ),
        ),
        ("accelerators", "Accelerators", _table(meta.get("accelerators") or [], ["name"])),
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
