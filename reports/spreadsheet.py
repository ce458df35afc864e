"""Spreadsheets of a sweep: the tidy CSV and an architect-ready XLSX workbook.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports`` (this module). It reads only the
result table's columns (see :mod:`reports.columns`) and the plain ``meta`` dict; it imports no
other dcsim package.

Workbook sheets:

- ``summary``: one row per design point (the total rows);
- ``per_layer``: one row per point × layer. Each ``energy_<action>_mj`` cell is a live formula,
  ``events cell × energy_table!energy cell × 1E-9`` (pJ → mJ), and ``energy_mj`` is the sum of
  the layer's component cells, so editing one per-action energy in ``energy_table`` updates every
  layer; the ``summary`` energies are ``SUMIFS`` over ``per_layer``, so point totals update too;
- ``accelerator``: one row per accelerator spec; ``energy_table``: the energy reference table;
  ``area_table``: the area table, with the ``summary`` area cells as live formulas over it
  (:mod:`reports.area_sheet`);
- ``validation``: published vs model; ``about``: version, creation time and the sweep config;
- ``units``: every column, its header, unit and meaning.

Every formula cell also carries the computed value (cached ``<v>``), for readers that do not
evaluate formulas; openpyxl cannot write those, so the saved package is post-processed. A formula
is written only where it reproduces the table's value (relative 1e-6); otherwise the plain value
is written and a warning is issued. Files are written atomically (temporary file + rename) and
byte-for-byte deterministically (fixed zip timestamps, document dates from ``meta['created']``).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.properties import CalcProperties

from reports.area_sheet import AREA_POINT_COLUMNS, add_area_sheet
from reports.columns import (
    column_info,
    component_of,
    energy_component_columns,
    header,
    meta_header,
    units_rows,
)

__all__ = ["write_csv", "write_xlsx", "SUMMARY_DROP", "PER_LAYER_DROP"]

#: Columns left out of ``summary`` (meaningless on a total row).
SUMMARY_DROP = ("row_type", "layer", "layer_kind")
#: Columns left out of ``per_layer`` (only defined on total rows).
PER_LAYER_DROP = (
    "row_type",
    "fps",
    "meets_target",
    "top1",
    "top5",
    "retrieval_map",
    "precision_at_10",
    "accuracy_source",
    "host_ops",
    "host_op_elements",
    "status",
    "error",
    "binding_memory",
    "binding_utilization",
    *AREA_POINT_COLUMNS,
)
_REL_TOL = 1e-6
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# ----------------------------------------------------------------------------- helpers
def _atomic_target(path: os.PathLike | str) -> tuple[Path, str]:
    """(path, a temporary file next to it) for an atomic write; the temporary file already has
    the permissions a plain `open(path, "w")` would give (0666 minus umask), not mkstemp's
    0600, so the file that replaces `path` is readable as usual."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return path, tmp


