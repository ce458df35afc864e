"""Accuracy-in-the-loop benchmark: the default digits pipeline (dense training → Deep
Compression with retraining → evaluation), cold (empty cache) then warm (everything cached).

Part of `benchmarks/` (speed is measured here, never asserted in tests). Run through
`benchmarks/run.py accuracy`, or directly: `.venv/bin/python benchmarks/bench_accuracy.py`.
The cold run trains for real (minutes on 2 cores); the cache lives in a temporary folder that
is removed afterwards, so the user's cache is neither used nor filled.
"""

from __future__ import annotations

import os
import tempfile
import time

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
    return rows


if __name__ == "__main__":
    main()
