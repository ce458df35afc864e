"""Per-layer sensitivity and the auto density profile.

The curves are checked against an independent evaluation (each layer pruned alone in a copy of
the model, the WHOLE model run, argmax top-1 computed here), so the staged evaluation is also
checked to be exact; the auto profile is checked to respect the loss it was given on the data
it was derived from, and to be the lowest such density of the list. Network: LeNet-5 trained
briefly on the bundled digits at 28 px (a SequentialNet with conv and fc layers).
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from compression.pruning import magnitude_mask
from compression.recipe import load_recipe
from compression.weight_sharing import share_weights
from dcsim.cli import main
from dcsim.config import ConfigError, parse_config
from dcsim.sensitivity import auto_profile_loss, check_densities, measure_sensitivity
from workloads import training
from workloads.datasets import load_digits_split
from workloads.networks import get_network
from workloads.torch_models import build_model, layer_modules
from workloads.training import TensorData, TrainingSettings, torch_threads, train_steps

NETWORK = get_network("lenet-5")
DENSITIES = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    split = load_digits_split(28)
    x_train, x_test = split.x_train[:, :1].contiguous(), split.x_test[:, :1].contiguous()
    model = build_model(NETWORK, seed=0)
    settings = TrainingSettings(epochs=2.0, learning_rate=2e-3, batch_size=64)
    with torch_threads(2):
        data = TensorData(x_train, split.y_train, {})
        train_steps(model, list(model.parameters()), data, settings, seed=0)
    return model, x_test, split.y_test


def _measure(trained, monkeypatch, tmp_path, bits=None):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path))
    model, x_test, y_test = trained
    return measure_sensitivity(
        model,
        NETWORK,
        "lenet5-test",
        x_test,
        y_test,
        data_id={"digits-test": 28},
        data_label="digits test",
        network_label="lenet-5",
        weights_label="test",
        densities=DENSITIES,
        bits=bits,
        auto_losses=(1.0,),
    )


def _independent_top1(model, x_test, y_test, layer=None, density=None, bits=None) -> float:
    """Top-1 with `layer` pruned alone (and k-means shared with `bits`), computed here."""
    work = copy.deepcopy(model).eval()
    if layer is not None:
        weight = layer_modules(work, NETWORK)[layer].weight
        values = weight.detach().numpy()
        kept = np.where(magnitude_mask(values, density), values, np.float32(0))
        if bits is not None:
            codebook, codes = share_weights(kept, bits, init="linear", seed=0)
            kept = codebook[codes]
        with torch.no_grad():
            weight.copy_(torch.from_numpy(np.asarray(kept, np.float32)))
    with torch.no_grad(), torch_threads(2):
        logits = torch.cat([work(x_test[i : i + 256]) for i in range(0, len(x_test), 256)])
    return float((logits.argmax(1) == y_test).float().mean())


def test_curves_are_the_whole_network_with_one_layer_pruned(trained, monkeypatch, tmp_path):
    model, x_test, y_test = trained
    before = {n: m.weight.detach().clone() for n, m in layer_modules(model, NETWORK).items()}
    result = _measure(trained, monkeypatch, tmp_path)
    assert result.dense_top1 == pytest.approx(_independent_top1(model, x_test, y_test), abs=1e-6)
    assert result.dense_top1 > 0.8
    for curve in result.curves:
        assert curve.densities == DENSITIES
        for density, top1 in zip(curve.densities, curve.top1):
            expected = _independent_top1(model, x_test, y_test, curve.layer, density)
            assert top1 == pytest.approx(expected, abs=1e-6), (curve.layer, density)
    # sensitive and insensitive layers differ: the curves carry information
    assert min(min(c.top1) for c in result.curves) < result.dense_top1 - 0.05
    for name, module in layer_modules(model, NETWORK).items():  # the model is left unchanged
        assert torch.equal(module.weight, before[name])
    # a second measurement is served from the cache, with the same numbers
    again = _measure(trained, monkeypatch, tmp_path)
    assert again == result


def test_quantized_curves(trained, monkeypatch, tmp_path):
    model, x_test, y_test = trained
    result = _measure(trained, monkeypatch, tmp_path, bits=3)
    curve = result.curves[0]
    expected = _independent_top1(model, x_test, y_test, curve.layer, curve.densities[2], bits=3)
    assert curve.top1[2] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("loss_points", [0.0, 0.5, 1.0, 3.0, 10.0])
def test_auto_profile_respects_its_loss(trained, monkeypatch, tmp_path, loss_points):
    model, x_test, y_test = trained
    result = _measure(trained, monkeypatch, tmp_path)
    dense = _independent_top1(model, x_test, y_test)
    chosen = result.auto_densities(loss_points)
    assert set(chosen) == {layer.name for layer in NETWORK.layers}
    for layer, density in chosen.items():
        # pruning the layer alone to its auto density, or to any higher listed one, stays
        # within the loss on the data the profile was derived from
        for d in [1.0, *DENSITIES]:
            if d >= density and d < 1.0:
                top1 = _independent_top1(model, x_test, y_test, layer, d)
                assert 100 * (dense - top1) <= loss_points + 1e-6, (layer, d)
        # and it is the lowest: the next listed density below breaks the loss
        lower = [d for d in DENSITIES if d < density]
        if lower:
            top1 = _independent_top1(model, x_test, y_test, layer, max(lower))
            assert 100 * (dense - top1) > loss_points, (layer, max(lower))
    # a larger allowed loss never asks for denser layers
    looser = result.auto_densities(loss_points + 5.0)
    assert all(looser[n] <= chosen[n] for n in chosen)


def test_auto_profile_names_and_densities_are_checked():
    assert auto_profile_loss("paper") is None
    assert auto_profile_loss("auto:1.5") == 1.5
    for bad in ("auto:", "auto:x", "auto:-1", "auto:nan", "auto:101"):
        with pytest.raises(ValueError, match=r"density_profile=.* is invalid; allowed: auto:L"):
            auto_profile_loss(bad)
    assert check_densities("0.1, 0.5,0.5") == (0.5, 0.1)
    for bad in ("0", "1.5", "a", "", [0.2, True]):
        with pytest.raises(ValueError, match=r"densities=.* is invalid; allowed"):
            check_densities(bad)


def _config(profile: str, weights: str = "digits") -> dict:
    return {
        "sim_model": "analytical",
        "networks": [{"network": "alexnet", "weights": weights, "density_profile": profile}],
        "grid": {"accelerator": "eie"},
    }


def test_sweep_accepts_auto_profiles_and_refuses_bad_ones():
    config = parse_config(_config("auto:1.0"))
    assert [p.density_profile for p in config.iter_design_points()] == ["auto:1.0"]
    with pytest.raises(ConfigError, match=r"auto:L with L the allowed top-1 loss"):
        parse_config(_config("auto:lots"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--weights", "digits", "--densities", "0,0.5"], "--densities"),
        (["--weights", "digits", "--bits", "0"], "--bits '0' is invalid; allowed: 1..16"),
        (["--weights", "digits", "--max-loss", "-2"], "--max-loss '-2' is invalid"),
        (["--weights", "w.pt"], "needs --data DIR"),
        (["--weights", "digits", "--data", "x"], "--data is for --weights PATH"),
        (
            [
                "--weights",
                "digits",
                "--write-profile",
                "p.toml",
                "--max-loss",
                "1",
                "--max-loss",
                "2",
            ],
            "with 2 --max-loss values is invalid; allowed: exactly one",
        ),
        (["--weights", "missing.pt", "--data", "."], "missing.pt"),
    ],
)
def test_cli_bad_input_is_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        status = main(["sensitivity", "alexnet", *argv])
    except SystemExit as stop:  # argparse's own errors (a flag's value)
        status = stop.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p.toml").exists()


def test_cli_on_digits_writes_a_profile_the_recipe_loader_reads(capsys, tmp_path, monkeypatch):
    """The command end to end on the digits AlexNet (dense training cut to a few steps): JSON
    rows for every (layer, density), and --write-profile's recipe holds the auto densities."""
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(
        training,
        "DENSE_DIGITS_TRAINING",
        TrainingSettings(epochs=1.0, learning_rate=5e-4, batch_size=32, max_steps=3),
    )
    profile = tmp_path / "auto.toml"
    argv = ["sensitivity", "alexnet", "--weights", "digits", "--densities", "0.5,0.05"]
    argv += ["--max-loss", "1", "--write-profile", str(profile), "--format", "json", "--quiet"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    layers = [layer.name for layer in get_network("alexnet", num_classes=10).layers]
    assert [entry["layer"] for entry in data["layers"]] == layers
    assert all(entry["densities"] == [0.5, 0.05] for entry in data["layers"])
    (auto,) = data["auto"]
    recipe = load_recipe(profile)
    network = training.DIGITS_SETUP.network_spec()
    assert recipe.densities(network) == pytest.approx(auto["densities"])
    for entry in data["layers"]:  # the written density is the rule's choice from the curve
        losses = [100 * (data["dense_top1"] - t) for t in entry["top1"]]
        expected = 1.0
        for density, loss in zip(entry["densities"], losses):
            if loss > 1.0 + 1e-9:
                break
            expected = density
        assert auto["densities"][entry["layer"]] == expected
