"""The bits-vs-accuracy trend checks: registration in `dcsim validate` and their verdicts,
on a stand-in context (the real one trains the digits AlexNet; see README)."""

from __future__ import annotations

import math

import pytest

import dcsim.accuracy_trends as trends
from simulator.validation import CHECKS


class FakeContext:
    def __init__(self, table):
        self.table = table

    def dense_top1(self):
        return 0.96

    def quantized_top1(self, source, conv_bits, fc_bits, init):
        return self.table.get((source, conv_bits, fc_bits, init), 0.96)


def test_checks_are_registered():
    for name in ("accuracy-bits", "accuracy-init", "accuracy-prune-quant"):
        assert name in CHECKS


@pytest.mark.parametrize(("fc2", "holds"), [(0.90, True), (0.30, False)])
def test_bits_verdict(monkeypatch, fc2, holds):
    table = {("pruned", 2, 8, "linear"): 0.40, ("pruned", 8, 2, "linear"): fc2}
    monkeypatch.setattr(trends._Context, "get", classmethod(lambda cls, seed: FakeContext(table)))
    rows = trends.check_accuracy_bits(0)
    assert [r["model"] for r in rows[:2]] == pytest.approx([56.0, (0.96 - fc2) * 100])
    verdict = rows[-1]["notes"]
    assert verdict.endswith("trend holds" if holds else "trend does not hold")
    assert all(math.isnan(r["published"]) for r in rows)
    assert rows[0]["notes"] == "conv 2-bit, fc 8-bit"
    assert rows[-1]["source"].startswith("Han et al. Fig. 7")  # the figure whose trend it is


def test_init_and_prune_quant_verdicts(monkeypatch):
    table = {
        ("pruned", 4, 2, "linear"): 0.95,
        ("pruned", 4, 2, "density"): 0.93,
        ("pruned", 4, 2, "random"): 0.90,
        ("dense", 4, 2, "linear"): 0.90,
    }
    monkeypatch.setattr(trends._Context, "get", classmethod(lambda cls, seed: FakeContext(table)))
    init_rows = trends.check_accuracy_init(0)
    assert init_rows[-1]["notes"].endswith("trend holds")
    assert init_rows[-1]["model"] == pytest.approx(-2.0)
    prune_rows = trends.check_accuracy_prune_quant(0)
    assert prune_rows[1]["notes"].endswith("trend holds")
    assert prune_rows[1]["model"] == pytest.approx(1.0)
    assert prune_rows[0]["model"] == pytest.approx(6.0)
