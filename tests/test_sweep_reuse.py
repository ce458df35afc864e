"""What a resumed or warm sweep reuses instead of recomputing: the verification points'
cycle-model reruns (dcsim.verification_cache), the retrieval rows of run.json
(dcsim.retrieval_examples) and the unchanged outputs (dcsim.output_digest) — and that reusing
them changes no byte of the results, while any change of what they are made from recomputes."""

from __future__ import annotations

import dataclasses
import json
import os

import pandas as pd
import pytest
from tiny_sweeps import FLAT_RECIPE, flat_recipe_sweep

import dcsim.point_evaluation as point_evaluation
from dcsim import content_keys, output_digest, retrieval_examples
from dcsim.config import parse_config
from dcsim.sweep import OUTPUT_FILES, run_sweep
from dcsim.verification_cache import rerun_key

OUTPUTS = ("run.json", *OUTPUT_FILES)


def _config(tmp_path, **extra):
    return flat_recipe_sweep(tmp_path, **{"seed": 4242, "verify": 3, **extra})


@pytest.fixture
def cycle_runs(monkeypatch):
    """The ids of the analytical points re-run on the cycle model (actually simulated)."""
    seen: list[str] = []
    evaluate = point_evaluation.evaluate_point

    def counting(point):
        if point.sim_model == "cycle":  # a rerun: record the analytical point's id
            seen.append(dataclasses.replace(point, sim_model="analytical").point_id)
        return evaluate(point)

    monkeypatch.setattr(point_evaluation, "evaluate_point", counting)
    return seen


def _meta(out):
    meta = json.loads((out / "run.json").read_text())
    meta.pop("created")
    return meta


def _verified(out):
    return [row["point_id"] for row in _meta(out)["verification"]["rows"]]


def test_verification_reruns_are_read_back_and_change_no_byte(tmp_path, own_cache, cycle_runs):
    config = _config(tmp_path)
    run_sweep(config, tmp_path / "a", progress=False)
    assert len(cycle_runs) == 3  # nothing cached yet: every chosen point simulated
    cycle_runs.clear()
    run_sweep(config, tmp_path / "b", progress=False)  # warm: a new folder
    assert cycle_runs == []
    a, b = tmp_path / "a", tmp_path / "b"
    assert (a / "results.parquet").read_bytes() == (b / "results.parquet").read_bytes()
    assert _meta(a) == _meta(b)
    # without the stored reruns: simulated again, the same bytes
    stored = list((own_cache / "verification").iterdir())
    assert len(stored) == 3
    for entry in stored:
        entry.unlink()
    run_sweep(config, tmp_path / "c", progress=False)
    assert len(cycle_runs) == 3
    assert (a / "results.parquet").read_bytes() == (tmp_path / "c" / "results.parquet").read_bytes()
    assert _meta(a) == _meta(tmp_path / "c")


def test_changed_verify_count_or_seed_simulates_what_was_not_verified(
    tmp_path, own_cache, cycle_runs
):
    config = _config(tmp_path)
    run_sweep(config, tmp_path / "a", progress=False)
    before = set(_verified(tmp_path / "a"))
    cycle_runs.clear()
    run_sweep(_config(tmp_path, verify=5), tmp_path / "b", progress=False)
    now = set(_verified(tmp_path / "b"))
    assert len(now) == 5
    assert sorted(cycle_runs) == sorted(now - before)  # only the points not verified before
    cycle_runs.clear()
    run_sweep(_config(tmp_path, seed=4243), tmp_path / "c", progress=False)
    assert sorted(cycle_runs) == sorted(_verified(tmp_path / "c"))  # new seed: new points


def test_rerun_key_covers_the_point_its_files_and_the_code(tmp_path, monkeypatch):
    config = _config(tmp_path)
    points = config.design_points()
    keys = {rerun_key(p) for p in points}
    assert len(keys) == len(points)  # every hardware variant its own entry
    point = points[0]
    key = rerun_key(point)
    assert rerun_key(point) == key
    recipe = tmp_path / "flat.toml"
    recipe.write_text(FLAT_RECIPE.replace("0.3", "0.31"))  # the same path, edited
    os.utime(recipe, ns=(1, 1))
    assert rerun_key(point) != key
    recipe.write_text(FLAT_RECIPE)
    monkeypatch.setattr(content_keys, "source_fingerprint", lambda *a: "other code")
    assert rerun_key(point) != key


def _mtimes(out):
    return {name: (out / name).stat().st_mtime_ns for name in OUTPUTS}


def _bytes(out, names=("results.parquet", "results.csv")):
    return {name: (out / name).read_bytes() for name in names}


def test_resumed_run_keeps_unchanged_outputs_equal_to_a_fresh_run(tmp_path):
    config = _config(tmp_path)
    out = tmp_path / "out"
    first = run_sweep(config, out, progress=False)
    stamps, content = _mtimes(out), _bytes(out)
    resumed = run_sweep(config, out, progress=False)
    assert _mtimes(out) == stamps  # nothing rewritten
    pd.testing.assert_frame_equal(first, resumed)
    fresh = tmp_path / "fresh"
    run_sweep(config, fresh, progress=False)
    assert _bytes(fresh) == content
    assert _meta(fresh) == _meta(out)


