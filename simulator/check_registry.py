"""The registry of validation checks and the row every check returns.

Part of `simulator` (DESIGN §5), beneath the checks: `simulator.validation` registers its own
(EIE timing, FIFO depth, PE scaling) and those of `simulator.eie_table2` (EIE Table II power and
area), and, from the application, `dcsim.accuracy_trends` registers the accuracy trends, all
with `register_check`; a check is `fn(seed) -> rows`, each row built by `row` {check, published,
model, error_pct, unit, source, notes}. `CHECKS` keeps registration order, which is the order
`dcsim validate` and the reports list them in. `simulator.validation` re-exports all of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

CHECKS: dict[str, Callable[[int], list[dict]]] = {}


def register_check(name: str):
    """Decorator: add a check `fn(seed) -> rows` under `name` (run in registration order)."""

    def wrap(fn):
        CHECKS[name] = fn
        return fn

    return wrap


def row(
    check: str, published: float, model: float, unit: str, notes: str = "", source: str = ""
) -> dict:
    """One validation row; `source` names the table or figure the published number is copied
    from (required when there is a published number)."""
    if not math.isnan(published) and not source:
        raise ValueError(f"validation row {check!r}: a published number needs its source")
    error = (
        (model - published) / published * 100
        if published and not math.isnan(published)
        else (float("nan"))
    )
    return {
        "check": check,
        "published": published,
        "model": model,
        "error_pct": error,
        "unit": unit,
        "source": source,
        "notes": notes,
    }


def selected_checks(checks: list[str] | None) -> list[str]:
    """The checks to run (all registered ones if none are named); a one-line ValueError for
    an unknown name."""
    names = list(CHECKS) if not checks else list(checks)
    for name in names:
        if name not in CHECKS:
            raise ValueError(f"check={name!r} is invalid; allowed: {', '.join(CHECKS)}")
    return names
