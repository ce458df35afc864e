"""`dcsim sweep [CONFIG] --out DIR`: run a design-space sweep (the main job, DESIGN §6).

The config is validated by `dcsim.api_results.sweep_config`, as `dcsim.explore` validates it,
then `dcsim.sweep.run_sweep` runs it (`dcsim.explore` with `out`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from dcsim.api_results import sweep_config
from dcsim.sweep import OUTPUT_FILES, read_totals, run_sweep


def failed_point_lines(totals: pd.DataFrame) -> list[str]:
    """One line per failed point: which point, and the reason it failed."""
    lines = []
    for _, row in totals[totals["status"] != "ok"].iterrows():
        settings = ", ".join(
            f"{key} {row[key]}"
            for key in ("accelerator", "density_profile", "density_scale", "conv_bits", "fc_bits")
            if key in row and pd.notna(row[key])
        )
        lines.append(
            f"dcsim: point {row['point_id']} ({row['network']}; {settings}) failed: {row['error']}"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    config = sweep_config(  # `dcsim.explore`'s validation
        args.config,
        max_points=args.max_points,
        verify=args.verify,
        option_names=("--max-points", "--verify"),
    )
    run_sweep(
        config,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        fresh=args.fresh,
        progress=not args.quiet,
        verify=args.verify,
        load_results=False,
    )
    totals = read_totals(Path(args.out) / "results.parquet")
    failed = int((totals["status"] != "ok").sum()) if len(totals) else 0
    for line in failed_point_lines(totals) if failed else []:
        print(line, file=sys.stderr)
    print(f"{len(totals)} points ({failed} failed) -> {args.out}/: " + ", ".join(OUTPUT_FILES))
    verification = json.loads((Path(args.out) / "run.json").read_text())["verification"]
    if verification["summary"].get("points"):
        s = verification["summary"]
        print(
            f"  verified {s['points']} points on the cycle model: worst deviation "
            f"{s['worst_cycles_deviation_pct']:+.2f} % in cycles, "
            f"{s['worst_energy_deviation_pct']:+.2f} % in energy"
        )
    if len(totals) and failed < len(totals):
        from dcsim.summary import best_points_lines

        for line in best_points_lines(totals):
            print(line)
    return 1 if failed else 0


def _workers(text: str) -> int | str:
    """--workers: `auto` or an integer >= 1 (argparse reports anything else)."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        allowed = "an integer >= 1 or auto"
        raise argparse.ArgumentTypeError(f"workers={text} is invalid; allowed: {allowed}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="sweep sparsity x bits x hardware; write results.{parquet,csv,xlsx} and report.html",
        description="Evaluate every design point of CONFIG (default: the embedded default "
        "sweep), resumably: finished work units are kept in DIR/units and skipped on a rerun.",
    )
    parser.add_argument("config", nargs="?", default=None, metavar="CONFIG", help="TOML config")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--workers",
        type=_workers,
        default="auto",
        metavar="N",
        help="local worker processes, or auto (the default: one per usable CPU, at most one per "
        "4 work units left and per 2 GB of available memory)",
    )
    parser.add_argument(
        "--scheduler", default=None, metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="discard stored points first and evaluate every unit again (not copied from the "
        "unit cache)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--max-points",
        type=int,
        default=None,
        metavar="N",
        help="refuse configs with more than N points (default: the config's max_points, "
        "else 100,000)",
    )
    parser.add_argument(
        "--verify",
        type=int,
        default=None,
        metavar="N",
        help="re-run N random points of an analytical sweep on the cycle model and report the "
        "worst deviation (default: the config's verify)",
    )
    parser.set_defaults(func=run)
