"""NetworkGraph: a network as a graph of operations — its weight layers and everything between.

Part of `workloads` (DESIGN §2, §8). Every model source (a built-in name, a torch module traced
by `workloads.torch_lowering`, an ONNX file read by `workloads.onnx_lowering`) becomes the same
`Network`: its weight layers as `LayerSpec`s and, here, the graph that connects them, so that
activation shapes and sparsity flow through pooling, residual adds, concatenations and
flattening. The graph is in topological order; node 0 is the input.

Ops (`GRAPH_OPS`), each with its output shape for one inference (no batch dimension):

    input             the network input
    conv, fc          a weight layer (its LayerSpec has the same name); batch-norm that follows
                      a conv/fc and feeds nothing else is folded into it (weights and bias), as
                      deployment does
    lstm              the gate matrix of one LSTM step (the built-in EIE NT-LSTM layer only)
    batchnorm         a per-channel affine y = x·scale + shift that could not be folded
    relu              max(x, 0), clipped at attribute `max` if set (ReLU6: max = 6)
    activation        another element-wise function, attribute `fn`: sigmoid, tanh, silu, gelu,
                      hardswish, hardsigmoid, leaky_relu (`alpha`), elu (`alpha`), softmax
                      (`axis`)
    maxpool, avgpool  windows: kernel, stride, padding, dilation (max only), ceil_mode,
                      count_include_pad (avg only)
    adaptive_avgpool  average over an adaptive grid to `output_hw` (global average pool: (1, 1))
    lrn               local response normalisation (size, alpha, beta, k)
    add, mul          element-wise sum / product of the inputs (broadcast), times / plus an
                      optional scalar `constant`
    concat            concatenation along `axis` (0 = channels)
    reshape           flatten / view to the node's shape (no data moves)
    identity          dropout, identity (nothing at inference)

Where the ops run on the accelerator (`OP_PLACEMENT`; README "Your own network"):
- `engine`: conv, fc (and lstm) — the PE array (compressed, simulated cycle by cycle).
- `pe`: relu (ReLU and ReLU6) — applied by the PE as it writes a destination activation
  back, at no modelled cost (EIE applies ReLU in its PEs; the exact stage is not checked
  against the paper here).
- `free`: reshape, identity, concat (the producers write their channels next to each other
  in the activation storage), folded batch-norm — nothing to compute.
- `host`: pooling, residual add, element-wise mul, other activation functions, an unfolded
  batch-norm, LRN — outside the engine and *not modelled* (no cycles, no energy). Results
  count them (`host_ops`, `host_op_elements`) so the gap is visible, never hidden.

Synthetic sparsity flow (`synthetic_input_densities`), used when activations are not measured:
the network input is dense; a conv/fc output is dense (a sum of products); a ReLU output has
the stated density d (the same knob as for the built-in networks; a ReLU of an already sparse
input keeps min(d, its density)); other activations and batch-norm give dense outputs;
pooling keeps its input's density (zeros come in spatial clusters, not independently: EIE's
published densities, Table III, are 35.1 % at AlexNet's fc6 input, after a 3×3 max-pool, and
35.3 % at fc7's, straight after a ReLU); an add is non-zero unless every input is
(1 − Π(1 − x_i), inputs independent); a mul is non-zero only where every input is (Π x_i); a
concat is the element-weighted mean; reshape, identity and LRN keep their input's density. A
layer's input density is that of the node feeding it. Measured activations (`--data`) replace
all of this.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

GRAPH_OPS: tuple[str, ...] = (
    "input",
    "conv",
    "fc",
    "lstm",
    "batchnorm",
    "relu",
    "activation",
    "maxpool",
    "avgpool",
    "adaptive_avgpool",
    "lrn",
    "add",
    "mul",
    "concat",
    "reshape",
    "identity",
)
ACTIVATION_FUNCTIONS: tuple[str, ...] = (
    "sigmoid",
    "tanh",
    "silu",
    "gelu",
    "hardswish",
    "hardsigmoid",
    "leaky_relu",
    "elu",
    "softmax",
)
OP_PLACEMENT: dict[str, str] = {
    "input": "free",
    "conv": "engine",
    "fc": "engine",
    "lstm": "engine",
    "relu": "pe",
    "reshape": "free",
    "identity": "free",
    "concat": "free",
    "batchnorm": "host",
    "activation": "host",
    "maxpool": "host",
    "avgpool": "host",
    "adaptive_avgpool": "host",
    "lrn": "host",
    "add": "host",
    "mul": "host",
}
WEIGHT_OPS: tuple[str, ...] = ("conv", "fc", "lstm")


@dataclass(frozen=True)
class GraphNode:
    """One operation: `inputs` are the names of the nodes it reads, `shape` its output for one
    inference (no batch dimension), `attrs` its attributes as sorted (key, value) pairs, and
    `source_op` what it was in the model source (e.g. `Conv`, `torch.nn.MaxPool2d`)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    shape: tuple[int, ...]
    attrs: tuple[tuple[str, object], ...] = ()
    source_op: str = ""

    def __post_init__(self) -> None:
        if self.op not in GRAPH_OPS:
            raise ValueError(
                f"node {self.name!r}: op={self.op!r} is invalid; allowed: {', '.join(GRAPH_OPS)}"
            )

    def attr(self, key: str, default: object = None) -> object:
        for name, value in self.attrs:
            if name == key:
                return value
        return default

    @property
    def elements(self) -> int:
        """Values in the node's output for one inference."""
        return math.prod(self.shape)

    @property
    def placement(self) -> str:
        """Where the op runs: engine, pe, free or host (module docstring)."""
        return OP_PLACEMENT[self.op]


