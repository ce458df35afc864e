"""A torch module's network under construction: graph nodes, layer specs and parameters.

Part of `workloads` (DESIGN §8, "any model in"), between `workloads.torch_tracing` (the traced
fx graph, every node's output shape) and `workloads.torch_lowering` (the walk over that graph).
`workloads.torch_node_lowering` turns each traced node into graph ops through a
`TorchGraphBuilder`: `add` appends a graph op (`workloads.graph`) named after its module path
or fx node name (`name:2`, `name:3`, ... for a module called again); `weight_layer` appends a
conv or fc with its `LayerSpec` and its weights (float32) as parameters; `fail` makes the
one-line `LoweringError` naming the node and its op type. Batch-norm affines wait in
`batchnorms` for `workloads.graph.fold_batchnorm`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import fx

from workloads.graph import GraphNode, make_node
from workloads.layer_spec import LayerSpec
from workloads.torch_tracing import LoweringError, node_label, node_shape, op_type


class TorchGraphBuilder:
    """Accumulates graph nodes, layer specs and parameters while walking the fx graph."""

    def __init__(self, where: str, modules: dict):
        self.where = where
        self.modules = modules
        self.nodes: list[GraphNode] = []
        self.specs: dict[str, LayerSpec] = {}
        self.params: dict[str, np.ndarray] = {}
        self.batchnorms: dict[str, tuple] = {}  # node name -> (scale, shift) arrays
        self.names: dict[fx.Node, str] = {}  # fx node -> graph node name
        self.used_modules: set[str] = set()

    def fail(self, node: fx.Node, what: str) -> LoweringError:
        return LoweringError(
            f"{self.where}: node {node_label(node)!r} ({op_type(node, self.modules)}): {what}"
        )

    def tensor_inputs(self, node: fx.Node) -> list[fx.Node]:
        flat: list = []
        for arg in (*node.args, *node.kwargs.values()):
            if isinstance(arg, list | tuple):
                flat.extend(arg)
            else:
                flat.append(arg)
        return [a for a in flat if isinstance(a, fx.Node) and a in self.names]

    def add(self, node: fx.Node, op: str, inputs: list[fx.Node], **attrs) -> str:
        name = str(node.target) if node.op == "call_module" else node.name
        taken = {n.name for n in self.nodes}
        base, count = name, 1
        while name in taken:  # a module called more than once (e.g. a block's shared ReLU)
            count += 1
            name = f"{base}:{count}"
        self.nodes.append(
            make_node(
                name,
                op,
                [self.names[i] for i in inputs],
                node_shape(node)[1:],
                op_type(node, self.modules),
                **attrs,
            )
        )
        self.names[node] = name
        return name

    def weight_layer(self, node, name, x, weight, bias, kind, **conv) -> None:
        if name in self.specs:
            raise self.fail(node, f"weights {name!r} are used twice; allowed: each layer once")
        in_shape, out_shape = node_shape(x)[1:], node_shape(node)[1:]
        weight = weight.detach().to(torch.float32).cpu().numpy()
        if kind == "conv":
            if len(in_shape) != 3:
                raise self.fail(node, f"input of shape {in_shape}; allowed: (C, H, W)")
            spec = LayerSpec(
                name=name,
                kind="conv",
                in_channels=in_shape[0],
                out_channels=out_shape[0],
                kernel=tuple(weight.shape[2:]),
                stride=conv["stride"],
                padding=conv["padding"],
                groups=conv["groups"],
                input_hw=tuple(in_shape[1:]),
                dilation=conv["dilation"],
            )
        else:
            if len(in_shape) != 1:
                raise self.fail(
                    node, f"a linear layer over a tensor of shape {in_shape}; allowed: (features,)"
                )
            spec = LayerSpec(
                name=name, kind="fc", in_channels=in_shape[0], out_channels=out_shape[0]
            )
        if tuple(spec.output_shape) != tuple(out_shape):
            raise self.fail(
                node, f"output {out_shape} differs from the layer's {spec.output_shape}"
            )
        self.specs[name] = spec
        self.params[f"{name}.weight"] = weight.reshape(spec.weight_shape)
        if bias is not None:
            self.params[f"{name}.bias"] = bias.detach().to(torch.float32).cpu().numpy()
        self.nodes.append(
            make_node(name, kind, [self.names[x]], out_shape, op_type(node, self.modules))
        )
        self.names[node] = name


__all__ = ["TorchGraphBuilder"]
