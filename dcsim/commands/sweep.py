"""`dcsim sweep [CONFIG] --out DIR`: run a design-space sweep (the main job, DESIGN §6)."""

from __future__ import annotations

import argparse

from dcsim.config import load_config
from dcsim.sweep import OUTPUT_FILES, run_sweep


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    results = run_sweep(
        config,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        fresh=args.fresh,
        progress=not args.quiet,
    )
    totals = results[results["row_type"] == "total"] if len(results) else results
    failed = int((totals["status"] != "ok").sum()) if len(totals) else 0
    print(f"{len(totals)} points ({failed} failed) -> {args.out}/: " + ", ".join(OUTPUT_FILES))
    if len(totals) and failed < len(totals):
        from dcsim.summary import best_points_lines

        for line in best_points_lines(totals):
            print(line)
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="sweep sparsity x bits x hardware; write results.{parquet,csv,xlsx} and report.html",
        description="Evaluate every design point of CONFIG (default: the embedded default "
        "sweep), resumably: finished points are kept in DIR/points and skipped on a rerun.",
    )
    parser.add_argument("config", nargs="?", default=None, metavar="CONFIG", help="TOML config")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="local processes")
    parser.add_argument(
        "--scheduler", default=None, metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786"
    )
    parser.add_argument("--fresh", action="store_true", help="discard stored points first")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(func=run)
