"""What the report and the workbook need from a table of any size, gathered in a few streamed
passes with memory bounded by constants, not by the number of points.

Place in the flow: ``sweep ──► results.parquet ──► reports`` (:func:`scan_table` runs once;
the HTML report and the workbook both read its :class:`ReportData`). Reads only the result
table's columns, through :mod:`reports.table_source`.

The passes, over the total rows unless said otherwise, each reading only its columns:

A. counts (points, failures, fits, binding memories, codebook shortfalls, failure messages),
   the best-point rule's first pass, which accuracy metric is measured, the facets of the
   heatmaps, the number of layer rows;
B. the best-point rule's second pass; every Pareto front the report draws, per network —
   energy vs latency, energy vs area among the points meeting the target frame rate, and
   accuracy vs latency, energy and model size where accuracy is measured
   (:class:`reports.pareto.ParetoFront`, O(n log n)); the deterministic sample; the
   lowest-energy points (the breakdown's dropdown);
C. the full rows of the points to draw; the heatmap cells of the facets to draw; the first
   failed points;
D. (layer rows) the layer rows of the breakdown's points and of the load-balance points.

Reducing a large cloud: when more than :data:`CLOUD_POINTS` points ran, the figures draw
every Pareto-optimal point, each network's best point, the lowest-energy points and a sample
of the others. The sample is the points with the smallest hash of their point id
(``pandas.util.hash_array``, a fixed key) — per network, the budget shared evenly between
networks (a network with fewer points leaves its share to the others) — so it is
deterministic, independent of the batch size and of the order of the points, and the same in
every figure. Because every Pareto-optimal point is drawn, the fronts drawn are the fronts of
the whole sweep.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from reports.best_point import ACCURACY_METRICS, BestPointScan
from reports.columns import energy_component_columns, event_columns
from reports.heatmaps import (
    FACET_COUNT_CAP,
    HEAT,
    MAX_FACETS,
    HeatmapCells,
    bits_axis,
    facet_mask,
)
from reports.pareto import ParetoFront
from reports.table_source import (
    TableSource,
    as_source,
    flag_values,
    number_values,
    string_values,
)
from reports.tradeoff import TradeoffData, TradeoffScan

__all__ = ["CLOUD_POINTS", "FRONTS", "ReportData", "scan_table"]

#: Most points a figure draws besides the Pareto-optimal, best and lowest-energy points.
CLOUD_POINTS = 5_000
#: Failed points listed in the report (all are in the CSV and the workbook's summary).
MAX_FAILED_ROWS = 100
#: Distinct failure messages counted (the others are counted together).
MAX_MESSAGES = 20
#: Points of the breakdown's dropdown besides the best points (figure_common's limit).
LOWEST_ENERGY_POINTS = 25
#: The fronts, per network: name → (x column, y column or None for the accuracy metric,
#: whether y is minimised). x is always minimised.
FRONTS = {
    "energy-latency": ("latency_ms", "energy_mj", True),
    "latency": ("latency_ms", None, False),
    "energy": ("energy_mj", None, False),
    "size": ("model_bytes", None, False),
}
_STATS = (
    "point_id",
    "row_type",
    "network",
    "status",
    "meets_target",
    *ACCURACY_METRICS,
    "accelerator",
    "fc_bits",
    "conv_bits",
    "fits_onchip",
    "binding_memory",
    "codebook_fits",
    "codebook_need_entries",
    "codebook_capacity_entries",
    "error",
)
_FAILED = ("point_id", "network", "accelerator", "density_scale", "conv_bits", "fc_bits")
# the layer-row columns the breakdown figure reads (besides the energy components)
_BREAKDOWN = ("point_id", "row_type", "layer", "latency_ms", "cycles", "ideal_cycles")
_BALANCE = (
    "point_id",
    "row_type",
    "network",
    "accelerator",
    "accelerator_preset",
    "layer",
    "load_balance",
    "density_scale",
    "conv_bits",
    "fc_bits",
)


@dataclass
class ReportData:
    """The bounded summary of a result table that the report and the workbook are built from."""

    columns: list[str]
    n_rows: int = 0
    n_layer_rows: int = 0
    n_points: int = 0  # total rows (one per design point)
    n_ok: int = 0
    metric: str | None = None
    best: pd.DataFrame = field(default_factory=pd.DataFrame)
    drawn: pd.DataFrame = field(default_factory=pd.DataFrame)  # ok total rows to draw
    sampled: bool = False  # True when `drawn` holds fewer than all ok points
    front_ordinals: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    workbook_ids: list[str] = field(default_factory=list)  # on a front or best, table order
    breakdown_layers: pd.DataFrame = field(default_factory=pd.DataFrame)
    balance_layers: pd.DataFrame = field(default_factory=pd.DataFrame)
    heatmaps: dict[str, HeatmapCells] = field(default_factory=dict)
    facets: list[tuple] = field(default_factory=list)  # (network, accelerator) to draw
    n_facets: int = 0
    accuracy_facets: list[tuple] = field(default_factory=list)  # those with accuracy
    n_accuracy_facets: int = 0
    balance_points: int = 0  # points whose layer rows are in balance_layers
    first_facet: tuple | None = None
    n_fit: int = 0
    binding_counts: dict[str, int] = field(default_factory=dict)
    codebook_short: int = 0
    codebook_cases: list[tuple[int, int]] = field(default_factory=list)
    failed: pd.DataFrame = field(default_factory=pd.DataFrame)
    failure_messages: list[tuple[str, int]] = field(default_factory=list)
    source: TableSource | None = field(default=None, repr=False)  # the table scanned
    plan: object = field(default=None, repr=False)  # reports.workbook_plan, once computed
    tradeoff: TradeoffData | None = None  # per compression setting (reports.tradeoff)

    @property
    def n_failed(self) -> int:
        return self.n_points - self.n_ok

    @property
    def best_ids(self) -> list[str]:
        return [str(p) for p in self.best["point_id"]] if len(self.best) else []


def _ok_mask(frame: pd.DataFrame) -> np.ndarray:
    if "status" not in frame:
        return np.ones(len(frame), dtype=bool)
    return (frame["status"].fillna("ok") == "ok").to_numpy()


def point_hash(point_ids) -> np.ndarray:
    """The sampling key of each point: a 64-bit hash of its id (fixed key, deterministic)."""
    ids = np.asarray([str(p) for p in point_ids], dtype=object)
    return pd.util.hash_array(ids, categorize=False).astype(np.uint64)


def _quotas(counts: dict[str, int], budget: int) -> dict[str, int]:
    """Share `budget` evenly between networks; a network with fewer points gives its rest."""
    quotas = dict.fromkeys(counts, 0)
    left, open_ = budget, [n for n in counts if counts[n] > 0]
    while left > 0 and open_:
        share = max(1, left // len(open_))
        for network in list(open_):
            take = min(share, counts[network] - quotas[network], left)
            quotas[network] += take
            left -= take
            if quotas[network] >= counts[network]:
                open_.remove(network)
            if left <= 0:
                break
    return quotas


class _Sample:
    """Per network, the `quota` points with the smallest hash (ties: table order)."""

    def __init__(self, quotas: dict[str, int]):
        self.quotas = quotas
        self.keys: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def add(self, network: str, hashes: np.ndarray, ordinals: np.ndarray) -> None:
        quota = self.quotas.get(network, 0)
        if quota <= 0:
            return
        old_h, old_o = self.keys.get(network, (np.empty(0, np.uint64), np.empty(0, np.int64)))
        h, o = np.concatenate((old_h, hashes)), np.concatenate((old_o, ordinals))
        if len(h) > quota:
            order = np.lexsort((o, h))[:quota]
            h, o = h[order], o[order]
        self.keys[network] = (h, o)

    def ordinals(self) -> np.ndarray:
        parts = [o for _, o in self.keys.values()]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)


def _pass_a(source: TableSource, data: ReportData, best: BestPointScan):
    network_counts: Counter = Counter()
    facets: set = set()
    accuracy_facets: set = set()
    binding: Counter = Counter()
    messages: Counter = Counter()
    cases: set = set()
    distinct = {"fc_bits": set(), "conv_bits": set()}
    metric_seen = dict.fromkeys(ACCURACY_METRICS, False)
    for frame in source.frames(_STATS):
        data.n_rows += len(frame)
        if "row_type" in frame:
            layer = (frame["row_type"] == "layer").to_numpy()
            data.n_layer_rows += int(layer.sum())
            frame = frame[(frame["row_type"] == "total").to_numpy()]
        else:
            data.n_layer_rows += len(frame)
            continue
        if frame.empty:
            continue
        ok = _ok_mask(frame)
        data.n_points += len(frame)
        data.n_ok += int(ok.sum())
        failed = frame[~ok]
        if "error" in failed:
            for message in failed["error"].fillna("").astype(str):
                if message in messages or len(messages) < MAX_MESSAGES:
                    messages[message] += 1
                else:
                    messages[None] += 1
        frame = frame[ok]
        best.observe(frame)
        networks = (
            frame["network"].astype(str) if "network" in frame else pd.Series("", index=frame.index)
        )
        network_counts.update(networks.tolist())
        for metric in ACCURACY_METRICS:
            if metric in frame and not metric_seen[metric]:
                metric_seen[metric] = bool(np.isfinite(number_values(frame, metric)).any())
        for column in distinct:
            if column in frame and len(distinct[column]) < 2:
                distinct[column].update(frame[column].dropna().unique().tolist()[:2])
        if "accelerator" in frame and len(facets) < FACET_COUNT_CAP:
            pairs = frame[["network", "accelerator"]].drop_duplicates()
            facets.update(zip(pairs["network"], pairs["accelerator"]))
            measured = np.zeros(len(frame), dtype=bool)
            for metric in ACCURACY_METRICS:
                measured |= np.isfinite(number_values(frame, metric))
            pairs = frame.loc[measured, ["network", "accelerator"]].drop_duplicates()
            accuracy_facets.update(zip(pairs["network"], pairs["accelerator"]))
        if "fits_onchip" in frame:
            fits = frame["fits_onchip"].fillna(False).astype(bool).to_numpy()
            data.n_fit += int(fits.sum())
            if "binding_memory" in frame:
                binding.update(frame.loc[~fits, "binding_memory"].astype(str).tolist())
        if "codebook_fits" in frame:
            short = frame[~frame["codebook_fits"].fillna(True).astype(bool).to_numpy()]
            data.codebook_short += len(short)
            need = number_values(short, "codebook_need_entries")
            capacity = number_values(short, "codebook_capacity_entries")
            ok_pair = ~(np.isnan(need) | np.isnan(capacity))
            cases.update(
                zip(need[ok_pair].astype(int).tolist(), capacity[ok_pair].astype(int).tolist())
            )
    data.metric = next((m for m in ACCURACY_METRICS if metric_seen[m]), None)
    data.binding_counts = dict(sorted(binding.items(), key=lambda kv: -kv[1]))
    data.codebook_cases = sorted(cases)
    named = [(m, c) for m, c in messages.items() if m is not None]
    if messages.get(None):
        named.append(("(other messages)", messages[None]))
    data.failure_messages = named
    bits = bits_axis(len(distinct["fc_bits"]), len(distinct["conv_bits"]))
    return network_counts, facets, accuracy_facets, bits


def _pass_b(source, data: ReportData, best: BestPointScan, quotas: dict[str, int]):
    columns = ["point_id", "network", "status", "meets_target", "accelerator"]
    columns += ["energy_mj", "latency_ms", "model_bytes", *ACCURACY_METRICS]
    columns += [c for c in TradeoffScan.COLUMNS if c not in columns]
    tradeoff = TradeoffScan()
    fronts: dict[tuple[str, str], ParetoFront] = {}
    sample = _Sample(quotas)
    lowest = pd.DataFrame()
    keep_lowest = LOWEST_ENERGY_POINTS + len(quotas)
    base = 0
    for frame in source.frames(columns, "total"):
        ordinals = np.arange(base, base + len(frame), dtype=np.int64)
        base += len(frame)
        ok = _ok_mask(frame)
        frame, ordinals = frame[ok].reset_index(drop=True), ordinals[ok]
        if frame.empty:
            continue
        best.consider(frame)
        tradeoff.observe(frame, data.metric)
        networks = (
            string_values(frame["network"])
            if "network" in frame
            else np.full(len(frame), "", object)
        )
        hashes = point_hash(frame["point_id"])
        for network in dict.fromkeys(networks):
            sel = networks == network
            sample.add(network, hashes[sel], ordinals[sel])
            for name, (x_col, y_col, minimise_y) in FRONTS.items():
                y_col = y_col or data.metric
                if y_col is None or x_col not in frame or y_col not in frame:
                    continue
                y = number_values(frame, y_col)[sel]
                front = fronts.setdefault((network, name), ParetoFront())
                front.add(number_values(frame, x_col)[sel], -y if minimise_y else y, ordinals[sel])
            if "area_mm2" in frame and "energy_mj" in frame:
                # energy vs area among the points that meet the target (others: NaN, left out)
                meets = flag_values(frame, "meets_target")[sel]
                area = np.where(meets, number_values(frame, "area_mm2")[sel], np.nan)
                front = fronts.setdefault((network, "energy-area"), ParetoFront())
                front.add(area, -number_values(frame, "energy_mj")[sel], ordinals[sel])
        if "energy_mj" in frame:
            part = pd.DataFrame(
                {
                    "energy_mj": number_values(frame, "energy_mj"),
                    "point_id": frame["point_id"],
                    "_o": ordinals,
                }
            )
            lowest = pd.concat([lowest, part]) if len(lowest) else part
            lowest = lowest.sort_values(
                ["energy_mj", "point_id"], na_position="last", kind="mergesort"
            )
            lowest = lowest.iloc[:keep_lowest]
    data.front_ordinals = {key: front.ordinals() for key, front in fronts.items()}
    data.tradeoff = tradeoff.result(data.metric)
    low = lowest["_o"].to_numpy(np.int64) if len(lowest) else np.empty(0, np.int64)
    return sample.ordinals(), low


def _not_drawn(columns) -> set[str]:
    """Columns no figure, hover or table of the report reads from a total row."""
    return set(energy_component_columns(columns)) | set(event_columns(columns))


def _pass_c(source, data: ReportData, wanted: np.ndarray, best_ids: set[str], heatmaps):
    drawn, failed = [], []
    n_failed = 0
    base = 0
    wanted = np.unique(wanted)
    skip = _not_drawn(source.columns)
    columns = [c for c in source.columns if c not in skip]
    for frame in source.frames(columns, "total"):
        ordinals = np.arange(base, base + len(frame), dtype=np.int64)
        base += len(frame)
        ok = _ok_mask(frame)
        if n_failed < MAX_FAILED_ROWS and (~ok).any():
            rows = frame[~ok].iloc[: MAX_FAILED_ROWS - n_failed]
            columns = [c for c in (*_FAILED, "error", "config_json") if c in rows]
            failed.append(rows[columns])
            n_failed += len(rows)
        ids = (
            string_values(frame["point_id"])
            if "point_id" in frame
            else np.full(len(frame), "", object)
        )
        take = ok & (np.isin(ordinals, wanted) | np.isin(ids, list(best_ids)))
        if take.any():
            rows = frame[take].copy()
            rows["_ordinal"] = ordinals[take]
            drawn.append(rows)
        oks = frame[ok].reset_index(drop=True)
        masks: dict[frozenset, np.ndarray] = {}
        for cells in heatmaps.values():
            if cells.facets is None or oks.empty or "accelerator" not in oks:
                cells.add(oks)
                continue
            key = frozenset(cells.facets)
            if key not in masks:
                masks[key] = facet_mask(oks, cells.facets)
            cells.add(oks, masks[key])
    if drawn:
        data.drawn = pd.concat(drawn, ignore_index=True)
    else:
        data.drawn = pd.DataFrame(columns=[*data.columns, "_ordinal"])
    data.drawn["_hash"] = point_hash(data.drawn["point_id"]) if "point_id" in data.drawn else 0
    if failed:
        data.failed = pd.concat(failed, ignore_index=True)


def _pass_d(source, data: ReportData, breakdown_ids: list[str], balance_ids):
    breakdown, balance = [], []
    needed = {*_BALANCE, *_BREAKDOWN, *energy_component_columns(source.columns)}
    columns = [c for c in source.columns if c in needed]
    wanted = sorted(set(breakdown_ids) | set(balance_ids or ()))
    ids = None if balance_ids is None else pa.array(wanted, pa.string())
    for frame in source.frames(columns, "layer", point_ids=ids):
        pids = string_values(frame["point_id"])
        breakdown.append(frame[np.isin(pids, breakdown_ids)])
        balance.append(frame[[c for c in _BALANCE if c in frame]])
    data.breakdown_layers = (
        pd.concat(breakdown, ignore_index=True) if breakdown else pd.DataFrame(columns=columns)
    )
    data.balance_layers = pd.DataFrame(columns=[c for c in _BALANCE if c in columns])
    if balance:
        data.balance_layers = pd.concat(balance, ignore_index=True)
        data.balance_points = int(data.balance_layers["point_id"].nunique())


def _chosen_facets(all_facets: set, best_facets: list[tuple]) -> list[tuple]:
    chosen = list(dict.fromkeys(f for f in best_facets if f in all_facets))
    for facet in sorted(all_facets):
        if len(chosen) >= MAX_FACETS:
            break
        if facet not in chosen:
            chosen.append(facet)
    return sorted(chosen)


def _release() -> None:
    """Hand memory arrow's pool no longer uses back to the system between passes."""
    pa.default_memory_pool().release_unused()


