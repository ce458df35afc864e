"""Printing result tables on the terminal: aligned text, CSV or JSON.

Part of the application layer: the CLI commands hand a list of row dicts (or a DataFrame) to
`print_table`, which renders it in the format the user asked for.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence

FORMATS: tuple[str, ...] = ("table", "csv", "json")


def _cell(value: object) -> str:
    if isinstance(value, tuple | list):
        return "x".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value == 0 or 1e-3 <= abs(value) < 1e9:
            return f"{value:.6g}"
        return f"{value:.4e}"
    return "" if value is None else str(value)


def _table_cell(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return _cell(value)


def render_table(rows: Sequence[dict], fmt: str = "table") -> str:
    """Render `rows` (dicts sharing keys; the first row's keys give the columns)."""
    if fmt not in FORMATS:
        raise ValueError(f"format={fmt!r} is invalid; allowed: {', '.join(FORMATS)}")
    columns = list(rows[0]) if rows else []
    if fmt == "json":

        def plain(v):
            if isinstance(v, tuple):
                return list(v)
            if isinstance(v, float) and math.isnan(v):
                return None
            return v

        return json.dumps([{k: plain(r.get(k)) for k in columns} for r in rows], indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(k)) for k in columns])
        return buffer.getvalue().rstrip("\n")
    cells = [[_table_cell(row.get(k)) for k in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def numeric(col: int) -> bool:
        return all(
            isinstance(r.get(columns[col]), int | float)
            for r in rows
            if r.get(columns[col]) is not None
        )

    aligned = [numeric(i) for i in range(len(columns))]
    lines = [
        "  ".join(c.rjust(w) if a else c.ljust(w) for c, w, a in zip(columns, widths, aligned))
    ]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append(
            "  ".join(c.rjust(w) if a else c.ljust(w) for c, w, a in zip(r, widths, aligned))
        )
    return "\n".join(line.rstrip() for line in lines)


def print_table(rows: Sequence[dict], fmt: str = "table") -> None:
    print(render_table(rows, fmt))
