"""Terminal outputs (issue 10 §2): exact CSV / JSON, readable tables, every table command has
`--format json`, and a closed stdout ends quietly."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from argparse import Namespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcsim.cli import COMMAND_MODULES, build_parser, main
from dcsim.tables import human_bytes, human_cell, render_table

numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e16, max_value=1e16).map(float),
    st.integers(-(2**62), 2**62).map(np.int64),
    st.floats(allow_nan=False, allow_infinity=False).map(np.float64),
)


def _same(read_back, value) -> bool:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and math.isnan(value):
        return read_back is None
    return read_back == value and type(read_back) in (int, float)


@given(st.lists(numbers, min_size=1, max_size=8))
def test_csv_cells_read_back_as_exactly_the_computed_numbers(values):
    rows = [{"name": f"r{i}", "value": v} for i, v in enumerate(values)]
    parsed = list(csv.DictReader(io.StringIO(render_table(rows, "csv"))))
    for row, value in zip(parsed, values, strict=True):
        value = value.item() if isinstance(value, np.generic) else value
        cell = row["value"]
        if isinstance(value, float) and math.isnan(value):
            assert cell == ""
        elif isinstance(value, int):
            assert int(cell) == value and "e" not in cell and "." not in cell
        else:
            assert float(cell) == value
            if math.isfinite(value) and value == int(value):
                assert cell == str(int(value))  # an integral float is written as an integer


@given(st.lists(numbers, min_size=1, max_size=8))
def test_json_values_read_back_as_exactly_the_computed_numbers(values):
    rows = [{"value": v} for v in values]
    parsed = json.loads(render_table(rows, "json"))
    for row, value in zip(parsed, values, strict=True):
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, float) and not math.isfinite(value):
            assert row["value"] is None  # JSON has no NaN or infinity
        else:
            assert _same(row["value"], value)


def test_counts_are_integers_in_every_format():
    rows = [{"cycles": 1087217, "events": 1087217.0, "ratio": 0.9656158178256611}]
    assert render_table(rows, "csv").splitlines()[1] == "1087217,1087217,0.9656158178256611"
    assert json.loads(render_table(rows, "json")) == [
        {"cycles": 1087217, "events": 1087217, "ratio": 0.9656158178256611}
    ]
    table = render_table(rows, "table").splitlines()[2]
    assert table.split() == ["1,087,217", "1,087,217", "0.965616"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1087217, "1,087,217"),
        (1087217.0, "1,087,217"),
        (123456789012.0, "123,456,789,012"),
        (9858.9375, "9,858.94"),
        (12.762500000000001, "12.7625"),
        (0.5, "0.5"),
        (0.00038373264, "0.000383733"),
        (5.9392e-05, "5.939e-05"),
        (float("nan"), ""),
        (float("inf"), "inf"),
        (np.int64(40960), "40,960"),
        (True, "true"),
        ((64, 3, 11, 11), "64x3x11x11"),
    ],
)
def test_human_cells(value, text):
    assert human_cell(value) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(512, "512 B"), (8_793_080, "8.79 MB"), (999_999, "1.00 MB"), (1.2e9, "1.20 GB")],
)
def test_human_bytes(size, text):
    assert human_bytes(size) == text


def test_every_table_command_offers_json_and_csv():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name in COMMAND_MODULES:
        if name in ("sweep", "report"):  # they write files, not a table
            continue
        formats = next(a for a in subparsers.choices[name]._actions if a.dest == "format")
        # every one: table, csv and json; validate also markdown (for documentation)
        extra = {"markdown"} if name == "validate" else set()
        assert set(formats.choices) == {"table", "csv", "json"} | extra, name


def test_simulate_csv_and_json_carry_the_computed_values_exactly(capsys):
    from dcsim.commands.simulate import fc_rows

    argv = ["simulate", "--fc", "300", "200", "--weight-density", "0.1", "--act-density", "0.4"]
    args = Namespace(
        arch="eie", fc=[300, 200], weight_density=0.1, act_density=0.4, seed=0, model="cycle"
    )
    (computed,) = fc_rows(args)
    assert main([*argv, "--format", "csv"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert main([*argv, "--format", "json"]) == 0
    (as_json,) = json.loads(capsys.readouterr().out)
    for key, value in computed.items():
        if isinstance(value, str):
            assert row[key] == as_json[key] == value
        else:
            assert float(row[key]) == value and as_json[key] == value, key


def test_storage_json_matches_the_accounting(tmp_path, capsys):
    from compression import compress_network
    from workloads import get_network

    recipe = tmp_path / "r.toml"
    recipe.write_text('name = "r"\ndensity = 0.1\nweight_bits = 4\n')
    assert main(["storage", "lenet-300-100", "--recipe", str(recipe), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    expected = compress_network(get_network("lenet-300-100"), str(recipe)).storage_rows()
    assert [{k: r[k] for k in e} for r, e in zip(rows, expected, strict=True)] == [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in e.items()}
        for e in expected
    ]
    assert {r["n_pe"] for r in rows} == {64}


def test_a_closed_stdout_ends_quietly_with_status_0(tmp_path):
    """`dcsim … | head -1`: the reader is gone before dcsim writes (it takes a second to
    import), so the write fails with EPIPE; dcsim must exit 0 without a word on stderr."""
    env = {k: v for k, v in os.environ.items() if k != "DCSIM_DEBUG"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcsim.cli", "layers", "vgg16", "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    proc.stdout.close()  # like `head -1` exiting
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert err == b""


def test_head_of_a_real_shell_pipeline(tmp_path):
    """The issue's own reproduction, `dcsim energy-table | head -1` through a real shell pipe,
    with the pipeline's status of the dcsim side."""
    command = (
        f"{sys.executable} -m dcsim.cli energy-table --arch edge-16 | head -1; "
        'echo "status=${PIPESTATUS[0]}"'
    )
    proc = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["action", "component", "energy_pj"]
    assert lines[-1] == "status=0"
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_warning_reaches_the_user_as_one_line(monkeypatch, capsys):
    """A warning raised inside a command (e.g. the workbook's cells written as values) prints as
    `dcsim: warning: …` on one line, not as Python's file:line with the source line."""
    import argparse
    import warnings

    from dcsim import cli

    def command(args):
        warnings.warn("write_xlsx: 3 cells\nwritten as plain values", stacklevel=1)
        return 0

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=command, command="demo")
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == 0
    err = capsys.readouterr().err
    assert err == "dcsim: warning: write_xlsx: 3 cells written as plain values\n"
