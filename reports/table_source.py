"""Where the outputs read the tidy result table from: a parquet file, streamed in batches, or a
table already in memory — one interface for both.

Place in the flow: ``sweep ──► results.parquet ──► reports`` (this module is how every output
writer of :mod:`reports` reads the table). A sweep of 10^6 points has ~10^7 rows: the writers
never hold it whole, they read it with pyarrow one batch at a time and only the columns they
need, so their memory does not grow with the number of points. A small table given as a
pandas DataFrame (tests, ``dcsim report`` on a small sweep, the Python API) goes through the
same code as an in-memory arrow table, so both paths write the same files.

Row order is the table's: for each design point its layer rows then its total row, points in
config order. A point's *ordinal* (its position among the total rows) is the order every
writer uses to break ties, so results do not depend on how the table is split into batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["BATCH_ROWS", "TableSource", "arrow_table", "as_source", "string_values"]

#: Rows per batch when every column is read (bounds the memory of the widest passes).
BATCH_ROWS = 4_096
#: Rows per batch when a few columns are read.
LIGHT_BATCH_ROWS = 32_768
_READ_BUFFER = 1 << 16  # bytes read from the parquet file at a time


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as an arrow table (no index). A column whose Python objects arrow cannot
    type (mixed numbers and text) is written as text, missing values kept missing."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        frame = frame.copy()
        for name in frame.columns:
            try:
                pa.array(frame[name], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                column = frame[name]
                frame[name] = column.map(lambda v: v if v is None or v != v else str(v))
        return pa.Table.from_pandas(frame, preserve_index=False)


class TableSource:
    """The tidy table, read batch by batch: ``batches(columns, row_type)``."""

    def __init__(self, table: pa.Table | None = None, path: os.PathLike | str | None = None):
        if (table is None) == (path is None):
            raise ValueError("TableSource: give exactly one of table= or path=")
        self.path = Path(path) if path is not None else None
        self._table = table
        if self.path is not None:
            try:
                meta = pq.ParquetFile(self.path)
            except (OSError, pa.ArrowInvalid) as error:
                raise ValueError(
                    f"results parquet {str(self.path)!r} cannot be read ({error})"
                ) from None
            self.schema = meta.schema_arrow
            self.num_rows = meta.metadata.num_rows
        else:
            self.schema = table.schema
            self.num_rows = table.num_rows

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def has(self, column: str) -> bool:
        return column in self.schema.names

    def row_groups_with(self, point_ids: pa.Array) -> list[int] | None:
        """The parquet row groups holding rows of `point_ids` (None: not a parquet file), so
        that a pass over a few points reads only those row groups."""
        if self.path is None or "point_id" not in self.columns:
            return None
        reader = pq.ParquetFile(self.path, pre_buffer=False, buffer_size=_READ_BUFFER)
        groups = []
        for group in range(reader.num_row_groups):
            ids = pc.cast(reader.read_row_group(group, columns=["point_id"])[0], pa.string())
            if pc.any(pc.is_in(ids, value_set=point_ids)).as_py():
                groups.append(group)
        return groups

    def _raw_batches(
        self, columns: list[str], batch_rows: int, row_groups: list[int] | None = None
    ) -> Iterator[pa.RecordBatch]:
        if self.path is not None:
            # streamed reads (no pre-buffering of whole row groups), one thread: the least
            # memory per row group, at a small cost in speed
            reader = pq.ParquetFile(self.path, pre_buffer=False, buffer_size=_READ_BUFFER)
            if row_groups is not None and not row_groups:
                return
            yield from reader.iter_batches(
                batch_size=batch_rows, row_groups=row_groups, columns=columns, use_threads=False
            )
        else:
            yield from self._table.select(columns).to_batches(max_chunksize=batch_rows)

    def batches(
        self,
        columns: Iterable[str] | None = None,
        row_type: str | None = None,
        *,
        batch_rows: int | None = None,
        point_ids: pa.Array | None = None,
        row_groups: list[int] | None = None,
    ) -> Iterator[pa.Table]:
        """Batches (arrow tables) of the rows, in table order, with the given columns (those
        that exist; all when None). ``row_type`` keeps only "layer" or "total" rows (a table
        without a row_type column has only layer rows); ``point_ids`` keeps only those points.
        Filtered rows are gathered into batches of about `batch_rows` rows (the fixed cost of
        a batch is paid per batch, not per raw read); empty batches are skipped.
        ``row_groups``: read only these parquet row groups (:meth:`row_groups_with`)."""
        names = self.columns if columns is None else [c for c in columns if self.has(c)]
        names = list(dict.fromkeys(names))
        extra = []
        if row_type is not None and self.has("row_type") and "row_type" not in names:
            extra.append("row_type")
        if point_ids is not None and "point_id" not in names:
            extra.append("point_id")
        if batch_rows is None:
            batch_rows = BATCH_ROWS if columns is None or len(names) > 24 else LIGHT_BATCH_ROWS
        if row_type is not None and not self.has("row_type") and row_type != "layer":
            return
        pending: list[pa.Table] = []
        pending_rows = 0
        for batch in self._raw_batches(names + extra, batch_rows, row_groups):
            table = _plain_types(pa.Table.from_batches([batch]))
            mask = None
            if row_type is not None and self.has("row_type"):
                mask = pc.equal(table["row_type"], row_type)
            if point_ids is not None and self.has("point_id"):
                found = pc.is_in(pc.cast(table["point_id"], pa.string()), value_set=point_ids)
                mask = found if mask is None else pc.and_(mask, found)
            if mask is not None:
                table = table.filter(pc.fill_null(mask, False))
            if table.num_rows:
                pending.append(table.select(names))
                pending_rows += table.num_rows
            if pending_rows >= batch_rows:
                yield _joined(pending)
                pending, pending_rows = [], 0
        if pending:
            yield _joined(pending)

    def frames(self, columns=None, row_type=None, **kwargs) -> Iterator[pd.DataFrame]:
        """:meth:`batches` as pandas DataFrames."""
        for table in self.batches(columns, row_type, **kwargs):
            yield _frame(table)


def _joined(tables: list[pa.Table]) -> pa.Table:
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables).combine_chunks()


def _plain_types(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns decoded to their values (one type per column everywhere)."""
    if not any(pa.types.is_dictionary(t) for t in table.schema.types):
        return table
    columns = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns
    ]
    return pa.Table.from_arrays(columns, names=table.column_names)


