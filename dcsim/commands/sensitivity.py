"""`dcsim sensitivity NETWORK --weights digits|PATH [--data DIR]`: per-layer pruning sensitivity.

Application layer (DESIGN §6) over `dcsim.sensitivity`: every weight layer is pruned ALONE
(magnitude pruning, no retraining; with `--bits B` its survivors are also shared by k-means
into 2**B codes) to each density of `--densities`, the rest of the network stays dense, and
top-1 / top-5 are measured — on the digits test split (`--weights digits`, AlexNet trained here)
or on the folder `--data DIR` (`--weights PATH`, a torchvision AlexNet state_dict).

Output (`--format table|csv|json`): one row per (layer, density) with top-1 / top-5 and their
loss against the dense network in percentage points. `--max-loss L` (repeatable) adds the
`auto` profile for an allowed top-1 loss of L points — each layer's lowest density whose
pruning alone loses at most L — and the top-1 of the network with every layer at its auto
density at once (no retraining). `--write-profile FILE` writes that profile (one `--max-loss`)
as a recipe TOML usable as `--recipe FILE` or a sweep's `density_profile`; in a sweep
`density_profile = "auto:L"` derives the same profile on the fly.
"""

from __future__ import annotations

import argparse


def _densities(text: str) -> tuple[float, ...]:
    from dcsim.sensitivity_densities import check_densities

    try:
        return check_densities(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).replace("densities=", "--densities ")) from None


def _loss(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= 100):
        raise argparse.ArgumentTypeError(
            f"--max-loss {text!r} is invalid; allowed: top-1 points, a number in [0, 100]"
        )
    return value


def _bits(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"--bits {text!r} is invalid; allowed: 1..16")
    return value


def _measure(args: argparse.Namespace):
    from dcsim.cli import UsageError
    from dcsim.sensitivity import digits_sensitivity, folder_sensitivity

    if args.network != "alexnet":
        raise UsageError(
            f"network={args.network!r} is invalid for sensitivity; allowed: alexnet (the "
            "network --weights digits trains, or a torchvision AlexNet state_dict)"
        )
    common = {
        "densities": args.densities,
        "bits": args.bits,
        "init": args.init,
        "auto_losses": tuple(args.max_loss),
    }
    if args.weights == "digits":
        if args.data is not None:
            raise UsageError("--data is for --weights PATH; allowed: --weights digits alone")
        return digits_sensitivity(args.seed, **common)
    if args.data is None:
        raise UsageError(
            f"--weights {args.weights!r} needs --data DIR (an ImageNet-style folder to measure "
            "on); allowed: --weights digits, or --weights PATH --data DIR"
        )
    from workloads.user_files import input_file, input_folder

    input_file(args.weights, "--weights", "a torchvision AlexNet state_dict file")
    input_folder(args.data, "--data", "an ImageNet-style folder (class sub-folders)")
    return folder_sensitivity(args.weights, args.data, seed=args.seed, **common)


def _auto_rows(sensitivity, losses: list[float]) -> list[dict]:
    """One row per layer: its auto density for every allowed loss, then the combined top-1."""
    rows = []
    chosen = {loss: sensitivity.auto_densities(loss) for loss in losses}
    for curve in sensitivity.curves:
        row = {"layer": curve.layer, "kind": curve.kind, "weights": curve.weights}
        row.update({f"density_at_loss_{loss:g}": chosen[loss][curve.layer] for loss in losses})
        rows.append(row)
    total = sum(c.weights for c in sensitivity.curves)
    overall = {"layer": "total", "kind": "", "weights": total}
    for loss in losses:
        kept = sum(chosen[loss][c.layer] * c.weights for c in sensitivity.curves)
        overall[f"density_at_loss_{loss:g}"] = kept / total if total else 0.0
    rows.append(overall)
    combined = {"layer": "top1 (all layers at once)", "kind": "", "weights": ""}
    combined.update(
        {f"density_at_loss_{loss:g}": sensitivity.combined.get(loss) for loss in losses}
    )
    rows.append(combined)
    return rows


