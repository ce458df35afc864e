"""The sweep side of the Python API: `dcsim.explore` (dict configs validated exactly like TOML
files; the same table as `dcsim sweep`) and `dcsim.figures`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from torch import nn

import dcsim
from dcsim.cli import main
from dcsim.config import ConfigError, load_config
from dcsim.sweep import OUTPUT_FILES

CONFIG = {
    "name": "api-two-variants",
    "sim_model": "analytical",
    "networks": [{"network": "lenet-5", "weights": "synthetic", "density_profile": "generic"}],
    "grid": {"accelerator": ["eie", "edge-16"], "fc_bits": [4, 5]},
}
CONFIG_TOML = """name = "api-two-variants"
sim_model = "analytical"
[[networks]]
network = "lenet-5"
weights = "synthetic"
density_profile = "generic"
[grid]
accelerator = ["eie", "edge-16"]
fc_bits = [4, 5]
"""


@pytest.fixture(scope="module")
def explored() -> pd.DataFrame:
    return dcsim.explore(CONFIG)


def test_explore_a_dict_gives_the_table_of_the_same_toml_file(explored, tmp_path):
    (tmp_path / "sweep.toml").write_text(CONFIG_TOML)
    from_file = dcsim.explore(tmp_path / "sweep.toml")
    pd.testing.assert_frame_equal(explored, from_file)
    totals = explored[explored["row_type"] == "total"]
    assert len(totals) == 4 and (totals["status"] == "ok").all()
    assert set(totals["accelerator"]) == {"eie", "edge-16"} and set(totals["fc_bits"]) == {4, 5}
    layers = explored[explored["row_type"] == "layer"]
    assert list(layers["layer"].unique()) == ["conv1", "conv2", "fc1", "fc2"]
    for _, point in explored.groupby("point_id"):  # totals are the sums of the layers
        rows = point[point["row_type"] == "layer"]
        total = point[point["row_type"] == "total"].iloc[0]
        assert total["energy_mj"] == pytest.approx(rows["energy_mj"].sum(), rel=1e-12)


def test_explore_equals_dcsim_sweep_and_writes_the_same_files(explored, tmp_path, capsys):
    (tmp_path / "sweep.toml").write_text(CONFIG_TOML)
    assert (
        main(["sweep", str(tmp_path / "sweep.toml"), "--out", str(tmp_path / "cli"), "--quiet"])
        == 0
    )
    capsys.readouterr()
    cli = pd.read_parquet(tmp_path / "cli" / "results.parquet")
    api = dcsim.explore(CONFIG, out=tmp_path / "api")
    for name in OUTPUT_FILES:
        assert (tmp_path / "api" / name).is_file()
    pd.testing.assert_frame_equal(api, cli)
    columns = [c for c in explored.columns if c in cli.columns]
    assert columns == list(explored.columns)  # out=None: the same columns, the same numbers
    pd.testing.assert_frame_equal(explored, cli[columns], check_dtype=False)
    # a rerun finds every point stored and returns the same table
    pd.testing.assert_frame_equal(dcsim.explore(CONFIG, out=tmp_path / "api"), api)


def test_explore_out_none_leaves_no_folder_behind(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    table = dcsim.explore({**CONFIG, "grid": {"accelerator": "eie"}})
    assert len(table[table["row_type"] == "total"]) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_dict_may_hold_tuples_paths_and_numpy_scalars(explored):
    config = {
        **CONFIG,
        "networks": [{**CONFIG["networks"][0], "density_profile": Path("generic")}],
        "grid": {"accelerator": ("eie", "edge-16"), "fc_bits": [np.int64(4), 5]},
    }
    from dcsim.api_results import sweep_config

    assert sweep_config(config).design_points() == sweep_config(CONFIG).design_points()


# The same mistake in a dict and in a TOML file: the same one-line ConfigError.
SAME_ERRORS = [
    ({"seeds": 1}, "config key 'seeds' is unknown"),
    ({"seed": -1}, "seed=-1 is invalid"),
    ({"target_fps": float("nan")}, "target_fps=nan is invalid"),
    ({"sim_model": "exact"}, "sim_model='exact' is invalid"),
    ({"grid": {"fc_bit": 4}}, "config key grid.fc_bit is unknown"),
    ({"grid": {}}, "grid"),
    ({"grid": {"n_pe": 0}}, "n_pe=0 is invalid"),
    ({"grid": {"accelerator": "eie", "fc_bits": [4, 99]}}, "fc_bits=99 is invalid"),
    ({"networks": [{"network": "lenet-6"}]}, "'lenet-6' is invalid"),
    ({"networks": []}, "networks"),
    ({"max_points": 2}, "defines 4 design points; allowed: at most 2"),
]


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # strings, integers, finite floats


def _toml(config: dict) -> str:
    """The TOML text of a config dict (scalars first, then tables, then arrays of tables)."""
    lines, tables, arrays = [], [], []
    for key, value in config.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables:
        lines += [f"[{key}]", *(f"{k} = {_toml_value(v)}" for k, v in table.items())]
    for key, items in arrays:
        for item in items:
            lines += [f"[[{key}]]", *(f"{k} = {_toml_value(v)}" for k, v in item.items())]
    return "\n".join(lines) + "\n"


def test_the_toml_of_the_config_is_the_config_file():
    import tomllib

    assert tomllib.loads(_toml(CONFIG)) == tomllib.loads(CONFIG_TOML) == CONFIG


@pytest.mark.parametrize("change, fragment", SAME_ERRORS)
def test_a_dict_config_is_validated_exactly_like_toml(tmp_path, change, fragment):
    config = {**CONFIG, **change}
    (tmp_path / "bad.toml").write_text(_toml(config))
    with pytest.raises(ConfigError) as from_dict:
        dcsim.explore(config, out=tmp_path / "out")
    with pytest.raises(ConfigError) as from_file:
        load_config(tmp_path / "bad.toml").check_size()
    message = str(from_dict.value)
    assert fragment in message and "\n" not in message
    assert message == str(from_file.value).replace(str(tmp_path / "bad.toml"), "<dict>")
    assert not (tmp_path / "out").exists()  # refused before any work or folder


@pytest.mark.parametrize(
    "config, fragment",
    [
        ({**CONFIG, "seed": None}, "config seed=None is invalid; allowed: a TOML value"),
        (
            {**CONFIG, "networks": [{"network": nn.Linear(2, 2)}]},
            "config networks[0].network=a Linear object is invalid",
        ),
        ({**CONFIG, 1: 2}, "config key 1 in the config is invalid; allowed: a string"),
    ],
)
def test_values_toml_cannot_hold_are_one_line_config_errors(config, fragment):
    with pytest.raises(ConfigError) as error:
        dcsim.explore(config)
    assert fragment in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"max_points": 0}, "max_points=0 is invalid; allowed: >= 1"),
        ({"max_points": 3}, "defines 4 design points; allowed: at most 3"),
        ({"verify": -1}, "verify=-1 is invalid; allowed: >= 0"),
        ({"workers": 0}, "workers=0 is invalid"),
    ],
)
def test_explore_options_are_checked_before_any_work(tmp_path, kwargs, fragment):
    with pytest.raises(ValueError) as error:
        dcsim.explore(CONFIG, out=tmp_path / "out", **kwargs)
    assert fragment in str(error.value)
    assert not (tmp_path / "out").exists()


def test_verify_needs_an_analytical_sweep():
    with pytest.raises(ValueError, match='allowed: 0 unless sim_model = "analytical"'):
        dcsim.explore({**CONFIG, "sim_model": "cycle"}, verify=2)


def test_figures_by_name_from_a_table_or_a_sweep_folder(explored, tmp_path):
    from plotly import graph_objects as go

    figures = dcsim.figures(explored)
    assert list(figures) == [
        "pareto-energy-latency",
        "pareto-latency",
        "pareto-energy",
        "pareto-size",
        "heatmap-latency",
        "heatmap-energy",
        "heatmap-size",
        "heatmap-accuracy",
        "layer-breakdown",
        "load-balance",
        "footprint",
        "energy-area",
        "tradeoff",
        "knees",
    ]
    assert all(isinstance(fig, go.Figure) for fig in figures.values())
    footprint = figures["footprint"]
    assert len(footprint.data) > 0  # drawn from the table, not a "no data" message
    dcsim.explore(CONFIG, out=tmp_path / "sweep")
    from_folder = dcsim.figures(tmp_path / "sweep")
    assert list(from_folder) == list(figures)
    with pytest.raises(ValueError, match="results lacks the column"):
        dcsim.figures(dcsim.simulate("lenet-5", model="analytical", recipe="generic"))
    with pytest.raises(ValueError, match="results=list is invalid"):
        dcsim.figures([])
