"""GraphModule: a torch module that runs a `NetworkGraph` with given weights.

Part of `workloads` (DESIGN §2, §8). Every model source lowers to the same graph
(`workloads.graph`); this module executes it, so that

- activations can be measured on real images with forward hooks for *any* source — an ONNX
  file has no torch module of its own — and for the compressed network (its dequantized,
  batch-norm-folded weights), which is what the accelerator actually sees
  (`capture_graph_inputs`);
- the lowering is checked end to end: the graph run with the source's own parameters must
  give the source model's output (tests).

Weight layers are `nn.Conv2d` / `nn.Linear` sub-modules (in `GraphModule.layers`, keyed by
layer name), so hooks see exactly the tensor entering each layer. Inputs are batches
(N, *input_shape); every node's shape is per inference.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workloads.graph import GraphNode


def _module_key(name: str) -> str:
    """A ModuleDict key for a layer name (dots are not allowed in module names)."""
    return name.replace(".", "\u2024")


def _activation(node: GraphNode, x: torch.Tensor) -> torch.Tensor:
    fn = node.attr("fn")
    if fn == "sigmoid":
        return torch.sigmoid(x)
    if fn == "tanh":
        return torch.tanh(x)
    if fn == "silu":
        return F.silu(x)
    if fn == "gelu":
        return F.gelu(x, approximate=str(node.attr("approximate", "none")))
    if fn == "hardswish":
        return F.hardswish(x)
    if fn == "hardsigmoid":
        return F.hardsigmoid(x)
    if fn == "leaky_relu":
        return F.leaky_relu(x, float(node.attr("alpha", 0.01)))
    if fn == "elu":
        return F.elu(x, float(node.attr("alpha", 1.0)))
    if fn == "softmax":
        return torch.softmax(x, dim=int(node.attr("axis")) + 1)
    raise ValueError(f"node {node.name!r}: activation fn={fn!r} is not supported")


class GraphModule(nn.Module):
    """Runs `network.graph` with `weights` (layer name → array of the layer's weight shape;
    default: the network's own) and biases (layer name → array; default: the network's own,
    else zero). Unfolded batch-norm nodes take `<node>.scale` / `<node>.shift` from
    `network.parameters`."""

    def __init__(self, network, weights: Mapping | None = None, biases: Mapping | None = None):
        super().__init__()
        own = network.parameters or {}
        if weights is None:
            weights = network.layer_weights
            if weights is None:
                raise ValueError(
                    f"network {network.name!r} has no weights of its own; allowed: pass weights"
                )
        self.graph = network.graph
        self.layers = nn.ModuleDict()
        specs = {layer.name: layer for layer in network.layers}
        for node in self.graph.weight_nodes():
            spec = specs[node.name]
            weight = torch.tensor(np.asarray(weights[node.name], dtype=np.float32))
            bias = None
            if biases is not None and node.name in biases:
                bias = biases[node.name]
            elif f"{node.name}.bias" in own:
                bias = own[f"{node.name}.bias"]
            if spec.kind == "conv":
                module = nn.Conv2d(
                    spec.in_channels,
                    spec.out_channels,
                    spec.kernel,
                    stride=spec.stride,
                    padding=spec.padding,
                    dilation=spec.dilation,
                    groups=spec.groups,
                    bias=bias is not None,
                )
            else:
                module = nn.Linear(spec.in_channels, spec.out_channels, bias=bias is not None)
            with torch.no_grad():
                module.weight.copy_(weight.reshape(module.weight.shape))
                if bias is not None:
                    module.bias.copy_(torch.as_tensor(np.asarray(bias, dtype=np.float32)))
            self.layers[_module_key(node.name)] = module
        self._batchnorm: dict[str, tuple[str, str]] = {}
        for node in self.graph.nodes:
            if node.op == "batchnorm":
                names = (f"bn{len(self._batchnorm)}_scale", f"bn{len(self._batchnorm)}_shift")
                for buffer, part in zip(names, ("scale", "shift")):
                    tensor = torch.as_tensor(np.asarray(own[f"{node.name}.{part}"], np.float32))
                    self.register_buffer(buffer, tensor)
                self._batchnorm[node.name] = names
        consumers = self.graph.consumers()
        order = {node.name: index for index, node in enumerate(self.graph.nodes)}
        self._last_use = {
            name: max((order[c] for c in users), default=len(self.graph.nodes))
            for name, users in consumers.items()
        }
        self._last_use[self.graph.output] = len(self.graph.nodes)

    def layer_module(self, name: str) -> nn.Module:
        """The nn.Conv2d / nn.Linear of weight layer `name`."""
        return self.layers[_module_key(name)]

    def _run(self, node: GraphNode, args: list[torch.Tensor]) -> torch.Tensor:
        op = node.op
        x = args[0] if args else None
        batch = x.shape[0] if x is not None else 1
        if op in ("conv", "fc", "lstm"):
            return self.layers[_module_key(node.name)](x)
        if op == "relu":
            limit = node.attr("max")
            return torch.clamp(x, min=0.0, max=None if limit is None else float(limit))
        if op == "activation":
            return _activation(node, x)
        if op == "batchnorm":
            scale, shift = (getattr(self, name) for name in self._batchnorm[node.name])
            view = (1, -1) + (1,) * (x.dim() - 2)
            return x * scale.view(view) + shift.view(view)
        if op == "maxpool":
            return F.max_pool2d(
                x,
                node.attr("kernel"),
                node.attr("stride"),
                node.attr("padding", (0, 0)),
                node.attr("dilation", (1, 1)),
                ceil_mode=bool(node.attr("ceil_mode", False)),
            )
        if op == "avgpool":
            return F.avg_pool2d(
                x,
                node.attr("kernel"),
                node.attr("stride"),
                node.attr("padding", (0, 0)),
                ceil_mode=bool(node.attr("ceil_mode", False)),
                count_include_pad=bool(node.attr("count_include_pad", True)),
            )
        if op == "adaptive_avgpool":
            return F.adaptive_avg_pool2d(x, node.attr("output_hw"))
        if op == "lrn":
            return F.local_response_norm(
                x,
                int(node.attr("size")),
                alpha=float(node.attr("alpha", 1e-4)),
                beta=float(node.attr("beta", 0.75)),
                k=float(node.attr("k", 1.0)),
            )
        if op == "add":
            out = args[0]
            for other in args[1:]:
                out = out + other
            constant = node.attr("constant")
            return out if constant is None else out + float(constant)
        if op == "mul":
            out = args[0]
            for other in args[1:]:
                out = out * other
            constant = node.attr("constant")
            return out if constant is None else out * float(constant)
        if op == "concat":
            return torch.cat(args, dim=int(node.attr("axis", 0)) + 1)
        if op == "reshape":
            return x.reshape(batch, *node.shape)
        if op == "identity":
            return x
        raise ValueError(f"node {node.name!r}: op {op!r} cannot be executed")  # pragma: no cover

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {self.graph.nodes[0].name: x}
        for index, node in enumerate(self.graph.nodes[1:], start=1):
            values[node.name] = self._run(node, [values[name] for name in node.inputs])
            for name in node.inputs:  # free what no later node reads
                if self._last_use[name] <= index and name in values:
                    del values[name]
        return values[self.graph.output]


def capture_graph_inputs(module: GraphModule, network, inputs: torch.Tensor) -> dict:
    """Run `module` on `inputs` (N, *input_shape) and return each weight layer's input as a
    float32 array (N, *layer input shape), by layer name."""
    captured: dict[str, np.ndarray] = {}
    handles = []

    def hook_for(name: str):
        def hook(_module: nn.Module, args: tuple) -> None:
            captured[name] = args[0].detach().to(torch.float32).cpu().numpy().copy()

        return hook

    for layer in network.layers:
        handles.append(
            module.layer_module(layer.name).register_forward_pre_hook(hook_for(layer.name))
        )
    module.eval()
    try:
        with torch.no_grad():
            module(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return {layer.name: captured[layer.name] for layer in network.layers}
