"""Atomic file writes: write to a temporary file in the target folder, then `os.replace`.

Shared plumbing for every stage that writes files (the cache, the `.dcz` container, the sweep's
result store and outputs): a reader sees the old file or the complete new one, never a
half-written one, and an interrupted write leaves at most a hidden `.NAME.*.tmp` file behind.
The finished file gets the permissions a plain `open(path, "w")` would give (0666 minus umask),
not the private 0600 of `tempfile.mkstemp`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def default_file_mode() -> int:
    """0666 minus the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _named_for_user(error: OSError, temp: Path | None, path: Path) -> OSError:
    """`error` with the user's `path` in place of the hidden temporary file it names."""
    names = {str(temp), str(path)} if temp is not None else {str(path)}
    if str(error.filename) in names or error.filename is None or temp is None:
        return OSError(error.errno, error.strerror, str(path))
    return error


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; when the block succeeds it replaces `path`.
    The folder must exist (OSError otherwise): nothing is created on the way. An OSError about
    the temporary file (folder missing or read-only, `path` is a directory, disk full) names
    `path`, the file the user asked for, never the hidden temporary one."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise _named_for_user(error, None, path) from None
    os.close(descriptor)
    temp = Path(temp_name)
    try:
        yield temp
        os.chmod(temp, default_file_mode())
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise _named_for_user(error, temp, path) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def stale_temp_files(folder: str | os.PathLike, names: Iterable[str]) -> list[Path]:
    """Temporary files `atomic_path` (or a writer like it) leaves next to each of `names` in
    `folder` when its process is killed mid-write: `.NAME.*.tmp`."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for name in names for p in folder.glob(f".{name}.*.tmp") if p.is_file())
