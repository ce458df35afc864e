"""Benchmark: exploration at scale (issue 11) — whole sweeps, each a separate `dcsim` process.

1. The 1,008-point example (`dcsim/configs/examples/analytical-1000.toml`): cold (empty dcsim
   and Numba caches) and warm (caches kept, a new output folder), with `dcsim sweep`'s default
   `--workers auto`. Target: ≤ 15 s.
2. `dcsim/configs/examples/explore-100k.toml` (100,000 analytical points, verify = 20): cold,
   in one process (`--workers 1`), with wall time, peak RSS and the size of every output. Targets:
   ≤ 3 min on 2 cores, peak RSS ≤ 2 GB, all outputs written.
3. The same sweep's evaluation on a loopback Dask cluster (`--scheduler`) with 1 and with 2
   single-threaded worker processes, caches warm, new output folders: the speed-up of 2 over 1
   (target ≥ 1.8×). The baseline (1 worker) is measured in the same run.

Usage: `.venv/bin/python benchmarks/run.py scale` (about 10–15 minutes on 2 idle cores).
`DCSIM_BENCH_SKIP_DASK=1` skips part 3.
"""

from __future__ import annotations

import os
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
    """Run `dcsim sweep config --out out` and return wall s, peak RSS MB and output sizes."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "dcsim.cli", "sweep", str(config)]
        + ["--out", str(out), "--quiet", *extra],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
    return {"seconds": seconds, "peak_rss_mb": int(done.stdout.split()[-1]) / 1024, "sizes": sizes}


def _dask(n_workers: int, config: Path, out: Path, env: dict) -> float:
    """Wall seconds of the sweep on a loopback Dask cluster of `n_workers` processes."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        env={k: env[k] for k in ("DCSIM_CACHE_DIR", "NUMBA_CACHE_DIR")},
    ) as cluster:
        return _sweep(config, out, env, "--scheduler", cluster.scheduler_address)["seconds"]


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
        for run in ("cold", "warm"):
            r = _sweep(small, tmp / f"small-{run}", env)
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
            one = _dask(1, big, tmp / "dask-1", env_cold)
            two = _dask(2, big, tmp / "dask-2", env_cold)
            rows.append(
                _row(
                    "explore-100k on loopback Dask, warm caches",
                    one_worker_s=round(one, 1),
                    two_workers_s=round(two, 1),
                    speedup=round(one / two, 2),
                    meets_1_8x=one / two >= 1.8,
                )
            )
    return rows


if __name__ == "__main__":
    main()
