"""The workbook's area: an ``area_table`` sheet and live area formulas on ``summary``.

Place in the flow: part of ``reports`` (:func:`reports.spreadsheet.write_xlsx` calls
:func:`add_area_sheet` once the ``summary`` sheet is written). Reads only the result table's
columns (``accelerator``, ``codebook_entries``, ``area_<component>_mm2``, ``area_mm2``,
``fps``, ``fps_per_mm2``) and ``meta['area_table']`` (rows of the simulator's area table, one
set per accelerator and codebook size).

- ``area_table``: accelerator, codebook entries, component, module, instances, area of one
  instance (µm²), area of all instances (mm², the live formula instances × µm² × 1E-6),
  formula and source — edit one component's µm² and every point's area follows;
- ``summary``: each ``area_<component>_mm2`` cell refers to its row of ``area_table``,
  ``area_mm2`` is the SUM of the point's component cells and ``fps_per_mm2`` is fps / area.
A formula is written only where it reproduces the table's value (relative 1e-6); otherwise
the plain value stays and the cell is counted (the caller warns). Cached values for every
formula go into ``cached`` (sheet title → cell → value), as the rest of the workbook does.
"""

from __future__ import annotations

import math

from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.area_columns import AREA_COLUMN_NAMES, AREA_COMPONENT_WORDS

__all__ = ["AREA_POINT_COLUMNS", "add_area_sheet"]

#: Columns defined on total rows only (left out of ``per_layer``).
AREA_POINT_COLUMNS: tuple[str, ...] = (
    "area_mm2",
    *AREA_COLUMN_NAMES,
    "power_mw",
    "fps_per_mm2",
    "frames_per_j",
    "tops_per_w_dense",
)
SHEET = "area_table"
_COLUMNS = (
    "accelerator",
    "codebook_entries",
    "component",
    "module",
    "instances",
    "area_um2",
    "area_mm2",
    "formula",
    "source",
)
_HEADERS = {
    "codebook_entries": "codebook entries",
    "area_um2": "area of one instance (µm²)",
    "area_mm2": "area of all instances (mm²)",
}
_REL_TOL = 1e-6


def _close(a, b) -> bool:
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= _REL_TOL * max(abs(a), abs(b), 1e-300)


def _key(accelerator, entries) -> tuple[str, int] | None:
    try:
        return str(accelerator), int(entries)
    except (TypeError, ValueError):
        return None


def _write_area_table(wb, rows: list[dict], cached: dict) -> dict:
    """The sheet; returns (accelerator, codebook entries, component) → (cell ref, mm²)."""
    index = wb.sheetnames.index("energy_table") + 1 if "energy_table" in wb.sheetnames else None
    ws = wb.create_sheet(SHEET, index)
    for j, name in enumerate(_COLUMNS, start=1):
        cell = ws.cell(row=1, column=j, value=_HEADERS.get(name, name.replace("_", " ")))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
    letter = {name: get_column_letter(j) for j, name in enumerate(_COLUMNS, start=1)}
    refs, values = {}, {}
    for i, row in enumerate(rows, start=2):
        for j, name in enumerate(_COLUMNS, start=1):
            value = row.get(name)
            if name == "area_mm2":
                formula = f"={letter['instances']}{i}*{letter['area_um2']}{i}*1E-6"
                if _close(float(row["instances"]) * float(row["area_um2"]) * 1e-6, value):
                    ws.cell(row=i, column=j, value=formula).number_format = "0.000000"
                    values[f"{letter[name]}{i}"] = float(value)
                    continue
            if isinstance(value, str) and value.startswith("="):
                ws.cell(row=i, column=j, value=value).data_type = "s"
            elif value is not None:
                ws.cell(row=i, column=j, value=value)
        key = _key(row.get("accelerator"), row.get("codebook_entries"))
        if key is not None:
            refs[(*key, str(row.get("component")))] = (
                f"{SHEET}!${letter['area_mm2']}${i}",
                row.get("area_mm2"),
            )
    widths = {"formula": 70, "source": 90, "component": 22, "accelerator": 18}
    for name, col in letter.items():
        ws.column_dimensions[col].width = widths.get(name, 14)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(_COLUMNS))}{len(rows) + 1}"
    cached[SHEET] = values
    return refs


def add_area_sheet(wb, ws_summary, totals, scols: list[str], meta: dict, cached: dict) -> int:
    """Write ``area_table`` and the ``summary`` area formulas (module docstring); returns how
    many area cells stayed plain values because no formula reproduces them."""
    refs = _write_area_table(wb, list(meta.get("area_table") or []), cached)
    letter = {c: get_column_letter(j) for j, c in enumerate(scols, start=1)}
    components = [c for c, _ in AREA_COMPONENT_WORDS if f"area_{c}_mm2" in letter]
    summary_cache = cached.setdefault(ws_summary.title, {})
    fallbacks = 0
    for i, rec in enumerate(totals[scols].to_dict("records"), start=2):
        key = _key(rec.get("accelerator"), rec.get("codebook_entries"))
        cells = []
        for component in components:
            column = f"area_{component}_mm2"
            ref = refs.get((*key, component)) if key else None
            value = rec.get(column)
            if ref is None or not _close(ref[1], value):
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    fallbacks += 1
                continue
            cell = f"{letter[column]}{i}"
            ws_summary[cell] = f"={ref[0]}"
            summary_cache[cell] = float(value)
            cells.append(cell)
        if "area_mm2" in letter and cells and len(cells) == len(components):
            total = rec.get("area_mm2")
            parts = sum(float(rec[f"area_{c}_mm2"]) for c in components)
            cell = f"{letter['area_mm2']}{i}"
            if _close(parts, total):
                ws_summary[cell] = f"=SUM({','.join(cells)})"
                summary_cache[cell] = float(total)
                if {"fps", "fps_per_mm2"} <= set(letter) and _close(
                    float(rec["fps"]) / float(total), rec["fps_per_mm2"]
                ):
                    out = f"{letter['fps_per_mm2']}{i}"
                    ws_summary[out] = f"={letter['fps']}{i}/{cell}"
                    summary_cache[out] = float(rec["fps_per_mm2"])
            else:
                fallbacks += 1
    return fallbacks
