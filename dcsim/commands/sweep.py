"""`dcsim sweep [CONFIG] --out DIR`: run a design-space sweep (the main job, DESIGN §6)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import pandas as pd

from dcsim.config import load_config
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
    config = load_config(args.config)
    if args.max_points is not None:
        if args.max_points < 1:
            raise ValueError(f"--max-points={args.max_points} is invalid; allowed: >= 1")
        config = dataclasses.replace(config, max_points=args.max_points)
    if args.verify is not None and args.verify < 0:
        raise ValueError(f"--verify={args.verify} is invalid; allowed: >= 0")
    if args.verify and config.sim_model != "analytical":
        raise ValueError(
            f'--verify={args.verify} is invalid; allowed: 0 unless sim_model = "analytical"'
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


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="sweep sparsity x bits x hardware; write results.{parquet,csv,xlsx} and report.html",
        description="Evaluate every design point of CONFIG (default: the embedded default "
        "sweep), resumably: finished work units are kept in DIR/units and skipped on a rerun.",
    )
    parser.add_argument("config", nargs="?", default=None, metavar="CONFIG", help="TOML config")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="local processes")
    parser.add_argument(
        "--scheduler", default=None, metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786"
    )
    parser.add_argument("--fresh", action="store_true", help="discard stored points first")
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
