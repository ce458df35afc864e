"""Networks by name, with exact published layer shapes.

Part of `workloads` (DESIGN §2). A `Network` (`workloads.network`, re-exported here) is the
ordered tuple of its weight layers (`LayerSpec`) plus the topology it was derived from (used by
`workloads.torch_models` to build the matching torch model). Shapes are derived by walking
the topology from the input size, so the same network can be instantiated at another
resolution or class count (for example AlexNet on the 10-class digits dataset).

Known networks
- `alexnet-caffe`: the two-group BVLC AlexNet at 227×227 — the network of the Deep
  Compression paper (60,954,656 weights, 724,406,816 MACs).
- `alexnet`: torchvision's single-tower AlexNet at 224×224 (61,090,496 / 714,188,480).
- `vgg16`: torchvision VGG-16 at 224×224.
- `lenet-300-100`, `lenet-5`: the Caffe LeNets of the Deep Compression paper, 28×28×1.
- EIE benchmark layers `alex-6` … `nt-lstm` (EIE Table III): single fc/lstm layers carrying
  their published weight and activation densities as metadata.
- The zoo (`workloads.zoo`): `resnet18`, `mobilenet-v2`, `squeezenet1.1` with torchvision's
  definitions at 224×224, lowered from their torch modules like any user module
  (`workloads.module_network`); their topology is a `NetworkGraph`.

Any other model source (a `file.py:factory`, an ONNX file) becomes the same `Network` through
`workloads.model_source.load_network`. `Network.graph` is the op graph of every network
(`workloads.graph`): the sequential built-ins convert their `Topology` on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workloads.layer_spec import LayerSpec, conv_output_size
from workloads.network import Network
from workloads.topology import (
    AdaptiveAvgPool,
    Conv,
    Dropout,
    Flatten,
    Linear,
    LocalResponseNorm,
    LSTMGates,
    MaxPool,
    ReLU,
    Topology,
)


class UnknownNetworkError(KeyError):
    """Raised for a network name dcsim does not know; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _walk(
    name: str,
    topology: Topology,
    input_shape: tuple[int, int, int],
    num_classes: int,
    layer_meta: dict[str, dict] | None = None,
) -> tuple[tuple[LayerSpec, ...], dict[str, str]]:
    """Derive the LayerSpecs (and torch module paths) by walking shapes through the topology."""
    layer_meta = layer_meta or {}
    channels, h, w = input_shape
    features = channels
    specs: list[LayerSpec] = []
    paths: dict[str, str] = {}

    def walk_section(section: str, ops) -> None:
        nonlocal channels, h, w, features
        for index, op in enumerate(ops):
            path = f"{section}.{index}"
            if isinstance(op, Conv):
                spec = LayerSpec(
                    name=op.name,
                    kind="conv",
                    in_channels=channels,
                    out_channels=op.out_channels,
                    kernel=(op.kernel, op.kernel),
                    stride=(op.stride, op.stride),
                    padding=(op.padding, op.padding),
                    groups=op.groups,
                    input_hw=(h, w),
                    **layer_meta.get(op.name, {}),
                )
                specs.append(spec)
                paths[op.name] = path
                channels, (h, w) = op.out_channels, spec.output_hw
            elif isinstance(op, MaxPool):
                h = conv_output_size(h, op.kernel, op.stride, op.padding)
                w = conv_output_size(w, op.kernel, op.stride, op.padding)
                if h < 1 or w < 1:
                    raise ValueError(
                        f"network {name!r}: input_size={input_shape[1]} is too small "
                        "(a pooling layer would output nothing)"
                    )
            elif isinstance(op, Flatten):
                features = channels * h * w
            elif isinstance(op, Linear | LSTMGates):
                out = op.out_features or num_classes
                kind = "lstm" if isinstance(op, LSTMGates) else "fc"
                spec = LayerSpec(
                    name=op.name,
                    kind=kind,
                    in_channels=features,
                    out_channels=out,
                    **layer_meta.get(op.name, {}),
                )
                specs.append(spec)
                paths[op.name] = path
                features = out
            elif isinstance(op, ReLU | LocalResponseNorm | Dropout):
                pass
            else:  # pragma: no cover - a new op kind must be handled here
                raise TypeError(f"unhandled op {op!r}")

    walk_section("features", topology.features)
    if topology.avgpool is not None:
        h, w = topology.avgpool.output_hw
    features = channels * h * w
    walk_section("classifier", topology.classifier)
    return tuple(specs), paths


