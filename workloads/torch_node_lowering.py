"""Lowering one traced torch.fx node to graph ops: which torch ops dcsim lowers, and to what.

Part of `workloads` (DESIGN §8, "any model in"). `workloads.torch_lowering` walks the graph
traced by `workloads.torch_tracing` and hands every node with a tensor output to `lower_node`,
which appends its graph ops (`workloads.graph`) to a `workloads.torch_graph_builder`
`TorchGraphBuilder`:

- `nn.Conv2d` (groups, depthwise and dilation included) → conv; `nn.Linear`, `F.linear` →
  fc; a conv/fc applied through `F.conv2d` / `F.linear` on the module's own parameters is
  named after its weight. Layer names are module paths (`layer1.0.conv1`), the names recipe
  globs match.
- `nn.BatchNorm1d/2d` → a `batchnorm` op with its affine (scale, shift) per channel, which
  `workloads.torch_lowering` folds into the conv/fc that feeds it (and nothing else).
- ReLU / ReLU6 / hardtanh(0, 6) → relu; sigmoid, tanh, SiLU, GELU, hardswish, hardsigmoid,
  leaky ReLU, ELU, softmax → activation; max / average / adaptive-average pooling,
  `torch.mean` over H and W, LRN, `+`, `*` (and `/`, `−` by a number), `torch.cat`,
  flatten / view / reshape, dropout and identity → their graph ops.
- Shape arithmetic (`x.size(0)`, `x.shape[1]`) is followed, not lowered: it has no tensor
  output.
Anything else with a tensor output is a one-line error naming the node and its op type; a
module called twice (shared weights) is an error too.
"""

from __future__ import annotations

import operator

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from workloads.graph import make_node
from workloads.torch_graph_builder import TorchGraphBuilder
from workloads.torch_tracing import LoweringError, node_shape

_RELU_FUNCTIONS = {torch.relu, F.relu, torch.relu_, F.relu_}
_ACTIVATION_FUNCTIONS = {
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
    torch.tanh: "tanh",
    F.tanh: "tanh",
    F.silu: "silu",
    F.gelu: "gelu",
    F.hardswish: "hardswish",
    F.hardsigmoid: "hardsigmoid",
    F.leaky_relu: "leaky_relu",
    F.elu: "elu",
    torch.softmax: "softmax",
    F.softmax: "softmax",
}
_ACTIVATION_MODULES = {
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
    nn.SiLU: "silu",
    nn.GELU: "gelu",
    nn.Hardswish: "hardswish",
    nn.Hardsigmoid: "hardsigmoid",
    nn.LeakyReLU: "leaky_relu",
    nn.ELU: "elu",
    nn.Softmax: "softmax",
}
_ACTIVATION_METHODS = {"sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax"}
_IDENTITY_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout, nn.Identity)
_IDENTITY_FUNCTIONS = {F.dropout, F.dropout2d, F.dropout1d, F.alpha_dropout}
_IDENTITY_METHODS = {"contiguous", "clone", "detach", "float"}
_RESHAPE_METHODS = {"view", "reshape", "flatten", "squeeze", "unsqueeze"}
_RESHAPE_FUNCTIONS = {torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze}
_ADD = {operator.add, operator.iadd, torch.add}
_MUL = {operator.mul, operator.imul, torch.mul}


def _pair(value) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    return value if len(value) == 2 else (value[0], value[0])


def _batchnorm_affine(module: nn.Module, where: str) -> tuple[np.ndarray, np.ndarray]:
    if module.running_mean is None or module.running_var is None:
        raise LoweringError(
            f"{where}: batch-norm {module!r} keeps no running statistics; allowed: "
            "track_running_stats=True (inference uses the running statistics)"
        )
    var = module.running_var.detach().double()
    mean = module.running_mean.detach().double()
    scale = 1.0 / torch.sqrt(var + module.eps)
    if module.affine:
        scale = scale * module.weight.detach().double()
        shift = module.bias.detach().double() - mean * scale
    else:
        shift = -mean * scale
    return scale.numpy(), shift.numpy()


def _constant(node: fx.Node, b: TorchGraphBuilder) -> float | None:
    """The scalar operand of a binary op, if exactly one operand is a number."""
    numbers = [a for a in node.args if isinstance(a, int | float) and not isinstance(a, bool)]
    return float(numbers[0]) if len(numbers) == 1 else None


