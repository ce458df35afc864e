"""Model sources: a `.py` factory and its ONNX export through `dcsim layers`, the lowered graph
against the torch module, ONNX batch-norm / MatMul folding, and one-line errors for bad
model input."""

import json
import subprocess
import sys
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn
from user_models.mixed import INPUT_SHAPE, mixed

from dcsim.cli import main
from workloads import load_network
from workloads.graph_runner import GraphModule

FACTORY = "tests/user_models/mixed.py:mixed"
SHAPE = ",".join(map(str, INPUT_SHAPE))


def export_onnx(module: nn.Module, shape, path) -> str:
    """torch's TorchScript-based exporter (no onnxscript needed), eval mode, opset default."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.zeros(1, *shape),), str(path), dynamo=False)
    return str(path)


def hook_rows(module: nn.Module, shape) -> list[dict]:
    """(layer, weights, MACs, weight shape, output shape) of every Conv2d / Linear, counted by
    forward hooks on the module itself, in execution order."""
    rows = []
    handles = []
    for path, sub in module.named_modules():
        if isinstance(sub, nn.Conv2d | nn.Linear):

            def hook(mod, _inp, out, path=path):
                positions = out.shape[2] * out.shape[3] if out.dim() == 4 else 1
                rows.append(
                    {
                        "layer": path,
                        "weights": mod.weight.numel(),
                        "macs": mod.weight.numel() * positions,
                        "weight_shape": list(mod.weight.shape),
                        "output_shape": list(out.shape[1:]),
                    }
                )

            handles.append(sub.register_forward_hook(hook))
    with torch.no_grad():
        module(torch.zeros(1, *shape))
    for handle in handles:
        handle.remove()
    return rows


def cli_json(capsys, *argv) -> list[dict]:
    assert main([*argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _layers(rows):
    return [
        {k: r[k] for k in ("layer", "weights", "macs", "weight_shape", "output_shape")}
        for r in rows
        if r["layer"] != "total"
    ]


@pytest.fixture(scope="module")
def mixed_onnx(tmp_path_factory):
    return export_onnx(mixed(), INPUT_SHAPE, tmp_path_factory.mktemp("onnx") / "mixed.onnx")


def test_layers_of_a_factory_and_of_its_onnx_export_match_forward_hooks(capsys, mixed_onnx):
    expected = hook_rows(mixed(), INPUT_SHAPE)
    from_py = cli_json(capsys, "layers", FACTORY, "--input-shape", SHAPE)
    from_onnx = cli_json(capsys, "layers", mixed_onnx)
    assert _layers(from_py) == expected
    assert _layers(from_onnx) == expected  # same names: torch's export scopes map back
    for rows in (from_py, from_onnx):
        assert rows[-1]["weights"] == sum(r["weights"] for r in expected)
        assert rows[-1]["macs"] == sum(r["macs"] for r in expected)
    # the module's own input_shape attribute stands in for --input-shape
    assert cli_json(capsys, "layers", "tests/user_models/mixed.py:mixed_with_shape") == from_py


def test_layer_attributes_and_graph(mixed_onnx):
    network = load_network(FACTORY, INPUT_SHAPE)
    grouped, depthwise = network.layer("grouped"), network.layer("depthwise")
    assert (grouped.groups, grouped.is_depthwise) == (4, False)
    assert (depthwise.groups, depthwise.dilation, depthwise.padding) == (12, (2, 2), (2, 2))
    assert depthwise.is_depthwise and network.layer("stem").stride == (2, 2)
    assert network.layer("branch").kernel == (3, 1) and network.layer("head.1").kind == "fc"
    ops = {node.name: node.op for node in network.graph.nodes}
    assert "stem_bn" not in ops and "depthwise_bn" not in ops  # folded into their convs
    assert ops["post_concat_bn"] == "batchnorm"  # reads a concat: kept, outside the engine
    assert network.graph.node("post_concat_bn").placement == "host"
    onnx_network = load_network(mixed_onnx)
    assert [layer.name for layer in onnx_network.layers] == [l.name for l in network.layers]
    assert onnx_network.layers == network.layers  # identical LayerSpecs


def test_lowered_graph_reproduces_the_module_for_both_sources(mixed_onnx):
    module = mixed()
    x = torch.randn(3, *INPUT_SHAPE)
    with torch.no_grad():
        expected = module(x)
        for network in (load_network(FACTORY, INPUT_SHAPE), load_network(mixed_onnx)):
            got = GraphModule(network)(x)
            assert torch.allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_folded_weights_are_the_deployment_fold():
    module = mixed()
    network = load_network(module, INPUT_SHAPE)
    bn, conv = module.depthwise_bn, module.depthwise
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight * scale.view(-1, 1, 1, 1)
    bias = bn.bias - bn.running_mean * scale
    assert np.allclose(network.parameters["depthwise.weight"], weight.detach().numpy(), atol=1e-6)
    assert np.allclose(network.parameters["depthwise.bias"], bias.detach().numpy(), atol=1e-6)


def _onnx_model(path, nodes, initializers, in_shape, out_shape, opset=17):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, str(path))
    return str(path)


def test_onnx_batchnorm_matmul_and_bias_are_folded(tmp_path):
    """A hand-built ONNX graph: Conv → BatchNormalization → Relu → GlobalAveragePool → Flatten
    → MatMul → Add(bias); the numbers are checked against NumPy."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 2, 3, 3))
    gamma, beta = rng.uniform(0.5, 1.5, 4), rng.uniform(-0.2, 0.2, 4)
    mean, var = rng.uniform(-0.3, 0.3, 4), rng.uniform(0.5, 2.0, 4)
    m, b = rng.standard_normal((4, 5)), rng.standard_normal(5)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization", ["c", "g", "bt", "mu", "var"], ["n"], name="bn", epsilon=1e-3
        ),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="gap"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("MatMul", ["f", "m"], ["mm"], name="fc"),
        helper.make_node("Add", ["mm", "b"], ["y"], name="bias"),
    ]
    inits = {"w": w, "g": gamma, "bt": beta, "mu": mean, "var": var, "m": m, "b": b}
    path = _onnx_model(tmp_path / "bn.onnx", nodes, inits, [1, 2, 6, 6], [1, 5])
    network = load_network(path)
    assert [layer.name for layer in network.layers] == ["conv", "fc"]
    assert [node.op for node in network.graph.nodes] == [
        "input", "conv", "relu", "adaptive_avgpool", "reshape", "fc"
    ]  # fmt: skip
    scale = gamma / np.sqrt(var + 1e-3)
    assert np.allclose(network.parameters["conv.weight"], w * scale[:, None, None, None], atol=1e-6)
    assert np.allclose(network.parameters["conv.bias"], beta - mean * scale, atol=1e-6)
    assert np.allclose(network.parameters["fc.weight"], m.T) and np.allclose(
        network.parameters["fc.bias"], b
    )
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    conv = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w).float(), padding=1)
    n = (conv.numpy() - mean[None, :, None, None]) * scale[None, :, None, None]
    n = n + beta[None, :, None, None]
    expected = np.maximum(n, 0).mean(axis=(2, 3)) @ m + b
    got = GraphModule(network)(torch.from_numpy(x)).detach().numpy()
    assert np.allclose(got, expected, atol=1e-4)


