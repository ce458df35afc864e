"""`dcsim layers NETWORK`: the network's weight layers with weights, MACs and shapes."""

from __future__ import annotations

import argparse

from dcsim.tables import FORMATS, print_table
from workloads import get_network


def layer_rows(network_name: str) -> list[dict]:
    """One row per layer, then a `total` row, with the columns of the `layers` command."""
    network = get_network(network_name)
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


def run(args: argparse.Namespace) -> int:
    print_table(layer_rows(args.network), args.format)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "layers",
        help="list a network's layers: weight shape, weights, MACs, output shape",
        description="One row per weight layer, then a total row. Weights exclude biases; "
        "MACs are per inference (one time step for LSTM).",
    )
    parser.add_argument("network", metavar="NETWORK", help="network name, e.g. alexnet-caffe")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(func=run)
