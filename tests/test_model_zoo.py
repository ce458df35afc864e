"""The built-in zoo (resnet18, mobilenet-v2, squeezenet1.1) at ImageNet shapes: per-layer
weights and MACs against counts taken independently by forward hooks on the torch modules,
totals against torchvision's published metadata, and batch-norm folding / graph execution
against the modules' own outputs."""

import pytest
import torch
from torch import nn

from workloads import get_network, load_network
from workloads.graph import host_op_summary
from workloads.graph_runner import GraphModule
from workloads.zoo import zoo_module

# torchvision's weight metadata (torchvision/models/resnet.py ResNet18_Weights.IMAGENET1K_V1,
# mobilenetv2.py MobileNet_V2_Weights.IMAGENET1K_V1, squeezenet.py
# SqueezeNet1_1_Weights.IMAGENET1K_V1): num_params (every parameter, biases and batch-norm
# included) and _ops (GFLOPS counted as multiply-accumulates, 3 decimals).
PUBLISHED = {
    "resnet18": (11_689_512, 1.814),
    "mobilenet-v2": (3_504_872, 0.301),
    "squeezenet1.1": (1_235_496, 0.349),
}


def hook_counts(name: str, input_hw=(224, 224)) -> dict[str, tuple]:
    """(weights, MACs, groups, dilation) per Conv2d / Linear in execution order, counted by
    forward hooks while the torch module itself runs (on the meta device: shapes only)."""
    model = zoo_module(name).to("meta").eval()
    counts: dict[str, tuple] = {}
    handles = []
    for path, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.Linear):

            def hook(mod, _inp, out, path=path):
                positions = out.shape[2] * out.shape[3] if out.dim() == 4 else 1
                extra = (mod.groups, mod.dilation) if isinstance(mod, nn.Conv2d) else (1, (1, 1))
                counts[path] = (mod.weight.numel(), mod.weight.numel() * positions, *extra)

            handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.zeros(1, 3, *input_hw, device="meta"))
    for handle in handles:
        handle.remove()
    return counts


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_zoo_layers_match_forward_hooks_at_imagenet_shape(name):
    network = get_network(name)
    expected = hook_counts(name)
    got = {
        layer.name: (layer.weights, layer.macs, layer.groups, layer.dilation)
        for layer in network.layers
    }
    assert list(got) == list(expected)  # same layers, in execution order, named by module path
    assert got == expected
    assert network.input_shape == (3, 224, 224)
    assert network.source == name and network.parameters is None  # synthetic weights


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_zoo_totals_against_torchvision_metadata(name):
    params, gmacs = PUBLISHED[name]
    assert sum(p.numel() for p in zoo_module(name).parameters()) == params
    network = get_network(name)
    assert round(network.macs / 1e9, 3) == gmacs
    # dcsim counts weight matrices only: every parameter minus the 1-D ones (biases, BN γ/β).
    module = zoo_module(name)
    assert network.weights == sum(p.numel() for p in module.parameters() if p.dim() > 1)


def test_mobilenet_v2_depthwise_layers():
    network = get_network("mobilenet-v2")
    depthwise = [layer for layer in network.layers if layer.is_depthwise]
    assert (
        len(depthwise) == 17
    )  # one per inverted-residual block (MobileNetV2 Table 2: 1+2+3+4+3+3+1)
    for layer in depthwise:
        assert layer.groups == layer.in_channels == layer.out_channels and layer.kernel == (3, 3)
        assert layer.weight_shape == (layer.out_channels, 1, 3, 3)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("resnet18", {"add": 8, "maxpool": 1, "adaptive_avgpool": 1}),  # 8 BasicBlocks
        ("mobilenet-v2", {"add": 10, "adaptive_avgpool": 1}),  # blocks with a residual
        ("squeezenet1.1", {"maxpool": 3, "adaptive_avgpool": 1}),
    ],
)
def test_zoo_graph_ops_outside_the_engine(name, expected):
    summary, count, _ = host_op_summary(get_network(name).graph)
    parsed = dict(part.split("×") for part in summary.split(", "))
    assert {op: int(n) for op, n in parsed.items()} == expected
    assert count == sum(expected.values())


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_zoo_graph_with_folded_batchnorm_reproduces_the_module(name):
    """The lowered graph, run with the module's own (batch-norm folded) parameters, gives the
    module's output — small input, trained-looking batch-norm statistics."""
    torch.manual_seed(1)
    module = zoo_module(name).eval()
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    network = load_network(module, (3, 48, 48))
    assert not [node for node in network.graph.nodes if node.op == "batchnorm"]  # all folded
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        expected = module(x)
        got = GraphModule(network)(x)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5 * float(expected.abs().max()))


def test_zoo_resized_and_state_dict_loading(tmp_path):
    small = get_network("resnet18", input_size=64, num_classes=10)
    assert small.layer("fc").matrix_shape == (10, 512) and small.layer("conv1").output_hw == (
        32,
        32,
    )
    torch.manual_seed(3)
    reference = zoo_module("squeezenet1.1")
    path = tmp_path / "squeezenet.pth"
    torch.save(reference.state_dict(), path)
    loaded = load_network("squeezenet1.1", (3, 64, 64), weights=str(path))
    assert torch.equal(
        torch.from_numpy(loaded.parameters["features.0.weight"]), reference.features[0].weight.data
    )
    with pytest.raises(ValueError, match="does not match the model: missing keys"):
        load_network("resnet18", (3, 64, 64), weights=str(path))