# --- topologies -------------------------------------------------------------------------------

_ALEXNET_CAFFE = Topology(
    features=(
        Conv("conv1", 96, 11, stride=4),
        ReLU(),
        LocalResponseNorm(5),
        MaxPool(3, 2),
        Conv("conv2", 256, 5, padding=2, groups=2),
        ReLU(),
        LocalResponseNorm(5),
        MaxPool(3, 2),
        Conv("conv3", 384, 3, padding=1),
        ReLU(),
        Conv("conv4", 384, 3, padding=1, groups=2),
        ReLU(),
        Conv("conv5", 256, 3, padding=1, groups=2),
        ReLU(),
        MaxPool(3, 2),
    ),
    avgpool=None,
    classifier=(
        Linear("fc6", 4096),
        ReLU(),
        Dropout(),
        Linear("fc7", 4096),
        ReLU(),
        Dropout(),
        Linear("fc8", 0),
    ),
)

# torchvision.models.alexnet, index for index (so state_dict keys match).
_ALEXNET_TORCHVISION = Topology(
    features=(
        Conv("conv1", 64, 11, stride=4, padding=2),
        ReLU(),
        MaxPool(3, 2),
        Conv("conv2", 192, 5, padding=2),
        ReLU(),
        MaxPool(3, 2),
        Conv("conv3", 384, 3, padding=1),
        ReLU(),
        Conv("conv4", 256, 3, padding=1),
        ReLU(),
        Conv("conv5", 256, 3, padding=1),
        ReLU(),
        MaxPool(3, 2),
    ),
    avgpool=AdaptiveAvgPool((6, 6)),
    classifier=(
        Dropout(),
        Linear("fc6", 4096),
        ReLU(),
        Dropout(),
        Linear("fc7", 4096),
        ReLU(),
        Linear("fc8", 0),
    ),
)


def _vgg16_topology() -> Topology:
    ops: list = []
    cfg = [(1, 64), (1, 64), "M", (2, 128), (2, 128), "M", (3, 256), (3, 256), (3, 256), "M"]
    cfg += [(4, 512), (4, 512), (4, 512), "M", (5, 512), (5, 512), (5, 512), "M"]
    counters: dict[int, int] = {}
    for item in cfg:
        if item == "M":
            ops.append(MaxPool(2, 2))
            continue
        block, out = item
        counters[block] = counters.get(block, 0) + 1
        ops += [Conv(f"conv{block}_{counters[block]}", out, 3, padding=1), ReLU()]
    return Topology(
        features=tuple(ops),
        avgpool=AdaptiveAvgPool((7, 7)),
        classifier=(
            Linear("fc6", 4096),
            ReLU(),
            Dropout(),
            Linear("fc7", 4096),
            ReLU(),
            Dropout(),
            Linear("fc8", 0),
        ),
    )


_LENET_300_100 = Topology(
    classifier=(Linear("fc1", 300), ReLU(), Linear("fc2", 100), ReLU(), Linear("fc3", 0)),
)

_LENET_5 = Topology(
    features=(Conv("conv1", 20, 5), MaxPool(2, 2), Conv("conv2", 50, 5), MaxPool(2, 2)),
    classifier=(Linear("fc1", 500), ReLU(), Linear("fc2", 0)),
)


@dataclass(frozen=True)
class _Definition:
    topology: Topology
    input_shape: tuple[int, int, int]
    num_classes: int
    family: str
    description: str
    layer_meta: dict[str, dict] = field(default_factory=dict)


_DEFINITIONS: dict[str, _Definition] = {
    "alexnet-caffe": _Definition(
        _ALEXNET_CAFFE,
        (3, 227, 227),
        1000,
        "network",
        "BVLC AlexNet (two groups), 227×227 — the Deep Compression network",
    ),
    "alexnet": _Definition(
        _ALEXNET_TORCHVISION, (3, 224, 224), 1000, "network", "torchvision AlexNet, 224×224"
    ),
    "vgg16": _Definition(
        _vgg16_topology(), (3, 224, 224), 1000, "network", "torchvision VGG-16, 224×224"
    ),
    "lenet-300-100": _Definition(
        _LENET_300_100, (1, 28, 28), 10, "network", "LeNet-300-100 (Caffe), 28×28×1"
    ),
    "lenet-5": _Definition(_LENET_5, (1, 28, 28), 10, "network", "LeNet-5 (Caffe), 28×28×1"),
}

