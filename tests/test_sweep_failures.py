"""A sweep that cannot succeed says why, at once and once; a failed point says why; nothing is
left behind; workers die with their parent (issue 10 §2, §6)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dcsim.cli import main

RECIPE = 'name = "flat"\ndensity = 0.2\nweight_bits = 4\n'


def write_sweep(tmp_path: Path, grid: dict, networks: str | None = None, extra: str = "") -> Path:
    recipe = tmp_path / "flat.toml"
    if not recipe.exists():
        recipe.write_text(RECIPE)
    grid = {"density_profile": str(recipe), **grid}
    lines = [networks or '[[networks]]\nnetwork = "lenet-300-100"', extra, "[grid]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in grid.items()]
    path = tmp_path / "sweep.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_each_failed_point_says_why_on_stderr(tmp_path, capsys):
    # density 0.2 x 6 = 1.2 > 1: the two points at scale 6 fail, the two at 0.5 succeed
    config = write_sweep(tmp_path, {"density_scale": [0.5, 6.0], "fc_bits": [4, 2]})
    assert main(["sweep", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "4 points (2 failed)" in captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line.startswith("dcsim: point ") and "failed: ValueError" in line
        assert "density (after scale)=1.2" in line and "density_scale 6.0" in line


CONFIG_PROBLEMS = {
    "missing density profile": (
        lambda tmp: {"density_profile": str(tmp / "absent.toml")},
        "absent.toml' does not exist",
    ),
    "density profile is a directory": (
        lambda tmp: {"density_profile": str(tmp / "folder.toml")},
        "folder.toml' is a directory",
    ),
    "density profile not UTF-8": (
        lambda tmp: {"density_profile": str(tmp / "latin1.toml")},
        "latin1.toml' is not UTF-8 text",
    ),
    "profile without the network's layers": (
        lambda tmp: {"density_profile": "paper"},
        "density_profile 'paper' on network 'lenet-300-100'",
    ),
    "empty accelerator file": (
        lambda tmp: {"accelerator": str(tmp / "empty-arch.toml")},
        "empty-arch.toml' is empty",
    ),
    "non-finite accelerator": (
        lambda tmp: {"accelerator": str(tmp / "inf-arch.toml")},
        "clock_hz=inf is invalid",
    ),
    "accelerator file not TOML": (
        lambda tmp: {"accelerator": str(tmp / "bad-arch.toml")},
        "bad-arch.toml' is not valid TOML",
    ),
}


@pytest.mark.parametrize("problem", sorted(CONFIG_PROBLEMS))
def test_what_would_fail_every_point_stops_the_sweep_before_any_work(tmp_path, capsys, problem):
    (tmp_path / "folder.toml").mkdir()
    (tmp_path / "latin1.toml").write_bytes(b"density = 0.5 # \xe9\n")
    (tmp_path / "empty-arch.toml").write_text("")
    (tmp_path / "inf-arch.toml").write_text("clock_hz = inf\n")
    (tmp_path / "bad-arch.toml").write_text("n_pe = = 4\n")
    grid_of, fragment = CONFIG_PROBLEMS[problem]
    config = write_sweep(tmp_path, {"fc_bits": [4, 2], **grid_of(tmp_path)})
    out = tmp_path / "out"
    assert main(["sweep", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dcsim: error: ") and fragment in err, err
    assert not out.exists()  # stopped before creating anything


@pytest.mark.parametrize(
    ("network", "fragment"),
    [
        (
            '[[networks]]\nnetwork = "alexnet"\nweights = "WEIGHTS"\n',
            "weights file 'WEIGHTS' does not exist",
        ),
        (
            '[[networks]]\nnetwork = "alexnet"\nweights = "FILE"\ndata = "DATA"\n',
            "data folder 'DATA' does not exist",
        ),
    ],
)
def test_missing_weights_or_data_stop_the_sweep_up_front(tmp_path, capsys, network, fragment):
    weights = tmp_path / "alexnet.pt"
    weights.write_bytes(b"not read before the data folder is checked")
    network = network.replace("WEIGHTS", str(tmp_path / "absent.pt")).replace("FILE", str(weights))
    network = network.replace("DATA", str(tmp_path / "no-data"))
    fragment = fragment.replace("WEIGHTS", str(tmp_path / "absent.pt"))
    fragment = fragment.replace("DATA", str(tmp_path / "no-data"))
    config = write_sweep(tmp_path, {"fc_bits": 4}, networks=network)
    out = tmp_path / "out"
    assert main(["sweep", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err
    assert not out.exists()


def test_a_bad_scheduler_address_leaves_no_folder_behind(tmp_path, capsys):
    config = write_sweep(tmp_path, {"fc_bits": 4})
    out = tmp_path / "out"
    argv = ["sweep", str(config), "--out", str(out), "--quiet", "--scheduler", "foo://bar:1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scheduler='foo://bar:1' cannot be reached" in err
    assert not out.exists()
    out.mkdir()  # an existing (empty) output folder stays, but no points/ appears in it
    assert main(argv) == 2
    assert list(out.iterdir()) == []


def test_sweep_out_must_be_a_writable_folder(tmp_path, capsys):
    config = write_sweep(tmp_path, {"fc_bits": 4})
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for out, fragment in (
        (a_file, "is a file, not a folder"),
        (a_file / "sub", "is inside the file"),
    ):
        assert main(["sweep", str(config), "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert f"sweep --out '{out}' {fragment}" in err and err.count("\n") == 1


def test_a_rerun_removes_temp_files_left_by_a_killed_output_writer(tmp_path, capsys):
    config = write_sweep(tmp_path, {"fc_bits": 4})
    out = tmp_path / "out"
    assert main(["sweep", str(config), "--out", str(out), "--quiet"]) == 0
    stale = [".results.csv.k3j2.tmp", ".report.html.a8f1.tmp", ".results.xlsx.z.tmp"]
    for name in stale:
        (out / name).write_text("half-written")
    (out / "notes.tmp").write_text("the user's own file stays")
    assert main(["sweep", str(config), "--out", str(out), "--quiet"]) == 0
    left = sorted(p.name for p in out.iterdir())
    assert not any(name in left for name in stale)
    assert "notes.tmp" in left and "results.csv" in left
    capsys.readouterr()


REPORT_PROBLEMS = {
    "run.json is []": (
        lambda out: (out / "run.json").write_text("[]"),
        "is not a sweep's run.json",
    ),
    "run.json is not JSON": (
        lambda out: (out / "run.json").write_text("{"),
        "run.json' cannot be read",
    ),
    "no rows": (
        lambda out: (
            pd.read_parquet(out / "results.parquet").iloc[:0].to_parquet(out / "results.parquet")
        ),
        "holds no rows",
    ),
    "wrong columns": (
        lambda out: pd.DataFrame({"a": [1]}).to_parquet(out / "results.parquet"),
        "lacks the column(s) point_id, network",
    ),
    "not parquet": (
        lambda out: (out / "results.parquet").write_text("csv,really\n1,2\n"),
        "results.parquet' cannot be read",
    ),
    "missing results": (lambda out: (out / "results.parquet").unlink(), "does not exist"),
}


def test_report_refuses_damaged_sweep_folders_in_one_line(tmp_path, capsys):
    config = write_sweep(tmp_path, {"fc_bits": 4})
    good = tmp_path / "good"
    assert main(["sweep", str(config), "--out", str(good), "--quiet"]) == 0
    capsys.readouterr()
    for index, (problem, (damage, fragment)) in enumerate(sorted(REPORT_PROBLEMS.items())):
        out = tmp_path / f"damaged{index}"
        out.mkdir()
        for name in ("results.parquet", "run.json"):
            (out / name).write_bytes((good / name).read_bytes())
        damage(out)
        before = sorted(p.name for p in out.iterdir())
        assert main(["report", str(out)]) == 2, problem
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and fragment in err, (problem, err)
        assert sorted(p.name for p in out.iterdir()) == before, problem  # nothing written


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
def test_workers_exit_when_the_sweep_process_is_killed(tmp_path):
    """kill -9 of `dcsim sweep --workers 2`: its worker processes must not live on."""
    config = write_sweep(tmp_path, {"fc_bits": [4, 3, 2], "density_scale": [0.5, 1.0]})
    command = [sys.executable, "-m", "dcsim.cli", "sweep", str(config), "--out"]
    command += [str(tmp_path / "out"), "--quiet", "--workers", "2"]
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    workers: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        workers = [pid for pid in _descendants(proc.pid) if _alive(pid)]
        if len(workers) >= 2:
            break
        time.sleep(0.1)
    assert proc.poll() is None and len(workers) >= 2, "the workers never started"
    time.sleep(1.0)  # let them get busy (importing, compressing)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    orphans = [pid for pid in workers if _alive(pid)]
    for pid in orphans:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert orphans == [], "worker processes outlived the killed sweep"


def test_the_up_front_profile_check_uses_the_scales_the_points_use(tmp_path, capsys):
    """A profile whose own density_scale doubles its densities is fine at the points' scale
    0.5: the up-front check must not stop the sweep for a scale no point uses."""
    profile = tmp_path / "doubled.toml"
    profile.write_text('name = "doubled"\ndensity = 0.8\nweight_bits = 4\ndensity_scale = 2.0\n')
    config = write_sweep(tmp_path, {"density_profile": str(profile), "density_scale": 0.5})
    assert main(["sweep", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "1 points (0 failed)" in capsys.readouterr().out
