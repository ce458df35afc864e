"""Building models and loading a user's state_dict (good, mismatched, damaged)."""

import pytest
import torch

from workloads import get_network
from workloads.torch_models import build_model, load_weights, read_state_dict


def test_seeded_build_is_deterministic_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model("lenet-5", seed=7)
    after = torch.rand(1)
    b = build_model("lenet-5", seed=7)
    assert torch.equal(before, after)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


def test_torchvision_key_layout():
    keys = set(build_model("alexnet").state_dict())
    assert {
        "features.0.weight",
        "features.10.bias",
        "classifier.1.weight",
        "classifier.6.weight",
    } <= keys
    assert get_network("alexnet").module_paths["fc6"] == "classifier.1"


def test_state_dict_round_trip(tmp_path):
    source = build_model("lenet-300-100", seed=1)
    path = tmp_path / "w.pt"
    torch.save(source.state_dict(), path)
    target = load_weights(build_model("lenet-300-100", seed=2), path)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value)
    torch.save({"state_dict": source.state_dict()}, path)  # checkpoint wrapper
    assert set(read_state_dict(path)) == set(source.state_dict())


def test_mismatched_shapes_are_refused(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(build_model("lenet-300-100", num_classes=5).state_dict(), path)
    with pytest.raises(ValueError, match=r"classifier\.4\.weight has shape \(5, 100\)"):
        load_weights(build_model("lenet-300-100"), path)


def test_missing_and_unexpected_keys_are_refused(tmp_path):
    path = tmp_path / "w.pt"
    state = build_model("lenet-300-100").state_dict()
    state["extra.weight"] = state.pop("classifier.0.weight")
    torch.save(state, path)
    with pytest.raises(ValueError, match="missing keys classifier.0.weight.*unexpected keys extra"):
        load_weights(build_model("lenet-300-100"), path)


def test_nan_weights_are_refused(tmp_path):
    path = tmp_path / "w.pt"
    state = build_model("lenet-300-100").state_dict()
    state["classifier.2.weight"][0, 0] = float("nan")
    torch.save(state, path)
    with pytest.raises(ValueError, match="NaN"):
        load_weights(build_model("lenet-300-100"), path)


def test_damaged_and_missing_files(tmp_path):
    path = tmp_path / "w.pt"
    path.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="not a readable torch state_dict") as garbage:
        read_state_dict(path)
    good = tmp_path / "good.pt"
    torch.save(build_model("lenet-300-100").state_dict(), good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="zip archive") as cut:
        read_state_dict(truncated)
    for error in (garbage.value, cut.value):  # the reason, on one line, without torch's preamble
        assert "\n" not in str(error) and "PyTorch 2.6" not in str(error)
    with pytest.raises(ValueError, match="weights file '.*absent.pt' does not exist"):
        read_state_dict(tmp_path / "absent.pt")
    with pytest.raises(ValueError, match="is a directory"):
        read_state_dict(tmp_path)


def test_pickled_code_is_not_executed(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(1), "obj": print}, path)  # a non-tensor object
    with pytest.raises(ValueError):
        read_state_dict(path)
