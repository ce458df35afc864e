"""A sweep's k-means grid (`dcsim.accuracy_grid`) measures exactly what the ordinary pipeline
measures for each setting: the same quantized weights and the same evaluation, bit for bit,
although it prunes each density once along one trajectory and runs the conv trunk once per
(checkpoint, conv bits). Dense training and retraining are cut to a few steps (the property
does not depend on how well the network is trained)."""

from __future__ import annotations

import numpy as np
import pytest
from digits_read_back import assert_read_back_equals_pipeline
from tiny_digits import TINY_DENSE, tiny_digits_recipe

from dcsim.accuracy import digits_pipeline
from dcsim.accuracy_grid import prepare_settings
from dcsim.compression_setting import (
    MEASURED_KMEANS,
    compression_only,
    measured_source,
    point_recipe,
)
from dcsim.config import parse_config
from dcsim.trained_models import seeded_setup
from dcsim.work_units import iter_units
from workloads import training

pytestmark = pytest.mark.slow  # tiny schedules, but AlexNet evaluations: about a minute


def test_kmeans_grid_equals_the_pipeline(tmp_path, monkeypatch):
    monkeypatch.setattr(training, "DENSE_DIGITS_TRAINING", TINY_DENSE)
    profile = tiny_digits_recipe(tmp_path)
    config = parse_config(
        {
            "sim_model": "analytical",
            "networks": [{"network": "alexnet", "weights": "digits", "density_profile": profile}],
            "accuracy": {"prune_epochs": 1.0},
            "grid": {
                "density_scale": [1.0, 0.8],
                "conv_bits": [6, 4],
                "fc_bits": [4, 3],
                "accelerator": "eie",
            },
        }
    )
    settings = list(dict.fromkeys(compression_only(p) for p in config.iter_design_points()))
    assert len(settings) == 8
    assert {measured_source(p) for p in settings} == {MEASURED_KMEANS}
    grid_cache = tmp_path / "grid"
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(grid_cache))
    prepare_settings(settings)
    # one trajectory: two checkpoints pruned, once each; one quantization per setting
    assert len(list((grid_cache / "pruned").glob("*.pt"))) == 2
    assert len(list((grid_cache / "quantized").glob("*.pt"))) == 8
    deepest = [p for p in settings if p.density_scale == 0.8]
    for point in (deepest[0], deepest[-1]):  # conv 6 / fc 4 and conv 4 / fc 3
        recipe = point_recipe(point)
        monkeypatch.setenv("DCSIM_CACHE_DIR", str(grid_cache))
        served = digits_pipeline(recipe, setup=seeded_setup(point), n_pe=1)
        assert all(served.from_cache.values()), served.from_cache  # the grid built it all
        monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / f"alone-{point.point_id}"))
        alone = digits_pipeline(recipe, setup=seeded_setup(point), n_pe=1)
        assert not alone.from_cache["pruned"] and not alone.from_cache["compressed_eval"]
        assert served.compressed_eval == alone.compressed_eval  # every number, retrieval too
        assert served.dense == alone.dense
        for a, b in zip(served.compressed.layers, alone.compressed.layers, strict=True):
            np.testing.assert_array_equal(a.dequantized_weights(), b.dequantized_weights())
    # a work unit reads its setting back from these entries (`dcsim.trained_setting`): the
    # pipeline's network, activations, accuracy and rows, on the second checkpoint
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(grid_cache))
    (unit,) = [u for u in iter_units(config) if compression_only(u.points[0]) == deepest[-1]]
    assert_read_back_equals_pipeline(monkeypatch, unit)
