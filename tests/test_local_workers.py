"""dcsim.local_workers: how many worker processes `--workers auto` (the CLI's default) starts."""

from __future__ import annotations

import pytest

from dcsim.commands.sweep import _workers
from dcsim.local_workers import UNITS_PER_WORKER, WORKER_MEMORY_BYTES, auto_workers
from dcsim.sweep import run_sweep


@pytest.mark.parametrize(
    ("units", "cpus", "memory", "expected"),
    [
        (0, 8, None, 1),  # nothing to do: no pool
        (UNITS_PER_WORKER - 1, 8, None, 1),  # a handful of units: not worth a spawned worker
        (2 * UNITS_PER_WORKER, 8, None, 2),  # one worker per UNITS_PER_WORKER units
        (90, 2, None, 2),  # the default sweep on this 2-core machine
        (90, 64, 5 * WORKER_MEMORY_BYTES, 5),  # memory bounds a large machine
        (90, 64, WORKER_MEMORY_BYTES // 2, 1),  # at least one worker
    ],
)
def test_auto_workers_is_bounded_by_cpus_units_and_memory(units, cpus, memory, expected):
    assert auto_workers(units, cpus=cpus, memory=memory) == expected


def test_the_cli_takes_auto_or_a_positive_integer():
    import argparse

    assert _workers("auto") == "auto" and _workers("3") == 3
    for bad in ("0", "-1", "two"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"workers={bad} is invalid"):
            _workers(bad)


def test_run_sweep_refuses_other_worker_values(tmp_path):
    with pytest.raises(ValueError, match="allowed: an integer >= 1 or 'auto'"):
        run_sweep(None, tmp_path, workers="many")  # checked before the config is read
