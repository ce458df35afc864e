"""`dcsim report DIR`: regenerate report.html (and the spreadsheets) from stored results."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def run(args: argparse.Namespace) -> int:
    from dcsim.sweep import write_outputs

    out = Path(args.dir)
    parquet, meta_path = out / "results.parquet", out / "run.json"
    for path in (parquet, meta_path):
        if not path.is_file():
            raise FileNotFoundError(2, "not a sweep output directory (missing file)", str(path))
    try:
        results = pd.read_parquet(parquet)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"results in {str(out)!r} cannot be read ({error})") from None
    write_outputs(results, meta, out)
    print(f"report regenerated: {out / 'report.html'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="regenerate report.html and the spreadsheets from a sweep's stored results"
    )
    parser.add_argument("dir", metavar="DIR", help="a `dcsim sweep --out` directory")
    parser.set_defaults(func=run)