def _cell_value(v):
    """A DataFrame value as something openpyxl writes (None for NaN / missing)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return v


def _order(columns: Iterable[str], drop: Iterable[str]) -> list[str]:
    cols = [c for c in columns if c not in set(drop)]
    if "config_json" in cols:  # long: keep it last
        cols.remove("config_json")
        cols.append("config_json")
    return cols


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _REL_TOL * max(abs(a), abs(b), 1e-300)


def _num(v) -> float | None:
    v = _cell_value(v)
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return None
    return float(v)


def _width(header_text: str, values: list) -> float:
    longest = len(header_text)
    for v in values[:200]:
        if v is None:
            continue
        s = f"{v:,.3f}" if isinstance(v, float) else str(v)
        longest = max(longest, len(s))
    return float(min(max(longest + 2, 8), 60))


class _Formula(str):
    """A cell formula (text starting with '='); any other text is written as a string."""


def _write_table(ws, columns: list[str], rows: list[list], headers: list[str], formats: list[str]):
    """Header row (bold, frozen, autofilter) + data rows with per-column number formats."""
    for j, text in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=j, value=text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    formats = list(formats) + ["General"] * (len(headers) - len(formats))
    for i, row in enumerate(rows, start=2):
        for j, v in enumerate(row, start=1):
            if v is None:
                continue
            cell = ws.cell(row=i, column=j, value=v)
            if isinstance(v, str) and v.startswith("=") and not isinstance(v, _Formula):
                cell.data_type = "s"
            fmt = formats[j - 1]
            numeric = isinstance(v, _Formula) or not isinstance(v, (str, bool))
            if fmt and fmt != "General" and numeric:
                cell.number_format = fmt
    for j, name in enumerate(headers, start=1):
        values = [None if isinstance(r[j - 1], _Formula) else r[j - 1] for r in rows]
        ws.column_dimensions[get_column_letter(j)].width = _width(name, values)
    ws.freeze_panes = "B2" if columns and columns[0] == "point_id" else "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, (list, tuple)):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def _records_sheet(wb, title: str, records: list[dict]):
    """A sheet of plain records, headers in the report's style (`meta_header`)."""
    ws = wb.create_sheet(title)
    cols: list[str] = []
    for r in records:
        for k in r:
            if k not in cols:
                cols.append(k)
    rows = [[_cell_value(r.get(c)) for c in cols] for r in records]
    formats = ["General"] * len(cols)
    _write_table(ws, cols, rows, [meta_header(title, c) for c in cols], formats)
    return ws, cols


# ----------------------------------------------------------------------------- CSV
def write_csv(results: pd.DataFrame, path: os.PathLike | str) -> Path:
    """Write the tidy result table as CSV (raw column names, all rows), atomically."""
    path, tmp = _atomic_target(path)
    try:
        results.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ----------------------------------------------------------------------------- XLSX
