"""The workbook's area: an ``area_table`` sheet and live area formulas on ``summary``.

Place in the flow: part of ``reports`` (:func:`reports.spreadsheet.write_workbook` adds the
sheet and asks for the ``summary`` formulas batch by batch, as it streams the rows). Reads only
the result table's columns (``accelerator``, ``codebook_entries``, ``area_<component>_mm2``,
``area_mm2``, ``fps``, ``fps_per_mm2``) and ``meta['area_table']`` (rows of the simulator's area
table, one set per accelerator and codebook size).

- ``area_table``: accelerator, codebook entries, component, module, instances, area of one
  instance (µm²), area of all instances (mm², the live formula instances × µm² × 1E-6),
  formula and source — edit one component's µm² and every point's area follows;
- ``summary``: each ``area_<component>_mm2`` cell refers to its row of ``area_table``,
  ``area_mm2`` is the SUM of the point's component cells and ``fps_per_mm2`` is fps / area.
A formula is written only where it reproduces the table's value (relative 1e-6); otherwise
the plain value stays and the cell is counted (the caller warns). Every formula cell carries
the table's value as its cached value, as the rest of the workbook does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reports.area_columns import AREA_COLUMN_NAMES, AREA_COMPONENT_WORDS
from reports.sheet_xml import SheetLayout, rows_xml
from reports.table_source import string_values
from reports.workbook_package import TableSheet

__all__ = ["AREA_POINT_COLUMNS", "AreaRefs", "area_sheet", "area_summary_formulas"]

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


def _close_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`_close` element-wise (False where either is not finite)."""
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    with np.errstate(invalid="ignore"):
        return np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= _REL_TOL * scale)


def _key(accelerator, entries) -> tuple[str, int] | None:
    try:
        return str(accelerator), int(entries)
    except (TypeError, ValueError):
        return None


@dataclass
class AreaRefs:
    """(accelerator, codebook entries, component) → (area_table row, mm² of that row)."""

    rows: dict[tuple[str, int, str], tuple[int, float]] = field(default_factory=dict)
    column: str = "G"  # the area_table letter of the mm² column


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def area_sheet(meta: dict) -> tuple[TableSheet, AreaRefs]:
    """The ``area_table`` sheet of ``meta['area_table']`` and the references the ``summary``
    formulas use."""
    records = list(meta.get("area_table") or [])
    data = {c: [_plain(r.get(c)) for r in records] for c in _COLUMNS}
    arrays = []
    for c in _COLUMNS:
        try:
            arrays.append(pa.array(data[c]))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else str(v) for v in data[c]], pa.string()))
    table = pa.Table.from_arrays(arrays, names=list(_COLUMNS))
    letters = SheetLayout(list(_COLUMNS)).letters
    refs = AreaRefs(column=letters["area_mm2"])
    good = np.zeros(len(records), dtype=bool)
    for i, row in enumerate(records):
        try:
            product = float(row["instances"]) * float(row["area_um2"]) * 1e-6
        except (KeyError, TypeError, ValueError):
            product = math.nan
        good[i] = _close(product, row.get("area_mm2"))
        key = _key(row.get("accelerator"), row.get("codebook_entries"))
        if key is not None:
            refs.rows[(*key, str(row.get("component")))] = (i + 2, row.get("area_mm2"))

    def rows(layout: SheetLayout):
        numbers = pc.cast(pa.array(np.arange(2, 2 + len(records), dtype=np.int64)), pa.string())
        text = pc.binary_join_element_wise(
            f"{layout.letters['instances']}", numbers, f"*{layout.letters['area_um2']}", numbers,
            "*1E-6", "",
        )  # fmt: skip
        formula = pc.if_else(pa.array(good), text, pa.scalar(None, pa.string()))
        yield rows_xml(table, layout, 2, {"area_mm2": formula})

    formats = ["General"] * len(_COLUMNS)
    formats[_COLUMNS.index("area_mm2")] = "0.000000"
    first = [[_plain(r.get(c)) for c in _COLUMNS] for r in records[:50]]
    headers = [_HEADERS.get(c, c.replace("_", " ")) for c in _COLUMNS]
    sheet = TableSheet(SHEET, list(_COLUMNS), headers, formats, len(records), first, rows)
    return sheet, refs


def _floats(table: pa.Table, column: str) -> np.ndarray:
    return pc.cast(table[column], pa.float64()).to_numpy(zero_copy_only=False).astype(float)


def area_summary_formulas(
    table: pa.Table, letters: dict[str, str], first_row: int, refs: AreaRefs
) -> tuple[dict[str, pa.Array], int]:
    """The ``summary`` area formulas of one batch of total rows (`table`, the first numbered
    `first_row`; `letters`: the summary's column letters) and how many area cells stay plain
    values because no formula reproduces them."""
    n = table.num_rows
    components = [c for c, _ in AREA_COMPONENT_WORDS if f"area_{c}_mm2" in letters]
    if not components or "accelerator" not in table.column_names or not refs.rows:
        return {}, 0
    accelerators = string_values(table["accelerator"])
    entries = (
        _floats(table, "codebook_entries")
        if "codebook_entries" in table.column_names
        else np.full(n, np.nan)
    )
    rows_numbers = np.arange(first_row, first_row + n)
    formulas: dict[str, pa.Array] = {}
    all_good = np.ones(n, dtype=bool)
    parts = np.zeros(n)
    fallbacks = 0
    for component in components:
        column = f"area_{component}_mm2"
        values = _floats(table, column)
        text: list[str | None] = [None] * n
        for i in range(n):
            ref = None
            if np.isfinite(entries[i]):
                ref = refs.rows.get((str(accelerators[i]), int(entries[i]), component))
            if ref is None:  # accelerator not listed (tables are capped): values, quietly
                all_good[i] = False
                continue
            if not _close(ref[1], values[i]):  # listed, but the value disagrees: reported
                all_good[i] = False
                fallbacks += int(np.isfinite(values[i]))
                continue
            text[i] = f"{SHEET}!${refs.column}${ref[0]}"
        parts += np.nan_to_num(values)
        formulas[column] = pa.array(text, pa.string())
    if "area_mm2" in letters and "area_mm2" in table.column_names:
        total = _floats(table, "area_mm2")
        ok = all_good & _close_arrays(parts, total)
        fallbacks += int((all_good & ~ok).sum())
        cells = ",".join(f"{letters[f'area_{c}_mm2']}{{r}}" for c in components)
        text = [f"SUM({cells.format(r=r)})" if ok[i] else None for i, r in enumerate(rows_numbers)]
        formulas["area_mm2"] = pa.array(text, pa.string())
        if {"fps", "fps_per_mm2"} <= set(letters) and {"fps", "fps_per_mm2"} <= set(
            table.column_names
        ):
            fps, per = _floats(table, "fps"), _floats(table, "fps_per_mm2")
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = fps / total
            good = ok & _close_arrays(ratio, per)
            area_letter, fps_letter = letters["area_mm2"], letters["fps"]
            formulas["fps_per_mm2"] = pa.array(
                [
                    f"{fps_letter}{r}/{area_letter}{r}" if good[i] else None
                    for i, r in enumerate(rows_numbers)
                ],
                pa.string(),
            )
    return formulas, fallbacks
