"""Numbers as a person reads them in the report: sizes humanised, counts with separators.

Place in the flow: part of ``reports`` (the HTML report's tables and the figures' hover text
use it; the CSV and the spreadsheets keep full-precision numbers). A value is formatted by its
column's unit (:mod:`reports.columns`): bytes as ``8.79 MB`` (decimal prefixes, three
significant digits), counts as ``1,087,217``, fractions as ``97.1 %``, other numbers with four
significant digits — never in e-notation.
"""

from __future__ import annotations

import math

import numpy as np

from reports.columns import column_info

__all__ = ["format_bytes", "format_number", "format_value"]

_BYTE_PREFIXES = ("B", "kB", "MB", "GB", "TB", "PB")


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA raises in bool() → not missing
    except (TypeError, ValueError):
        return True


def format_number(value: float, significant: int = 4) -> str:
    """A number with `significant` digits, thousands separators and no e-notation
    (``1234567.8`` → ``1,234,568``; ``0.000123456`` → ``0.0001235``)."""
    v = float(value)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(v)))
    decimals = min(15, max(0, significant - 1 - magnitude))
    text = f"{v:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_bytes(value: float) -> str:
    """Bytes with a decimal prefix and three significant digits: ``8793080`` → ``8.79 MB``."""
    v = float(value)
    if not math.isfinite(v):
        return format_number(v)
    size, index = abs(v), 0
    while size >= 999.5 and index < len(_BYTE_PREFIXES) - 1:
        size /= 1000.0
        index += 1
    if index == 0:
        return f"{v:,.0f} B"
    sign = "−" if v < 0 else ""
    return f"{sign}{format_number(size, 3)} {_BYTE_PREFIXES[index]}"


def format_value(column: str, value) -> str:
    """A table cell of `column` for people: "—" when missing; by the column's unit."""
    if _missing(value):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    info = column_info(column)
    if info.unit == "bytes":
        return format_bytes(value)
    if info.kind == "fraction":
        return f"{float(value):.1%}".replace("%", " %")
    if info.unit == "identifier":
        return str(int(value)) if float(value).is_integer() else str(value)
    if info.kind == "int" and float(value).is_integer():
        return f"{int(value):,}"
    return format_number(value)
