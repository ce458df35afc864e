"""Sweep config parsing: grids, explicit points, defaults, and one-line errors."""

import pytest

from dcsim.config import ConfigError, load_config, parse_config

BASE = {"networks": [{"network": "lenet-300-100"}]}


def test_default_config_loads_and_expands():
    config = load_config()
    points = config.design_points()
    labels = {p.network.label for p in points}
    assert labels == {"alexnet-digits", "alexnet-caffe"}
    assert {p.accelerator for p in points} == {"edge-16"}
    digits = [p for p in points if p.network.label == "alexnet-digits"]
    settings = 5 * 3 * 3  # density x conv bits x fc bits
    variants = 4 * 3 * 2 * 2 * 2  # PEs x clock x sparse, pointer and activation SRAM
    assert len(digits) == settings * variants
    assert {p.density_profile for p in digits} == {"digits"}
    assert len(points) - len(digits) == settings * variants
    assert len(points) >= 1000  # issue 12: the main job shows the trade-off
    assert len({p.point_id for p in points}) == len(points)
    assert config.target_fps == 30.0 and config.sim_model == "analytical" and config.verify


def test_grid_is_the_product_and_points_are_appended():
    config = parse_config(
        {
            **BASE,
            "grid": {"fc_bits": [5, 4, 3], "accelerator": ["eie", "edge-16"]},
            "points": [{"fc_bits": 2, "n_pe": 8}, {"fc_bits": 5, "accelerator": "eie"}],
        }
    )
    points = config.design_points()
    # 6 grid points, one new explicit point; the second explicit point duplicates the grid
    assert len(points) == 7
    assert [p.fc_bits for p in points[:3]] == [5, 5, 4]
    assert points[-1].n_pe == 8 and points[-1].fc_bits == 2


def test_point_ids_are_stable_and_sensitive():
    a = parse_config({**BASE, "grid": {"fc_bits": 5}}).design_points()[0]
    b = parse_config({**BASE, "grid": {"fc_bits": 5}}).design_points()[0]
    c = parse_config({**BASE, "grid": {"fc_bits": 5}, "seed": 1}).design_points()[0]
    assert a.point_id == b.point_id != c.point_id


def test_a_config_without_grid_or_points_is_an_error():
    # It used to run one silent default point; neither a missing nor an empty [grid] may.
    with pytest.raises(ConfigError, match="defines no design points"):
        parse_config(BASE)
    with pytest.raises(ConfigError, match=r"config grid=\{\} is invalid"):
        parse_config({**BASE, "grid": {}, "points": [{"fc_bits": 4}]})
    with pytest.raises(ConfigError, match=r"networks\[0\].grid=\{\} is invalid"):
        parse_config({"networks": [{"network": "lenet-5", "grid": {}}], "grid": {"fc_bits": 4}})
    (point,) = parse_config({**BASE, "points": [{}]}).design_points()  # an explicit point
    assert (point.accelerator, point.conv_bits, point.fc_bits) == ("eie", 8, 5)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({**BASE, "colour": 1}, "config key 'colour' is unknown"),
        ({**BASE, "grid": {"fc_bitz": 5}}, "grid.fc_bitz is unknown"),
        ({**BASE, "grid": {"fc_bits": 17}}, "fc_bits=17 is invalid; allowed: an integer in 1..16"),
        ({**BASE, "grid": {"density_scale": -1}}, "density_scale=-1"),
        ({**BASE, "grid": {"centroid_init": "kmeans++"}}, "linear, density, random"),
        ({**BASE, "grid": {"fc_bits": []}}, "non-empty list"),
        ({**BASE, "sim_model": "rtl"}, "sim_model='rtl'"),
        ({**BASE, "target_fps": 0}, "target_fps=0"),
        ({"networks": [{"network": "resnet"}]}, "networks[0].network='resnet'"),
        ({"networks": [{"network": "vgg16", "weights": "digits"}]}, "digits only"),
        ({"networks": [{"network": "alexnet", "size": 1}]}, "networks[0].size is unknown"),
        ({**BASE, "points": [{"network": "other"}]}, "points[0].network='other'"),
        ({**BASE, "points": [{"bits": 3}]}, "points[0].bits is unknown"),
        ({}, "networks=None"),
    ],
)
def test_config_errors_are_one_line_and_name_the_key(data, fragment):
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_config_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("networks = [\n")
    with pytest.raises(ValueError, match="bad.toml. is not valid TOML"):
        load_config(bad)
    with pytest.raises(ValueError, match="absent.toml' does not exist"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ValueError, match="is a directory"):
        load_config(tmp_path)
    (tmp_path / "latin1.toml").write_bytes(b"name = '\xe9'\n")
    with pytest.raises(ValueError, match=r"latin1.toml' is not UTF-8 text \(byte 0xe9"):
        load_config(tmp_path / "latin1.toml")
    (tmp_path / "empty.toml").write_text("")
    with pytest.raises(ValueError, match="empty.toml' is empty"):
        load_config(tmp_path / "empty.toml")