def write_xlsx(results: pd.DataFrame, meta: dict, path: os.PathLike | str) -> Path:
    """Write the workbook (summary, per_layer, accelerator, energy_table, validation, about,
    units) with live energy formulas and their cached values, atomically. Returns the path."""
    meta = meta or {}
    wb = Workbook()
    wb.remove(wb.active)
    created = _created(meta)
    wb.properties.created = created
    wb.properties.modified = created
    wb.properties.creator = "dcsim"
    wb.properties.lastModifiedBy = "dcsim"
    wb.calculation = CalcProperties(fullCalcOnLoad=True)

    if "row_type" in results.columns:
        totals = results[results["row_type"] == "total"]
        layers = results[results["row_type"] == "layer"]
    else:
        totals = results.iloc[0:0]
        layers = results
    cached: dict[str, dict[str, float]] = {}  # sheet title → cell ref → cached value

    ws_summary = wb.create_sheet("summary")
    ws_layer = wb.create_sheet("per_layer")
    ws_acc, _ = _records_sheet(wb, "accelerator", list(meta.get("accelerators") or []))
    energy_rows = list(meta.get("energy_table") or [])
    ws_energy = wb.create_sheet("energy_table")
    et_cols = ["accelerator", "action", "energy_pj", "unit", "formula", "source"]
    for r in energy_rows:
        for k in r:
            if k not in et_cols:
                et_cols.append(k)
    et_headers = [meta_header("energy_table", c) for c in et_cols]
    _write_table(
        ws_energy,
        et_cols,
        [[_cell_value(r.get(c)) for c in et_cols] for r in energy_rows],
        et_headers,
        ["General", "General", "0.000###", "General", "General", "General"]
        + ["General"] * (len(et_cols) - 6),
    )
    pj_col = get_column_letter(et_cols.index("energy_pj") + 1)
    energy_ref: dict[tuple[str, str], tuple[str, float]] = {}
    for i, r in enumerate(energy_rows, start=2):
        pj = _num(r.get("energy_pj"))
        if pj is not None:
            key = (str(r.get("accelerator")), str(r.get("action")))
            energy_ref.setdefault(key, (f"energy_table!${pj_col}${i}", pj))

    # ---- per_layer
    lcols = _order(layers.columns, PER_LAYER_DROP)
    lletter = {c: get_column_letter(j) for j, c in enumerate(lcols, start=1)}
    comps = energy_component_columns(lcols)
    lrows: list[list] = []
    lcache: dict[str, float] = {}
    n_fallback = 0
    records = layers[lcols].to_dict("records") if len(layers) else []
    for i, rec in enumerate(records, start=2):
        row = [_cell_value(rec[c]) for c in lcols]
        for comp in comps:
            action = component_of(comp)
            ev_col = f"events_{action}"
            val = _num(rec[comp])
            ref = energy_ref.get((str(rec.get("accelerator")), action))
            if ev_col in lletter and ref is not None and val is not None:
                ev = _num(rec[ev_col])
                if ev is not None and _close(ev * ref[1] * 1e-9, val):
                    cell = f"{lletter[comp]}{i}"
                    row[lcols.index(comp)] = _Formula(f"={lletter[ev_col]}{i}*{ref[0]}*1E-9")
                    lcache[cell] = val
                    continue
                n_fallback += 1
        if "energy_mj" in lletter and comps:
            total = _num(rec["energy_mj"])
            parts = [_num(rec[c]) for c in comps]
            if total is not None and _close(sum(p for p in parts if p is not None), total):
                cells = ",".join(f"{lletter[c]}{i}" for c in comps)
                row[lcols.index("energy_mj")] = _Formula(f"=SUM({cells})")
                lcache[f"{lletter['energy_mj']}{i}"] = total
            elif total is not None:
                n_fallback += 1
        lrows.append(row)
    _write_table(
        ws_layer,
        lcols,
        lrows,
        [header(c) for c in lcols],
        [column_info(c).number_format for c in lcols],
    )
    cached[ws_layer.title] = lcache

    # ---- summary
    scols = _order(totals.columns, SUMMARY_DROP)
    sletter = {c: get_column_letter(j) for j, c in enumerate(scols, start=1)}
    srows: list[list] = []
    scache: dict[str, float] = {}
    energy_cols = [c for c in ["energy_mj", *comps] if c in sletter and c in lletter]
    sums = (
        layers.groupby("point_id", sort=False)[energy_cols].sum(min_count=1)
        if energy_cols and len(layers) and "point_id" in layers
        else None
    )
    n_layer_rows = len(layers) + 1
    for i, rec in enumerate(totals[scols].to_dict("records"), start=2):
        row = [_cell_value(rec[c]) for c in scols]
        pid = rec.get("point_id")
        if sums is not None and pid in sums.index and "point_id" in lletter:
            for c in energy_cols:
                val, layer_sum = _num(rec[c]), _num(sums.at[pid, c])
                if val is None or layer_sum is None:
                    continue
                if not _close(val, layer_sum):
                    n_fallback += 1
                    continue
                rng = f"per_layer!${lletter[c]}$2:${lletter[c]}${n_layer_rows}"
                key = f"per_layer!${lletter['point_id']}$2:${lletter['point_id']}${n_layer_rows}"
                row[scols.index(c)] = _Formula(f"=SUMIFS({rng},{key},{sletter['point_id']}{i})")
                scache[f"{sletter[c]}{i}"] = val
        srows.append(row)
    _write_table(
        ws_summary,
        scols,
        srows,
        [header(c) for c in scols],
        [column_info(c).number_format for c in scols],
    )
    cached[ws_summary.title] = scache
    n_fallback += add_area_sheet(wb, ws_summary, totals, scols, meta, cached)  # area_table sheet
    if n_fallback:
        warnings.warn(
            f"write_xlsx: {n_fallback} energy or area cells do not equal events × energy_table "
            f"(area_table entries, or the sum of their parts); written as plain values, not "
            f"formulas",
            stacklevel=2,
        )

    # ---- validation, about, units
    _records_sheet(wb, "validation", list(meta.get("validation") or []))
    ws_about = wb.create_sheet("about")
    about = [
        ("dcsim_version", meta.get("dcsim_version", "")),
        ("created", meta.get("created", "")),
        ("points", int(totals["point_id"].nunique()) if "point_id" in totals else 0),
        ("config", json.dumps(meta.get("config", {}), sort_keys=True, indent=1, default=str)),
    ]
    _write_table(ws_about, ["key", "value"], [list(a) for a in about], ["key", "value"], [])
    ws_about.column_dimensions["B"].width = 100
    ws_about["B5"].alignment = Alignment(wrap_text=True, vertical="top")
    ws_units = wb.create_sheet("units")
    all_cols = list(results.columns)
    urows = units_rows(all_cols, energy_rows)
    _write_table(
        ws_units,
        ["column", "header", "unit", "meaning"],
        [[r["column"], r["header"], r["unit"], r["meaning"]] for r in urows],
        ["column", "header", "unit", "meaning"],
        [],
    )
    ws_units.column_dimensions["D"].width = 90
    del ws_acc

    path, tmp = _atomic_target(path)
    try:
        wb.save(tmp)
        _add_cached_values(tmp, wb.sheetnames, cached, created)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _created(meta: dict) -> _dt.datetime:
    try:
        t = _dt.datetime.fromisoformat(str(meta.get("created")))
        if t.tzinfo is not None:
            t = t.astimezone(_dt.timezone(_dt.timedelta(0))).replace(tzinfo=None)
        return t
    except (TypeError, ValueError):
        return _dt.datetime(2000, 1, 1)


