"""reports.write_outputs: the streamed outputs of a stored table equal the DataFrame path's,
are deterministic, and scale — every point in the summary, the Pareto points' layer rows in
per_layer with a note, a reduced WebGL cloud in a bounded report, the row limit honoured."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from reports_fixtures import make_meta, make_results
from synthetic_tables import synthetic_meta, write_synthetic_results

from dcsim.summary import best_points_lines
from reports import (
    build_report,
    report_scan,
    table_source,
    workbook_plan,
    write_csv,
    write_outputs,
    write_report,
    write_xlsx,
)
from reports.best_point import best_points
from reports.figure_common import ok_totals
from reports.pareto import pareto_mask

NAMES = ("results.csv", "results.xlsx", "report.html")
LARGE_POINTS = 20_000  # > CLOUD_POINTS and > PER_LAYER_ALL_ROWS / 3 layers: both reductions
# a sweep's results.parquet holds a row group per work unit (bounded in size), so the synthetic
# tables do too: then the small and the large table differ in points, not in row-group size
UNIT_POINTS = 2_000


def _dataframe_outputs(df: pd.DataFrame, meta: dict, out) -> dict[str, bytes]:
    write_csv(df, out / "results.csv")
    write_xlsx(df, meta, out / "results.xlsx")
    write_report(df, meta, out / "report.html")
    return {name: (out / name).read_bytes() for name in NAMES}


def _sheet_xml(path, title: str) -> str:
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        names = re.findall(r'<sheet name="([^"]+)"', workbook)
        return zf.read(f"xl/worksheets/sheet{names.index(title) + 1}.xml").decode()


def _column_a(xml: str) -> list[str]:
    """The text of column A below the header (the point ids)."""
    return re.findall(r'<c r="A(?:[2-9]|[1-9][0-9]+)" t="inlineStr"><is><t>([^<]*)</t>', xml)


def _webgl_traces(page: str) -> int:
    """Traces drawn with WebGL (not the template's defaults, nor the inlined plotly.js)."""
    body = page[page.index("</script></head>") :]
    return len(re.findall(r'"type":"scattergl","x', body))


# ----------------------------------------------------------------------------- equality
@pytest.fixture(scope="module")
def real_sweep(tmp_path_factory):
    """A real small sweep (lenet-300-100, analytical model, 4 points + 1 failing point)."""
    from dcsim.config import parse_config
    from dcsim.sweep import run_sweep

    tmp = tmp_path_factory.mktemp("real")
    recipe = tmp / "flat.toml"
    recipe.write_text('name = "flat"\ndensity = 0.2\nweight_bits = 4\n')
    config = parse_config(
        {
            "name": "small",
            "sim_model": "analytical",
            "networks": [{"network": "lenet-300-100"}],
            "grid": {
                "density_profile": str(recipe),
                "density_scale": 0.5,
                "fc_bits": [4, 2],
                "accelerator": ["eie", "edge-16"],
            },
            "points": [{"density_profile": str(recipe), "density_scale": 6.0}],  # fails
        }
    )
    out = tmp / "out"
    run_sweep(config, out, progress=False)
    return out / "results.parquet", json.loads((out / "run.json").read_text())


def test_real_sweep_streamed_equals_dataframe_path_and_is_deterministic(real_sweep, tmp_path):
    parquet, meta = real_sweep
    messages: list[str] = []
    paths = write_outputs(parquet, meta, tmp_path / "a", progress=messages.append)
    assert [p.name for p in paths] == list(NAMES)
    for name in NAMES:
        assert any(name in m for m in messages)  # each file is reported as it is written
    streamed = {p.name: p.read_bytes() for p in paths}
    again = {p.name: p.read_bytes() for p in write_outputs(parquet, meta, tmp_path / "b")}
    assert streamed == again
    # the workbook written by a side process (its own scan) while this one writes the rest
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as side:
        messages.clear()
        beside = write_outputs(parquet, meta, tmp_path / "d", progress=messages.append, side=side)
    assert {p.name: p.read_bytes() for p in beside} == streamed
    assert any("results.xlsx" in m and "side process" in m for m in messages)
    frame = _dataframe_outputs(pd.read_parquet(parquet), meta, tmp_path / "c")
    assert streamed == frame
    assert not list((tmp_path / "a").glob(".*.tmp"))
    # the CSV holds every row at full precision
    table = pd.read_parquet(parquet)
    back = pd.read_csv(tmp_path / "a" / "results.csv")
    assert list(back.columns) == list(table.columns) and len(back) == len(table)
    for column in table.columns:
        if table[column].dtype.kind == "f":
            original = table[column].to_numpy(float)
            text = back[column].astype(str).replace("nan", "")
            values = np.array([float(v) if v else np.nan for v in text])
            assert np.array_equal(original, values, equal_nan=True), column
    page = streamed["report.html"].decode()
    assert "4 design points ran, 1 failed" in page and "allowed" in page


def test_fixture_table_streamed_equals_dataframe_path(tmp_path):
    df = make_results()  # two networks, accuracy, a point without accuracy, a failed point
    parquet = tmp_path / "results.parquet"
    df.to_parquet(parquet, index=False)
    streamed = {p.name: p.read_bytes() for p in write_outputs(parquet, make_meta(), tmp_path)}
    assert streamed == _dataframe_outputs(pd.read_parquet(parquet), make_meta(), tmp_path / "d")
    # small sweep: per_layer keeps every layer row, the summary every point, nothing left out
    per_layer = _sheet_xml(tmp_path / "results.xlsx", "per_layer")
    assert len(_column_a(per_layer)) == int((df["row_type"] == "layer").sum())
    assert "left out" not in _sheet_xml(tmp_path / "results.xlsx", "about")
    assert _webgl_traces(streamed["report.html"].decode()) == 0  # few points: SVG


# ----------------------------------------------------------------------------- scale
_MEASURE = """
import json, sys
from reports import write_outputs
with open(sys.argv[2]) as meta:
    write_outputs(sys.argv[1], json.load(meta), sys.argv[3])
with open("/proc/self/status") as status:  # VmHWM: this process's peak, not inherited
    print([int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM")][0])
"""


def _write_in_subprocess(parquet, out) -> int:
    """write_outputs in a fresh process; returns its peak resident memory in bytes."""
    meta = Path(out).with_suffix(".json")
    meta.write_text(json.dumps(synthetic_meta()))
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(parquet), str(meta), str(out)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return int(done.stdout.split()[-1])


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("large")
    parquet = write_synthetic_results(
        tmp / "results.parquet", LARGE_POINTS, n_layers=3, chunk_points=UNIT_POINTS
    )
    peak = _write_in_subprocess(parquet, tmp / "out")
    paths = {name: tmp / "out" / name for name in NAMES}
    return parquet, paths, peak


def test_large_table_memory_does_not_grow_with_the_points(large, tmp_path):
    parquet, _, peak = large
    small = write_synthetic_results(
        tmp_path / "small.parquet", LARGE_POINTS // 5, n_layers=3, chunk_points=UNIT_POINTS
    )
    small_peak = _write_in_subprocess(small, tmp_path / "out")
    grown = pd.read_parquet(parquet).memory_usage(deep=True).sum()
    grown -= pd.read_parquet(small).memory_usage(deep=True).sum()
    # 5x the points: the table in pandas grows by `grown` bytes, the writers' peak by a
    # fraction of that (batches, the drawn sample and the fronts are bounded by constants)
    assert peak - small_peak < grown / 3, (small_peak, peak, grown)


def test_large_summary_has_every_point_and_per_layer_the_pareto_points(large):
    parquet, paths, _ = large
    table = pd.read_parquet(parquet)
    totals = table[table["row_type"] == "total"]
    summary = _column_a(_sheet_xml(paths["results.xlsx"], "summary"))
    assert summary == totals["point_id"].tolist()
    # expected: each network's fronts over the whole table (in memory) and best points
    ok = ok_totals(table)
    expected: set[str] = set(best_points(ok)["point_id"])
    for _, group in ok.groupby("network"):
        latency, energy = group["latency_ms"].to_numpy(), group["energy_mj"].to_numpy()
        expected |= set(group["point_id"][pareto_mask(latency, -energy)])
        if group["top1"].notna().any():
            for x in ("latency_ms", "energy_mj", "model_bytes"):
                mask = pareto_mask(group[x].to_numpy(), group["top1"].to_numpy())
                expected |= set(group["point_id"][mask])
    per_layer_xml = _sheet_xml(paths["results.xlsx"], "per_layer")
    per_layer = _column_a(per_layer_xml)
    layers = table[(table["row_type"] == "layer") & table["point_id"].isin(expected)]
    assert per_layer == layers["point_id"].tolist()  # exactly their rows, in table order
    assert per_layer_xml.count("<f>SUM(") == len(layers)  # live formulas kept
    summary_xml = _sheet_xml(paths["results.xlsx"], "summary")
    energy_columns = 1 + len([c for c in table.columns if re.fullmatch(r"energy_.+_mj", c)])
    assert summary_xml.count("<f>SUMIFS(") == len(expected) * energy_columns
    about = _sheet_xml(paths["results.xlsx"], "about")
    left_out = int((table["row_type"] == "layer").sum()) - len(layers)
    assert f"{left_out:,} left out" in about and "Pareto-optimal" in about


def test_large_report_draws_a_reduced_webgl_cloud_within_budget(large):
    from plotly.offline import get_plotlyjs

    _, paths, _ = large
    page = paths["report.html"].read_text()
    assert _webgl_traces(page) >= 4  # the cloud of every Pareto figure
    size = paths["report.html"].stat().st_size
    assert size - len(get_plotlyjs().encode()) < 10e6
    shown = re.search(r"([0-9,]+) of ([0-9,]+) points shown; all Pareto-optimal points", page)
    assert shown is not None
    drawn, total = (int(g.replace(",", "")) for g in shown.groups())
    assert drawn < total and total > report_scan.CLOUD_POINTS
    csv_rows = sum(1 for _ in paths["results.csv"].open()) - 1
    assert csv_rows == pq.ParquetFile(large[0]).metadata.num_rows


def test_scan_does_not_depend_on_batch_size(tmp_path, monkeypatch):
    parquet = write_synthetic_results(tmp_path / "r.parquet", 1_500, n_layers=2, seed=3)
    monkeypatch.setattr(report_scan, "CLOUD_POINTS", 300)
    reference = report_scan.scan_table(parquet)
    monkeypatch.setattr(table_source, "BATCH_ROWS", 997)
    monkeypatch.setattr(table_source, "LIGHT_BATCH_ROWS", 1_201)
    split = report_scan.scan_table(parquet)
    assert reference.sampled and split.sampled
    assert split.drawn["point_id"].tolist() == reference.drawn["point_id"].tolist()
    assert split.workbook_ids == reference.workbook_ids
    pd.testing.assert_frame_equal(split.best, reference.best)
    table = pd.read_parquet(parquet)
    pd.testing.assert_frame_equal(split.best, best_points(ok_totals(table)))
    # the terminal summary from the scan (drawn rows + picks) = from the whole table
    assert best_points_lines(split.drawn, split.best) == best_points_lines(ok_totals(table))
    for which, cells in reference.heatmaps.items():
        assert {k: v[0] for k, v in cells.cells.items()} == {
            k: v[0] for k, v in split.heatmaps[which].cells.items()
        }


def test_row_limit_keeps_the_first_points_and_says_so(tmp_path, monkeypatch):
    parquet = write_synthetic_results(tmp_path / "r.parquet", 40, n_layers=3, seed=5)
    monkeypatch.setattr(workbook_plan, "XLSX_MAX_ROWS", 11)  # header + 10 rows
    paths = {p.name: p for p in write_outputs(parquet, synthetic_meta(), tmp_path / "out")}
    table = pd.read_parquet(parquet)
    totals = table[table["row_type"] == "total"]
    summary = _column_a(_sheet_xml(paths["results.xlsx"], "summary"))
    assert summary == totals["point_id"].tolist()[:10]
    per_layer = _column_a(_sheet_xml(paths["results.xlsx"], "per_layer"))
    assert 0 < len(per_layer) <= 10 and len(per_layer) % 3 == 0  # whole points only
    about = _sheet_xml(paths["results.xlsx"], "about")
    assert f"the first 10 of {len(totals)} points" in about and "30 left out" in about
    assert "did not fit in a sheet" in about
    page = paths["report.html"].read_text()
    assert "results.xlsx, sheet summary: the first 10 of 40 points" in page


def test_build_report_accepts_a_parquet_path(tmp_path):
    df = make_results()
    df.to_parquet(tmp_path / "r.parquet", index=False)
    assert build_report(tmp_path / "r.parquet", make_meta()) == build_report(df, make_meta())


def test_row_groups_with_finds_the_groups_holding_the_points(tmp_path):
    parquet = write_synthetic_results(tmp_path / "r.parquet", 30, n_layers=2, chunk_points=10)
    source = table_source.TableSource(path=parquet)
    ids = pd.read_parquet(parquet)["point_id"].unique()  # 10 points per row group
    wanted = pa.array([ids[12], ids[15], ids[29]], pa.string())
    assert source.row_groups_with(wanted) == [1, 2]
    rows = pd.concat(
        source.frames(None, "layer", point_ids=wanted, row_groups=source.row_groups_with(wanted))
    )
    assert rows["point_id"].tolist() == [ids[12]] * 2 + [ids[15]] * 2 + [ids[29]] * 2
