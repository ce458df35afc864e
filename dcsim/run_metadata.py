"""What a sweep's report shows besides the result table: config, accelerators, energy tables,
area tables, validation and verification rows, retrieval examples and per-layer
sensitivity curves (`run.json` in the output directory).

Part of the application layer (DESIGN §6). `reports` receives this as a plain JSON-able dict.
Energy tables are listed for at most `MAX_ACCELERATORS` distinct accelerators (a sweep over
10^4 hardware variants would otherwise carry 10^4 tables): those of the probe points (every
hardware axis value, `dcsim.work_units.probe_points`) and of each network's best points;
`energy_tables_complete` says whether every accelerator of the sweep is listed. The same
accelerators get their area tables, once per codebook size their points ran on.

`sensitivity` lists, for every network with measured accuracy, its per-layer pruning
sensitivity (`dcsim.sensitivity.Sensitivity.as_dict`, drawn by `reports.sensitivity_figure`)
with the auto profiles of `SENSITIVITY_LOSSES_POINTS` and of the config's `auto:L` profiles —
when the config's `[accuracy] sensitivity` is true or a profile is `auto:L`; else it is [].
"""

from __future__ import annotations

import datetime

import pandas as pd

from dcsim import __version__
from dcsim.config import DesignPoint, SweepConfig

MAX_ACCELERATORS = 256
SENSITIVITY_LOSSES_POINTS: tuple[float, ...] = (0.5, 1.0, 2.0)


def _accelerators(points) -> tuple[list[dict], list[dict], bool, dict]:
    from dcsim.point_evaluation import accelerator_label, point_accelerator
    from simulator.energy_table import energy_table_rows

    specs, table, seen, archs = [], [], set(), {}
    complete = True
    for point in points:
        label = accelerator_label(point)
        if label in seen:
            continue
        if len(seen) >= MAX_ACCELERATORS:
            complete = False
            break
        seen.add(label)
        try:
            arch = point_accelerator(point)
        except (ValueError, OSError):
            continue  # the point fails and says why; nothing to tabulate
        archs[label] = arch
        specs.append({"accelerator": label, **arch.to_dict()})
        table += [{"accelerator": label, **row} for row in energy_table_rows(arch)]
    return specs, table, complete, archs


def _area_tables(archs: dict, totals: pd.DataFrame) -> list[dict]:
    """The area table of every listed accelerator, once per codebook size its points ran on
    (the codebook grows to 2^b for a network with wider weights), keyed by (accelerator,
    codebook_entries) like the result table's total rows."""
    from simulator.area_table import area_table_rows

    sizes: dict[str, set[int]] = {}
    if {"accelerator", "codebook_entries"} <= set(totals.columns):
        for label, entries in zip(totals["accelerator"], totals["codebook_entries"]):
            if pd.notna(entries):
                sizes.setdefault(str(label), set()).add(int(entries))
    rows = []
    for label, arch in archs.items():
        for entries in sorted(sizes.get(label) or {arch.codebook_entries}):
            rows += [
                {"accelerator": label, "codebook_entries": entries, **row}
                for row in area_table_rows(arch, entries)
            ]
    return rows


def _listed_points(config: SweepConfig, totals: pd.DataFrame) -> list[DesignPoint]:
    """Points whose accelerators run.json lists: the best point per network first (by energy
    at the target), then the config's points in order (lazily, until the cap)."""
    import itertools

    best_ids: set[str] = set()
    ok = totals[totals["status"] == "ok"] if "status" in totals else totals
    for _, group in ok.groupby("network", sort=False):
        meeting = group[group["meets_target"].fillna(False).astype(bool)]
        pick = meeting if len(meeting) else group
        best_ids.add(str(pick.sort_values("energy_mj").iloc[0]["point_id"]))
    best = [p for p in config.iter_design_points() if p.point_id in best_ids] if best_ids else []
    return list(itertools.chain(best, config.iter_design_points()))


def build_meta(config: SweepConfig, totals: pd.DataFrame, *, verification: list[dict] = ()) -> dict:
    """run.json of a sweep; `totals` are its total rows (`dcsim.sweep.read_totals`)."""
    from dcsim.retrieval_examples import retrieval_examples
    from dcsim.validation_rows import validation_rows
    from dcsim.verification import summary

    accelerators, energy_table, complete, archs = _accelerators(_listed_points(config, totals))
    digits_points = [p for p in config.iter_design_points() if p.network.weights == "digits"]
    return {
        "config": config.as_dict(),
        "accelerators": accelerators,
        "energy_table": energy_table,
        "energy_tables_complete": complete,
        "area_table": _area_tables(archs, totals),
        "validation": validation_rows(),
        "verification": {"summary": summary(list(verification)), "rows": list(verification)},
        "retrieval": retrieval_examples(digits_points, totals),
        "sensitivity": sensitivity_entries(config),
        "dcsim_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def sensitivity_entries(config: SweepConfig) -> list[dict]:
    """run.json's `sensitivity` (module docstring)."""
    from dcsim.auto_profile_name import auto_profile_loss
    from dcsim.trained_entries import trains

    profiles = {p.density_profile for p in config.iter_design_points() if trains(p.network)}
    auto = {auto_profile_loss(p) for p in profiles} - {None}
    if not (config.accuracy.get("sensitivity") or auto):
        return []
    from dcsim.sensitivity import entry_sensitivity  # torch: only when there is something to do

    losses = tuple(sorted({*SENSITIVITY_LOSSES_POINTS, *auto}))
    entries = [entry for entry in config.networks if trains(entry)]
    return [entry_sensitivity(entry, config.seed, losses).as_dict() for entry in entries]
