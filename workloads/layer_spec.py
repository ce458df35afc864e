"""LayerSpec: the shape of one weight layer (conv, fc or lstm) and the counts derived from it.

Part of `workloads` (DESIGN §2), the first stage of the flow: everything downstream —
compression, simulation, reports — starts from these shapes.

Conventions
- conv: weight shape (out_channels, in_channels / groups, kernel_h, kernel_w); MACs are
  weights × output positions (out_h × out_w). Grouped convolutions (the two-GPU BVLC AlexNet)
  divide the input channels among groups, which is why conv2/4/5 of `alexnet-caffe` are half
  the size of their ungrouped counterparts. A depthwise convolution is the grouped case
  groups = in_channels (> 1): each filter sees one input channel. Dilation d spreads the k
  taps of a kernel d apart, so a kernel covers d·(k − 1) + 1 input pixels (torch / ONNX
  semantics); it changes the output size, not the number of weights.
- fc: weight shape (out_features, in_features); one MAC per weight per inference.
- lstm: the stacked gate matrix of one LSTM step, shape (4·hidden, input + hidden + 1), as in
  EIE's NeuralTalk benchmark (NT-LSTM 1201 × 2400); one MAC per weight per time step.
Biases are not counted: the papers count weights of the weight matrices only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

LayerKind = Literal["conv", "fc", "lstm"]
LAYER_KINDS: tuple[str, ...] = ("conv", "fc", "lstm")
# Size limits, so that a mistyped shape is a clear error instead of an attempt to allocate
# terabytes: 2**28 weights is 1 GiB of float32 per layer (VGG-16's fc6, the largest layer of
# the built-in networks, has 102,760,448); the same bound holds for one input (C × H × W).
MAX_LAYER_WEIGHTS = 2**28
MAX_LAYER_INPUTS = 2**28
MAX_KERNEL_STRIDE_PADDING = 2**16 - 1


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a convolution or pooling window along one axis (floor mode):
    floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True)
class LayerSpec:
    """One weight layer.

    `in_channels`/`out_channels` are channels for conv and features for fc/lstm.
    `input_hw` is the spatial size (H, W) of the layer's input; (1, 1) for fc/lstm.
    `dilation` is the spacing of the kernel taps (conv only; (1, 1) is a plain convolution).
    `weight_density` / `activation_density` are optional published metadata (for example the
    EIE benchmark layers), each in [0, 1]; None when unknown.
    """

    name: str
    kind: LayerKind
    in_channels: int
    out_channels: int
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    groups: int = 1
    input_hw: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    weight_density: float | None = None
    activation_density: float | None = None
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        def bad(field_name: str, value: object, allowed: str) -> ValueError:
            return ValueError(
                f"layer {self.name!r}: {field_name}={value!r} is invalid; allowed: {allowed}"
            )

        if self.kind not in LAYER_KINDS:
            raise bad("kind", self.kind, "one of " + ", ".join(LAYER_KINDS))
        for fname in ("in_channels", "out_channels", "groups"):
            v = getattr(self, fname)
            if not isinstance(v, int) or v < 1:
                raise bad(fname, v, "an integer >= 1")
        for fname, lo in (
            ("kernel", 1),
            ("stride", 1),
            ("padding", 0),
            ("input_hw", 1),
            ("dilation", 1),
        ):
            v = getattr(self, fname)
            hi = MAX_KERNEL_STRIDE_PADDING
            if len(v) != 2 or any((not isinstance(x, int)) or not lo <= x <= hi for x in v):
                raise bad(fname, v, f"a pair of integers in [{lo}, {hi}]")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise bad("groups", self.groups, "a divisor of both in_channels and out_channels")
        if self.kind != "conv":
            if (
                self.kernel != (1, 1)
                or self.stride != (1, 1)
                or self.padding != (0, 0)
                or self.groups != 1
                or self.input_hw != (1, 1)
                or self.dilation != (1, 1)
            ):
                raise bad(
                    "kind",
                    self.kind,
                    "conv (only conv layers have kernel, stride, padding, dilation, groups and "
                    "H×W)",
                )
        else:
            oh, ow = self.output_hw
            if oh < 1 or ow < 1:
                raise bad("input_hw", self.input_hw, "large enough for kernel, stride, padding")
        if self.weights > MAX_LAYER_WEIGHTS:
            raise bad(
                "weights",
                self.weights,
                f"at most {MAX_LAYER_WEIGHTS:,} per layer (shape {self.weight_shape})",
            )
        inputs = self.in_channels * self.input_hw[0] * self.input_hw[1]
        if inputs > MAX_LAYER_INPUTS:
            raise bad("input size", inputs, f"at most {MAX_LAYER_INPUTS:,} values (C × H × W)")
        for fname in ("weight_density", "activation_density"):
            v = getattr(self, fname)
            if v is not None and not (0.0 <= v <= 1.0):
                raise bad(fname, v, "a number in [0, 1] or None")

    @property
    def is_depthwise(self) -> bool:
        """A depthwise convolution: groups = in_channels > 1 (one input channel per filter)."""
        return self.kind == "conv" and self.groups > 1 and self.groups == self.in_channels

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """Shape of the weight tensor (torch layout)."""
        if self.kind == "conv":
            return (self.out_channels, self.in_channels // self.groups, *self.kernel)
        return (self.out_channels, self.in_channels)

    @property
    def weights(self) -> int:
        """Number of weights (biases excluded)."""
        n = 1
        for d in self.weight_shape:
            n *= d
        return n

    @property
    def output_hw(self) -> tuple[int, int]:
        """Spatial size (H, W) of the output; (1, 1) for fc/lstm."""
        if self.kind != "conv":
            return (1, 1)
        return tuple(
            conv_output_size(
                self.input_hw[axis],
                self.kernel[axis],
                self.stride[axis],
                self.padding[axis],
                self.dilation[axis],
            )
            for axis in (0, 1)
        )

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Output shape of one inference: (C, H, W) for conv, (features,) otherwise."""
        if self.kind == "conv":
            return (self.out_channels, *self.output_hw)
        return (self.out_channels,)

    @property
    def output_positions(self) -> int:
        """Number of output positions (H × W) a conv filter is applied at; 1 for fc/lstm."""
        oh, ow = self.output_hw
        return oh * ow

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one inference (one time step for lstm)."""
        return self.weights * self.output_positions

    @property
    def matrix_shape(self) -> tuple[int, int]:
        """(rows, cols) of the weight matrix as the accelerator sees it.

        fc/lstm: (out, in). conv (im2col lowering, DESIGN §4): (out_channels, in/groups·kh·kw)
        per group, stacked — rows are filters, columns are patch elements.
        """
        if self.kind == "conv":
            return (self.out_channels, self.weights // self.out_channels)
        return (self.out_channels, self.in_channels)
