"""The column catalogue of dcsim's result table: every column, its unit, meaning and header.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports``. The sweep (``dcsim``) produces
the table; this module only *describes* it, so that the spreadsheets (``units`` sheet, headers,
number formats) and the HTML report label every number the same way. It imports nothing from
the other dcsim packages: the columns are the whole contract.

One header style everywhere (spreadsheet sheets, ``units`` sheet, report tables): the column's
label in words, then its unit in parentheses — ``latency (ms)``, ``mac energy (mJ)``,
``weight density (fraction)`` — and no parentheses where the column has no unit (text, true /
false, identifiers: ``network``, ``fits on chip``) or where the label already says it
(``cycles``, ``mac events``).

Every catalogue entry has a non-empty unit: a physical or counting unit (``bytes``, ``ms``,
``entries``, ``×``, ``fraction``), or one of :data:`NO_UNIT` saying explicitly that the column
is dimensionless text, a flag or an identifier. Dynamic columns are described by pattern:
``energy_<action>_mj`` (energy of one action, events × energy per event) and
``events_<action>`` (event count of one action; what one event is comes from the energy
reference table's ``unit``, see :func:`units_rows`).
"""

from __future__ import annotations

import re

from reports.column_catalogue import COLUMNS, FORMAT_FLOAT6, FORMAT_INT, NO_UNIT, ColumnInfo

__all__ = [
    "COLUMNS",
    "NO_UNIT",
    "ColumnInfo",
    "column_info",
    "energy_component_columns",
    "event_columns",
    "header",
    "meta_header",
    "units_rows",
]

_ENERGY_RE = re.compile(r"^energy_(.+)_mj$")
_EVENTS_RE = re.compile(r"^events_(.+)$")
_UNIT_SUFFIXES = ("_ms", "_mj", "_mhz", "_kb", "_nm", "_bytes", "_entries", "_pct")


def energy_component_columns(columns) -> list[str]:
    """The ``energy_<action>_mj`` columns among ``columns`` (not ``energy_mj``), in order."""
    return [c for c in columns if c != "energy_mj" and _ENERGY_RE.match(str(c))]


def event_columns(columns) -> list[str]:
    """The ``events_<action>`` columns among ``columns``, in order."""
    return [c for c in columns if _EVENTS_RE.match(str(c))]


def component_of(column: str) -> str | None:
    """``energy_sram_read_mj`` → ``sram_read``; ``events_mac`` → ``mac``; else None."""
    m = _ENERGY_RE.match(column)
    if m and column != "energy_mj":
        return m.group(1)
    m = _EVENTS_RE.match(column)
    return m.group(1) if m else None


def _action_words(action: str) -> str:
    return action.replace("_", " ")


def column_info(name: str) -> ColumnInfo:
    """Describe any column: a catalogue entry, a generated one for dynamic columns, or a stub
    whose meaning says it is not in the catalogue."""
    if name in COLUMNS:
        return COLUMNS[name]
    m = _ENERGY_RE.match(name)
    if m:
        action = m.group(1)
        return ColumnInfo(
            name,
            "mJ",
            f"Energy of '{action}': events_{action} × energy per event of the point's "
            f"accelerator (energy reference table) × 1e-9 (pJ → mJ).",
            "float",
            FORMAT_FLOAT6,
            f"{_action_words(action)} energy",
        )
    m = _EVENTS_RE.match(name)
    if m:
        action = m.group(1)
        return ColumnInfo(
            name,
            "events",
            f"Number of '{action}' events per inference (one event as defined in the energy "
            "reference table).",
            "int",
            FORMAT_INT,
            f"{_action_words(action)} events",
        )
    return ColumnInfo(name, "", "(not in the catalogue)", "text", "General")


def label(name: str) -> str:
    """The column's words, without unit: the catalogue label, else the name without its unit
    suffix and with spaces for underscores."""
    info = column_info(name)
    if info.label:
        return info.label
    base = name
    for suffix in _UNIT_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.replace("_", " ")


def header(name: str) -> str:
    """The header of a column, one style everywhere: ``label (unit)``; no parentheses for
    :data:`NO_UNIT` units or where the label already ends with its unit (``mac events``)."""
    info = column_info(name)
    words = label(name)
    unit = info.unit
    if not unit or unit in NO_UNIT or words.split(" ")[-1] == unit:
        return words
    return f"{words} ({unit})"


def _event_units(energy_table) -> dict[str, str]:
    """action → what one event is, from the energy table rows (``unit``; distinct values of
    several accelerators are listed with their accelerators)."""
    by_action: dict[str, dict[str, list[str]]] = {}
    for row in energy_table or []:
        action = str(row.get("action", ""))
        unit = row.get("unit")
        if not action or not unit:
            continue
        by_action.setdefault(action, {}).setdefault(str(unit), []).append(
            str(row.get("accelerator", ""))
        )
    out = {}
    for action, units in by_action.items():
        if len(units) == 1:
            out[action] = next(iter(units))
        else:
            out[action] = "; ".join(
                f"{unit} ({', '.join(a for a in accs if a)})" for unit, accs in units.items()
            )
    return out


def units_rows(columns, energy_table=None) -> list[dict[str, str]]:
    """One row per column: column, header, unit, meaning (the ``units`` sheet). With the energy
    reference table rows, an ``events_<action>`` column's meaning says what one event is."""
    event_units = _event_units(energy_table)
    rows = []
    for name in columns:
        info = column_info(str(name))
        meaning = info.meaning
        action = component_of(info.name)
        if action in event_units and info.name.startswith("events_"):
            meaning += f" One event is: {event_units[action]}."
        rows.append(
            {
                "column": info.name,
                "header": header(info.name),
                "unit": info.unit,
                "meaning": meaning,
            }
        )
    return rows


#: Headers of the tables the report and the workbook show besides the result table (the
#: energy reference table, the validation rows, the accelerator specs), in the same style.
META_HEADERS: dict[str, dict[str, str]] = {
    "energy_table": {
        "energy_pj": "energy per event (pJ)",
        "unit": "one event is",
    },
    "validation": {"error_pct": "error (%)", "unit": "unit of published and model"},
}


def meta_header(table: str, key: str) -> str:
    """Header of `key` in one of the report's other tables (:data:`META_HEADERS`, else the key
    in words)."""
    return META_HEADERS.get(table, {}).get(key, key.replace("_", " "))
