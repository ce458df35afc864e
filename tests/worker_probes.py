"""Functions the tests run on Dask workers (`client.run`): a module that imports nothing of
dcsim, so running them does not import what they look for. Imported by tests, not collected."""

from __future__ import annotations

import sys


def imported(name: str) -> bool:
    """True when the worker has imported module `name`."""
    return name in sys.modules
