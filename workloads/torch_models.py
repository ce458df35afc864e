"""torch models for the named networks, and loading a user's state_dict safely.

Part of `workloads` (DESIGN §2). The model is built from the same `Topology` as the layer
shapes in `workloads.networks`, with torchvision's module layout (`features`, `avgpool`,
`classifier`, same indices), so a torchvision AlexNet or VGG-16 state_dict loads key for key.
Layer names map to module paths through `Network.module_paths` (e.g. `fc6` →
`classifier.1` in torchvision AlexNet).

Weights files are read with `torch.load(..., weights_only=True)`: a file can carry tensors,
never code.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from workloads.graph import NetworkGraph
from workloads.networks import Network, get_network
from workloads.topology import (
    Conv,
    Dropout,
    Flatten,
    Linear,
    LocalResponseNorm,
    LSTMGates,
    MaxPool,
    ReLU,
)


class SequentialNet(nn.Module):
    """features → avgpool → flatten → classifier, as in torchvision's AlexNet and VGG."""

    def __init__(self, features: nn.Sequential, avgpool: nn.Module, classifier: nn.Sequential):
        super().__init__()
        self.features = features
        self.avgpool = avgpool
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _module_for(op, network: Network) -> nn.Module:
    if isinstance(op, Conv):
        spec = network.layer(op.name)
        return nn.Conv2d(
            spec.in_channels,
            spec.out_channels,
            spec.kernel,
            stride=spec.stride,
            padding=spec.padding,
            groups=spec.groups,
        )
    if isinstance(op, Linear):
        spec = network.layer(op.name)
        return nn.Linear(spec.in_channels, spec.out_channels)
    if isinstance(op, LSTMGates):
        # The gate matrix already has a column for the constant-1 bias input.
        spec = network.layer(op.name)
        return nn.Linear(spec.in_channels, spec.out_channels, bias=False)
    if isinstance(op, MaxPool):
        return nn.MaxPool2d(op.kernel, op.stride, op.padding)
    if isinstance(op, ReLU):
        return nn.ReLU(inplace=True)
    if isinstance(op, LocalResponseNorm):
        return nn.LocalResponseNorm(op.size, alpha=1e-4, beta=0.75, k=1.0)
    if isinstance(op, Dropout):
        return nn.Dropout(op.p)
    if isinstance(op, Flatten):
        return nn.Flatten()
    raise TypeError(f"unhandled op {op!r}")  # pragma: no cover


def build_model(
    network: str | Network,
    *,
    num_classes: int | None = None,
    input_size: int | None = None,
    in_channels: int | None = None,
    seed: int | None = None,
) -> nn.Module:
    """A torch model of `network` (a name or a `Network`), freshly initialised.

    With `seed`, initialisation is deterministic (torch's default init under that seed). A zoo
    network (`workloads.zoo`) gets its torchvision-layout module."""
    if isinstance(network, str):
        network = get_network(
            network, num_classes=num_classes, input_size=input_size, in_channels=in_channels
        )
    if isinstance(network.topology, NetworkGraph):
        return _zoo_model(network, seed)
    topology = network.topology
    generator_state = None
    if seed is not None:
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
    try:
        features = nn.Sequential(*[_module_for(op, network) for op in topology.features])
        avgpool = (
            nn.AdaptiveAvgPool2d(topology.avgpool.output_hw)
            if topology.avgpool is not None
            else nn.Identity()
        )
        classifier = nn.Sequential(*[_module_for(op, network) for op in topology.classifier])
    finally:
        if generator_state is not None:
            torch.random.set_rng_state(generator_state)
    return SequentialNet(features, avgpool, classifier)


def _zoo_model(network: Network, seed: int | None) -> nn.Module:
    """The torch module of a zoo network (`workloads.zoo`); other graph networks came from a
    model source, whose module (or ONNX file) is the user's own."""
    from workloads.networks import ZOO_NAMES
    from workloads.zoo import zoo_module

    if network.source not in ZOO_NAMES:
        raise ValueError(
            f"network {network.name!r} comes from {network.source!r}; its torch model is that "
            "source (dcsim builds torch models only for built-in names)"
        )
    state = torch.random.get_rng_state()
    if seed is not None:
        torch.manual_seed(seed)
    try:
        return zoo_module(network.source, num_classes=network.num_classes)
    finally:
        if seed is not None:
            torch.random.set_rng_state(state)


def layer_modules(model: nn.Module, network: Network) -> dict[str, nn.Module]:
    """The torch module of every weight layer of `network`, by layer name."""
    modules = dict(model.named_modules())
    return {name: modules[path] for name, path in network.module_paths.items()}


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state_dict with `torch.load(weights_only=True)`; a `{"state_dict": ...}` or
    `{"model": ...}` checkpoint wrapper is unwrapped. Raises ValueError for anything else."""
    from workloads.user_files import input_file

    path = input_file(path, "weights file", "a torch state_dict file (torch.save)")
    try:
        with warnings.catch_warnings():  # e.g. a pickle-protocol warning before the error
            warnings.simplefilter("ignore")
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for damaged/unsafe files
        raise ValueError(
            f"weights={str(path)!r} is not a readable torch state_dict ({_load_failure(error)}); "
            "allowed: a file written by torch.save holding only tensors"
        ) from None
    if isinstance(loaded, dict):
        for wrapper in ("state_dict", "model"):
            if wrapper in loaded and isinstance(loaded[wrapper], dict):
                loaded = loaded[wrapper]
                break
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()
    ):
        raise ValueError(
            f"weights={str(path)!r} does not hold a state_dict (a mapping of names to tensors)"
        )
    return loaded


def _load_failure(error: BaseException) -> str:
    """The informative part of torch.load's message, on one short line."""
    text = " ".join(str(error).split())
    marker = "WeightsUnpickler error:"
    if marker in text:  # torch's long weights_only preamble hides the actual reason
        reason = text.split(marker, 1)[1].split(" Check the documentation", 1)[0].strip()
        return f"damaged, or holds objects other than tensors: {reason}"[:160]
    return text.split(". ", 1)[0][:160]


def _summarise(keys: list[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def check_state_dict(
    model: nn.Module,
    state_dict: dict[str, torch.Tensor],
    source: str,
    layout: str = "a torchvision-layout state_dict",
) -> None:
    """Raise a one-line ValueError unless `state_dict` fits `model` key for key and shape for
    shape, with finite floating-point values; `layout` says what was expected."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {_summarise(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_summarise(unexpected)}")
        raise ValueError(
            f"weights={source!r} does not match the model: {'; '.join(parts)} (expected {layout})"
        )
    for key, tensor in expected.items():
        got = state_dict[key]
        if tuple(got.shape) != tuple(tensor.shape):
            raise ValueError(
                f"weights={source!r}: {key} has shape {tuple(got.shape)}; "
                f"allowed: {tuple(tensor.shape)}"
            )
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise ValueError(f"weights={source!r}: {key} contains NaN or Inf; allowed: finite")


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a user's state_dict file into `model` after checking keys, shapes and values."""
    state_dict = read_state_dict(path)
    check_state_dict(model, state_dict, str(path))
    model.load_state_dict(state_dict)
    return model


def count_parameters(model: nn.Module, *, weights_only: bool = True) -> int:
    """Number of parameters; with `weights_only`, biases (1-D parameters) are excluded."""
    return sum(p.numel() for p in model.parameters() if not (weights_only and p.dim() == 1))
