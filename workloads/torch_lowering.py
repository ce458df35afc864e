"""Lowering a torch module to a `Network`: torch.fx tracing → LayerSpecs + `NetworkGraph`.

Part of `workloads` (DESIGN §8, "any model in"). `workloads.torch_tracing` traces the module
with torch.fx and records every node's output shape for one input of `input_shape`; here the
traced graph is walked in order and each node with a tensor output is lowered to graph ops
(`workloads.graph`) by `workloads.torch_node_lowering` (which lists the torch ops dcsim
lowers, and to what) into a `workloads.torch_graph_builder.TorchGraphBuilder`. Then:

- `nn.BatchNorm1d/2d` is folded into the conv/fc that feeds it (and nothing else), as
  deployment does: W' = W·γ/√(σ² + ε) per output channel, b' = (b − μ)·γ/√(σ² + ε) + β;
  otherwise it stays an unfolded `batchnorm` op.
- The layer specs come in graph order; layer names are module paths (`layer1.0.conv1`), the
  names recipe globs match.
Anything the lowering does not cover is a one-line `LoweringError` naming the node and its op
type, as is a module with no conv or linear layer. The module's own parameters (in eval mode:
batch-norm running statistics) become `Network.parameters`.
"""

from __future__ import annotations

import numpy as np
from torch import fx, nn

from workloads.graph import NetworkGraph, fold_batchnorm, make_node
from workloads.layer_spec import LayerSpec
from workloads.torch_graph_builder import TorchGraphBuilder
from workloads.torch_node_lowering import lower_node
from workloads.torch_tracing import (
    LoweringError,
    is_tensor_node,
    node_shape,
    trace,
)


def lower_module(
    module: nn.Module, input_shape: tuple[int, ...], where: str = "model"
) -> tuple[tuple[LayerSpec, ...], NetworkGraph, dict[str, np.ndarray], dict[str, str]]:
    """(layer specs, graph, parameters, module paths) of `module` for one input of
    `input_shape` (module docstring). `where` names the source in error messages."""
    was_training = module.training
    module.eval()
    try:
        traced = trace(module, tuple(input_shape), where)
        modules = dict(traced.named_modules())
        params = {**dict(traced.named_parameters()), **dict(traced.named_buffers())}
        b = TorchGraphBuilder(where, modules)
        output = None
        for node in traced.graph.nodes:
            if node.op == "placeholder":
                b.nodes.append(make_node("input", "input", (), node_shape(node)[1:], "input"))
                b.names[node] = "input"
            elif node.op == "get_attr":
                continue  # a parameter read by F.conv2d / F.linear (handled there)
            elif node.op == "output":
                results = node.args[0]
                first = results
                while isinstance(first, list | tuple | dict):
                    first = next(iter(first.values() if isinstance(first, dict) else first))
                if not isinstance(first, fx.Node) or first not in b.names:
                    raise LoweringError(f"{where}: the module returns no tensor")
                output = b.names[first]
            elif not is_tensor_node(node):
                if node.op == "call_module":
                    raise b.fail(node, "a module without a tensor output")
                continue  # shape arithmetic (x.size(0), ...)
            else:
                lower_node(node, b, params)
    finally:
        module.train(was_training)
    nodes, renamed = fold_batchnorm(b.nodes, b.specs, b.params, b.batchnorms)
    output = renamed.get(output, output)
    if not b.specs:
        raise LoweringError(f"{where}: the module has no conv or linear layer to run on the engine")
    graph = NetworkGraph(tuple(nodes), output)
    order = [node.name for node in graph.weight_nodes()]
    specs = tuple(b.specs[name] for name in order)
    paths = {name: name for name in order}
    return specs, graph, b.params, paths


__all__ = ["LoweringError", "lower_module", "trace"]
