"""`dcsim energy-table --arch eie`: the per-action energy reference table of an accelerator.

`--sources` prints the document that explains every number of the table and lists the full
references its `source` column cites (`simulator/energy-sources.md`, shipped with the package).
"""

from __future__ import annotations

import argparse

from dcsim.tables import FORMATS, print_table
from simulator import energy_table_rows, load_accelerator
from simulator.energy_table import energy_sources_text


def run(args: argparse.Namespace) -> int:
    if args.sources:
        print(energy_sources_text(), end="")
        return 0
    print_table(energy_table_rows(load_accelerator(args.arch)), args.format)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "energy-table",
        help="print the energy reference table (energy per action, formula, source)",
        description="Energy per action of the accelerator, scaled to its node, with the formula "
        "and the full citation each number comes from (--sources: the references and how each "
        "number is derived).",
    )
    parser.add_argument("--arch", default="eie", help="preset (eie, edge-16) or a TOML file")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument(
        "--sources",
        action="store_true",
        help="print where every energy number comes from, with full references, and exit",
    )
    parser.set_defaults(func=run)