# EIE benchmark layers (EIE Table III): name -> (in, out, weight density, activation density,
# kind, description).
EIE_BENCHMARK_LAYERS: dict[str, tuple[int, int, float, float, str, str]] = {
    "alex-6": (9216, 4096, 0.09, 0.351, "fc", "AlexNet fc6"),
    "alex-7": (4096, 4096, 0.09, 0.353, "fc", "AlexNet fc7"),
    "alex-8": (4096, 1000, 0.25, 0.375, "fc", "AlexNet fc8"),
    "vgg-6": (25088, 4096, 0.04, 0.183, "fc", "VGG-16 fc6"),
    "vgg-7": (4096, 4096, 0.04, 0.375, "fc", "VGG-16 fc7"),
    "vgg-8": (4096, 1000, 0.23, 0.411, "fc", "VGG-16 fc8"),
    "nt-we": (4096, 600, 0.10, 1.0, "fc", "NeuralTalk word embedding"),
    "nt-wd": (600, 8791, 0.11, 1.0, "fc", "NeuralTalk word decoder"),
    "nt-lstm": (1201, 2400, 0.10, 1.0, "lstm", "NeuralTalk LSTM gates"),
}

for _name, (_in, _out, _wd, _ad, _kind, _desc) in EIE_BENCHMARK_LAYERS.items():
    _op = LSTMGates(_name, _out) if _kind == "lstm" else Linear(_name, _out)
    _DEFINITIONS[_name] = _Definition(
        Topology(classifier=(_op,)),
        (_in, 1, 1),
        _out,
        "eie-layer",
        f"EIE benchmark layer: {_desc} ({_in}×{_out}, weight density {_wd:.0%}, "
        f"activation density {_ad:.1%})",
        {_name: {"weight_density": _wd, "activation_density": _ad}},
    )

# The zoo (`workloads.zoo`, lowered from torch modules by `workloads.model_source`).
ZOO_NAMES: tuple[str, ...] = ("resnet18", "mobilenet-v2", "squeezenet1.1")
NETWORK_NAMES: tuple[str, ...] = tuple(_DEFINITIONS) + ZOO_NAMES


def get_network(
    name: str,
    *,
    num_classes: int | None = None,
    input_size: int | None = None,
    in_channels: int | None = None,
) -> Network:
    """The network `name`, optionally at another class count, input size (H = W) or channels.

    Raises `UnknownNetworkError` (a KeyError) naming the known networks for an unknown name,
    and ValueError for an impossible size.
    """
    if name in ZOO_NAMES:
        from workloads.module_network import zoo_network

        size = input_size or 224
        shape = (in_channels or 3, size, size)
        return zoo_network(name, None if shape == (3, 224, 224) else shape, num_classes)
    try:
        definition = _DEFINITIONS[name]
    except KeyError:
        raise UnknownNetworkError(
            f"unknown network {name!r}; known networks: {', '.join(NETWORK_NAMES)}"
        ) from None
    c, h, w = definition.input_shape
    if definition.family == "eie-layer" and (input_size or in_channels or num_classes):
        raise ValueError(f"network {name!r} is a single benchmark layer with a fixed shape")
    for field_name, value in (
        ("num_classes", num_classes),
        ("input_size", input_size),
        ("in_channels", in_channels),
    ):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{field_name}={value!r} is invalid; allowed: an integer >= 1")
    if input_size is not None:
        h = w = input_size
    if in_channels is not None:
        c = in_channels
    classes = num_classes or definition.num_classes
    layers, paths = _walk(name, definition.topology, (c, h, w), classes, definition.layer_meta)
    return Network(
        name=name,
        layers=layers,
        input_shape=(c, h, w),
        num_classes=classes,
        topology=definition.topology,
        module_paths=paths,
        family=definition.family,
        description=definition.description,
    )
