"""`dcsim area-table --arch eie`: the area of every component of an accelerator.

Printed like `dcsim energy-table`: one row per component (its EIE module, instances, area of
one instance in µm², area of all of them in mm², formula, source), then the total. In `csv` /
`json` every source is the full citation; the aligned table for people shows each citation as
its key (`[CACTI7]`) and lists the cited references, in full, below the table
(`simulator/energy-sources.md` §7 explains every number). `--codebook-entries` sizes the
codebook as a network with wider weights would (2^b entries); default: the spec's.
"""

from __future__ import annotations

import argparse

from dcsim.commands.energy_table import print_cited_table
from dcsim.tables import FORMATS
from simulator import load_accelerator
from simulator.area_table import area_table_rows


def run(args: argparse.Namespace) -> int:
    arch = load_accelerator(args.arch)
    if args.codebook_entries is not None and not 1 <= args.codebook_entries <= 65536:
        raise ValueError(
            f"--codebook-entries={args.codebook_entries} is invalid; allowed: an integer in "
            "[1, 65,536]"
        )
    rows = area_table_rows(arch, args.codebook_entries)
    total = {
        "component": "total",
        "module": "",
        "instances": None,
        "area_um2": None,
        "area_mm2": sum(row["area_mm2"] for row in rows),
        "formula": "Σ instances × area per instance",
        "source": "",
    }
    print_cited_table(
        [*rows, total],
        args.format,
        "dcsim energy-table --sources explains every number, §7 the areas",
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "area-table",
        help="print the area table (area per component, formula, source)",
        description="Silicon area of every component of the accelerator (SRAM macros, "
        "register files, arithmetic, LNZD tree), scaled to its node, with the formula and the "
        "full citation each number comes from; the last row is the total.",
    )
    parser.add_argument("--arch", default="eie", help="preset (eie, edge-16) or a TOML file")
    parser.add_argument(
        "--codebook-entries",
        type=int,
        help="size the codebook to this many entries (default: the spec's codebook_entries)",
    )
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(func=run)
