"""Which work unit a free worker takes next: units that share a pruned structure go to the same
worker.

Part of the application layer (DESIGN §6, §8), used by `dcsim.sweep`'s local-process and Dask
executors. A worker process keeps, per compression setting, the compressed network, and per
pruned structure (network entry, density profile and scale, index bits, seed: the settings
that differ only in their bit widths prune alike) the per-PE-count statistics of its layers
(`simulator.layer_statistics`), which every bit width reuses. Handing a structure's units to
the worker that already holds it, instead of round-robin, keeps that work from being done
once per worker: with the explore-100k example's 5 densities × 2 fc widths, two round-robin
workers would each compress all 10 settings and count every density's statistics.

`UnitQueue.next_for(worker)` takes units from the config-order stream into a bounded look-ahead
buffer (`lookahead` units, so memory stays flat in the number of points) and returns the first
buffered unit, in order of preference:
1. of the compression setting the worker is on;
2. of another setting of its structure that no other worker is on;
3. of a structure no other worker is on (the worker moves to it);
4. of a setting no other worker is on (an idle worker helps with another's structure, on a
   compression setting of its own);
5. any (the tail of another worker's setting: an idle worker helps rather than waits).

Helping (4, 5) with a structure the worker has not held before costs it that structure's
setup (compression and statistics, ~1.5 s for alexnet-caffe against ~0.2 s for a later unit).
So the executors tell the queue when each unit comes back (`finished`, which times the units
of each structure), and while other units are in flight (`may_wait`) a worker declines to help
when the structure's buffered units would take their owner less time than the helper's setup
and one unit: it is offered work again when the next unit comes back. Every unit is handed
out exactly once; the order units finish in never changes a result (the store and the result
table are in config order).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Iterator

from dcsim.work_units import WorkUnit

DEFAULT_LOOKAHEAD = 24


def structure_key(unit: WorkUnit) -> tuple:
    """What the unit's points share when only their bit widths differ: the pruned structure."""
    point = unit.points[0]
    return (
        point.network,
        point.density_profile,
        point.density_scale,
        point.index_bits,
        point.seed,
        point.prune_path,
        point.sim_model,
    )


def compression_setting(unit: WorkUnit) -> tuple:
    """The unit's compression setting (its points share one compressed network)."""
    return unit.points[0].compression_key


class UnitQueue:
    """Work units handed to workers by structure (module docstring)."""

    def __init__(
        self,
        units: Iterable[WorkUnit],
        lookahead: int = DEFAULT_LOOKAHEAD,
        key: Callable[[WorkUnit], Hashable] = structure_key,
        setting: Callable[[WorkUnit], Hashable] = compression_setting,
        clock: Callable[[], float] = time.monotonic,
    ):
        if lookahead < 1:
            raise ValueError(f"lookahead={lookahead!r} is invalid; allowed: an integer >= 1")
        self._stream: Iterator[WorkUnit] = iter(units)
        self._buffer: list[tuple[Hashable, Hashable, WorkUnit]] = []
        self._lookahead = lookahead
        self._key = key
        self._setting = setting
        self._clock = clock
        self._on: dict[Hashable, tuple] = {}  # worker -> (structure, setting) it is on
        self._held: dict[Hashable, set] = {}  # worker -> structures it has set up
        # id(unit) -> (structure, whether it set the structure up, worker, when handed out)
        self._handed: dict[int, tuple[Hashable, bool, Hashable, float]] = {}
        self._back: dict[Hashable, float] = {}  # worker -> when its last unit came back
        self._first_s: dict[Hashable, float] = {}  # structure -> seconds of a set-up unit
        self._later_s: dict[Hashable, float] = {}  # structure -> seconds of a later unit
        self._latest_first: float | None = None  # the latest of either, any structure
        self._latest_later: float | None = None

    def _fill(self) -> None:
        while len(self._buffer) < self._lookahead:
            unit = next(self._stream, None)
            if unit is None:
                return
            self._buffer.append((self._key(unit), self._setting(unit), unit))

    @property
    def done(self) -> bool:
        """Every unit has been handed out."""
        self._fill()
        return not self._buffer

    def finished(self, unit: WorkUnit) -> None:
        """`unit` (handed out by this queue) came back. A worker runs its units one after the
        other (on a Dask worker with several threads this is an estimate), so its time is from
        when it was handed out or the worker's previous unit came back, whichever is later."""
        handed = self._handed.pop(id(unit), None)
        if handed is None:
            return
        key, set_up, worker, at = handed
        now = self._clock()
        seconds = now - max(at, self._back.get(worker, at))
        self._back[worker] = now
        if set_up:
            self._first_s[key] = self._latest_first = seconds
        else:
            self._later_s[key] = self._latest_later = seconds

    def _worth_helping(self, worker: Hashable, key: Hashable) -> bool:
        """Whether `worker` taking a unit of another worker's structure `key` finishes it
        sooner than leaving the buffered rest to that worker (module docstring)."""
        if key in self._held.get(worker, ()):
            return True  # set up already: helping costs one unit
        # this structure's times, else the latest of any (a sweep's structures cost alike)
        first = self._first_s.get(key, self._latest_first)
        later = self._later_s.get(key, self._latest_later)
        if first is None or later is None:
            return True  # no measurement yet
        left = sum(1 for k, _, _ in self._buffer if k == key)
        return left * later > first + later

    def next_for(self, worker: Hashable, may_wait: bool = False) -> WorkUnit | None:
        """The next unit for `worker`; None when every unit has been handed out, or when
        `may_wait` (other units are in flight, so it will be asked again) and the only units
        left would cost it more to help with than they save (module docstring)."""
        self._fill()
        if not self._buffer:
            return None
        own = self._on.get(worker, (None, None))
        others = [on for other, on in self._on.items() if other != worker]
        busy_keys = {key for key, _ in others}
        busy_settings = {setting for _, setting in others}
        preferences = (
            lambda key, setting: (key, setting) == own,  # where it is
            lambda key, setting: key == own[0] and setting not in busy_settings,
            lambda key, setting: key not in busy_keys,  # a structure nobody is on
            lambda key, setting: setting not in busy_settings,  # help: a setting nobody is on
        )
        position = next(
            (
                i
                for wanted in preferences
                for i, (key, setting, _) in enumerate(self._buffer)
                if wanted(key, setting)
            ),
            0,  # help with the first unit left
        )
        key, setting, unit = self._buffer[position]
        helping = key != own[0] and key in busy_keys
        if helping and may_wait and not self._worth_helping(worker, key):
            return None
        del self._buffer[position]
        held = self._held.setdefault(worker, set())
        self._handed[id(unit)] = (key, key not in held, worker, self._clock())
        held.add(key)
        self._on[worker] = (key, setting)
        return unit

    def leave(self, worker: Hashable) -> None:
        """`worker` is gone (or has nothing in flight and will get no more): its structure is
        free for the others."""
        self._on.pop(worker, None)