def scan_table(results) -> ReportData:
    """Gather :class:`ReportData` from a parquet path, an arrow table or a DataFrame."""
    source = as_source(results)
    data = ReportData(columns=source.columns, source=source)
    best = BestPointScan()
    counts, facets, accuracy_facets, bits = _pass_a(source, data, best)
    _release()
    data.sampled = data.n_ok > CLOUD_POINTS
    quotas = _quotas(dict(counts), CLOUD_POINTS)
    sample, lowest = _pass_b(source, data, best, quotas)
    _release()
    data.best = best.result()
    picks = best.pick_records()
    best_facets = [
        (picks[n].get("network"), picks[n].get("accelerator")) for n in data.best["network"]
    ]
    data.first_facet = best_facets[0] if best_facets else None
    data.n_facets, data.n_accuracy_facets = len(facets), len(accuracy_facets)
    data.facets = _chosen_facets(facets, best_facets)
    data.accuracy_facets = _chosen_facets(accuracy_facets, best_facets)
    heatmaps = {}
    for which in HEAT:
        allowed = data.accuracy_facets if which == "accuracy" else data.facets
        heatmaps[which] = HeatmapCells(which, data.metric, bits, allowed)
    fronts = [o for o in data.front_ordinals.values()]
    wanted = (
        np.concatenate([sample, lowest, *fronts]) if fronts else np.concatenate([sample, lowest])
    )
    _pass_c(source, data, wanted, set(data.best_ids), heatmaps)
    _release()
    data.heatmaps = heatmaps
    on_front = np.unique(np.concatenate(fronts)) if fronts else np.empty(0, np.int64)
    data.drawn["_front"] = np.isin(data.drawn["_ordinal"].to_numpy(np.int64), on_front)
    data.drawn["_best"] = (
        data.drawn["point_id"].astype(str).isin(data.best_ids)
        if "point_id" in data.drawn
        else False
    )
    keep = (data.drawn["_front"] | data.drawn["_best"]).to_numpy(bool)
    if keep.any():
        data.workbook_ids = data.drawn.loc[keep, "point_id"].astype(str).tolist()
    from reports.layer_figures import selectable_points

    breakdown_ids = selectable_points(data.drawn, data.best_ids) if len(data.drawn) else []
    balance_ids = None
    if data.sampled:
        in_sample = np.isin(data.drawn["_ordinal"].to_numpy(), sample)
        balance_ids = data.drawn.loc[in_sample, "point_id"].astype(str).tolist() + data.best_ids
    _pass_d(source, data, breakdown_ids, balance_ids)
    _release()
    return data
