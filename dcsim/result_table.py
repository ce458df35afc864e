"""The tidy result table of a sweep, built column by column for many design points at once.

Part of the application layer (DESIGN §6, §8): the last step of evaluating a work unit. One
compression setting (its compressed layers, accuracy, host ops) and V hardware variants
(`simulator.variant_evaluation` arrays [V, L]) become V·(L + 1) rows — for every point its L
layer rows, then its total row — with no per-point Python objects: every column is one numpy
array. The per-point cycle model goes through the same builder (`results_of_network` turns its
`NetworkResult` into the arrays of one variant), so both paths write identical columns.

Columns (units in the names; the catalogue is `reports.column_catalogue`):
- the point's settings (`settings`: point_id, network, accelerator, axes, config_json, …);
- per layer: shape and compression (weights, weight_density, weight_bits, container_bytes,
  dense_bytes, compression_ratio), timing (cycles, ideal/stall cycles, load balance,
  utilization, fillers), latency_ms / compute_ms / dram_ms, energy_mj, events_<action> and
  energy_<action>_mj, the weights' on-chip format (model_bytes), DRAM traffic, the fit per
  memory (`simulator.memory_fit`) and the codebook;
- per point (total rows): sums of the layers, density weighted by weights, load balance
  weighted by cycles, fps, meets_target, the point's fit (needs vs capacities, overflow,
  binding memory), accuracy (top1, top5, retrieval_map, precision_at_10) and its source,
  the host ops outside the engine; status "ok";
- per point, the silicon (total rows; `simulator.area_table`): area_mm2 and one
  area_<component>_mm2 per area component, and the figures architects compare designs by:
  power_mw (energy per frame / latency per frame), fps_per_mm2, frames_per_j and
  tops_per_w_dense (dense-equivalent operations, 2 × the dense layers' MACs per frame, per
  joule, in TOPS/W); dense_ops on every row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulator.area_table import AREA_COMPONENTS
from simulator.energy_table import ACTIONS
from simulator.lowering import input_shape
from simulator.memory_fit import memory_fit_arrays

ACCURACY_COLUMNS = ("top1", "top5", "retrieval_map", "precision_at_10")
BOOLEAN_COLUMNS = ("meets_target", "fits_onchip", "codebook_fits")


def _rows_of(layer_values: np.ndarray, total_values: np.ndarray) -> np.ndarray:
    """[V, L] layer values and [V] totals -> one column in row order (V·(L + 1),)."""
    layer_values = np.asarray(layer_values)
    total_values = np.asarray(total_values)
    v = total_values.shape[0]
    dtype = np.result_type(layer_values.dtype, total_values.dtype)
    if layer_values.dtype == object or total_values.dtype == object:
        dtype = object
    out = np.empty((v, layer_values.shape[1] + 1), dtype=dtype)
    out[:, :-1] = layer_values
    out[:, -1] = total_values
    return out.reshape(-1)


def _area_and_efficiency(columns, results, layers, shape, energy_mj, fps) -> None:
    """Area per component and in total, power, fps/mm², frames/J and dense-equivalent TOPS/W
    (total rows; module docstring); dense_ops on every row."""
    v = shape[0]
    nan_layers = np.full(shape, math.nan)
    area = {c: np.asarray(results.area_mm2[c], dtype=np.float64) for c in AREA_COMPONENTS}
    total_area = sum(area.values()) if area else np.zeros(v)
    columns["area_mm2"] = _rows_of(nan_layers, total_area)
    for component, values in area.items():
        columns[f"area_{component}_mm2"] = _rows_of(nan_layers, values)
    dense_ops = np.broadcast_to(
        np.asarray([2.0 * x.spec.macs for x in layers], dtype=np.float64), shape
    )
    ops_total = dense_ops.sum(axis=1)
    columns["dense_ops"] = _rows_of(dense_ops, ops_total)
    energy_j = (sum(energy_mj.values()) if energy_mj else np.zeros(shape)).sum(axis=1) * 1e-3
    latency_s = results.layers["latency_s"].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        power_mw = np.where(latency_s > 0, energy_j / latency_s * 1e3, math.nan)
        fps_per_mm2 = np.where(total_area > 0, fps / total_area, math.nan)
        frames_per_j = np.where(energy_j > 0, 1.0 / energy_j, math.inf)
        tops_per_w = np.where(energy_j > 0, ops_total / energy_j / 1e12, math.nan)
    columns["power_mw"] = _rows_of(nan_layers, power_mw)
    columns["fps_per_mm2"] = _rows_of(nan_layers, fps_per_mm2)
    columns["frames_per_j"] = _rows_of(nan_layers, frames_per_j)
    columns["tops_per_w_dense"] = _rows_of(nan_layers, tops_per_w)


def tidy_table(
    settings: dict,
    layers,
    variants,
    results,
    *,
    target_fps,
    accuracy: dict | None,
    accuracy_source: str,
    host_ops: tuple[str, float] = ("", math.nan),
) -> pd.DataFrame:
    """The rows of V design points that share one compression setting (module docstring).

    `settings`: column -> [V] array or scalar; `layers`: the compressed layers (network
    order); `variants` / `results`: `simulator.variant_evaluation.HardwareVariants` and
    `VariantResults`; `target_fps`: [V] or scalar; `accuracy`: {top1, top5, …} of the
    compression setting, or None; `host_ops`: (text, values) of the network's host ops."""
    v = len(variants)
    n_layers = len(layers)
    shape = (v, n_layers)
    ones = np.ones(shape)
    a = results.layers

    def per_layer(values) -> np.ndarray:
        return np.broadcast_to(np.asarray(values, dtype=np.float64), shape)

    columns: dict[str, np.ndarray] = {}
    for name, value in settings.items():
        value = np.asarray(value)
        if value.ndim == 0:
            value = np.full(v, value.item(), dtype=object if value.dtype.kind in "OU" else None)
        columns[name] = np.repeat(value, n_layers + 1)
    names = np.array([x.spec.name for x in layers], dtype=object)
    kinds = np.array([x.spec.kind for x in layers], dtype=object)
    row_type = np.array(["layer"] * n_layers + ["total"], dtype=object)
    columns["row_type"] = np.tile(row_type, v)
    columns["layer"] = _rows_of(np.broadcast_to(names, shape), np.full(v, "total", dtype=object))
    columns["layer_kind"] = _rows_of(np.broadcast_to(kinds, shape), np.full(v, "", dtype=object))

    weights = per_layer([x.spec.weights for x in layers])
    density = per_layer([x.accounting.density for x in layers])
    bits = per_layer([x.weight_bits for x in layers])
    container = per_layer([x.accounting.pqh_bits / 8 for x in layers])
    dense = per_layer([x.accounting.dense_bits / 8 for x in layers])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(container > 0, dense / container, math.inf)
        activation_density = np.where(
            a["scanned_activations"] > 0, a["broadcasts"] / a["scanned_activations"], math.nan
        )
    weights_total = weights.sum(axis=1)
    columns["weights"] = _rows_of(weights, weights_total)
    columns["weight_density"] = _rows_of(
        density, (density * weights).sum(axis=1) / np.where(weights_total > 0, weights_total, 1)
    )
    columns["weight_bits"] = _rows_of(bits, np.full(v, math.nan))
    columns["activation_density"] = _rows_of(activation_density, np.full(v, math.nan))
    cycles = a["cycles"]
    cycles_total = cycles.sum(axis=1)
    for name in ("cycles", "ideal_cycles", "stall_cycles"):
        columns[name] = _rows_of(a[name], a[name].sum(axis=1))
    busy = (a["load_balance"] * cycles).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        balance_total = np.where(cycles_total > 0, busy / cycles_total, 1.0)
    columns["load_balance"] = _rows_of(a["load_balance"], balance_total)
    columns["utilization"] = _rows_of(a["utilization"], np.full(v, math.nan))
    columns["fillers"] = _rows_of(a["fillers"], a["fillers"].sum(axis=1))
    latency_ms = a["latency_s"] * 1e3
    columns["latency_ms"] = _rows_of(latency_ms, latency_ms.sum(axis=1))
    columns["compute_ms"] = _rows_of(a["compute_s"] * 1e3, (a["compute_s"] * 1e3).sum(axis=1))
    columns["dram_ms"] = _rows_of(a["dram_s"] * 1e3, (a["dram_s"] * 1e3).sum(axis=1))
    energy_mj = {action: results.energy_j[action] * 1e3 for action in ACTIONS}
    layer_energy = sum(energy_mj.values()) if energy_mj else np.zeros(shape)
    columns["energy_mj"] = _rows_of(layer_energy, layer_energy.sum(axis=1))
    model_bytes = a["sparse_bytes"] + a["pointer_bytes"]
    columns["model_bytes"] = _rows_of(model_bytes, model_bytes.sum(axis=1))
    columns["container_bytes"] = _rows_of(container, container.sum(axis=1))
    columns["dense_bytes"] = _rows_of(dense, dense.sum(axis=1))
    columns["compression_ratio"] = _rows_of(ratio, dense.sum(axis=1) / container.sum(axis=1))
    for name in ("weight_dram_bytes", "activation_dram_bytes"):
        columns[name] = _rows_of(a[name], a[name].sum(axis=1))
    n_pe = variants["n_pe"]
    onchip = n_pe * (variants["sparse_sram_bytes_per_pe"] + variants["pointer_sram_bytes_per_pe"])
    columns["onchip_bytes"] = _rows_of(per_layer(0) + onchip[:, None], onchip)
    # fit per memory (simulator.memory_fit)
    value_bytes = variants["activation_bits"][:, None] / 8
    feature_maps = np.array(
        [max(math.prod(input_shape(x.spec)), math.prod(x.spec.output_shape)) for x in layers],
        dtype=np.float64,
    )
    activation_need = 2.0 * feature_maps[None, :] * value_bytes * ones
    capacities = {
        "sparse_sram": n_pe * variants["sparse_sram_bytes_per_pe"],
        "pointer_sram": n_pe * variants["pointer_sram_bytes_per_pe"],
        "activation": n_pe
        * (
            2 * variants["activation_registers_per_pe"] * variants["activation_bits"] // 8
            + variants["activation_sram_bytes_per_pe"]
        ),
    }
    fit_layer, fit_total = memory_fit_arrays(
        a["sparse_bytes"], a["pointer_bytes"], activation_need, capacities
    )
    for name, values in fit_layer.items():
        columns[name] = _rows_of(values, fit_total[name])
    columns["binding_memory"] = _rows_of(
        np.full(shape, "", dtype=object), fit_total["binding_memory"]
    )
    columns["binding_utilization"] = _rows_of(
        np.full(shape, math.nan), fit_total["binding_utilization"]
    )
    # codebook
    need = per_layer([2 ** int(x.weight_bits) for x in layers]).astype(np.int64)
    capacity = variants["codebook_entries"].astype(np.int64)
    entries = np.asarray(results.codebook_entries, dtype=np.int64)
    layer_fits = need <= capacity[:, None]
    columns["codebook_need_entries"] = _rows_of(need, need.max(axis=1))
    columns["codebook_capacity_entries"] = _rows_of(capacity[:, None] * (need > -1), capacity)
    columns["codebook_entries"] = _rows_of(entries[:, None] * (need > -1), entries)
    columns["codebook_fits"] = _rows_of(layer_fits, layer_fits.all(axis=1))
    for action in ACTIONS:
        events = results.events[action]
        columns[f"events_{action}"] = _rows_of(events, events.sum(axis=1))
        columns[f"energy_{action}_mj"] = _rows_of(energy_mj[action], energy_mj[action].sum(axis=1))
    total_latency_s = a["latency_s"].sum(axis=1)
    with np.errstate(divide="ignore"):
        fps = np.where(total_latency_s > 0, 1.0 / total_latency_s, math.inf)
    target = np.broadcast_to(np.asarray(target_fps, dtype=np.float64), (v,))
    columns["fps"] = _rows_of(np.full(shape, math.nan), fps)
    columns["meets_target"] = _rows_of(np.full(shape, None, dtype=object), fps >= target)
    columns["host_ops"] = _rows_of(
        np.full(shape, "", dtype=object), np.full(v, host_ops[0], dtype=object)
    )
    columns["host_op_elements"] = _rows_of(np.full(shape, math.nan), np.full(v, host_ops[1]))
    for name in ACCURACY_COLUMNS:
        value = math.nan if accuracy is None else accuracy.get(name, math.nan)
        columns[name] = _rows_of(np.full(shape, math.nan), np.full(v, value, dtype=np.float64))
    _area_and_efficiency(columns, results, layers, shape, energy_mj, fps)
    rows = v * (n_layers + 1)
    columns["accuracy_source"] = np.full(rows, accuracy_source, dtype=object)
    columns["status"] = np.full(rows, "ok", dtype=object)
    columns["error"] = np.full(rows, "", dtype=object)
    frame = pd.DataFrame(columns)
    for name in BOOLEAN_COLUMNS:
        frame[name] = frame[name].astype("boolean")
    for name in ("onchip_bytes", "codebook_need_entries", "codebook_capacity_entries"):
        frame[name] = frame[name].astype(np.int64)
    frame["codebook_entries"] = frame["codebook_entries"].astype(np.int64)
    return frame
