"""Bad input, every command (issue 10 §6): exit status 2, one line on stderr naming the field
or file, no traceback, nothing left behind.

Each case runs `dcsim` in-process (`dcsim.cli.main`) in a folder of prepared inputs, and the
folder must hold exactly the same files afterwards (no output, no hidden temp file, no empty
`points/`). A handful of cases also run as real processes, to prove "no traceback" end to end
through the console entry point.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from dcsim.cli import main

FLAT_RECIPE = 'name = "flat"\ndensity = 0.2\nweight_bits = 4\n'
LENET = '[[networks]]\nnetwork = "lenet-300-100"\n'


def _bomb_png() -> bytes:
    """A PNG whose header claims 60000×60000 pixels (PIL's decompression-bomb limit is 179 M)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def _sweep(grid: str = "fc_bits = [4, 2]\n", head: str = "", network: str = LENET) -> str:
    return f'{head}{network}[grid]\ndensity_profile = "flat.toml"\n{grid}'


def _huge_grid() -> str:
    axes = {
        "density_scale": [round(0.1 * k, 1) for k in range(1, 11)],
        "conv_bits": list(range(1, 11)),
        "fc_bits": list(range(1, 11)),
        "n_pe": list(range(1, 11)),
        "fifo_depth": list(range(1, 11)),
        "clock_mhz": [100.0 * k for k in range(1, 11)],
        "sram_per_pe_kb": [16.0 * k for k in range(1, 11)],
    }
    return "".join(f"{key} = {json.dumps(values)}\n" for key, values in axes.items())


# name -> file content (str: UTF-8 text; bytes: raw) for the inputs every case may use
INPUT_FILES: dict[str, str | bytes] = {
    "flat.toml": FLAT_RECIPE,
    "sparse.toml": 'name = "sparse"\ndensity = 0.01\nweight_bits = 2\n',  # quick to compress
    "nan-recipe.toml": 'name = "nan"\ndensity = nan\nweight_bits = 4\n',
    "latin1-recipe.toml": b'name = "caf\xe9"\ndensity = 0.2\nweight_bits = 4\n',
    "arch-big.toml": "n_pe = 1000000000\n",
    "arch-clock-inf.toml": "clock_hz = inf\n",
    "arch-clock-nan.toml": "clock_hz = nan\n",
    "arch-bandwidth-inf.toml": "dram_bandwidth_bytes_per_s = inf\n",
    "arch-dram-inf.toml": "dram_energy_j_per_bit = inf\n",
    "arch-empty.toml": "",
    "config-empty.toml": "",
    "config-latin1.toml": b"name = 'd\xe9faut'\n" + LENET.encode(),
    "config-sram-inf.toml": _sweep("sram_per_pe_kb = [64.0, inf]\n"),
    "config-clock-inf.toml": _sweep("clock_mhz = inf\n"),
    "config-target-inf.toml": _sweep(head="target_fps = inf\n"),
    "config-empty-grid.toml": LENET + "[grid]\n",
    "config-no-points.toml": LENET,
    "config-huge.toml": _sweep(_huge_grid()),
    "config-npe.toml": _sweep("n_pe = [16, 1000000000]\n"),
    "config-big-arch.toml": _sweep('accelerator = "arch-big.toml"\n'),
    "config-missing-profile.toml": LENET + '[grid]\ndensity_profile = "absent.toml"\n',
    "config-missing-data.toml": _sweep(
        network='[[networks]]\nnetwork = "alexnet"\nweights = "flat.toml"\ndata = "no-such-dir"\n'
    ),
    "config-missing-weights.toml": _sweep(
        network='[[networks]]\nnetwork = "alexnet"\nweights = "absent.pt"\n'
    ),
    "config-4-points.toml": _sweep("fc_bits = [5, 4, 3, 2]\n"),
    "a-file": "not a folder\n",
}

# (case id, argv, fragment that stderr must contain)
CASES: list[tuple[str, list[str], str]] = [
    ("storage --pe 10^9", ["storage", "alexnet-caffe", "--recipe", "paper", "--pe", "1000000000"],
     "n_pe=1000000000 is invalid"),
    ("simulate --fc 10^6 10^6 cycle",
     ["simulate", "--fc", "1000000", "1000000", "--weight-density", "0.1", "--act-density", "0.3"],
     "weights=1000000000000 is invalid"),
    ("simulate --fc 10^6 10^6 analytical",
     ["simulate", "--fc", "1000000", "1000000", "--weight-density", "0.1", "--act-density", "0.3",
      "--model", "analytical"],
     "weights=1000000000000 is invalid"),
    ("accelerator n_pe 10^9, cycle",
     ["simulate", "--fc", "100", "100", "--weight-density", "0.1", "--act-density", "0.3",
      "--arch", "arch-big.toml"],
     "n_pe=1000000000 is invalid"),
    ("accelerator n_pe 10^9, analytical",
     ["simulate", "lenet-300-100", "--recipe", "flat.toml", "--arch", "arch-big.toml",
      "--model", "analytical"],
     "n_pe=1000000000 is invalid"),
    ("accelerator clock_hz = inf",
     ["simulate", "--fc", "100", "100", "--weight-density", "0.1", "--act-density", "0.3",
      "--arch", "arch-clock-inf.toml"],
     "clock_hz=inf is invalid"),
    ("accelerator clock_hz = nan", ["energy-table", "--arch", "arch-clock-nan.toml"],
     "clock_hz=nan is invalid"),
    ("accelerator dram bandwidth inf", ["energy-table", "--arch", "arch-bandwidth-inf.toml"],
     "dram_bandwidth_bytes_per_s=inf is invalid"),
    ("accelerator dram energy inf", ["energy-table", "--arch", "arch-dram-inf.toml"],
     "dram_energy_j_per_bit=inf is invalid"),
    ("empty accelerator file", ["energy-table", "--arch", "arch-empty.toml"],
     "arch-empty.toml' is empty"),
    ("accelerator is a directory", ["energy-table", "--arch", "a-dir.toml"],
     "a-dir.toml' is a directory"),
    ("simulate --weight-density nan",
     ["simulate", "--fc", "100", "100", "--weight-density", "nan", "--act-density", "0.3"],
     "density=nan is invalid"),
    ("simulate --act-density inf",
     ["simulate", "--fc", "100", "100", "--weight-density", "0.1", "--act-density", "inf"],
     "density=inf is invalid"),
    ("simulate --act-density nan, network",
     ["simulate", "lenet-300-100", "--recipe", "flat.toml", "--act-density", "nan"],
     "nan is invalid"),
    ("recipe with density = nan", ["storage", "lenet-300-100", "--recipe", "nan-recipe.toml"],
     "density=nan is invalid"),
    ("recipe not UTF-8", ["storage", "lenet-300-100", "--recipe", "latin1-recipe.toml"],
     "latin1-recipe.toml' is not UTF-8 text"),
    ("recipe is a directory", ["storage", "lenet-300-100", "--recipe", "a-dir.toml"],
     "a-dir.toml' is a directory"),
    ("weights is a directory",
     ["storage", "lenet-300-100", "--recipe", "flat.toml", "--weights", "a-dir.toml"],
     "weights file 'a-dir.toml' is a directory"),
    ("inspect a directory", ["inspect", "a-dir.toml"], "container 'a-dir.toml' is a directory"),
    ("inspect a resealed container with a control character in a name",
     ["inspect", "tampered.dcz"], "the network name"),
    ("compress --out is a directory",
     ["compress", "lenet-300-100", "--recipe", "flat.toml", "--out", "a-dir.toml"],
     "--out 'a-dir.toml' is a directory"),
    ("compress --out in a missing folder",
     ["compress", "lenet-300-100", "--recipe", "flat.toml", "--out", "missing/m.dcz"],
     "--out 'missing/m.dcz' is in 'missing', which is not an existing folder"),
    ("sweep sram_per_pe_kb = inf", ["sweep", "config-sram-inf.toml", "--out", "out"],
     "sram_per_pe_kb=inf is invalid"),
    ("sweep clock_mhz = inf", ["sweep", "config-clock-inf.toml", "--out", "out"],
     "clock_mhz=inf is invalid"),
    ("sweep target_fps = inf", ["sweep", "config-target-inf.toml", "--out", "out"],
     "target_fps=inf is invalid"),
    ("sweep empty [grid]", ["sweep", "config-empty-grid.toml", "--out", "out"],
     "config grid={} is invalid"),
    ("sweep with neither grid nor points", ["sweep", "config-no-points.toml", "--out", "out"],
     "defines no design points"),
    ("sweep empty config file", ["sweep", "config-empty.toml", "--out", "out"],
     "config-empty.toml' is empty"),
    ("sweep config not UTF-8", ["sweep", "config-latin1.toml", "--out", "out"],
     "config-latin1.toml' is not UTF-8 text"),
    ("sweep config is a directory", ["sweep", "a-dir.toml", "--out", "out"],
     "config 'a-dir.toml' is a directory"),
    ("sweep grid of 10^7 points", ["sweep", "config-huge.toml", "--out", "out"],
     "defines 10,000,000 design points; allowed: at most 100,000"),
    ("sweep --max-points", ["sweep", "config-4-points.toml", "--out", "out", "--max-points", "3"],
     "defines 4 design points; allowed: at most 3"),
    ("sweep n_pe 10^9", ["sweep", "config-npe.toml", "--out", "out"],
     "n_pe=1000000000 is invalid"),
    ("sweep accelerator file n_pe 10^9", ["sweep", "config-big-arch.toml", "--out", "out"],
     "n_pe=1000000000 is invalid"),
    ("sweep missing density profile", ["sweep", "config-missing-profile.toml", "--out", "out"],
     "absent.toml' does not exist"),
    ("sweep missing data folder", ["sweep", "config-missing-data.toml", "--out", "out"],
     "data folder 'no-such-dir' does not exist"),
    ("sweep missing weights file", ["sweep", "config-missing-weights.toml", "--out", "out"],
     "weights file 'absent.pt' does not exist"),
    ("sweep --out is a file", ["sweep", "config-4-points.toml", "--out", "a-file"],
     "sweep --out 'a-file' is a file, not a folder"),
    ("sweep bad scheduler address",
     ["sweep", "config-4-points.toml", "--out", "out", "--scheduler", "foo://bar:1"],
     "scheduler='foo://bar:1' cannot be reached"),
    ("sweep --workers 0", ["sweep", "config-4-points.toml", "--out", "out", "--workers", "0"],
     "workers=0 is invalid"),
    ("report run.json is []", ["report", "report-list-meta"], "is not a sweep's run.json"),
    ("report results without rows", ["report", "report-no-rows"], "holds no rows"),
    ("report results with wrong columns", ["report", "report-wrong-columns"],
     "lacks the column(s) point_id"),
    ("report on a file", ["report", "a-file"], "report folder 'a-file' is a file, not a folder"),
    ("unknown network", ["layers", "resnet-9000"], "resnet-9000"),
    ("unknown format", ["layers", "lenet-5", "--format", "xml"], "invalid choice: 'xml'"),
    ("not a number", ["simulate", "--fc", "ten", "10"], "invalid int value: 'ten'"),
    ("unknown validation check", ["validate", "--check", "nope"], "nope"),
]  # fmt: skip

# Cases whose bad input sits behind a real AlexNet (a 244 MB state_dict written once).
ALEXNET_CASES: list[tuple[str, list[str], str]] = [
    ("compress --data with a decompression bomb",
     ["compress", "alexnet", "--weights", "alexnet.pt", "--data", "bomb-data", "--recipe",
      "sparse.toml", "--out", "m.dcz"],
     "bomb.png' is too large to decode"),
    ("validate --data with a decompression bomb",
     ["validate", "--weights", "alexnet.pt", "--data", "bomb-data", "--images", "1"],
     "bomb.png' is too large to decode"),
]  # fmt: skip


@pytest.fixture(scope="module")
def sweep_output(tmp_path_factory) -> Path:
    """A real, small sweep output folder, to damage copies of."""
    work = tmp_path_factory.mktemp("good-sweep")
    (work / "flat.toml").write_text(FLAT_RECIPE)
    (work / "sweep.toml").write_text(
        _sweep("fc_bits = 4\n").replace("flat.toml", str(work / "flat.toml"))
    )
    assert main(["sweep", str(work / "sweep.toml"), "--out", str(work / "out"), "--quiet"]) == 0
    return work / "out"


@pytest.fixture(scope="module")
def tampered_container(tmp_path_factory) -> bytes:
    from compression import compress_network
    from compression.container import serialize
    from workloads import get_network

    work = tmp_path_factory.mktemp("container")
    (work / "flat.toml").write_text(FLAT_RECIPE)
    network = compress_network(get_network("lenet-300-100"), str(work / "flat.toml"), n_pe=4)
    blob = bytearray(serialize(network)[0][:-32])
    blob[blob.index(b"lenet-300-100") + 5] = 0x01  # a control character in the network name
    return bytes(blob) + hashlib.sha256(bytes(blob)).digest()


@pytest.fixture(scope="module")
def alexnet_weights(tmp_path_factory) -> Path:
    import torch

    from workloads.torch_models import build_model

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("alexnet") / "alexnet.pt"
    torch.save(build_model("alexnet").state_dict(), path)
    return path


@pytest.fixture
def work(tmp_path, monkeypatch, sweep_output, tampered_container) -> Path:
    """A folder with every input of the cases; the cases run inside it."""
    import pandas as pd

    for name, content in INPUT_FILES.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (tmp_path / "a-dir.toml").mkdir()
    (tmp_path / "tampered.dcz").write_bytes(tampered_container)
    for name in ("report-list-meta", "report-no-rows", "report-wrong-columns"):
        shutil.copytree(sweep_output, tmp_path / name, ignore=shutil.ignore_patterns("units"))
    (tmp_path / "report-list-meta" / "run.json").write_text("[]")
    results = pd.read_parquet(sweep_output / "results.parquet")
    results.iloc[:0].to_parquet(tmp_path / "report-no-rows" / "results.parquet")
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "report-wrong-columns" / "results.parquet")
    (tmp_path / "bomb-data" / "n01").mkdir(parents=True)
    (tmp_path / "bomb-data" / "n01" / "bomb.png").write_bytes(_bomb_png())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DCSIM_DEBUG", raising=False)
    return tmp_path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
        for p in sorted(folder.rglob("*"))
    }


