"""Lowering an ONNX file to a `Network`: LayerSpecs + `NetworkGraph`, initializers as weights.

Part of `workloads` (DESIGN §8, "any model in"). `workloads.onnx_reading` loads and checks the
file and infers its shapes (the `onnx` package only: no onnxruntime, no code execution); here
each ONNX node becomes a graph op (`workloads.graph`):

- Conv (2-D; groups, depthwise and dilation; explicit or SAME/VALID padding, symmetric) →
  conv; Gemm (transA = 0, alpha / beta folded), MatMul by a constant matrix → fc, a following
  Add of a constant vector folded into its bias.
- BatchNormalization → folded into the Conv/Gemm feeding it (and nothing else), as
  deployment does; otherwise an unfolded `batchnorm` op. (torch's exporter in eval mode has
  usually folded it already.)
- Relu, Clip(0, max) → relu; Sigmoid, Tanh, HardSigmoid (torch's α = 1/6), HardSwish,
  LeakyRelu, Elu, Gelu, Softmax → activation; MaxPool, AveragePool, GlobalAveragePool,
  GlobalMaxPool, ReduceMean over H and W, LRN, Add / Mul (of two tensors, or by a scalar;
  Sub / Div by a scalar), Concat, Flatten / Reshape / Squeeze / Unsqueeze, Dropout, Identity
  → their graph ops.
- Constant and Identity-of-constant nodes are constants; nodes whose outputs are integer
  tensors (Shape, Gather, Concat of shapes, …) are shape arithmetic, whose effect the inferred
  shapes already carry.
Anything else is a one-line error naming the node and its op type.

Layer names: torch's exporter names nodes by module scope (`/layer1/layer1.0/conv1/Conv`);
those scopes are turned back into module paths (`layer1.0.conv1`), so an ONNX export and the
module it came from have the same layer names (and recipe globs match both). Other files use
the weight initializer's name (minus `.weight`), else the node name, else `<op>_<index>`.
"""

from __future__ import annotations

import numpy as np

from workloads.graph import GraphNode, NetworkGraph, fold_batchnorm, make_node
from workloads.layer_spec import LayerSpec
from workloads.onnx_reading import (
    FLOAT_TYPES,
    OnnxError,
    attributes,
    fix_input,
    infer_shapes,
    load_onnx,
    value_dims,
)


def _scope_path(node_name: str) -> str | None:
    """`/layer1/layer1.0/conv1/Conv` → `layer1.0.conv1` (torch exporter scopes), else None."""
    if not node_name.startswith("/"):
        return None
    parts = [p for p in node_name.split("/") if p][:-1]
    stack: list[str] = []
    for part in parts:
        if stack and part.startswith(stack[-1] + "."):
            stack[-1] = part  # a Sequential child, named after its parent
        else:
            stack.append(part)
    return ".".join(stack) or None


