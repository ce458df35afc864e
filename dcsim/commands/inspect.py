"""`dcsim inspect FILE.dcz`: read a container back, verify it, and print its accounting.

Application layer (DESIGN §6) over `compression.load_container`. A damaged file is refused
with a one-line reason (the CLI turns the ContainerError into exit status 2).
"""

from __future__ import annotations

import argparse

from compression import load_container
from dcsim.commands.storage import STORAGE_FORMATS, print_storage


def run(args: argparse.Namespace) -> int:
    compressed, info = load_container(args.file)
    if args.format != "table":
        print_storage(
            compressed,
            args.format,
            {
                "network": compressed.name,
                "recipe": compressed.recipe_name,
                "coding": info.coding,
                "container_bytes": info.file_bytes,
                "overhead_bytes": info.overhead_bytes,
            },
        )
        return 0
    from dcsim.tables import human_bytes

    print_storage(compressed, args.format)
    print(
        f"{args.file}: network {compressed.name!r}, recipe {compressed.recipe_name!r}, "
        f"{len(compressed.layers)} layers, {info.file_bytes:,} bytes "
        f"({human_bytes(info.file_bytes)}; {info.coding} coding), checksum ok"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="verify a .dcz container and print its storage accounting",
        description="Read FILE.dcz, verify length, checksum and every layer, and print the "
        "storage accounting of what it holds.",
    )
    parser.add_argument("file", metavar="FILE.dcz")
    parser.add_argument("--format", choices=STORAGE_FORMATS, default="table")
    parser.set_defaults(func=run)
