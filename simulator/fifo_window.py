"""FIFO smoothing in closed form: the window model of the broadcast / FIFO schedule.

Part of `simulator` (DESIGN §4, §8), used by `simulator.analytical_model`. The cycle model
(`simulator.cycle_model`) runs the broadcast / FIFO recurrence item by item; this module gives
its expected drain time without running it, from the per-PE distribution of item costs alone.

Setting. K items are broadcast; item k costs PE p c[k, p] >= 1 cycles; the items of one
segment (an output batch, or a group of a grouped conv) are i.i.d. draws of a column, so the
costs of one PE are i.i.d. with a pmf P_p. With FIFO depth D a PE may start item k only after
every PE finished item k − D, so the PEs run at most D items apart.

Window model. Two limits are exact:
- D = 1 (a barrier per item): drain = K · E[max_p c_p] + 1;
- D >= K (no stall): drain ≈ E[max_p S_p(K)] + 1, S_p(w) = the sum of w costs of PE p.
In between, the schedule behaves like barriers every w_D items:
    drain ≈ K · M(w) / w + 1,   M(w) = E[max_p S_p(w)],   w = min(w_D, K),
    w_D = 1 + (κ · (D − 1) · μ / σ)²,
where μ, σ are the mean and standard deviation of one item's cost (averaged over the PEs).
The square is the diffusion scaling of the FIFO: the PEs may drift D − 1 items (≈ (D − 1)·μ
cycles) apart, and S_p(w) drifts by σ·√w, so the FIFO decouples the PEs over windows that
grow as ((D − 1)·μ / σ)². The coefficient κ is not fitted to any published number: it is read
from a table derived from the cycle model's own kernel (`build_kappa_table`): for costs
max(1, Binomial(n, d)) — exactly the cost of a column slice of n rows of an i.i.d. pruned
matrix at density d — on N PEs and FIFO depth D, κ is the value for which the window model
reproduces the kernel's drain on a long seeded stream. The table spans n, d, N, D on log grids
(`KAPPA_GRID`); a layer looks κ up by its segment's rows per PE and density, interpolating
multilinearly in the logarithms and clamping at the edges.

M(w) is exact (discrete convolution of the pmfs, FFT) while the support of S_p(w) stays under
`EXACT_BINS` values, and the normal approximation E[max_p N(w·μ_p, w·σ_p²)] beyond (the sums
of many items are close to normal there). PEs whose pmfs are identical are one class with a
multiplicity, so E[max] = Σ_m (1 − Π_c F_c(m)^count_c).
"""

from __future__ import annotations

import functools
import math
from importlib import resources

import numpy as np

EXACT_BINS = 4096
NORMAL_GRID_POINTS = 513

