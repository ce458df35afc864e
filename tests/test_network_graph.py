"""NetworkGraph: validation, the synthetic sparsity flow, the sequential built-ins as graphs
(run against their torch models), and the simulator drawing inputs at the flowed densities."""

import math

import numpy as np
import pytest
import torch

from simulator import load_accelerator, pruned_layer, simulate_network
from workloads import get_network
from workloads.graph import NetworkGraph, host_op_summary, make_node, synthetic_node_densities
from workloads.graph_runner import GraphModule
from workloads.synthetic import synthetic_input_densities
from workloads.torch_models import build_model, layer_modules


def test_graph_validation_names_the_problem():
    a = make_node("input", "input", (), (3, 4, 4))
    with pytest.raises(ValueError, match="reads 'later' before it is computed"):
        NetworkGraph((a, make_node("r", "relu", ("later",), (3, 4, 4))), "r")
    with pytest.raises(ValueError, match="appears twice"):
        NetworkGraph((a, make_node("input", "relu", ("input",), (3, 4, 4))), "input")
    with pytest.raises(ValueError, match="op='upsample' is invalid"):
        make_node("u", "upsample", ("input",), (3, 8, 8))


def test_synthetic_density_flow_rules():
    d = 0.25
    nodes = [
        make_node("input", "input", (), (4, 8, 8)),
        make_node("c1", "conv", ("input",), (4, 8, 8)),
        make_node("r1", "relu", ("c1",), (4, 8, 8)),
        make_node("pool", "maxpool", ("r1",), (4, 4, 4), kernel=(2, 2), stride=(2, 2)),
        make_node("c2", "conv", ("pool",), (4, 4, 4)),
        make_node("r2", "relu", ("c2",), (4, 4, 4)),
        make_node("sum", "add", ("pool", "r2"), (4, 4, 4)),
        make_node("gate", "mul", ("pool", "r2"), (4, 4, 4)),
        make_node("cat", "concat", ("sum", "c2"), (8, 4, 4), axis=0),
        make_node("flat", "reshape", ("cat",), (128,)),
        make_node("fc", "fc", ("flat",), (10,)),
        make_node("sig", "activation", ("fc",), (10,), fn="sigmoid"),
        make_node("fc2", "fc", ("sig",), (3,)),
        make_node("again", "relu", ("r2",), (4, 4, 4)),
    ]
    graph = NetworkGraph(tuple(nodes), "fc2")
    density = synthetic_node_densities(graph, d)
    assert density["c1"] == 1.0 and density["r1"] == d and density["pool"] == d
    assert density["sum"] == pytest.approx(1 - (1 - d) * (1 - d))
    assert density["gate"] == pytest.approx(d * d)
    assert density["cat"] == pytest.approx((density["sum"] * 64 + 1.0 * 64) / 128)
    assert density["flat"] == density["cat"] and density["sig"] == 1.0
    assert density["again"] == d  # a ReLU of a ReLU output keeps its density


def test_published_densities_win_over_the_flow():
    densities = synthetic_input_densities(get_network("alex-7"), 0.5)
    assert densities == {"alex-7": 0.353}


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("alexnet-caffe", {"input_size": 99, "num_classes": 10}),
        ("lenet-5", {}),
        ("vgg16", {"input_size": 32}),
    ],
)
def test_sequential_builtins_as_graphs_run_like_their_torch_models(name, kwargs):
    network = get_network(name, **kwargs)
    model = build_model(network, seed=0).eval()
    modules = layer_modules(model, network)
    weights = {n: m.weight.detach().numpy() for n, m in modules.items()}
    biases = {n: m.bias.detach().numpy() for n, m in modules.items()}
    x = torch.randn(2, *network.input_shape)
    with torch.no_grad():
        assert torch.allclose(GraphModule(network, weights, biases)(x), model(x), atol=1e-5)


def test_builtin_graph_flow_and_host_ops():
    alexnet = get_network("alexnet-caffe")
    assert host_op_summary(alexnet.graph)[:2] == ("lrn×2, maxpool×3", 5)
    flowed = synthetic_input_densities(alexnet, 0.5)
    assert flowed["conv1"] == 1.0 and all(v == 0.5 for k, v in flowed.items() if k != "conv1")
    lenet = synthetic_input_densities(get_network("lenet-5"), 0.5)
    # Caffe's LeNet-5 has no ReLU after its convolutions: conv2 and fc1 see dense inputs
    assert lenet == {"conv1": 1.0, "conv2": 1.0, "fc1": 1.0, "fc2": 0.5}


def test_simulator_draws_inputs_at_the_given_densities():
    arch = load_accelerator("edge-16")
    network = get_network("lenet-300-100")
    layers = [
        pruned_layer(spec, 0.5, n_pe=arch.n_pe, weight_bits=4, index_bits=4, seed=1)
        for spec in network.layers
    ]
    densities = {"fc1": 1.0, "fc2": 0.25, "fc3": 0.75}
    result = simulate_network(layers, arch, activation_densities=densities)
    for layer_result, spec in zip(result.layers, network.layers):
        broadcasts = layer_result.counts.broadcasts
        assert broadcasts == round(densities[spec.name] * spec.in_channels)
    assert math.isclose(result.layers[1].counts.scanned_activations, 300)
    default = simulate_network(layers, arch)
    assert default.layers[1].counts.broadcasts == round(0.5 * 300)
    assert not np.isclose(default.layers[1].total_cycles, result.layers[1].total_cycles)
