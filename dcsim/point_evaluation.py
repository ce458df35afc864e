"""Evaluating one design point: compress → simulate → join accuracy → tidy rows.

Part of the application layer (DESIGN §6): called by the sweep engine for every point, in this
process, in a local worker process or on a Dask worker. It must be deterministic (same point →
same rows) and never raise: a failing point becomes one total row with status "error" and the
message, so the sweep goes on.

Weights of a point come from its network entry:
- `digits`: the AlexNet trained here on scikit-learn's digits, pruned and quantized with
  retraining by `compression.retraining` (artefacts cached on disk; `prepare_points` builds
  them before the points are dispatched); accuracy is measured on the test split.
- `synthetic`: seeded synthetic weights (`workloads.synthetic`); accuracy is not measured,
  except that the exact Deep Compression recipe on `alexnet-caffe` carries the paper's
  published ImageNet accuracy, labelled `published`.
- a PATH: the user's torchvision state_dict; accuracy is measured only with a data folder.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

from dcsim.config import DesignPoint

# Deep Compression, Table 1 / Table 4 (AlexNet on ImageNet, pruned + quantized + Huffman):
# top-1 error 42.78 %, top-5 error 19.70 % -> accuracy 57.22 % / 80.30 %.
PUBLISHED_ALEXNET_ACCURACY = {"top1": 0.5722, "top5": 0.8030}
PUBLISHED_RECIPE = {
    "density_profile": "paper",
    "density_scale": 1.0,
    "conv_bits": 8,
    "fc_bits": 5,
    "index_bits": 4,
    "centroid_init": "linear",
}
ACCURACY_COLUMNS = ("top1", "top5", "retrieval_map", "precision_at_10")


def point_recipe(point: DesignPoint):
    """The point's recipe: the density profile's per-layer densities × density_scale, with the
    point's conv / fc bits, index bits and centroid init."""
    from compression.recipe import parse_recipe, recipe_data

    data, _ = recipe_data(point.density_profile)
    data = {k: v for k, v in data.items() if k not in ("n_pe", "weight_bits", "index_bits")}
    kinds = {k: dict(v) for k, v in data.get("kind", {}).items()}
    for kind, bits in (("conv", point.conv_bits), ("fc", point.fc_bits), ("lstm", point.fc_bits)):
        kinds.setdefault(kind, {})
        kinds[kind]["weight_bits"] = bits
        kinds[kind].pop("index_bits", None)
    layers = {
        name: {k: v for k, v in table.items() if k == "density"}
        for name, table in data.get("layers", {}).items()
    }
    data.update(
        kind=kinds,
        layers=layers,
        index_bits=point.index_bits,
        init=point.centroid_init,
        density_scale=float(data.get("density_scale", 1.0)) * point.density_scale,
        name=f"{data.get('name', point.density_profile)}",
    )
    return parse_recipe(data)


def point_accelerator(point: DesignPoint):
    """The accelerator preset (or TOML file) with the point's hardware overrides."""
    from simulator.accelerator import load_accelerator

    arch = load_accelerator(point.accelerator)
    changes = {}
    if point.n_pe is not None:
        changes["n_pe"] = point.n_pe
    if point.clock_mhz is not None:
        changes["clock_hz"] = point.clock_mhz * 1e6
    if point.sram_per_pe_kb is not None:
        changes["sparse_sram_bytes_per_pe"] = int(round(point.sram_per_pe_kb * 1024))
    if point.fifo_depth is not None:
        changes["fifo_depth"] = point.fifo_depth
    if point.node_nm is not None:
        changes["technology_node_nm"] = int(point.node_nm)
    return arch.replace(**changes) if changes else arch


def compression_only(point: DesignPoint) -> DesignPoint:
    """The point with its hardware and simulation settings blanked: points that compress the
    same way map to the same value."""
    return dataclasses.replace(
        point,
        accelerator="",
        n_pe=None,
        clock_mhz=None,
        sram_per_pe_kb=None,
        fifo_depth=None,
        node_nm=None,
        target_fps=0.0,
        sim_model="",
    )