# The κ table's axes (`build_kappa_table`); the shipped table is `data/fifo_window_kappa.npz`.
KAPPA_GRID: dict[str, tuple] = {
    "rows_per_pe": (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024),
    "density": (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9),
    "n_pe": (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
    "fifo_depth": (2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256),
}
KAPPA_ITEMS = 16384  # items of each seeded stream the table is derived from
KAPPA_SEED = 0
KAPPA_FILE = "fifo_window_kappa.npz"


def binomial_cost_pmf(rows: int, density: float) -> np.ndarray:
    """pmf over 0..rows of max(1, Binomial(rows, density)) (index = cost in cycles)."""
    k = np.arange(rows + 1, dtype=np.float64)
    log_choose = (
        math.lgamma(rows + 1)
        - np.array([math.lgamma(x + 1) for x in k])
        - np.array([math.lgamma(rows - x + 1) for x in k])
    )
    with np.errstate(divide="ignore"):
        logp = log_choose + k * math.log(density) + (rows - k) * math.log1p(-density)
    pmf = np.exp(logp)
    out = np.zeros(max(rows + 1, 2))
    out[1] = pmf[0] + (pmf[1] if rows >= 1 else 0.0)
    out[2 : rows + 1] = pmf[2:]
    return out / out.sum()


def pmf_moments(pmf: np.ndarray) -> tuple[float, float]:
    """(mean, standard deviation) of a pmf over 0, 1, 2, …"""
    values = np.arange(pmf.shape[-1], dtype=np.float64)
    mean = float(pmf @ values)
    var = float(pmf @ values**2) - mean * mean
    return mean, math.sqrt(max(var, 0.0))


def _normal_expected_max(means, sds, counts) -> float:
    """E[max] over independent normals, class c repeated counts[c] times."""
    means = np.asarray(means, np.float64)
    sds = np.asarray(sds, np.float64)
    counts = np.asarray(counts, np.float64)
    spread = np.where(sds > 0, sds, 0.0)
    lo = float(np.min(means - 9.0 * spread))
    hi = float(np.max(means + 9.0 * spread))
    if hi - lo <= 1e-12:
        return float(np.max(means))
    x = np.linspace(lo, hi, NORMAL_GRID_POINTS)
    log_cdf = np.zeros_like(x)
    from scipy.special import log_ndtr

    for mean, sd, count in zip(means, sds, counts):
        if sd > 0:
            log_cdf += count * log_ndtr((x - mean) / sd)
        else:
            log_cdf += np.where(x >= mean, 0.0, -np.inf)
    survival = 1.0 - np.exp(log_cdf)
    return lo + float(np.sum((survival[1:] + survival[:-1]) * 0.5 * np.diff(x)))


def expected_max_of_sums(pmfs: np.ndarray, counts: np.ndarray, w: int) -> float:
    """M(w) = E[max over PEs of the sum of w i.i.d. costs]; pmfs [classes, support] (index =
    cost), counts [classes] = PEs per class (module docstring)."""
    pmfs = np.atleast_2d(np.asarray(pmfs, np.float64))
    counts = np.asarray(counts, np.float64)
    support = pmfs.shape[1]
    length = (support - 1) * w + 1
    if length <= EXACT_BINS:
        size = 1 << max(1, math.ceil(math.log2(length)))
        spectrum = np.fft.rfft(pmfs, size, axis=1) ** w
        sums = np.maximum(np.fft.irfft(spectrum, size, axis=1)[:, :length], 0.0)
        cdf = np.cumsum(sums, axis=1)
        cdf = np.minimum(cdf / cdf[:, -1:], 1.0)
        with np.errstate(divide="ignore"):
            log_cdf = counts @ np.log(cdf)
        return float(np.sum(1.0 - np.exp(log_cdf[:-1])))
    values = np.arange(support, dtype=np.float64)
    means = pmfs @ values
    sds = np.sqrt(np.maximum(pmfs @ values**2 - means**2, 0.0))
    return _normal_expected_max(w * means, math.sqrt(w) * sds, counts)


def window_rate(pmfs: np.ndarray, counts: np.ndarray, w: float) -> float:
    """M(w) / w: cycles per item with barriers every w items (linear between integer w)."""
    w = max(1.0, float(w))
    lower = math.floor(w)
    rate_lower = expected_max_of_sums(pmfs, counts, lower) / lower
    if w == lower:
        return rate_lower
    upper = lower + 1
    rate_upper = expected_max_of_sums(pmfs, counts, upper) / upper
    return rate_lower + (rate_upper - rate_lower) * (w - lower)


def window_items(kappa: float, fifo_depth: int, mean: float, sd: float) -> float:
    """w_D = 1 + (κ·(D − 1)·μ/σ)² (module docstring); inf when the costs do not vary."""
    if fifo_depth <= 1:
        return 1.0
    if sd <= 0.0:
        return math.inf
    return 1.0 + (kappa * (fifo_depth - 1) * mean / sd) ** 2


# --------------------------------------------------------------------------- the κ table
def _kappa_cell_seed(indices: tuple[int, ...]) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([KAPPA_SEED, *indices]))


def _fit_kappa(drain: float, items: int, rates_w, rates, mean: float, sd: float, depth: int):
    """κ for which items · r(w) + 1 = drain, r interpolated log-log on (rates_w, rates)."""
    target = (drain - 1.0) / items
    if target >= rates[0]:
        return 0.0
    if target <= rates[-1]:
        w = float(rates_w[-1])
    else:
        i = int(np.searchsorted(-rates, -target))
        w0, w1, r0, r1 = rates_w[i - 1], rates_w[i], rates[i - 1], rates[i]
        t = (math.log(r0) - math.log(target)) / (math.log(r0) - math.log(r1))
        w = math.exp(math.log(w0) + t * (math.log(w1) - math.log(w0)))
    if w >= rates_w[-1]:
        return math.nan  # saturated: the window reaches the whole stream (see kappa_table)
    return math.sqrt(max(w - 1.0, 0.0)) / ((depth - 1) * mean / sd)