def test_shipped_example_configs_parse():
    from importlib import resources

    folder = resources.files("dcsim").joinpath("configs/examples")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    assert names
    for name in names:
        config = load_config(folder.joinpath(name))
        assert config.design_points()
    big = load_config(folder.joinpath("analytical-1000.toml"))
    assert len(big.design_points()) >= 1000


def test_network_density_profile_is_the_default_for_its_points():
    config = parse_config(
        {
            "networks": [
                {"network": "alexnet", "weights": "digits", "density_profile": "digits"},
                {"network": "alexnet-caffe"},
            ],
            "grid": {"fc_bits": [5, 4]},
            "points": [{"network": "alexnet-caffe", "density_profile": "digits"}],
        }
    )
    profiles = [(p.network.label, p.density_profile) for p in config.design_points()]
    assert profiles == [
        ("alexnet-digits", "digits"),
        ("alexnet-digits", "digits"),
        ("alexnet-caffe", "paper"),
        ("alexnet-caffe", "paper"),
        ("alexnet-caffe", "digits"),
    ]


def test_network_grid_replaces_axes_for_that_network_only():
    config = parse_config(
        {
            "networks": [
                {"network": "lenet-5", "grid": {"fc_bits": [3], "density_scale": [0.5, 1.0]}},
                {"network": "lenet-300-100"},
            ],
            "grid": {"fc_bits": [5, 4], "accelerator": ["eie", "edge-16"]},
        }
    )
    points = config.design_points()
    lenet5 = [p for p in points if p.network.label == "lenet-5"]
    other = [p for p in points if p.network.label == "lenet-300-100"]
    assert {(p.fc_bits, p.density_scale, p.accelerator) for p in lenet5} == {
        (3, s, a) for s in (0.5, 1.0) for a in ("eie", "edge-16")
    }
    assert {(p.fc_bits, p.density_scale) for p in other} == {(5, 1.0), (4, 1.0)}
    with pytest.raises(ConfigError, match=r"networks\[0\].grid.bits is unknown"):
        parse_config({"networks": [{"network": "lenet-5", "grid": {"bits": 3}}]})


@pytest.mark.parametrize(
    ("axis", "value", "fragment"),
    [
        ("clock_mhz", float("inf"), "clock_mhz=inf is invalid; allowed: a finite number > 0"),
        ("clock_mhz", float("nan"), "clock_mhz=nan"),
        ("sram_per_pe_kb", float("inf"), "sram_per_pe_kb=inf"),
        ("sram_per_pe_kb", 2.0**31, "sram_per_pe_kb=2147483648.0"),
        ("node_nm", 5, "node_nm=5 is invalid; allowed: 180, 130, 90, 65, 55, 45, 40, 32, 28"),
        ("n_pe", 10**9, "n_pe=1000000000 is invalid; allowed: an integer in 1..4096"),
        ("fifo_depth", 10**9, "fifo_depth=1000000000"),
        ("density_scale", float("nan"), "density_scale=nan"),
    ],
)
def test_non_finite_and_oversized_axis_values_are_refused(axis, value, fragment):
    with pytest.raises(ConfigError, match=None) as info:
        parse_config({**BASE, "grid": {axis: [1, value] if axis != "node_nm" else [45, value]}})
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0, -1, True])
def test_target_fps_must_be_finite_and_positive(value):
    with pytest.raises(ConfigError, match="target_fps="):
        parse_config({**BASE, "target_fps": value, "points": [{}]})


