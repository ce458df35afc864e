"""NETWORK on the command line: the model-source argument, `--input-shape`, and weights.

Part of the application layer (DESIGN §6, §8). Every command that takes a NETWORK
(`layers`, `storage`, `compress`, `simulate`, `validate --network`) adds it with
`add_network_arguments` and resolves it with `network_from_args`, which calls `dcsim.network`
(the Python API) and through it the one entry point `workloads.model_source.load_network`: a
built-in name, `path/to/file.py:factory` (the user's own code, run because the user named it)
or `path/to/model.onnx`.

Weights (`--weights`): not given — the source's own (a module's parameters, an ONNX file's
initializers; synthetic for built-in names); `synthetic` — seeded synthetic weights; a path —
a torch state_dict (`torch.load(weights_only=True)`), checked against the model.

Activations (`--data DIR`): `dcsim.frame_activations`.
"""

from __future__ import annotations

import argparse

NETWORK_HELP = (
    "a built-in network (e.g. alexnet-caffe, resnet18, mobilenet-v2), path/to/file.py:factory "
    "(a function returning a torch nn.Module — your code runs) or path/to/model.onnx"
)
INPUT_SHAPE_HELP = (
    "input of one inference without the batch dimension, e.g. 3,224,224 (a .py source needs "
    "it unless the module has an input_shape attribute; a built-in or ONNX network is resized "
    "/ checked)"
)
WEIGHTS_HELP = (
    "synthetic (seeded), or a torch state_dict file of the network; default: the source's "
    "own weights (module parameters, ONNX initializers), synthetic for built-in names"
)


def add_network_arguments(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """NETWORK (positional; optional for `simulate --fc`) and `--input-shape`."""
    parser.add_argument(
        "network", metavar="NETWORK", nargs="?" if optional else None, help=NETWORK_HELP
    )
    parser.add_argument("--input-shape", metavar="C,H,W", default=None, help=INPUT_SHAPE_HELP)


def network_from_args(args: argparse.Namespace, weights: str | None = None):
    """The `Network` named by `args.network` / `args.input_shape`, with `weights` (None: the
    source's own; "synthetic"; or a state_dict path)."""
    from dcsim.api import network

    return network(args.network, getattr(args, "input_shape", None), weights=weights)