def lower_node(node: fx.Node, b: TorchGraphBuilder, params: dict) -> None:
    """Append the graph ops of one traced node with a tensor output to `b` (module docstring);
    `params` are the traced module's parameters and buffers by name."""
    modules, target = b.modules, node.target
    ins = b.tensor_inputs(node)
    if node.op == "call_module":
        module = modules[target]
        if isinstance(module, nn.Conv2d | nn.Linear):
            if target in b.used_modules:
                raise b.fail(node, "the module is called twice (shared weights); allowed: once")
            b.used_modules.add(target)
            if isinstance(module, nn.Conv2d):
                if module.padding_mode != "zeros":
                    raise b.fail(node, f"padding_mode={module.padding_mode!r}; allowed: zeros")
                padding = module.padding
                if padding == "valid":
                    padding = (0, 0)
                elif padding == "same":  # explicit, symmetric when the window is odd
                    spans = [
                        d * (k - 1)
                        for k, d in zip(_pair(module.kernel_size), _pair(module.dilation))
                    ]
                    if any(span % 2 for span in spans):
                        raise b.fail(node, "asymmetric 'same' padding; allowed: symmetric")
                    padding = tuple(span // 2 for span in spans)
                b.weight_layer(
                    node,
                    target,
                    ins[0],
                    module.weight,
                    module.bias,
                    "conv",
                    stride=_pair(module.stride),
                    padding=_pair(padding),
                    dilation=_pair(module.dilation),
                    groups=int(module.groups),
                )
            else:
                b.weight_layer(node, target, ins[0], module.weight, module.bias, "fc")
            return
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
            name = b.add(node, "batchnorm", ins)
            b.batchnorms[name] = _batchnorm_affine(module, b.where)
            return
        if isinstance(module, nn.ReLU):
            b.add(node, "relu", ins)
            return
        if isinstance(module, nn.ReLU6):
            b.add(node, "relu", ins, max=6.0)
            return
        if isinstance(module, nn.Hardtanh) and module.min_val == 0.0:
            b.add(node, "relu", ins, max=float(module.max_val))
            return
        if type(module) in _ACTIVATION_MODULES:
            fn = _ACTIVATION_MODULES[type(module)]
            extra = {}
            if fn == "leaky_relu":
                extra["alpha"] = float(module.negative_slope)
            elif fn == "elu":
                extra["alpha"] = float(module.alpha)
            elif fn == "gelu":
                extra["approximate"] = module.approximate
            elif fn == "softmax":
                extra["axis"] = _channel_axis(node, b, module.dim)
            b.add(node, "activation", ins, fn=fn, **extra)
            return
        if isinstance(module, nn.MaxPool2d):
            b.add(
                node,
                "maxpool",
                ins,
                kernel=_pair(module.kernel_size),
                stride=_pair(module.stride or module.kernel_size),
                padding=_pair(module.padding),
                dilation=_pair(module.dilation),
                ceil_mode=bool(module.ceil_mode),
            )
            return
        if isinstance(module, nn.AvgPool2d):
            if module.divisor_override is not None:
                raise b.fail(node, "divisor_override; allowed: none")
            b.add(
                node,
                "avgpool",
                ins,
                kernel=_pair(module.kernel_size),
                stride=_pair(module.stride or module.kernel_size),
                padding=_pair(module.padding),
                ceil_mode=bool(module.ceil_mode),
                count_include_pad=bool(module.count_include_pad),
            )
            return
        if isinstance(module, nn.AdaptiveAvgPool2d):
            b.add(node, "adaptive_avgpool", ins, output_hw=node_shape(node)[2:])
            return
        if isinstance(module, nn.LocalResponseNorm):
            b.add(
                node,
                "lrn",
                ins,
                size=int(module.size),
                alpha=float(module.alpha),
                beta=float(module.beta),
                k=float(module.k),
            )
            return
        if isinstance(module, nn.Flatten):
            b.add(node, "reshape", ins)
            return
        if isinstance(module, _IDENTITY_MODULES):
            b.add(node, "identity", ins)
            return
        raise b.fail(node, "unsupported op; see README 'Your own network' for the ops dcsim lowers")
    if node.op == "call_function":
        if target in (F.conv2d, F.linear):
            weight_node = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
            if not (isinstance(weight_node, fx.Node) and weight_node.op == "get_attr"):
                raise b.fail(node, "a weight that is not a parameter of the module")
            bias_node = node.args[2] if len(node.args) > 2 else node.kwargs.get("bias")
            name = weight_node.target.removesuffix(".weight")
            bias = params[bias_node.target] if isinstance(bias_node, fx.Node) else None
            x = node.args[0]
            if target is F.linear:
                b.weight_layer(node, name, x, params[weight_node.target], bias, "fc")
            else:
                args = list(node.args[3:]) + [None] * 4
                kw = node.kwargs
                b.weight_layer(
                    node,
                    name,
                    x,
                    params[weight_node.target],
                    bias,
                    "conv",
                    stride=_pair(kw.get("stride", args[0] or 1)),
                    padding=_pair(kw.get("padding", args[1] or 0)),
                    dilation=_pair(kw.get("dilation", args[2] or 1)),
                    groups=int(kw.get("groups", args[3] or 1)),
                )
            return
        if target in _RELU_FUNCTIONS:
            b.add(node, "relu", ins[:1])
            return
        if target is F.relu6:
            b.add(node, "relu", ins[:1], max=6.0)
            return
        if target is F.hardtanh:
            low = node.kwargs.get("min_val", node.args[1] if len(node.args) > 1 else -1.0)
            high = node.kwargs.get("max_val", node.args[2] if len(node.args) > 2 else 1.0)
            if low == 0.0:
                b.add(node, "relu", ins[:1], max=float(high))
                return
        if target in _ACTIVATION_FUNCTIONS:
            fn = _ACTIVATION_FUNCTIONS[target]
            extra = {}
            if fn == "softmax":
                dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
                extra["axis"] = _channel_axis(node, b, dim)
            elif fn in ("leaky_relu", "elu"):
                default = 0.01 if fn == "leaky_relu" else 1.0
                key = "negative_slope" if fn == "leaky_relu" else "alpha"
                extra["alpha"] = float(
                    node.kwargs.get(key, node.args[1] if len(node.args) > 1 else default)
                )
            elif fn == "gelu":
                extra["approximate"] = node.kwargs.get("approximate", "none")
            b.add(node, "activation", ins[:1], fn=fn, **extra)
            return
        if target is F.max_pool2d or target is F.avg_pool2d:
            _functional_pool(node, b, ins)
            return
        if target is F.adaptive_avg_pool2d:
            b.add(node, "adaptive_avgpool", ins[:1], output_hw=node_shape(node)[2:])
            return
        if target in _IDENTITY_FUNCTIONS:
            b.add(node, "identity", ins[:1])
            return
        if target in _RESHAPE_FUNCTIONS:
            _reshape(node, b, ins)
            return
        if target in (torch.cat, torch.concat):
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
            b.add(node, "concat", ins, axis=_channel_axis(node, b, dim))
            return
        if target in (torch.mean,):
            _mean(node, b, ins)
            return
        if (
            target in _ADD
            or target in _MUL
            or target
            in (
                operator.truediv,
                operator.sub,
                torch.div,
                torch.sub,
            )
        ):
            _binary(node, b, ins, target)
            return
        if target is operator.getitem and not ins:
            return  # indexing a shape, not a tensor
        raise b.fail(node, "unsupported op; see README 'Your own network' for the ops dcsim lowers")
    if node.op == "call_method":
        method = target
        if method in ("relu", "relu_"):
            b.add(node, "relu", ins[:1])
            return
        if method in _ACTIVATION_METHODS:
            extra = {}
            if method == "softmax":
                dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
                extra["axis"] = _channel_axis(node, b, dim)
            b.add(node, "activation", ins[:1], fn=_ACTIVATION_METHODS[method], **extra)
            return
        if method in _RESHAPE_METHODS:
            _reshape(node, b, ins)
            return
        if method in _IDENTITY_METHODS:
            b.add(node, "identity", ins[:1])
            return
        if method == "mean":
            _mean(node, b, ins)
            return
        if method in ("add", "add_", "mul", "mul_", "div", "sub"):
            op = {"add": operator.add, "mul": operator.mul, "div": operator.truediv}.get(
                method.rstrip("_"), operator.sub
            )
            _binary(node, b, ins, op)
            return
        raise b.fail(node, "unsupported op; see README 'Your own network' for the ops dcsim lowers")
    raise b.fail(node, "unsupported op")  # pragma: no cover - placeholder/output handled


def _channel_axis(node: fx.Node, b: TorchGraphBuilder, dim) -> int:
    """A torch dim of a batched tensor as a per-inference axis (0 = channels)."""
    rank = len(node_shape(node))
    if dim is None or not isinstance(dim, int):
        raise b.fail(node, f"dim={dim!r}; allowed: an explicit integer dimension")
    dim = dim + rank if dim < 0 else dim
    if dim == 0:
        raise b.fail(node, "an op across the batch dimension; allowed: dim >= 1")
    return dim - 1


def _reshape(node: fx.Node, b: TorchGraphBuilder, ins: list) -> None:
    if node_shape(node)[0] != node_shape(ins[0])[0]:
        raise b.fail(node, "a reshape that mixes the batch dimension; allowed: keep dim 0")
    b.add(node, "reshape", ins[:1])


def _mean(node: fx.Node, b: TorchGraphBuilder, ins: list) -> None:
    dims = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims or ())
    rank = len(node_shape(ins[0]))
    dims = tuple(sorted(d + rank if d < 0 else d for d in dims))
    if rank != 4 or dims != (2, 3):
        raise b.fail(node, f"mean over dims {dims}; allowed: the spatial dims (2, 3)")
    channels = node_shape(ins[0])[1]
    pooled = f"{node.name}.pool"
    b.nodes.append(
        make_node(
            pooled,
            "adaptive_avgpool",
            [b.names[ins[0]]],
            (channels, 1, 1),
            "torch.mean",
            output_hw=(1, 1),
        )
    )
    if node_shape(node)[1:] != (channels, 1, 1):
        b.nodes.append(
            make_node(node.name, "reshape", [pooled], node_shape(node)[1:], "torch.mean")
        )
        b.names[node] = node.name
    else:
        b.names[node] = pooled


