"""The ImageNet path (`--weights PATH --data DIR`) on a tiny generated folder and a random
torchvision-shaped AlexNet state_dict, through the CLI; and its input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from compression import load_container
from dcsim.cli import main
from workloads.networks import get_network
from workloads.torch_models import build_model

RECIPE = """
name = "tiny-paper"
index_bits = 4
n_pe = 1
prune_steps = 1
[kind.conv]
weight_bits = 8
[kind.fc]
weight_bits = 5
[layers]
conv1 = { density = 0.84 }
conv2 = { density = 0.38 }
conv3 = { density = 0.35 }
conv4 = { density = 0.37 }
conv5 = { density = 0.37 }
fc6 = { density = 0.09 }
fc7 = { density = 0.09 }
fc8 = { density = 0.25 }
[training.prune]
epochs = 1.0
batch_size = 4
max_steps = 1
[training.quantize]
epochs = 1.0
batch_size = 4
max_steps = 1
"""


def _folder(root, classes=("n01", "n02"), per_class=2, size=40):
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (size, size + 8, 3), dtype=np.uint8)
            pixels[..., c % 3] = 255  # a class-dependent colour
            Image.fromarray(pixels).save(root / name / f"img{i}.png")
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("imagenet")
    _folder(root / "val")
    weights = root / "alexnet.pth"
    torch.save(build_model(get_network("alexnet"), seed=0).state_dict(), weights)
    (root / "recipe.toml").write_text(RECIPE)
    return root


def test_imagenet_path_end_to_end(workspace, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "model.dcz"
    argv = [
        "compress", "alexnet", "--weights", str(workspace / "alexnet.pth"),
        "--data", str(workspace / "val"), "--train-data", str(workspace / "val"),
        "--recipe", str(workspace / "recipe.toml"), "--out", str(out), "--format", "csv",
    ]  # fmt: skip
    assert main(argv) == 0
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))  # one table
    row = rows[-1]  # the total row carries the container and accuracy columns
    assert row["layer"] == "total" and row["source"] == "folder"
    for column in ("top1_dense", "top1_compressed", "top5_dense", "top5_compressed"):
        assert 0.0 <= float(row[column]) <= 1.0
    assert 0.0 < float(row["map_dense"]) <= 1.0 and 0.0 < float(row["map_compressed"]) <= 1.0
    assert int(row["container_bytes"]) == out.stat().st_size
    assert float(row["compression_ratio"]) > 20
    network, _info = load_container(out)
    assert [layer.name for layer in network.layers] == [
        s.name for s in get_network("alexnet").layers
    ]
    fc8 = network.layer("fc8").dequantized_weights()
    assert len(np.unique(fc8[fc8 != 0])) <= 31
    assert np.count_nonzero(fc8) == round(0.25 * fc8.size)


def test_wrong_shapes_are_a_clear_error(workspace, tmp_path, capsys):
    digits_shaped = build_model(get_network("alexnet", num_classes=10)).state_dict()
    path = tmp_path / "ten-class.pth"
    torch.save(digits_shaped, path)
    argv = ["compress", "alexnet", "--weights", str(path), "--data", str(workspace / "val"),
            "--recipe", "paper", "--out", str(tmp_path / "x.dcz")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dcsim: error:") and "\n" not in err
    assert "classifier.6.weight has shape (10, 4096); allowed: (1000, 4096)" in err
    assert not (tmp_path / "x.dcz").exists()


def test_missing_data_folder_is_a_clear_error(workspace, tmp_path, capsys):
    argv = ["compress", "alexnet", "--weights", str(workspace / "alexnet.pth"),
            "--data", str(tmp_path / "nowhere"), "--recipe", "paper",
            "--out", str(tmp_path / "x.dcz")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "nowhere" in err and "does not exist" in err and "\n" not in err


def test_empty_class_folder_is_a_clear_error(workspace, tmp_path, capsys):
    data = _folder(tmp_path / "val", classes=("a",))
    (data / "b").mkdir()
    argv = ["compress", "alexnet", "--weights", str(workspace / "alexnet.pth"),
            "--data", str(data), "--recipe", "paper", "--out", str(tmp_path / "x.dcz")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "holds no images" in err and "'" + str(data / "b") + "'" in err and "\n" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--weights", "digits", "--data", "somewhere"], "--data is for --weights PATH"),
        (["--data", "somewhere"], "--data needs --weights PATH"),
        (["--train-data", "somewhere"], "--train-data needs --data DIR"),
    ],
)
def test_flag_combinations(extra, message, tmp_path, capsys):
    argv = ["compress", "alexnet", "--recipe", "paper", "--out", str(tmp_path / "x.dcz"), *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_device_unavailable(tmp_path, capsys):
    argv = ["compress", "alexnet", "--weights", "digits", "--recipe", "digits",
            "--out", str(tmp_path / "x.dcz"), "--device", "cuda"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == "dcsim: error: device='cuda' is not available on this machine; allowed: cpu"
