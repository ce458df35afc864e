"""The unit cache (dcsim.unit_cache): the same sweep into a new folder copies each finished
unit's rows instead of evaluating it — byte for byte what an evaluation stores — and anything
the rows are made from (points, code, named files, libraries) makes a new key; damaged,
foreign or failed entries are never used; `--fresh` and DCSIM_UNIT_CACHE=0 evaluate."""

from __future__ import annotations

import pandas as pd
import pytest
from tiny_sweeps import FLAT_RECIPE, flat_recipe_sweep

import dcsim.unit_executors as executors
from dcsim import content_keys, unit_cache
from dcsim.cli import main
from dcsim.result_store import ResultStore
from dcsim.sweep import run_sweep
from dcsim.work_units import iter_units


def _config(tmp_path, **grid):
    return flat_recipe_sweep(tmp_path, grid={"fifo_depth": [1, 4], **grid})


@pytest.fixture
def cache_on(own_cache, monkeypatch):
    monkeypatch.setenv("DCSIM_UNIT_CACHE", "1")
    return own_cache


@pytest.fixture
def evaluations(monkeypatch):
    """The ids of the units this test's sweeps really evaluate."""
    seen: list[str] = []
    evaluate = executors.evaluate_work_unit

    def counting(unit):
        seen.append(unit.unit_id)
        return evaluate(unit)

    monkeypatch.setattr(executors, "evaluate_work_unit", counting)
    return seen


def _cached_files(cache):
    return sorted((cache / unit_cache.CACHE_FOLDER).glob("*.parquet"))


def test_a_warm_run_copies_every_unit_byte_for_byte(tmp_path, cache_on, evaluations):
    config = _config(tmp_path)
    units = [u.unit_id for u in iter_units(config)]
    cold = run_sweep(config, tmp_path / "cold", progress=False)
    assert sorted(evaluations) == sorted(units) and len(_cached_files(cache_on)) == len(units)
    warm = run_sweep(config, tmp_path / "warm", progress=False)
    assert len(evaluations) == len(units)  # nothing evaluated again
    pd.testing.assert_frame_equal(cold, warm)
    stores = [ResultStore(tmp_path / run) for run in ("cold", "warm")]
    for unit_id in units:
        assert stores[0].path(unit_id).read_bytes() == stores[1].path(unit_id).read_bytes()


def test_copied_rows_equal_a_fresh_evaluation(tmp_path, cache_on, evaluations):
    config = _config(tmp_path)
    run_sweep(config, tmp_path / "cold", progress=False)
    copied = run_sweep(config, tmp_path / "warm", progress=False)
    count = len(evaluations)
    fresh = run_sweep(config, tmp_path / "warm", progress=False, fresh=True)
    assert len(evaluations) == 2 * count  # --fresh evaluated every unit again
    pd.testing.assert_frame_equal(copied, fresh)


def test_the_key_covers_points_code_files_and_libraries(tmp_path, cache_on, monkeypatch):
    config = _config(tmp_path)
    first, second = list(iter_units(config))[:2]
    key = unit_cache.unit_key(first)
    assert unit_cache.unit_key(second) != key
    assert unit_cache.unit_key(list(iter_units(_config(tmp_path)))[0]) == key  # stable
    recipe = tmp_path / "flat.toml"
    recipe.write_text(FLAT_RECIPE.replace("0.3", "0.25"))  # edited in place: same path, new bytes
    unit_cache.new_run()  # files are digested once per run
    assert unit_cache.unit_key(first) != key
    recipe.write_text(FLAT_RECIPE)
    unit_cache.new_run()
    assert unit_cache.unit_key(first) == key
    with monkeypatch.context() as patch:
        patch.setattr(content_keys, "source_fingerprint", lambda *a: "other code")
        assert unit_cache.unit_key(first) != key
    with monkeypatch.context() as patch:
        patch.setattr(content_keys, "library_versions", lambda: {"numpy": "0"})
        assert unit_cache.unit_key(first) != key


@pytest.mark.parametrize("damage", ["garbage", "other unit", "failed point"])
def test_a_damaged_or_foreign_entry_is_evaluated_and_replaced(
    tmp_path, cache_on, evaluations, damage
):
    config = _config(tmp_path)
    reference = run_sweep(config, tmp_path / "cold", progress=False)
    first, second = list(iter_units(config))[:2]
    entry = unit_cache._path(unit_cache.unit_key(first))
    if damage == "garbage":
        entry.write_bytes(b"PAR1 not a parquet file")
    elif damage == "other unit":
        entry.write_bytes(unit_cache._path(unit_cache.unit_key(second)).read_bytes())
    else:
        rows = pd.read_parquet(entry)
        rows.loc[rows.index[-1], "status"] = "error"
        rows.to_parquet(entry, index=False)
    evaluations.clear()
    warm = run_sweep(config, tmp_path / "warm", progress=False)
    assert evaluations == [first.unit_id]
    pd.testing.assert_frame_equal(reference, warm)
    assert entry.read_bytes() == ResultStore(tmp_path / "warm").path(first.unit_id).read_bytes()


