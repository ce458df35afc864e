"""A digits setting read back from the accuracy stage's cache entries (`dcsim.trained_setting`)
gives a work unit exactly what the Deep Compression pipeline gives it (tests/digits_read_back.py):
here for a setting with trained quantization (tests/test_accuracy_grid.py checks the k-means
grid's settings on a two-checkpoint trajectory), and missing entries fall back to the pipeline.
Dense training and retraining are cut to a few steps (the property does not depend on how well
the network is trained)."""

from __future__ import annotations

import pytest
from digits_read_back import assert_read_back_equals_pipeline
from tiny_digits import TINY_DENSE, TINY_PRUNE, tiny_digits_recipe

from dcsim import trained_setting
from dcsim.compression_setting import MEASURED_TRAINED, compression_only, measured_source
from dcsim.config import parse_config
from dcsim.point_evaluation import prepare_points
from dcsim.work_units import iter_units
from workloads import training

# the digits recipe's retraining cut to two steps each, quantization fine-tuned
TINY_TRAINING = TINY_PRUNE + "\n[training.quantize]\nbatch_size = 32\nmax_steps = 2\n"


def _config(folder, fine_tune: bool = True):
    return parse_config(
        {
            "sim_model": "analytical",
            "networks": [
                {
                    "network": "alexnet",
                    "weights": "digits",
                    "density_profile": tiny_digits_recipe(folder, TINY_TRAINING),
                }
            ],
            "accuracy": {"prune_epochs": 1.0, "fine_tune": fine_tune},
            "grid": {"accelerator": "eie", "n_pe": [1, 4], "fifo_depth": [4, 8]},
        }
    )


@pytest.mark.slow  # tiny schedules, but two AlexNet evaluations
def test_trained_quantization_read_back_equals_the_pipeline(tmp_path, monkeypatch):
    monkeypatch.setattr(training, "DENSE_DIGITS_TRAINING", TINY_DENSE)
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / "cache"))
    config = _config(tmp_path)
    (unit,) = iter_units(config)
    assert measured_source(unit.points[0]) == MEASURED_TRAINED
    prepare_points(list(unit.points))
    assert_read_back_equals_pipeline(monkeypatch, unit)


def test_missing_entries_fall_back_to_the_pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / "empty"))
    point = compression_only(next(_config(tmp_path, fine_tune=False).iter_design_points()))
    assert trained_setting.cached_trained_point(point) is None
