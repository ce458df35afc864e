"""Tracing a torch module for lowering: torch.fx graph + every node's output shape.

Part of `workloads` (DESIGN §8), the first half of `workloads.torch_lowering`. The module is
traced symbolically with `torch.fx.symbolic_trace` (no data-dependent control flow; the error
says so) and run once on a zero input of `input_shape` — with fake tensors (shapes only, no
arithmetic), falling back to real tensors for an op fake tensors cannot run — recording each
tensor output's shape in `node.meta["dcsim_shape"]`. A failure is a one-line `LoweringError`
naming the node (torch's own ShapeProp prints a traceback, which a one-line error must not).
"""

from __future__ import annotations

import functools
import logging
import operator
import warnings

import torch
import torch.nn.functional as F
from torch import fx, nn


class LoweringError(ValueError):
    """A module or graph dcsim cannot lower; the message names the node and its op type."""


def is_tensor_node(node: fx.Node) -> bool:
    return "dcsim_shape" in node.meta


def node_shape(node: fx.Node) -> tuple[int, ...]:
    return node.meta["dcsim_shape"]


def node_label(node: fx.Node) -> str:
    """How errors name a node: the module path for a module call, else the fx node name."""
    return str(node.target) if node.op == "call_module" else node.name


def op_type(node: fx.Node, modules: dict) -> str:
    if node.op == "call_module":
        cls = type(modules[node.target])
        prefix = "nn" if cls.__module__.startswith("torch.nn") else cls.__module__
        return f"{prefix}.{cls.__name__}"
    if node.op == "call_function":
        return _function_names().get(node.target) or getattr(
            node.target, "__name__", str(node.target)
        )
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    return f"{node.op} {node.target}"


@functools.cache
def _function_names() -> dict:
    """Readable names of torch / F / operator functions (`F.max_pool2d`, `operator.add`)."""
    names: dict = {}
    for prefix, namespace in (("operator", operator), ("torch", torch), ("F", F)):
        for attr in dir(namespace):
            value = getattr(namespace, attr, None)
            if callable(value) and not attr.startswith("_"):
                try:
                    names[value] = f"{prefix}.{attr}"
                except TypeError:  # unhashable
                    continue
    return names


class _ShapeRecorder(fx.Interpreter):
    """Runs the traced module once and records every tensor output's shape in
    `node.meta["dcsim_shape"]`; a failure names the node (torch's own ShapeProp prints a
    traceback, which a one-line error must not)."""

    def run_node(self, node: fx.Node):
        try:
            result = super().run_node(node)
        except Exception as error:
            raise _NodeFailure(node, error) from None
        if isinstance(result, torch.Tensor):
            node.meta["dcsim_shape"] = tuple(int(d) for d in result.shape)
        return result


class _NodeFailure(Exception):
    def __init__(self, node: fx.Node, error: BaseException):
        super().__init__(str(error))
        self.node, self.error = node, error


def _record_shapes(traced: fx.GraphModule, input_shape: tuple[int, ...]) -> None:
    """Shapes from fake tensors (no arithmetic: fast), else from a real zero input."""
    logger = logging.getLogger("torch._subclasses.fake_tensor")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # fake-tensor failures are logged with a traceback
    try:
        from torch._subclasses.fake_tensor import FakeTensorMode

        with FakeTensorMode(allow_non_fake_inputs=True) as mode:
            x = mode.from_tensor(torch.zeros(1, *input_shape))
            _ShapeRecorder(traced).run(x)
        return
    except Exception:  # a user op fake tensors cannot run: fall back to real tensors
        for node in traced.graph.nodes:
            node.meta.pop("dcsim_shape", None)
    finally:
        logger.setLevel(level)
    with torch.no_grad():
        _ShapeRecorder(traced).run(torch.zeros(1, *input_shape))


def trace(module: nn.Module, input_shape: tuple[int, ...], where: str) -> fx.GraphModule:
    """The fx graph of `module`, each node's output shape for one (1, *input_shape) input in
    `node.meta["dcsim_shape"]`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = fx.symbolic_trace(module)
    except Exception as error:  # fx raises many types for untraceable code
        reason = " ".join(str(error).split())[:200]
        raise LoweringError(
            f"{where}: torch.fx cannot trace the module ({type(error).__name__}: {reason}); "
            "allowed: a module without data-dependent control flow"
        ) from None
    placeholders = [n for n in traced.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise LoweringError(
            f"{where}: the module's forward takes {len(placeholders)} inputs; allowed: one tensor"
        )
    try:
        _record_shapes(traced, tuple(input_shape))
    except _NodeFailure as failure:
        text = " ".join(str(failure.error).split())[:200]
        raise LoweringError(
            f"{where}: input_shape={tuple(input_shape)} does not fit the module (node "
            f"{node_label(failure.node)!r}: {type(failure.error).__name__}: {text}); allowed: the "
            "shape the module expects, without the batch dimension"
        ) from None
    return traced
