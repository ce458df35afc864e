"""`dcsim validate`: published reference points vs the model, with the error in percent.

With `--weights FILE` (a user's trained AlexNet, optionally `--data DIR` of ImageNet-style
images) the EIE Alex-6/7/8 rows run on those matrices and activations instead of synthetic
ones (`dcsim.measured_layers`). The rows are `dcsim.validate`'s (`dcsim.api_results`).
"""

from __future__ import annotations

import argparse

from dcsim.tables import FORMATS, print_table
from simulator.validation import CHECKS

ACCURACY_CHECKS = ("accuracy-bits", "accuracy-init", "accuracy-prune-quant")
#: `markdown`: for documentation (`dcsim.validation_markdown`; the README's EIE Table II table).
VALIDATE_FORMATS = (*FORMATS, "markdown")


def _print(rows: list[dict], fmt: str) -> None:
    if fmt == "markdown":
        from dcsim.validation_markdown import validation_markdown

        print(validation_markdown(rows))
    else:
        print_table(rows, fmt)


def run(args: argparse.Namespace) -> int:
    from dcsim.api_results import validation_rows
    from dcsim.measured_layers import ALEXNET_LAYOUTS

    if args.weights is None and args.network in ALEXNET_LAYOUTS and args.data is not None:
        raise ValueError("--data needs --weights (the AlexNet whose inputs it measures)")
    rows = validation_rows(  # the rows of `dcsim.validate`
        args.check,
        seed=args.seed,
        weights=args.weights,
        data=args.data,
        network=args.network,
        images=args.images,
    )
    _print(rows, args.format)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from dcsim.measured_layers import DEFAULT_IMAGES

    parser = subparsers.add_parser(
        "validate",
        help="compare the model with published numbers (EIE layer times, FIFO, PE scaling)",
        description="Rows: check, published, model, error_pct, unit, notes. Synthetic weights "
        "and activations at the published densities unless --weights is given; nothing is "
        "fitted.",
    )
    parser.add_argument(
        "--check",
        action="append",
        metavar="NAME",
        help=f"one of {', '.join(name for name in CHECKS if name not in ACCURACY_CHECKS)}, "
        f"{', '.join(ACCURACY_CHECKS)} (the accuracy-* checks train the digits AlexNet once; "
        "cached); default: all, or eie-alexnet with --weights",
    )
    parser.add_argument(
        "--weights",
        metavar="FILE",
        help="a trained AlexNet state_dict (ideally Deep Compression's pruned one): the EIE "
        "Alex-6/7/8 rows use its fc6/fc7/fc8",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="ImageNet-style folder (root/<class>/<images>): Alex-6/7/8 inputs are captured "
        "on its first --images images; without it they stay synthetic",
    )
    parser.add_argument(
        "--network",
        default="alexnet",
        metavar="NETWORK",
        help="layout of --weights: alexnet (torchvision) or alexnet-caffe (two-group BVLC, "
        "227 px); or a model source holding an AlexNet classifier (model.onnx, "
        "file.py:factory) with its own weights or --weights",
    )
    parser.add_argument(
        "--images",
        type=int,
        default=DEFAULT_IMAGES,
        metavar="N",
        help=f"frames to average over with --data (default {DEFAULT_IMAGES})",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--format",
        choices=VALIDATE_FORMATS,
        default="table",
        help="table (default), csv, json, or markdown for documentation (EIE Table II rows: "
        "power and area side by side per module)",
    )
    parser.set_defaults(func=run)