@pytest.mark.parametrize("damage", ["truncate", "remove", "edit"])
def test_a_damaged_or_missing_output_is_rewritten(tmp_path, damage):
    config = _config(tmp_path)
    out = tmp_path / "out"
    run_sweep(config, out, progress=False)
    content = _bytes(out)
    meta = _meta(out)
    csv = out / "results.csv"
    if damage == "truncate":
        csv.write_bytes(content["results.csv"][:100])
    elif damage == "remove":
        (out / "report.html").unlink()
    else:  # the same size, one byte changed
        data = bytearray(content["results.csv"])
        data[-2] = ord("x") if data[-2] != ord("x") else ord("y")
        csv.write_bytes(bytes(data))
    run_sweep(config, out, progress=False)
    assert _bytes(out) == content
    assert (out / "report.html").is_file()
    assert _meta(out) == meta


def test_changed_inputs_rewrite_the_outputs(tmp_path, monkeypatch):
    config = _config(tmp_path)
    out = tmp_path / "out"
    run_sweep(config, out, progress=False)

    def rewritten(stamps):
        return all(_mtimes(out)[name] != stamps[name] for name in OUTPUTS)

    stamps = _mtimes(out)
    run_sweep(config, out, progress=False, verify=2)  # other verification rows
    assert rewritten(stamps) and len(_verified(out)) == 2
    stamps = _mtimes(out)
    described = _config(tmp_path, description="another description")  # the same units
    run_sweep(described, out, progress=False, verify=2)
    assert rewritten(stamps) and _meta(out)["config"]["description"] == "another description"
    stamps = _mtimes(out)
    monkeypatch.setattr(content_keys, "source_fingerprint", lambda *a: "other code")
    run_sweep(described, out, progress=False, verify=2)
    assert rewritten(stamps)
    stamps = _mtimes(out)
    run_sweep(described, out, progress=False, verify=2)  # nothing changed since
    assert _mtimes(out) == stamps


def test_an_interrupted_write_leaves_no_manifest_and_is_redone(tmp_path, monkeypatch):
    import reports

    config = _config(tmp_path)
    out = tmp_path / "out"
    run_sweep(config, out, progress=False)
    content = _bytes(out)
    assert (out / output_digest.MANIFEST).is_file()
    write = reports.write_outputs

    def interrupted(parquet, meta, out_dir, **kw):
        (out_dir / "results.csv").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(reports, "write_outputs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(config, out, progress=False, verify=2)
    assert not (out / output_digest.MANIFEST).exists()
    monkeypatch.setattr(reports, "write_outputs", write)
    run_sweep(config, out, progress=False)  # the original inputs: written again, not kept
    assert _bytes(out) == content
    assert (out / output_digest.MANIFEST).is_file()


def _digits_inputs():
    config = parse_config(
        {
            "networks": [{"network": "alexnet", "weights": "digits", "density_profile": "digits"}],
            "grid": {"density_scale": [1.0, 0.5], "conv_bits": 8, "fc_bits": [5, 4], "n_pe": 4},
            "seed": 3,
        }
    )
    points = config.design_points()
    totals = pd.DataFrame(
        {
            "point_id": [p.point_id for p in points],
            "network": [p.network.label for p in points],
            "status": "ok",
            "top1": [0.97, 0.96, 0.95, 0.90],
            "compression_ratio": [10.0, 12.0, 20.0, 25.0],
        }
    )
    return points, totals


def test_retrieval_rows_are_cached_by_what_they_are_made_from(own_cache, monkeypatch):
    computed = []

    def network_examples(label, settings, by_id):  # the expensive evaluation, recorded
        computed.append(list(settings["top1"]))
        return [{"network": label, "point_id": str(settings["point_id"].iloc[-1]), "x": 0.1 + 0.2}]

    monkeypatch.setattr(retrieval_examples, "_network_examples", network_examples)
    points, totals = _digits_inputs()
    first = retrieval_examples.retrieval_examples(points, totals)
    assert len(computed) == 1
    assert retrieval_examples.retrieval_examples(points, totals) == first  # read back
    assert len(computed) == 1
    changed = totals.assign(top1=[0.97, 0.96, 0.95, 0.91])  # another measured accuracy
    retrieval_examples.retrieval_examples(points, changed)
    assert len(computed) == 2
    monkeypatch.setattr(content_keys, "source_fingerprint", lambda *a: "other code")
    assert retrieval_examples.retrieval_examples(points, totals) == first
    assert len(computed) == 3


def test_named_file_digests_follow_file_and_folder_contents(tmp_path):
    model = tmp_path / "net.py"
    model.write_text("A = 1\n")
    data = tmp_path / "data"
    (data / "cat").mkdir(parents=True)
    (data / "cat" / "1.png").write_bytes(b"x")
    values = {"network": f"{model}:factory", "data": [str(data)], "name": "alexnet", "n": 3}
    first = content_keys.named_file_digests(values)
    assert set(first) == {f"{model}:factory", str(data)}  # only strings naming something
    model.write_text("A = 2\n")
    os.utime(model, ns=(5, 5))
    assert content_keys.named_file_digests(values)[f"{model}:factory"] != first[f"{model}:factory"]
    (data / "cat" / "2.png").write_bytes(b"y")
    assert content_keys.named_file_digests(values)[str(data)] != first[str(data)]
