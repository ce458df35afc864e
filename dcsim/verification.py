"""Self-verification of an analytical sweep: random points re-run on the cycle model.

Part of the application layer (DESIGN §8). With `verify = N` in the config (or `dcsim sweep
--verify N`), after an analytical sweep N points, drawn at random (seeded by the config's seed)
among those that succeeded, are evaluated again with the cycle model — the reference — and
their total cycles, latency and energy are compared. The rows go to `run.json` (the report's
"verification" table), the verified points' total rows gain `cycle_model_cycles` and
`cycle_model_deviation_pct`, and the terminal prints the worst deviation. The cycle-model
totals are cached by content (`dcsim.verification_cache`), so a resumed or warm run re-runs
only points it has not verified before; the rows are the same either way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

VERIFY_COLUMNS: tuple[str, ...] = ("cycle_model_cycles", "cycle_model_deviation_pct")


def choose_positions(count: int, n: int, seed: int) -> list[int]:
    """`n` distinct positions among `count` points, seeded, in increasing order."""
    n = min(int(n), int(count))
    if n <= 0:
        return []
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED]))
    return sorted(int(i) for i in rng.choice(count, size=n, replace=False))


def _deviation_pct(model: float, reference: float) -> float:
    return 100.0 * (model / reference - 1.0) if reference else math.nan


def verify_points(
    points, analytical_totals: pd.DataFrame, run_as: dict | None = None
) -> list[dict]:
    """Re-run `points` (analytical design points) on the cycle model; one row each comparing
    with their analytical total rows (`analytical_totals`, indexed by point_id). A rerun that
    an earlier run already made is read back (`dcsim.verification_cache`). `run_as` maps a
    point id to the point its stored row was evaluated as (a Pareto candidate's fine-tuned
    twin, `dcsim.pareto_fine_tune`)."""
    from dcsim.verification_cache import cycle_total

    rows = []
    for point in points:
        analytical = analytical_totals.loc[point.point_id]
        if analytical["status"] != "ok":
            continue
        cycle = cycle_total((run_as or {}).get(point.point_id, point))
        if cycle["status"] != "ok":
            continue
        rows.append(
            {
                "point_id": point.point_id,
                "network": analytical["network"],
                "accelerator": analytical["accelerator"],
                "n_pe": int(analytical["n_pe"]),
                "fifo_depth": int(analytical["fifo_depth"]),
                "analytical_cycles": float(analytical["cycles"]),
                "cycle_model_cycles": float(cycle["cycles"]),
                "cycles_deviation_pct": _deviation_pct(analytical["cycles"], cycle["cycles"]),
                "analytical_latency_ms": float(analytical["latency_ms"]),
                "cycle_model_latency_ms": float(cycle["latency_ms"]),
                "latency_deviation_pct": _deviation_pct(
                    analytical["latency_ms"], cycle["latency_ms"]
                ),
                "analytical_energy_mj": float(analytical["energy_mj"]),
                "cycle_model_energy_mj": float(cycle["energy_mj"]),
                "energy_deviation_pct": _deviation_pct(analytical["energy_mj"], cycle["energy_mj"]),
            }
        )
    return rows


def summary(rows: list[dict]) -> dict:
    """The worst deviations of a verification (absolute, in percent) and the point count."""
    if not rows:
        return {"points": 0}
    worst = {}
    for name in ("cycles", "latency", "energy"):
        values = [abs(r[f"{name}_deviation_pct"]) for r in rows]
        i = int(np.argmax(values))
        worst[f"worst_{name}_deviation_pct"] = rows[i][f"{name}_deviation_pct"]
        worst[f"worst_{name}_point"] = rows[i]["point_id"]
    return {"points": len(rows), **worst}


def verification_columns(rows: list[dict]):
    """A function adding `VERIFY_COLUMNS` to a unit's rows (total rows of verified points)."""
    by_point = {r["point_id"]: r for r in rows}

    def add(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        total = frame["row_type"] == "total"
        ids = frame["point_id"].where(total)
        frame["cycle_model_cycles"] = ids.map(
            {k: v["cycle_model_cycles"] for k, v in by_point.items()}
        ).astype("float64")
        frame["cycle_model_deviation_pct"] = ids.map(
            {k: v["cycles_deviation_pct"] for k, v in by_point.items()}
        ).astype("float64")
        return frame

    return add
