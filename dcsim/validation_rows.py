"""The validation table shipped with every sweep report: published vs model (DESIGN §5).

Part of the application layer: it gathers the checks defined in `simulator.validation`
(EIE timing and power, FIFO depth, PE scaling) as plain JSON-able rows. They take tens of
seconds and depend only on the code and the seed, so they are cached on disk under the user's
cache directory, keyed by a hash of the source of the packages they run.
"""

from __future__ import annotations

import json
import math

CODE_PACKAGES: tuple[str, ...] = ("workloads", "compression", "simulator")


def code_fingerprint() -> str:
    """sha256 over the source files of the packages the checks run (`CODE_PACKAGES`)."""
    from dcsim.content_keys import source_fingerprint

    return source_fingerprint(CODE_PACKAGES)


def _path(seed: int):
    from workloads.cache import cache_dir

    return cache_dir() / "validation" / f"{code_fingerprint()}-{seed}.json"


def cached_validation_rows(seed: int = 0) -> list[dict] | None:
    """The rows of this code version and seed from the cache; None when absent or damaged."""
    path = _path(seed)
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # damaged cache entry: recompute and overwrite
    return None


def compute_validation_rows(seed: int = 0, compile_statistics_first: bool = False) -> list[dict]:
    """The rows computed (NaN as None), without the cache: what a sweep's worker runs alongside
    the units (`dcsim.sweep`), the sweep's process then keeping them (`keep_validation_rows`).

    Always `simulator.validation.SIMULATOR_CHECKS`, whatever else happens to be registered in
    this process: the accuracy-trend checks train networks for minutes and belong to
    `dcsim validate`. `compile_statistics_first` (an analytical sweep's side worker): first
    compile the analytical model's statistics kernels
    (`simulator.layer_statistics.compile_statistics_kernels`), which the worker on the first
    unit then loads from Numba's cache while it compiles the compression kernels, which these
    checks then load in turn: the two workers share the compiling instead of each doing all."""
    if compile_statistics_first:
        from simulator.layer_statistics import compile_statistics_kernels

        compile_statistics_kernels()
    from simulator.validation import SIMULATOR_CHECKS
    from simulator.validation import validation_rows as simulator_rows
    from workloads import progress

    with progress.stage("validation rows for the report (once per code version)"):
        return [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in simulator_rows(list(SIMULATOR_CHECKS), seed=seed)
        ]


def keep_validation_rows(rows: list[dict], seed: int = 0) -> None:
    """Keep `rows` in the cache (a read-only or full cache only costs the speed-up)."""
    from workloads.cache import keep_file

    text = json.dumps(rows)
    keep_file(_path(seed), lambda temp: temp.write_text(text, encoding="utf-8"))


def validation_rows(seed: int = 0) -> list[dict]:
    """The simulator checks' rows (`compute_validation_rows`), computed once per code version
    and seed."""
    rows = cached_validation_rows(seed)
    if rows is None:
        rows = compute_validation_rows(seed)
        keep_validation_rows(rows, seed)
    return rows