@functools.lru_cache(maxsize=2)
def _synthetic_quantized(point: DesignPoint):
    """Pruned and quantized network with synthetic weights (stored on one PE); cached per
    compression setting so that points differing only in hardware share it."""
    from compression import compress_network
    from workloads import get_network

    return compress_network(
        get_network(point.network.network),
        point_recipe(point),
        weights=_synthetic_weights(point.network.network, point.seed),
        n_pe=1,
        seed=point.seed,
    )


@functools.lru_cache(maxsize=1)
def _synthetic_weights(network_name: str, seed: int) -> dict:
    """The network's seeded synthetic weights (`workloads.synthetic`), drawn once per process
    for all the compression settings of a sweep."""
    from workloads import get_network
    from workloads.synthetic import synthetic_weights

    return {
        layer.name: synthetic_weights(layer, seed) for layer in get_network(network_name).layers
    }


def interleave(compressed, n_pe: int):
    """The same quantized network stored for `n_pe` PEs (the sparse format depends on N)."""
    from compression import CompressedNetwork
    from compression.compressed_layer import layer_from_codes

    if compressed.n_pe == n_pe:
        return compressed
    layers = tuple(
        layer_from_codes(
            layer.spec, layer.codebook, layer.codes(), index_bits=layer.index_bits, n_pe=n_pe
        )
        for layer in compressed.layers
    )
    return CompressedNetwork(compressed.name, layers, compressed.recipe_name)


def compression_label(point: DesignPoint) -> str:
    """A compression setting in words, e.g. `alexnet-digits digits x1 conv 6 / fc 4 bits`."""
    return (
        f"{point.network.label} {Path(point.density_profile).stem} x{point.density_scale:g} "
        f"conv {point.conv_bits} / fc {point.fc_bits} bits, {point.centroid_init} init"
    )


def prepare_points(points: list[DesignPoint]) -> None:
    """Build, in this process, the cached artefacts that need training (digits networks and a
    user's weights with data): once per compression setting, each a progress stage whose
    training, pruning, quantization, encoding and evaluation report inside it."""
    from workloads import progress

    settings = list(
        dict.fromkeys(
            compression_only(p) for p in points if p.network.weights == "digits" or p.network.data
        )
    )
    if not settings:
        return
    from dcsim.trained_models import prepare_trained

    for index, point in enumerate(settings, 1):
        label = f"train {index}/{len(settings)}: {compression_label(point)}"
        with progress.stage(label):
            prepare_trained(point)


def accelerator_label(point: DesignPoint) -> str:
    """The preset name, plus the point's hardware overrides (they change the energy table)."""
    overrides = [
        f"{name}={getattr(point, name):g}"
        for name in ("n_pe", "clock_mhz", "sram_per_pe_kb", "fifo_depth", "node_nm")
        if getattr(point, name) is not None
    ]
    name = (
        Path(point.accelerator).stem if point.accelerator.endswith(".toml") else point.accelerator
    )
    return name + (f" ({', '.join(overrides)})" if overrides else "")


def _point_settings(point: DesignPoint, arch) -> dict:
    return {
        "point_id": point.point_id,
        "network": point.network.label,
        "network_name": point.network.network,
        "weight_source": point.network.weights,
        "accelerator": accelerator_label(point),
        "accelerator_preset": arch.name,
        "n_pe": arch.n_pe,
        "clock_mhz": arch.clock_hz / 1e6,
        "sram_per_pe_kb": arch.sparse_sram_bytes_per_pe / 1024,
        "fifo_depth": arch.fifo_depth,
        "node_nm": arch.technology_node_nm,
        "density_profile": point.density_profile,
        "density_scale": point.density_scale,
        "conv_bits": point.conv_bits,
        "fc_bits": point.fc_bits,
        "index_bits": point.index_bits,
        "centroid_init": point.centroid_init,
        "sim_model": point.sim_model,
        "seed": point.seed,
        "target_fps": point.target_fps,
        "config_json": json.dumps(point.as_dict(), sort_keys=True),
    }