def make_node(
    name: str,
    op: str,
    inputs: tuple[str, ...] | list[str],
    shape: tuple[int, ...] | list[int],
    source_op: str = "",
    **attrs: object,
) -> GraphNode:
    """A GraphNode with its attributes given as keywords (None values are dropped)."""
    pairs = tuple(sorted((k, v) for k, v in attrs.items() if v is not None))
    return GraphNode(name, op, tuple(inputs), tuple(int(d) for d in shape), pairs, source_op)


@dataclass(frozen=True)
class NetworkGraph:
    """Nodes in topological order (node 0 is the input) and the name of the output node."""

    nodes: tuple[GraphNode, ...]
    output: str

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for index, node in enumerate(self.nodes):
            if (node.op == "input") != (index == 0):
                raise ValueError(f"graph: node {node.name!r} — the input must be node 0, once")
            if node.name in seen:
                raise ValueError(f"graph: node name {node.name!r} appears twice")
            for source in node.inputs:
                if source not in seen:
                    raise ValueError(
                        f"graph: node {node.name!r} reads {source!r} before it is computed"
                    )
            seen.add(node.name)
        if self.output not in seen:
            raise ValueError(f"graph: output {self.output!r} is not a node")

    @property
    def input(self) -> GraphNode:
        return self.nodes[0]

    def node(self, name: str) -> GraphNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"graph has no node {name!r}")

    def weight_nodes(self) -> tuple[GraphNode, ...]:
        return tuple(node for node in self.nodes if node.op in WEIGHT_OPS)

    def consumers(self) -> dict[str, list[str]]:
        """Node name → names of the nodes that read it."""
        out: dict[str, list[str]] = {node.name: [] for node in self.nodes}
        for node in self.nodes:
            for source in node.inputs:
                out[source].append(node.name)
        return out


def fold_batchnorm(
    nodes: list[GraphNode], specs: dict, params: dict, affines: dict
) -> tuple[list[GraphNode], dict[str, str]]:
    """Fold every batch-norm node into the conv/fc that feeds it and nothing else, as
    deployment does: with scale = γ/√(σ² + ε) and shift = β − μ·scale (`affines[node]`),
    W' = W·scale per output channel and b' = b·scale + shift, updated in `params`
    (`<layer>.weight`, `<layer>.bias`). A batch-norm that cannot be folded stays a `batchnorm`
    node with `<node>.scale` / `<node>.shift` in `params`. Returns the nodes and a map from
    each folded batch-norm's name to its layer (readers of the batch-norm now read the layer).
    """
    consumers: Counter = Counter(source for node in nodes for source in node.inputs)
    renamed: dict[str, str] = {}
    out = []
    for node in nodes:
        node = GraphNode(
            node.name,
            node.op,
            tuple(renamed.get(i, i) for i in node.inputs),
            node.shape,
            node.attrs,
            node.source_op,
        )
        if node.op == "batchnorm":
            scale, shift = (np.asarray(a, dtype=np.float64) for a in affines[node.name])
            source = node.inputs[0]
            spec = specs.get(source)
            if spec is not None and consumers[source] == 1 and scale.size == spec.out_channels:
                weight = np.asarray(params[f"{source}.weight"], dtype=np.float64)
                bias = params.get(f"{source}.bias")
                bias = np.zeros(spec.out_channels) if bias is None else bias.astype(np.float64)
                view = (-1,) + (1,) * (weight.ndim - 1)
                params[f"{source}.weight"] = (weight * scale.reshape(view)).astype(np.float32)
                params[f"{source}.bias"] = (bias * scale + shift).astype(np.float32)
                renamed[node.name] = source
                continue
            params[f"{node.name}.scale"] = scale.astype(np.float32)
            params[f"{node.name}.shift"] = shift.astype(np.float32)
        out.append(node)
    return out, renamed


def host_op_summary(graph: NetworkGraph) -> tuple[str, int, int]:
    """(summary such as "add×8, maxpool×1", number of host ops, their output elements): the
    weight-free ops that run outside the engine and are not modelled (module docstring)."""
    host = [node for node in graph.nodes if node.placement == "host"]
    counts = Counter(node.op for node in host)
    summary = ", ".join(f"{op}×{count}" for op, count in sorted(counts.items()))
    return summary, len(host), sum(node.elements for node in host)


def synthetic_node_densities(graph: NetworkGraph, relu_density: float) -> dict[str, float]:
    """Expected density of every node's output under the rules of the module docstring."""
    if not 0.0 <= relu_density <= 1.0:
        raise ValueError(f"activation density={relu_density!r} is invalid; allowed: [0, 1]")
    density: dict[str, float] = {}
    shapes = {node.name: node.shape for node in graph.nodes}
    for node in graph.nodes:
        ins = [density[name] for name in node.inputs]
        if node.op in ("input", "conv", "fc", "lstm", "batchnorm", "activation"):
            value = 1.0
        elif node.op == "relu":
            value = min(relu_density, ins[0])
        elif node.op == "add":
            value = 1.0 - math.prod(1.0 - x for x in ins)
            if node.attr("constant", 0.0) != 0.0:
                value = 1.0
        elif node.op == "mul":
            value = math.prod(ins) if node.attr("constant", 1.0) != 0.0 else 0.0
        elif node.op == "concat":
            sizes = [math.prod(shapes[name]) for name in node.inputs]
            value = sum(x * n for x, n in zip(ins, sizes)) / sum(sizes)
        else:  # pooling, reshape, identity, lrn
            value = ins[0]
        density[node.name] = float(value)
    return density


def synthetic_input_densities(graph: NetworkGraph, relu_density: float) -> dict[str, float]:
    """Expected input density of every weight layer (by layer name), module docstring rules."""
    density = synthetic_node_densities(graph, relu_density)
    return {node.name: density[node.inputs[0]] for node in graph.weight_nodes()}
