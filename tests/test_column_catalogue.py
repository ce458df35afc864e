"""Every column a real sweep writes is in the catalogue, with a unit and a meaning; the units
sheet lists them all; one header style; model_bytes is the on-chip format, not the container."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from dcsim.config import parse_config
from dcsim.sweep import run_sweep
from reports.columns import COLUMNS, NO_UNIT, column_info, header, label
from reports.formatting import format_bytes, format_number, format_value

RECIPE = 'name = "flat"\ndensity = 0.2\nweight_bits = 4\n'


@pytest.fixture(scope="module", params=["cycle", "analytical"])
def sweep(request, tmp_path_factory):
    """A small real sweep (synthetic LeNet-300-100, 8- and 2-bit fc, two accelerators)."""
    tmp = tmp_path_factory.mktemp(f"catalogue-{request.param}")
    recipe = tmp / "flat.toml"
    recipe.write_text(RECIPE)
    config = parse_config(
        {
            "name": "catalogue",
            "networks": [{"network": "lenet-300-100"}],
            "grid": {
                "density_profile": str(recipe),
                "density_scale": 0.5,
                "fc_bits": [8, 2],
                "accelerator": ["eie", "edge-16"],
            },
            "sim_model": request.param,
        }
    )
    results = run_sweep(config, tmp / "out", progress=False)
    return results, tmp / "out"


def test_every_written_column_is_catalogued(sweep):
    results, _ = sweep
    assert (results.loc[results["row_type"] == "total", "status"] == "ok").all()
    for column in results.columns:
        info = column_info(column)
        assert info.meaning and info.meaning != "(not in the catalogue)", column
        assert info.unit, column  # a unit, or explicitly dimensionless (NO_UNIT)
        if info.kind in ("int", "float", "fraction"):
            assert info.unit not in ("text", "true/false", "JSON"), column
        else:
            assert info.unit in NO_UNIT, column
    static = [c for c in results.columns if not c.startswith(("events_", "energy_"))]
    assert set(static) - {"energy_mj"} <= set(COLUMNS)


def test_units_sheet_lists_every_column_with_one_header_style(sweep):
    results, out = sweep
    wb = openpyxl.load_workbook(out / "results.xlsx")
    rows = list(wb["units"].iter_rows(values_only=True))
    assert list(rows[0]) == ["column", "header", "unit", "meaning"]
    by_column = {r[0]: r for r in rows[1:]}
    assert list(by_column) == list(results.columns)
    for column, (_, head, unit, meaning) in by_column.items():
        assert head == header(column) and "_" not in head, column
        assert unit and meaning, column
        if column.startswith("events_"):
            assert "One event is: " in meaning, column  # from the energy table's unit
    assert "One event is: 64-bit word" in by_column["events_sparse_sram_read"][3]
    for sheet in ("summary", "per_layer"):
        heads = next(wb[sheet].iter_rows(values_only=True))
        assert all("_" not in h for h in heads), heads
        assert set(heads) <= {r[1] for r in rows[1:]}
    et = list(wb["energy_table"].iter_rows(values_only=True))
    one_event = et[0].index("one event is")
    assert all(r[one_event] for r in et[1:])


def test_sizes_mean_what_the_catalogue_says(sweep):
    results, _ = sweep
    layers = results[results["row_type"] == "layer"]
    totals = results[results["row_type"] == "total"]
    # model_bytes is the on-chip format: sparse-matrix words + pointers, not the container
    pd.testing.assert_series_equal(
        layers["model_bytes"].astype(float),
        (layers["sparse_sram_need_bytes"] + layers["pointer_sram_need_bytes"]).astype(float),
        check_names=False,
    )
    assert (results["model_bytes"] != results["container_bytes"]).all()
    assert "container" in COLUMNS["model_bytes"].meaning and "pointer" in (
        COLUMNS["model_bytes"].meaning
    )
    # onchip_bytes is the weight SRAM: sparse-matrix + pointer capacity
    pd.testing.assert_series_equal(
        results["onchip_bytes"].astype(float),
        (results["sparse_sram_capacity_bytes"] + results["pointer_sram_capacity_bytes"]).astype(
            float
        ),
        check_names=False,
    )
    for _, total in totals.iterrows():
        overflowing = [
            name
            for name, memory in (
                ("sparse-matrix SRAM", "sparse_sram"),
                ("pointer SRAM", "pointer_sram"),
                ("activation storage", "activation"),
            )
            if total[f"{memory}_need_bytes"] > total[f"{memory}_capacity_bytes"]
        ]
        assert total["overflow"] == "; ".join(overflowing)
        assert bool(total["fits_onchip"]) == (not overflowing)
        assert bool(total["codebook_fits"]) == (total["fc_bits"] <= 4)


def test_headers_and_human_numbers():
    assert header("latency_ms") == "latency (ms)"
    assert header("energy_mac_mj") == "mac energy (mJ)"
    assert header("events_mac") == "mac events"
    assert header("fits_onchip") == "fits on chip"
    assert header("model_bytes") == "model size on chip (bytes)"
    assert label("sparse_sram_need_bytes") == "sparse-matrix SRAM need"
    assert format_bytes(8_793_080) == "8.79 MB"
    assert format_bytes(512) == "512 B" and format_bytes(1_000_000) == "1 MB"
    assert format_value("model_bytes", 8.79308e06) == "8.79 MB"
    assert format_value("cycles", 1_087_217.0) == "1,087,217"
    assert format_value("top1", 0.9711) == "97.1 %"
    assert format_value("fits_onchip", False) == "no"
    assert format_value("latency_ms", float("nan")) == "—"
    assert format_number(1.08722e06) == "1,087,220" and format_number(0.000123456) == "0.0001235"
    for value in (1e-9, 3.2e12, 123456789.0, 0.5):
        assert "e" not in format_number(value)
