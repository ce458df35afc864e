"""torch models for the named networks.

Part of `workloads` (DESIGN §2). The model is built from the same `Topology` as the layer
shapes in `workloads.networks`, with torchvision's module layout (`features`, `avgpool`,
`classifier`, same indices), so a torchvision AlexNet or VGG-16 state_dict loads key for key.
Layer names map to module paths through `Network.module_paths` (e.g. `fc6` →
`classifier.1` in torchvision AlexNet).

Weights files are read and checked by `workloads.state_dict` (`read_state_dict`,
`check_state_dict`, `load_weights`, re-exported here).
"""

from __future__ import annotations

import torch
from torch import nn

from workloads.graph import NetworkGraph
from workloads.network import Network
from workloads.networks import ZOO_NAMES, get_network
from workloads.state_dict import check_state_dict, load_weights, read_state_dict
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


def count_parameters(model: nn.Module, *, weights_only: bool = True) -> int:
    """Number of parameters; with `weights_only`, biases (1-D parameters) are excluded."""
    return sum(p.numel() for p in model.parameters() if not (weights_only and p.dim() == 1))


__all__ = [
    "SequentialNet",
    "build_model",
    "check_state_dict",
    "count_parameters",
    "layer_modules",
    "load_weights",
    "read_state_dict",
]
