"""Work units of a sweep: the design points cut into chunks that are evaluated, stored and
resumed as one.

Part of the application layer (DESIGN §6, §8). A unit holds consecutive points of one
compression setting (`SweepConfig.iter_design_points` yields them grouped that way): with the
analytical model up to `UNIT_POINTS["analytical"]` hardware variants evaluated as arrays in one
call (`dcsim.point_evaluation.evaluate_unit`), with the cycle model one point (its cost is
seconds, so a unit per point keeps resuming fine-grained). Units are produced lazily, in config
order, so a sweep of 10^6 points never holds them all; a unit's id hashes its points' ids, so a
stored unit is found again by a rerun of the same config and never mistaken for another.

`probe_points` picks, without expanding the grid, the few points that exercise every distinct
value the up-front checks need (`dcsim.sweep_checks`): each network entry with each
compression setting, and each hardware axis value.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from dcsim.config import COMPRESSION_AXES, HARDWARE_AXES, DesignPoint, SweepConfig

UNIT_POINTS: dict[str, int] = {"analytical": 2048, "cycle": 1}


@dataclass(frozen=True, eq=False)
class WorkUnit:
    """Consecutive points of one compression setting, evaluated and stored together."""

    index: int  # position in config order
    points: tuple[DesignPoint, ...]

    @cached_property
    def unit_id(self) -> str:
        digest = hashlib.sha256()
        for point in self.points:
            digest.update(point.point_id.encode())
        return digest.hexdigest()[:20]

    def __len__(self) -> int:
        return len(self.points)


def iter_units(
    config: SweepConfig, unit_points: int | None = None, *, ids: Sequence[str] | None = None
) -> Iterator[WorkUnit]:
    """The config's points as work units, in config order (module docstring). `ids`: the unit
    ids an earlier pass over the same config computed (a sweep's plan), given to the units so
    that their points are not hashed again (100,000 points: 3 s of CPU)."""
    size = unit_points or UNIT_POINTS[config.sim_model]
    chunk: list[DesignPoint] = []
    key = None
    index = 0
    for point in config.iter_design_points():
        point_key = point.compression_key
        if chunk and (point_key != key or len(chunk) >= size):
            yield _unit(index, chunk, ids)
            index += 1
            chunk = []
        chunk.append(point)
        key = point_key
    if chunk:
        yield _unit(index, chunk, ids)


def _unit(index: int, chunk: list[DesignPoint], ids: Sequence[str] | None) -> WorkUnit:
    unit = WorkUnit(index, tuple(chunk))
    if ids is not None:
        unit.__dict__["unit_id"] = ids[index]  # what the cached property would compute
    return unit


def probe_points(config: SweepConfig) -> list[DesignPoint]:
    """Points covering every network entry × compression setting and every hardware axis value
    (each varied alone from the entry's first hardware variant), plus the explicit points."""
    out: dict[str, DesignPoint] = {}
    for entry in config.networks:
        grid = config._entry_grid(entry)
        if not grid:
            continue
        compression = [k for k in grid if k in COMPRESSION_AXES]
        hardware = [k for k in grid if k in HARDWARE_AXES]
        first_hardware = {k: grid[k][0] for k in hardware}
        settings = list(itertools.product(*(grid[k] for k in compression)))
        for setting in settings:
            point = config._point(entry, {**dict(zip(compression, setting)), **first_hardware})
            out.setdefault(point.point_id, point)
        first_setting = dict(zip(compression, settings[0])) if settings else {}
        for axis in hardware:
            for value in grid[axis]:
                varied = {**first_hardware, axis: value}
                if "accelerator" in grid and axis != "accelerator":
                    for accelerator in grid["accelerator"]:
                        point = config._point(
                            entry, {**first_setting, **varied, "accelerator": accelerator}
                        )
                        out.setdefault(point.point_id, point)
                else:
                    point = config._point(entry, {**first_setting, **varied})
                    out.setdefault(point.point_id, point)
    for values in config.points:
        label = values.get("network")
        for entry in config.networks:
            if label is None or entry.label == label:
                point = config._point(entry, {k: v for k, v in values.items() if k != "network"})
                out.setdefault(point.point_id, point)
    return list(out.values())
