"""A Dask worker preload: `dask worker ADDRESS --preload dcsim.dask_preload`.

Part of the application layer (DESIGN §6, §8), beside `dcsim.unit_executors.run_dask`. A worker
started with it imports, once, at its start, what every work unit runs: the unit executor, the
compression and simulator packages, the result table and parquet writer (about 0.8 s on the
2-core VM). A cluster that serves sweep after sweep then pays that once per worker, not in its
first sweep. It computes nothing and changes no result; a worker without it imports the same
modules on its first unit.
"""

from __future__ import annotations

import importlib

#: What a work unit imports (`dcsim.unit_executors.unit_parquet`), heaviest first.
MODULES: tuple[str, ...] = (
    "dcsim.unit_executors",
    "dcsim.point_evaluation",
    "dcsim.result_table",
    "simulator.variant_evaluation",
    "compression.compressed_network",
    "pyarrow.parquet",
)


def dask_setup(worker=None) -> None:
    """Dask's preload hook: import `MODULES`."""
    for name in MODULES:
        importlib.import_module(name)
