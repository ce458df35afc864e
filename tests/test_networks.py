"""Layer shapes, weights and MACs of the named networks, against published numbers and an
independent count on real torch forward passes."""

import numpy as np
import pytest
import torch
from torch import nn

from workloads import NETWORK_NAMES, LayerSpec, UnknownNetworkError, get_network
from workloads.networks import EIE_BENCHMARK_LAYERS
from workloads.torch_models import build_model, count_parameters, layer_modules

# (weights, MACs) per layer of the BVLC AlexNet, from DESIGN §2 and the Deep Compression paper.
ALEXNET_CAFFE = {
    "conv1": (34_848, 105_415_200),
    "conv2": (307_200, 223_948_800),
    "conv3": (884_736, 149_520_384),
    "conv4": (663_552, 112_140_288),
    "conv5": (442_368, 74_760_192),
    "fc6": (37_748_736, 37_748_736),
    "fc7": (16_777_216, 16_777_216),
    "fc8": (4_096_000, 4_096_000),
}

PUBLISHED_TOTALS = {  # weights (no biases), MACs
    "alexnet-caffe": (60_954_656, 724_406_816),
    "alexnet": (61_090_496, 714_188_480),
    "vgg16": (138_344_128, 15_470_264_320),
    "lenet-300-100": (266_200, 266_200),
    "lenet-5": (430_500, 2_293_000),
}


def test_alexnet_caffe_per_layer_matches_published():
    net = get_network("alexnet-caffe")
    assert {layer.name: (layer.weights, layer.macs) for layer in net.layers} == ALEXNET_CAFFE
    assert net.layer("conv2").groups == 2 and net.layer("conv3").groups == 1


@pytest.mark.parametrize("name", sorted(PUBLISHED_TOTALS))
def test_published_totals(name):
    net = get_network(name)
    assert (net.weights, net.macs) == PUBLISHED_TOTALS[name]


@pytest.mark.parametrize("name", sorted(EIE_BENCHMARK_LAYERS))
def test_eie_benchmark_layers_carry_shapes_and_densities(name):
    n_in, n_out, wd, ad, kind, _ = EIE_BENCHMARK_LAYERS[name]
    (layer,) = get_network(name).layers
    assert layer.kind == kind
    assert layer.matrix_shape == (n_out, n_in)
    assert (layer.weight_density, layer.activation_density) == (wd, ad)
    assert layer.weights == layer.macs == n_in * n_out


def _count_on_forward_pass(name: str, **kwargs) -> tuple[int, dict[str, tuple[int, int]]]:
    """Parameters and (weights, MACs) per layer, counted by torch on a real forward pass."""
    net = get_network(name, **kwargs)
    model = build_model(net, seed=0).eval()
    per_layer: dict[str, tuple[int, int]] = {}
    handles = []
    for layer_name, module in layer_modules(model, net).items():

        def hook(mod: nn.Module, _inp, out, layer_name=layer_name):
            positions = out.shape[2] * out.shape[3] if out.dim() == 4 else 1
            per_layer[layer_name] = (mod.weight.numel(), mod.weight.numel() * positions)

        handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.zeros(1, *net.input_shape))
    for h in handles:
        h.remove()
    return count_parameters(model), per_layer


@pytest.mark.parametrize("name", NETWORK_NAMES)
def test_spec_agrees_with_torch_forward_pass(name):
    net = get_network(name)
    params, per_layer = _count_on_forward_pass(name)
    assert params == net.weights
    assert per_layer == {layer.name: (layer.weights, layer.macs) for layer in net.layers}


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("alexnet", {"num_classes": 10, "input_size": 64}),
        ("alexnet-caffe", {"num_classes": 10, "input_size": 99}),
        ("vgg16", {"num_classes": 10, "input_size": 32}),
        ("lenet-5", {"num_classes": 7, "input_size": 32, "in_channels": 3}),
    ],
)
def test_resized_networks_agree_with_torch(name, kwargs):
    net = get_network(name, **kwargs)
    params, per_layer = _count_on_forward_pass(name, **kwargs)
    assert params == net.weights
    assert per_layer == {layer.name: (layer.weights, layer.macs) for layer in net.layers}
    assert net.layers[-1].out_channels == kwargs["num_classes"]


def test_unknown_network_lists_known_names():
    with pytest.raises(UnknownNetworkError) as info:
        get_network("resnet50")
    message = str(info.value)
    assert "resnet50" in message and all(n in message for n in NETWORK_NAMES)


def test_too_small_input_is_refused():
    with pytest.raises(ValueError, match="input_size"):
        get_network("alexnet", input_size=32)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "pool"}, "kind"),
        ({"in_channels": 0}, "in_channels"),
        ({"groups": 3}, "groups"),
        ({"weight_density": 1.5}, "weight_density"),
        ({"kernel": (0, 3)}, "kernel"),
    ],
)
def test_layer_spec_validation_names_the_field(kwargs, field):
    base = dict(
        name="x", kind="conv", in_channels=4, out_channels=8, kernel=(3, 3), input_hw=(8, 8)
    )
    base.update(kwargs)
    with pytest.raises(ValueError, match=field):
        LayerSpec(**base)


def test_layer_spec_derived_shapes():
    spec = LayerSpec(
        "c", "conv", 6, 8, kernel=(3, 5), stride=(2, 1), padding=(1, 2), groups=2, input_hw=(9, 7)
    )
    assert spec.weight_shape == (8, 3, 3, 5)
    assert spec.output_hw == ((9 + 2 - 3) // 2 + 1, (7 + 4 - 5) // 1 + 1)
    assert spec.macs == 8 * 3 * 3 * 5 * 5 * 7
    assert spec.matrix_shape == (8, 45)


def test_layer_sizes_are_bounded_with_a_clear_error():
    from workloads.layer_spec import MAX_LAYER_WEIGHTS

    with pytest.raises(ValueError, match=r"weights=1000000000000 is invalid; allowed: at most"):
        LayerSpec("huge", "fc", in_channels=10**6, out_channels=10**6)
    LayerSpec("vgg-fc6-sized", "fc", in_channels=25088, out_channels=4096)  # within the bound
    assert 25088 * 4096 <= MAX_LAYER_WEIGHTS
    with pytest.raises(ValueError, match="input size"):
        LayerSpec("wide", "conv", 3, 1, kernel=(1, 1), input_hw=(60000, 60000))
    with pytest.raises(ValueError, match="only conv layers have kernel, stride"):
        LayerSpec("fc", "fc", 4, 4, stride=(2, 1))


def test_pe_counts_are_bounded_everywhere():
    from compression.sparse_format import MAX_N_PE, encode_sparse

    with pytest.raises(
        ValueError, match=rf"n_pe=1000000000 is invalid; allowed: an integer in \[1, {MAX_N_PE}\]"
    ):
        encode_sparse(np.ones((4, 4), np.uint16), 10**9, 4)
