"""Content keys for what a sweep keeps between runs: the source fingerprint of the code that
computes it, digests of the files a config or a design point names, and the library versions
that change its bytes.

Part of the application layer (DESIGN §6, §8). Used by `dcsim.verification_cache` (a verified
point's cycle-model rerun), `dcsim.retrieval_examples` (run.json's retrieval rows) and
`dcsim.output_digest` (skipping outputs whose inputs did not change). A key made of these
parts goes through `workloads.cache.cache_key`, which adds the torch version and the CPU
kernels torch runs (trained weights differ between them), so an entry is reused only where a
recomputation would give the same bytes:

- `source_fingerprint(packages)`: sha256 over the path and bytes of every `.py` and `.toml`
  file of the packages (all five by default: a change anywhere in the code makes new keys);
- `named_file_digests(values)`: for every string in a (nested) mapping that names an existing
  file (also `file.py:factory`), the sha256 of its bytes; for a folder, its files' relative
  paths, sizes and modification times — a recipe, weights file or data folder edited in place
  makes a new key although its path is the same;
- `library_versions()`: the versions of the libraries that compute or write results.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import platform
from collections.abc import Iterator
from pathlib import Path

ALL_PACKAGES: tuple[str, ...] = ("workloads", "compression", "simulator", "dcsim", "reports")
LIBRARIES: tuple[str, ...] = (
    "numpy",
    "numba",
    "pandas",
    "pyarrow",
    "sklearn",
    "plotly",
    "openpyxl",
)


@functools.lru_cache(maxsize=8)
def source_fingerprint(packages: tuple[str, ...] = ALL_PACKAGES) -> str:
    """sha256 (20 hex digits) over the source files of `packages` (module docstring)."""
    digest = hashlib.sha256()
    for package in packages:
        root = Path(importlib.import_module(package).__file__).parent
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def strings_in(value) -> Iterator[str]:
    """Every string in a (nested) mapping, list or tuple, in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@functools.lru_cache(maxsize=1024)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(path)  # cached per (path, size, mtime): a file unchanged is read once


def _folder_listing(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(
                f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
            )
    return digest.hexdigest()


def named_file_digests(values) -> dict[str, str]:
    """{string: digest} for the strings in `values` that name an existing file or folder
    (module docstring); strings naming nothing are left out."""
    out: dict[str, str] = {}
    for text in dict.fromkeys(strings_in(values)):
        if not text or "\n" in text or len(text) > 4096:
            continue
        candidates = [text]
        if ":" in text:  # `file.py:factory`
            candidates.append(text.rsplit(":", 1)[0])
        for candidate in candidates:
            path = Path(candidate).expanduser()
            try:
                if path.is_file():
                    stat = path.stat()
                    out[text] = _file_digest(os.fspath(path), stat.st_size, stat.st_mtime_ns)
                    break
                if path.is_dir():
                    out[text] = "folder:" + _folder_listing(path)
                    break
            except OSError:
                continue
    return out


def library_versions() -> dict[str, str]:
    """The Python version and the versions of `LIBRARIES` (module docstring)."""
    return dict(_library_versions())


@functools.lru_cache(maxsize=1)
def _library_versions() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    names = {"sklearn": "scikit-learn"}
    out = {"python": platform.python_version()}
    for library in LIBRARIES:
        try:
            out[library] = version(names.get(library, library))
        except PackageNotFoundError:
            out[library] = "absent"
    return tuple(out.items())
