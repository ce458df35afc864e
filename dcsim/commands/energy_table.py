"""`dcsim energy-table --arch eie`: the per-action energy reference table of an accelerator."""

from __future__ import annotations

import argparse

from dcsim.tables import FORMATS, print_table
from simulator import energy_table_rows, load_accelerator


def run(args: argparse.Namespace) -> int:
    print_table(energy_table_rows(load_accelerator(args.arch)), args.format)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "energy-table",
        help="print the energy reference table (energy per action, formula, source)",
        description="Energy per action of the accelerator, scaled to its node, with the formula "
        "and the energy-data.md section each number comes from.",
    )
    parser.add_argument("--arch", default="eie", help="preset (eie, edge-16) or a TOML file")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(func=run)
