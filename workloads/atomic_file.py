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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def default_file_mode() -> int:
    """0666 minus the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; when the block succeeds it replaces `path`.
    The folder must exist (OSError otherwise): nothing is created on the way."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(descriptor)
    temp = Path(temp_name)
    try:
        yield temp
        os.chmod(temp, default_file_mode())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
