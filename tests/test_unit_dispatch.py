"""dcsim.unit_dispatch: every unit handed out exactly once; a worker keeps to its pruned
structure, a free worker takes a structure nobody is on, and an idle one helps with the tail
when that saves time (from the units' measured times)."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from dcsim.config import parse_config
from dcsim.unit_dispatch import UnitQueue, structure_key
from dcsim.work_units import iter_units


@dataclass(frozen=True)
class _Unit:  # what UnitQueue needs of a unit: its structure and its compression setting
    index: int
    key: int
    setting: str = ""


def _queue(units, lookahead, clock=None):
    return UnitQueue(
        units,
        lookahead,
        key=lambda u: u.key,
        setting=lambda u: (u.key, u.setting),
        clock=(lambda: clock[0]) if clock is not None else time.monotonic,
    )


def test_bit_widths_share_a_structure_densities_do_not():
    config = parse_config(
        {
            "networks": [{"network": "lenet-300-100"}],
            "grid": {"density_scale": [0.5, 1.0], "fc_bits": [4, 2], "n_pe": [2, 4]},
            "sim_model": "analytical",
        }
    )
    units = list(iter_units(config, unit_points=1))
    keys = {}
    for unit in units:
        point = unit.points[0]
        keys.setdefault(point.density_scale, set()).add(structure_key(unit))
    assert all(len(found) == 1 for found in keys.values())
    assert keys[0.5] != keys[1.0]


def test_workers_keep_their_structure_and_share_the_last_one_by_setting():
    # 3 structures x 2 settings (a, b) x 2 units, in config order
    units = [_Unit(i, i // 4, "ab"[(i // 2) % 2]) for i in range(12)]
    queue = _queue(units, lookahead=12)
    got = {"A": [], "B": []}
    for worker in itertools.islice(itertools.cycle("AB"), 12):
        unit = queue.next_for(worker)
        got[worker].append(f"{unit.key}{unit.setting}")
    # each keeps to its structure, setting by setting; on the last structure, nobody's yet,
    # A moves to it and B, with nothing of its own left, takes the other setting
    assert got == {
        "A": ["0a", "0a", "0b", "0b", "2a", "2a"],
        "B": ["1a", "1a", "1b", "1b", "2b", "2b"],
    }
    assert queue.next_for("A") is None


def test_an_idle_worker_helps_with_the_tail_of_a_setting():
    queue = _queue([_Unit(i, 0, "a") for i in range(4)], lookahead=2)
    assert [queue.next_for(w).index for w in "ABAB"] == [0, 1, 2, 3]
    assert queue.next_for("B") is None


@given(
    keys=st.lists(st.integers(0, 7), max_size=60),
    lookahead=st.integers(1, 12),
    turns=st.lists(st.integers(0, 3), min_size=1, max_size=200),
)
def test_every_unit_is_handed_out_exactly_once(keys, lookahead, turns):
    queue = _queue([_Unit(i, k // 2, str(k % 2)) for i, k in enumerate(keys)], lookahead)
    handed = []
    for worker in itertools.chain(turns, itertools.cycle(range(4))):
        unit = queue.next_for(worker)
        if unit is None:
            break
        handed.append(unit.index)
        assert len(handed) <= len(keys)
    assert sorted(handed) == list(range(len(keys)))
    assert queue.next_for(0) is None


def _timed(queue, worker, clock, seconds):
    """Hand `worker` its next unit and report it back `seconds` later on the fake clock."""
    unit = queue.next_for(worker)
    clock[0] += seconds
    queue.finished(unit)
    return unit


def _owner_busy_and_helper_free(units_of_structure_0: int):
    """Structure 0 (set-up unit 1.5 s, later ones 0.1 s) on A, after two of its units; B has
    set up and finished structure 1."""
    units = [_Unit(i, 0, "a") for i in range(units_of_structure_0)]
    clock = [0.0]
    queue = _queue([*units, _Unit(units_of_structure_0, 1, "a")], lookahead=64, clock=clock)
    _timed(queue, "A", clock, 1.5)
    _timed(queue, "A", clock, 0.1)
    _timed(queue, "B", clock, 1.5)  # structure 1, nobody's: B sets it up
    return queue


def test_an_idle_worker_declines_a_tail_its_setup_would_make_slower():
    queue = _owner_busy_and_helper_free(4)  # 2 units left: 0.2 s for A, 1.5 + 0.1 s for B
    assert queue.next_for("B", may_wait=True) is None
    assert queue.next_for("A", may_wait=True).index == 2  # the owner still takes them
    assert queue.next_for("B", may_wait=False).index == 3  # nothing else in flight: it helps


def test_an_idle_worker_helps_when_the_tail_is_long():
    queue = _owner_busy_and_helper_free(40)  # 38 units x 0.1 s > 1.5 + 0.1 s
    helped = queue.next_for("B", may_wait=True)
    assert helped is not None and helped.key == 0
    assert queue.next_for("B", may_wait=True).key == 0  # set up now: it keeps helping


@given(
    keys=st.lists(st.integers(0, 7), max_size=60),
    lookahead=st.integers(1, 12),
    turns=st.lists(
        st.tuples(st.integers(0, 3), st.booleans(), st.floats(0, 3)), min_size=1, max_size=200
    ),
)
def test_every_unit_is_handed_out_exactly_once_with_timings_and_waits(keys, lookahead, turns):
    clock = [0.0]
    queue = _queue([_Unit(i, k // 2, str(k % 2)) for i, k in enumerate(keys)], lookahead, clock)
    handed = []
    for worker, may_wait, seconds in turns:
        unit = queue.next_for(worker, may_wait=may_wait)
        if unit is not None:
            handed.append(unit.index)
            clock[0] += seconds
            queue.finished(unit)
    for worker in itertools.cycle(range(4)):  # nothing in flight any more: nobody waits
        unit = queue.next_for(worker)
        if unit is None:
            break
        handed.append(unit.index)
    assert sorted(handed) == list(range(len(keys)))
    assert queue.done
