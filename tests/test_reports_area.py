"""The workbook's area_table sheet and live area formulas, and the energy-vs-area figure.

The summary's area cells must be formulas over area_table (an architect edits one component's
µm² and every point follows), reproduce the table's values, and the figure's Pareto front must
be exactly the non-dominated points that meet the target."""

from __future__ import annotations

import re
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest
from reports_fixtures import AREA_UM2, HW, make_meta, make_results

from reports import write_xlsx
from reports.area_figure import energy_area_figure
from reports.columns import header
from reports.figures import ok_totals


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("area-xlsx") / "results.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every area cell reproduced by its formula
        write_xlsx(make_results(), make_meta(), path)
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def _rows(ws):
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def test_area_table_sheet_follows_energy_table_with_live_totals(workbook):
    wb, values = workbook
    names = wb.sheetnames
    assert names.index("area_table") == names.index("energy_table") + 1
    headers, rows = _rows(wb["area_table"])
    _, cached = _rows(values["area_table"])
    col = {h: i for i, h in enumerate(headers)}
    expected = {(a, c): u for a, t in AREA_UM2.items() for c, u in t.items()}
    assert len(rows) == len(expected)
    for i, (row, cache) in enumerate(zip(rows, cached), start=2):
        accelerator, component = row[col["accelerator"]], row[col["component"]]
        assert row[col["area of one instance (µm²)"]] == expected[(accelerator, component)]
        assert row[col["area of all instances (mm²)"]] == f"=E{i}*F{i}*1E-6"
        assert cache[col["area of all instances (mm²)"]] == pytest.approx(
            HW[accelerator]["n_pe"] * expected[(accelerator, component)] * 1e-6, rel=1e-12
        )


def test_summary_area_cells_are_formulas_over_the_area_table(workbook):
    wb, values = workbook
    headers, rows = _rows(wb["summary"])
    _, cached = _rows(values["summary"])
    table_headers, table_rows = _rows(wb["area_table"])
    tcol = {h: i for i, h in enumerate(table_headers)}
    col = {h: i for i, h in enumerate(headers)}
    results = make_results()
    totals = ok_totals(results).set_index("point_id")
    checked = 0
    for row, cache in zip(rows, cached):
        pid = row[col[header("point_id")]]
        if pid not in totals.index or pd.isna(totals.at[pid, "area_mm2"]):
            continue
        accelerator = totals.at[pid, "accelerator"]
        cells = []
        for component in AREA_UM2[accelerator]:
            formula = row[col[header(f"area_{component}_mm2")]]
            match = re.fullmatch(r"=area_table!\$G\$(\d+)", str(formula))
            assert match, formula
            target = table_rows[int(match.group(1)) - 2]
            assert (target[tcol["accelerator"]], target[tcol["component"]]) == (
                accelerator,
                component,
            )
            value = cache[col[header(f"area_{component}_mm2")]]
            assert value == pytest.approx(totals.at[pid, f"area_{component}_mm2"], rel=1e-12)
            cells.append(value)
        area = row[col[header("area_mm2")]]
        assert str(area).startswith("=SUM(")
        assert cache[col[header("area_mm2")]] == pytest.approx(sum(cells), rel=1e-12)
        assert str(row[col[header("fps_per_mm2")]]).startswith("=")
        checked += 1
    assert checked == len(totals)  # every point that ran
    per_layer_headers, _ = _rows(wb["per_layer"])
    assert header("area_mm2") not in per_layer_headers  # a point's area, not a layer's


def test_energy_area_figure_rings_the_non_dominated_points_meeting_the_target():
    totals = ok_totals(make_results())
    fig = energy_area_figure(totals)
    assert fig.id == "energy-area" and "30 fps" in fig.title
    fronts = [t for t in fig.figure.data if t.name == "Pareto front (meets target)"]
    for net, front in zip(sorted(totals["network"].unique()), fronts, strict=False):
        sub = totals[(totals["network"] == net) & totals["meets_target"].astype(bool)]
        points = list(zip(sub["area_mm2"], sub["energy_mj"], strict=True))
        expected = sorted(
            (a, e)
            for a, e in points
            if not any(a2 <= a and e2 <= e and (a2, e2) != (a, e) for a2, e2 in points)
        )
        assert sorted(zip(front.x, front.y, strict=True)) == expected
        assert np.all(np.diff(front.x) >= 0)


def test_energy_area_figure_without_area_says_so():
    totals = ok_totals(make_results()).drop(columns=["area_mm2"])
    fig = energy_area_figure(totals)
    assert "no area data" in str(fig.figure.layout.annotations[0].text)


def test_energy_area_figure_with_thousands_of_accelerators_colours_by_preset():
    """A sweep over 10^3 hardware variants draws a few traces (coloured by preset, as the
    Pareto figures), not one per accelerator; every point is still drawn once."""
    totals = ok_totals(make_results())
    many = pd.concat([totals] * 300, ignore_index=True)
    many["accelerator"] = [f"edge-16 (n_pe={i})" for i in range(len(many))]
    many["accelerator_preset"] = "edge-16"
    fig = energy_area_figure(many)
    points = [t for t in fig.figure.data if t.name != "Pareto front (meets target)"]
    assert len(points) <= 2 * many["network"].nunique()  # meets / misses per panel
    assert sum(len(t.x) for t in points) == len(many)
    assert all("(all variants)" in t.name for t in points)


def test_area_cells_of_an_accelerator_without_an_area_table_keep_values_quietly(tmp_path):
    """run.json lists area tables for at most 256 accelerators: the others' area cells keep
    their values without formulas — expected, so not reported as cells that disagree with
    their table (which a warning is for)."""
    meta = make_meta()
    unlisted = meta["area_table"][0]["accelerator"]
    meta["area_table"] = [r for r in meta["area_table"] if r["accelerator"] != unlisted]
    path = tmp_path / "results.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_xlsx(make_results(), meta, path)
    wb, values = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    headers, rows = _rows(wb["summary"])
    _, cached = _rows(values["summary"])
    acc, area = headers.index(header("accelerator")), headers.index(header("area_mm2"))
    mine = [(r, c) for r, c in zip(rows, cached, strict=True) if r[acc] == unlisted]
    assert mine and all(isinstance(r[area], float) for r, _ in mine)  # values, not formulas
