"""Worksheet rows as SpreadsheetML, built column-wise with arrow: the large sheets of the
workbook (``summary``, ``per_layer``) at millions of cells per second.

Place in the flow: part of ``reports`` (:mod:`reports.spreadsheet` builds the workbook's
small sheets, styles and package with openpyxl and streams the large sheets' rows through
this module). A library writes one cell at a time in Python (openpyxl's write-only mode and
XlsxWriter measured ~150,000 cells/s here, 10 minutes for the summary of 10^6 points); here
each column of a batch becomes the XML of its cells with arrow string kernels, and the
columns are joined into rows — the same cells, without a Python call per cell.

Cells (ECMA-376 part 1, §18.3.1.4): numbers ``<c r="B7" s="3"><v>0.25</v></c>`` in the
shortest text that reads back to the same float64; formulas with their cached value
``<c r="F7" s="3"><f>C7*energy_table!$C$4*1E-9</f><v>1.2e-05</v></c>``; booleans
``t="b"``; text as inline strings (``t="inlineStr"``, XML-escaped, at most
:data:`MAX_TEXT_CHARS` characters — Excel's limit — and characters XML 1.0 forbids written as
Excel's ``_xHHHH_`` escapes). A missing value, NaN, ±inf or an empty text leaves the cell
empty. A text is never a formula, even when it starts with "=".
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.utils import get_column_letter

__all__ = ["MAX_TEXT_CHARS", "SheetLayout", "rows_xml"]

#: Excel's limit on the characters of one cell.
MAX_TEXT_CHARS = 32_767
_ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_ILLEGAL_RE = re.compile(_ILLEGAL_XML)


class SheetLayout:
    """The columns of one sheet: names, letters and the style id of each column's numbers
    (None: the default style)."""

    def __init__(self, columns: list[str], styles: dict[str, int | None] | None = None):
        self.columns = list(columns)
        self.letters = {c: get_column_letter(j) for j, c in enumerate(self.columns, start=1)}
        self.styles = dict(styles or {})


def _numbers(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Numbers as their shortest round-trip text; NaN and ±inf as missing."""
    if pa.types.is_floating(column.type):
        bad = pc.or_(pc.is_nan(column), pc.is_inf(column))
        column = pc.if_else(bad, pa.scalar(None, column.type), column)
    return pc.cast(column, pa.string())


def _excel_escape(match: re.Match) -> str:
    return f"_x{ord(match.group(0)):04X}_"


def _texts(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Text XML-escaped and cut to Excel's cell limit; empty text as missing."""
    text = pc.cast(column, pa.string())
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    text = pc.utf8_slice_codeunits(text, 0, MAX_TEXT_CHARS)
    if pc.any(pc.match_substring_regex(text, _ILLEGAL_XML)).as_py():
        text = pa.array(
            [None if v is None else _ILLEGAL_RE.sub(_excel_escape, v) for v in text.to_pylist()],
            pa.string(),
        )
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, raw, escaped)
    return text


def _cells(
    column,
    letter: str,
    rows: pa.Array,
    style: int | None,
    formula: pa.Array | None,
) -> pa.Array:
    """The XML of one column's cells ("" where the cell is empty)."""
    kind = column.type
    if pa.types.is_null(kind):
        return pa.array([""] * len(rows), pa.string())
    head = pa.scalar(f'<c r="{letter}')
    if pa.types.is_boolean(kind):
        values = pc.cast(pc.cast(column, pa.int8()), pa.string())
        cells = pc.binary_join_element_wise(head, rows, '" t="b"><v>', values, "</v></c>", "")
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = _numbers(column)
        attrs = f'" s="{style}">' if style is not None else '">'
        cells = pc.binary_join_element_wise(head, rows, attrs + "<v>", values, "</v></c>", "")
        if formula is not None:
            with_formula = pc.binary_join_element_wise(
                head, rows, attrs + "<f>", formula, "</f><v>", values, "</v></c>", ""
            )
            cells = pc.if_else(pc.is_null(with_formula), cells, with_formula)
    else:
        values = _texts(column)
        cells = pc.binary_join_element_wise(
            head, rows, '" t="inlineStr"><is><t>', values, "</t></is></c>", ""
        )
        spaced = pc.fill_null(pc.match_substring_regex(values, r"^\s|\s$"), False)
        if pc.any(spaced).as_py():  # keep leading / trailing white space
            preserved = pc.binary_join_element_wise(
                head,
                rows,
                '" t="inlineStr"><is><t xml:space="preserve">',
                values,
                "</t></is></c>",
                "",
            )
            cells = pc.if_else(spaced, preserved, cells)
    return pc.fill_null(cells, "")


def _joined_bytes(strings: pa.Array) -> memoryview:
    """The concatenation of a string array without nulls (its data buffer, no copy)."""
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)
    start, stop = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return memoryview(strings.buffers()[2])[start:stop]


def rows_xml(
    table: pa.Table,
    layout: SheetLayout,
    first_row: int,
    formulas: dict[str, pa.Array] | None = None,
) -> memoryview:
    """``<row>`` elements of `table`'s rows, the first one numbered `first_row` (1-based, the
    header being row 1). ``formulas``: column → formula text per row (without "=", null where
    the cell holds its plain value)."""
    n = table.num_rows
    if n == 0:
        return memoryview(b"")
    formulas = formulas or {}
    rows = pc.cast(pa.array(np.arange(first_row, first_row + n, dtype=np.int64)), pa.string())
    parts = [pc.binary_join_element_wise('<row r="', rows, '">', "")]
    for name in layout.columns:
        if name not in table.column_names:
            continue
        parts.append(
            _cells(
                table[name],
                layout.letters[name],
                rows,
                layout.styles.get(name),
                formulas.get(name),
            )
        )
    parts.append(pa.array(["</row>"] * n, pa.string()))
    return _joined_bytes(pc.binary_join_element_wise(*parts, ""))
