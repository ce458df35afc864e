"""The Python API (`dcsim.network`, `accelerator`, `compress`, `simulate`, `energy_table`,
`validate`): each function, and its agreement with the CLI on the same inputs — the same
numbers, since both take one code path (`dcsim.api`). The sweep side (`explore`, `figures`,
dict configs) is tested in `tests/test_api_explore.py`."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import dcsim
from dcsim.cli import main

MIXED = "tests/user_models/mixed.py:mixed"
MIXED_SHAPE = "3,20,18"  # tests.user_models.mixed.INPUT_SHAPE
RECIPE = {"density": 0.5, "weight_bits": 6, "index_bits": 4, "kind": {"fc": {"density": 0.2}}}
RECIPE_TOML = "density = 0.5\nweight_bits = 6\nindex_bits = 4\n[kind.fc]\ndensity = 0.2\n"


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def small_cnn() -> SmallCNN:
    torch.manual_seed(0)
    return SmallCNN()


def cli_json(capsys, *argv: str) -> list[dict]:
    assert main([*argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# ----------------------------------------------------------------------------- import
def test_import_dcsim_loads_no_heavy_library_and_every_name_resolves():
    code = (
        "import sys, dcsim; heavy = [m for m in ('torch', 'numba', 'pandas', 'numpy', "
        "'plotly') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for name in dcsim.__all__:
        assert getattr(dcsim, name) is not None
        assert name in dir(dcsim)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dcsim.nope  # noqa: B018


@pytest.mark.parametrize(
    "name", ["network", "accelerator", "compress", "simulate", "explore", "figures"]
)
def test_docstrings_state_units_and_raise_conditions(name):
    doc = getattr(dcsim, name).__doc__
    assert "Raises" in doc and len(doc.splitlines()) > 8


# ----------------------------------------------------------------------------- network
def test_network_of_a_module_instance_equals_the_same_module_from_its_file():
    from user_models.mixed import INPUT_SHAPE, mixed  # tests/ is on sys.path (conftest)

    module = mixed()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    from_module = dcsim.network(module, INPUT_SHAPE)
    from_file = dcsim.network(MIXED, INPUT_SHAPE)
    assert [s.name for s in from_module.layers] == [s.name for s in from_file.layers]
    assert [s.weights for s in from_module.layers] == [s.weights for s in from_file.layers]
    for name, array in from_file.layer_weights.items():
        np.testing.assert_array_equal(from_module.layer_weights[name], array)
    for key, value in module.state_dict().items():  # the user's module is not modified
        assert torch.equal(value, before[key])
    assert dcsim.network(from_file) is from_file


def test_network_errors_are_one_line():
    with pytest.raises(ValueError, match="unknown network 'nope'") as error:
        dcsim.network("nope")
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="input_shape / weights are invalid with a loaded"):
        dcsim.network(dcsim.network("lenet-5"), input_shape=(1, 28, 28))


# ----------------------------------------------------------------------------- accelerator
def test_accelerator_presets_overrides_and_dicts():
    from simulator import load_accelerator

    eie = dcsim.accelerator()
    assert eie == load_accelerator("eie") and eie.n_pe == 64 and eie.clock_hz == 800e6
    small = dcsim.accelerator("eie", n_pe=16, clock_hz=500_000_000)
    assert (small.n_pe, small.clock_hz, small.name) == (16, 500e6, "eie")
    assert small.replace(n_pe=64, clock_hz=800e6) == eie  # nothing else changed
    custom = dcsim.accelerator({"name": "mine", "n_pe": 8, "fifo_depth": 2})
    assert (custom.name, custom.n_pe, custom.fifo_depth) == ("mine", 8, 2)
    assert dcsim.accelerator(custom) is custom


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("eie",), {"n_pes": 4}, "unknown accelerator key 'n_pes'; allowed: name, n_pe"),
        (("eie",), {"n_pe": 0}, "n_pe=0 is invalid; allowed: an integer in [1, 4,096]"),
        (({"fifo_depth": 1.5},), {}, "fifo_depth=1.5 is invalid"),
        (("tpu",), {}, "arch='tpu' is invalid; allowed: a preset (edge-16, eie)"),
        ((42,), {}, "accelerator=42 is invalid"),
    ],
)
def test_accelerator_errors_name_the_field_the_value_and_what_is_allowed(args, kwargs, message):
    with pytest.raises(ValueError) as error:
        dcsim.accelerator(*args, **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)


# ----------------------------------------------------------------------------- compress
def test_compress_storage_equals_dcsim_storage_json(tmp_path, capsys):
    (tmp_path / "recipe.toml").write_text(RECIPE_TOML)
    from_dict = dcsim.compress(MIXED, RECIPE, input_shape=MIXED_SHAPE, n_pe=8, seed=3).storage()
    recipe = tmp_path / "recipe.toml"
    from_file = dcsim.compress(MIXED, recipe, input_shape=MIXED_SHAPE, n_pe=8, seed=3).storage()
    cli = cli_json(capsys, "storage", MIXED, "--input-shape", MIXED_SHAPE, "--recipe", str(recipe),
                   "--pe", "8", "--seed", "3")  # fmt: skip
    expected = pd.DataFrame(cli)
    assert list(from_dict.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(from_dict, expected, check_dtype=False)
    pd.testing.assert_frame_equal(from_file, expected, check_dtype=False)
    assert from_dict["n_pe"].eq(8).all() and from_dict["layer"].iloc[-1] == "total"


def test_compress_save_round_trips_and_matches_dcsim_compress(tmp_path, capsys):
    from compression import load_container

    model = dcsim.compress(small_cnn(), "generic", input_shape=(1, 16, 16))
    assert model.accuracy() is None and model.n_pe == 64
    info = model.save(tmp_path / "api.dcz")
    loaded, loaded_info = load_container(tmp_path / "api.dcz")
    assert loaded_info.file_bytes == info.file_bytes == (tmp_path / "api.dcz").stat().st_size
    for mine, theirs in zip(model.layers, loaded.layers, strict=True):
        np.testing.assert_array_equal(mine.dequantized_weights(), theirs.dequantized_weights())
    # the CLI on the same network (a built-in, so that the CLI can name it) writes the same bytes
    dcsim.compress("lenet-5", "generic", seed=1).save(tmp_path / "a.dcz")
    rows = cli_json(capsys, "compress", "lenet-5", "--recipe", "generic", "--seed", "1",
                    "--out", str(tmp_path / "b.dcz"))  # fmt: skip
    assert (tmp_path / "a.dcz").read_bytes() == (tmp_path / "b.dcz").read_bytes()
    assert rows[-1]["container_bytes"] == (tmp_path / "a.dcz").stat().st_size


def test_compress_weights_and_errors(tmp_path):
    net = dcsim.network(small_cnn(), (1, 16, 16))
    own = dcsim.compress(net, "generic")
    synthetic = dcsim.compress(net, "generic", weights="synthetic")
    assert not np.array_equal(
        own.layers[0].dequantized_weights(), synthetic.layers[0].dequantized_weights()
    )
    with pytest.raises(ValueError, match="recipe key 'densty' is unknown"):
        dcsim.compress(net, {"densty": 0.5})
    with pytest.raises(ValueError, match="invalid with a loaded Network"):
        dcsim.compress(net, "generic", weights=str(tmp_path / "w.pth"))
    with pytest.raises(ValueError, match="network='lenet-5' with weights digits; allowed: alexnet"):
        dcsim.compress("lenet-5", "digits", weights="digits")
    with pytest.raises(ValueError, match="network=a SmallCNN with weights digits"):
        dcsim.compress(small_cnn(), "digits", weights="digits")
    with pytest.raises(ValueError, match="data needs weights=PATH"):
        dcsim.compress("alexnet", "paper", data=str(tmp_path))
    with pytest.raises(ValueError, match="which is not an existing folder"):
        own.save(tmp_path / "missing-folder" / "x.dcz")
    assert not (tmp_path / "missing-folder").exists()


# ----------------------------------------------------------------------------- simulate
def _sweep_layer_columns() -> list[str]:
    """The per-layer columns of a sweep point (`dcsim.point_evaluation`, the sweep's builder)
    without the point's settings."""
    from dcsim.config import parse_config
    from dcsim.point_evaluation import evaluate_point

    config = parse_config(
        {
            "networks": [{"network": "lenet-5", "weights": "synthetic"}],
            "sim_model": "analytical",
            "grid": {"density_profile": "generic", "accelerator": "eie"},
        }
    )
    (point,) = config.design_points()
    rows = evaluate_point(point)
    assert (rows["status"] == "ok").all()
    return list(rows.columns[rows.columns.get_loc("row_type") :])


@pytest.mark.parametrize("model", ["cycle", "analytical"])
def test_simulate_equals_dcsim_simulate_json(capsys, model):
    table = dcsim.simulate(
        MIXED, "edge-16", model, recipe="generic", input_shape=MIXED_SHAPE, seed=2, act_density=0.4
    )
    cli = cli_json(capsys, "simulate", MIXED, "--input-shape", MIXED_SHAPE, "--arch", "edge-16",
                   "--recipe", "generic", "--model", model, "--seed", "2",
                   "--act-density", "0.4")  # fmt: skip
    assert list(table["layer"]) == [row["layer"] for row in cli]
    assert list(table["row_type"]) == ["layer"] * (len(cli) - 1) + ["total"]
    for (_, mine), theirs in zip(table.iterrows(), cli, strict=True):
        assert mine["cycles"] == theirs["cycles"]
        assert mine["ideal_cycles"] == theirs["ideal_cycles"]
        assert mine["load_balance"] == pytest.approx(theirs["load_balance"], rel=1e-12)
        assert mine["latency_ms"] * 1e3 == pytest.approx(theirs["latency_us"], rel=1e-12)
        assert mine["energy_mj"] * 1e3 == pytest.approx(theirs["energy_uj"], rel=1e-12)
    assert table["fps"].iloc[-1] == pytest.approx(cli[-1]["fps"], rel=1e-12)
    assert set(table["sim_model"]) == {model} and set(table["accelerator"]) == {"edge-16"}


def test_simulate_has_exactly_the_sweep_tables_per_layer_columns():
    table = dcsim.simulate("lenet-5", "eie", "analytical", recipe="generic")
    settings = ["network", "accelerator", "n_pe", "clock_mhz", "sim_model", "target_fps"]
    assert list(table.columns) == settings + _sweep_layer_columns()
    assert table["latency_ms"].iloc[-1] == pytest.approx(table["latency_ms"].iloc[:-1].sum())
    assert table["energy_mj"].iloc[-1] == pytest.approx(table["energy_mj"].iloc[:-1].sum())
    assert table["fps"].iloc[-1] == pytest.approx(1e3 / table["latency_ms"].iloc[-1])


def test_simulate_a_compressed_model_restores_it_for_the_accelerators_pes():
    module = small_cnn()
    on_one_pe = dcsim.compress(module, RECIPE, input_shape=(1, 16, 16), n_pe=1)
    arch = dcsim.accelerator("eie", n_pe=8)
    via_model = dcsim.simulate(on_one_pe, arch)
    via_source = dcsim.simulate(module, arch, recipe=RECIPE, input_shape=(1, 16, 16))
    pd.testing.assert_frame_equal(via_model, via_source)
    assert on_one_pe.n_pe == 1  # the model itself is not changed
    assert list(via_model["n_pe"].unique()) == [8]


def test_simulate_activations_dict_and_target_fps():
    model = dcsim.compress(small_cnn(), RECIPE, input_shape=(1, 16, 16))
    conv2_input = np.zeros((4, 8, 8), dtype=np.float32)  # all zero: nothing to broadcast
    table = dcsim.simulate(model, "eie", activations={"conv2": conv2_input})
    conv2 = table[table["layer"] == "conv2"].iloc[0]
    assert conv2["activation_density"] == 0 and conv2["events_mac"] == 0
    synthetic = dcsim.simulate(model, "eie")
    assert conv2["cycles"] < synthetic[synthetic["layer"] == "conv2"].iloc[0]["cycles"]
    fps = synthetic["fps"].iloc[-1]
    assert dcsim.simulate(model, "eie", target_fps=fps)["meets_target"].iloc[-1]
    assert not dcsim.simulate(model, "eie", target_fps=fps * 1.01)["meets_target"].iloc[-1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"model": "exact"}, "model='exact' is invalid; allowed: cycle, analytical"),
        ({"activations": {"fc9": np.zeros(3)}}, "layer='fc9' is not in the network"),
        ({"activations": 3}, "activations=int is invalid"),
        ({"target_fps": math.inf}, "target_fps=inf is invalid"),
        ({"act_density": 1.5}, "density=1.5 is invalid"),
        ({"accelerator": "eie.toml"}, "eie.toml"),
        ({"recipe": "generic"}, "recipe is invalid with a CompressedModel"),
        ({"input_shape": (1, 16, 16)}, "input_shape is invalid with a CompressedModel"),
    ],
)
def test_simulate_errors_are_one_line(kwargs, message):
    model = dcsim.compress(small_cnn(), RECIPE, input_shape=(1, 16, 16))
    with pytest.raises((ValueError, OSError)) as error:
        dcsim.simulate(model, **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)


# ----------------------------------------------------------------------------- energy, validation
def test_energy_table_equals_dcsim_energy_table_json(capsys):
    table = dcsim.energy_table("edge-16")
    expected = pd.DataFrame(cli_json(capsys, "energy-table", "--arch", "edge-16"))
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    at_28nm = dcsim.energy_table("eie", technology_node_nm=28)
    at_45nm = dcsim.energy_table("eie")
    assert list(at_28nm["action"]) == list(at_45nm["action"])
    assert (at_28nm["energy_pj"] < at_45nm["energy_pj"]).any()


def test_validate_equals_dcsim_validate_json(capsys):
    table = dcsim.validate("fifo-depth")
    expected = pd.DataFrame(cli_json(capsys, "validate", "--check", "fifo-depth"))
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert table["check"].str.contains("FIFO").all() and len(table) >= 3
    with pytest.raises(ValueError, match="check='nope' is invalid"):
        dcsim.validate(["nope"])
    with pytest.raises(ValueError, match="data needs weights"):
        dcsim.validate("eie-alexnet", data="somewhere")
