"""Topology: a network as an ordered list of operations, shared by the layer-shape walk
(`workloads.networks`) and the torch builder (`workloads.torch_models`).

Part of `workloads` (DESIGN §2). Only weight layers (conv, fc, lstm) become `LayerSpec`s;
pooling, normalisation, activations and dropout shape the tensors between them. The ops are
grouped into the three sections torchvision uses (`features`, `avgpool`, `classifier`) so that
a user's torchvision state_dict loads into the built model key for key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Section = Literal["features", "avgpool", "classifier"]


@dataclass(frozen=True)
class Conv:
    name: str
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0
    groups: int = 1


@dataclass(frozen=True)
class Linear:
    name: str
    out_features: int  # 0 means "the network's number of classes"


@dataclass(frozen=True)
class LSTMGates:
    """The stacked gate matrix of one LSTM step: input + hidden + 1 (bias) -> 4·hidden."""

    name: str
    out_features: int


@dataclass(frozen=True)
class MaxPool:
    kernel: int
    stride: int
    padding: int = 0


@dataclass(frozen=True)
class AdaptiveAvgPool:
    output_hw: tuple[int, int]


@dataclass(frozen=True)
class ReLU:
    pass


@dataclass(frozen=True)
class LocalResponseNorm:
    size: int = 5


@dataclass(frozen=True)
class Dropout:
    p: float = 0.5


@dataclass(frozen=True)
class Flatten:
    pass


Op = Conv | Linear | LSTMGates | MaxPool | AdaptiveAvgPool | ReLU | LocalResponseNorm | Dropout
Op = Op | Flatten


@dataclass(frozen=True)
class Topology:
    """Ops per section, in order. `classifier` starts after flattening."""

    features: tuple[Op, ...] = ()
    avgpool: AdaptiveAvgPool | None = None
    classifier: tuple[Op, ...] = ()
