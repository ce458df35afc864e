"""reports.spreadsheet: CSV round trip; XLSX sheets, headers, units, frozen panes, formulas."""

from __future__ import annotations

import math
import warnings

import openpyxl
import pandas as pd
import pytest
from reports_fixtures import make_meta, make_results

from reports import COLUMNS, header, write_csv, write_xlsx
from reports.columns import column_info


@pytest.fixture(scope="module")
def results():
    return make_results()


@pytest.fixture(scope="module")
def xlsx(tmp_path_factory, results):
    path = tmp_path_factory.mktemp("xlsx") / "results.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consistent fixture → no fallback warning
        write_xlsx(results, make_meta(), path)
    return path


def _table(ws):
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def test_csv_round_trip(tmp_path, results):
    path = write_csv(results, tmp_path / "out" / "results.csv")
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(results.columns)
    assert len(back) == len(results)
    for col in ["latency_ms", "energy_mj", "top1", "weights", "energy_mac_mj"]:
        pd.testing.assert_series_equal(
            back[col].astype(float), results[col].astype(float), check_names=False
        )
    assert back["point_id"].tolist() == results["point_id"].tolist()
    assert not list(tmp_path.joinpath("out").glob("*.tmp"))


def test_sheets_headers_units_frozen(xlsx, results):
    wb = openpyxl.load_workbook(xlsx)
    for sheet in ["summary", "per_layer", "accelerator", "energy_table", "units"]:
        assert sheet in wb.sheetnames
    summary_headers, summary_rows = _table(wb["summary"])
    assert "latency (ms)" in summary_headers
    assert "energy (mJ)" in summary_headers
    assert "model size on chip (bytes)" in summary_headers
    assert "fits on chip" in summary_headers and "network" in summary_headers
    assert len(summary_rows) == (results["row_type"] == "total").sum()
    layer_headers, layer_rows = _table(wb["per_layer"])
    assert len(layer_rows) == (results["row_type"] == "layer").sum()
    assert "mac energy (mJ)" in layer_headers and "mac events" in layer_headers
    # one header style: words, unit in parentheses, no raw column names with underscores
    for headers in (summary_headers, layer_headers):
        assert not [h for h in headers if "_" in h], headers
    for name in ["summary", "per_layer", "energy_table", "units", "accelerator"]:
        assert wb[name].freeze_panes in ("A2", "B2"), name
    # number formats: latency has a numeric format, densities are percentages
    col = summary_headers.index("weight density (fraction)") + 1
    assert wb["summary"].cell(row=2, column=col).number_format == "0.0%"
    # units sheet: every column of the table, with unit and meaning, headers as on the sheets
    units_headers, units = _table(wb["units"])
    assert units_headers == ["column", "header", "unit", "meaning"]
    by_col = {r[0]: r for r in units}
    assert set(by_col) == set(results.columns)
    assert by_col["latency_ms"][1] == "latency (ms)" and by_col["latency_ms"][2] == "ms"
    assert by_col["energy_mac_mj"][2] == "mJ" and "events_mac" in by_col["energy_mac_mj"][3]
    assert by_col["events_dram_bit"][2] == "events"
    assert by_col["events_dram_bit"][3].endswith("One event is: one bit.")
    assert by_col["events_mac"][3].endswith("One event is: one mac.")
    for c in COLUMNS:
        if c in by_col:
            assert by_col[c][3] == column_info(c).meaning
            assert by_col[c][1] == header(c)
    # energy_table: "one event is" is filled from the table's unit
    et_headers, et_rows = _table(wb["energy_table"])
    one_event = et_headers.index("one event is")
    assert all(r[one_event] for r in et_rows)
    assert et_headers.count("one event is") == 1