def test_a_huge_grid_is_refused_before_any_point_is_built(monkeypatch):
    import dcsim.config as config_module

    axes = {
        "density_scale": [0.1 * k for k in range(1, 11)],
        "conv_bits": list(range(1, 11)),
        "fc_bits": list(range(1, 11)),
        "n_pe": list(range(1, 11)),
        "fifo_depth": list(range(1, 11)),
        "clock_mhz": [100.0 * k for k in range(1, 11)],
        "sram_per_pe_kb": [16.0 * k for k in range(1, 11)],
    }
    config = parse_config({**BASE, "grid": axes})
    assert config.point_count() == 10**7

    def no_points(*args, **kwargs):
        raise AssertionError("a point was built")

    monkeypatch.setattr(config_module, "DesignPoint", no_points)
    with pytest.raises(ConfigError) as info:
        config.design_points()
    message = str(info.value)
    assert "defines 10,000,000 design points; allowed: at most 100,000" in message
    assert "max_points" in message and "--max-points" in message
    monkeypatch.undo()
    small = parse_config({**BASE, "grid": {"fc_bits": [5, 4, 3]}, "max_points": 2})
    with pytest.raises(ConfigError, match="defines 3 design points; allowed: at most 2"):
        small.design_points()
    raised = parse_config({**BASE, "grid": {"fc_bits": [5, 4, 3]}, "max_points": 3})
    assert len(raised.design_points()) == 3


def test_point_ids_do_not_depend_on_axes_added_later():
    """A point that leaves the newer SRAM/register axes unset keeps the id it always had: the
    hash of the canonical JSON of the original fields (computed here by hand)."""
    import hashlib
    import json

    (point,) = parse_config({**BASE, "grid": {"fc_bits": 5, "n_pe": 8}}).design_points()
    original = {
        "network": {
            "label": point.network.label,
            "network": point.network.network,
            "weights": point.network.weights,
            "data": point.network.data,
            "density_profile": point.network.density_profile,
        },
        "density_profile": point.density_profile,
        "density_scale": point.density_scale,
        "conv_bits": point.conv_bits,
        "fc_bits": 5,
        "index_bits": point.index_bits,
        "centroid_init": point.centroid_init,
        "accelerator": point.accelerator,
        "n_pe": 8,
        "clock_mhz": None,
        "sram_per_pe_kb": None,
        "fifo_depth": None,
        "node_nm": None,
        "seed": point.seed,
        "target_fps": point.target_fps,
        "sim_model": point.sim_model,
    }
    canonical = json.dumps(original, sort_keys=True, separators=(",", ":"))
    assert point.point_id == hashlib.sha256(canonical.encode()).hexdigest()[:16]
    (with_sram,) = parse_config(
        {**BASE, "grid": {"fc_bits": 5, "n_pe": 8, "pointer_sram_per_pe_kb": 64}}
    ).design_points()
    assert with_sram.point_id != point.point_id


def test_sram_and_register_axes_set_the_accelerator():
    from dcsim.point_evaluation import point_accelerator

    grid = {
        "fc_bits": 5,
        "accelerator": "edge-16",
        "sram_per_pe_kb": 96,
        "pointer_sram_per_pe_kb": 48,
        "activation_sram_per_pe_kb": 4,
        "registers_per_pe": 128,
    }
    (point,) = parse_config({**BASE, "grid": grid}).design_points()
    arch = point_accelerator(point)
    assert arch.sparse_sram_bytes_per_pe == 96 * 1024
    assert arch.pointer_sram_bytes_per_pe == 48 * 1024
    assert arch.activation_sram_bytes_per_pe == 4 * 1024
    assert arch.activation_registers_per_pe == 128
    for key, value in (("registers_per_pe", 0), ("pointer_sram_per_pe_kb", float("inf"))):
        with pytest.raises(ConfigError, match=key):
            parse_config({**BASE, "grid": {key: value}})
