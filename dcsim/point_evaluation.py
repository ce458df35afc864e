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
- a PATH: the user's state_dict of the network; accuracy is measured only with a data folder
  (AlexNet: `dcsim.accuracy`);
- `own`: the model source's own weights (a `.py` factory's module, an ONNX file's
  initializers); accuracy is not measured.
The network itself is any model source (`workloads.model_source.load_network`); with a data
folder, a source other than the AlexNet accuracy path gets its activations measured on the
folder's first image through the compressed network, else synthetic activations at the density
that flows through its graph (`workloads.synthetic.synthetic_input_densities`). Weight-free
ops outside the engine are counted on the total row (`host_ops`, `host_op_elements`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
import sys
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

from dcsim.compression_setting import (
    compression_only,
    measured_source,
    point_recipe,
)
from dcsim.config import HARDWARE_OVERRIDES, DesignPoint
from dcsim.trained_entries import trains

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


def point_accelerator(point: DesignPoint):
    """The accelerator preset (or TOML file) with the point's hardware overrides
    (`dcsim.config.HARDWARE_OVERRIDES`); built once per distinct combination in a process (a
    sweep asks for the same ones again and again)."""
    from simulator.accelerator import load_accelerator

    overrides = tuple(getattr(point, axis) for axis in HARDWARE_OVERRIDES)
    return _accelerator_variant_for(load_accelerator(point.accelerator), overrides)


@functools.lru_cache(maxsize=65536)
def _accelerator_variant_for(arch, overrides: tuple):
    changes = {}
    for (field, factor), value in zip(HARDWARE_OVERRIDES.values(), overrides, strict=True):
        if value is None:
            continue
        if factor == 1:
            changes[field] = int(value) if isinstance(getattr(arch, field), int) else value
        elif field == "clock_hz":
            changes[field] = value * factor
        else:
            changes[field] = int(round(value * factor))
    return arch.replace(**changes) if changes else arch


@functools.lru_cache(maxsize=2)
def entry_network(source: str, input_shape: tuple | None, weights: str):
    """The network of a sweep entry (`workloads.model_source.load_network`), with its own
    weights (`own`), a state_dict (a path) or none (`synthetic`); cached per process."""
    from workloads.model_source import load_network

    return load_network(source, input_shape, weights=None if weights == "own" else weights)


def _network(point: DesignPoint):
    entry = point.network
    return entry_network(entry.network, entry.input_shape, entry.weights)


@functools.lru_cache(maxsize=2)
def _quantized(point: DesignPoint):
    """Pruned and quantized network (stored on one PE) with the entry's weights — synthetic,
    the source's own or a state_dict; cached per compression setting so that points differing
    only in hardware share it."""
    from compression import compress_network

    network = _network(point)
    # weights=None: seeded synthetic weights, drawn and sorted once per (network, seed) in this
    # process and reused by every compression setting (`compression.compressed_network`)
    return compress_network(
        network, point_recipe(point), weights=network.layer_weights, n_pe=1, seed=point.seed
    )


@functools.lru_cache(maxsize=2)
def _measured_activations(point: DesignPoint) -> dict:
    """Inputs of every layer on the first image of the entry's data folder, run through the
    compressed network (one frame); cached per compression setting."""
    from dcsim.frame_activations import simulation_activations

    return simulation_activations(_network(point), _quantized(point), point.network.data)


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


def release_unit_caches() -> None:
    """Drop what this process kept to evaluate work units fast (the last compressed networks,
    their measured activations, the analytical model's shared layer statistics): called when
    the units are done, before the cycle-model verification, to keep the run's peak memory
    down. The seeded synthetic weights stay (verification compresses from them again)."""
    from simulator.layer_statistics import clear_statistics_cache

    _quantized.cache_clear()
    _measured_activations.cache_clear()
    clear_statistics_cache()


def prepare_points(points: list[DesignPoint]) -> None:
    """Build, in this process, the cached artefacts that need training (digits networks and a
    user's weights with data): once per compression setting, grouped by pruning trajectory
    (`dcsim.accuracy_grid`), each group a progress stage whose training, pruning,
    quantization, encoding and evaluation report inside it."""
    settings = list(dict.fromkeys(compression_only(p) for p in points if trains(p.network)))
    if not settings:
        return
    from dcsim.accuracy_grid import prepare_settings

    prepare_settings(settings)


def accelerator_label(point: DesignPoint) -> str:
    """The preset name, plus the point's hardware overrides (they change the energy table)."""
    overrides = [
        f"{name}={getattr(point, name):g}"
        for name in HARDWARE_OVERRIDES
        if getattr(point, name) is not None
    ]
    name = (
        Path(point.accelerator).stem if point.accelerator.endswith(".toml") else point.accelerator
    )
    return name + (f" ({', '.join(overrides)})" if overrides else "")


def network_source(entry) -> str:
    """Where the entry's network comes from: `built-in:NAME`, `python:FILE:FACTORY` or
    `onnx:FILE` (the `network_source` column)."""
    from workloads.model_source import source_kind

    kind = source_kind(entry.network)
    return f"{'built-in' if kind == 'builtin' else kind}:{entry.network}"


def _point_settings(point: DesignPoint, arch) -> dict:
    return {
        "point_id": point.point_id,
        "network": point.network.label,
        "network_name": point.network.network,
        "network_source": network_source(point.network),
        "weight_source": point.network.weights,
        "accelerator": accelerator_label(point),
        "accelerator_preset": arch.name,
        "n_pe": arch.n_pe,
        "clock_mhz": arch.clock_hz / 1e6,
        "sram_per_pe_kb": arch.sparse_sram_bytes_per_pe / 1024,
        "pointer_sram_per_pe_kb": arch.pointer_sram_bytes_per_pe / 1024,
        "activation_sram_per_pe_kb": arch.activation_sram_bytes_per_pe / 1024,
        "registers_per_pe": arch.activation_registers_per_pe,
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


def _rows(point: DesignPoint, arch, compressed, sim, accuracy: dict | None, source: str, graph):
    """The rows of one evaluated point (`dcsim.result_table`, one variant)."""
    from dcsim.result_table import tidy_table
    from simulator.variant_evaluation import results_of_network
    from workloads.graph import host_op_summary

    variants, results = results_of_network(sim, arch)
    ops, _, elements = host_op_summary(graph)
    return tidy_table(
        _point_settings(point, arch),
        compressed.layers,
        variants,
        results,
        target_fps=point.target_fps,
        accuracy=accuracy,
        accuracy_source=source,
        host_ops=(ops, elements),
    )


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


@dataclasses.dataclass(frozen=True)
class SettingContext:
    """What every point of one compression setting shares: the compressed network (on one
    PE), the network (graph), measured activations (or None), accuracy and its source, and
    the synthetic activation densities that flow through the graph."""

    compressed: object
    network: object
    activations: dict | None
    accuracy: dict | None
    source: str
    densities: dict


def setting_context(point: DesignPoint) -> SettingContext:
    """The `SettingContext` of `point`'s compression setting (cached on disk and per process
    by the functions it calls)."""
    from simulator.simulate import DEFAULT_HIDDEN_ACTIVATION_DENSITY
    from workloads.synthetic import synthetic_input_densities

    activations = None
    accuracy = None
    source = "not measured"
    if trains(point.network):
        from dcsim.trained_models import network_of, trained_point

        compressed, activations, accuracy = trained_point(point)
        network = network_of(point)
        source = measured_source(point) if accuracy is not None else "not measured"
    else:
        setting = compression_only(point)
        network = _network(point)
        compressed = _quantized(setting)
        if point.network.data:
            activations = _measured_activations(setting)
        if point.network.weights == "synthetic":
            accuracy = _published_accuracy(point)
            source = "published" if accuracy is not None else "not measured"
    densities = synthetic_input_densities(network, DEFAULT_HIDDEN_ACTIVATION_DENSITY)
    return SettingContext(compressed, network, activations, accuracy, source, densities)


def input_densities(context: SettingContext) -> list[float]:
    """Per layer, the input activation density the simulator uses: measured when the setting
    has activations, else the density flowing through the graph, else the default."""
    from simulator.simulate import default_activation_density

    out = []
    for index, layer in enumerate(context.compressed.layers):
        x = (context.activations or {}).get(layer.spec.name)
        if x is not None:
            x = np.asarray(x)
            out.append(float(np.count_nonzero(x)) / x.size if x.size else 0.0)
        elif layer.spec.name in context.densities:
            out.append(float(context.densities[layer.spec.name]))
        else:
            out.append(default_activation_density(layer.spec, index))
    return out


def _evaluate(point: DesignPoint) -> pd.DataFrame:
    from simulator.simulate import simulate_network

    arch = point_accelerator(point)
    context = setting_context(point)
    compressed = context.compressed
    model = "analytical" if point.sim_model == "analytical" else "cycle"
    if model == "cycle":
        compressed = interleave(compressed, arch.n_pe)
    sim = simulate_network(
        compressed,
        arch,
        context.activations,
        seed=point.seed,
        model=model,
        activation_densities=context.densities,
    )
    return _rows(
        point, arch, compressed, sim, context.accuracy, context.source, context.network.graph
    )


def _analytical_unit(points) -> pd.DataFrame:
    """The rows of analytical points of one compression setting, evaluated as arrays
    (`simulator.variant_evaluation`); a point whose accelerator is invalid gets its error row."""
    from dcsim.result_table import tidy_table
    from simulator.variant_evaluation import HardwareVariants, evaluate_variants
    from workloads.graph import host_op_summary

    context = setting_context(points[0])
    good, archs, failed = [], [], {}
    for i, point in enumerate(points):
        try:
            archs.append(point_accelerator(point))
            good.append(point)
        except ValueError as error:
            failed[i] = error_rows(point, error)
    frames = []
    if good:
        variants = HardwareVariants.from_accelerators(archs)
        results = evaluate_variants(context.compressed.layers, input_densities(context), variants)
        per_point = [_point_settings(p, a) for p, a in zip(good, archs, strict=True)]
        settings = {key: [row[key] for row in per_point] for key in per_point[0]}
        ops, _, elements = host_op_summary(context.network.graph)
        frames.append(
            tidy_table(
                settings,
                context.compressed.layers,
                variants,
                results,
                target_fps=[p.target_fps for p in good],
                accuracy=context.accuracy,
                accuracy_source=context.source,
                host_ops=(ops, elements),
            )
        )
    if failed:  # back in the points' order
        good_frame = frames[0] if frames else None
        rows_per_point = len(context.compressed.layers) + 1
        pieces, g = [], 0
        for i in range(len(points)):
            if i in failed:
                pieces.append(failed[i])
            else:
                start = g * rows_per_point
                pieces.append(good_frame.iloc[start : start + rows_per_point])
                g += 1
        return pd.concat(pieces, ignore_index=True)
    return frames[0]


def evaluate_unit(points) -> pd.DataFrame:
    """All rows of the points of one work unit (one compression setting, `dcsim.work_units`):
    analytical points as arrays in one call, cycle-model points one by one. Never raises: a
    failure of the whole setting becomes an error row per point."""
    points = list(points)
    if not points or points[0].sim_model != "analytical":
        return pd.concat([evaluate_point(p) for p in points], ignore_index=True)
    try:
        with _one_torch_thread(points[0].network):
            return _analytical_unit(points)
    except Exception as error:  # recorded, the sweep goes on
        if os.environ.get("DCSIM_DEBUG"):
            traceback.print_exc()
        return pd.concat([error_rows(p, error) for p in points], ignore_index=True)


def runs_torch(entry) -> bool:
    """False for a network entry whose analytical evaluation runs no torch operation: synthetic
    weights, no data folder, not trained here (numpy draws the weights and compresses them)."""
    return trains(entry) or entry.weights != "synthetic" or entry.data is not None


@contextlib.contextmanager
def _one_torch_thread(entry):
    """Torch on one thread while a unit of `entry` is evaluated, so every executor computes
    identical numbers. A unit that runs no torch operation (`runs_torch`) in a process that has
    not imported torch leaves it unimported: a worker starts 1.4 s sooner."""
    if "torch" not in sys.modules and not runs_torch(entry):
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


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