def _check_one_line_error(code: int, err: str, fragment: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dcsim") and ": error: " in lines[0], err
    assert fragment in lines[0], err


@pytest.mark.parametrize(("argv", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_exit_2_one_line_and_leaves_nothing(work, capsys, argv, fragment):
    before = _snapshot(work)
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    captured = capsys.readouterr()
    _check_one_line_error(code, captured.err, fragment)
    assert _snapshot(work) == before  # no output, no temp file, no empty folder


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "fragment"), [c[1:] for c in ALEXNET_CASES], ids=[c[0] for c in ALEXNET_CASES]
)
def test_bad_images_behind_real_weights(work, capsys, alexnet_weights, argv, fragment):
    (work / "alexnet.pt").symlink_to(alexnet_weights)
    before = _snapshot(work)
    code = main(argv)
    _check_one_line_error(code, capsys.readouterr().err, fragment)
    assert _snapshot(work) == before


SUBPROCESS_CASES = [
    "storage --pe 10^9",
    "simulate --fc 10^6 10^6 cycle",
    "sweep grid of 10^7 points",
    "inspect a resealed container with a control character in a name",
    "report run.json is []",
    "unknown format",
]


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process_has_no_traceback(work, case):
    argv, fragment = next(c[1:] for c in CASES if c[0] == case)
    before = _snapshot(work)
    proc = subprocess.run(
        [sys.executable, "-m", "dcsim.cli", *argv],
        capture_output=True,
        text=True,
        cwd=work,
        check=False,
        timeout=300,
    )
    assert proc.stdout == ""
    _check_one_line_error(proc.returncode, proc.stderr, fragment)
    assert _snapshot(work) == before


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"prune": {"epochs": float("inf")}}, "epochs=inf is invalid"),
        ({"prune": {"learning_rate": float("inf")}}, "learning_rate=inf is invalid"),
        ({"quantize": {"learning_rate": float("nan")}}, "learning_rate=nan is invalid"),
        ({"quantize": {"weight_decay": float("inf")}}, "weight_decay=inf is invalid"),
    ],
)
def test_non_finite_training_settings_in_a_recipe_are_refused(table, fragment):
    """epochs = inf used to be accepted: a retraining that never ends."""
    from compression.deep_compression import retrain_schedule
    from compression.recipe import parse_recipe

    recipe = parse_recipe({"density": 0.5, "weight_bits": 4, "training": table})
    with pytest.raises(ValueError, match=fragment):
        retrain_schedule(recipe)


def test_memory_error_is_one_line(monkeypatch, capsys):
    import dcsim.commands.layers as layers

    def exhausted(network_name):
        raise MemoryError("Unable to allocate 7.28 TiB for an array with shape (10**9, 1000)")

    monkeypatch.setattr(layers, "layer_rows", exhausted)
    assert main(["layers", "lenet-5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("dcsim: error: out of memory in `dcsim layers` (Unable to allocate")
