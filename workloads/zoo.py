"""The built-in zoo: ResNet-18, MobileNetV2 and SqueezeNet 1.1 as torch modules.

Part of `workloads` (DESIGN §2, §8). torchvision's wheels do not load with the CPU build of
torch used here, so the three networks are written out in this file, following torchvision's
definitions (`torchvision/models/resnet.py`, `mobilenetv2.py`, `squeezenet.py`) module for
module, with the same attribute names — a torchvision state_dict loads key for key
(`dcsim ... resnet18 --weights resnet18.pth`). They enter dcsim like any user module: traced
and lowered by `workloads.torch_lowering` (batch-norm folded into the convolutions), at 224×224
unless another input size is asked for.

Published totals (torchvision's weight metadata, `num_params` counts every parameter —
weights, biases and batch-norm γ/β — and `_ops` is GFLOPS counted as multiply-accumulates):
- resnet18: 11,689,512 parameters, 1.814 G (`ResNet18_Weights.IMAGENET1K_V1`);
- mobilenet-v2: 3,504,872 parameters, 0.301 G (`MobileNet_V2_Weights.IMAGENET1K_V1`);
- squeezenet1.1: 1,235,496 parameters, 0.349 G (`SqueezeNet1_1_Weights.IMAGENET1K_V1`).
dcsim counts the weights of the weight matrices only (no biases, batch-norm folded), so its
totals are lower; `tests/test_model_zoo.py` recomputes both counts from the torch modules.
"""

from __future__ import annotations

import torch
from torch import nn

ZOO_NAMES: tuple[str, ...] = ("resnet18", "mobilenet-v2", "squeezenet1.1")
ZOO_DESCRIPTIONS: dict[str, str] = {
    "resnet18": "ResNet-18 (torchvision), 224×224, batch-norm folded",
    "mobilenet-v2": "MobileNetV2 (torchvision, width 1.0), 224×224, batch-norm folded",
    "squeezenet1.1": "SqueezeNet 1.1 (torchvision), 224×224",
}
ZOO_INPUT_SHAPE: tuple[int, int, int] = (3, 224, 224)


# --- ResNet-18 --------------------------------------------------------------------------------


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch-norm and a residual connection (ResNet-18/34)."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18: 7×7 stem, max-pool, four stages of two BasicBlocks, global pool, fc."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        stages, in_planes = [], 64
        for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages.append(
                nn.Sequential(BasicBlock(in_planes, planes, stride), BasicBlock(planes, planes))
            )
            in_planes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --- MobileNetV2 ------------------------------------------------------------------------------


def conv_bn_relu6(
    in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    """Conv (no bias, 'same' padding for odd kernels) → BatchNorm → ReLU6, indexed 0/1/2 as
    torchvision's Conv2dNormActivation."""
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel,
            stride=stride,
            padding=(kernel - 1) // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """Expand (1×1, unless t = 1) → depthwise 3×3 → linear 1×1 projection; residual when the
    stride is 1 and the channel count is kept."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(in_channels, hidden, kernel=1))
        layers += [
            conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# (expansion t, output channels c, repeats n, first stride s) — MobileNetV2 paper, Table 2.
MOBILENET_V2_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class MobileNetV2(nn.Module):
    """MobileNetV2 at width 1.0 (every channel count is already a multiple of 8)."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        features: list[nn.Module] = [conv_bn_relu6(3, 32, stride=2)]
        channels = 32
        for t, c, n, s in MOBILENET_V2_SETTING:
            for i in range(n):
                features.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
                channels = c
        features.append(conv_bn_relu6(channels, 1280, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


# --- SqueezeNet 1.1 ---------------------------------------------------------------------------


class Fire(nn.Module):
    """Squeeze 1×1 → ReLU → concatenation of expand 1×1 and expand 3×3 (each with ReLU)."""

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, 1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            1,
        )


class SqueezeNet11(nn.Module):
    """SqueezeNet 1.1: 3×3 stem, eight Fire modules, 1×1 conv classifier, global pool."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, stride=2),
            nn.ReLU(inplace=True),
            pool,
            Fire(64, 16, 64, 64),
            Fire(128, 16, 64, 64),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            Fire(128, 32, 128, 128),
            Fire(256, 32, 128, 128),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            Fire(512, 64, 256, 256),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Conv2d(512, num_classes, 1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)


ZOO_MODULES = {"resnet18": ResNet18, "mobilenet-v2": MobileNetV2, "squeezenet1.1": SqueezeNet11}


def zoo_module(name: str, num_classes: int = 1000) -> nn.Module:
    """A freshly initialised torch module of zoo network `name` (torch's default init)."""
    if name not in ZOO_MODULES:
        raise KeyError(f"unknown zoo network {name!r}; known: {', '.join(ZOO_NAMES)}")
    return ZOO_MODULES[name](num_classes=num_classes)
