"""Benchmark: writing a sweep's outputs (results.csv, results.xlsx, report.html) from its stored
table, at 10^4, 10^5 and 10^6 design points (issue 11, item 4).

For each size a synthetic table with the real column schema (`tests/synthetic_tables.py`:
8 layers per point like alexnet-caffe, so 9 rows per point; two networks; 84 hardware
variants; 0.2 % failed points; a row group per 5,000 points, like a store that writes a
chunk per work unit) is written to parquet, then `reports.write_outputs` runs in a
fresh process. Measured: wall and CPU seconds of each step (scan, CSV, XLSX, HTML), the
process's peak resident memory (VmHWM), the file sizes and the report's size beyond the
inlined plotly.js bundle. Memory must not grow with the number of points.

Baselines in the same run: (1) reading the whole table with pandas (`pd.read_parquet`) —
the least any writer that holds the table needs (skipped where it would not fit in half the
free memory: at 10^6 points it needs ~25 GB); (2) at 10^4 points only, the previous
whole-DataFrame writers (`reports` as of commit d739de5, extracted with `git archive`) on the
same table. Set DCSIM_BENCH_SKIP_OLD=1 to skip (2), DCSIM_BENCH_OUTPUT_SIZES="10000,100000" to
choose sizes. The 10^6 table needs ~10 GB of disk (the CSV) and several minutes.

    .venv/bin/python benchmarks/run.py outputs
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OLD_COMMIT = "d739de5"
SIZES = (10_000, 100_000, 1_000_000)

_PEAK = """
def _peak():
    with open("/proc/self/status") as status:  # VmHWM: this process's own peak
        return [int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM")][0]
"""

_NEW = (
    _PEAK
    + """
import json, sys, time
from reports import write_outputs
steps, last = [], [time.perf_counter(), time.process_time()]
def progress(message):
    now = [time.perf_counter(), time.process_time()]
    steps.append([message, now[0] - last[0], now[1] - last[1]])
    last[:] = now
with open(sys.argv[2]) as meta:
    write_outputs(sys.argv[1], json.load(meta), sys.argv[3], progress=progress)
print(json.dumps({"steps": steps, "peak": _peak(), "cpu": time.process_time()}))
"""
)

_READ = (
    _PEAK
    + """
import json, sys, time
import pandas as pd
start = time.perf_counter()
table = pd.read_parquet(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - start, "peak": _peak(), "rows": len(table)}))
"""
)

_OLD = (
    _PEAK
    + """
import json, sys, time
sys.path.insert(0, sys.argv[4])
import pandas as pd
from reports import write_csv, write_xlsx
from reports.html_report import write_report
start = time.perf_counter()
table = pd.read_parquet(sys.argv[1])
with open(sys.argv[2]) as meta:
    meta = json.load(meta)
out = sys.argv[3]
write_csv(table, out + "/results.csv")
write_xlsx(table, meta, out + "/results.xlsx")
write_report(table, meta, out + "/report.html")
print(json.dumps({"seconds": time.perf_counter() - start, "peak": _peak(),
                  "cpu": time.process_time()}))
"""
)


def _run(script: str, *args) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _available_bytes() -> int:
    with open("/proc/meminfo") as info:
        return [int(line.split()[1]) * 1024 for line in info if line.startswith("MemAvailable")][0]


def _read_baseline(parquet: Path) -> dict:
    """pd.read_parquet of the whole table, unless it would not fit in half the free memory
    (about 10 bytes in pandas per byte of parquet here): then the row count only."""
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(parquet).metadata.num_rows
    if 10 * parquet.stat().st_size > _available_bytes() / 2:
        return {"seconds": None, "peak": None, "rows": rows}
    return _run(_READ, parquet)


def _old_reports(tmp: Path) -> Path | None:
    """The `reports` package of OLD_COMMIT in a folder of its own (None without git)."""
    archive = tmp / "old.tar"
    try:
        with archive.open("wb") as out:
            subprocess.run(
                ["git", "archive", OLD_COMMIT, "reports"], cwd=REPO, stdout=out, check=True
            )
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = tmp / "old"
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def main() -> list[dict]:
    sys.path.insert(0, str(REPO / "tests"))
    from plotly.offline import get_plotlyjs
    from synthetic_tables import synthetic_meta, write_synthetic_results

    bundle = len(get_plotlyjs().encode())
    sizes = SIZES
    if os.environ.get("DCSIM_BENCH_OUTPUT_SIZES"):
        sizes = tuple(int(s) for s in os.environ["DCSIM_BENCH_OUTPUT_SIZES"].split(","))
    rows = []
    with tempfile.TemporaryDirectory(prefix="dcsim-bench-outputs-") as tmp:
        tmp = Path(tmp)
        meta = tmp / "run.json"
        meta.write_text(json.dumps(synthetic_meta()))
        for points in sizes:
            parquet = tmp / f"results-{points}.parquet"
            start = time.perf_counter()
            write_synthetic_results(parquet, points, n_layers=8, chunk_points=5_000)
            generated = time.perf_counter() - start
            read = _read_baseline(parquet)
            out = tmp / f"out-{points}"
            start = time.perf_counter()
            new = _run(_NEW, parquet, meta, out)
            wall = time.perf_counter() - start
            sizes_mb = {p.name: p.stat().st_size / 1e6 for p in out.iterdir()}
            row = {
                "points": points,
                "rows": read["rows"],
                "parquet_mb": round(parquet.stat().st_size / 1e6, 1),
                "generate_s": round(generated, 1),
                "wall_s": round(wall, 1),
                "cpu_s": round(new["cpu"], 1),
                "peak_rss_mb": round(new["peak"] / 1e6),
                "steps": "; ".join(
                    f"{m.split(':')[0].split(' (')[0].replace(str(out) + '/', '')} "
                    f"{w:.1f} s wall / {c:.1f} s CPU"
                    for m, w, c in new["steps"]
                ),
                "csv_mb": round(sizes_mb["results.csv"], 1),
                "xlsx_mb": round(sizes_mb["results.xlsx"], 1),
                "html_beyond_plotly_mb": round(sizes_mb["report.html"] - bundle / 1e6, 2),
                "baseline_read_parquet_s": read["seconds"] and round(read["seconds"], 1),
                "baseline_read_parquet_peak_rss_mb": read["peak"] and round(read["peak"] / 1e6),
            }
            rows.append(row)
            print("  " + ", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            if points == sizes[0] and not os.environ.get("DCSIM_BENCH_SKIP_OLD"):
                folder = _old_reports(tmp)
                if folder is not None:
                    (tmp / "old-out").mkdir()
                    old = _run(_OLD, parquet, meta, tmp / "old-out", folder)
                    row = {
                        "points": points,
                        "baseline": f"whole-DataFrame writers of {OLD_COMMIT}",
                        "wall_s": round(old["seconds"], 1),
                        "cpu_s": round(old["cpu"], 1),
                        "peak_rss_mb": round(old["peak"] / 1e6),
                    }
                    rows.append(row)
                    print("  " + ", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            for path in (parquet, *out.iterdir()):
                path.unlink()
    return rows


if __name__ == "__main__":
    main()
