"""Trained quantization for the Pareto candidates of a sweep (`[accuracy] fine_tune = "pareto"`).

Part of the application layer (DESIGN §6, §8), a stage of `dcsim.sweep.run_sweep` between the
work units and the verification. Deep Compression fine-tunes the shared centroids after
k-means (trained quantization); a sweep's accuracy grid skips that for speed (`fine_tune =
false`: every setting "measured, k-means only"), and `fine_tune = true` pays it for every
setting. `"pareto"` pays it only where it matters to the reader: after every unit is evaluated
k-means only, the compression settings with a point on one of the report's accuracy fronts —
top-1 against latency, against energy per frame and against model size, per network with
measured accuracy (`reports.pareto.pareto_mask`) — are the candidates; each candidate's units
are evaluated again with centroid fine-tuning (accuracy, and the activations the fine-tuned
network produces, hence cycles and energy), keeping the points' ids and configs, and their
rows say `measured, trained quantization`. Other settings keep their k-means rows.

The candidates are chosen once, from the k-means rows, and recorded with the units done in
`DIR/units/fine_tune_pareto.json` (written atomically after every unit), so an interrupted run
resumes where it stopped and a resumed run fine-tunes the same settings.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from dcsim.compression_setting import compression_only
from dcsim.design_point import DesignPoint, SweepConfig

PLAN_FILE = "fine_tune_pareto.json"
#: The fronts whose points' settings are fine-tuned: top-1 (maximised) against each of these
#: (minimised) — the report's "Pareto front: accuracy vs …" figures.
FRONT_AXES: tuple[str, ...] = ("latency_ms", "energy_mj", "model_bytes")
_COLUMNS = ("point_id", "network", "row_type", "status", "top1", *FRONT_AXES)


def wants_pareto_fine_tune(config: SweepConfig) -> bool:
    """Whether the config asks for trained quantization of its Pareto candidates."""
    return config.accuracy.get("fine_tune") == "pareto"


def fine_tuned(point: DesignPoint) -> DesignPoint:
    """The point with centroid fine-tuning (its trained-quantization twin)."""
    retraining = tuple((k, True if k == "fine_tune" else v) for k, v in point.retraining)
    return dataclasses.replace(point, retraining=retraining)


def candidate_point_ids(totals: pd.DataFrame) -> set[str]:
    """Point ids on any accuracy front (`FRONT_AXES`) of their network, among the successful
    points with a measured top-1."""
    from reports.pareto import pareto_mask

    ok = totals[(totals["status"] == "ok") & totals["top1"].notna()]
    chosen: set[str] = set()
    for _, group in ok.groupby("network", sort=True):
        top1 = group["top1"].to_numpy(float)
        for axis in FRONT_AXES:
            mask = pareto_mask(group[axis].to_numpy(float), top1)
            chosen |= set(group["point_id"].to_numpy()[mask])
    return chosen


def _totals(store, unit_ids: list[str]) -> pd.DataFrame:
    frames = []
    for unit_id in unit_ids:
        path = store.path(unit_id)
        if path.is_file():
            table = pd.read_parquet(path, columns=list(_COLUMNS))
            frames.append(table[table["row_type"] == "total"])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_COLUMNS)


def _read_plan(path: Path) -> dict | None:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(plan, dict) or not {"units", "done"} <= set(plan):
        return None
    return plan


def _write_plan(path: Path, plan: dict) -> None:
    from workloads.atomic_file import atomic_path

    with atomic_path(path) as temp:
        Path(temp).write_text(json.dumps(plan, indent=1, sort_keys=True), encoding="utf-8")


def plan_units(config: SweepConfig, store) -> dict:
    """The recorded plan (`PLAN_FILE`), or a new one from the stored k-means rows: the ids of
    the units holding a point whose compression setting has a point on a front."""
    from dcsim.trained_entries import trains
    from dcsim.work_units import iter_units

    path = store.units_dir / PLAN_FILE
    plan = _read_plan(path)
    if plan is not None:
        return plan
    units = [u for u in iter_units(config) if any(trains(p.network) for p in u.points)]
    chosen = candidate_point_ids(_totals(store, [u.unit_id for u in units]))
    settings = {compression_only(p) for u in units for p in u.points if p.point_id in chosen}
    plan = {
        "settings": len(settings),
        "units": [
            u.unit_id for u in units if any(compression_only(p) in settings for p in u.points)
        ],
        "done": [],
    }
    _write_plan(path, plan)
    return plan


def fine_tune_pareto(config: SweepConfig, store, progress) -> None:
    """Evaluate the plan's units not yet done again with trained quantization and store their
    rows in place of the k-means ones (module docstring)."""
    from dcsim.point_evaluation import evaluate_unit, prepare_points
    from dcsim.work_units import iter_units

    plan = plan_units(config, store)
    todo = [u for u in plan["units"] if u not in set(plan["done"])]
    if not todo:
        return
    units = {u.unit_id: u for u in iter_units(config) if u.unit_id in set(todo)}
    label = f"trained quantization of {plan['settings']} Pareto candidate settings"
    with progress.stage(f"{label} ({len(todo)} units)"):
        prepare_points([fine_tuned(p) for unit_id in todo for p in units[unit_id].points])
        for unit_id in todo:
            points = units[unit_id].points
            twins = [fine_tuned(p) for p in points]
            rows = evaluate_unit(twins)
            originals = {t.point_id: p for t, p in zip(twins, points, strict=True)}
            rows["config_json"] = [
                json.dumps(originals[i].as_dict(), sort_keys=True) for i in rows["point_id"]
            ]
            rows["point_id"] = np.array([originals[i].point_id for i in rows["point_id"]])
            store.write(unit_id, rows)
            plan["done"].append(unit_id)
            _write_plan(store.units_dir / PLAN_FILE, plan)


def fine_tuned_twins(config: SweepConfig, store, points: list[DesignPoint]) -> dict:
    """point id -> fine-tuned twin for those of `points` whose stored rows are their twin's
    (their unit is done in the recorded plan); {} without the plan."""
    if not wants_pareto_fine_tune(config):
        return {}
    plan = _read_plan(store.units_dir / PLAN_FILE)
    if plan is None:
        return {}
    from dcsim.work_units import iter_units

    done = set(plan["done"])
    twins = {}
    wanted = {p.point_id for p in points}
    for unit in iter_units(config):
        if unit.unit_id in done:
            for point in unit.points:
                if point.point_id in wanted:
                    twins[point.point_id] = fine_tuned(point)
    return twins
