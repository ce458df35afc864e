"""Work units (dcsim.work_units), the array evaluation of a unit, the unit store and the
sweep's self-verification."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from dcsim.config import COMPRESSION_AXES, HARDWARE_AXES, parse_config
from dcsim.point_evaluation import evaluate_point, evaluate_unit
from dcsim.result_store import ResultStore
from dcsim.sweep import read_totals, run_sweep
from dcsim.work_units import iter_units, probe_points

RECIPE = 'name = "flat"\ndensity = 0.3\nweight_bits = 4\n'


def _config(tmp_path, **extra):
    recipe = tmp_path / "flat.toml"
    recipe.write_text(RECIPE)
    data = {
        "networks": [{"network": "lenet-300-100"}, {"network": "lenet-5"}],
        "grid": {
            "n_pe": [2, 8],
            "density_profile": str(recipe),
            "fc_bits": [4, 2],
            "fifo_depth": [1, 4, 16],
            "accelerator": ["eie", "edge-16"],
        },
        "sim_model": "analytical",
        **extra,
    }
    return parse_config(data)


def test_units_cover_every_point_once_grouped_by_compression(tmp_path):
    in_grid = {
        "density_profile": str(tmp_path / "flat.toml"),
        "fc_bits": 4,
        "n_pe": 2,
        "fifo_depth": 4,
        "accelerator": "eie",
    }
    config = _config(
        tmp_path, points=[{"fc_bits": 3, "n_pe": 4}, in_grid, {"fc_bits": 3, "n_pe": 4}]
    )
    points = config.design_points()
    units = list(iter_units(config, unit_points=5))
    flat = [p for u in units for p in u.points]
    assert [p.point_id for p in flat] == [p.point_id for p in points]
    assert len({p.point_id for p in flat}) == len(flat)  # no duplicates
    # 2 networks x 2 fc_bits x 12 hardware variants, plus per network the one explicit point
    # outside the grid (the other is a grid point; the third repeats the first)
    assert len(points) == 2 * 2 * 12 + 2
    for unit in units:
        assert 1 <= len(unit) <= 5
        assert len({p.compression_key for p in unit.points}) == 1
    # a compression setting's points are consecutive
    keys = [p.compression_key for p in flat]
    changes = sum(1 for a, b in zip(keys, keys[1:]) if a != b)
    assert changes == len(set(keys)) - 1
    # ids: stable, distinct
    again = [u.unit_id for u in iter_units(config, unit_points=5)]
    assert again == [u.unit_id for u in units] and len(set(again)) == len(again)


def test_units_given_known_ids_hash_no_point(tmp_path):
    """`iter_units(ids=...)` (a sweep's second pass over its plan) gives the same units with the
    ids of the first pass, without hashing their points again."""
    config = _config(tmp_path)
    first = list(iter_units(config, unit_points=5))
    ids = [u.unit_id for u in first]
    again = list(iter_units(config, unit_points=5, ids=ids))
    assert [u.unit_id for u in again] == ids
    assert [[p.as_dict() for p in u.points] for u in again] == [
        [p.as_dict() for p in u.points] for u in first
    ]
    assert all("point_id" not in p.__dict__ for u in again for p in u.points)
    assert all("point_id" in p.__dict__ for u in first for p in u.points)


def test_grid_axis_values_are_distinct():
    reparsed = parse_config(
        {"networks": [{"network": "lenet-5"}], "grid": {"n_pe": [2, 8, 2, 8], "fc_bits": 4}}
    )
    assert len(reparsed.design_points()) == 2


def test_probe_points_cover_every_value(tmp_path):
    config = _config(tmp_path)
    probes = probe_points(config)
    assert len(probes) < len(config.design_points())
    for axis, values in config.grid.items():
        seen = {getattr(p, axis) for p in probes}
        assert set(values) <= seen, axis
    compression = {
        (p.network.label, *(getattr(p, a) for a in COMPRESSION_AXES))
        for p in config.design_points()
    }
    assert compression <= {
        (p.network.label, *(getattr(p, a) for a in COMPRESSION_AXES)) for p in probes
    }
    assert set(HARDWARE_AXES) >= {"n_pe", "fifo_depth"}


def test_a_unit_of_arrays_equals_its_points_one_by_one(tmp_path):
    """The array path (one call for the whole unit) gives exactly the rows of evaluating each
    point on its own (the single-point analytical path)."""
    config = _config(tmp_path)
    unit = next(iter(iter_units(config)))
    assert len(unit) == 12
    together = evaluate_unit(unit.points)
    one_by_one = pd.concat([evaluate_point(p) for p in unit.points], ignore_index=True)
    pd.testing.assert_frame_equal(together, one_by_one, rtol=1e-12)


def test_a_bad_accelerator_fails_only_its_points(tmp_path):
    config = _config(tmp_path)
    unit = next(iter(iter_units(config)))
    broken = dataclasses.replace(unit.points[3], accelerator=str(tmp_path / "missing.toml"))
    points = [*unit.points[:3], broken, *unit.points[4:]]
    rows = evaluate_unit(points)
    totals = rows[rows["row_type"] == "total"]
    assert list(totals["point_id"]) == [p.point_id for p in points]
    assert list(totals["status"]) == ["ok"] * 3 + ["error"] + ["ok"] * 8
    assert "missing.toml" in totals["error"].iloc[3]


def test_the_store_streams_units_into_one_table(tmp_path):
    store = ResultStore(tmp_path)
    store.prepare()
    good = pd.DataFrame({"point_id": ["a", "a"], "row_type": ["layer", "total"], "x": [1.0, 2.0]})
    good["flag"] = pd.array([pd.NA, True], dtype="boolean")
    failed = pd.DataFrame({"point_id": ["b"], "row_type": ["total"], "status": ["error"]})
    store.write("u1", good.assign(status="ok"))
    store.write("u2", failed)
    rows = store.write_table(["u1", "u2", "missing"], tmp_path / "t.parquet")
    table = pd.read_parquet(tmp_path / "t.parquet")
    assert rows == 3 and list(table["point_id"]) == ["a", "a", "b"]
    assert list(table.columns) == ["point_id", "row_type", "x", "flag", "status"]
    assert table["x"].isna().tolist() == [False, False, True]
    assert store.finished("u1") and not store.finished("u2") and not store.finished("missing")


def test_verify_reruns_points_on_the_cycle_model(tmp_path):
    config = _config(tmp_path, verify=3)
    out = tmp_path / "out"
    results = run_sweep(config, out, progress=False)
    verified = results[results["cycle_model_cycles"].notna()]
    assert len(verified) == 3 and (verified["row_type"] == "total").all()
    meta = json.loads((out / "run.json").read_text())
    summary = meta["verification"]["summary"]
    assert summary["points"] == 3
    assert abs(summary["worst_cycles_deviation_pct"]) < 5
    for row in meta["verification"]["rows"]:
        match = verified[verified["point_id"] == row["point_id"]].iloc[0]
        assert match["cycle_model_cycles"] == row["cycle_model_cycles"]
        assert row["analytical_cycles"] == pytest.approx(match["cycles"])
    totals = read_totals(out / "results.parquet")
    assert len(totals) == len(config.design_points())
    # the same seed verifies the same points
    again = run_sweep(config, tmp_path / "again", progress=False)
    assert set(again.loc[again["cycle_model_cycles"].notna(), "point_id"]) == set(
        verified["point_id"]
    )
