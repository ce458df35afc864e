"""The trade-off section (reports.tradeoff): the knee rule, the smallest accelerator per
accuracy loss against a brute-force reference over the points, independence of the batch
split, and the report's section."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import build_report
from reports.tradeoff import LOSS_LEVELS, TradeoffScan, knee_index

# --- knee ----------------------------------------------------------------------------------


def test_knee_of_a_corner_is_the_corner():
    x = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0])
    y = 0.5 + 0.4 * np.minimum(x / 0.4, 1.0)  # rises to x = 0.4, then flat
    assert knee_index(x, y) == 3
    shuffled = np.array([6, 2, 0, 5, 3, 1, 4])
    assert x[shuffled][knee_index(x[shuffled], y[shuffled])] == 0.4  # order of input irrelevant


@pytest.mark.parametrize(
    "x, y",
    [
        ([1, 2, 3, 4], [0.5, 0.6, 0.7, 0.8]),  # straight: no bend
        ([1, 2, 3, 4], [0.9, 0.901, 0.899, 0.9]),  # flat within 0.5 points
        ([1, 2], [0.1, 0.9]),  # too few points
        ([1, 2, math.nan, 4], [0.1, math.nan, 0.5, 0.9]),  # two finite points
    ],
)
def test_no_knee(x, y):
    assert knee_index(x, y) is None


@settings(max_examples=60, deadline=None)
@given(
    corner=st.integers(1, 6),
    scale=st.floats(0.05, 10),
    offset=st.floats(-5, 5),
    x_scale=st.floats(0.1, 100),
)
def test_knee_is_invariant_under_affine_rescaling(corner, scale, offset, x_scale):
    """Kneedle scales both axes to [0, 1]: the knee does not depend on units."""
    x = np.arange(1, 9, dtype=float)
    y = np.minimum(x, corner + 1.0) + 0.01 * x  # a corner at x = corner + 1
    base = knee_index(x, y)
    assert base == corner
    assert knee_index(x * x_scale, y * scale + offset) == base


# --- smallest accelerator -------------------------------------------------------------------


def _table(seed: int, n_settings: int = 12, n_hw: int = 20) -> pd.DataFrame:
    """Total rows of a random sweep: accuracy a function of the setting, hardware random."""
    rng = np.random.default_rng(seed)
    rows = []
    for network in ("net-a", "net-b"):
        for s in range(n_settings):
            density = [0.4, 0.55, 0.7, 0.85, 1.0][s % 5]
            conv, fc = [8, 6, 4][s % 3], [5, 4, 2][(s // 3) % 3]
            accuracy = round(0.6 + 0.3 * density + 0.01 * conv + 0.005 * fc, 6)
            for h in range(n_hw):
                n_pe = int(rng.choice([1, 4, 16, 64]))
                clock = float(rng.choice([50.0, 200.0, 800.0]))
                sram = float(rng.choice([64.0, 256.0]))
                rows.append(
                    {
                        "point_id": f"{network}-{s}-{h}",
                        "row_type": "total",
                        "status": "ok",
                        "network": network,
                        "density_profile": "paper",
                        "density_scale": density,
                        "conv_bits": conv,
                        "fc_bits": fc,
                        "top1": accuracy,
                        "model_bytes": 1e6 * density * (conv + fc),
                        "n_pe": n_pe,
                        "clock_mhz": clock,
                        "sram_per_pe_kb": sram,
                        "sparse_sram_capacity_bytes": n_pe * sram * 1024,
                        "pointer_sram_capacity_bytes": n_pe * 32 * 1024.0,
                        "activation_capacity_bytes": 4096.0,
                        "latency_ms": float(rng.uniform(5, 80)),
                        "energy_mj": float(rng.integers(1, 4)),  # ties on purpose
                        "meets_target": bool(rng.random() < 0.5),
                        "fits_onchip": bool(rng.random() < 0.5),
                        "target_fps": 30.0,
                        "accelerator": f"edge-16 (n_pe={n_pe})",
                    }
                )
    frame = pd.DataFrame(rows)
    frame["fps"] = 1000.0 / frame["latency_ms"]
    return frame


def _brute_force(frame: pd.DataFrame) -> dict[tuple[str, float], str | None]:
    """The rule of reports.tradeoff written over the points directly."""
    frame = frame.copy()
    frame["capacity"] = (
        frame["sparse_sram_capacity_bytes"]
        + frame["pointer_sram_capacity_bytes"]
        + frame["activation_capacity_bytes"]
    )
    picks = {}
    for network, points in frame.groupby("network"):
        reference = points["top1"].max()
        for loss in LOSS_LEVELS:
            ok = points[
                points["meets_target"]
                & points["fits_onchip"]
                & (points["top1"] >= reference - loss - 1e-12)
            ]
            ok = ok.sort_values(["capacity", "n_pe", "clock_mhz", "energy_mj", "point_id"])
            picks[(network, loss)] = ok["point_id"].iloc[0] if len(ok) else None
    return picks


def _scan(frame: pd.DataFrame, batch: int):
    scan = TradeoffScan()
    for start in range(0, len(frame), batch):
        scan.observe(frame.iloc[start : start + batch].reset_index(drop=True), "top1")
    return scan.result("top1")


@pytest.mark.parametrize("seed", range(4))
def test_smallest_accelerator_equals_brute_force(seed):
    frame = _table(seed)
    table = _scan(frame, 37).smallest_table()
    expected = _brute_force(frame)
    got = {}
    for r in table.to_dict("records"):
        found = isinstance(r.get("point_id"), str)
        got[(r["network"], r["loss_allowed"])] = r["point_id"] if found else None
    assert got == expected
    assert any(v is not None for v in got.values())


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000), batch=st.integers(1, 500))
def test_scan_does_not_depend_on_the_batch_split(seed, batch):
    frame = _table(seed, n_settings=6, n_hw=8)
    whole, split = _scan(frame, len(frame)), _scan(frame, batch)
    pd.testing.assert_frame_equal(whole.smallest_table(), split.smallest_table())
    key = ["network", "density_scale", "conv_bits", "fc_bits"]
    a = whole.settings.sort_values(key).reset_index(drop=True)
    b = split.settings.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b[a.columns])
    assert whole.capacities == split.capacities


def test_settings_hold_each_setting_once_with_its_fastest_latency():
    frame = _table(1)
    data = _scan(frame, 50)
    key = ["network", "density_scale", "conv_bits", "fc_bits"]
    assert len(data.settings) == len(frame.drop_duplicates(key))
    fastest = frame.groupby(key)["latency_ms"].min()
    got = data.settings.set_index(key)["fastest_ms"]
    pd.testing.assert_series_equal(got.sort_index(), fastest.sort_index(), check_names=False)


def test_curves_and_knees_follow_the_most_accurate_other_axes():
    frame = _table(2, n_settings=15)
    data = _scan(frame, 100)
    curve = data.curve("net-a", "density_scale")
    assert (curve["conv_bits"] == curve["conv_bits"].max()).all()
    assert list(curve["density_scale"]) == sorted(curve["density_scale"])
    knees = data.knees()
    assert set(knees["axis"]) == {"density_scale", "conv_bits", "fc_bits"}
    assert set(knees["network"]) == {"net-a", "net-b"}


def test_report_has_the_tradeoff_section():
    frame = _table(3)
    text = build_report(frame, {})
    assert 'id="sec-tradeoff"' in text
    assert "Smallest accelerator that meets 30 fps and fits on chip" in text
    assert 'id="tradeoff"' in text and 'id="knees"' in text


def test_report_without_accuracy_says_so():
    frame = _table(3).drop(columns=["top1"])
    text = build_report(frame, {})
    assert 'id="sec-tradeoff"' in text
    assert "Smallest accelerator that meets" not in text


def test_report_draws_each_sensitivity_entry_of_the_metadata():
    entry = {
        "network": "alexnet-digits",
        "dense_top1": 0.97,
        "bits": None,
        "layers": [
            {"layer": "conv1", "kind": "conv", "weights": 23232, "densities": [0.5, 0.2],
             "top1": [0.96, 0.90]},
            {"layer": "fc6", "kind": "fc", "weights": 37748736, "densities": [0.5, 0.2],
             "top1": [0.97, 0.95]},
        ],
    }  # fmt: skip
    text = build_report(_table(3), {"sensitivity": [entry]})
    assert 'id="sensitivity-alexnet-digits"' in text
    without = build_report(_table(3), {})
    assert "Per-layer sensitivity not computed" in without
