"""Benchmark: exploration at scale (issue 11) — whole sweeps, each a separate `dcsim` process.

1. The 1,008-point example (`dcsim/configs/examples/analytical-1000.toml`): cold (empty dcsim
   and Numba caches), warm (caches kept, a new output folder: the units are copied from the unit
   cache) and warm with `DCSIM_UNIT_CACHE=0` (every unit evaluated again), with `dcsim sweep`'s
   default `--workers auto`. Target: ≤ 15 s.
2. `dcsim/configs/examples/explore-100k.toml` (100,000 analytical points, verify = 20): cold,
   in one process (`--workers 1`), with wall time, peak RSS and the size of every output. Targets:
   ≤ 3 min on 2 cores, peak RSS ≤ 2 GB, all outputs written.
3. The same sweep's evaluation stage (the sweep's own "sweep: N/N points in X s" line) on a
   loopback Dask cluster (`--scheduler`) with 1 and with 2 single-threaded worker processes
   started with `--preload dcsim.dask_preload` and `NUMPY_MADVISE_HUGEPAGE=0` (as the README
   starts workers),
   caches warm but `DCSIM_UNIT_CACHE=0` (so both evaluate every unit), new output folders: the
   speed-up of 2 over 1 (target ≥ 1.8×). The baseline (1 worker) is measured in the same run.
   Each cluster then runs the same sweep with seed 1 (other weights: nothing computed before is
   reused, but the workers have imported dcsim and loaded its kernels, as on a cluster that
   serves sweep after sweep), measured the same way.

Usage: `.venv/bin/python benchmarks/run.py scale` (about 10–15 minutes on 2 idle cores).
`DCSIM_BENCH_SKIP_DASK=1` skips part 3.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "dcsim" / "configs" / "examples"
# Runs one command and prints the peak RSS (KB) of the largest process under it.
_WRAPPER = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _sweep(config: Path, out: Path, env: dict, *extra: str) -> dict:
    """Run `dcsim sweep config --out out`; wall s, evaluation-stage s, peak RSS MB, sizes."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "dcsim.cli", "sweep", str(config)]
        + ["--out", str(out), *extra],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
    stage = re.search(r"sweep: [\d,]+/[\d,]+ points in ([\d.]+) s", done.stderr)
    return {
        "seconds": seconds,
        "evaluation_s": float(stage.group(1)) if stage else None,
        "peak_rss_mb": int(done.stdout.split()[-1]) / 1024,
        "sizes": sizes,
    }


def _dask(n_workers: int, config: Path, out: Path, env: dict) -> tuple[dict, dict]:
    """The sweep (`_sweep`) on a new loopback Dask cluster of `n_workers` processes, then the
    same sweep with another seed (other weights, so nothing a worker computed is reused) on
    the same cluster, whose workers have then imported dcsim and loaded its Numba kernels."""

    reseeded = out.parent / f"{config.stem}-seed-1.toml"
    text = config.read_text()
    reseeded.write_text(re.sub(r"(?m)^seed = \d+$", "seed = 1", text, count=1))
    # the worker processes inherit this process's environment when they start: numpy's
    # huge-page advice off, as the README advises for Dask workers (and as dcsim sets for the
    # processes it starts itself), unless the user chose
    hugepage = os.environ.get("NUMPY_MADVISE_HUGEPAGE")
    os.environ["NUMPY_MADVISE_HUGEPAGE"] = hugepage or "0"
    try:
        return _on_cluster(n_workers, config, reseeded, out, env)
    finally:
        if hugepage is None:
            os.environ.pop("NUMPY_MADVISE_HUGEPAGE", None)


def _on_cluster(n_workers: int, config: Path, reseeded: Path, out: Path, env: dict):
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        env={k: env[k] for k in ("DCSIM_CACHE_DIR", "NUMBA_CACHE_DIR", "DCSIM_UNIT_CACHE")},
        preload=["dcsim.dask_preload"],  # as the README starts workers
    ) as cluster:
        address = cluster.scheduler_address
        first = _sweep(config, out, env, "--scheduler", address)
        second = _sweep(reseeded, out.with_name(out.name + "-seed-1"), env, "--scheduler", address)
    return first, second


def _row(name: str, **values) -> dict:
    print("  " + name + ": " + ", ".join(f"{k}={v}" for k, v in values.items()), flush=True)
    return {"benchmark": name, **values}


def main() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="dcsim-bench-scale-") as tmp:
        tmp = Path(tmp)
        env = {
            **os.environ,
            "DCSIM_CACHE_DIR": str(tmp / "cache"),
            "NUMBA_CACHE_DIR": str(tmp / "numba"),
        }
        small = EXAMPLES / "analytical-1000.toml"
        runs = {"cold": env, "warm": env, "warm, no unit cache": {**env, "DCSIM_UNIT_CACHE": "0"}}
        for run, run_env in runs.items():
            r = _sweep(small, tmp / f"small-{run.replace(' ', '-')}", run_env)
            rows.append(
                _row(
                    f"analytical-1000 (1,008 points), {run}",
                    seconds=round(r["seconds"], 1),
                    points_per_s=round(1008 / r["seconds"]),
                    peak_rss_mb=round(r["peak_rss_mb"]),
                    meets_15_s=r["seconds"] <= 15,
                )
            )
        big = EXAMPLES / "explore-100k.toml"
        env_cold = {
            **env,
            "DCSIM_CACHE_DIR": str(tmp / "cache-big"),
            "NUMBA_CACHE_DIR": str(tmp / "numba-big"),
        }
        r = _sweep(big, tmp / "big-cold", env_cold, "--workers", "1")
        rows.append(
            _row(
                "explore-100k (100,000 points), cold, 1 process",
                seconds=round(r["seconds"], 1),
                points_per_s=round(100_000 / r["seconds"]),
                peak_rss_mb=round(r["peak_rss_mb"]),
                meets_3_min=r["seconds"] <= 180,
                meets_2_gb=r["peak_rss_mb"] <= 2048,
                outputs_mb={k: round(v / 1e6, 1) for k, v in r["sizes"].items()},
            )
        )
        if not os.environ.get("DCSIM_BENCH_SKIP_DASK"):
            no_unit_cache = {**env_cold, "DCSIM_UNIT_CACHE": "0"}
            one, one_again = _dask(1, big, tmp / "dask-1", no_unit_cache)
            two, two_again = _dask(2, big, tmp / "dask-2", no_unit_cache)
            for label, a, b in (
                ("a new cluster", one, two),
                ("a cluster that ran a sweep before (seed 1)", one_again, two_again),
            ):
                speedup = a["evaluation_s"] / b["evaluation_s"]
                rows.append(
                    _row(
                        f"explore-100k evaluation on loopback Dask, {label}, no unit cache",
                        one_worker_s=a["evaluation_s"],
                        two_workers_s=b["evaluation_s"],
                        speedup=round(speedup, 2),
                        whole_sweep_s=(round(a["seconds"], 1), round(b["seconds"], 1)),
                        meets_1_8x=speedup >= 1.8,
                    )
                )
    return rows


if __name__ == "__main__":
    main()
