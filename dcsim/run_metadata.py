"""What a sweep's report shows besides the result table: config, accelerators, energy tables,
area tables, validation rows and retrieval examples (`run.json` in the output directory).

Part of the application layer (DESIGN §6). `reports` receives this as a plain JSON-able dict.
"""

from __future__ import annotations

import datetime

import pandas as pd

from dcsim import __version__
from dcsim.config import DesignPoint, SweepConfig


def _accelerators(points: list[DesignPoint]) -> tuple[list[dict], list[dict], dict]:
    from dcsim.point_evaluation import accelerator_label, point_accelerator
    from simulator.energy_table import energy_table_rows

    specs, table, seen, archs = [], [], set(), {}
    for point in points:
        label = accelerator_label(point)
        if label in seen:
            continue
        seen.add(label)
        try:
            arch = point_accelerator(point)
        except (ValueError, OSError):
            continue  # the point fails and says why; nothing to tabulate
        archs[label] = arch
        specs.append({"accelerator": label, **arch.to_dict()})
        table += [{"accelerator": label, **row} for row in energy_table_rows(arch)]
    return specs, table, archs


def _area_tables(archs: dict, results: pd.DataFrame) -> list[dict]:
    """The area table of every accelerator, once per codebook size its points ran on (the
    codebook grows to 2^b for a network with wider weights), keyed by (accelerator,
    codebook_entries) like the result table's total rows."""
    from simulator.area_table import area_table_rows

    sizes: dict[str, set[int]] = {}
    if {"row_type", "accelerator", "codebook_entries"} <= set(results.columns):
        totals = results[results["row_type"] == "total"]
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


def build_meta(config: SweepConfig, points: list[DesignPoint], results: pd.DataFrame) -> dict:
    from dcsim.trained_models import retrieval_examples
    from dcsim.validation_rows import validation_rows

    accelerators, energy_table, archs = _accelerators(points)
    return {
        "config": config.as_dict(),
        "accelerators": accelerators,
        "energy_table": energy_table,
        "area_table": _area_tables(archs, results),
        "validation": validation_rows(),
        "retrieval": retrieval_examples(points, results),
        "dcsim_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
