"""The `Network` type: a network's weight layers in order, plus how it was instantiated.

Part of `workloads` (DESIGN §2), at the start of the flow: every model source ends here — the
built-in names of `workloads.networks`, the zoo and `file.py:factory` / `nn.Module` sources
lowered by `workloads.module_network`, ONNX files read by `workloads.model_source`. Every later
stage (compression, simulator, sweep) reads a `Network`. `Network.graph` is its op graph
(`workloads.graph`): a sequential built-in's `Topology` is converted on demand.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from workloads.graph import NetworkGraph, make_node
from workloads.layer_spec import LayerSpec, conv_output_size
from workloads.topology import (
    Conv,
    Dropout,
    Flatten,
    Linear,
    LocalResponseNorm,
    LSTMGates,
    MaxPool,
    ReLU,
    Topology,
)


@dataclass(frozen=True)
class Network:
    """A named network: its weight layers in order, and how it was instantiated.

    `input_shape` is (channels, H, W) of one input ((features,) for a model source whose
    input is a vector); `module_paths` maps each layer name to the dotted path of its module
    in the torch model (`workloads.torch_models.build_model`, or the traced module of a model
    source). `family` is `network` for whole networks and `eie-layer` for EIE benchmark
    layers. `topology` is the sequential `Topology` of the classic built-ins or the
    `NetworkGraph` of every other source. `source` names where the network came from as the
    user wrote it (a built-in name, `file.py:factory`, `model.onnx`). `parameters` holds the
    source's own tensors, None when it has none (built-in names: weights are synthetic unless
    a file is given): `<layer>.weight` in the layer's `weight_shape` (batch-norm folded),
    `<layer>.bias`, and `<node>.scale` / `<node>.shift` of unfolded batch-norm nodes, all
    float32.
    """

    name: str
    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int, ...]
    num_classes: int
    topology: Topology | NetworkGraph
    module_paths: dict[str, str] = field(compare=False)
    family: str = "network"
    description: str = ""
    source: str = ""
    parameters: Mapping | None = field(default=None, compare=False, repr=False)

    @property
    def weights(self) -> int:
        return sum(layer.weights for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @functools.cached_property
    def graph(self) -> NetworkGraph:
        """The op graph (`workloads.graph`); converted from a sequential `Topology`."""
        if isinstance(self.topology, NetworkGraph):
            return self.topology
        return _sequential_graph(self)

    @property
    def layer_weights(self) -> dict | None:
        """The source's own weights by layer name (batch-norm folded), or None."""
        if self.parameters is None:
            return None
        return {layer.name: self.parameters[f"{layer.name}.weight"] for layer in self.layers}

    def layer(self, name: str) -> LayerSpec:
        for spec in self.layers:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.layers)
        raise KeyError(f"network {self.name!r} has no layer {name!r}; its layers: {known}")


def _sequential_graph(network: Network) -> NetworkGraph:
    """The op graph of a sequential built-in: features → avgpool → flatten → classifier."""
    topology = network.topology
    specs = {layer.name: layer for layer in network.layers}
    nodes = [make_node("input", "input", (), network.input_shape)]
    shape = tuple(network.input_shape)

    def add(name: str, op: str, new_shape, source_op: str, **attrs) -> None:
        nonlocal shape
        nodes.append(make_node(name, op, (nodes[-1].name,), new_shape, source_op, **attrs))
        shape = tuple(new_shape)

    for section, ops in (("features", topology.features), ("classifier", topology.classifier)):
        if section == "classifier":
            if topology.avgpool is not None:
                add(
                    "avgpool",
                    "adaptive_avgpool",
                    (shape[0], *topology.avgpool.output_hw),
                    "AdaptiveAvgPool",
                    output_hw=topology.avgpool.output_hw,
                )
            add("flatten", "reshape", (math.prod(shape),), "Flatten")
        for index, op in enumerate(ops):
            path = f"{section}.{index}"
            if isinstance(op, Conv | Linear | LSTMGates):
                spec = specs[op.name]
                kind = {"conv": "conv", "fc": "fc", "lstm": "lstm"}[spec.kind]
                add(op.name, kind, spec.output_shape, type(op).__name__)
            elif isinstance(op, MaxPool):
                h = conv_output_size(shape[1], op.kernel, op.stride, op.padding)
                w = conv_output_size(shape[2], op.kernel, op.stride, op.padding)
                add(
                    path,
                    "maxpool",
                    (shape[0], h, w),
                    "MaxPool",
                    kernel=(op.kernel, op.kernel),
                    stride=(op.stride, op.stride),
                    padding=(op.padding, op.padding),
                )
            elif isinstance(op, ReLU):
                add(path, "relu", shape, "ReLU")
            elif isinstance(op, LocalResponseNorm):
                add(path, "lrn", shape, "LocalResponseNorm", size=op.size)
            elif isinstance(op, Dropout):
                add(path, "identity", shape, "Dropout")
            elif isinstance(op, Flatten):
                add(path, "reshape", (math.prod(shape),), "Flatten")
            else:  # pragma: no cover - a new op kind must be handled here
                raise TypeError(f"unhandled op {op!r}")
    return NetworkGraph(tuple(nodes), nodes[-1].name)
