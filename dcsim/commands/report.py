"""`dcsim report DIR`: regenerate report.html (and the spreadsheets) from stored results.

The folder must hold what `dcsim sweep` writes: `run.json` (a JSON object with at least the
config and the creation time) and `results.parquet` with at least one row and the columns the
report reads (`REQUIRED_COLUMNS`); anything else is one line saying which file is wrong and
why, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

REQUIRED_META_KEYS: tuple[str, ...] = ("config", "created")
REQUIRED_COLUMNS: tuple[str, ...] = (
    "point_id",
    "network",
    "accelerator",
    "row_type",
    "layer",
    "status",
    "error",
    "latency_ms",
    "energy_mj",
    "container_bytes",
)


def read_sweep_output(folder: str | Path) -> tuple[pd.DataFrame, dict]:
    """The results table and run metadata of a `dcsim sweep --out` folder, checked."""
    from workloads.user_files import input_file, input_folder

    out = input_folder(folder, "report folder", "a `dcsim sweep --out` folder")
    allowed = "a `dcsim sweep --out` folder (results.parquet and run.json)"
    parquet = input_file(out / "results.parquet", "results file", allowed)
    meta_path = input_file(out / "run.json", "run metadata", allowed)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        message = " ".join(str(error).split())
        raise ValueError(f"run metadata {str(meta_path)!r} cannot be read ({message})") from None
    if not isinstance(meta, dict) or any(key not in meta for key in REQUIRED_META_KEYS):
        found = type(meta).__name__ if not isinstance(meta, dict) else f"keys {sorted(meta)}"
        raise ValueError(
            f"run metadata {str(meta_path)!r} is not a sweep's run.json ({found}); allowed: a "
            f"JSON object with {', '.join(REQUIRED_META_KEYS)}, as dcsim sweep writes it"
        )
    try:
        results = pd.read_parquet(parquet)
    except (OSError, ValueError) as error:
        message = " ".join(str(error).split())
        raise ValueError(f"results file {str(parquet)!r} cannot be read ({message})") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in results.columns]
    if missing:
        raise ValueError(
            f"results file {str(parquet)!r} lacks the column(s) {', '.join(missing)}; allowed: "
            "the results.parquet dcsim sweep writes"
        )
    if not len(results):
        raise ValueError(
            f"results file {str(parquet)!r} holds no rows; allowed: the results of a sweep "
            "with at least one point"
        )
    return results, meta


def run(args: argparse.Namespace) -> int:
    from dcsim.sweep import write_outputs

    results, meta = read_sweep_output(args.dir)
    out = Path(args.dir)
    try:
        write_outputs(results, meta, out)
    except KeyError as error:
        raise ValueError(
            f"results file {str(out / 'results.parquet')!r} lacks the column {error.args[0]!r} "
            "the report needs; allowed: the results.parquet dcsim sweep writes"
        ) from None
    print(f"report regenerated: {out / 'report.html'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="regenerate report.html and the spreadsheets from a sweep's stored results"
    )
    parser.add_argument("dir", metavar="DIR", help="a `dcsim sweep --out` directory")
    parser.set_defaults(func=run)
