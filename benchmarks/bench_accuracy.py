"""Accuracy-in-the-loop benchmark: the default digits pipeline (dense training → Deep
Compression with retraining → evaluation), cold (empty cache) then warm (everything cached).

Part of `benchmarks/` (speed is measured here, never asserted in tests). Run through
`benchmarks/run.py accuracy`, or directly: `.venv/bin/python benchmarks/bench_accuracy.py`.
The cold run trains for real (minutes on 2 cores); the cache lives in a temporary folder that
is removed afterwards, so the user's cache is neither used nor filled.

`trajectory_vs_separate()` (`.venv/bin/python benchmarks/bench_accuracy.py trajectory
[--dense-cache DIR]` runs only it; DIR: a dcsim cache that already holds the dense digits
AlexNet, to skip its training): the default sweep's digits settings at its 5 density scales
(conv 8 / fc 5 bits, the sweep's [accuracy] defaults), pruned with retraining (a) along ONE
pruning trajectory (`compression.pruning_trajectory.walk_trajectory`, what the sweep does)
and (b) separately from the dense model for every density (what it did before), each timed
as process CPU time (user + sys, both torch threads) and wall time, with the top-1 of every
checkpoint against the separate run at that density (evaluation not timed). The dense model
is trained first (or read from DIR), untimed; neither side reads or writes pruned
checkpoints in a cache.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager

from dcsim.accuracy import digits_pipeline
from dcsim.tables import print_table


def _run(label: str) -> dict:
    started = time.perf_counter()
    report = digits_pipeline("digits")
    seconds = time.perf_counter() - started
    row = {"run": label, "total_s": round(seconds, 1)}
    row.update({k: round(v, 1) for k, v in report.timings_s.items()})
    metrics = report.metric_row()
    row.update(
        {
            "top1_dense": metrics["top1_dense"],
            "top1_compressed": metrics["top1_compressed"],
            "map_dense": round(metrics["map_dense"], 4),
            "map_compressed": round(metrics["map_compressed"], 4),
            "compression_ratio": round(metrics["compression_ratio"], 1),
        }
    )
    return row


def main() -> list[dict]:
    previous = os.environ.get("DCSIM_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="dcsim-bench-accuracy-") as folder:
        os.environ["DCSIM_CACHE_DIR"] = folder
        try:
            rows = [_run("cold"), _run("warm")]
        finally:
            if previous is None:
                os.environ.pop("DCSIM_CACHE_DIR", None)
            else:
                os.environ["DCSIM_CACHE_DIR"] = previous
    rows.append(
        {"run": "cold/warm", "total_s": round(rows[0]["total_s"] / max(rows[1]["total_s"], 0.1), 1)}
    )
    print_table(rows)
    trajectory_vs_separate()
    return rows


@contextmanager
def _temporary_cache(dense_cache: str | None = None):
    previous = os.environ.get("DCSIM_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="dcsim-bench-trajectory-") as folder:
        os.environ["DCSIM_CACHE_DIR"] = dense_cache or folder
        try:
            yield folder
        finally:
            if previous is None:
                os.environ.pop("DCSIM_CACHE_DIR", None)
            else:
                os.environ["DCSIM_CACHE_DIR"] = previous


def _timed(run) -> tuple[object, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = run()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def trajectory_vs_separate(dense_cache: str | None = None) -> list[dict]:
    """(module docstring) one row per density plus the totals and the ratio."""
    from importlib import resources

    from compression.deep_compression import recipe_hops, retrain_schedule
    from compression.pruning_trajectory import pruned_stage, walk_trajectory
    from dcsim.compression_setting import compression_only, point_recipe
    from dcsim.config import load_config
    from dcsim.trained_models import seeded_setup
    from workloads import training
    from workloads.evaluation import evaluate_split

    default = resources.files("dcsim").joinpath("configs/default.toml")
    points = [
        compression_only(p)
        for p in load_config(str(default)).iter_design_points()
        if p.network.weights == "digits" and p.conv_bits == 8 and p.fc_bits == 5
    ]
    settings = sorted(dict.fromkeys(points), key=lambda p: -p.density_scale)
    rows = []
    with _temporary_cache(dense_cache):
        setup = seeded_setup(settings[0])
        split = setup.split()
        dense = training.train_dense_digits(setup, split=split)
        network, data = dense.network, training.digits_training_data(split)
        threads = training.DENSE_DIGITS_TRAINING.threads
        deepest = point_recipe(settings[-1])
        hops = recipe_hops(deepest, network)
        schedule = retrain_schedule(deepest).prune
        common = dict(seed=settings[0].seed, threads=threads)

        def top1(model) -> float:
            with training.torch_threads(threads):
                return evaluate_split(
                    model, network, split.x_train, split.y_train, split.x_test, split.y_test
                ).top1

        walk = walk_trajectory(
            dense.model, network, dense.key, hops, data, schedule, use_cache=False, **common
        )
        trajectory = []
        for point in settings:
            checkpoint, cpu_s, wall_s = _timed(lambda walk=walk: next(walk))
            trajectory.append((point, checkpoint, cpu_s, wall_s))
        for point, checkpoint, cpu_s, wall_s in trajectory:
            recipe = point_recipe(point)
            alone = recipe_hops(recipe, network)[-1]
            steps = recipe.prune_steps
            (model, _, _), sep_cpu_s, sep_wall_s = _timed(
                lambda alone=alone, steps=steps: pruned_stage(
                    dense.model, network, dense.key, alone.densities, steps, data, schedule,
                    use_cache=False, **common,
                )
            )  # fmt: skip
            rows.append(
                {
                    "density_scale": point.density_scale,
                    "trajectory_cpu_s": round(cpu_s, 1),
                    "trajectory_wall_s": round(wall_s, 1),
                    "separate_cpu_s": round(sep_cpu_s, 1),
                    "separate_wall_s": round(sep_wall_s, 1),
                    "top1_trajectory": round(top1(checkpoint.model), 4),
                    "top1_separate": round(top1(model), 4),
                }
            )
    totals = {
        key: round(sum(row[key] for row in rows), 1)
        for key in ("trajectory_cpu_s", "trajectory_wall_s", "separate_cpu_s", "separate_wall_s")
    }
    rows.append({"density_scale": "total", **totals})
    rows.append(
        {
            "density_scale": "separate/trajectory",
            "trajectory_cpu_s": round(totals["separate_cpu_s"] / totals["trajectory_cpu_s"], 2),
            "trajectory_wall_s": round(totals["separate_wall_s"] / totals["trajectory_wall_s"], 2),
        }
    )
    print("pruning with retraining: one trajectory vs separate runs per density")
    print_table(rows)
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["trajectory"]:
        cache = sys.argv[3] if sys.argv[2:3] == ["--dense-cache"] and len(sys.argv) == 4 else None
        trajectory_vs_separate(cache)
    else:
        main()
