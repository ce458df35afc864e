"""Atomic output files of the reports: write to a temporary file next to the target, then
rename it into place.

Place in the flow: part of ``reports`` (the CSV, the workbook and the HTML report are written
through :func:`atomic_output`). The same guarantee as ``workloads.atomic_file``, which
``reports`` may not import (DESIGN §1): a reader sees the old file or the complete new one,
an interrupted write leaves no partial file behind, and the new file gets the permissions a
plain ``open(path, "w")`` would give (0666 minus umask), not ``mkstemp``'s private 0600.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_output"]


@contextmanager
def atomic_output(path: os.PathLike | str) -> Iterator[Path]:
    """Yield a temporary path next to `path` (its folder is created); when the block
    succeeds the temporary file replaces `path`, otherwise it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
