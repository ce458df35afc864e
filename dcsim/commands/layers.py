"""`dcsim layers NETWORK`: the network's weight layers with weights, MACs and shapes.

NETWORK is any model source (`dcsim.network_arguments`); `--ops` lists every op of the
network's graph instead, with where it runs on the accelerator (`workloads.graph`)."""

from __future__ import annotations

import argparse

from dcsim.network_arguments import add_network_arguments, network_from_args
from dcsim.tables import FORMATS, print_table


def layer_rows(network) -> list[dict]:
    """One row per layer of `network` (a Network, or a name), then a `total` row."""
    if isinstance(network, str):
        from workloads import load_network

        network = load_network(network)
    rows = [
        {
            "layer": layer.name,
            "kind": layer.kind,
            "weight_shape": layer.weight_shape,
            "weights": layer.weights,
            "macs": layer.macs,
            "output_shape": layer.output_shape,
        }
        for layer in network.layers
    ]
    rows.append(
        {
            "layer": "total",
            "kind": "",
            "weight_shape": "",
            "weights": network.weights,
            "macs": network.macs,
            "output_shape": "",
        }
    )
    return rows


def op_rows(network) -> list[dict]:
    """One row per op of the network's graph: name, op, inputs, output shape, placement."""
    return [
        {
            "node": node.name,
            "op": node.op,
            "source_op": node.source_op,
            "inputs": " ".join(node.inputs),
            "output_shape": node.shape,
            "runs_on": node.placement,
        }
        for node in network.graph.nodes
    ]


def run(args: argparse.Namespace) -> int:
    network = network_from_args(args, weights="synthetic")  # shapes only
    print_table(op_rows(network) if args.ops else layer_rows(network), args.format)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "layers",
        help="list a network's layers: weight shape, weights, MACs, output shape",
        description="One row per weight layer, then a total row. Weights exclude biases; "
        "MACs are per inference (one time step for LSTM).",
    )
    add_network_arguments(parser)
    parser.add_argument(
        "--ops",
        action="store_true",
        help="list every op of the graph and where it runs (engine, pe, free, host = outside "
        "the engine, not modelled) instead of the weight layers",
    )
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(func=run)
