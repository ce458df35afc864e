"""`[accuracy] fine_tune = "pareto"` (dcsim.pareto_fine_tune): after the k-means pass, the
settings with a point on an accuracy front are evaluated again with trained quantization."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dcsim.config import ConfigError, parse_config
from dcsim.pareto_fine_tune import (
    PLAN_FILE,
    candidate_point_ids,
    fine_tuned,
)


def _brute_front(xs, ys) -> set[int]:
    """Indices no other point dominates (x no larger, y no smaller, one strictly better)."""
    keep = set()
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        dominated = any(
            (x2 <= x and y2 >= y and (x2 < x or y2 > y))
            for j, (x2, y2) in enumerate(zip(xs, ys, strict=True))
            if j != i
        )
        if not dominated:
            keep.add(i)
    return keep


def test_candidates_are_the_points_on_any_accuracy_front_per_network():
    rng = np.random.default_rng(5)
    n = 60
    totals = pd.DataFrame(
        {
            "point_id": [f"p{i}" for i in range(n)],
            "network": np.where(np.arange(n) < 30, "a", "b"),
            "status": np.where(np.arange(n) == 7, "error", "ok"),
            "top1": np.round(rng.uniform(0.5, 0.99, n), 2),
            "latency_ms": rng.uniform(1, 50, n),
            "energy_mj": rng.uniform(0.1, 5, n),
            "model_bytes": rng.integers(1, 9, n) * 1e5,
        }
    )
    totals.loc[11, "top1"] = np.nan  # not measured: on no front
    expected = set()
    for _, group in totals[(totals["status"] == "ok") & totals["top1"].notna()].groupby("network"):
        ids = group["point_id"].to_list()
        for axis in ("latency_ms", "energy_mj", "model_bytes"):
            front = _brute_front(group[axis].to_list(), group["top1"].to_list())
            expected |= {ids[i] for i in front}
    assert candidate_point_ids(totals) == expected
    assert "p7" not in expected and "p11" not in expected


def _config(extra: dict | None = None) -> dict:
    return {
        "sim_model": "analytical",
        "networks": [{"network": "alexnet", "weights": "digits"}],
        "grid": {"density_scale": [1.0], "accelerator": "eie"},
        **(extra or {}),
    }


def test_config_accepts_pareto_and_names_the_allowed_values():
    config = parse_config(_config({"accuracy": {"fine_tune": "pareto"}}))
    point = next(iter(config.iter_design_points()))
    assert dict(point.retraining)["fine_tune"] == "pareto"
    assert dict(fine_tuned(point).retraining)["fine_tune"] is True
    assert fine_tuned(point).point_id != point.point_id
    with pytest.raises(ConfigError, match=r"accuracy.fine_tune='some'.*\"pareto\""):
        parse_config(_config({"accuracy": {"fine_tune": "some"}}))


@pytest.mark.slow
def test_pareto_candidates_are_fine_tuned_in_place_and_a_rerun_keeps_them(tmp_path, monkeypatch):
    """A tiny digits sweep: the candidates' units hold exactly the rows of their fine-tuned
    twins (ids and configs of the configured points), the others the k-means rows; the plan
    is recorded, and a resumed run changes nothing."""
    from tiny_digits import TINY_DENSE, TINY_PRUNE, tiny_digits_recipe

    from dcsim.compression_setting import MEASURED_KMEANS, MEASURED_TRAINED
    from dcsim.point_evaluation import evaluate_unit
    from dcsim.result_store import ResultStore
    from dcsim.sweep import run_sweep
    from dcsim.work_units import iter_units
    from workloads import training

    monkeypatch.setattr(training, "DENSE_DIGITS_TRAINING", TINY_DENSE)
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / "cache"))
    quantize = "\n[training.quantize]\nlearning_rate = 5e-5\nmax_steps = 2\n"
    profile = tiny_digits_recipe(tmp_path, TINY_PRUNE + quantize)
    config = parse_config(
        {
            "sim_model": "analytical",
            "networks": [{"network": "alexnet", "weights": "digits", "density_profile": profile}],
            "accuracy": {"prune_epochs": 1.0, "fine_tune": "pareto"},
            "grid": {
                "density_scale": 0.6,
                "conv_bits": 6,
                "fc_bits": [4, 2],
                "accelerator": "eie",
                "n_pe": [16, 64],
            },
        }
    )
    out = tmp_path / "out"
    table = run_sweep(config, out, progress=False)
    store = ResultStore(out)
    plan = json.loads((store.units_dir / PLAN_FILE).read_text())
    assert plan["units"] and sorted(plan["done"]) == sorted(plan["units"])
    units = {u.unit_id: u for u in iter_units(config)}
    assert set(plan["units"]) <= set(units)
    totals = table[table["row_type"] == "total"].set_index("point_id")
    for unit_id, unit in units.items():
        ids = [p.point_id for p in unit.points]
        sources = set(totals.loc[ids, "accuracy_source"])
        if unit_id in plan["units"]:
            assert sources == {MEASURED_TRAINED}
            twin_rows = evaluate_unit([fine_tuned(p) for p in unit.points])
            stored = table[table["point_id"].isin(ids)].reset_index(drop=True)
            for column in ("top1", "top5", "latency_ms", "energy_mj", "model_bytes"):
                np.testing.assert_array_equal(
                    stored[column].to_numpy(float), twin_rows[column].to_numpy(float)
                )
            configured = {p.point_id: json.dumps(p.as_dict(), sort_keys=True) for p in unit.points}
            assert (stored["config_json"] == stored["point_id"].map(configured)).all()
        else:
            assert sources == {MEASURED_KMEANS}
    # the candidates come from the k-means pass: every stored candidate unit was on a front
    before = {p: store.path(p).stat().st_mtime_ns for p in units}
    again = run_sweep(config, out, progress=False)
    assert {p: store.path(p).stat().st_mtime_ns for p in units} == before
    pd.testing.assert_frame_equal(again, table)
