"""A digits setting read back from the accuracy stage's cache entries (`dcsim.trained_setting`)
gives a work unit exactly what the Deep Compression pipeline gives it — the same compressed
network, activations and accuracy, so the same tidy rows, bit for bit — for k-means-only
settings on a two-checkpoint trajectory and for a setting with trained quantization. Dense
training and retraining are cut to a few steps (the property does not depend on how well the
network is trained)."""

from __future__ import annotations

import tomllib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from dcsim import trained_models, trained_setting
from dcsim.config import parse_config
from dcsim.point_evaluation import compression_only, prepare_points
from dcsim.sweep import evaluate_work_unit
from dcsim.work_units import iter_units
from workloads import training
from workloads.training import TrainingSettings

pytestmark = pytest.mark.slow  # tiny schedules, but AlexNet evaluations: about a minute

TINY_DENSE = TrainingSettings(epochs=1.0, learning_rate=5e-4, batch_size=32, max_steps=3)


def _tiny_profile(folder) -> str:
    text = resources.files("compression").joinpath("recipes/digits.toml").read_text()
    head = text.split("\n# Retraining schedules", 1)[0]
    assert "training" not in tomllib.loads(head)
    path = folder / "digits-tiny.toml"
    tiny = (
        "\n[training.prune]\nlearning_rate = 2.5e-4\nbatch_size = 32\nmax_steps = 2\n"
        "\n[training.quantize]\nbatch_size = 32\nmax_steps = 2\n"
    )
    path.write_text(head.replace('name = "digits"', 'name = "digits-tiny"') + tiny)
    return str(path)


def _config(profile: str, grid: dict, fine_tune: bool):
    return parse_config(
        {
            "sim_model": "analytical",
            "networks": [{"network": "alexnet", "weights": "digits", "density_profile": profile}],
            "accuracy": {"prune_epochs": 1.0, "fine_tune": fine_tune},
            "grid": {**grid, "accelerator": "eie", "n_pe": [1, 4], "fifo_depth": [4, 8]},
        }
    )


def _through_the_pipeline(monkeypatch, call):
    """`call()` with the cache read-back switched off (every unit runs `accuracy_report`)."""
    with monkeypatch.context() as patch:
        patch.setattr(trained_setting, "cached_trained_point", lambda point: None)
        trained_models.accuracy_report.cache_clear()
        try:
            return call()
        finally:
            trained_models.accuracy_report.cache_clear()


@pytest.mark.parametrize("fine_tune", [False, True], ids=["kmeans-grid", "trained-quantization"])
def test_read_back_equals_the_pipeline(tmp_path, monkeypatch, fine_tune):
    monkeypatch.setattr(training, "DENSE_DIGITS_TRAINING", TINY_DENSE)
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / "cache"))
    profile = _tiny_profile(tmp_path)
    grid = (
        {"density_scale": [1.0], "conv_bits": [6], "fc_bits": [4]}
        if fine_tune
        else {"density_scale": [1.0, 0.8], "conv_bits": [6], "fc_bits": [4, 3]}
    )
    config = _config(profile, grid, fine_tune)
    units = list(iter_units(config))
    assert len(units) == (1 if fine_tune else 4)
    prepare_points([p for unit in units for p in unit.points])
    for unit in units:
        point = unit.points[0]
        read_back = trained_setting.cached_trained_point(compression_only(point))
        assert read_back is not None  # the fast path is the one under test
        piped = _through_the_pipeline(monkeypatch, lambda p=point: trained_models.trained_point(p))
        (fast_net, fast_act, fast_acc), (net, act, acc) = read_back, piped
        assert fast_acc == acc and not np.isnan(acc["top1"])
        assert fast_net.name == net.name and fast_net.recipe_name == net.recipe_name
        for a, b in zip(fast_net.layers, net.layers, strict=True):
            assert a.spec == b.spec and (a.weight_bits, a.index_bits) == (
                b.weight_bits,
                b.index_bits,
            )
            np.testing.assert_array_equal(a.codebook, b.codebook)
            for field in ("entry_code", "entry_gap", "col_ptr"):
                np.testing.assert_array_equal(getattr(a.sparse, field), getattr(b.sparse, field))
            assert a.accounting == b.accounting
        assert list(fast_act) == list(act)
        for name in act:
            assert fast_act[name].dtype == act[name].dtype
            np.testing.assert_array_equal(fast_act[name], act[name])
        again = trained_setting.cached_trained_point(compression_only(point))[1]
        assert list(again) == list(act)  # now read from the activations entry
        for name in act:
            assert again[name].dtype == act[name].dtype
            np.testing.assert_array_equal(again[name], act[name])
        rows = evaluate_work_unit(unit)
        assert (rows["status"] == "ok").all(), rows["error"].dropna().tolist()
        expected = _through_the_pipeline(monkeypatch, lambda u=unit: evaluate_work_unit(u))
        pd.testing.assert_frame_equal(rows, expected, check_exact=True)


def test_missing_entries_fall_back_to_the_pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / "empty"))
    config = _config(_tiny_profile(tmp_path), {"density_scale": [1.0]}, False)
    point = compression_only(next(config.iter_design_points()))
    assert trained_setting.cached_trained_point(point) is None
