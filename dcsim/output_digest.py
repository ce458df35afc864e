"""Skipping the rewrite of a sweep's outputs when nothing they are made from changed.

Part of the application layer (DESIGN §6, §8), the last step of `dcsim.sweep.run_sweep`.
Writing `results.parquet`, `run.json`, `results.csv`, `results.xlsx` and `report.html` takes
seconds to tens of seconds (the default sweep: about 10 s), and a resumed run whose units are
all stored would write the same bytes again (but for run.json's `created` time). So after the
outputs are written a manifest, `OUT/.outputs.json`, records

- `inputs`: a digest of everything the outputs are made from — the bytes of every stored unit
  file in config order, the verification rows, the config, the source fingerprint of every
  dcsim package, the digests of files the config names, the library versions, and (through
  `workloads.cache.cache_key`) the torch version and CPU kernels; and
- `files`: the size and sha256 of each output file as written.

A later run that computes the same `inputs` digest and finds every output file present with
its recorded size and sha256 skips writing them. Anything else — a missing, truncated or edited
output, a changed unit, config, code or library — rewrites every output. The manifest is
removed before outputs are written and written (atomically) only after all of them are, so a
run killed while writing leaves no manifest and the next run rewrites everything: a partial
output is never trusted. Hashing the outputs reads them (the default sweep's 190 MB in well
under a second); it is much cheaper than writing them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from dcsim.content_keys import file_sha256

MANIFEST = ".outputs.json"
MANIFEST_FORMAT = 1


def inputs_digest(config, unit_paths: Iterable[Path], verification: list[dict]) -> str:
    """The digest of what a sweep's outputs are made from (module docstring)."""
    from dcsim.content_keys import library_versions, named_file_digests, source_fingerprint
    from workloads.cache import cache_key

    units = hashlib.sha256()
    for path in unit_paths:
        units.update(path.name.encode() + b"\0")
        units.update(file_sha256(path).encode() if path.is_file() else b"absent")
    config_data = config.as_dict()
    return cache_key(
        "sweep-outputs",
        {
            "format": MANIFEST_FORMAT,
            "units": units.hexdigest(),
            "verification": json.dumps(list(verification), sort_keys=True),
            "config": json.dumps(config_data, sort_keys=True, default=str),
            "code": source_fingerprint(),
            "files": named_file_digests(config_data),
            "libraries": library_versions(),
        },
        torch_kernels=False,  # outputs are written from the unit files, by no torch operation
    )


def _read_manifest(out_dir: Path) -> dict | None:
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def unchanged(out_dir: Path, digest: str, names: Iterable[str]) -> bool:
    """True when `out_dir`'s manifest records `digest` and every output in `names` is present
    with the size and sha256 recorded for it."""
    manifest = _read_manifest(out_dir)
    if manifest is None or manifest.get("inputs") != digest:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict):
        return False
    for name in names:
        recorded = files.get(name)
        path = out_dir / name
        if not isinstance(recorded, dict) or not path.is_file():
            return False
        if path.stat().st_size != recorded.get("size"):
            return False
        if file_sha256(path) != recorded.get("sha256"):
            return False
    return True


def forget(out_dir: Path) -> None:
    """Remove the manifest (before outputs are rewritten)."""
    (out_dir / MANIFEST).unlink(missing_ok=True)


def record(out_dir: Path, digest: str, names: Iterable[str]) -> None:
    """Write the manifest for the outputs `names` just written from inputs `digest`."""
    from workloads.atomic_file import atomic_path

    files = {}
    for name in names:
        path = out_dir / name
        files[name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    with atomic_path(out_dir / MANIFEST) as temp:
        temp.write_text(
            json.dumps({"format": MANIFEST_FORMAT, "inputs": digest, "files": files}, indent=1),
            encoding="utf-8",
        )