def _published_accuracy(point: DesignPoint) -> dict | None:
    settings = {k: getattr(point, k) for k in PUBLISHED_RECIPE}
    if point.network.network == "alexnet-caffe" and settings == PUBLISHED_RECIPE:
        return {
            **PUBLISHED_ALEXNET_ACCURACY,
            "retrieval_map": math.nan,
            "precision_at_10": math.nan,
        }
    return None


def _rows(point: DesignPoint, arch, compressed, sim, accuracy: dict | None, source: str):
    from simulator.energy_table import ACTIONS

    settings = _point_settings(point, arch)
    onchip_bytes = arch.sparse_sram_bytes + arch.pointer_sram_bytes
    table = {entry["action"]: entry for entry in sim.energy_table}
    rows = []
    for layer, result in zip(compressed.layers, sim.layers, strict=True):
        acc = layer.accounting
        row = {
            **settings,
            "row_type": "layer",
            "layer": layer.spec.name,
            "layer_kind": layer.spec.kind,
            "weights": layer.spec.weights,
            "weight_density": acc.density,
            "weight_bits": layer.weight_bits,
            "activation_density": (
                result.counts.broadcasts / result.counts.scanned_activations
                if result.counts.scanned_activations
                else math.nan
            ),
            "cycles": result.total_cycles,
            "ideal_cycles": result.ideal_cycles,
            "stall_cycles": result.stall_cycles,
            "load_balance": result.load_balance,
            "utilization": result.utilization,
            "fillers": result.fillers,
            "latency_ms": result.latency_s * 1e3,
            "compute_ms": result.compute_s * 1e3,
            "dram_ms": result.dram_s * 1e3,
            "energy_mj": result.energy_j * 1e3,
            "model_bytes": result.weight_bytes,
            "container_bytes": acc.pqh_bits / 8,
            "dense_bytes": acc.dense_bits / 8,
            "compression_ratio": acc.dense_bits / acc.pqh_bits if acc.pqh_bits else math.inf,
            "weight_dram_bytes": result.weight_dram_bytes,
            "activation_dram_bytes": result.activation_dram_bytes,
            "onchip_bytes": onchip_bytes,
        }
        for action in ACTIONS:
            count = float(result.events[action])
            row[f"events_{action}"] = count
            row[f"energy_{action}_mj"] = count * table[action]["energy_pj"] * 1e-9
        rows.append(row)
    frame = pd.DataFrame(rows)
    total = {**settings, "row_type": "total", "layer": "total", "layer_kind": ""}
    sums = [
        "weights",
        "cycles",
        "ideal_cycles",
        "stall_cycles",
        "fillers",
        "latency_ms",
        "compute_ms",
        "dram_ms",
        "energy_mj",
        "model_bytes",
        "container_bytes",
        "dense_bytes",
        "weight_dram_bytes",
        "activation_dram_bytes",
    ] + [c for c in frame.columns if c.startswith(("events_", "energy_")) and c != "energy_mj"]
    for column in sums:
        total[column] = float(frame[column].sum())
    total["weight_density"] = float((frame["weight_density"] * frame["weights"]).sum()) / float(
        frame["weights"].sum()
    )
    total["activation_density"] = math.nan
    total["weight_bits"] = math.nan
    busy = float((frame["load_balance"] * frame["cycles"]).sum())
    total["load_balance"] = busy / total["cycles"] if total["cycles"] else 1.0
    total["utilization"] = math.nan
    total["compression_ratio"] = total["dense_bytes"] / total["container_bytes"]
    total["onchip_bytes"] = onchip_bytes
    latency_s = total["latency_ms"] / 1e3
    total["fps"] = 1.0 / latency_s if latency_s > 0 else math.inf
    total["meets_target"] = bool(total["fps"] >= point.target_fps)
    total["fits_onchip"] = bool(sim.fits_onchip)
    frame["fps"] = math.nan
    frame["meets_target"] = pd.NA
    frame["fits_onchip"] = frame["weight_dram_bytes"] == 0
    out = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    for column in ACCURACY_COLUMNS:
        out[column] = math.nan
        if accuracy is not None:
            out.loc[out["row_type"] == "total", column] = accuracy.get(column, math.nan)
    out["accuracy_source"] = source
    out["status"] = "ok"
    out["error"] = ""
    out["meets_target"] = out["meets_target"].astype("boolean")
    out["fits_onchip"] = out["fits_onchip"].astype("boolean")
    return out


