"""reports: what the architect sees — the column catalogue, CSV/XLSX spreadsheets and the
self-contained Plotly HTML report.

Place in the flow: ``sweep (dcsim) ──► tidy DataFrame ──► reports``. This package depends only
on the result table's columns (described in :mod:`reports.columns`) and a plain JSON-able
``meta`` dict; it imports none of ``workloads``, ``compression``, ``simulator`` or ``dcsim``.
"""

from reports.columns import COLUMNS, ColumnInfo, column_info, header, units_rows
from reports.csv_output import write_csv
from reports.html_report import build_report, write_report
from reports.outputs import write_outputs
from reports.spreadsheet import write_xlsx

__all__ = [
    "COLUMNS",
    "ColumnInfo",
    "build_report",
    "column_info",
    "header",
    "units_rows",
    "write_csv",
    "write_outputs",
    "write_report",
    "write_xlsx",
]
