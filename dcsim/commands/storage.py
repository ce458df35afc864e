"""`dcsim storage NETWORK --recipe R`: per-layer storage bits of a network compressed by a recipe.

Application layer (DESIGN §6) over `dcsim.compress` (the Python API) and its accounting. NETWORK
is any model source and `--weights` its weights (`dcsim.network_arguments`).
"""

from __future__ import annotations

import argparse

from compression import CompressedNetwork
from compression.accounting import ratio_summary
from dcsim.network_arguments import WEIGHTS_HELP, add_network_arguments
from dcsim.tables import FORMATS, print_table

STORAGE_FORMATS: tuple[str, ...] = FORMATS


def add_compression_arguments(
    parser: argparse.ArgumentParser, weights_help: str = WEIGHTS_HELP
) -> None:
    """The flags `storage` and `compress` share."""
    add_network_arguments(parser)
    parser.add_argument(
        "--recipe",
        required=True,
        help="built-in recipe (paper, digits, generic: per-kind, any network) or a TOML file",
    )
    parser.add_argument("--weights", default=None, help=weights_help)
    parser.add_argument(
        "--pe",
        type=int,
        default=None,
        help="PEs the storage is interleaved over (default: the recipe's n_pe, else 64)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for synthetic weights/k-means")


def compress_from_args(args: argparse.Namespace) -> CompressedNetwork:
    """The compressed network of the flags (`dcsim.compress`, the API's code path)."""
    from dcsim.api import compress

    return compress(
        args.network,
        args.recipe,
        weights=args.weights,
        input_shape=args.input_shape,
        n_pe=args.pe,
        seed=args.seed,
    ).compressed


def print_storage(compressed: CompressedNetwork, fmt: str, total_extra: dict | None = None) -> None:
    """The storage accounting: an aligned table and a ratio summary line for people; for
    `csv` / `json` one table whose rows also carry `n_pe` and whose total row carries
    `total_extra` (what `compress` and `inspect` add: container bytes, accuracy, ...)."""
    rows = compressed.storage_rows()
    if fmt == "table":
        print_table(rows, fmt)
        print(f"\nn_pe={compressed.n_pe}; {ratio_summary(compressed.accounting)}")
        return
    rows = [{**row, "n_pe": compressed.n_pe} for row in rows]
    rows[-1].update(total_extra or {})
    print_table(rows, fmt)


def run(args: argparse.Namespace) -> int:
    print_storage(compress_from_args(args), args.format)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "storage",
        help="storage bits per layer (dense, P, P+Q, P+Q+H) under a compression recipe",
        description="Compress NETWORK with a recipe and print, per layer and in total, the bits "
        "of dense 32-bit storage, pruned (P), pruned+quantized (P+Q) and P+Q+Huffman, and the "
        "filler entries. Definitions: compression/accounting.py.",
    )
    add_compression_arguments(parser)
    parser.add_argument("--format", choices=STORAGE_FORMATS, default="table")
    parser.set_defaults(func=run)
