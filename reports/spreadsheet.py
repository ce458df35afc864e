"""The architect-ready XLSX workbook of a sweep, of any size, written streaming.

Place in the flow: ``sweep ──► results.parquet ──► reports`` (this module writes
``results.xlsx``). It reads only the result table's columns (see :mod:`reports.columns`) and
the plain ``meta`` dict; it imports no other dcsim package. The CSV is
:mod:`reports.csv_output`.

Workbook sheets:

- ``summary``: one row per design point (the total rows);
- ``per_layer``: one row per point × layer (which points: :mod:`reports.workbook_plan` — all
  of them for sweeps of up to 20,000 layer rows, else the Pareto-optimal and best points).
  Each ``energy_<action>_mj`` cell is a live formula,
  ``events cell × energy_table!energy cell × 1E-9`` (pJ → mJ), and ``energy_mj`` is the sum of
  the layer's component cells, so editing one per-action energy in ``energy_table`` updates
  every layer; the ``summary`` energies of the points on ``per_layer`` are ``SUMIFS`` over it,
  so their totals update too;
- ``accelerator``: one row per accelerator spec; ``energy_table``: the energy reference table;
  ``area_table``: the area table, with the ``summary`` area cells as live formulas over it;
- ``validation``: published vs model; ``about``: version, creation time, the sweep config and
  what ``summary`` and ``per_layer`` hold (rows left out, and why);
- ``units``: every column, its header, unit and meaning.

Every formula cell also carries the computed value (cached ``<v>``), for readers that do not
evaluate formulas. A formula is written only where it reproduces the table's value (relative
1e-6); otherwise the plain value is written and a warning is issued.

How: openpyxl builds the package — styles, column widths, frozen panes, autofilters, the
small sheets, and each table sheet's header plus one template row that fixes the style id of
each column's numbers. The table sheets' rows are then streamed into the package batch by
batch (:mod:`reports.sheet_xml`, arrow string kernels, ~10× faster than a per-cell writer),
so memory does not depend on the number of points. The file is written atomically and
byte-for-byte deterministically (fixed zip timestamps and part order, document dates from
``meta['created']``).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reports import workbook_plan as plans
from reports.area_sheet import (
    AREA_POINT_COLUMNS,
    AreaRefs,
    area_sheet,
    area_summary_formulas,
)
from reports.columns import (
    column_info,
    component_of,
    energy_component_columns,
    header,
    meta_header,
    units_rows,
)
from reports.csv_output import write_csv
from reports.output_file import atomic_output
from reports.report_scan import ReportData, scan_table
from reports.sheet_xml import SheetLayout, rows_xml
from reports.table_source import string_values
from reports.workbook_package import WIDTH_ROWS, TableSheet, created_time, skeleton, write_package

__all__ = ["PER_LAYER_DROP", "SUMMARY_DROP", "write_csv", "write_workbook", "write_xlsx"]

#: Columns left out of ``summary`` (meaningless on a total row).
SUMMARY_DROP = ("row_type", "layer", "layer_kind")
#: Columns left out of ``per_layer`` (only defined on total rows).
PER_LAYER_DROP = (
    *AREA_POINT_COLUMNS,
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
_XML_ROWS = 4_096  # table rows per streamed chunk of sheet XML (~18 MB at 95 columns)


# ----------------------------------------------------------------------------- helpers
def _plain(v):
    """A value as openpyxl writes it (None for NaN / missing, JSON for dicts and lists)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, sort_keys=True)
    return v


def _order(columns, drop) -> list[str]:
    cols = [c for c in columns if c not in set(drop)]
    if "config_json" in cols:  # long: keep it last
        cols.remove("config_json")
        cols.append("config_json")
    return cols


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) <= _REL_TOL * scale


def _floats(table: pa.Table, column: str) -> np.ndarray:
    values = pc.cast(table[column], pa.float64())
    return values.to_numpy(zero_copy_only=False).astype(float, copy=False)


def _formula_at(mask: np.ndarray, text: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), text, pa.scalar(None, pa.string()))


def _row_numbers(first_row: int, n: int) -> pa.Array:
    return pc.cast(pa.array(np.arange(first_row, first_row + n, dtype=np.int64)), pa.string())


def _records_table(records: list[dict], columns: list[str]) -> pa.Table:
    """Plain records (meta) as a table: nested values as JSON, a column of mixed types as
    text."""
    data = {c: [_plain(r.get(c)) for r in records] for c in columns}
    arrays = []
    for c in columns:
        try:
            arrays.append(pa.array(data[c]))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else str(v) for v in data[c]], pa.string()))
    return pa.Table.from_arrays(arrays, names=columns) if columns else pa.table({})


def _first_values(table: pa.Table | None, columns: list[str]) -> list[list]:
    if table is None or table.num_rows == 0:
        return []
    head = table.slice(0, WIDTH_ROWS).to_pylist()
    return [[_plain(r.get(c)) for c in columns] for r in head]