def _functional_pool(node: fx.Node, b: TorchGraphBuilder, ins: list) -> None:
    is_max = node.target is F.max_pool2d
    names = ["kernel_size", "stride", "padding", "dilation" if is_max else "ceil_mode"]
    names += ["ceil_mode"] if is_max else ["count_include_pad", "divisor_override"]
    values = dict(zip(names, node.args[1:]))
    values.update({k: v for k, v in node.kwargs.items() if k in names})
    kernel = _pair(values["kernel_size"])
    stride = _pair(values.get("stride") or kernel)
    attrs = dict(kernel=kernel, stride=stride, padding=_pair(values.get("padding", 0)))
    attrs["ceil_mode"] = bool(values.get("ceil_mode", False))
    if is_max:
        attrs["dilation"] = _pair(values.get("dilation", 1))
        b.add(node, "maxpool", ins[:1], **attrs)
    else:
        if values.get("divisor_override") is not None:
            raise b.fail(node, "divisor_override; allowed: none")
        attrs["count_include_pad"] = bool(values.get("count_include_pad", True))
        b.add(node, "avgpool", ins[:1], **attrs)


def _binary(node: fx.Node, b: TorchGraphBuilder, ins: list, target) -> None:
    constant = _constant(node, b)
    is_add = target in _ADD or target in (operator.sub, torch.sub)
    if target in (operator.sub, torch.sub):
        if constant is None or not isinstance(node.args[1], int | float):
            raise b.fail(node, "a subtraction of tensors; allowed: tensor − number")
        constant = -constant
    if target in (operator.truediv, torch.div):
        if constant is None or not isinstance(node.args[1], int | float) or constant == 0:
            raise b.fail(node, "a division by a tensor; allowed: tensor / non-zero number")
        constant = 1.0 / constant
    if not ins:
        raise b.fail(node, "an op on constants only")
    if constant is None and len(ins) < 2:
        raise b.fail(node, "an operand that is neither a graph tensor nor a number")
    if is_add and constant == 0.0:
        constant = None
    b.add(node, "add" if is_add else "mul", ins, constant=constant)


__all__ = ["lower_node"]
