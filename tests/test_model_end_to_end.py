"""End to end on ResNet-18 and MobileNetV2 from an ONNX file and from a `.py` factory, with
recipes using globs: `dcsim storage`, `compress` / `inspect`, `simulate` (synthetic and
measured activations) and a sweep. Small inputs (32×32) keep every case to seconds."""

import csv
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from user_models import zoo_factories

from dcsim.cli import main
from dcsim.config import parse_config
from dcsim.sweep import run_sweep

PY = {
    "resnet18": "tests/user_models/zoo_factories.py:resnet18",
    "mobilenet-v2": "tests/user_models/zoo_factories.py:mobilenet_v2",
}
RECIPES = {
    "resnet18": """name = "resnet-globs"
density = 0.5
weight_bits = 6
[kind.fc]
density = 0.25
weight_bits = 4
[layers]
conv1 = { density = 0.9 }
"layer4.*.conv2" = { density = 0.3 }
"*.downsample.0" = { density = 0.75 }
""",
    "mobilenet-v2": """name = "mobilenet-globs"
density = 0.5
weight_bits = 6
[kind.depthwise]
density = 0.875
[kind.fc]
density = 0.25
weight_bits = 4
[layers]
"features.1[0-7].conv.*" = { density = 0.375 }
""",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """ONNX exports of the factories' modules and the recipes, in one folder."""
    folder = tmp_path_factory.mktemp("e2e")
    out = {}
    for name, source in PY.items():
        module = getattr(zoo_factories, source.rpartition(":")[2])()
        path = folder / f"{name}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, (torch.zeros(1, *zoo_factories.INPUT_SHAPE),), str(path), dynamo=False
            )
        recipe = folder / f"{name}.toml"
        recipe.write_text(RECIPES[name])
        out[name] = {"onnx": str(path), "py": source, "recipe": str(recipe)}
    out["folder"] = folder
    return out


def _csv(capsys, *argv) -> list[dict]:
    assert main([*argv, "--format", "csv"]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out.split("\n\n")[0])))


@pytest.mark.parametrize("name", sorted(PY))
def test_storage_applies_the_glob_recipe_to_both_sources(capsys, files, name):
    rows = {}
    for kind in ("py", "onnx"):
        argv = ["storage", files[name][kind], "--recipe", files[name]["recipe"], "--pe", "16"]
        rows[kind] = {r["layer"]: r for r in _csv(capsys, *argv)}
    assert list(rows["py"]) == list(rows["onnx"])  # same layers, same names
    for layer, row in rows["py"].items():
        assert row["weights"] == rows["onnx"][layer]["weights"]
        assert abs(float(row["density"]) - float(rows["onnx"][layer]["density"])) < 1e-3
    density = {layer: float(r["density"]) for layer, r in rows["onnx"].items()}
    if name == "resnet18":
        assert abs(density["conv1"] - 0.9) < 1e-3
        assert (
            abs(density["layer4.0.conv2"] - 0.3) < 1e-3
            and abs(density["layer4.1.conv2"] - 0.3) < 1e-3
        )
        assert abs(density["layer2.0.downsample.0"] - 0.75) < 1e-3
        assert abs(density["layer4.0.conv1"] - 0.5) < 1e-3 and abs(density["fc"] - 0.25) < 1e-2
    else:
        assert abs(density["features.2.conv.1.0"] - 0.875) < 1e-3  # depthwise
        assert abs(density["features.12.conv.0.0"] - 0.375) < 1e-3  # glob
        assert abs(density["features.12.conv.1.0"] - 0.375) < 1e-3  # glob beats kind
        assert abs(density["features.18.0"] - 0.5) < 1e-3


@pytest.mark.parametrize("name", sorted(PY))
def test_simulate_both_sources(capsys, files, name):
    results = {}
    for kind in ("py", "onnx"):
        argv = ["simulate", files[name][kind], "--recipe", files[name]["recipe"]]
        rows = _csv(capsys, *argv, "--arch", "edge-16")
        results[kind] = rows
        assert rows[-1]["layer"] == "total" and float(rows[-1]["fps"]) > 0
    assert [r["layer"] for r in results["py"]] == [r["layer"] for r in results["onnx"]]


