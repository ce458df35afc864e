"""`dcsim compress NETWORK --recipe R --out FILE.dcz`: write the compressed network's container.

Application layer (DESIGN §6) over `compression.compress_network` and
`compression.save_container`; prints the same accounting as `dcsim storage`.
"""

from __future__ import annotations

import argparse

from compression import save_container
from compression.container import CODINGS
from dcsim.commands.storage import (
    STORAGE_FORMATS,
    add_compression_arguments,
    compress_from_args,
    print_storage,
)


def run(args: argparse.Namespace) -> int:
    compressed = compress_from_args(args)
    info = save_container(args.out, compressed, coding=args.coding)
    print_storage(compressed, args.format)
    if args.format == "table":
        print(
            f"wrote {args.out}: {info.file_bytes:,} bytes ({args.coding} coding, "
            f"{info.overhead_bytes:,} bytes of headers and checksum)"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compress",
        help="compress a network with a recipe and write a .dcz container",
        description="Prune, quantize and encode NETWORK with a recipe, write the .dcz container "
        "atomically, and print the storage accounting.",
    )
    add_compression_arguments(parser)
    parser.add_argument("--out", required=True, metavar="FILE.dcz", help="container to write")
    parser.add_argument(
        "--coding",
        choices=CODINGS,
        default="huffman",
        help="stream coding in the container (default huffman: P+Q+H)",
    )
    parser.add_argument("--format", choices=STORAGE_FORMATS, default="table")
    parser.set_defaults(func=run)
