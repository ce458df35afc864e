"""reports: what the architect sees — the column catalogue, the CSV, the XLSX workbook and the
self-contained Plotly HTML report.

Place in the flow: ``sweep ──► results.parquet (tidy table) ──► reports``. This package
depends only on the result table's columns (described in :mod:`reports.columns`) and a plain
JSON-able ``meta`` dict; it imports none of ``workloads``, ``compression``, ``simulator`` or
``dcsim``. :func:`write_outputs` writes all three files from the stored parquet in streamed
passes (memory independent of the number of points); ``write_csv``, ``write_xlsx`` and
``build_report`` / ``write_report`` take a DataFrame (or a parquet path) and go through the
same code.
"""

from reports.columns import COLUMNS, ColumnInfo, column_info, header, units_rows
from reports.csv_output import write_csv
from reports.html_report import build_report, write_report
from reports.outputs import write_outputs
from reports.report_scan import ReportData, scan_table
from reports.spreadsheet import write_xlsx

__all__ = [
    "COLUMNS",
    "ColumnInfo",
    "ReportData",
    "build_report",
    "column_info",
    "header",
    "scan_table",
    "units_rows",
    "write_csv",
    "write_outputs",
    "write_report",
    "write_xlsx",
]
