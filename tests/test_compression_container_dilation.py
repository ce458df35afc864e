"""`.dcz` version 2: dilated (and depthwise) conv layers survive a round trip; networks without
dilation are still written as version 1."""

import struct

import numpy as np

from compression import CompressedNetwork, compress_layer
from compression.container import deserialize, serialize
from workloads import LayerSpec


def _network(dilation: tuple[int, int]) -> CompressedNetwork:
    spec = LayerSpec(
        "dw",
        "conv",
        in_channels=6,
        out_channels=6,
        kernel=(3, 3),
        padding=(2, 2),
        groups=6,
        input_hw=(9, 7),
        dilation=dilation,
    )
    weights = np.random.default_rng(0).standard_normal(spec.weight_shape)
    layer = compress_layer(spec, weights, density=0.6, weight_bits=4, index_bits=3, n_pe=4)
    return CompressedNetwork("net", (layer,), "test")


def _version(data: bytes) -> int:
    return struct.unpack_from("<4sH", data)[1]


def test_dilated_layer_round_trips_as_version_2():
    network = _network((2, 3))
    data, _ = serialize(network)
    assert _version(data) == 2
    loaded, _ = deserialize(data)
    spec = loaded.layers[0].spec
    assert spec == network.layers[0].spec
    assert spec.dilation == (2, 3) and spec.output_hw == (9, 5) and spec.is_depthwise
    assert np.array_equal(loaded.layers[0].codes(), network.layers[0].codes())


def test_undilated_network_is_written_as_version_1():
    data, _ = serialize(_network((1, 1)))
    assert _version(data) == 1
    assert deserialize(data)[0].layers[0].spec.dilation == (1, 1)
