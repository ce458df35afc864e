"""Run dcsim's benchmarks: every `benchmarks/bench_*.py` module's `main()`, in name order.

Usage:  make bench                       (all benchmarks)
        .venv/bin/python benchmarks/run.py kmeans huffman   (only those whose file name
                                                              contains one of the words)

Each benchmark measures its baseline in the same run and prints ratios, so the numbers are
comparable on any machine. Results are recorded by hand in benchmarks/README.md with the
machine and the date. Speed is never asserted in the test suite.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(filters: list[str]) -> list[Path]:
    files = sorted(HERE.glob("bench_*.py"))
    if filters:
        files = [f for f in files if any(word in f.stem for word in filters)]
    return files


def main(argv: list[str] | None = None) -> int:
    filters = sys.argv[1:] if argv is None else argv
    files = discover(filters)
    if not files:
        print(
            f"no benchmark matches {filters!r}; available: "
            + ", ".join(f.stem for f in discover([])),
            file=sys.stderr,
        )
        return 2
    print(
        f"# dcsim benchmarks on {platform.node()} ({platform.machine()}, "
        f"{platform.processor() or 'cpu'}, Python {platform.python_version()}), "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )
    for path in files:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        spec.loader.exec_module(module)
        print(f"\n## {path.stem}")
        start = time.perf_counter()
        module.main()
        print(f"({path.stem}: {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
