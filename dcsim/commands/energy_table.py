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
    print_cited_table(rows, args.format, "dcsim energy-table --sources explains every number")
    return 0


def print_cited_table(rows: list[dict], fmt: str, explained: str) -> None:
    """A table whose `source` column holds full citations: as is in csv / json; for people,
    each citation as its key and the cited references in full below (`explained` says where
    the numbers are derived)."""
    if fmt != "table":
        print_table(rows, fmt)
        return
    rows, keys = _with_reference_keys(rows)
    print_table(rows, fmt)
    print(f"\nReferences ({explained}):")
    for key in keys:
        print(f"[{key}] {references()[key]}")


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
