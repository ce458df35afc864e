"""Conv lowering with dilation, stride, padding and groups (depthwise included): the broadcast
stream, the scanned-activation count and the output size against plain-Python / torch
references computed independently of `simulator.lowering`."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from compression.sparse_format import encode_sparse
from simulator import load_accelerator
from simulator.analytical_model import analytical_timing_counts
from simulator.lowering import activation_stream, layer_work, scanned_activations
from workloads.layer_spec import LayerSpec


def reference_stream(spec: LayerSpec, x: np.ndarray) -> tuple[list[int], int]:
    """Item types in broadcast order and the number of in-bounds taps, by explicit loops:
    position (raster order) → group → local channel → ky → kx; tap (ky, kx) of position
    (oy, ox) reads pixel (oy·sh − ph + ky·dh, ox·sw − pw + kx·dw)."""
    c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = spec.kernel, spec.stride, spec.padding, spec.dilation
    groups = spec.groups
    per_group = c // groups
    cols = per_group * kh * kw
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    stream, scanned = [], 0
    for oy in range(oh):
        for ox in range(ow):
            for g in range(groups):
                for ci in range(per_group):
                    for ky in range(kh):
                        for kx in range(kw):
                            y, xx = oy * sh - ph + ky * dh, ox * sw - pw + kx * dw
                            if 0 <= y < h and 0 <= xx < w:
                                scanned += 1
                                if x[g * per_group + ci, y, xx] != 0:
                                    stream.append(g * cols + ci * kh * kw + ky * kw + kx)
    return stream, scanned


@st.composite
def conv_specs(draw):
    groups = draw(st.integers(1, 3))
    per_group_in = draw(st.integers(1, 2))
    depthwise = draw(st.booleans())
    if depthwise:
        per_group_in = 1
    multiplier = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = draw(st.integers(max(1, span_h - 2 * ph), max(1, span_h - 2 * ph) + 6))
    w = draw(st.integers(max(1, span_w - 2 * pw), max(1, span_w - 2 * pw) + 6))
    return LayerSpec(
        "c",
        "conv",
        groups * per_group_in,
        groups * multiplier,
        kernel=(kh, kw),
        stride=(sh, sw),
        padding=(ph, pw),
        groups=groups,
        input_hw=(h, w),
        dilation=(dh, dw),
    )


@settings(max_examples=80, deadline=None)
@given(spec=conv_specs(), density=st.floats(0.0, 1.0), seed=st.integers(0, 99))
def test_conv_stream_and_scan_match_reference_with_dilation(spec, density, seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((spec.in_channels, *spec.input_hw)) < density).astype(np.float32)
    expected, scanned = reference_stream(spec, x)
    assert activation_stream(spec, x).tolist() == expected
    assert scanned_activations(spec) == scanned
    # Output size and MACs against torch's own convolution (an independent implementation).
    conv = torch.nn.Conv2d(
        spec.in_channels,
        spec.out_channels,
        spec.kernel,
        stride=spec.stride,
        padding=spec.padding,
        dilation=spec.dilation,
        groups=spec.groups,
        bias=False,
    )
    out = conv(torch.zeros(1, spec.in_channels, *spec.input_hw))
    assert tuple(out.shape[1:]) == spec.output_shape
    assert spec.macs == conv.weight.numel() * out.shape[2] * out.shape[3]
    assert spec.is_depthwise == (spec.groups > 1 and spec.groups == spec.in_channels)


@settings(max_examples=30, deadline=None)
@given(spec=conv_specs(), seed=st.integers(0, 99))
def test_dilated_depthwise_work_covers_every_item_of_the_stream(spec, seed):
    """Every broadcast item is a column of its own group: a PE's work on it comes only from
    that group's rows (the stream's item types index the work table exactly)."""
    rng = np.random.default_rng(seed)
    rows, cols = spec.matrix_shape
    codes = (rng.random((rows, cols)) < 0.7).astype(np.uint16)
    work = layer_work(encode_sparse(codes, 2, 4), spec, 8, 64)
    x = np.ones((spec.in_channels, *spec.input_hw), np.float32)
    stream = activation_stream(spec, x)
    assert stream.max(initial=-1) < work.n_types
    per_group = rows // spec.groups
    for item in np.unique(stream):
        g, c = divmod(int(item), cols)
        for p in range(2):
            own = [r for r in range(g * per_group, (g + 1) * per_group) if r % 2 == p]
            assert work.entries[item, p] == sum(int(codes[r, c] != 0) for r in own)


def test_analytical_scans_dilated_patches():
    """The analytical model broadcasts density × the in-bounds taps of the dilated kernel."""
    spec = LayerSpec(
        "d", "conv", 8, 8, kernel=(3, 3), padding=(2, 2), dilation=(2, 2), input_hw=(9, 9)
    )
    x = np.ones((8, 9, 9), np.float32)
    _, scanned = reference_stream(spec, x)
    arch = load_accelerator("eie")
    _, counts = analytical_timing_counts(spec, 0.5, 0.25, 8, 4, arch)
    assert counts.scanned_activations == scanned
    assert counts.broadcasts == 0.25 * scanned
