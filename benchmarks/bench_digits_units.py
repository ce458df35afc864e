"""Digits work units of the default sweep, warm: the setting read back from the accuracy
stage's cache entries (`dcsim.trained_setting`) vs through the Deep Compression pipeline
(`dcsim.trained_models.accuracy_report`, what every unit did before), and the accuracy
stage's k-means grid on a reduced config.

Part of `benchmarks/` (speed is measured here, never asserted in tests). Run:
`.venv/bin/python benchmarks/bench_digits_units.py [--cache DIR]`. DIR: a dcsim cache that
already holds the entries of the reduced config below (dense model, the two checkpoints, the
8 settings); without it they are built in a temporary folder first (dense training included:
minutes on 2 cores). The reduced config is the default sweep's digits network at
density_scale [1.0, 0.7] × conv_bits [8, 4] × fc_bits [5, 2]; the units timed are the default
config's own units (96 hardware variants each) at density 1.0, whose settings the reduced
config's first checkpoint serves. Times are process CPU time (user + sys of every thread).

1. **units**: in one process, one unit first (imports, Numba cache loads), then the other
   three with each path; the tidy rows of the two paths must be equal, or it fails.
2. **grid**: `prepare_points` of the reduced config with the dense model and the
   checkpoints cached and every quantized / evaluation entry removed: the k-means grid of 8
   settings (one conv trunk per conv width, one fc head per setting) plus the dense
   evaluation.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from importlib import resources

REDUCED = {
    "name": "digits-reduced",
    "sim_model": "analytical",
    "verify": 0,
    "networks": [
        {
            "name": "alexnet-digits",
            "network": "alexnet",
            "weights": "digits",
            "density_profile": "digits",
        }
    ],
    "grid": {
        "density_scale": [1.0, 0.7],
        "conv_bits": [8, 4],
        "fc_bits": [5, 2],
        "accelerator": "edge-16",
        "n_pe": [1, 16],
    },
}
UNITS = [(1.0, 8, 5), (1.0, 8, 2), (1.0, 4, 5), (1.0, 4, 2)]


def _default_units():
    from dcsim.config import load_config
    from dcsim.work_units import iter_units

    config = load_config(str(resources.files("dcsim").joinpath("configs/default.toml")))
    found = {}
    for unit in iter_units(config):
        point = unit.points[0]
        key = (point.density_scale, point.conv_bits, point.fc_bits)
        if point.network.weights == "digits" and key in UNITS:
            found.setdefault(key, unit)
        if len(found) == len(UNITS):
            break
    return [found[key] for key in UNITS]


def units() -> list[dict]:
    import pandas as pd

    from dcsim import trained_models, trained_setting
    from dcsim.unit_executors import evaluate_work_unit

    read_back = trained_setting.cached_trained_point
    first, *rest = _default_units()
    started = time.process_time()
    evaluate_work_unit(first)
    rows = [{"path": "first unit (imports, caches)", "cpu_s": time.process_time() - started}]
    tables = {}
    for label, function in (("through the pipeline", None), ("read back", read_back)):
        trained_setting.cached_trained_point = function or (lambda point: None)
        trained_models.accuracy_report.cache_clear()
        times = []
        for unit in rest:
            started = time.process_time()
            tables[label, unit.index] = evaluate_work_unit(unit)
            times.append(time.process_time() - started)
        rows.append({"path": label, "cpu_s": sum(times) / len(times), "units": len(times)})
    trained_setting.cached_trained_point = read_back
    for unit in rest:
        pd.testing.assert_frame_equal(
            tables["read back", unit.index],
            tables["through the pipeline", unit.index],
            check_exact=True,
        )
    return rows


def grid(cache: str) -> dict:
    from dcsim.config import parse_config
    from dcsim.point_evaluation import prepare_points
    from workloads import progress

    with tempfile.TemporaryDirectory(prefix="dcsim-grid-") as folder:
        for kind in ("dense", "pruned"):
            shutil.copytree(os.path.join(cache, kind), os.path.join(folder, kind))
        os.environ["DCSIM_CACHE_DIR"] = folder
        try:
            points = list(parse_config(REDUCED).iter_design_points())
            started, wall = time.process_time(), time.perf_counter()
            with progress.reporting(enabled=False):
                prepare_points(points)
            return {
                "path": "k-means grid, 8 settings + dense evaluation",
                "cpu_s": time.process_time() - started,
                "wall_s": time.perf_counter() - wall,
            }
        finally:
            os.environ["DCSIM_CACHE_DIR"] = cache


def main(cache: str | None = None) -> list[dict]:
    from dcsim.config import parse_config
    from dcsim.point_evaluation import prepare_points
    from dcsim.tables import print_table

    temporary = None
    if cache is None:
        temporary = tempfile.TemporaryDirectory(prefix="dcsim-units-")
        cache = temporary.name
    os.environ["DCSIM_CACHE_DIR"] = cache
    try:
        prepare_points(list(parse_config(REDUCED).iter_design_points()))  # no-op when cached
        rows = [*units(), grid(cache)]
    finally:
        if temporary is not None:
            temporary.cleanup()
    print_table(
        [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in rows]
    )
    return rows


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(arguments[1] if arguments[:1] == ["--cache"] and len(arguments) == 2 else None)
