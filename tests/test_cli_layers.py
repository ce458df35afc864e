"""`dcsim layers`: the table/CSV/JSON output and the unknown-network error."""

import csv
import io
import json
import subprocess
import sys

import pytest

from dcsim.cli import main


def test_layers_csv_alexnet_caffe(capsys):
    assert main(["layers", "alexnet-caffe", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == ["layer", "kind", "weight_shape", "weights", "macs", "output_shape"]
    by_layer = {r["layer"]: r for r in rows}
    assert (by_layer["conv1"]["weights"], by_layer["conv1"]["macs"]) == ("34848", "105415200")
    assert (by_layer["fc8"]["weights"], by_layer["fc8"]["macs"]) == ("4096000", "4096000")
    assert (by_layer["total"]["weights"], by_layer["total"]["macs"]) == ("60954656", "724406816")
    assert by_layer["conv2"]["weight_shape"] == "256x48x5x5"
    assert rows[-1]["layer"] == "total"


def test_layers_json_alexnet(capsys):
    assert main(["layers", "alexnet", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[-1]["weights"] == 61_090_496 and rows[-1]["macs"] == 714_188_480
    assert rows[0]["weight_shape"] == [64, 3, 11, 11]


def test_layers_table_has_total(capsys):
    assert main(["layers", "lenet-5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["layer", "kind", "weight_shape", "weights", "macs", "output_shape"]
    assert out[-1].split()[:2] == ["total", "430,500"]


def test_unknown_network_exits_2_with_one_line(capsys):
    assert main(["layers", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "known networks: alexnet-caffe, alexnet" in err


@pytest.mark.parametrize("args", [["layers", "nope"], ["layers", "lenet-5", "--format", "xml"]])
def test_console_script_errors_without_traceback(args):
    proc = subprocess.run(
        [sys.executable, "-m", "dcsim.cli", *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
