"""The XLSX package of the workbook: openpyxl builds it with every table sheet's header, then
the table sheets' rows are streamed into it.

Place in the flow: part of ``reports`` (:mod:`reports.spreadsheet` defines the sheets and
their rows; this module assembles the file). openpyxl writes the styles, column widths,
frozen panes, autofilters and the small sheets, and for each table sheet a header plus one
template row that fixes the style id of each column's numbers; the package is then copied
part by part into the final zip, each table sheet's template row replaced by its streamed
rows (:mod:`reports.sheet_xml`), so no sheet is ever held whole. The file is byte-for-byte
deterministic: fixed zip timestamps and part order, document dates from ``meta['created']``.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.properties import CalcProperties

from reports.sheet_xml import SheetLayout

__all__ = ["TableSheet", "created_time", "write_package", "skeleton"]

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
WIDTH_ROWS = 200  # rows that set a column's width
_ZIP64_BYTES = 1 << 30  # a sheet that may grow past this is written with zip64 sizes


@dataclass
class TableSheet:
    """A sheet of a header row and streamed data rows."""

    title: str
    columns: list[str]
    headers: list[str]
    formats: list[str]
    n_rows: int
    first_values: list[list]  # the first rows, for the column widths
    rows: Callable[[SheetLayout], Iterator[memoryview]]


def _width(header_text: str, values: list) -> float:
    longest = len(header_text)
    for v in values[:WIDTH_ROWS]:
        if v is None:
            continue
        s = f"{v:,.3f}" if isinstance(v, float) else str(v)
        longest = max(longest, len(s))
    return float(min(max(longest + 2, 8), 60))


def skeleton(sheets: list[TableSheet], about: list[list], created: _dt.datetime) -> bytes:
    """The package: every table sheet's header (and one template row fixing the style id of
    each column's numbers), then ``about`` before the last sheet (``units``)."""
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.created = created
    wb.properties.modified = created
    wb.properties.creator = "dcsim"
    wb.properties.lastModifiedBy = "dcsim"
    wb.calculation = CalcProperties(fullCalcOnLoad=True)
    for sheet in sheets:
        if sheet.title == "units":
            _about_sheet(wb, about)
        ws = wb.create_sheet(sheet.title)
        for j, text in enumerate(sheet.headers, start=1):
            cell = ws.cell(row=1, column=j, value=text)
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
        layout = SheetLayout(sheet.columns)
        for j, fmt in enumerate(sheet.formats, start=1):
            if fmt and fmt != "General":
                ws.cell(row=2, column=j, value=0).number_format = fmt
        for j, name in enumerate(sheet.headers):
            values = [r[j] for r in sheet.first_values]
            ws.column_dimensions[layout.letters[sheet.columns[j]]].width = _width(name, values)
        ws.freeze_panes = "B2" if sheet.columns and sheet.columns[0] == "point_id" else "A2"
        if sheet.n_rows and sheet.columns:
            last = layout.letters[sheet.columns[-1]]
            ws.auto_filter.ref = f"A1:{last}{sheet.n_rows + 1}"
        if sheet.title == "units":
            ws.column_dimensions["D"].width = 90
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _about_sheet(wb, about: list[list]) -> None:
    ws = wb.create_sheet("about")
    for j, text in enumerate(("key", "value"), start=1):
        cell = ws.cell(row=1, column=j, value=text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for i, (key, value) in enumerate(about, start=2):
        ws.cell(row=i, column=1, value=key)
        cell = ws.cell(row=i, column=2, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
    ws.column_dimensions["A"].width = _width("key", [r[0] for r in about])
    ws.column_dimensions["B"].width = 100
    ws["B5"].alignment = Alignment(wrap_text=True, vertical="top")
    for i in range(6, len(about) + 2):
        ws[f"B{i}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:B{len(about) + 1}"


def created_time(meta: dict) -> _dt.datetime:
    try:
        t = _dt.datetime.fromisoformat(str(meta.get("created")))
        if t.tzinfo is not None:
            t = t.astimezone(_dt.timezone(_dt.timedelta(0))).replace(tzinfo=None)
        return t
    except (TypeError, ValueError):
        return _dt.datetime(2000, 1, 1)


def _sheet_files(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet title → part name, from the workbook and its relationships."""
    wb_xml = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid, target = re.search(r'Id="([^"]+)"', rel), re.search(r'Target="([^"]+)"', rel)
        if rid and target:
            targets[rid.group(1)] = target.group(1)
    out = {}
    for m in re.finditer(r"<sheet\b([^>]*)/?>", wb_xml):
        name = re.search(r'name="([^"]*)"', m.group(1))
        rid = re.search(r'r:id="([^"]*)"|\bid="([^"]*)"', m.group(1))
        if name and rid:
            target = targets.get(rid.group(1) or rid.group(2), "").lstrip("/")
            out[name.group(1)] = target if target.startswith("xl/") else "xl/" + target
    return out


_STYLE_RE = re.compile(r'<c r="([A-Z]+)2"[^>]*?\bs="([0-9]+)"')


def _split_sheet(xml: str, n_rows: int, last_letter: str) -> tuple[str, str, dict[str, int]]:
    """(the sheet's XML up to its header row, the XML after its rows, column letter → style
    id of numbers) of a skeleton sheet; the template row is dropped, the dimension set."""
    end = xml.index("</sheetData>")
    start = xml.find('<row r="2"')
    styles = {}
    if start < 0:
        start = end
    else:
        styles = {m.group(1): int(m.group(2)) for m in _STYLE_RE.finditer(xml[start:end])}
    ref = f"A1:{last_letter}{n_rows + 1}"
    head = re.sub(
        r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}" />', xml[:start], count=1
    )
    return head, xml[end:], styles


def write_package(path: Path, skeleton: bytes, sheets: list[TableSheet], created) -> None:
    with zipfile.ZipFile(io.BytesIO(skeleton)) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    files = _sheet_files(parts)
    streamed = {files[s.title]: s for s in sheets}
    if "docProps/core.xml" in parts:
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        core = parts["docProps/core.xml"].decode("utf-8")
        core = re.sub(
            r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{stamp}\g<2>", core
        )
        parts["docProps/core.xml"] = core.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name in sorted(parts, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            sheet = streamed.get(name)
            if sheet is None:
                out.writestr(info, parts[name])
                continue
            layout = SheetLayout(sheet.columns)
            last = layout.letters[sheet.columns[-1]] if sheet.columns else "A"
            head, tail, layout.styles = _split_sheet(
                parts[name].decode("utf-8"), sheet.n_rows, last
            )
            layout.styles = {c: layout.styles.get(layout.letters[c]) for c in sheet.columns}
            big = sheet.n_rows * max(len(sheet.columns), 1) * 64 > _ZIP64_BYTES
            with out.open(info, "w", force_zip64=big) as stream:
                stream.write(head.encode("utf-8"))
                for chunk in sheet.rows(layout):
                    stream.write(chunk)
                stream.write(tail.encode("utf-8"))
