"""`dcsim validate`: published reference points vs the model, with the error in percent."""

from __future__ import annotations

import argparse

from dcsim.tables import FORMATS, print_table
from simulator.validation import CHECKS, validation_rows


def run(args: argparse.Namespace) -> int:
    import dcsim.accuracy_trends  # noqa: F401  registers the accuracy-* checks (digits, cached)

    print_table(validation_rows(args.check, seed=args.seed), args.format)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="compare the model with published numbers (EIE AlexNet times, FIFO, PE scaling)",
        description="Rows: check, published, model, error_pct, unit, notes. Synthetic weights "
        "and activations at the published densities; nothing is fitted.",
    )
    parser.add_argument(
        "--check",
        action="append",
        metavar="NAME",
        help=f"one of {', '.join(CHECKS)}, accuracy-bits, accuracy-init, accuracy-prune-quant "
        "(the accuracy-* checks train the digits AlexNet once; cached)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(func=run)
