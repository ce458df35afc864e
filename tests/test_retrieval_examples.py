"""Which compressed points and which queries the report's retrieval rows show, and the
sensitivity figure drawn from run.json's entry (pure functions on small hand-made inputs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dcsim.retrieval_examples import QUERIES_SHOWN, pick_points, pick_queries
from reports.sensitivity_figure import sensitivity_figure


def _settings(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["point_id", "top1", "compression_ratio"])


def test_points_most_compressed_within_one_point_and_about_12x():
    settings = _settings(
        [
            ("a", 0.980, 6.0),
            ("b", 0.975, 20.0),  # 0.5 points below dense: allowed, and the most compressed
            ("c", 0.960, 40.0),  # 2 points below: too lossy for the first pick
            ("d", 0.970, 11.0),  # closest to 12x on a log scale (|ln 11/12| < |ln 12/6|...)
        ]
    )
    picks = pick_points(settings, dense_top1=0.98)
    assert [p for _, p in picks] == ["b", "d"]
    assert "within 1 top-1 point" in picks[0][0] and "12x" in picks[1][0]


def test_points_are_not_repeated_and_empty_gives_none():
    settings = _settings([("a", 0.98, 12.5), ("b", 0.90, 30.0)])
    assert [p for _, p in pick_points(settings, dense_top1=0.98)] == ["a"]
    assert pick_points(_settings([]), 0.9) == []


def test_disagreeing_queries_first_then_in_order():
    gallery = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    queries = np.array([0, 1, 2, 3, 0, 1])
    dense = ((0, 1, 2), (2, 3, 0), (4, 5, 0), (6, 7, 0), (0, 1, 2), (2, 3, 4))
    compressed = list(dense)
    compressed[4] = (2, 0, 1)  # first retrieved class differs (1 vs 0): strongest
    compressed[2] = (4, 0, 1)  # same first class, 2 relevant of 3 -> 1: a gap of 1
    shown, flags, count = pick_queries(dense, tuple(compressed), queries, gallery)
    assert count == 2
    assert shown[:2] == [4, 2] and flags[:2] == [True, True]
    assert shown[2:] == [0, 1][: QUERIES_SHOWN - 2] and not any(flags[2:])


def test_no_disagreement_is_said():
    gallery = np.array([0, 1])
    top = ((0, 1), (1, 0))
    shown, flags, count = pick_queries(top, top, np.array([0, 1]), gallery)
    assert count == 0 and not any(flags) and shown == [0, 1]


def _entry() -> dict:
    return {
        "network": "net",
        "dense_top1": 0.9,
        "bits": None,
        "layers": [
            {"layer": "conv1", "kind": "conv", "weights": 10, "densities": [0.5, 0.1],
             "top1": [0.85, 0.5]},
            {"layer": "fc1", "kind": "fc", "weights": 100, "densities": [0.5, 0.1],
             "top1": [0.9, 0.89]},
        ],
        "auto": [{"max_loss_points": 1.0, "densities": {"conv1": 1.0, "fc1": 0.1},
                  "combined_top1": 0.88}],
    }  # fmt: skip


def test_sensitivity_figure_draws_every_layer_and_the_auto_choice():
    figure = sensitivity_figure(_entry())
    lines = [t for t in figure.data if t.mode == "lines+markers"]
    assert [t.name.split(" ")[0] for t in lines] == ["conv1", "fc1"]
    conv1 = lines[0]
    assert list(conv1.x) == [0.1, 0.5, 1.0]  # density ascending, dense at 1
    assert list(conv1.y) == pytest.approx([50.0, 85.0, 90.0])
    assert lines[1].line.dash == "dot" and conv1.line.dash == "solid"
    (auto,) = [t for t in figure.data if t.mode == "markers"]
    assert list(auto.x) == [1.0, 0.1] and list(auto.y) == pytest.approx([90.0, 89.0])
    assert figure.layout.xaxis.type == "log"


def test_sensitivity_figure_refuses_an_empty_entry():
    with pytest.raises(ValueError, match=r"layers=\[\] is invalid; allowed: at least one layer"):
        sensitivity_figure({"dense_top1": 0.9, "layers": []})