class _Lowering:
    def __init__(self, model, path: str, input_name: str, input_shape):
        from onnx import numpy_helper

        self.path = path
        self.graph = model.graph
        self.constants: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in model.graph.initializer
        }
        self.shapes: dict[str, list] = {}
        self.types: dict[str, int] = {}
        for info in [*model.graph.value_info, *model.graph.output, *model.graph.input]:
            self.shapes[info.name] = value_dims(info)
            self.types[info.name] = info.type.tensor_type.elem_type
        self.names: dict[str, str] = {input_name: "input"}  # tensor -> graph node name
        self.nodes: list[GraphNode] = [make_node("input", "input", (), input_shape, "input")]
        self.specs: dict[str, LayerSpec] = {}
        self.params: dict[str, np.ndarray] = {}
        self.affines: dict[str, tuple] = {}
        self.layer_names: set[str] = set()
        self.readers: dict[str, int] = {}
        for node in model.graph.node:
            for name in node.input:
                self.readers[name] = self.readers.get(name, 0) + 1
        for output in model.graph.output:
            self.readers[output.name] = self.readers.get(output.name, 0) + 1

    def fail(self, node, what: str) -> OnnxError:
        label = node.name or node.output[0]
        return OnnxError(f"network={self.path!r}: node {label!r} ({node.op_type}): {what}")

    def shape(self, node, tensor: str) -> tuple[int, ...]:
        dims = self.shapes.get(tensor)
        if dims is None or any(not (isinstance(d, int) and d > 0) for d in dims):
            raise self.fail(node, f"no inferred shape for {tensor!r}")
        if dims[0] != 1:
            raise self.fail(node, f"output shape {dims} mixes the batch dimension")
        return tuple(dims[1:])

    def const(self, node, index: int, what: str) -> np.ndarray:
        if index >= len(node.input) or not node.input[index]:
            raise self.fail(node, f"missing {what}")
        name = node.input[index]
        if name not in self.constants:
            raise self.fail(node, f"{what} {name!r} is not a constant; allowed: an initializer")
        return self.constants[name]

    def optional_const(self, node, index: int):
        if index < len(node.input) and node.input[index]:
            return self.const(node, index, "operand")
        return None

    def tensor(self, node, index: int) -> str:
        name = node.input[index]
        if name not in self.names:
            raise self.fail(node, f"input {name!r} is neither a graph tensor nor supported")
        return self.names[name]

    def add(self, node, op: str, inputs: list[str], name: str | None = None, **attrs) -> str:
        name = name or node.name or f"{node.op_type.lower()}_{len(self.nodes)}"
        while any(n.name == name for n in self.nodes):
            name += "_"
        shape = self.shape(node, node.output[0])
        self.nodes.append(make_node(name, op, inputs, shape, node.op_type, **attrs))
        self.names[node.output[0]] = name
        return name

    def layer_name(self, node, weight_name: str) -> str:
        name = _scope_path(node.name)
        if name is None and weight_name.endswith(".weight") and "::" not in weight_name:
            name = weight_name.removesuffix(".weight")
        if name is None:
            name = node.name or f"{node.op_type.lower()}_{len(self.nodes)}"
        base, count = name, 1
        while name in self.layer_names:
            count += 1
            name = f"{base}_{count}"
        self.layer_names.add(name)
        return name

    def weight_layer(self, node, x: str, weight: np.ndarray, bias, kind: str, **conv) -> None:
        in_shape = self.nodes_by_name(x).shape
        out_shape = self.shape(node, node.output[0])
        name = self.layer_name(node, node.input[1])
        if kind == "conv":
            if len(in_shape) != 3:
                raise self.fail(node, f"input of shape {in_shape}; allowed: (C, H, W)")
            spec = LayerSpec(
                name=name,
                kind="conv",
                in_channels=in_shape[0],
                out_channels=out_shape[0],
                kernel=tuple(int(k) for k in weight.shape[2:]),
                input_hw=tuple(in_shape[1:]),
                **conv,
            )
        else:
            if len(in_shape) != 1:
                raise self.fail(
                    node, f"a matrix product over a tensor of shape {in_shape}; allowed: (F,)"
                )
            spec = LayerSpec(
                name=name, kind="fc", in_channels=in_shape[0], out_channels=out_shape[0]
            )
        if tuple(spec.output_shape) != tuple(out_shape):
            raise self.fail(
                node, f"output {out_shape} differs from the layer's {spec.output_shape}"
            )
        self.specs[name] = spec
        self.params[f"{name}.weight"] = np.asarray(weight, np.float32).reshape(spec.weight_shape)
        if bias is not None:
            self.params[f"{name}.bias"] = np.broadcast_to(
                np.asarray(bias, np.float32).reshape(-1), (spec.out_channels,)
            ).copy()
        self.nodes.append(make_node(name, kind, [x], out_shape, node.op_type))
        self.names[node.output[0]] = name

    def nodes_by_name(self, name: str) -> GraphNode:
        for node in reversed(self.nodes):
            if node.name == name:
                return node
        raise KeyError(name)  # pragma: no cover


