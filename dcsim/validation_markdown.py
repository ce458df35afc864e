"""`dcsim validate --format markdown`: the validation rows as Markdown, for documentation.

Part of the application layer (DESIGN §6), presentation only: it formats the rows the checks
return (`simulator.validation`, `simulator.eie_table2`) and computes nothing. The README's
"power and area by module" table is this output, pasted as printed:

    dcsim validate --check eie-power --check eie-area --format markdown

- EIE Table II rows (`power, …` and `area, …`) become one table with power and area side by
  side per module, per component type, for the PE, the LNZD units and the 64-PE array;
- any other rows become one table: check, published, model, error, unit, source.
Errors are signed percentages with one decimal (a minus sign, −, where the model is below the
published number); powers with one decimal from 10 mW up and three significant digits below,
areas of one PE in whole µm², the array's in mm² with one decimal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from simulator.eie_table2 import EIE_FILLER_UM2, EIE_MODULE_PER_PE, EIE_TYPE_PER_PE

_UNITS = {"um2": "µm²", "mm2": "mm²", "mW": "mW", "us": "µs"}


def _table2_layout() -> list[tuple[str, str | None, str | None]]:
    """(row label, power check, area check) of the side-by-side table, in Table II's order."""
    layout: list[tuple[str, str | None, str | None]] = [
        (module, f"power, {module}", f"area, {module}") for module in EIE_MODULE_PER_PE
    ]
    layout.append(
        (
            f"PE total (published area incl. {EIE_FILLER_UM2:,.0f} µm² of filler cells)",
            "power, total",
            "area, PE total",
        )
    )
    layout.append(
        ("PE without filler cells (published: derived)", None, "area, PE without filler cells")
    )
    layout += [
        (f"*by component type:* {kind}" if i == 0 else kind, f"power, {kind}", f"area, {kind}")
        for i, kind in enumerate(EIE_TYPE_PER_PE)
    ]
    layout.append(
        ("LNZD (EIE §VI; power: 21 units, area: one unit)", "power, LNZD units", "area, LNZD unit")
    )
    layout.append(("64 PEs + 21 LNZD nodes (area: EIE Table V)", None, "area, 64 PEs"))
    return layout


TABLE2_CHECKS: frozenset[str] = frozenset(
    check for _, *checks in _table2_layout() for check in checks if check is not None
)


def _number(value: float, unit: str) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "—" if value is None else str(value)
    if math.isnan(value):
        return "—"
    if unit == "mW":
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    elif unit == "um2":
        text = f"{value:,.0f}"
    elif unit == "mm2":
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.4g}"
    return f"{text} {_UNITS.get(unit, unit)}".strip()


def _error(value: float) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(value):
        return "—"
    return f"{value:+.1f} %".replace("-", "−")


def _cells(row: dict | None) -> list[str]:
    if row is None:
        return ["", "", ""]
    unit = row.get("unit", "")
    return [_number(row["published"], unit), _number(row["model"], unit), _error(row["error_pct"])]


def table2_markdown(rows: Sequence[dict]) -> str:
    """EIE Table II rows (eie-power and/or eie-area) as one Markdown table, power and area
    side by side; a check that was not run leaves its cells empty."""
    by_check = {row["check"]: row for row in rows}
    lines = [
        "| EIE Table II (power: 64 PEs; area: one PE) | power: published | model | error "
        "| area: published | model | error |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, power, area in _table2_layout():
        cells = _cells(by_check.get(power) if power else None) + _cells(
            by_check.get(area) if area else None
        )
        if any(cells):
            lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines)


def rows_markdown(rows: Sequence[dict]) -> str:
    """Validation rows as a Markdown table: check, published, model, error, unit, source."""
    lines = ["| check | published | model | error | source |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        unit = row.get("unit", "")
        cells = [
            str(row["check"]),
            _number(row.get("published"), unit),
            _number(row.get("model"), unit),
            _error(row.get("error_pct")),
            str(row.get("source", "")).replace("|", "\\|"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def validation_markdown(rows: Sequence[dict]) -> str:
    """All rows: the Table II table first (if any of its rows are there), then the others."""
    table2 = [row for row in rows if row["check"] in TABLE2_CHECKS]
    others = [row for row in rows if row["check"] not in TABLE2_CHECKS]
    parts = ([table2_markdown(table2)] if table2 else []) + (
        [rows_markdown(others)] if others else []
    )
    return "\n\n".join(parts)


__all__ = ["TABLE2_CHECKS", "rows_markdown", "table2_markdown", "validation_markdown"]
