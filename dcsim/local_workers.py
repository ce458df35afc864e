"""How many local worker processes a sweep uses when asked for `auto` (the CLI's default).

Part of the application layer (DESIGN §6, §8), used by `dcsim.sweep.run_sweep`. A work unit is
single-threaded Numba and NumPy (one compression setting and its hardware variants), so the
sweep runs one worker per CPU this process may use — but no more than one per
`UNITS_PER_WORKER` units left to do (a spawned worker spends seconds importing torch, Numba's
cached kernels and the network before its first unit, which a handful of units do not repay),
and no more than the machine's available memory holds at `WORKER_MEMORY_BYTES`
each (a worker keeps one network's seeded synthetic weights and their sorted magnitudes: about
0.6 GB for the ImageNet-shaped AlexNet, plus its imports). One worker means no pool at all:
the units run in the sweep's own process.
"""

from __future__ import annotations

import os

WORKER_MEMORY_BYTES = 2 * 1024**3
UNITS_PER_WORKER = 4


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def available_memory_bytes() -> int | None:
    """MemAvailable of /proc/meminfo (Linux), else None (unknown: no memory bound)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def auto_workers(units_todo: int, cpus: int | None = None, memory: int | None = None) -> int:
    """min(usable CPUs, units left / UNITS_PER_WORKER, available memory / WORKER_MEMORY_BYTES),
    at least 1; `cpus` / `memory` replace what this machine reports (for tests)."""
    cpus = usable_cpus() if cpus is None else cpus
    memory = available_memory_bytes() if memory is None else memory
    count = min(cpus, units_todo // UNITS_PER_WORKER)
    if memory is not None:
        count = min(count, max(1, memory // WORKER_MEMORY_BYTES))
    return max(1, int(count))