def _frame(table: pa.Table) -> pd.DataFrame:
    """An arrow table as a DataFrame whose text columns hold Python strings (object dtype:
    fast to iterate, compare and hash), missing text as None."""
    columns = {}
    for name, kind in zip(table.column_names, table.schema.types):
        column = table[name]
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
            columns[name] = pd.Series(values, dtype=object, copy=False)
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns, copy=False)


def as_source(results) -> TableSource:
    """A :class:`TableSource` from a parquet path, an arrow table or a pandas DataFrame."""
    if isinstance(results, TableSource):
        return results
    if isinstance(results, (str, os.PathLike)):
        return TableSource(path=results)
    if isinstance(results, pa.Table):
        return TableSource(table=results)
    if isinstance(results, pd.DataFrame):
        return TableSource(table=arrow_table(results))
    raise TypeError(f"results: expected a parquet path or a DataFrame, got {type(results)!r}")


def string_values(column) -> np.ndarray:
    """An arrow or pandas column as a numpy array of Python strings ("" for missing)."""
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        column = pc.fill_null(pc.cast(column, pa.string()), "")
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
    values = np.asarray(column, dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = ""
    return np.asarray([v if isinstance(v, str) else str(v) for v in values], dtype=object)


def number_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """float64 values of a DataFrame column (NaN where missing or not a number; all NaN when
    the frame lacks the column)."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(float)


def flag_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """bool values of a DataFrame column (False where missing, or when the frame lacks it)."""
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].fillna(False).astype(bool).to_numpy()