def _write_profile(path, sensitivity, loss: float) -> None:
    from compression.recipe import recipe_toml
    from dcsim.sensitivity import auto_recipe_data
    from workloads.atomic_file import atomic_path

    densities = sensitivity.auto_densities(loss)
    data = auto_recipe_data(densities, loss)
    comment = (
        f"auto density profile: each layer at the lowest density whose pruning alone (no "
        f"retraining{'' if sensitivity.bits is None else f', {sensitivity.bits}-bit k-means'}) "
        f"loses <= {loss:g} top-1 points\non {sensitivity.data}, network {sensitivity.network}, "
        f"weights {sensitivity.weights}; all layers at once: top-1 "
        f"{100 * sensitivity.combined.get(loss, float('nan')):.2f}% vs dense "
        f"{100 * sensitivity.dense_top1:.2f}% (before retraining)\nwritten by `dcsim sensitivity`"
    )
    with atomic_path(path) as temp:
        temp.write_text(recipe_toml(data, comment), encoding="utf-8")


def _json(value: object) -> object:
    """`dcsim.tables.json_value` through dicts too (exact numbers, NaN as null)."""
    from dcsim.tables import json_value

    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return json_value(value)


def run(args: argparse.Namespace) -> int:
    import json

    from dcsim.cli import UsageError
    from dcsim.tables import print_table
    from workloads.progress import reporting
    from workloads.user_files import output_file

    if args.write_profile is not None:
        if len(args.max_loss) != 1:
            raise UsageError(
                f"--write-profile with {len(args.max_loss)} --max-loss values is invalid; "
                "allowed: exactly one --max-loss L"
            )
        output_file(args.write_profile, "--write-profile")  # before the work
    with reporting(enabled=not args.quiet):
        sensitivity = _measure(args)
    if args.format == "json":
        print(json.dumps(_json(sensitivity.as_dict()), indent=2))
    else:
        print_table(sensitivity.rows(), args.format)
        if args.max_loss and args.format == "table":
            print()
            print(
                f"auto density profile (dense top-1 {100 * sensitivity.dense_top1:.2f}%): "
                "lowest density per layer within the allowed top-1 loss (points)"
            )
            print_table(_auto_rows(sensitivity, list(args.max_loss)), args.format)
    if args.write_profile is not None:
        _write_profile(args.write_profile, sensitivity, args.max_loss[0])
        if args.format == "table":
            print(f"wrote {args.write_profile}: auto profile for <= {args.max_loss[0]:g} points")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from dcsim.sensitivity_densities import DEFAULT_DENSITIES
    from dcsim.tables import FORMATS

    parser = subparsers.add_parser(
        "sensitivity",
        help="per-layer pruning sensitivity (one layer at a time, no retraining)",
        description="Prune (and with --bits, quantize) one layer at a time over a list of "
        "densities without retraining and report accuracy vs density per layer; --max-loss "
        "derives the auto density profile.",
    )
    parser.add_argument("network", metavar="NETWORK", help="alexnet")
    parser.add_argument(
        "--weights",
        required=True,
        metavar="digits|PATH",
        help="digits (AlexNet trained here on the bundled digits, cached) or a torchvision "
        "AlexNet state_dict file (with --data)",
    )
    parser.add_argument("--data", metavar="DIR", help="ImageNet-style folder to measure on")
    parser.add_argument(
        "--densities",
        type=_densities,
        default=DEFAULT_DENSITIES,
        metavar="D,D,...",
        help="densities each layer is pruned to, in (0, 1] (default "
        + ",".join(f"{d:g}" for d in DEFAULT_DENSITIES)
        + ")",
    )
    parser.add_argument(
        "--bits", type=_bits, default=None, help="also share the survivors by k-means (1..16)"
    )
    parser.add_argument(
        "--init",
        choices=("linear", "density", "random"),
        default="linear",
        help="k-means centroid initialisation with --bits (default linear)",
    )
    parser.add_argument(
        "--max-loss",
        type=_loss,
        action="append",
        default=[],
        metavar="L",
        help="allowed top-1 loss in points for the auto profile (repeatable)",
    )
    parser.add_argument(
        "--write-profile",
        metavar="FILE.toml",
        help="write the auto profile of the one --max-loss as a recipe file",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed (digits split, k-means)")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)
