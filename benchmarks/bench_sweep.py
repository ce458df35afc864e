"""Benchmark: the design-space sweep end to end (issue 6).

1. The default sweep (`dcsim sweep --out DIR`, the README's main job): cold — empty dcsim cache
   and empty Numba cache, so the digits AlexNet is trained, pruned, quantized and every kernel
   compiled — then warm — caches kept, a new output folder, so every point is evaluated again
   from cached artefacts — then resumed: the same output folder, nothing left to compute.
   Targets: cold <= 5 min, warm <= 1 min on 2 cores.
2. The 1,008-point analytical example (`dcsim/configs/examples/analytical-1000.toml`) with 1
   and with 2 worker processes: points/s and the peak resident memory of the sweep process and
   of its largest worker (memory must stay bounded: points are stored as they finish).

Each run is a separate `dcsim` process, timed by wall clock. Set DCSIM_BENCH_SKIP_LARGE=1 to
skip part 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LARGE = REPO / "dcsim" / "configs" / "examples" / "analytical-1000.toml"


# Runs one dcsim command and prints the peak RSS (KB) of the largest process under it.
_WRAPPER = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _dcsim(args: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB of the largest process of that run)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "dcsim.cli", *args, "--quiet"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    return seconds, int(done.stdout.split()[-1]) / 1024


def main() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="dcsim-bench-") as tmp:
        tmp = Path(tmp)
        env = {
            **os.environ,
            "DCSIM_CACHE_DIR": str(tmp / "cache"),
            "NUMBA_CACHE_DIR": str(tmp / "numba"),
        }
        cold, _ = _dcsim(["sweep", "--out", str(tmp / "cold")], env)
        warm, _ = _dcsim(["sweep", "--out", str(tmp / "warm")], env)
        resumed, _ = _dcsim(["sweep", "--out", str(tmp / "warm")], env)
        for name, seconds, target in (
            ("default sweep, cold", cold, 300.0),
            ("default sweep, warm", warm, 60.0),
            ("default sweep, resumed (all stored)", resumed, None),
        ):
            rows.append(
                {
                    "benchmark": name,
                    "seconds": round(seconds, 1),
                    "target_s": target,
                    "meets": None if target is None else seconds <= target,
                }
            )
        if not os.environ.get("DCSIM_BENCH_SKIP_LARGE"):
            for workers in (1, 2):
                out = tmp / f"large-{workers}"
                seconds, peak = _dcsim(
                    ["sweep", str(LARGE), "--out", str(out), "--workers", str(workers)], env
                )
                rows.append(
                    {
                        "benchmark": f"analytical 1,008 points, {workers} worker(s)",
                        "seconds": round(seconds, 1),
                        "points_per_s": round(1008 / seconds, 2),
                        "peak_rss_mb": round(peak),
                    }
                )
    for row in rows:
        print("  " + ", ".join(f"{k}={v}" for k, v in row.items() if v is not None))
    return rows


if __name__ == "__main__":
    main()
