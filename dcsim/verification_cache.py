"""The cycle-model rerun of a verified point, cached on disk by content.

Part of the application layer (DESIGN §8), under `dcsim.verification`: verifying an analytical
sweep re-runs a few chosen points on the cycle model (seconds each; the 10 points of the
default sweep cost about 16 s). That rerun is a pure function of the point (its network,
compression setting, hardware, seed), the code and the libraries, so its total — status,
cycles, latency, energy — is kept in `cache_dir()/verification/<key>.json` and a later run
(resumed in the same folder, or warm in a new one) reads it back instead of simulating again.

The key (`workloads.cache.cache_key`, which adds the torch version and CPU kernels) covers the
point's full definition, the source fingerprint of every dcsim package, the digests of the
files the point names (recipe, weights, accelerator file) and the library versions
(`dcsim.content_keys`). Only successful reruns are kept (a failure is retried next time); an
unreadable entry is recomputed and overwritten. The values go through JSON, which writes and
reads a float64 exactly, so a run that reads them produces the same bytes as one that computes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from dcsim.config import DesignPoint

CYCLE_FIELDS: tuple[str, ...] = ("cycles", "latency_ms", "energy_mj")
CACHE_FOLDER = "verification"


def cycle_point(point: DesignPoint) -> DesignPoint:
    """The point as the cycle model runs it."""
    return dataclasses.replace(point, sim_model="cycle")


def rerun_key(point: DesignPoint) -> str:
    """The cache key of the cycle-model rerun of `point` (module docstring)."""
    from dcsim.content_keys import library_versions, named_file_digests, source_fingerprint
    from workloads.cache import cache_key

    definition = cycle_point(point).as_dict()
    return cache_key(
        "cycle-model-rerun",
        {
            "point": definition,
            "code": source_fingerprint(),
            "files": named_file_digests(definition),
            "libraries": library_versions(),
        },
    )


def _path(key: str) -> Path:
    from workloads.cache import cache_dir

    return cache_dir() / CACHE_FOLDER / f"{key}.json"


def _read(path: Path) -> dict | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or damaged: recompute (and overwrite)
    if not isinstance(entry, dict) or entry.get("status") != "ok":
        return None
    if not all(isinstance(entry.get(name), float) for name in CYCLE_FIELDS):
        return None
    return entry


def cycle_total(point: DesignPoint) -> dict:
    """{"status", "cycles", "latency_ms", "energy_mj"} of `point` re-run on the cycle model:
    read from the cache, else simulated (and cached when it succeeded)."""
    path = _path(rerun_key(point))
    cached = _read(path)
    if cached is not None:
        return cached
    from dcsim.point_evaluation import evaluate_point

    total = evaluate_point(cycle_point(point)).iloc[-1]
    if total["status"] != "ok":
        return {"status": str(total["status"])}
    entry = {"status": "ok", **{name: float(total[name]) for name in CYCLE_FIELDS}}
    from workloads.cache import keep_file

    keep_file(path, lambda temp: temp.write_text(json.dumps(entry), encoding="utf-8"))
    return entry
