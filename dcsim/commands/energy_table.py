"""`dcsim energy-table --arch eie`: the per-action energy reference table of an accelerator.

`--sources` prints the document that explains every number of the table and lists the full
references its `source` column cites (`simulator/energy-sources.md`, shipped with the package).
In `csv` / `json` every source is the full citation; the aligned table for people shows each
citation as its key (`[CACTI7]`) and lists the cited references, in full, below the table.
"""

from __future__ import annotations

import argparse

from dcsim.api import accelerator
from dcsim.tables import FORMATS, print_table
from simulator import energy_table_rows
from simulator.energy_table import energy_sources_text, references


def _with_reference_keys(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """The rows with each full citation in `source` replaced by its key, and the keys used."""
    used: list[str] = []
    out = []
    for row in rows:
        source = row["source"]
        for key, citation in references().items():
            if citation in source:
                source = source.replace(citation, f"[{key}]")
                used.append(key)
        out.append({**row, "source": source})
    return out, list(dict.fromkeys(used))


def run(args: argparse.Namespace) -> int:
    if args.sources:
        print(energy_sources_text(), end="")
        return 0
    rows = energy_table_rows(accelerator(args.arch))  # `dcsim.energy_table`'s rows
    if args.format != "table":
        print_table(rows, args.format)
        return 0
    rows, keys = _with_reference_keys(rows)
    print_table(rows, args.format)
    print("\nReferences (dcsim energy-table --sources explains every number):")
    for key in keys:
        print(f"[{key}] {references()[key]}")
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