def kappa_cells(i_rows: int, i_density: int, i_pe: int, items: int = KAPPA_ITEMS) -> np.ndarray:
    """κ over the FIFO-depth axis for one (rows, density, N) cell of the table: the cycle
    model's kernel on a seeded stream of `items` i.i.d. max(1, Binomial) costs."""
    from simulator.cycle_model import broadcast_schedule

    rows = KAPPA_GRID["rows_per_pe"][i_rows]
    density = KAPPA_GRID["density"][i_density]
    n_pe = KAPPA_GRID["n_pe"][i_pe]
    depths = KAPPA_GRID["fifo_depth"]
    pmf = binomial_cost_pmf(rows, density)
    mean, sd = pmf_moments(pmf)
    out = np.full(len(depths), np.nan)
    if sd <= 1e-9:
        return out
    rng = _kappa_cell_seed((i_rows, i_density, i_pe))
    cdf = np.cumsum(pmf)
    cdf[-1] = 1.0
    uniform = rng.random((items, n_pe))
    costs = np.searchsorted(cdf, uniform, side="right").astype(np.int32)  # inverse-CDF draws
    stream = np.arange(items, dtype=np.int32)
    scratch = np.zeros(n_pe, np.int64)
    rates_w = np.unique(np.round(np.logspace(0, math.log10(items), 48)).astype(np.int64))
    counts = np.array([n_pe])
    rates = np.array([expected_max_of_sums(pmf, counts, int(w)) / w for w in rates_w])
    for j, depth in enumerate(depths):
        drain, _ = broadcast_schedule(costs, stream, int(depth), scratch)
        out[j] = _fit_kappa(float(drain), items, rates_w, rates, mean, sd, depth)
    return out


def build_kappa_table(items: int = KAPPA_ITEMS, progress: bool = False) -> np.ndarray:
    """The κ table [rows, density, N, D] (NaN where the costs do not vary)."""
    shape = tuple(len(v) for v in KAPPA_GRID.values())
    table = np.full(shape, np.nan)
    for i_rows in range(shape[0]):
        for i_density in range(shape[1]):
            for i_pe in range(shape[2]):
                table[i_rows, i_density, i_pe] = kappa_cells(i_rows, i_density, i_pe, items)
        if progress:
            print(f"kappa table: rows {KAPPA_GRID['rows_per_pe'][i_rows]} done", flush=True)
    return table


@functools.cache
def kappa_table() -> np.ndarray:
    """The shipped κ table (`python -m simulator.fifo_window` rebuilds it)."""
    path = resources.files("simulator").joinpath("data", KAPPA_FILE)
    with path.open("rb") as handle, np.load(handle) as data:
        table = np.array(data["kappa"])
    return fill_kappa_table(table)


def fill_kappa_table(table: np.ndarray) -> np.ndarray:
    """Fill the NaN cells of a raw κ table. A cell is NaN where the costs do not vary (any κ
    works there) or where the window already spans the whole derivation stream (only a lower
    bound is known: the overhead there is below the stream's resolution). Such a cell takes
    the value of the nearest finite cell at a smaller FIFO depth, else the table median."""
    out = np.array(table, dtype=np.float64)
    median = float(np.nanmedian(out))
    for j in range(1, out.shape[-1]):
        missing = ~np.isfinite(out[..., j])
        out[..., j][missing] = out[..., j - 1][missing]
    return np.where(np.isfinite(out), out, median)


def lookup_kappa(rows_per_pe: float, density: float, n_pe: int, fifo_depth: int) -> float:
    """κ interpolated multilinearly in the logarithms of the four axes, clamped at the edges."""
    table = kappa_table()
    point = (rows_per_pe, density, n_pe, fifo_depth)
    index_weights = []
    for axis, value in zip(KAPPA_GRID.values(), point):
        logs = np.log(np.asarray(axis, np.float64))
        x = math.log(min(max(float(value), axis[0]), axis[-1]))
        i = int(np.clip(np.searchsorted(logs, x) - 1, 0, len(axis) - 2))
        t = (x - logs[i]) / (logs[i + 1] - logs[i])
        index_weights.append(((i, 1.0 - t), (i + 1, t)))
    value = 0.0
    for a in index_weights[0]:
        for b in index_weights[1]:
            for c in index_weights[2]:
                for d in index_weights[3]:
                    weight = a[1] * b[1] * c[1] * d[1]
                    if weight:
                        value += weight * table[a[0], b[0], c[0], d[0]]
    return float(value)


if __name__ == "__main__":  # python -m simulator.fifo_window: rebuild the shipped table
    from pathlib import Path

    built = build_kappa_table(progress=True)
    target = Path(__file__).with_name("data") / KAPPA_FILE
    target.parent.mkdir(exist_ok=True)
    np.savez_compressed(target, kappa=built)
    print(f"wrote {target}")
