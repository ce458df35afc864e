"""The tidy result table as CSV, streamed batch by batch.

Place in the flow: ``sweep ──► results.parquet ──► reports`` (this module writes
``results.csv``). Every row and column of the table, raw column names, in table order; the
table is read in batches (:mod:`reports.table_source`), so memory does not depend on its size.

Format (pyarrow's CSV writer, about 6× faster than pandas' on this table): a header row of
the column names, numbers in the shortest text that reads back to the same float64 (full
precision: ``5.816122425596019e-05`` may be written ``0.00005816122425596019``), booleans
``true`` / ``false``, text quoted, a missing value (or a NaN) as an empty field, ``\\n`` line
ends. Infinities are written ``inf`` / ``-inf``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from reports.output_file import atomic_output
from reports.table_source import TableSource, as_source

__all__ = ["write_csv", "write_csv_rows"]


def _without_nan(table: pa.Table) -> pa.Table:
    """Float NaNs as missing values (written as empty fields, like a missing value)."""
    columns = []
    for column in table.columns:
        if pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def write_csv_rows(source: TableSource, path: os.PathLike | str) -> Path:
    """Write every row of `source` to `path` as CSV, atomically, one batch at a time."""
    options = pacsv.WriteOptions(include_header=True, delimiter=",", quoting_style="needed")
    with atomic_output(path) as temp:
        writer, schema = None, None
        try:
            for batch in (_without_nan(b) for b in source.batches()):
                if writer is None:
                    schema = batch.schema
                    writer = pacsv.CSVWriter(str(temp), schema, write_options=options)
                writer.write_table(batch if batch.schema == schema else batch.cast(schema))
            if writer is None:  # no rows: the header alone
                schema = _without_nan(source.schema.empty_table()).schema
                writer = pacsv.CSVWriter(str(temp), schema, write_options=options)
        finally:
            if writer is not None:
                writer.close()
    return Path(path)


def write_csv(results: pd.DataFrame | os.PathLike | str, path: os.PathLike | str) -> Path:
    """Write the tidy result table (a DataFrame, or a parquet file streamed) as CSV."""
    return write_csv_rows(as_source(results), path)