def test_energy_formulas_and_cached_values(xlsx, results):
    wb_f = openpyxl.load_workbook(xlsx)
    wb_v = openpyxl.load_workbook(xlsx, data_only=True)
    ws_f, ws_v = wb_f["per_layer"], wb_v["per_layer"]
    headers, _ = _table(ws_f)
    layers = results[results["row_type"] == "layer"].reset_index(drop=True)
    et_headers, et_rows = _table(wb_f["energy_table"])
    et_row = {(r[0], r[1]): i + 2 for i, r in enumerate(et_rows)}
    pj_letter = openpyxl.utils.get_column_letter(et_headers.index("energy per event (pJ)") + 1)
    comps = [c for c in results.columns if c.startswith("energy_") and c != "energy_mj"]
    for i, rec in layers.iterrows():
        r = i + 2
        for comp in comps:
            j = headers.index(header(comp)) + 1
            formula = ws_f.cell(row=r, column=j).value
            action = comp[len("energy_") : -len("_mj")]
            ev_letter = openpyxl.utils.get_column_letter(
                headers.index(header(f"events_{action}")) + 1
            )
            ref = f"energy_table!${pj_letter}${et_row[(rec['accelerator'], action)]}"
            assert formula == f"={ev_letter}{r}*{ref}*1E-9"
            assert ws_v.cell(row=r, column=j).value == pytest.approx(rec[comp], rel=1e-12, abs=0)
        j = headers.index("energy (mJ)") + 1
        assert ws_f.cell(row=r, column=j).value.startswith("=SUM(")
        assert ws_v.cell(row=r, column=j).value == pytest.approx(rec["energy_mj"], rel=1e-12)
    # summary: point totals are SUMIFS over per_layer, cached value = table value
    s_headers, _ = _table(wb_f["summary"])
    totals = results[results["row_type"] == "total"].reset_index(drop=True)
    j = s_headers.index("energy (mJ)") + 1
    for i, rec in totals.iterrows():
        f = wb_f["summary"].cell(row=i + 2, column=j).value
        v = wb_v["summary"].cell(row=i + 2, column=j).value
        if rec["status"] == "ok":
            assert f.startswith("=SUMIFS(per_layer!")
            assert v == pytest.approx(rec["energy_mj"], rel=1e-12)
        else:
            assert f is None and v is None  # failed point: NaN → empty cell


def test_failed_point_and_text_safety(tmp_path, results):
    df = results.copy()
    df.loc[df["point_id"] == "p999", "error"] = "=1+1 is not a formula"
    path = write_xlsx(df, make_meta(), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["summary"]
    headers, rows = _table(ws)
    failed = [r for r in rows if r[headers.index(header("point_id"))] == "p999"]
    assert failed and failed[0][headers.index(header("status"))] == "error"
    assert failed[0][headers.index(header("error"))] == "=1+1 is not a formula"
    assert failed[0][headers.index("latency (ms)")] is None


def test_inconsistent_energy_falls_back_to_values(tmp_path, results):
    df = results.copy()
    first = df.index[df["row_type"] == "layer"][0]
    df.loc[first, "energy_mac_mj"] *= 2  # no longer events × pJ
    with pytest.warns(UserWarning, match="plain values"):
        path = write_xlsx(df, make_meta(), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["per_layer"]
    headers, _ = _table(ws)
    v = ws.cell(row=2, column=headers.index(header("energy_mac_mj")) + 1).value
    assert isinstance(v, float) and math.isclose(v, df.loc[first, "energy_mac_mj"])


def test_xlsx_deterministic(tmp_path, results):
    a = write_xlsx(results, make_meta(), tmp_path / "a.xlsx").read_bytes()
    b = write_xlsx(results, make_meta(), tmp_path / "b.xlsx").read_bytes()
    assert a == b


def test_layer_rows_of_an_accelerator_missing_from_the_energy_table_keep_their_values():
    """Sweeps list energy tables for at most 256 accelerators: per_layer rows of the others keep
    their values (no formula) instead of failing the workbook."""
    import numpy as np

    from reports.spreadsheet import _EnergyRefs

    refs = _EnergyRefs(
        [{"accelerator": "a", "action": "mac", "energy_pj": 1.5}],
        ["accelerator", "action", "energy_pj"],
    )
    pj, cells = refs.lookup("mac", np.array(["a", "b", "a"], dtype=object))
    assert pj[0] == 1.5 and np.isnan(pj[1])
    assert cells.to_pylist() == ["energy_table!$C$2", None, "energy_table!$C$2"]
    # a batch in which no accelerator is listed (the float-typed case that used to fail)
    pj, cells = refs.lookup("mac", np.array(["b", "c"], dtype=object))
    assert np.isnan(pj).all() and cells.to_pylist() == [None, None]
