"""The resumable result store of a sweep: one parquet file per finished work unit.

Part of the application layer (DESIGN §6, §8). A unit's rows (`dcsim.work_units`: the points
of one compression setting, up to thousands with the analytical model) are written to
`DIR/units/<unit_id>.parquet` through a temporary file and `os.replace`, so a file is either
complete or absent: an interrupted sweep (Ctrl-C, kill -9) loses at most the units that were
running, never a finished one, and never leaves a half-written file that a rerun would trust.
A rerun skips every unit whose file exists and whose points all hold status "ok"; a unit with
a failed point is recorded (status "error" with the message) and computed again on the next
run. `--fresh` removes the store first.

`write_table` streams the stored units, in config order, into one parquet file (row group by
row group, one unit at a time, the columns unified over all units), so writing the result table
needs memory for one unit, not for the sweep.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workloads.atomic_file import atomic_path

UNITS_DIR = "units"
POINTS_DIR = UNITS_DIR  # the store's folder (the name earlier versions used for it)


class ResultStore:
    """Finished work units of one output directory."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self.units_dir = self.out_dir / UNITS_DIR

    @property
    def points_dir(self) -> Path:  # kept for callers of the per-point store
        return self.units_dir

    def prepare(self, fresh: bool = False) -> None:
        """Create the store (emptying it with `fresh`) and remove stale temporary files."""
        if fresh and self.units_dir.exists():
            shutil.rmtree(self.units_dir)
        self.units_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.units_dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def path(self, unit_id: str) -> Path:
        return self.units_dir / f"{unit_id}.parquet"

    def finished(self, unit_id: str) -> bool:
        """True when the unit is stored and every point of it succeeded."""
        path = self.path(unit_id)
        if not path.is_file():
            return False
        try:
            status = pq.read_table(path, columns=["status"]).column("status")
        except Exception:  # unreadable file: treat as not finished, it will be rewritten
            return False
        return len(status) > 0 and all(value == "ok" for value in status.to_pylist())

    def write(self, unit_id: str, rows: pd.DataFrame) -> None:
        """Store a unit's rows atomically."""
        self.write_bytes(unit_id, rows_parquet(rows))

    def write_bytes(self, unit_id: str, data: bytes) -> None:
        """Store a unit's parquet file (`rows_parquet`, made by a worker) atomically."""
        with atomic_path(self.path(unit_id)) as temp:
            temp.write_bytes(data)

    def read(self, unit_ids: Iterable[str]) -> pd.DataFrame:
        """The stored rows of `unit_ids` that exist, in the given order (small sweeps, tests)."""
        frames = [pd.read_parquet(self.path(u)) for u in unit_ids if self.path(u).is_file()]
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def read_totals(self, unit_ids: Iterable[str], point_ids: Iterable[str]) -> pd.DataFrame:
        """The total rows of `point_ids` among the stored units `unit_ids`, read unit by unit
        with a filter (memory for one unit's columns, not for every row of every unit)."""
        wanted = list(dict.fromkeys(point_ids))
        filters = [("row_type", "==", "total"), ("point_id", "in", wanted)]
        tables = [
            pq.read_table(self.path(u), filters=filters) for u in unit_ids if self.path(u).is_file()
        ]
        if not tables:
            return pd.DataFrame()
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()

    def write_table(
        self,
        unit_ids: Iterable[str],
        target: Path,
        transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
        extra_fields: Iterable[pa.Field] = (),
    ) -> int:
        """Stream the stored units (in the given order) into the parquet file `target`,
        atomically; `transform` adds the columns `extra_fields` to each unit's rows. Returns
        the row count."""
        paths = [self.path(u) for u in unit_ids if self.path(u).is_file()]
        schema = unified_schema(paths)
        for field in extra_fields:
            if field.name not in schema.names:
                schema = schema.append(field)
        rows = 0
        with atomic_path(target) as temp:
            writer = pq.ParquetWriter(temp, schema)
            try:
                for path in paths:
                    table = _read_unit(path, transform)
                    writer.write_table(_conform(table, schema))
                    rows += table.num_rows
            finally:
                writer.close()
        return rows


def rows_parquet(rows: pd.DataFrame) -> bytes:
    """The bytes of the parquet file of a unit's rows, as the store keeps them."""
    buffer = io.BytesIO()
    rows.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _read_unit(path: Path, transform) -> pa.Table:
    if transform is None:
        return pq.read_table(path)
    frame = transform(pd.read_parquet(path))
    return pa.Table.from_pandas(frame, preserve_index=False)


def unified_schema(paths: list[Path]) -> pa.Schema:
    """One schema for every unit file: the columns of all of them (first-seen order), each
    with the type its non-null occurrences share (nulls promoted)."""
    schemas = [pq.read_schema(path).remove_metadata() for path in paths]
    if not schemas:
        return pa.schema([])
    # a column that is all null in one unit (type null) takes the type of the others
    return pa.unify_schemas(schemas, promote_options="permissive")


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    if table.schema.equals(schema, check_metadata=False):  # the usual unit: as it is
        return table
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)
