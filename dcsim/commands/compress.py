"""`dcsim compress NETWORK --recipe R --out FILE.dcz`: write the compressed network's container.

Application layer (DESIGN §6) over `compression.compress_network` and
`compression.save_container`; prints the same accounting as `dcsim storage`.

With measured accuracy (`dcsim.accuracy`): `--weights digits` (AlexNet trained here on the
bundled digits, cached) or `--weights PATH --data DIR` (a user's torchvision AlexNet state_dict
and an ImageNet-style folder; `--train-data DIR` to retrain on a separate folder) runs Deep
Compression with retraining and also prints top1/top5/map dense vs compressed,
container_bytes and compression_ratio. `--device cuda` trains and evaluates on the GPU.
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


def _measured(args: argparse.Namespace):
    """The accuracy pipeline's report for `--weights digits` or `--data DIR`, else None."""
    from dcsim.accuracy import digits_pipeline, folder_pipeline
    from dcsim.cli import UsageError
    from workloads.training import DIGITS_SETUP, resolve_device

    resolve_device(args.device)  # a clear error before any work when CUDA is missing
    if args.weights == "digits":
        if args.network != "alexnet":
            raise UsageError(f"network={args.network!r} with --weights digits; allowed: alexnet")
        if args.data is not None:
            raise UsageError("--data is for --weights PATH; allowed: --weights digits alone")
        setup = DIGITS_SETUP if args.seed == DIGITS_SETUP.seed else _with_seed(args.seed)
        return digits_pipeline(args.recipe, setup=setup, n_pe=args.pe, device=args.device)
    if args.data is not None:
        if args.weights in (None, "synthetic"):
            raise UsageError("--data needs --weights PATH (a torchvision AlexNet state_dict)")
        if args.network != "alexnet":
            raise UsageError(f"network={args.network!r} with --data; allowed: alexnet")
        return folder_pipeline(
            args.weights,
            args.data,
            args.recipe,
            train_data=args.train_data,
            n_pe=args.pe,
            seed=args.seed,
            device=args.device,
        )
    if args.train_data is not None:
        raise UsageError("--train-data needs --data DIR; allowed: --weights PATH --data DIR")
    return None


def _with_seed(seed: int):
    from dataclasses import replace

    from workloads.training import DIGITS_SETUP

    return replace(DIGITS_SETUP, seed=seed)


def run(args: argparse.Namespace) -> int:
    from workloads.progress import reporting
    from workloads.user_files import output_file

    output_file(args.out, "--out")  # before the work, so a typo costs nothing
    with reporting(enabled=not args.quiet):  # stage lines on stderr while it trains
        report = _measured(args)
        compressed = report.compressed if report is not None else compress_from_args(args)
    info = save_container(args.out, compressed, coding=args.coding)
    container = {
        "container_file": str(args.out),
        "coding": args.coding,
        "container_bytes": info.file_bytes,
        "overhead_bytes": info.overhead_bytes,
    }
    metrics = report.metric_row(info.file_bytes) if report is not None else {}
    if args.format != "table":
        print_storage(compressed, args.format, {**container, **metrics})
        return 0
    print_storage(compressed, args.format)
    if report is not None:
        from dcsim.tables import print_table

        print()
        print_table([metrics], args.format)
        print(f"wrote {args.out}: {info.file_bytes:,} bytes ({args.coding} coding)")
        return 0
    from dcsim.tables import human_bytes

    print(
        f"wrote {args.out}: {info.file_bytes:,} bytes ({human_bytes(info.file_bytes)}; "
        f"{args.coding} coding, {info.overhead_bytes:,} bytes of headers and checksum)"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compress",
        help="compress a network with a recipe and write a .dcz container",
        description="Prune, quantize and encode NETWORK with a recipe, write the .dcz container "
        "atomically, and print the storage accounting.",
    )
    add_compression_arguments(
        parser,
        weights_help="synthetic (seeded), digits (AlexNet trained here on the bundled digits; "
        "accuracy measured) or a torch state_dict file of the network; default: the source's "
        "own weights (module parameters, ONNX initializers), synthetic for built-in names",
    )
    parser.add_argument("--out", required=True, metavar="FILE.dcz", help="container to write")
    parser.add_argument(
        "--coding",
        choices=CODINGS,
        default="huffman",
        help="stream coding in the container (default huffman: P+Q+H)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="ImageNet-style folder (class sub-folders) to measure --weights PATH on",
    )
    parser.add_argument(
        "--train-data",
        metavar="DIR",
        help="ImageNet-style folder to retrain on (with --data; default: no retraining)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="where training and evaluation run (default cpu)",
    )
    parser.add_argument("--format", choices=STORAGE_FORMATS, default="table")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress of training and evaluation on stderr"
    )
    parser.set_defaults(func=run)
