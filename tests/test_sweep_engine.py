"""The sweep engine: tidy results, resumability (also after kill -9), failures recorded, and
identical tables from serial, process and Dask execution."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dcsim.cli import main
from dcsim.config import parse_config
from dcsim.result_store import ResultStore
from dcsim.sweep import run_sweep
from dcsim.work_units import iter_units

RECIPE = 'name = "flat"\ndensity = 0.2\nweight_bits = 4\n'


def small_config(tmp_path: Path, extra_points=()) -> dict:
    recipe = tmp_path / "flat.toml"
    recipe.write_text(RECIPE)
    extra_points = [{"density_profile": str(recipe), **p} for p in extra_points]
    return {
        "name": "small",
        "networks": [{"network": "lenet-300-100"}],
        "grid": {
            "density_profile": str(recipe),
            "density_scale": 0.5,
            "fc_bits": [4, 2],
            "accelerator": ["eie", "edge-16"],
        },
        "points": list(extra_points),
    }


def write_config(tmp_path: Path, data: dict) -> Path:
    import json

    lines = [f'name = "{data["name"]}"', "[[networks]]", 'network = "lenet-300-100"', "[grid]"]
    for key, value in data["grid"].items():
        lines.append(f"{key} = {json.dumps(value)}")
    path = tmp_path / "sweep.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tidy_table_has_layers_totals_and_units(tmp_path):
    config = parse_config(small_config(tmp_path))
    results = run_sweep(config, tmp_path / "out", progress=False)
    points = config.design_points()
    totals = results[results["row_type"] == "total"]
    assert len(totals) == len(points) == 4
    assert list(totals["point_id"]) == [p.point_id for p in points]  # config order
    layers = results[results["row_type"] == "layer"]
    assert len(layers) == 4 * 3 and set(layers["layer"]) == {"fc1", "fc2", "fc3"}
    assert (totals["status"] == "ok").all()
    for column in (
        "latency_ms",
        "fps",
        "meets_target",
        "energy_mj",
        "model_bytes",
        "onchip_bytes",
        "fits_onchip",
        "compression_ratio",
        "top1",
        "accuracy_source",
    ):
        assert column in results.columns
    # totals are the sums of their layers
    for _pid, group in results.groupby("point_id"):
        total = group[group["row_type"] == "total"].iloc[0]
        parts = group[group["row_type"] == "layer"]
        assert total["energy_mj"] == pytest.approx(parts["energy_mj"].sum(), rel=1e-12)
        assert total["latency_ms"] == pytest.approx(parts["latency_ms"].sum(), rel=1e-12)
        assert total["fps"] == pytest.approx(1e3 / total["latency_ms"])
        energy_parts = [c for c in parts.columns if c.startswith("energy_") and c != "energy_mj"]
        assert parts[energy_parts].sum(axis=1).to_numpy() == pytest.approx(
            parts["energy_mj"].to_numpy(), rel=1e-9
        )
    assert (totals["accuracy_source"] == "not measured").all()
    assert totals["top1"].isna().all()
    # area = Σ components; the efficiency figures follow from their definitions
    from dcsim.point_evaluation import point_accelerator as point_arch
    from reports.area_columns import AREA_COLUMN_NAMES
    from simulator.area_table import area_mm2

    for point, (_, total) in zip(points, totals.iterrows(), strict=True):
        assert total["area_mm2"] == pytest.approx(
            sum(total[c] for c in AREA_COLUMN_NAMES), rel=1e-12
        )
        arch = point_arch(point)
        assert total["area_mm2"] == pytest.approx(
            area_mm2(arch, int(total["codebook_entries"])), rel=1e-12
        )
        assert total["power_mw"] == pytest.approx(total["energy_mj"] / total["latency_ms"] * 1e3)
        assert total["fps_per_mm2"] == pytest.approx(total["fps"] / total["area_mm2"])
        assert total["frames_per_j"] == pytest.approx(1e3 / total["energy_mj"])
        assert total["tops_per_w_dense"] == pytest.approx(
            total["dense_ops"] / (total["energy_mj"] * 1e-3) / 1e12
        )
    assert layers["area_mm2"].isna().all()  # a point's area, not a layer's
    for _pid, group in results.groupby("point_id"):
        parts = group[group["row_type"] == "layer"]
        total = group[group["row_type"] == "total"].iloc[0]
        assert total["dense_ops"] == parts["dense_ops"].sum()
    for name in ("results.parquet", "results.csv", "results.xlsx", "report.html", "run.json"):
        assert (tmp_path / "out" / name).is_file()


def test_rerun_skips_finished_points_and_fresh_recomputes(tmp_path):
    config = parse_config(small_config(tmp_path))
    out = tmp_path / "out"
    first = run_sweep(config, out, progress=False)
    store = ResultStore(out)
    units = [u.unit_id for u in iter_units(config)]
    stamps = {u: store.path(u).stat().st_mtime_ns for u in units}
    second = run_sweep(config, out, progress=False)
    assert stamps == {u: store.path(u).stat().st_mtime_ns for u in units}
    pd.testing.assert_frame_equal(first, second)
    third = run_sweep(config, out, progress=False, fresh=True)
    pd.testing.assert_frame_equal(first, third)


def test_resume_after_interruption_equals_uninterrupted(tmp_path):
    config = parse_config(small_config(tmp_path))
    reference = run_sweep(config, tmp_path / "a", progress=False)
    run_sweep(config, tmp_path / "b", progress=False, only_units=[0, 1])
    stale = tmp_path / "b" / "units" / ".deadbeef.x.tmp"  # a write cut short by the kill
    stale.write_bytes(b"PAR1 half")
    assert not (tmp_path / "b" / "results.parquet").exists()  # no partial outputs
    resumed = run_sweep(config, tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(reference, resumed)
    assert not stale.exists()


def test_resume_after_kill_9(tmp_path):
    config_path = write_config(tmp_path, small_config(tmp_path))
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "dcsim.cli",
        "sweep",
        str(config_path),
        "--out",
        str(out),
        "--quiet",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / "units").glob("*.parquet"))) >= 2:
            break
        time.sleep(0.05)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = len(list((out / "units").glob("*.parquet")))
    assert finished_before >= 2
    assert subprocess.run(command, check=False).returncode == 0
    resumed = pd.read_parquet(out / "results.parquet")
    reference = run_sweep(parse_config(small_config(tmp_path)), tmp_path / "ref", progress=False)
    pd.testing.assert_frame_equal(reference, resumed)
    assert len(resumed["point_id"].unique()) == 4  # nothing lost, nothing duplicated


def test_failed_point_is_recorded_and_sweep_goes_on(tmp_path):
    # density 0.2 x 6 = 1.2 > 1: that point fails, the others complete
    config = parse_config(small_config(tmp_path, extra_points=[{"density_scale": 6.0}]))
    results = run_sweep(config, tmp_path / "out", progress=False)
    totals = results[results["row_type"] == "total"]
    failed = totals[totals["status"] == "error"]
    assert len(failed) == 1 and len(totals) == 5
    assert "density" in failed["error"].iloc[0] and "allowed" in failed["error"].iloc[0]
    # a rerun retries the failed point (and only it: its unit)
    store = ResultStore(tmp_path / "out")
    finished = [store.finished(u.unit_id) for u in iter_units(config)]
    assert finished.count(False) == 1


def test_serial_processes_and_dask_give_identical_tables(tmp_path):
    from distributed import LocalCluster

    config = parse_config(small_config(tmp_path))
    serial = run_sweep(config, tmp_path / "serial", progress=False)
    processes = run_sweep(config, tmp_path / "processes", workers=2, progress=False)
    pd.testing.assert_frame_equal(serial, processes)
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        distributed = run_sweep(
            config, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False
        )
    pd.testing.assert_frame_equal(serial, distributed)


def test_the_dask_preload_imports_what_a_unit_runs(tmp_path):
    """`dask worker --preload dcsim.dask_preload`: a new worker has imported the unit executor
    before any unit; a worker without it has not, and both give the same table."""
    from distributed import Client, LocalCluster
    from worker_probes import imported

    config = parse_config(small_config(tmp_path))
    tables = []
    for preload in (["dcsim.dask_preload"], []):
        with (
            LocalCluster(
                n_workers=1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                preload=preload,
            ) as cluster,
            Client(cluster) as client,
        ):
            assert list(client.run(imported, "dcsim.unit_executors").values()) == [bool(preload)]
            out = tmp_path / f"dask-{len(preload)}"
            tables.append(
                run_sweep(config, out, scheduler=cluster.scheduler_address, progress=False)
            )
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_a_side_job_runs_on_a_worker_while_every_unit_runs_once(tmp_path):
    """`run_processes(side_job=...)`: the side job runs in a worker process (not here), its
    result reaches `on_side_done`, and every unit is evaluated exactly once, with the rows an
    evaluation here gives."""
    from dcsim.unit_executors import run_processes, unit_parquet

    config = parse_config(small_config(tmp_path))
    units = list(iter_units(config))
    done, side = {}, []
    run_processes(
        iter(units),
        2,
        lambda unit, data: done.setdefault(unit.unit_id, []).append(data),
        side_job=os.getpid,
        on_side_done=side.append,
    )
    assert len(side) == 1 and side[0] != os.getpid()
    assert sorted(done) == sorted(u.unit_id for u in units)
    assert all(len(data) == 1 for data in done.values())
    first = units[0]
    here = pd.read_parquet(io.BytesIO(unit_parquet(first)))
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(done[first.unit_id][0])), here)


def test_local_workers_compute_the_validation_rows_beside_the_units(tmp_path, own_cache):
    """With local worker processes and no cached validation rows, a worker computes them while
    the units run; the sweep keeps them in the cache and its run.json holds exactly them."""
    import json

    from dcsim import validation_rows

    (own_cache / "validation").unlink()  # this test's own, empty validation cache
    config = parse_config(small_config(tmp_path))
    run_sweep(config, tmp_path / "out", workers=2, progress=False, load_results=False)
    kept = validation_rows.cached_validation_rows()
    assert kept is not None and kept == validation_rows.compute_validation_rows()
    assert json.loads((tmp_path / "out" / "run.json").read_text())["validation"] == kept


def test_cli_sweep_and_bad_config(tmp_path, capsys):
    config_path = write_config(tmp_path, small_config(tmp_path))
    out = tmp_path / "out"
    assert main(["sweep", str(config_path), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "4 points (0 failed)" in printed
    bad = tmp_path / "bad.toml"
    bad.write_text('[[networks]]\nnetwork = "lenet-300-100"\n[grid]\nfc_bits = 99\n')
    assert main(["sweep", str(bad), "--out", str(tmp_path / "bad-out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fc_bits=99" in err
    assert not (tmp_path / "bad-out").exists()  # nothing half-written
    assert main(["report", str(out)]) == 0
    assert main(["report", str(tmp_path)]) == 2


def test_progress_names_each_stage_and_output_file_and_changes_no_result(tmp_path, capsys):
    """With progress on and stderr not a terminal, the sweep writes plain lines (no carriage
    returns): the points, the report's metadata and each output file as it is written; the
    table is the one a quiet run gives; `--quiet` writes nothing on stderr."""
    from dcsim.sweep import OUTPUT_FILES

    config = parse_config(small_config(tmp_path))
    quiet = run_sweep(config, tmp_path / "quiet", progress=False)
    assert capsys.readouterr().err == ""
    out = tmp_path / "shown"
    shown = run_sweep(config, out, progress=True)
    pd.testing.assert_frame_equal(quiet, shown)
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err
    lines = err.splitlines()
    assert any(line.startswith("sweep: 4/4 points in ") for line in lines)
    assert "collecting the report's metadata (validation, retrieval) ..." in lines
    # results.parquet streams from the stored units first; run.json is built from it
    order = ("results.parquet", "run.json", *[f for f in OUTPUT_FILES if f != "results.parquet"])
    written = [f"writing {out / name}" for name in order]
    starts = [lines.index(f"{w} ...") for w in written]
    ends = [
        next(i for i, line in enumerate(lines) if line.startswith(f"{w}: done in "))
        for w in written
    ]
    assert starts == sorted(starts) and all(s < e for s, e in zip(starts, ends, strict=True))
    # a rerun finds every point stored and says so before rewriting the outputs
    run_sweep(config, out, progress=True)
    assert "sweep: 4 of 4 points stored" in capsys.readouterr().err.splitlines()
    config_path = write_config(tmp_path, small_config(tmp_path))
    assert main(["sweep", str(config_path), "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_sram_and_register_axes_set_area_and_energy_on_the_array_path(tmp_path):
    """pointer_sram_per_pe_kb, activation_sram_per_pe_kb and registers_per_pe (analytical
    points: evaluated as arrays, `simulator.variant_evaluation`) change the area component they
    size and the energy per access of that memory; every point's area is its accelerator's area
    table, and the workbook's area cells stay live formulas over the area_table sheet."""
    import openpyxl

    from dcsim.point_evaluation import point_accelerator
    from simulator.area_table import build_area_table
    from simulator.energy_table import build_energy_table

    config = small_config(tmp_path)
    config["sim_model"] = "analytical"
    config["grid"] = {
        **config["grid"],
        "fc_bits": 4,
        "accelerator": "edge-16",
        "pointer_sram_per_pe_kb": [8, 32],
        "activation_sram_per_pe_kb": [2, 8],
        "registers_per_pe": [32, 128],
    }
    config = parse_config(config)
    points = config.design_points()
    results = run_sweep(config, tmp_path / "out", progress=False)
    totals = results[results["row_type"] == "total"].reset_index(drop=True)
    assert len(totals) == len(points) == 8 and (totals["status"] == "ok").all()
    layers = results[results["row_type"] == "layer"]
    for point, (_, total) in zip(points, totals.iterrows(), strict=True):
        arch = point_accelerator(point)
        assert arch.pointer_sram_bytes_per_pe == point.pointer_sram_per_pe_kb * 1024
        assert arch.activation_sram_bytes_per_pe == point.activation_sram_per_pe_kb * 1024
        assert arch.activation_registers_per_pe == point.registers_per_pe
        table = build_area_table(arch, int(total["codebook_entries"]))
        for component, entry in table.items():
            assert total[f"area_{component}_mm2"] == pytest.approx(entry.total_mm2, rel=1e-12)
        assert total["area_mm2"] == pytest.approx(
            sum(e.total_mm2 for e in table.values()), rel=1e-12
        )
        # energy = Σ events × the point's own energy table (pointer reads: its bank size)
        energy = build_energy_table(arch)
        parts = layers[layers["point_id"] == total["point_id"]]
        assert parts["energy_pointer_read_mj"].sum() == pytest.approx(
            parts["events_pointer_read"].sum() * energy["pointer_read"].energy_j * 1e3,
            rel=1e-9,
        )

    def one_axis_changes(axis: str, component: str, addressed=()) -> None:
        """Points that differ in `axis` only: a larger value, a larger `component` area (and
        the `addressed` components, whose address width follows it), every other component
        unchanged."""
        axes = ("pointer_sram_per_pe_kb", "activation_sram_per_pe_kb", "registers_per_pe")
        others = [a for a in axes if a != axis]
        for _, group in totals.groupby(others):
            small, large = group.sort_values(axis).iloc[0], group.sort_values(axis).iloc[-1]
            assert large[f"area_{component}_mm2"] > small[f"area_{component}_mm2"]
            assert large["area_mm2"] > small["area_mm2"]
            for name in addressed:
                assert large[f"area_{name}_mm2"] > small[f"area_{name}_mm2"], (axis, name)
            for name in AREA:
                if name != component and name not in addressed:
                    assert large[f"area_{name}_mm2"] == small[f"area_{name}_mm2"], (axis, name)

    from simulator.area_table import AREA_COMPONENTS as AREA

    one_axis_changes("pointer_sram_per_pe_kb", "pointer_sram")
    one_axis_changes("activation_sram_per_pe_kb", "activation_sram")
    # the destination-address adder and register grow with log2(registers)
    one_axis_changes("registers_per_pe", "activation_registers", ("adders", "pipeline_registers"))
    # the workbook: every point's area cells are formulas over its area_table rows
    wb = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    rows = list(wb["summary"].iter_rows(values_only=True))
    from reports.columns import header

    col = rows[0].index(header("area_mm2"))
    assert all(str(r[col]).startswith("=SUM(") for r in rows[1:])
