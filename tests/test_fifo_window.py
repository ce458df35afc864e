"""The FIFO window model (simulator.fifo_window): exact sums, limits, and the κ table's
derivation from the cycle kernel."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from simulator import fifo_window
from simulator.cycle_model import broadcast_schedule
from simulator.fifo_window import (
    KAPPA_FILE,
    KAPPA_GRID,
    binomial_cost_pmf,
    expected_max_of_sums,
    fill_kappa_table,
    kappa_cells,
    kappa_table,
    lookup_kappa,
    window_items,
    window_rate,
)


def _brute_expected_max(pmfs, counts, w):
    """E[max over PEs of the sum of w draws], by enumerating every outcome."""
    pes = [pmf for pmf, count in zip(pmfs, counts) for _ in range(count)]
    support = [np.flatnonzero(pmf) for pmf in pes]
    total = 0.0
    draws = [list(itertools.product(s, repeat=w)) for s in support]
    for outcome in itertools.product(*draws):
        p = 1.0
        best = -1
        for pmf, values in zip(pes, outcome):
            p *= math.prod(pmf[v] for v in values)
            best = max(best, sum(values))
        total += p * best
    return total


@settings(max_examples=30)
@given(
    st.lists(
        st.lists(st.floats(0.0, 1.0), min_size=2, max_size=3).filter(lambda v: sum(v) > 0.1),
        min_size=1,
        max_size=2,
    ),
    st.lists(st.integers(1, 2), min_size=2, max_size=2),
    st.integers(1, 3),
)
def test_expected_max_of_sums_is_exact(rows, counts, w):
    pes = sum(counts[: len(rows)])
    assume(3 ** (w * pes) <= 20000)  # the enumeration stays small
    support = max(len(r) for r in rows)
    pmfs = np.zeros((len(rows), support))
    for i, r in enumerate(rows):
        pmfs[i, : len(r)] = np.asarray(r) / sum(r)
    counts = np.asarray(counts[: len(rows)])
    assert expected_max_of_sums(pmfs, counts, w) == pytest.approx(
        _brute_expected_max(pmfs, counts, w), rel=1e-9, abs=1e-9
    )


def test_normal_approximation_takes_over_smoothly(monkeypatch):
    pmf = binomial_cost_pmf(16, 0.3)
    counts = np.array([64])
    exact = expected_max_of_sums(pmf, counts, 200)
    monkeypatch.setattr(fifo_window, "EXACT_BINS", 8)
    normal = expected_max_of_sums(pmf, counts, 200)
    assert normal == pytest.approx(exact, rel=0.01)


def test_window_rate_limits():
    pmf = binomial_cost_pmf(8, 0.2)
    counts = np.array([32])
    values = np.arange(pmf.shape[0])
    mean = float(pmf @ values)
    # depth 1: E[max of one cost]; an infinite window: the mean
    cdf = np.cumsum(pmf)
    e_max = float(np.sum(1 - cdf[:-1] ** 32))
    assert window_rate(pmf, counts, 1) == pytest.approx(e_max, rel=1e-12)
    assert window_rate(pmf, counts, 1e6) == pytest.approx(mean, rel=0.01)
    # between integers: linear
    r2, r3 = window_rate(pmf, counts, 2), window_rate(pmf, counts, 3)
    assert window_rate(pmf, counts, 2.25) == pytest.approx(r2 + 0.25 * (r3 - r2))
    assert window_items(1.0, 1, mean, 1.0) == 1.0
    assert window_items(1.0, 5, mean, 0.0) == math.inf


def test_binomial_cost_pmf():
    pmf = binomial_cost_pmf(3, 0.5)
    assert pmf.tolist() == pytest.approx([0.0, 0.5, 0.375, 0.125])


@pytest.mark.parametrize(("i_rows", "i_density", "i_pe"), [(0, 4, 0), (3, 5, 1), (8, 3, 0)])
def test_kappa_table_cells_are_reproduced_by_the_cycle_kernel(i_rows, i_density, i_pe):
    """The shipped table is what the derivation gives (seeded, deterministic)."""
    from importlib import resources

    path = resources.files("simulator").joinpath("data", KAPPA_FILE)
    with path.open("rb") as handle, np.load(handle) as data:
        raw = np.array(data["kappa"])
    np.testing.assert_array_equal(
        kappa_cells(i_rows, i_density, i_pe), raw[i_rows, i_density, i_pe]
    )


def test_kappa_fit_reproduces_the_kernel_drain():
    """With the fitted κ, the window model gives back the kernel's drain on the same stream."""
    rows, density, n_pe, depth, items = 8, 0.3, 16, 4, 16384
    i = (KAPPA_GRID["rows_per_pe"].index(rows), KAPPA_GRID["density"].index(density))
    kappa = kappa_cells(*i, KAPPA_GRID["n_pe"].index(n_pe))[KAPPA_GRID["fifo_depth"].index(depth)]
    pmf = binomial_cost_pmf(rows, density)
    rng = fifo_window._kappa_cell_seed((*i, KAPPA_GRID["n_pe"].index(n_pe)))
    cdf = np.cumsum(pmf)
    cdf[-1] = 1.0
    costs = np.searchsorted(cdf, rng.random((items, n_pe)), side="right").astype(np.int32)
    drain, _ = broadcast_schedule(
        costs, np.arange(items, dtype=np.int32), depth, np.zeros(n_pe, np.int64)
    )
    values = np.arange(pmf.shape[0])
    mean = float(pmf @ values)
    sd = math.sqrt(float(pmf @ values**2) - mean**2)
    w = window_items(kappa, depth, mean, sd)
    model = items * window_rate(pmf, np.array([n_pe]), w) + 1
    assert model == pytest.approx(float(drain), rel=0.01)


def test_lookup_interpolates_and_clamps():
    table = kappa_table()
    grid = KAPPA_GRID
    assert lookup_kappa(grid["rows_per_pe"][3], grid["density"][4], grid["n_pe"][2], 8) == (
        pytest.approx(table[3, 4, 2, grid["fifo_depth"].index(8)])
    )
    # beyond the edges: the edge value
    edge = table[-1, -1, -1, -1]
    assert lookup_kappa(1e6, 0.99, 4096, 4096) == pytest.approx(edge)
    # between two grid depths: between their values
    a, b = table[3, 4, 2, 3], table[3, 4, 2, 4]
    mid = lookup_kappa(grid["rows_per_pe"][3], grid["density"][4], grid["n_pe"][2], 7)
    assert min(a, b) - 1e-12 <= mid <= max(a, b) + 1e-12


def test_fill_kappa_table():
    raw = np.array([[1.0, np.nan, 0.5, np.nan], [np.nan, np.nan, np.nan, np.nan]])
    filled = fill_kappa_table(raw)
    assert filled[0].tolist() == [1.0, 1.0, 0.5, 0.5]
    assert np.all(filled[1] == np.nanmedian(raw))