# formula cells as openpyxl writes them: an empty <v/> (or <v></v>) after the formula text,
# which never contains "<" (it is XML-escaped); linear-time on large sheets
_CELL_RE = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>([^<]*)</f>(?:<v\s*/>|<v>\s*</v>)</c>')


def _sheet_files(zf: zipfile.ZipFile, sheetnames: list[str]) -> dict[str, str]:
    """Sheet title → part name, from the workbook and its relationships."""
    wb_xml = zf.read("xl/workbook.xml").decode("utf-8")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update(
        {k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)}
    )
    out = {}
    for m in re.finditer(r"<sheet\b([^>]*)/?>", wb_xml):
        attrs = m.group(1)
        name = re.search(r'name="([^"]*)"', attrs)
        rid = re.search(r'r:id="([^"]*)"|\bid="([^"]*)"', attrs)
        if not name or not rid:
            continue
        target = targets.get(rid.group(1) or rid.group(2), "")
        target = target.lstrip("/")
        if not target.startswith("xl/"):
            target = "xl/" + target
        out[name.group(1)] = target
    missing = [s for s in sheetnames if s not in out]
    if missing:
        raise RuntimeError(f"write_xlsx: cannot locate sheet parts for {missing}")
    return out


def _add_cached_values(
    xlsx_path: str, sheetnames: list[str], cached: dict, created: _dt.datetime
) -> None:
    """Rewrite the package with ``<v>`` values in formula cells, the document dates set to
    ``created`` (openpyxl stamps the save time) and fixed zip timestamps."""
    with zipfile.ZipFile(xlsx_path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
        files = _sheet_files(zf, sheetnames)
    if "docProps/core.xml" in parts:
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        core = parts["docProps/core.xml"].decode("utf-8")
        core = re.sub(
            r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{stamp}\g<2>", core
        )
        parts["docProps/core.xml"] = core.encode("utf-8")
    for title, values in cached.items():
        if not values:
            continue
        part = files[title]
        xml = parts[part].decode("utf-8")

        filled: list[str] = []

        def fill(m, values=values, filled=filled):
            v = values.get(m.group(1))
            if v is None:
                return m.group(0)
            filled.append(m.group(1))
            return (
                f'<c r="{m.group(1)}"{m.group(2)}><f>{m.group(3)}</f><v>{escape(repr(v))}</v></c>'
            )

        xml = _CELL_RE.sub(fill, xml)
        if len(filled) != len(values):
            raise RuntimeError(
                f"write_xlsx: cached {len(filled)} of {len(values)} formula values in {title!r}"
            )
        parts[part] = xml.encode("utf-8")
    with zipfile.ZipFile(xlsx_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(parts, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, parts[name])
