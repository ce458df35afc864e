"""Synthetic sweep tables of any size with the real column schema, written to parquet in
row groups (memory bounded by the chunk size), for the output tests and benchmarks.

The values are random but consistent, as the sweep makes them: per layer, energy of an
action = events × the energy table's pJ × 1e-9 and energy_mj = their sum; a total row sums
its layers (latency, energy, events, sizes), fps = 1000 / latency, meets_target = fps ≥
target, fits_onchip = no memory's need exceeds its capacity; accuracy is measured on network
"net-a" and not on "net-b"; a fraction of points failed (a single total row, status "error").
Points are ordered as a sweep stores them: each point's layer rows, then its total row.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ACTIONS = (
    "sparse_sram_read",
    "pointer_read",
    "activation_sram_read",
    "activation_sram_write",
    "codebook_lookup",
    "codebook_decode",
    "mac",
    "register_access",
    "lnzd_op",
    "fifo_access",
    "leakage_cycle",
    "dram_bit",
)
N_PE = (8, 16, 32, 64, 128, 256, 512)
FIFO = (1, 2, 4, 8)
CLOCK_MHZ = (200.0, 400.0, 800.0)
DENSITY_SCALE = (0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
FC_BITS = (2, 4, 5)
CONV_BITS = (4, 8)
NETWORKS = ("net-a", "net-b")
TARGET_FPS = 30.0
_BASE_PJ = dict(zip(ACTIONS, (20.0, 6.0, 2.5, 3.0, 0.4, 0.05, 1.1, 0.15, 0.01, 0.3, 0.05, 20.0)))
# events per stored entry of each action (per layer, × entries)
_EVENTS_PER_ENTRY = dict(
    zip(ACTIONS, (0.125, 0.3, 0.01, 0.004, 1.0, 60.0, 1.0, 2.0, 0.05, 0.6, 0.0, 0.0))
)


def accelerator_label(n_pe: int, fifo: int, clock: float) -> str:
    return f"edge-16 (n_pe={n_pe}, fifo_depth={fifo}, clock_mhz={clock:g})"


def _pj(action: str, clock: float) -> float:
    """pJ per event of `action` on the variant with this clock (leakage scales with it)."""
    base = _BASE_PJ[action]
    return base * (800.0 / clock) if action == "leakage_cycle" else base


def synthetic_meta(created: str = "2026-11-30T12:00:00+00:00") -> dict:
    """run.json of the synthetic sweep: one spec and energy table per hardware variant."""
    accelerators, energy = [], []
    for n_pe in N_PE:
        for fifo in FIFO:
            for clock in CLOCK_MHZ:
                label = accelerator_label(n_pe, fifo, clock)
                accelerators.append(
                    {"accelerator": label, "name": "edge-16", "n_pe": n_pe, "fifo_depth": fifo}
                )
                for action in ACTIONS:
                    energy.append(
                        {
                            "accelerator": label,
                            "action": action,
                            "energy_pj": _pj(action, clock),
                            "unit": "one bit" if action == "dram_bit" else f"one {action}",
                            "formula": "synthetic",
                            "source": "tests/synthetic_tables.py",
                        }
                    )
    return {
        "config": {"name": "synthetic", "target_fps": TARGET_FPS},
        "accelerators": accelerators,
        "energy_table": energy,
        "validation": [
            {"check": "synthetic", "published": 1.0, "model": 1.0, "error_pct": 0.0, "unit": "x"}
        ],
        "retrieval": [],
        "dcsim_version": "0.1.0",
        "created": created,
    }


def _point_ids(indices: np.ndarray, seed: int) -> list[str]:
    """16-hex-digit ids, a splitmix64 of (seed, index): distinct and deterministic."""
    with np.errstate(over="ignore"):
        z = indices.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15) * np.uint64(seed + 1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return [f"{v:016x}" for v in z.tolist()]


def _chunk(start: int, n: int, n_layers: int, rng, seed: int, failed_fraction: float):
    """Columns of points start … start + n - 1 (each: n_layers layer rows + a total row)."""
    idx = np.arange(start, start + n)
    ids = _point_ids(idx, seed)
    pick = lambda values: np.asarray(values)[rng.integers(0, len(values), n)]  # noqa: E731
    network = pick(NETWORKS)
    n_pe, fifo, clock = pick(N_PE), pick(FIFO), pick(CLOCK_MHZ)
    scale, fc_bits, conv_bits = pick(DENSITY_SCALE), pick(FC_BITS), pick(CONV_BITS)
    failed = rng.random(n) < failed_fraction
    labels = [accelerator_label(a, b, c) for a, b, c in zip(n_pe, fifo, clock)]
    weights = np.asarray([2.0e6 * (1 + k) ** 1.3 for k in range(n_layers)])
    density = np.clip(scale[:, None] * rng.uniform(0.05, 0.4, (n, n_layers)), 0.01, 1.0)
    entries = np.round(weights[None, :] * density)
    ideal = np.ceil(entries / n_pe[:, None])
    balance = rng.uniform(0.55, 0.98, (n, n_layers)) * (1 - 0.02 * np.log2(n_pe))[:, None]
    balance *= (1 + 0.02 * np.log2(fifo))[:, None] / 1.06
    balance = np.clip(balance, 0.05, 1.0)
    cycles = np.ceil(ideal / balance)
    latency = cycles / (clock[:, None] * 1e3)
    bits = np.where(
        np.arange(n_layers)[None, :] < n_layers // 2, conv_bits[:, None], fc_bits[:, None]
    )
    model = np.round(entries * (bits + 4) / 8 + 64 * n_pe[:, None])
    layer = {"latency": latency, "cycles": cycles, "ideal": ideal, "model": model}
    events = {a: np.round(entries * _EVENTS_PER_ENTRY[a]) for a in ACTIONS}
    events["leakage_cycle"] = cycles.copy()
    capacity = n_pe * 128.0 * 1024
    events["dram_bit"] = np.where(model.sum(1)[:, None] > capacity[:, None], model * 8.0, 0.0)
    pj = {a: np.asarray([_pj(a, c) for c in clock]) for a in ACTIONS}
    energy = {a: events[a] * pj[a][:, None] * 1e-9 for a in ACTIONS}
    energy_total = sum(energy.values())
    accuracy = 0.9 - 0.08 * (1 - scale) - 0.03 * (5 - fc_bits) + rng.normal(0, 0.01, n)
    accuracy = np.where(network == "net-a", accuracy, np.nan)
    return dict(
        ids=ids,
        network=network,
        n_pe=n_pe,
        fifo=fifo,
        clock=clock,
        scale=scale,
        fc_bits=fc_bits,
        conv_bits=conv_bits,
        failed=failed,
        labels=labels,
        weights=weights,
        density=density,
        layer=layer,
        events=events,
        energy=energy,
        energy_total=energy_total,
        accuracy=accuracy,
        capacity=capacity,
        bits=bits,
    )


# float columns without a value on a failed point's row (its settings stay)
_RESULT_FLOATS = {
    "weights",
    "weight_density",
    "weight_bits",
    "activation_density",
    "cycles",
    "ideal_cycles",
    "stall_cycles",
    "load_balance",
    "utilization",
    "fillers",
    "latency_ms",
    "compute_ms",
    "dram_ms",
    "energy_mj",
    "model_bytes",
    "container_bytes",
    "dense_bytes",
    "compression_ratio",
    "weight_dram_bytes",
    "activation_dram_bytes",
    "sparse_sram_need_bytes",
    "sparse_sram_capacity_bytes",
    "pointer_sram_need_bytes",
    "pointer_sram_capacity_bytes",
    "activation_need_bytes",
    "activation_capacity_bytes",
    "binding_utilization",
    "fps",
    "host_op_elements",
    "top1",
    "top5",
    *(f"events_{a}" for a in ACTIONS),
    *(f"energy_{a}_mj" for a in ACTIONS),
}


def _rows(c: dict, n_layers: int) -> pa.Table:
    """The chunk's rows in table order, every column of the real schema."""
    n = len(c["ids"])
    per = n_layers + 1
    ok_rows = np.repeat(~c["failed"], per)
    keep = ok_rows | np.tile(np.arange(per) == n_layers, n)  # failed: the total row only
    rep = lambda v: np.repeat(np.asarray(v), per)  # noqa: E731

    def col(layer_values, total_values, dtype=float):
        out = np.empty((n, per), dtype=dtype if dtype is not object else object)
        out[:, :n_layers] = layer_values
        out[:, n_layers] = total_values
        return out.reshape(-1)

    configs = [
        json.dumps(
            {
                "accelerator": "edge-16",
                "clock_mhz": float(k),
                "conv_bits": int(cb),
                "density_scale": float(s),
                "fc_bits": int(fb),
                "fifo_depth": int(f),
                "n_pe": int(p),
                "network": {"label": str(net), "weights": "synthetic"},
                "seed": 0,
                "sim_model": "analytical",
                "target_fps": TARGET_FPS,
            },
            sort_keys=True,
        )
        for p, f, k, s, fb, cb, net in zip(
            c["n_pe"],
            c["fifo"],
            c["clock"],
            c["scale"],
            c["fc_bits"],
            c["conv_bits"],
            c["network"],
        )
    ]
    L = c["layer"]
    latency_total = L["latency"].sum(1)
    fps = 1000.0 / latency_total
    model_total = L["model"].sum(1)
    need = {"sparse_sram": model_total * 0.8, "pointer_sram": model_total * 0.2}
    need["activation"] = np.full(n, 2.0 * 4096)
    cap = {"sparse_sram": c["capacity"] * 0.8, "pointer_sram": c["capacity"] * 0.2}
    cap["activation"] = c["n_pe"] * 2304.0
    ratio = {m: need[m] / cap[m] for m in need}
    names = {"sparse_sram": "sparse-matrix SRAM", "pointer_sram": "pointer SRAM"}
    names["activation"] = "activation storage"
    stacked = np.column_stack([ratio[m] for m in need])
    fits = (stacked <= 1).all(1)
    binding = np.asarray([names[m] for m in need], dtype=object)[stacked.argmax(1)]
    overflow = ["; ".join(names[m] for m in need if ratio[m][i] > 1) for i in range(n)]
    nan = np.full(n, np.nan)
    layer_nan = np.full((n, n_layers), np.nan)
    layer_names = [f"layer{k + 1}" for k in range(n_layers)]
    columns = {
        "point_id": rep(c["ids"]),
        "network": rep(c["network"]),
        "network_name": rep(c["network"]),
        "network_source": rep([f"built-in:{v}" for v in c["network"]]),
        "weight_source": rep(["synthetic"] * n),
        "accelerator": rep(c["labels"]),
        "accelerator_preset": rep(["edge-16"] * n),
        "n_pe": rep(c["n_pe"]),
        "clock_mhz": rep(c["clock"]),
        "sram_per_pe_kb": rep(np.full(n, 128.0)),
        "fifo_depth": rep(c["fifo"]),
        "node_nm": rep(np.full(n, 45)),
        "density_profile": rep(["paper"] * n),
        "density_scale": rep(c["scale"]),
        "conv_bits": rep(c["conv_bits"]),
        "fc_bits": rep(c["fc_bits"]),
        "index_bits": rep(np.full(n, 4)),
        "centroid_init": rep(["linear"] * n),
        "sim_model": rep(["analytical"] * n),
        "seed": rep(np.zeros(n, dtype=np.int64)),
        "target_fps": rep(np.full(n, TARGET_FPS)),
        "config_json": rep(configs),
        "row_type": np.tile(np.asarray(["layer"] * n_layers + ["total"], dtype=object), n),
        "layer": np.tile(np.asarray(layer_names + ["total"], dtype=object), n),
        "layer_kind": np.tile(np.asarray(["fc"] * n_layers + [""], dtype=object), n),
        "weights": col(
            np.broadcast_to(c["weights"], (n, n_layers)), np.full(n, c["weights"].sum())
        ),
        "weight_density": col(
            c["density"], (c["density"] * c["weights"]).sum(1) / c["weights"].sum()
        ),
        "weight_bits": col(c["bits"], nan),
        "activation_density": col(np.full((n, n_layers), 0.35), nan),
        "cycles": col(L["cycles"], L["cycles"].sum(1)),
        "ideal_cycles": col(L["ideal"], L["ideal"].sum(1)),
        "stall_cycles": col(L["cycles"] - L["ideal"], (L["cycles"] - L["ideal"]).sum(1)),
        "load_balance": col(L["ideal"] / L["cycles"], L["ideal"].sum(1) / L["cycles"].sum(1)),
        "utilization": col(L["ideal"] / L["cycles"], nan),
        "fillers": col(np.round(L["ideal"] * 0.01), np.round(L["ideal"] * 0.01).sum(1)),
        "latency_ms": col(L["latency"], latency_total),
        "compute_ms": col(L["latency"], latency_total),
        "dram_ms": col(np.zeros((n, n_layers)), np.zeros(n)),
        "energy_mj": col(c["energy_total"], c["energy_total"].sum(1)),
        "model_bytes": col(L["model"], model_total),
        "container_bytes": col(np.round(L["model"] * 0.7), np.round(L["model"] * 0.7).sum(1)),
        "dense_bytes": col(
            np.broadcast_to(c["weights"] * 4, (n, n_layers)), np.full(n, c["weights"].sum() * 4)
        ),
        "compression_ratio": col(
            c["weights"] * 4 / L["model"], c["weights"].sum() * 4 / model_total
        ),
        "weight_dram_bytes": col(np.zeros((n, n_layers)), np.zeros(n)),
        "activation_dram_bytes": col(np.zeros((n, n_layers)), np.zeros(n)),
        "onchip_bytes": rep(c["capacity"].astype(np.int64)),
        "sparse_sram_need_bytes": col(L["model"] * 0.8, need["sparse_sram"]),
        "sparse_sram_capacity_bytes": col(layer_nan, cap["sparse_sram"]),
        "pointer_sram_need_bytes": col(L["model"] * 0.2, need["pointer_sram"]),
        "pointer_sram_capacity_bytes": col(layer_nan, cap["pointer_sram"]),
        "activation_need_bytes": col(np.full((n, n_layers), 2.0 * 4096), need["activation"]),
        "activation_capacity_bytes": col(layer_nan, cap["activation"]),
        "overflow": col(
            np.full((n, n_layers), "", dtype=object), np.asarray(overflow, dtype=object), object
        ),
        "fits_onchip": col(np.ones((n, n_layers), bool), fits, bool),
        "binding_memory": col(np.full((n, n_layers), "", dtype=object), binding, object),
        "binding_utilization": col(layer_nan, stacked.max(1)),
        "codebook_need_entries": rep(2 ** np.maximum(c["fc_bits"], c["conv_bits"])),
        "codebook_capacity_entries": rep(np.full(n, 16)),
        "codebook_entries": rep(np.maximum(2 ** np.maximum(c["fc_bits"], c["conv_bits"]), 16)),
        "codebook_fits": rep(2 ** np.maximum(c["fc_bits"], c["conv_bits"]) <= 16),
    }
    for a in ACTIONS:
        columns[f"events_{a}"] = col(c["events"][a], c["events"][a].sum(1))
        columns[f"energy_{a}_mj"] = col(c["energy"][a], c["energy"][a].sum(1))
    columns.update(
        fps=col(1000.0 / L["latency"], fps),
        meets_target=col(np.zeros((n, n_layers), bool), fps >= TARGET_FPS, bool),
        host_ops=rep([""] * n),
        host_op_elements=col(layer_nan, np.zeros(n)),
        top1=col(layer_nan, c["accuracy"]),
        top5=col(layer_nan, np.minimum(c["accuracy"] + 0.07, 1.0)),
        retrieval_map=col(layer_nan, nan),
        precision_at_10=col(layer_nan, nan),
        accuracy_source=rep(np.where(c["network"] == "net-a", "measured", "not measured")),
        status=rep(np.where(c["failed"], "error", "ok")),
        error=rep(np.where(c["failed"], "ValueError: synthetic failure of this point", "")),
    )
    failed_rows = np.repeat(c["failed"], per)[keep]
    table = {}
    for name, values in columns.items():
        values = np.asarray(values)[keep]
        if name in _RESULT_FLOATS and values.dtype.kind == "f":
            values = np.where(failed_rows, np.nan, values)  # a failed point has no results
        if values.dtype.kind == "b":
            table[name] = pa.array(values, mask=failed_rows)
        else:
            table[name] = values
    return pa.table(table)


def write_synthetic_results(
    path,
    n_points: int,
    *,
    n_layers: int = 8,
    seed: int = 0,
    failed_fraction: float = 0.002,
    chunk_points: int = 20_000,
) -> Path:
    """Write a synthetic sweep of `n_points` points to `path` (parquet, a row group per
    chunk) and return it."""
    rng = np.random.default_rng(seed)
    path = Path(path)
    writer = None
    try:
        for start in range(0, n_points, chunk_points):
            n = min(chunk_points, n_points - start)
            chunk = _chunk(start, n, n_layers, rng, seed, failed_fraction)
            table = _rows(chunk, n_layers)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    return path
