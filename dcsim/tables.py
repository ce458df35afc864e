"""Printing result tables on the terminal: aligned text, CSV or JSON — and the formatting rules.

Part of the application layer: the CLI commands hand a list of row dicts to `print_table`,
which renders it in the format the user asked for (`--format table|csv|json`).

Formatting rules (one place for all commands)
- `csv` and `json` are for programs and spreadsheets: every number is written exactly.
  Integers (Python or NumPy) are written as integers (`1087217`, never `1.08722e+06`); a float
  with an integral value is written as that integer (`10210`, reads back as the same number);
  any other finite float is written as Python's `repr`, the shortest text that reads back as
  the identical float (`0.9656160830324909`). `float(text)` / `json.loads` therefore give back
  exactly the computed values.
  Missing or undefined values (None, NaN) are an empty CSV cell and JSON `null`; infinities are
  `inf` / `-inf` in CSV (what pandas and spreadsheets read as infinity) and `null` in JSON,
  which has no infinity. Shapes (tuples) are `64x3x11x11` in CSV and arrays in JSON; booleans
  are `true` / `false`.
- `table` is for people: integers and integral floats get thousands separators (`1,087,217`)
  and never e-notation; other numbers are rounded to 6 significant digits without e-notation
  (`9,858.94`, `0.965616`), except magnitudes below 1e-4 (`5.939e-05`) or from 1e18 up.
  `human_bytes` renders a size for people (`8.79 MB`, SI units as everywhere in dcsim).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence

import numpy as np

FORMATS: tuple[str, ...] = ("table", "csv", "json")
_SMALLEST_FIXED = 1e-4  # below this magnitude the table shows e-notation (never for counts)
_LARGEST_FIXED = 1e18  # and from this one up (no count of dcsim's comes near it)


def _plain(value: object) -> object:
    """`value` as a plain Python object: NumPy scalars become int / float / bool."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _exact_number(value: float) -> int | float:
    """An integral finite float as the int of the same value, else the float itself."""
    if math.isfinite(value) and value == math.floor(value):
        return int(value)
    return value


def machine_cell(value: object) -> str:
    """One CSV cell, written exactly (see the module docstring)."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(_exact_number(value))
    if isinstance(value, tuple | list):
        return "x".join(machine_cell(v) for v in value)
    return str(value)


def json_value(value: object) -> object:
    """One JSON value, exact (see the module docstring); NaN and infinities become None."""
    value = _plain(value)
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    if isinstance(value, float):
        return _exact_number(value) if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _strip_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def human_number(value: float) -> str:
    """A float for people: thousands separators, 6 significant digits, no e-notation unless
    the magnitude is below 1e-4."""
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude >= _LARGEST_FIXED:
        return f"{value:.6g}"
    if value == math.floor(value):
        return f"{value:,.0f}"
    if magnitude < _SMALLEST_FIXED:
        return f"{value:.4g}"
    decimals = max(0, 5 - math.floor(math.log10(magnitude)))
    return _strip_zeros(f"{value:,.{decimals}f}")


def human_cell(value: object) -> str:
    """One cell of the aligned table (see the module docstring)."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return human_number(value)
    if isinstance(value, tuple | list):
        return "x".join(machine_cell(v) for v in value)
    return str(value)


def human_bytes(size_bytes: float) -> str:
    """A size for people: `512 B`, `8.79 MB`, `1.20 GB` (SI: 1 MB = 10^6 bytes)."""
    size = float(size_bytes)
    if not math.isfinite(size):
        return human_number(size)
    if abs(size) < 1000:
        return f"{size:,.0f} B"
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if abs(size) < 999.995 or unit == "TB":
            return f"{size:,.2f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _is_number(value: object) -> bool:
    value = _plain(value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def render_table(rows: Sequence[dict], fmt: str = "table") -> str:
    """Render `rows` (dicts; the columns are every key, in first-seen order)."""
    if fmt not in FORMATS:
        raise ValueError(f"format={fmt!r} is invalid; allowed: {', '.join(FORMATS)}")
    columns = list(dict.fromkeys(key for row in rows for key in row))
    if fmt == "json":
        return json.dumps(
            [{k: json_value(r.get(k)) for k in columns} for r in rows],
            indent=2,
            allow_nan=False,
            ensure_ascii=False,
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([machine_cell(row.get(k)) for k in columns])
        return buffer.getvalue().rstrip("\n")
    cells = [[human_cell(row.get(k)) for k in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    aligned = [
        all(_is_number(r.get(c)) for r in rows if r.get(c) is not None and r.get(c) != "")
        for c in columns
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if a else v.ljust(w) for v, w, a in zip(values, widths, aligned)
        ).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def print_table(rows: Sequence[dict], fmt: str = "table") -> None:
    print(render_table(rows, fmt))