def _pads(lowering: _Lowering, node, attrs, in_hw, kernel, stride, dilation) -> tuple[int, int]:
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        totals = []
        for size, k, s, d in zip(in_hw, kernel, stride, dilation):
            out = -(-size // s)
            totals.append(max(0, (out - 1) * s + d * (k - 1) + 1 - size))
        if any(t % 2 for t in totals):
            raise lowering.fail(node, f"auto_pad={auto} pads asymmetrically; allowed: symmetric")
        return tuple(t // 2 for t in totals)
    if auto == "VALID":
        return (0, 0)
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4 or pads[0] != pads[2] or pads[1] != pads[3]:
        raise lowering.fail(node, f"pads={pads}; allowed: symmetric [h, w, h, w]")
    return (int(pads[0]), int(pads[1]))


def _pool(lowering: _Lowering, node, attrs, op: str) -> None:
    x = lowering.tensor(node, 0)
    in_shape = lowering.nodes_by_name(x).shape
    kernel = tuple(int(k) for k in attrs["kernel_shape"])
    if len(kernel) != 2 or len(in_shape) != 3:
        raise lowering.fail(node, f"kernel_shape={kernel}; allowed: 2-D pooling of (C, H, W)")
    stride = tuple(int(s) for s in attrs.get("strides", [1, 1]))
    dilation = tuple(int(d) for d in attrs.get("dilations", [1, 1]))
    padding = _pads(lowering, node, attrs, in_shape[1:], kernel, stride, dilation)
    extra = {"ceil_mode": bool(attrs.get("ceil_mode", 0))}
    if op == "maxpool":
        extra["dilation"] = dilation
    else:
        if dilation != (1, 1):
            raise lowering.fail(node, f"dilations={dilation}; allowed: 1")
        extra["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
    lowering.add(node, op, [x], kernel=kernel, stride=stride, padding=padding, **extra)


def _binary(lowering: _Lowering, node) -> None:
    op_type = node.op_type
    tensors = [i for i in node.input if i in lowering.names]
    consts = [i for i in node.input if i in lowering.constants]
    if len(tensors) == 2 and op_type in ("Add", "Mul"):
        lowering.add(node, op_type.lower(), [lowering.names[t] for t in tensors])
        return
    if len(tensors) != 1 or len(consts) != 1:
        raise lowering.fail(
            node, "operands; allowed: two graph tensors (Add, Mul) or a tensor and a constant"
        )
    value = np.asarray(lowering.constants[consts[0]], dtype=np.float64)
    source = lowering.names[tensors[0]]
    tensor_first = node.input[0] == tensors[0]
    if value.size == 1:
        c = float(value.reshape(-1)[0])
        if op_type == "Sub":
            if not tensor_first:
                raise lowering.fail(node, "number − tensor; allowed: tensor − number")
            op_type, c = "Add", -c
        if op_type == "Div":
            if not tensor_first or c == 0:
                raise lowering.fail(node, "a division by a tensor or zero; allowed: / number")
            op_type, c = "Mul", 1.0 / c
        op = op_type.lower()
        lowering.add(node, op, [source], constant=None if (op == "add" and c == 0) else c)
        return
    spec = lowering.specs.get(source)
    if (
        op_type == "Add"
        and spec is not None
        and lowering.readers.get(tensors[0], 0) == 1
        and value.size == spec.out_channels
        and lowering.nodes[-1].name == source
    ):  # the bias of a MatMul / bias-less Conv exported as a separate Add
        bias = lowering.params.get(f"{source}.bias")
        lowering.params[f"{source}.bias"] = (
            value.reshape(-1) + (0 if bias is None else bias)
        ).astype(np.float32)
        lowering.names[node.output[0]] = source
        return
    raise lowering.fail(
        node,
        f"a constant operand of shape {value.shape}; allowed: a scalar, or "
        "a bias vector right after a MatMul / Conv",
    )


_ACTIVATIONS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish"}
_SHAPE_OPS = {"Shape", "Gather", "Cast", "Slice", "Range", "ConstantOfShape", "Size"}


def _lower_node(lowering: _Lowering, node) -> None:
    op, attrs = node.op_type, attributes(node)
    if op == "Constant":
        from onnx import numpy_helper

        if "value" not in attrs:
            raise lowering.fail(node, "a Constant without a tensor value")
        lowering.constants[node.output[0]] = numpy_helper.to_array(attrs["value"])
        return
    if op in ("Identity", "Dropout") and node.input[0] in lowering.constants:
        lowering.constants[node.output[0]] = lowering.constants[node.input[0]]
        return
    out_types = [lowering.types.get(o) for o in node.output if o]
    if op in _SHAPE_OPS or (out_types and all(t and t not in FLOAT_TYPES for t in out_types)):
        if any(o in lowering.readers and lowering.types.get(o) in FLOAT_TYPES for o in node.output):
            raise lowering.fail(node, "unsupported op on activations")
        return  # shape arithmetic: its effect is in the inferred shapes
    if op == "Conv":
        weight = lowering.const(node, 1, "weight")
        if weight.ndim != 4:
            raise lowering.fail(node, f"a {weight.ndim - 2}-D convolution; allowed: 2-D")
        x = lowering.tensor(node, 0)
        kernel = tuple(int(k) for k in weight.shape[2:])
        stride = tuple(int(s) for s in attrs.get("strides", [1, 1]))
        dilation = tuple(int(d) for d in attrs.get("dilations", [1, 1]))
        in_hw = lowering.nodes_by_name(x).shape[1:]
        padding = _pads(lowering, node, attrs, in_hw, kernel, stride, dilation)
        lowering.weight_layer(
            node,
            x,
            weight,
            lowering.optional_const(node, 2),
            "conv",
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=int(attrs.get("group", 1)),
        )
        return
    if op == "Gemm":
        if attrs.get("transA", 0):
            raise lowering.fail(node, "transA=1; allowed: 0")
        b = np.asarray(lowering.const(node, 1, "weight"), np.float64)
        weight = (b if attrs.get("transB", 0) else b.T) * float(attrs.get("alpha", 1.0))
        c = lowering.optional_const(node, 2)
        bias = None if c is None else np.asarray(c, np.float64) * float(attrs.get("beta", 1.0))
        lowering.weight_layer(node, lowering.tensor(node, 0), weight, bias, "fc")
        return
    if op == "MatMul":
        b = lowering.const(node, 1, "weight")
        if b.ndim != 2:
            raise lowering.fail(node, f"a constant operand of rank {b.ndim}; allowed: a matrix")
        lowering.weight_layer(node, lowering.tensor(node, 0), np.asarray(b).T, None, "fc")
        return
    if op == "BatchNormalization":
        scale, shift, mean, var = (
            np.asarray(lowering.const(node, i, what), np.float64)
            for i, what in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "variance"))
        )
        factor = scale / np.sqrt(var + float(attrs.get("epsilon", 1e-5)))
        name = lowering.add(node, "batchnorm", [lowering.tensor(node, 0)])
        lowering.affines[name] = (factor, shift - mean * factor)
        return
    if op == "Relu":
        lowering.add(node, "relu", [lowering.tensor(node, 0)])
        return
    if op == "Clip":
        low = attrs.get("min")
        high = attrs.get("max")
        if len(node.input) > 1 and node.input[1]:
            low = float(np.asarray(lowering.const(node, 1, "min")).reshape(-1)[0])
        if len(node.input) > 2 and node.input[2]:
            high = float(np.asarray(lowering.const(node, 2, "max")).reshape(-1)[0])
        if low != 0.0:
            raise lowering.fail(node, f"min={low}; allowed: 0 (a clipped ReLU)")
        lowering.add(node, "relu", [lowering.tensor(node, 0)], max=high)
        return
    if op in _ACTIVATIONS:
        lowering.add(node, "activation", [lowering.tensor(node, 0)], fn=_ACTIVATIONS[op])
        return
    if op == "HardSigmoid":
        alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))
        if abs(alpha - 1 / 6) > 1e-6 or abs(beta - 0.5) > 1e-6:
            raise lowering.fail(node, f"alpha={alpha}, beta={beta}; allowed: 1/6, 0.5 (torch)")
        lowering.add(node, "activation", [lowering.tensor(node, 0)], fn="hardsigmoid")
        return
    if op in ("LeakyRelu", "Elu"):
        default = 0.01 if op == "LeakyRelu" else 1.0
        fn = "leaky_relu" if op == "LeakyRelu" else "elu"
        alpha = float(attrs.get("alpha", default))
        lowering.add(node, "activation", [lowering.tensor(node, 0)], fn=fn, alpha=alpha)
        return
    if op == "Gelu":
        approximate = attrs.get("approximate", b"none")
        approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
        lowering.add(
            node, "activation", [lowering.tensor(node, 0)], fn="gelu", approximate=approximate
        )
        return
    if op == "Softmax":
        x = lowering.tensor(node, 0)
        rank = len(lowering.nodes_by_name(x).shape) + 1
        axis = int(attrs.get("axis", -1))
        axis = axis + rank if axis < 0 else axis
        if axis == 0:
            raise lowering.fail(node, "softmax over the batch; allowed: axis >= 1")
        lowering.add(node, "activation", [x], fn="softmax", axis=axis - 1)
        return
    if op == "MaxPool":
        _pool(lowering, node, attrs, "maxpool")
        return
    if op == "AveragePool":
        _pool(lowering, node, attrs, "avgpool")
        return
    if op == "GlobalAveragePool":
        lowering.add(node, "adaptive_avgpool", [lowering.tensor(node, 0)], output_hw=(1, 1))
        return
    if op == "GlobalMaxPool":
        x = lowering.tensor(node, 0)
        hw = lowering.nodes_by_name(x).shape[1:]
        lowering.add(node, "maxpool", [x], kernel=tuple(hw), stride=(1, 1), padding=(0, 0))
        return
    if op == "ReduceMean":  # a global average pool when it averages over H and W
        x = lowering.tensor(node, 0)
        rank = len(lowering.nodes_by_name(x).shape) + 1
        axes = attrs.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = lowering.const(node, 1, "axes").reshape(-1).tolist()
        axes = sorted(int(a) + rank if int(a) < 0 else int(a) for a in (axes or []))
        if rank != 4 or axes != [2, 3]:
            raise lowering.fail(node, f"a mean over axes {axes}; allowed: the spatial axes 2, 3")
        channels = lowering.nodes_by_name(x).shape[0]
        pooled = f"{node.name or 'reducemean'}.pool"
        lowering.nodes.append(
            make_node(pooled, "adaptive_avgpool", [x], (channels, 1, 1), op, output_hw=(1, 1))
        )
        if attrs.get("keepdims", 1):
            lowering.names[node.output[0]] = pooled
        else:
            lowering.add(node, "reshape", [pooled])
        return
    if op == "LRN":
        lowering.add(
            node,
            "lrn",
            [lowering.tensor(node, 0)],
            size=int(attrs["size"]),
            alpha=float(attrs.get("alpha", 1e-4)),
            beta=float(attrs.get("beta", 0.75)),
            k=float(attrs.get("bias", 1.0)),
        )
        return
    if op in ("Add", "Mul", "Sub", "Div"):
        _binary(lowering, node)
        return
    if op == "Concat":
        inputs = [lowering.tensor(node, i) for i in range(len(node.input))]
        rank = len(lowering.nodes_by_name(inputs[0]).shape) + 1
        axis = int(attrs["axis"])
        axis = axis + rank if axis < 0 else axis
        if axis == 0:
            raise lowering.fail(node, "concatenation over the batch; allowed: axis >= 1")
        lowering.add(node, "concat", inputs, axis=axis - 1)
        return
    if op in ("Flatten", "Reshape", "Squeeze", "Unsqueeze"):
        if op == "Flatten" and int(attrs.get("axis", 1)) != 1:
            raise lowering.fail(node, f"axis={attrs.get('axis')}; allowed: 1 (keep the batch)")
        lowering.add(node, "reshape", [lowering.tensor(node, 0)])
        return
    if op in ("Dropout", "Identity"):
        lowering.add(node, "identity", [lowering.tensor(node, 0)])
        return
    raise lowering.fail(
        node, "unsupported op; see README 'Your own network' for the ops dcsim lowers"
    )


def lower_onnx(path, input_shape=None):
    """(layer specs, graph, parameters, input shape) of the ONNX file at `path`."""
    path = str(path)
    model = load_onnx(path)
    input_name, shape = fix_input(model, path, input_shape)
    model = infer_shapes(model, path)
    lowering = _Lowering(model, path, input_name, shape)
    for node in model.graph.node:
        _lower_node(lowering, node)
    outputs = [o.name for o in model.graph.output if o.name in lowering.names]
    if not outputs:
        raise OnnxError(f"network={path!r}: the graph output is not computed from its input")
    nodes, renamed = fold_batchnorm(
        lowering.nodes, lowering.specs, lowering.params, lowering.affines
    )
    output = lowering.names[outputs[0]]
    output = renamed.get(output, output)
    if not lowering.specs:
        raise OnnxError(f"network={path!r} has no Conv, Gemm or MatMul layer to run on the engine")
    graph = NetworkGraph(tuple(nodes), output)
    specs = tuple(lowering.specs[node.name] for node in graph.weight_nodes())
    return specs, graph, lowering.params, shape