def test_a_unit_with_a_failed_point_is_not_cached(tmp_path, cache_on):
    config = _config(tmp_path, density_scale=[1.0, 6.0])  # 0.3 x 6 > 1: those points fail
    results = run_sweep(config, tmp_path / "out", progress=False)
    totals = results[results["row_type"] == "total"]
    failed = set(totals.loc[totals["status"] == "error", "point_id"])
    assert failed
    cached = {unit_cache.unit_key(u) for u in iter_units(config)}
    kept = {p.stem for p in _cached_files(cache_on)}
    for unit in iter_units(config):
        has_failure = any(point.point_id in failed for point in unit.points)
        assert (unit_cache.unit_key(unit) in kept) == (not has_failure)
    assert kept <= cached


def test_the_switch_turns_the_cache_off_and_a_bad_value_is_one_line(
    tmp_path, own_cache, monkeypatch, capsys
):
    monkeypatch.setenv("DCSIM_UNIT_CACHE", "0")
    config = _config(tmp_path)
    run_sweep(config, tmp_path / "out", progress=False)
    assert not _cached_files(own_cache)
    monkeypatch.setenv("DCSIM_UNIT_CACHE", "yes")
    with pytest.raises(ValueError, match=r"DCSIM_UNIT_CACHE='yes' is invalid; allowed: 0"):
        run_sweep(config, tmp_path / "other", progress=False)
    assert not (tmp_path / "other").exists()
    path = tmp_path / "sweep.toml"
    path.write_text('[[networks]]\nnetwork = "lenet-300-100"\n[grid]\naccelerator = "eie"\n')
    assert main(["sweep", str(path), "--out", str(tmp_path / "cli"), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "DCSIM_UNIT_CACHE" in error and "Traceback" not in error


def test_a_file_edited_between_runs_is_evaluated_again(tmp_path, cache_on, evaluations):
    config = _config(tmp_path)
    run_sweep(config, tmp_path / "first", progress=False)
    count = len(evaluations)
    (tmp_path / "flat.toml").write_text(FLAT_RECIPE.replace("0.3", "0.25"))  # same path, new bytes
    edited = run_sweep(config, tmp_path / "second", progress=False)
    assert len(evaluations) == 2 * count  # nothing copied: the recipe's digest changed
    totals = edited[edited["row_type"] == "total"]
    assert (totals["weight_density"] < 0.3).all()


_TORCH_FREE_SWEEP = """
import sys
from pathlib import Path
from tiny_sweeps import flat_recipe_sweep
from dcsim.cli import main

folder = Path(sys.argv[1])
flat_recipe_sweep(folder)  # writes the recipe the config names
recipe = folder / "flat.toml"
(folder / "sweep.toml").write_text(
    'sim_model = "analytical"\\n[[networks]]\\nnetwork = "lenet-300-100"\\n[grid]\\n'
    f'n_pe = [2, 8]\\ndensity_profile = "{recipe}"\\nfc_bits = [4, 2]\\n'
    'fifo_depth = [1, 4, 16]\\naccelerator = "eie"\\n'
)
argv = ["sweep", str(folder / "sweep.toml"), "--out", str(folder / "out"), "--workers", "1"]
assert main([*argv, "--quiet"]) == 0
assert (folder / "out" / "report.html").is_file()
print("torch imported:", "torch" in sys.modules)
"""


def test_a_synthetic_analytical_sweep_never_imports_torch(tmp_path, cache_on):
    """Nothing of such a sweep runs a torch operation: neither the command line, its unit keys
    (no torch version or CPU kernels in them), its checks, its outputs' digest nor its report
    import torch, which would cost 1.5 s of a run of a few seconds (run as `dcsim sweep`)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from workloads.cache import cache_key

    assert cache_key("k", {"a": 1}, torch_kernels=False) != cache_key("k", {"a": 1})
    tests = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": str(tests)}
    done = subprocess.run(
        [sys.executable, "-c", _TORCH_FREE_SWEEP, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("torch imported: False")
    assert _cached_files(cache_on)  # the units were kept, under keys made without torch
