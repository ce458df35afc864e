"""What a sweep's report shows besides the result table: config, accelerators, energy tables,
validation rows and retrieval examples (`run.json` in the output directory).

Part of the application layer (DESIGN §6). `reports` receives this as a plain JSON-able dict.
"""

from __future__ import annotations

import datetime

import pandas as pd

from dcsim import __version__
from dcsim.config import DesignPoint, SweepConfig


def _accelerators(points: list[DesignPoint]) -> tuple[list[dict], list[dict]]:
    from dcsim.point_evaluation import accelerator_label, point_accelerator
    from simulator.energy_table import energy_table_rows

    specs, table, seen = [], [], set()
    for point in points:
        label = accelerator_label(point)
        if label in seen:
            continue
        seen.add(label)
        try:
            arch = point_accelerator(point)
        except (ValueError, OSError):
            continue  # the point fails and says why; nothing to tabulate
        specs.append({"accelerator": label, **arch.to_dict()})
        table += [{"accelerator": label, **row} for row in energy_table_rows(arch)]
    return specs, table


def build_meta(config: SweepConfig, points: list[DesignPoint], results: pd.DataFrame) -> dict:
    from dcsim.trained_models import retrieval_examples
    from dcsim.validation_rows import validation_rows

    accelerators, energy_table = _accelerators(points)
    return {
        "config": config.as_dict(),
        "accelerators": accelerators,
        "energy_table": energy_table,
        "validation": validation_rows(),
        "retrieval": retrieval_examples(points, results),
        "dcsim_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