def test_compress_and_inspect_round_trip(capsys, files, tmp_path):
    out = tmp_path / "mbv2.dcz"
    argv = ["compress", files["mobilenet-v2"]["onnx"], "--recipe", files["mobilenet-v2"]["recipe"]]
    assert main([*argv, "--out", str(out), "--pe", "8"]) == 0
    written = capsys.readouterr().out
    assert main(["inspect", str(out)]) == 0
    read_back = capsys.readouterr().out
    assert written.split("\nwrote")[0] == read_back.split("\n" + str(out))[0]


def _image_folder(root, count: int = 2, size: int = 40):
    rng = np.random.default_rng(0)
    (root / "class_a").mkdir(parents=True)
    for i in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "class_a" / f"{i}.png")
    return root


def test_simulate_measures_activations_with_data(capsys, files, tmp_path):
    data = _image_folder(tmp_path / "images")
    argv = ["simulate", files["mobilenet-v2"]["py"], "--recipe", files["mobilenet-v2"]["recipe"]]
    assert main([*argv, "--arch", "edge-16", "--model", "analytical", "--format", "json"]) == 0
    synthetic = json.loads(capsys.readouterr().out)
    assert main([*argv, "--arch", "edge-16", "--model", "analytical", "--data", str(data),
                 "--format", "json"]) == 0  # fmt: skip
    measured = json.loads(capsys.readouterr().out)
    assert [r["layer"] for r in measured] == [r["layer"] for r in synthetic]
    assert measured[-1]["cycles"] != synthetic[-1]["cycles"]  # real activations differ
    with pytest.raises(ValueError, match="needs a network with a 3×S×S image input"):
        from workloads import load_network
        from workloads.activations import first_images

        first_images(load_network("alex-7"), data)


def test_sweep_on_onnx_and_py_sources(files, tmp_path):
    config = parse_config(
        {
            "name": "zoo-e2e",
            "networks": [
                {
                    "network": files["resnet18"]["onnx"],
                    "density_profile": files["resnet18"]["recipe"],
                },
                {
                    "network": files["mobilenet-v2"]["py"],
                    "density_profile": files["mobilenet-v2"]["recipe"],
                },
            ],
            "grid": {"conv_bits": 6, "fc_bits": 4, "accelerator": "edge-16"},
        }
    )
    results = run_sweep(config, tmp_path / "out", progress=False)
    totals = results[results["row_type"] == "total"].set_index("network")
    assert list(totals["status"]) == ["ok", "ok"]
    assert totals.loc["resnet18", "network_source"] == f"onnx:{files['resnet18']['onnx']}"
    assert (
        totals.loc["zoo_factories.mobilenet_v2", "network_source"] == f"python:{PY['mobilenet-v2']}"
    )
    assert totals.loc["resnet18", "host_ops"] == "adaptive_avgpool×1, add×8, maxpool×1"
    assert totals.loc["zoo_factories.mobilenet_v2", "host_ops"] == "adaptive_avgpool×1, add×10"
    layers = results[results["row_type"] == "layer"]
    resnet = layers[layers["network"] == "resnet18"].set_index("layer")
    assert abs(resnet.loc["layer4.1.conv2", "weight_density"] - 0.3) < 1e-3
    for name in ("results.xlsx", "report.html", "results.csv"):
        assert (tmp_path / "out" / name).is_file()
    assert "network_source" in pd.read_csv(tmp_path / "out" / "results.csv").columns


def test_generic_recipe_runs_on_a_zoo_network_with_no_file(capsys):
    rows = _csv(capsys, "storage", "mobilenet-v2", "--recipe", "generic", "--pe", "4")
    from workloads import get_network

    network = get_network("mobilenet-v2")
    by_layer = {r["layer"]: r for r in rows}
    for layer in network.layers:
        want = 1.0 if layer.is_depthwise else (0.25 if layer.kind == "fc" else 0.5)
        assert abs(float(by_layer[layer.name]["density"]) - want) < 1e-3, layer.name
        assert int(by_layer[layer.name]["weight_bits"]) == (5 if layer.kind == "fc" else 8)
