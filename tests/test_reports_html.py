"""reports.html_report: the self-contained report renders (also in headless Chromium)."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from reports_fixtures import make_meta, make_results

from reports import build_report, write_report
from reports.best_point import best_points
from reports.figures import ok_totals, pareto_mask

# in page order: the trade-off at a glance comes first, after the summary
FIGURE_IDS = [
    "tradeoff",
    "knees",
    "pareto-energy-latency",
    "pareto-latency",
    "pareto-energy",
    "pareto-size",
    "heatmap-latency",
    "heatmap-energy",
    "heatmap-size",
    "heatmap-accuracy",
    "layer-breakdown",
    "load-balance",
    "footprint",
    "energy-area",
]


def _no_accuracy():
    df = make_results()
    for c in ["top1", "top5", "retrieval_map", "precision_at_10"]:
        df[c] = math.nan
    df["accuracy_source"] = df["accuracy_source"].where(df["row_type"] != "total", "not measured")
    meta = make_meta()
    meta["retrieval"] = []
    meta["validation"] = []
    return df, meta


def _figure_ids(page: str) -> list[str]:
    return re.findall(r'data-figure="([^"]+)"', page)


def test_report_has_every_figure_and_table():
    page = build_report(make_results(), make_meta())
    assert _figure_ids(page) == FIGURE_IDS
    assert page.count("Plotly.newPlot(") == len(FIGURE_IDS)
    # self-contained: plotly.js inlined once, nothing fetched
    assert page.count("<script") == 1 + len(FIGURE_IDS)
    assert not re.search(r"<script[^>]+src=", page)
    assert page.count('<img src="data:image/png;base64,') == 11  # query + 5 dense + 5 compressed
    for section in [
        "Validation",
        "Energy reference table",
        "Area table",
        "Energy vs area",
        "Sweep configuration",
        "Failed points",
    ]:
        assert section in page
    failed = page[page.index('id="sec-failed"') :]
    assert "p999" in failed and "leaves conv1 with no weights" in failed
    assert "Alex-6 cycles" in page and "Horowitz ISSCC 2014" in page
    assert "2026-11-28T12:00:00+00:00" in page


def test_report_deterministic_and_atomic(tmp_path):
    a = write_report(make_results(), make_meta(), tmp_path / "a" / "report.html").read_text()
    b = build_report(make_results(), make_meta())
    assert a == b
    assert not list((tmp_path / "a").glob("*.tmp"))


def test_report_without_accuracy_says_so():
    df, meta = _no_accuracy()
    page = build_report(df, meta)
    assert _figure_ids(page) == FIGURE_IDS
    # 3 Pareto fronts + accuracy heatmap + trade-off and knee figures
    assert page.count("accuracy not measured") >= 6
    assert "no retrieval examples" in page


def test_report_with_only_failed_points():
    df = make_results()
    df = df[df["point_id"] == "p999"]
    page = build_report(df, {})
    assert _figure_ids(page) == FIGURE_IDS
    assert "0 design points ran, 1 failed" in page


def test_pareto_mask_and_best_points():
    x = np.array([1.0, 2.0, 3.0, 2.0, np.nan, 0.5])
    y = np.array([0.5, 0.9, 0.95, 0.7, 1.0, 0.5])
    assert pareto_mask(x, y).tolist() == [False, True, True, False, False, True]
    totals = ok_totals(make_results())
    best = best_points(totals)
    assert best["network"].tolist() == ["alexnet-digits", "alexnet-caffe"]  # one per network
    pid = best["point_id"].iloc[0]
    rec = totals[totals["point_id"] == pid].iloc[0]
    assert best["meets_target"].iloc[0] and bool(rec["meets_target"])
    digits = totals[(totals["network"] == "alexnet-digits") & totals["meets_target"].astype(bool)]
    within = digits[digits["top1"] >= digits["top1"].max() - 0.01]
    assert rec["energy_mj"] == within["energy_mj"].min()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _reduced_webgl_table(tmp_path, monkeypatch):
    """A sweep large enough (with the limits lowered) to draw a reduced cloud with WebGL."""
    from synthetic_tables import synthetic_meta, write_synthetic_results

    from reports import figures, report_scan

    monkeypatch.setattr(report_scan, "CLOUD_POINTS", 150)
    monkeypatch.setattr(figures, "WEBGL_POINTS", 50)
    parquet = write_synthetic_results(tmp_path / "r.parquet", 600, n_layers=3, seed=7)
    return parquet, synthetic_meta()


@pytest.mark.parametrize("variant", ["full", "no-accuracy", "webgl"])
def test_report_renders_in_headless_chromium(tmp_path, variant, monkeypatch):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium is not installed (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    if variant == "webgl":
        df, meta = _reduced_webgl_table(tmp_path, monkeypatch)
    else:
        df, meta = (make_results(), make_meta()) if variant == "full" else _no_accuracy()
    path = write_report(df, meta, tmp_path / "report.html")
    page = path.read_text()
    assert ('"type":"scattergl","x' in page) == (variant == "webgl")
    # WebGL without a GPU: Chromium's software renderer (SwiftShader)
    gpu = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        *(gpu if variant == "webgl" else ["--disable-gpu"]),
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        "--dump-dom",
        path.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    dom, log = proc.stdout, proc.stderr
    assert proc.returncode == 0, log[-3000:]
    console = [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    errors = [line for line in console if re.search(r"Uncaught|Error|error", line)]
    assert not errors, "\n".join(errors)
    rendered = re.findall(r'<div id="([^"]+)" class="plotly-graph-div js-plotly-plot"', dom)
    assert rendered == FIGURE_IDS
    assert dom.count('class="main-svg"') >= len(FIGURE_IDS)


def test_hostile_labels_stay_escaped_while_hover_line_breaks_are_plain():
    """Hover markup (`<br>`, `<b>`) is written as itself (a quarter of plotly's escaped bytes),
    but a label that would close the script or open a tag stays escaped."""
    df = make_results()
    hostile = "net</script><script>alert(1)</script><!--"
    df["network"] = df["network"].where(df["network"] != df["network"].iloc[0], hostile)
    page = build_report(df, make_meta())
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
    assert len(scripts) == 1 + len(FIGURE_IDS)  # no script closed early, none injected
    assert "<script>alert(1)" not in page and "</script><script>" not in page
    assert "<!--" not in "".join(scripts[1:])
    figures = "".join(scripts[1:])
    assert "<br>" in figures and "\\u003cbr\\u003e" not in figures