# ----------------------------------------------------------------------------- sheets
def _record_sheet(title: str, records: list[dict], first=()) -> TableSheet:
    cols = list(first)
    for r in records:
        for k in r:
            if k not in cols:
                cols.append(k)
    table = _records_table(records, cols)
    formats = ["General"] * len(cols)
    if title == "energy_table" and "energy_pj" in cols:
        formats[cols.index("energy_pj")] = "0.000###"
    return TableSheet(
        title,
        cols,
        [meta_header(title, c) for c in cols],
        formats,
        table.num_rows,
        _first_values(table, cols),
        lambda layout, table=table: iter([rows_xml(table, layout, 2)]),
    )


class _EnergyRefs:
    """(accelerator, action) → (energy_table cell, pJ per event), from the meta rows."""

    def __init__(self, energy_rows: list[dict], columns: list[str]):
        letter = SheetLayout(columns).letters["energy_pj"]
        self.refs: dict[str, dict[str, tuple[str, float]]] = {}
        for i, r in enumerate(energy_rows, start=2):
            pj = _plain(r.get("energy_pj"))
            if isinstance(pj, (int, float)) and not isinstance(pj, bool):
                by_acc = self.refs.setdefault(str(r.get("action")), {})
                by_acc.setdefault(str(r.get("accelerator")), (f"energy_table!${letter}${i}", pj))

    def lookup(self, action: str, accelerators: np.ndarray) -> tuple[np.ndarray, pa.Array]:
        """pJ per event (NaN: none) and the energy_table cell (null: none), per row."""
        by_acc = self.refs.get(action, {})
        series = pd.Series(accelerators)
        pj = series.map({a: v[1] for a, v in by_acc.items()}).to_numpy(float)
        refs = series.map({a: v[0] for a, v in by_acc.items()})
        # an accelerator without energy-table rows (the tables are capped per sweep) maps to
        # NaN: its cells keep their values, no formula
        cells = [ref if isinstance(ref, str) else None for ref in refs.tolist()]
        return pj, pa.array(cells, pa.string())


class _Fallbacks:
    count = 0


def _per_layer_rows(data, plan, lcols, refs: _EnergyRefs, fallbacks: _Fallbacks):
    comps = energy_component_columns(lcols)
    ids = None if plan.per_layer_ids is None else pa.array(plan.per_layer_ids, pa.string())

    def rows(layout: SheetLayout) -> Iterator[memoryview]:
        first = 2
        batches = data.source.batches(
            lcols, "layer", point_ids=ids, batch_rows=_XML_ROWS, row_groups=plan.row_groups
        )
        for table in batches:
            n = table.num_rows
            numbers = _row_numbers(first, n)
            accelerators = (
                string_values(table["accelerator"])
                if "accelerator" in table.column_names
                else np.full(n, "", dtype=object)
            )
            formulas = {}
            for comp in comps:
                ev_col = f"events_{component_of(comp)}"
                if ev_col not in layout.letters:
                    continue
                pj, ref = refs.lookup(str(component_of(comp)), accelerators)
                val, ev = _floats(table, comp), _floats(table, ev_col)
                considered = ~np.isnan(pj) & ~np.isnan(val)
                good = considered & ~np.isnan(ev) & _close(ev * pj * 1e-9, val)
                fallbacks.count += int((considered & ~good).sum())
                text = pc.binary_join_element_wise(
                    layout.letters[ev_col], numbers, "*", ref, "*1E-9", ""
                )
                formulas[comp] = _formula_at(good, text)
            if "energy_mj" in layout.letters and comps:
                total = _floats(table, "energy_mj")
                parts = np.nansum(np.column_stack([_floats(table, c) for c in comps]), axis=1)
                good = ~np.isnan(total) & _close(parts, total)
                fallbacks.count += int((~np.isnan(total) & ~good).sum())
                pieces = []
                for k, comp in enumerate(comps):
                    pieces += [("SUM(" if k == 0 else ",") + layout.letters[comp], numbers]
                text = pc.binary_join_element_wise(*pieces, ")", "")
                formulas["energy_mj"] = _formula_at(good, text)
            yield rows_xml(table, layout, first, formulas)
            first += n

    return rows


