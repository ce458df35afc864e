"""On-disk cache of trained artefacts (dense, pruned and quantized weights, evaluation results).

Part of `workloads` (DESIGN §2): training on the bundled digits is real retraining, so its
results are kept under the user's cache directory and reused by every later run — a sweep
retrains nothing that an earlier run already trained, and a changed setting retrains.

Location: `$DCSIM_CACHE_DIR`, else `$XDG_CACHE_HOME/dcsim`, else `~/.cache/dcsim`.

Keys: `cache_key(kind, settings)` is the sha256 of the canonical JSON (sorted keys, no
whitespace) of *everything* that affects the artefact — the caller passes the full settings
(network, classes, resolution, seed, epochs, learning rates, schedule, recipe contents, the
parent artefact's key, the digest of the data …); `CACHE_FORMAT_VERSION`, the training code
version, the torch version and the CPU instruction set torch uses are added here, so a new
torch, a changed training loop or another kind of CPU never reuses stale weights. An entry that
no torch operation computes (`torch_kernels=False`: an analytical unit of synthetic weights,
a sweep's outputs) leaves the last two out, and making its key does not import torch (1.5 s).

Writes are atomic (a temporary file in the same folder, then `os.replace`), so an interrupted
run never leaves a half-written entry; entries are read with `torch.load(weights_only=True)`
(tensors and plain containers only, never code). An unreadable entry is treated as missing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workloads.atomic_file import atomic_path

# Bump when the layout of cached entries changes.
CACHE_FORMAT_VERSION = 1
# Bump when training/retraining code changes in a way that changes its results.
TRAINING_CODE_VERSION = 1


def cache_dir() -> Path:
    """The cache folder (not created): `$DCSIM_CACHE_DIR`, `$XDG_CACHE_HOME/dcsim` or
    `~/.cache/dcsim`."""
    explicit = os.environ.get("DCSIM_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "dcsim"
    return Path.home() / ".cache" / "dcsim"


def _canonical(value: Any) -> Any:
    """Settings as JSON-able values with one spelling per value (tuples → lists, paths → str)."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cache setting {value!r} is invalid; allowed: finite numbers")
        return value
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"cache setting of type {type(value).__name__} cannot be hashed")


def cpu_kernels() -> str:
    """The instruction set of the CPU kernels torch runs (`AVX512`, `AVX2`, ...; with a oneDNN
    limit when one is set). Kernels for different instruction sets sum in different orders:
    the digits AlexNet trained with AVX2 kernels reaches 98.00 % top-1 and with AVX512 kernels
    97.11 %, so a cache shared between machines must not hand one's weights to the other."""
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    return f"{capability}/onednn<={limit.upper()}" if limit else capability


def cache_key(kind: str, settings: dict[str, Any], *, torch_kernels: bool = True) -> str:
    """A stable hex key for an artefact of `kind` made with `settings`; with the torch version
    and `cpu_kernels()` unless `torch_kernels` is False (an artefact no torch operation
    computes; module docstring)."""
    payload = {
        "kind": kind,
        "settings": _canonical(settings),
        "cache_format": CACHE_FORMAT_VERSION,
        "training_code": TRAINING_CODE_VERSION,
    }
    if torch_kernels:
        import torch

        payload["torch"] = torch.__version__.split("+")[0]
        payload["cpu_kernels"] = cpu_kernels()
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(kind: str, key: str) -> Path:
    """Where the entry `key` of `kind` lives (`<cache_dir>/<kind>/<key>.pt`)."""
    if not kind.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"cache kind={kind!r} is invalid; allowed: letters, digits, '-', '_'")
    return cache_dir() / kind / f"{key}.pt"


def load_entry(kind: str, key: str) -> Any | None:
    """The cached object, or None when absent or unreadable (it is then recomputed)."""
    path = cache_path(kind, key)
    if not path.is_file():
        return None
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a damaged entry is recomputed, never trusted
        return None


def keep_file(path: Path, write: Callable[[Path], None]) -> bool:
    """Write the cache file `path` through `write(temporary path)` (its folder created, then an
    atomic replace). False when the cache cannot be written (read-only, full): what was
    computed is still correct, only not kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as temp:
            write(temp)
    except OSError:
        return False
    return True


def store_entry(kind: str, key: str, obj: Any) -> Path:
    """Write `obj` atomically (temp file + os.replace) and return its path."""
    path = cache_path(kind, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    import torch

    with atomic_path(path) as temp:
        torch.save(obj, temp)
    return path
