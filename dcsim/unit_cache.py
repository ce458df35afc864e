"""A finished work unit's rows, cached on disk by content, so the same sweep into a new folder
(a warm run) copies them instead of evaluating again.

Part of the application layer (DESIGN §6, §8), between `dcsim.sweep` and the result store
(`dcsim.result_store`). A work unit's rows are a pure function of its points (each point's id
hashes everything that defines it: network entry, compression setting, hardware, seed, the
trajectory and retraining settings of a trained network), the code, the files the points name
and the libraries — the same inputs the cycle-model rerun cache uses
(`dcsim.verification_cache`). So a unit whose points all succeeded is kept as
`cache_dir()/units/<key>.parquet`, a byte copy of the store's file, and a later run of a unit
with the same key copies it into its store instead of evaluating it (`fetch`).

The key (`workloads.cache.cache_key`, which adds the torch version and the CPU kernels torch
runs when the unit runs torch operations, `dcsim.point_evaluation.runs_torch`) holds the unit's
id (a hash of its points' ids, in order), the source fingerprint of every dcsim package, the
digests of the files its points name (the network source, weights, data folder, recipe or
density profile, accelerator file) and the library versions (`dcsim.content_keys`). A cached
file is used only when it reads back whole, every point holds status "ok" and its points are
the unit's, in the unit's order; otherwise it is ignored (and overwritten by the next
evaluation). Writing goes through a temporary file and `os.replace`, so a killed run leaves no
half file. A read-only or full cache only costs the speed-up.

`DCSIM_UNIT_CACHE=0` turns the cache off (nothing read, nothing kept: to time an evaluation, or
to keep a huge sweep's rows out of the cache folder); `dcsim sweep --fresh` recomputes every
unit without reading it (and keeps the new rows).

The rows copied are those the evaluation wrote (for `fine_tune = "pareto"` the k-means rows:
the fine-tuning pass then runs over the store as after an evaluation, `dcsim.pareto_fine_tune`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq

from dcsim.work_units import WorkUnit

CACHE_FOLDER = "units"
SWITCH = "DCSIM_UNIT_CACHE"


def enabled() -> bool:
    """False when `$DCSIM_UNIT_CACHE` is 0 (module docstring); a value other than 0 or 1 is a
    one-line ValueError."""
    value = os.environ.get(SWITCH, "1").strip()
    if value not in ("0", "1"):
        raise ValueError(f"{SWITCH}={value!r} is invalid; allowed: 0 (off) or 1 (on, the default)")
    return value == "1"


# {string: its named-file digests} for the current run (`new_run` empties it): a data folder
# of 50,000 images is listed once per run, not once per unit
_RUN_DIGESTS: dict[str, dict[str, str]] = {}


def new_run() -> None:
    """Forget the file digests of an earlier run (files may have changed since)."""
    _RUN_DIGESTS.clear()


def _file_digests(strings) -> dict[str, str]:
    from dcsim.content_keys import named_file_digests

    out: dict[str, str] = {}
    for text in strings:
        if text not in _RUN_DIGESTS:
            _RUN_DIGESTS[text] = named_file_digests(text)
        out.update(_RUN_DIGESTS[text])
    return out


def unit_key(unit: WorkUnit) -> str:
    """The cache key of `unit`'s rows (module docstring)."""
    from dcsim.content_keys import library_versions, source_fingerprint, strings_in
    from dcsim.point_evaluation import runs_torch
    from workloads.cache import cache_key

    first = unit.points[0].as_dict()  # one compression setting: its network entry is shared
    accelerators = {point.accelerator for point in unit.points}
    return cache_key(
        "sweep-unit",
        {
            "unit": unit.unit_id,
            "code": source_fingerprint(),
            "files": _file_digests(sorted(set(strings_in(first)) | accelerators)),
            "libraries": library_versions(),
        },
        torch_kernels=runs_torch(unit.points[0].network),
    )


def _path(key: str) -> Path:
    from workloads.cache import cache_dir

    return cache_dir() / CACHE_FOLDER / f"{key}.parquet"


def _holds(path: Path, unit: WorkUnit) -> bool:
    """True when `path` reads back with the unit's points, in order, every one "ok"."""
    try:
        table = pq.read_table(path, columns=["point_id", "status", "row_type"])
    except Exception:  # missing, damaged or of another layout
        return False
    if table.num_rows == 0 or any(s != "ok" for s in table.column("status").to_pylist()):
        return False
    ids = table.column("point_id").to_pylist()
    totals = [i for i, kind in zip(ids, table.column("row_type").to_pylist()) if kind == "total"]
    return totals == [point.point_id for point in unit.points]


def fetch(unit: WorkUnit, target: Path) -> bool:
    """Copy `unit`'s cached rows to `target` (atomically); False when there are none usable."""
    source = _path(unit_key(unit))
    if not _holds(source, unit):
        return False
    from workloads.atomic_file import atomic_path

    try:
        with atomic_path(target) as temp:
            shutil.copyfile(source, temp)
    except OSError:
        return False
    return True


def keep(unit: WorkUnit, stored: Path) -> None:
    """Cache the store's file `stored` of `unit` when all its points succeeded."""
    if not _holds(stored, unit):
        return
    from workloads.cache import keep_file

    keep_file(_path(unit_key(unit)), lambda temp: shutil.copyfile(stored, temp))