def test_onnx_symbolic_input_takes_input_shape(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", strides=[2, 2])]
    path = _onnx_model(
        tmp_path / "dyn.onnx", nodes, {"w": np.ones((4, 3, 3, 3))}, ["N", 3, "H", "W"],
        ["N", 4, "h", "w"],
    )  # fmt: skip
    with pytest.raises(ValueError, match="symbolic dimensions"):
        load_network(path)
    network = load_network(path, "3,33,17")
    assert network.layer("conv").output_hw == (16, 8) and network.input_shape == (3, 33, 17)


BAD_INPUTS = [
    (
        ["layers", "tests/user_models/mixed.py:raises", "--input-shape", "3,8,8"],
        "raised RuntimeError",
    ),
    (
        ["layers", "tests/user_models/mixed.py:returns_number", "--input-shape", "3,8,8"],
        "returned int",
    ),
    (["layers", "tests/user_models/mixed.py:missing", "--input-shape", "3,8,8"], "no function"),
    (["layers", "tests/user_models/mixed.py:mixed"], "needs an input shape"),
    (
        ["layers", "tests/user_models/mixed.py:unsupported", "--input-shape", "3,8,8"],
        r"node 'up' \(nn.Upsample\): unsupported op",
    ),
    (["layers", FACTORY, "--input-shape", "3,20"], "input_shape='3,20' is invalid"),
    (["layers", FACTORY, "--input-shape", "1,20,18"], "does not fit the module"),
    (["layers", "nonexistent.onnx"], "no such ONNX file"),
    (["layers", "resnet19"], "unknown network 'resnet19'; known networks: alexnet-caffe"),
]


@pytest.mark.parametrize(("argv", "match"), BAD_INPUTS)
def test_bad_model_input_is_one_line_exit_2(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dcsim: error: ")
    assert __import__("re").search(match, err), err


def test_bad_onnx_files(tmp_path, capsys, mixed_onnx):
    not_onnx = tmp_path / "notes.onnx"
    not_onnx.write_text("this is a text file, not a protobuf\n" * 20)
    unsupported = _onnx_model(
        tmp_path / "erf.onnx", [helper.make_node("Erf", ["x"], ["y"], name="erf")], {}, [1, 4],
        [1, 4],
    )  # fmt: skip
    cases = [
        ([str(not_onnx)], "is not an ONNX model"),
        ([unsupported], r"node 'erf' \(Erf\): unsupported op"),
        (
            [mixed_onnx, "--input-shape", "3,32,32"],
            r"does not match the ONNX input .* \(3, 20, 18\)",
        ),
    ]
    for argv, match in cases:
        assert main(["layers", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and __import__("re").search(match, err), err


def test_state_dict_for_another_model_is_refused(tmp_path, capsys):
    other = tmp_path / "other.pth"
    torch.save(nn.Sequential(nn.Linear(4, 2)).state_dict(), other)
    recipe = tmp_path / "uniform.toml"
    recipe.write_text("density = 0.5\nweight_bits = 4\n")
    argv = ["storage", FACTORY, "--input-shape", SHAPE, "--recipe", str(recipe)]
    assert main([*argv, "--weights", str(other)]) == 2
    err = capsys.readouterr().err
    assert "does not match the model: missing keys" in err and err.count("\n") == 1
    # a state_dict of this model loads, and its values (not the factory's) are used
    trained = mixed()
    with torch.no_grad():
        trained.head[1].weight.mul_(2.0)
    mine = tmp_path / "mine.pth"
    torch.save(trained.state_dict(), mine)
    assert main([*argv, "--weights", str(mine)]) == 0
    loaded = load_network(FACTORY, INPUT_SHAPE, weights=str(mine))
    assert np.array_equal(
        loaded.parameters["head.1.weight"], trained.head[1].weight.detach().numpy()
    )
    with pytest.raises(ValueError, match="ONNX file carries its weights"):
        load_network("x.onnx", weights=str(mine))


def test_console_script_has_no_traceback_for_a_factory_that_raises():
    proc = subprocess.run(
        [sys.executable, "-m", "dcsim.cli", "layers", "tests/user_models/mixed.py:raises",
         "--input-shape", "3,8,8"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_validate_takes_a_model_source_holding_an_alexnet_classifier(tmp_path):
    """`dcsim validate --network file.py:factory`: the EIE Alex-6/7/8 rows use the source's
    fc6/fc7/fc8 (found by shape) and activations captured through its graph — the same as
    the AlexNet state_dict path on the same weights."""
    from PIL import Image

    from dcsim.measured_layers import measured_alexnet_layers
    from workloads import get_network
    from workloads.torch_models import build_model

    factory = tmp_path / "alex.py"
    factory.write_text(
        "from workloads import get_network\n"
        "from workloads.torch_models import build_model\n\n"
        "def alexnet():\n"
        "    model = build_model(get_network('alexnet'), seed=0)\n"
        "    model.input_shape = (3, 224, 224)\n"
        "    return model\n"
    )
    weights = tmp_path / "alexnet.pth"
    torch.save(build_model(get_network("alexnet"), seed=0).state_dict(), weights)
    folder = tmp_path / "val" / "a"
    folder.mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 256, (230, 250, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / "0.png")
    reference = measured_alexnet_layers(weights, tmp_path / "val", images=1)
    from_source = measured_alexnet_layers(
        None, tmp_path / "val", network=f"{factory}:alexnet", images=1
    )
    for eie in ("alex-6", "alex-7", "alex-8"):
        np.testing.assert_array_equal(from_source[eie].weights, reference[eie].weights)
        np.testing.assert_allclose(
            from_source[eie].activations, reference[eie].activations, rtol=1e-4, atol=1e-5
        )
    with pytest.raises(ValueError, match=r"no fc layer of shape 9216→4096 \(alex-6\)"):
        measured_alexnet_layers(None, None, network="tests/user_models/mixed.py:mixed_with_shape")
