"""The sweep's output files from its stored table: ``results.csv``, ``results.xlsx`` and
``report.html``, for sweeps of any size.

Place in the flow: ``sweep ──► results.parquet ──► reports`` — the last step of a sweep and of
``dcsim report``. :func:`write_outputs` scans the parquet once
(:func:`reports.report_scan.scan_table`: a few streamed passes over column subsets), then
writes the three files, each atomically, each streaming the table batch by batch: memory is
bounded by constants (batch sizes, the number of points a figure draws, the Pareto fronts),
never by the number of points. Given a `side` executor (a process pool of one worker, which
:func:`prepare_side_writer` may have readied while the parquet was being written), the
workbook is written there, from its own scan, while this process writes the CSV and the
report: the 1,008-point example's outputs take the time of the slower of the two, not of all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from reports.csv_output import write_csv_rows
from reports.formatting import format_bytes
from reports.html_report import write_report
from reports.report_scan import scan_table
from reports.spreadsheet import write_workbook
from reports.table_source import TableSource

__all__ = ["OUTPUT_NAMES", "prepare_side_writer", "write_outputs", "write_workbook_file"]

#: The files :func:`write_outputs` writes, in the order it writes them.
OUTPUT_NAMES = ("results.csv", "results.xlsx", "report.html")


def prepare_side_writer() -> None:
    """Import what :func:`write_workbook_file` runs (a side process's first task, so that its
    imports overlap the writing of the parquet)."""
    from reports import report_scan, spreadsheet  # noqa: F401


def write_workbook_file(results_parquet: os.PathLike | str, meta: dict, path: Path) -> float:
    """``results.xlsx`` of the table in `results_parquet`, from a scan of its own (what a side
    process runs); returns the seconds it took."""
    started = time.perf_counter()
    write_workbook(scan_table(TableSource(path=results_parquet)), meta, path)
    return time.perf_counter() - started


def write_outputs(
    results_parquet: os.PathLike | str,
    meta: dict,
    out_dir: os.PathLike | str,
    *,
    progress: Callable[[str], None] | None = None,
    stage: Callable[[str], AbstractContextManager] | None = None,
    side: Executor | None = None,
) -> list[Path]:
    """Write ``results.csv`` (every row), ``results.xlsx`` and ``report.html`` of the tidy
    table in `results_parquet` (never loaded whole) into `out_dir`; returns their paths.
    ``meta``: the run's metadata (config, accelerators, energy tables, validation rows,
    retrieval examples, version, creation time). ``progress``: called with a one-line message
    as each step starts and each file is written. ``stage``: a context manager factory each
    file's writing runs in, given ``"writing PATH"`` (the sweep's progress stages). ``side``:
    where the workbook is written, beside the others (module docstring)."""
    out_dir = Path(out_dir)
    say = progress or (lambda message: None)
    source = TableSource(path=results_parquet)  # a damaged file: ValueError, nothing written
    out_dir.mkdir(parents=True, exist_ok=True)
    workbook = None
    if side is not None:
        workbook = side.submit(write_workbook_file, results_parquet, meta, out_dir / "results.xlsx")
        say(f"writing {out_dir / 'results.xlsx'} in a side process ...")
    started = time.perf_counter()
    say(f"reading {Path(results_parquet).name}: {source.num_rows:,} rows")
    data = scan_table(source)
    say(
        f"scanned {data.n_points:,} points ({data.n_failed:,} failed) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    writers = {
        "results.csv": lambda path: write_csv_rows(source, path),
        "results.xlsx": lambda path: write_workbook(data, meta, path),
        "report.html": lambda path: write_report(None, meta, path, data=data),
    }
    paths = []
    for name in OUTPUT_NAMES:
        path = out_dir / name
        if name == "results.xlsx" and workbook is not None:
            paths.append(path)  # written by the side process
            continue
        started = time.perf_counter()
        with stage(f"writing {path}") if stage is not None else nullcontext():
            writers[name](path)
        say(
            f"wrote {path} ({format_bytes(path.stat().st_size)}, "
            f"{time.perf_counter() - started:.1f} s)"
        )
        paths.append(path)
    if workbook is not None:
        seconds = workbook.result()  # its error, if any, is raised here
        path = out_dir / "results.xlsx"
        say(f"wrote {path} ({format_bytes(path.stat().st_size)}, {seconds:.1f} s, side process)")
    return paths
