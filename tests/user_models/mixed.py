"""A small torch model for the model-source tests: every op the lowering knows, in one graph.

Used as `tests/user_models/mixed.py:mixed` (a `.py` source) and exported to ONNX by the tests. It
has grouped, depthwise, dilated, strided and padded convolutions, batch-norm to fold (and one
that cannot be folded), a residual add, a concatenation, max / average / global pooling, a
linear layer and functional ops.
"""

import torch
import torch.nn.functional as F
from torch import nn

INPUT_SHAPE = (3, 20, 18)


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(8)
        self.grouped = nn.Conv2d(8, 12, 3, padding=1, groups=4)
        self.depthwise = nn.Conv2d(12, 12, 3, padding=2, dilation=2, groups=12, bias=False)
        self.depthwise_bn = nn.BatchNorm2d(12)
        self.project = nn.Conv2d(12, 8, 1)
        self.branch = nn.Conv2d(8, 6, (3, 1), padding=(1, 0))
        self.post_concat_bn = nn.BatchNorm2d(14)  # reads a concat: cannot be folded
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(14 * 3 * 3, 10))

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        y = torch.relu(self.grouped(x))
        y = F.relu6(self.depthwise_bn(self.depthwise(y)))
        x = x + self.project(y)
        x = torch.cat([x, torch.sigmoid(self.branch(x))], dim=1)
        x = self.pool(self.post_concat_bn(x))
        x = F.avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False)
        x = F.adaptive_avg_pool2d(x, (3, 3))
        return self.head(x.flatten(1))


def mixed():
    torch.manual_seed(0)
    model = Mixed()
    for module in model.modules():  # non-trivial statistics, so folding is really tested
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def mixed_with_shape():
    model = mixed()
    model.input_shape = INPUT_SHAPE
    return model


def raises():
    raise RuntimeError("the factory failed on purpose")


def returns_number():
    return 42


class WithUpsample(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return self.up(self.conv(x))


def unsupported():
    return WithUpsample()
