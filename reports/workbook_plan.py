"""Which rows the workbook holds: every point's summary, and the per-layer rows that fit.

Place in the flow: part of ``reports`` (:mod:`reports.spreadsheet` writes what this plans; the
HTML report quotes its notes). Reads the result table through the scan
(:class:`reports.report_scan.ReportData`) and one light pass over the layer rows.

Excel holds at most :data:`XLSX_MAX_ROWS` rows per sheet (header included). The rule:

- ``summary``: every point's total row; a sweep with more points than a sheet holds gets the
  first ones (table order) and a note;
- ``per_layer``: every layer row while the sweep has at most :data:`PER_LAYER_ALL_ROWS` of
  them; beyond, the layer rows of the points that matter — each network's Pareto-optimal
  points (energy vs latency, and accuracy vs latency, energy and model size where accuracy
  is measured) and each network's best point — in table order, as many as a sheet holds.
  The limit is not Excel's: each summary energy of a point whose layers are on ``per_layer``
  is a live ``SUMIFS`` over that sheet, and Excel recalculates those on opening in time
  proportional to points × layer rows (20,000 rows ≈ 2,000 points: well under a second);
- the ``about`` sheet says what each sheet holds and how many rows were left out, and why;
  every row is in ``results.csv`` and ``results.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from reports.columns import energy_component_columns

__all__ = ["PER_LAYER_ALL_ROWS", "XLSX_MAX_ROWS", "WorkbookPlan", "workbook_notes", "workbook_plan"]

#: Rows per worksheet in Excel (the header row included).
XLSX_MAX_ROWS = 1_048_576
#: Most layer rows ``per_layer`` holds in full; beyond, only the Pareto and best points' rows.
PER_LAYER_ALL_ROWS = 20_000


@dataclass
class WorkbookPlan:
    """What the two large sheets hold."""

    summary_rows: int  # data rows on `summary`
    points: int  # total rows of the table
    layer_rows: int  # layer rows of the table
    all_layers: bool  # per_layer holds every layer row
    per_layer_ids: list[str] | None  # the points on per_layer (None: all)
    per_layer_rows: int = 0
    row_groups: list[int] | None = None  # the parquet row groups holding per_layer's rows
    chosen_points: int = 0  # points chosen for per_layer before the row limit
    # point id → energy column → (sum over the point's layer rows, any value present)
    layer_sums: dict[str, dict[str, tuple[float, bool]]] = field(default_factory=dict)

    @property
    def per_layer_points(self) -> int:
        return len(self.layer_sums)

    def summary_note(self) -> str:
        if self.summary_rows >= self.points:
            return f"every point's total row ({self.points:,} rows)"
        return (
            f"the first {self.summary_rows:,} of {self.points:,} points (a sheet holds "
            f"{XLSX_MAX_ROWS:,} rows); {self.points - self.summary_rows:,} left out, all are "
            "in results.csv and results.parquet"
        )

    def per_layer_note(self) -> str:
        if self.all_layers:
            return f"every layer row ({self.per_layer_rows:,} rows)"
        left_out = self.layer_rows - self.per_layer_rows
        text = (
            f"the layer rows of {self.per_layer_points:,} points — each network's "
            "Pareto-optimal points (energy vs latency, and accuracy vs latency, energy and "
            "model size where accuracy is measured) and each network's best point — "
            f"{self.per_layer_rows:,} of {self.layer_rows:,} layer rows; {left_out:,} left out "
            f"because the sweep has more than {PER_LAYER_ALL_ROWS:,} layer rows (the summary's "
            "live SUMIFS over per_layer would make the workbook slow to recalculate)"
        )
        if self.chosen_points > self.per_layer_points:
            text += (
                f"; {self.chosen_points - self.per_layer_points:,} of the chosen points did "
                f"not fit in a sheet's {XLSX_MAX_ROWS:,} rows"
            )
        return text + "; all are in results.csv and results.parquet"


def _add_sums(plan: WorkbookPlan, frame, columns: list[str]) -> None:
    ids = frame["point_id"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    values = {c: frame[c].to_numpy(float, na_value=np.nan) for c in columns}
    for start, end in zip(starts, ends):
        sums = plan.layer_sums.setdefault(ids[start], {c: (0.0, False) for c in columns})
        for c in columns:
            part = values[c][start:end]
            valid = ~np.isnan(part)
            old, present = sums[c]
            sums[c] = (old + float(part[valid].sum()), present or bool(valid.any()))


def workbook_plan(data) -> WorkbookPlan:
    """The plan for a scanned table (computed once, kept on `data`)."""
    if getattr(data, "plan", None) is not None:
        return data.plan
    limit = XLSX_MAX_ROWS - 1
    all_layers = data.n_layer_rows <= min(PER_LAYER_ALL_ROWS, limit)
    ids = None if all_layers else list(data.workbook_ids)
    plan = WorkbookPlan(
        summary_rows=min(data.n_points, limit),
        points=data.n_points,
        layer_rows=data.n_layer_rows,
        all_layers=all_layers,
        per_layer_ids=ids,
    )
    columns = [c for c in data.columns if c == "energy_mj"]
    columns += energy_component_columns(data.columns)
    value_set = None if ids is None else pa.array(ids, pa.string())
    if value_set is not None and data.source is not None:
        plan.row_groups = data.source.row_groups_with(value_set)
    counts: dict[str, int] = {}
    if data.source is not None and data.n_layer_rows and "point_id" in data.columns:
        frames = data.source.frames(
            ["point_id", *columns], "layer", point_ids=value_set, row_groups=plan.row_groups
        )
        for frame in frames:
            pids = frame["point_id"].astype(str)
            for pid, n in pids.value_counts(sort=False).items():
                counts[pid] = counts.get(pid, 0) + int(n)
            _add_sums(plan, frame, columns)
    plan.chosen_points = len(counts)
    kept, rows = [], 0
    for pid, n in counts.items():  # table order
        if rows + n > limit:
            break
        kept.append(pid)
        rows += n
    if len(kept) < len(counts):
        plan.per_layer_ids = kept
        plan.all_layers = False
        plan.layer_sums = {pid: plan.layer_sums[pid] for pid in kept}
    plan.per_layer_rows = rows
    data.plan = plan
    return plan


def workbook_notes(data) -> list[str]:
    """The workbook's notes for the report's summary, only where rows were left out."""
    plan = workbook_plan(data)
    notes = []
    if plan.summary_rows < plan.points:
        notes.append("results.xlsx, sheet summary: " + plan.summary_note() + ".")
    if not plan.all_layers:
        notes.append("results.xlsx, sheet per_layer: " + plan.per_layer_note() + ".")
    return notes
