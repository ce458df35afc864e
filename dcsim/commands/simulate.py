"""`dcsim simulate`: one synthetic FC layer or a whole compressed network on an accelerator.

Application layer (DESIGN §6) over `simulator.simulate` / `simulator.analytical_model`; a
network goes through `dcsim.api.run_simulation`, the code path of `dcsim.simulate`.
`--fc IN OUT --weight-density D --act-density A` simulates one synthetic layer;
`NETWORK --recipe R` compresses the network — any model source, with its own weights, synthetic
ones or a state_dict (`dcsim.network_arguments`) — and simulates one frame: activations measured
on the first image of `--data DIR`, else synthetic at the density that flows through the
network's graph (ReLU outputs at `--act-density`).
"""

from __future__ import annotations

import argparse

from dcsim.network_arguments import WEIGHTS_HELP, add_network_arguments
from dcsim.tables import FORMATS, print_table
from simulator import load_accelerator, pruned_layer, simulate_layer
from simulator.analytical_model import analytical_layer
from simulator.simulate import DEFAULT_HIDDEN_ACTIVATION_DENSITY, MODELS
from workloads.layer_spec import LayerSpec
from workloads.synthetic import synthetic_layer_input


def fc_rows(args: argparse.Namespace) -> list[dict]:
    arch = load_accelerator(args.arch)
    n_in, n_out = args.fc
    spec = LayerSpec(name=f"fc{n_in}x{n_out}", kind="fc", in_channels=n_in, out_channels=n_out)
    if args.weight_density is None or args.act_density is None:
        raise ValueError("--fc needs --weight-density and --act-density")
    if args.model == "analytical":
        result = analytical_layer(
            spec,
            args.weight_density,
            args.act_density,
            arch.weight_index_bits,
            arch.relative_index_bits,
            arch,
        )
    else:
        layer = pruned_layer(
            spec,
            args.weight_density,
            n_pe=arch.n_pe,
            weight_bits=arch.weight_index_bits,
            index_bits=arch.relative_index_bits,
            seed=args.seed,
        )
        x = synthetic_layer_input(spec, args.act_density, args.seed)
        result = simulate_layer(layer, x, arch)
    return [result.row()]


def network_rows(args: argparse.Namespace) -> list[dict]:
    from dcsim.api import run_simulation

    simulation = run_simulation(
        args.network,
        args.arch,
        args.model,
        args.data,  # None: synthetic activations; a folder: measured on its first image
        recipe=args.recipe,
        weights=args.weights,
        input_shape=args.input_shape,
        act_density=args.act_density,
        seed=args.seed,
    )
    return simulation.result.rows()


def run(args: argparse.Namespace) -> int:
    if (args.fc is None) == (args.network is None):
        raise ValueError("give either NETWORK or --fc IN OUT (not both)")
    rows = fc_rows(args) if args.fc else network_rows(args)
    print_table(rows, args.format)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="simulate a synthetic FC layer or a compressed network on an accelerator",
        description="Cycles, ideal cycles, load balance, latency and energy by component per "
        "layer, then a total row (with fps for a network).",
    )
    add_network_arguments(parser, optional=True)
    parser.add_argument("--arch", default="eie", help="preset (eie, edge-16) or a TOML file")
    parser.add_argument("--fc", nargs=2, type=int, metavar=("IN", "OUT"))
    parser.add_argument("--weight-density", type=float)
    parser.add_argument(
        "--act-density",
        type=float,
        help="input activation density (--fc), or of hidden layers without published "
        f"densities (NETWORK; default {DEFAULT_HIDDEN_ACTIVATION_DENSITY})",
    )
    parser.add_argument("--recipe", default="paper", help="compression recipe (NETWORK)")
    parser.add_argument("--weights", help=WEIGHTS_HELP)
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="ImageNet-style folder: activations measured on its first image through the "
        "compressed network (NETWORK); else synthetic",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", choices=MODELS, default="cycle")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(func=run)