def _summary_rows(
    data, plan, scols, lletters: dict[str, str], fallbacks: _Fallbacks, area: AreaRefs
):
    comps = energy_component_columns(scols)
    energy_cols = [c for c in ["energy_mj", *comps] if c in scols and c in lletters]
    last = plan.per_layer_rows + 1

    def rows(layout: SheetLayout) -> Iterator[memoryview]:
        first, left = 2, plan.summary_rows
        for table in data.source.batches(scols, "total", batch_rows=_XML_ROWS):
            if left <= 0:
                break
            table = table.slice(0, left)
            n = table.num_rows
            formulas = {}
            if plan.layer_sums and "point_id" in lletters and "point_id" in layout.letters:
                numbers = _row_numbers(first, n)
                pids = string_values(table["point_id"])
                known = np.array([p in plan.layer_sums for p in pids], dtype=bool)
                key = f"per_layer!${lletters['point_id']}$2:${lletters['point_id']}${last}"
                rows_known = np.flatnonzero(known)
                for c in energy_cols:
                    val = _floats(table, c)
                    sums = np.full(n, np.nan)
                    for i in rows_known:
                        total, present = plan.layer_sums[pids[i]][c]
                        sums[i] = total if present else np.nan
                    both = known & ~np.isnan(val) & ~np.isnan(sums)
                    good = both & _close(val, sums)
                    fallbacks.count += int((both & ~good).sum())
                    rng = f"per_layer!${lletters[c]}$2:${lletters[c]}${last}"
                    text = pc.binary_join_element_wise(
                        f"SUMIFS({rng},{key},{layout.letters['point_id']}", numbers, ")", ""
                    )
                    formulas[c] = _formula_at(good, text)
            area_formulas, plain = area_summary_formulas(table, layout.letters, first, area)
            formulas.update(area_formulas)
            fallbacks.count += plain
            yield rows_xml(table, layout, first, formulas)
            first += n
            left -= n

    return rows


def _first_rows(data, columns, row_type, ids=None, row_groups=None) -> list[list]:
    value_set = None if ids is None else pa.array(ids, pa.string())
    batches = data.source.batches(columns, row_type, point_ids=value_set, row_groups=row_groups)
    for table in batches:
        return _first_values(table, columns)
    return []


# ----------------------------------------------------------------------------- workbook
def write_workbook(data: ReportData, meta: dict, path: os.PathLike | str) -> Path:
    """Write the workbook of a scanned table (:func:`reports.report_scan.scan_table`)
    atomically; returns the path."""
    meta = meta or {}
    plan = plans.workbook_plan(data)
    columns = data.columns
    has_rows = "row_type" in columns
    scols = _order(columns, SUMMARY_DROP) if has_rows else []
    lcols = _order(columns, PER_LAYER_DROP)
    energy_rows = list(meta.get("energy_table") or [])
    energy = _record_sheet(
        "energy_table",
        energy_rows,
        ("accelerator", "action", "energy_pj", "unit", "formula", "source"),
    )
    refs = _EnergyRefs(energy_rows, energy.columns)
    fallbacks = _Fallbacks()
    layer_ids = plan.per_layer_ids
    per_layer = TableSheet(
        "per_layer",
        lcols,
        [header(c) for c in lcols],
        [column_info(c).number_format for c in lcols],
        plan.per_layer_rows if "point_id" in columns else data.n_layer_rows,
        _first_rows(data, lcols, "layer", layer_ids, plan.row_groups),
        _per_layer_rows(data, plan, lcols, refs, fallbacks),
    )
    lletters = SheetLayout(lcols).letters
    area, area_refs = area_sheet(meta)
    summary = TableSheet(
        "summary",
        scols,
        [header(c) for c in scols],
        [column_info(c).number_format for c in scols],
        plan.summary_rows,
        _first_rows(data, scols, "total") if has_rows else [],
        _summary_rows(data, plan, scols, lletters, fallbacks, area_refs),
    )
    urows = units_rows(columns, energy_rows)
    units = _record_sheet("units", urows, ("column", "header", "unit", "meaning"))
    units.headers = list(units.columns)
    sheets = [
        summary,
        per_layer,
        _record_sheet("accelerator", list(meta.get("accelerators") or [])),
        energy,
        area,
        _record_sheet("validation", list(meta.get("validation") or [])),
        units,
    ]
    about = [
        ["dcsim_version", meta.get("dcsim_version", "")],
        ["created", meta.get("created", "")],
        ["points", data.n_points],
        ["config", json.dumps(meta.get("config", {}), sort_keys=True, indent=1, default=str)],
        ["summary_rows", "summary holds " + plan.summary_note()],
        ["per_layer_rows", "per_layer holds " + plan.per_layer_note()],
    ]
    created = created_time(meta)
    package = skeleton(sheets, about, created)
    with atomic_output(path) as temp:
        write_package(temp, package, sheets, created)
    if fallbacks.count:
        warnings.warn(
            f"write_xlsx: {fallbacks.count} energy or area cells do not equal events × "
            f"energy_table (area_table entries, or the sum of their parts); written as plain "
            f"values, not formulas",
            stacklevel=2,
        )
    return Path(path)


def write_xlsx(results, meta: dict, path: os.PathLike | str) -> Path:
    """Write the workbook of a table (a DataFrame, or a parquet path streamed) atomically."""
    return write_workbook(scan_table(results), meta, path)
