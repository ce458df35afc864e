"""Test helper: a digits work unit whose setting is read back from the accuracy stage's cache
entries (`dcsim.trained_setting`) gets exactly what the Deep Compression pipeline gives it —
the compressed network, activations and accuracy — and so the same tidy rows, bit for bit.
Used by tests/test_accuracy_grid.py (k-means grid) and tests/test_trained_setting.py
(trained quantization)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dcsim import trained_models, trained_setting
from dcsim.compression_setting import compression_only
from dcsim.unit_executors import evaluate_work_unit


def _through_the_pipeline(monkeypatch, call):
    """`call()` with the cache read-back switched off (a unit runs `accuracy_report`)."""
    with monkeypatch.context() as patch:
        patch.setattr(trained_setting, "cached_trained_point", lambda point: None)
        trained_models.accuracy_report.cache_clear()
        try:
            return call()
        finally:
            trained_models.accuracy_report.cache_clear()


def _assert_same_activations(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for name in expected:
        assert got[name].dtype == expected[name].dtype
        np.testing.assert_array_equal(got[name], expected[name])


def assert_read_back_equals_pipeline(monkeypatch, unit) -> None:
    """The read-back of `unit`'s setting (computed, then from the activations entry) equals
    the pipeline's, and so do the unit's rows."""
    point = unit.points[0]
    read_back = trained_setting.cached_trained_point(compression_only(point))
    assert read_back is not None  # the fast path is the one under test
    piped = _through_the_pipeline(monkeypatch, lambda: trained_models.trained_point(point))
    (fast_net, fast_act, fast_acc), (net, act, acc) = read_back, piped
    assert fast_acc == acc and not np.isnan(acc["top1"])
    assert fast_net.name == net.name and fast_net.recipe_name == net.recipe_name
    for a, b in zip(fast_net.layers, net.layers, strict=True):
        assert a.spec == b.spec
        assert (a.weight_bits, a.index_bits) == (b.weight_bits, b.index_bits)
        np.testing.assert_array_equal(a.codebook, b.codebook)
        for field in ("entry_code", "entry_gap", "col_ptr"):
            np.testing.assert_array_equal(getattr(a.sparse, field), getattr(b.sparse, field))
        assert a.accounting == b.accounting
    _assert_same_activations(fast_act, act)
    again = trained_setting.cached_trained_point(compression_only(point))
    _assert_same_activations(again[1], act)  # now read from the activations entry
    rows = evaluate_work_unit(unit)
    assert (rows["status"] == "ok").all(), rows["error"].dropna().tolist()
    expected = _through_the_pipeline(monkeypatch, lambda: evaluate_work_unit(unit))
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)