def error_rows(point: DesignPoint, error: BaseException) -> pd.DataFrame:
    """The single total row recording a failed point."""
    try:
        arch = point_accelerator(point)
        settings = _point_settings(point, arch)
    except Exception:
        settings = {
            "point_id": point.point_id,
            "network": point.network.label,
            "accelerator": point.accelerator,
            "config_json": json.dumps(point.as_dict()),
        }
    message = " ".join(str(error).split()) or type(error).__name__
    row = {
        **settings,
        "row_type": "total",
        "layer": "total",
        "layer_kind": "",
        "accuracy_source": "not measured",
        "status": "error",
        "error": f"{type(error).__name__}: {message}",
    }
    return pd.DataFrame([row])


def _analytical(compressed, activations: dict | None, arch):
    """The analytical model on the compressed layers' actual densities and bits, with the
    measured activation densities when given (else the simulator's defaults)."""
    from simulator.simulate import analytical_network, default_activation_density

    layers = []
    for index, layer in enumerate(compressed.layers):
        x = (activations or {}).get(layer.spec.name)
        act_density = (
            float(np.count_nonzero(x)) / x.size
            if x is not None and x.size
            else default_activation_density(layer.spec, index)
        )
        layers.append(
            (layer.spec, layer.accounting.density, act_density, layer.weight_bits, layer.index_bits)
        )
    return analytical_network(layers, arch)


def _evaluate(point: DesignPoint) -> pd.DataFrame:
    from simulator.simulate import simulate_network

    arch = point_accelerator(point)
    recipe = point_recipe(point)
    activations = None
    accuracy = None
    source = "not measured"
    if point.network.weights == "digits" or point.network.data:
        from dcsim.trained_models import trained_point

        compressed, activations, accuracy = trained_point(point)
        source = "measured" if accuracy is not None else "not measured"
    elif point.network.weights == "synthetic":
        compressed = _synthetic_quantized(compression_only(point))
        accuracy = _published_accuracy(point)
        source = "published" if accuracy is not None else "not measured"
    else:
        from dcsim.trained_models import user_weights_compressed

        compressed = user_weights_compressed(point, recipe)
    if point.sim_model == "analytical":
        sim = _analytical(compressed, activations, arch)
    else:
        compressed = interleave(compressed, arch.n_pe)
        sim = simulate_network(compressed, arch, activations, seed=point.seed, model="cycle")
    return _rows(point, arch, compressed, sim, accuracy, source)


def evaluate_point(point: DesignPoint) -> pd.DataFrame:
    """All rows of one point (layers + total); a failure becomes an error row, never raises."""
    import torch

    from workloads.progress import reporting

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # identical numerics in every executor
    try:
        # silent in every executor: the training was reported by prepare_points, and a point
        # only reads it back from the cache (workers have no reporter anyway)
        with reporting(enabled=False):
            return _evaluate(point)
    except Exception as error:  # recorded, the sweep goes on
        if os.environ.get("DCSIM_DEBUG"):
            traceback.print_exc()
        return error_rows(point, error)
    finally:
        torch.set_num_threads(threads)
