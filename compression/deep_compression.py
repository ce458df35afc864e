"""Deep Compression with retraining: prune (masked retraining) → share (trained quantization)
→ encode, on a trained torch model, each stage cached.

Part of `compression` (DESIGN §3), the accuracy-in-the-loop counterpart of
`compress_network` (which compresses fixed weights in one shot). It drives the mechanisms of
`compression.retraining` with the training loop of `workloads.training`:

1. **Prune** — `iterative_prune` to the recipe's per-layer densities in `prune_steps` steps;
   after each step every parameter retrains for `[training.prune]` with the masks enforced
   (pruned weights stay exactly zero). With a `prune_path` the pruning walks a trajectory
   (`compression.pruning_trajectory`): dense → each path checkpoint → the recipe's densities.
2. **Share + trained quantization** — per layer k-means (`share_module_weights`, the recipe's
   bits and init); then only the centroids train for `[training.quantize]` (each centroid's
   gradient is the sum of its members'; codes and zeros stay fixed). A quantize schedule of
   zero epochs (or max_steps = 0) is k-means only.
3. **Encode** — `layer_from_codes` (relative-index sparse format, Huffman accounting) into a
   `CompressedNetwork`, which `compression.container.save_container` writes as `.dcz`.

The recipe's optional `[training]` table sets the schedules (defaults below):
    [training.prune]     epochs, learning_rate, batch_size, optimizer, schedule,
    [training.quantize]  weight_decay, max_steps   (see workloads.training.TrainingSettings)
`epochs` is per prune step for pruning. Biases are retrained while pruning, kept during
quantization and are not part of the stored weights (as in the paper's accounting).

Caching (`workloads.cache`): the pruned stage is keyed by its parent's key (the dense model, or
the trajectory checkpoint before it), the densities, prune steps, prune schedule, training
data, seed, thread count and device kind (`pruning_trajectory.pruned_key`); the quantized stage
by the pruned key, the bits, init, quantize schedule ("none" for k-means only), data, seed,
threads and device (`quantized_key`) — everything that changes the retrained weights — so a
sweep over bits reuses one pruning run, and a sweep over densities walks one trajectory.
Entries are compact: a packed mask plus the surviving values (pruned) or codes (quantized).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch
from torch import nn

from compression.compressed_layer import DEFAULT_N_PE, layer_from_codes
from compression.compressed_network import CompressedNetwork
from compression.pruning_trajectory import (
    Hop,
    StageResult,
    clone_model,
    other_state,
    prune_with_retraining,
    pruned_stage,
    trajectory_end,
    weight_params,
)
from compression.recipe import Recipe
from compression.retraining import bake_shared_weights, share_module_weights
from workloads import progress
from workloads.cache import cache_key, load_entry, store_entry
from workloads.networks import Network
from workloads.torch_models import layer_modules
from workloads.training import TrainingData, TrainingSettings, torch_threads, train_steps

__all__ = [  # the pruning stage lives in compression.pruning_trajectory; re-exported here
    "DeepCompressionResult",
    "RetrainSchedule",
    "StageResult",
    "clone_model",
    "deep_compress",
    "fine_tunes",
    "load_compressed_weights",
    "prune_with_retraining",
    "pruned_stage",
    "quantize_with_retraining",
    "quantized_key",
    "recipe_hops",
    "retrain_schedule",
]

DEFAULT_PRUNE_TRAINING = TrainingSettings(epochs=1.0, learning_rate=1e-4, schedule="cosine")
DEFAULT_QUANTIZE_TRAINING = TrainingSettings(
    epochs=0.5, learning_rate=3e-5, schedule="constant", max_steps=8
)
TRAINING_TABLES: tuple[str, ...] = ("prune", "quantize")
TRAINING_KEYS: tuple[str, ...] = (
    "epochs",
    "learning_rate",
    "batch_size",
    "optimizer",
    "schedule",
    "weight_decay",
    "max_steps",
)


@dataclass(frozen=True)
class RetrainSchedule:
    """Schedules of the two retraining stages."""

    prune: TrainingSettings = DEFAULT_PRUNE_TRAINING
    quantize: TrainingSettings = DEFAULT_QUANTIZE_TRAINING


def _settings_from(where: str, base: TrainingSettings, table: object) -> TrainingSettings:
    if not isinstance(table, dict):
        raise ValueError(f"recipe {where}={table!r} is invalid; allowed: a table")
    for key in table:
        if key not in TRAINING_KEYS:
            raise ValueError(
                f"recipe key {where}.{key} is unknown; allowed: {', '.join(TRAINING_KEYS)}"
            )
    types = {f.name: f.type for f in fields(TrainingSettings)}
    values = {}
    for key, value in table.items():
        if key in ("batch_size", "max_steps") and not (
            isinstance(value, int) and not isinstance(value, bool)
        ):
            raise ValueError(f"recipe {where}.{key}={value!r} is invalid; allowed: an integer")
        if key in ("epochs", "learning_rate", "weight_decay") and not (
            isinstance(value, int | float) and not isinstance(value, bool)
        ):
            raise ValueError(f"recipe {where}.{key}={value!r} is invalid; allowed: a number")
        values[key] = float(value) if "float" in str(types[key]) else value
    try:
        return replace(base, **values)
    except ValueError as error:
        raise ValueError(f"recipe {where}: {error}") from None


def retrain_schedule(recipe: Recipe) -> RetrainSchedule:
    """The recipe's `[training]` table over the defaults (unknown keys are one-line errors)."""
    table = getattr(recipe, "training", None) or {}
    for key in table:
        if key not in TRAINING_TABLES:
            raise ValueError(
                f"recipe key training.{key} is unknown; allowed: {', '.join(TRAINING_TABLES)}"
            )
    return RetrainSchedule(
        prune=_settings_from("training.prune", DEFAULT_PRUNE_TRAINING, table.get("prune", {})),
        quantize=_settings_from(
            "training.quantize", DEFAULT_QUANTIZE_TRAINING, table.get("quantize", {})
        ),
    )


@dataclass(frozen=True)
class DeepCompressionResult:
    """The compressed network, the torch model holding its dequantized weights, and where each
    stage came from."""

    compressed: CompressedNetwork
    model: nn.Module
    masks: dict[str, np.ndarray]
    pruned: StageResult
    quantized: StageResult
    encode_seconds: float


def quantize_with_retraining(
    model: nn.Module,
    network: Network,
    bits: dict[str, int],
    init: str,
    data: TrainingData | None,
    settings: TrainingSettings,
    *,
    seed: int = 0,
    device: torch.device | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Share every layer's (pruned) weights into 2**b codes and fine-tune only the centroids;
    returns layer → (codebook, codes) and leaves `model` holding the quantized weights."""
    modules = layer_modules(model, network)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    shared = {}
    with progress.counter(
        f"weight sharing (k-means, {init} init)", len(modules), "layers"
    ) as shown:
        for name, module in modules.items():
            shown.describe(f"{name} at {bits[name]} bits")
            shared[name] = share_module_weights(module, bits[name], init=init, seed=seed)
            shown.update()
    if data is not None:
        train_steps(
            model,
            [s.centroids for s in shared.values()],
            data,
            settings,
            seed=seed + 7,
            device=device,
            label="quantization fine-tuning (centroids)",
        )
    result = {name: bake_shared_weights(module) for name, module in modules.items()}
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return result


def fine_tunes(settings: TrainingSettings) -> bool:
    """Whether a quantization schedule trains the centroids at all (epochs and max_steps not
    zero); without it quantization is k-means only."""
    return settings.epochs > 0 and settings.max_steps != 0


def quantized_key(
    pruned_key: str,
    bits: dict[str, int],
    init: str,
    settings: TrainingSettings,
    data: TrainingData | None,
    *,
    seed: int,
    threads: int,
    device: str,
) -> str:
    """Cache key of the quantized stage: the pruned checkpoint, the bits and init, the
    fine-tuning schedule ("none" for k-means only, whatever its other fields), the data, seed,
    thread count and device kind."""
    return cache_key(
        "quantized",
        {
            "parent": pruned_key,
            "bits": bits,
            "init": init,
            "training": asdict(settings) if fine_tunes(settings) else "none",
            "data": None if data is None else data.identity,
            "seed": seed,
            "threads": threads,
            "device": device,
        },
    )


def recipe_hops(recipe: Recipe, network: Network) -> list[Hop]:
    """The pruning hops of `recipe` on `network`: dense → each `prune_path` checkpoint →
    the recipe's densities; the first hop in `prune_steps` steps, each later one in
    `trajectory_steps` (`compression.pruning_trajectory`)."""
    checkpoints = [*recipe.path_densities(network), recipe.densities(network)]
    return [
        Hop(densities, recipe.prune_steps if index == 0 else recipe.trajectory_steps)
        for index, densities in enumerate(checkpoints)
    ]


def deep_compress(
    model: nn.Module,
    network: Network,
    parent_key: str,
    recipe: Recipe,
    data: TrainingData | None,
    *,
    n_pe: int | None = None,
    seed: int = 0,
    schedule: RetrainSchedule | None = None,
    device: torch.device | None = None,
    threads: int = 2,
    use_cache: bool = True,
) -> DeepCompressionResult:
    """Compress a trained `model` (left unchanged) with `recipe`, retraining on `data` (None:
    no retraining, one-shot prune and k-means). `parent_key` identifies the trained model in
    the cache (e.g. `TrainedModel.key`, or a hash of a user's weights file)."""
    schedule = schedule or retrain_schedule(recipe)
    settings = recipe.layer_recipes(network)
    bits = {name: s.weight_bits for name, s in settings.items()}
    n_pe = n_pe if n_pe is not None else (recipe.n_pe or DEFAULT_N_PE)
    device = device or torch.device("cpu")

    hops = recipe_hops(recipe, network)
    if len(hops) == 1:
        work, masks, pruned = pruned_stage(
            model,
            network,
            parent_key,
            hops[0].densities,
            hops[0].steps,
            data,
            schedule.prune,
            seed=seed,
            device=device,
            threads=threads,
            use_cache=use_cache,
        )
    else:
        with progress.stage(f"pruning trajectory ({len(hops)} checkpoints)"):
            end = trajectory_end(
                model,
                network,
                parent_key,
                hops,
                data,
                schedule.prune,
                seed=seed,
                device=device,
                threads=threads,
                use_cache=use_cache,
            )
        work, masks, pruned = end.model, end.masks, end.stage
    params = weight_params(work, network)
    quant_key = quantized_key(
        pruned.key,
        bits,
        recipe.init,
        schedule.quantize,
        data,
        seed=seed,
        threads=threads,
        device=device.type,
    )
    started = time.perf_counter()
    entry = load_entry("quantized", quant_key) if use_cache else None
    if entry is not None:
        codebooks = {n: entry["codebooks"][n].numpy() for n in masks}
        codes = {}
        for name, param in params.items():
            layer_codes = np.zeros(tuple(param.shape), np.uint16)
            layer_codes[masks[name]] = entry["codes"][name].numpy().astype(np.uint16)
            codes[name] = layer_codes
        work.load_state_dict(entry["other"], strict=False)
        progress.note("quantized model: from the cache")
        quantized = StageResult(quant_key, True, time.perf_counter() - started)
    else:
        with progress.stage("trained quantization"), torch_threads(threads):
            work.to(device)
            shared = quantize_with_retraining(
                work, network, bits, recipe.init, data, schedule.quantize, seed=seed, device=device
            )
            work.to("cpu")
        codebooks = {n: cb for n, (cb, _) in shared.items()}
        codes = {n: c.astype(np.uint16) for n, (_, c) in shared.items()}
        if use_cache:
            store_entry(
                "quantized",
                quant_key,
                {
                    "codebooks": {n: torch.from_numpy(cb.copy()) for n, cb in codebooks.items()},
                    "codes": {
                        n: torch.from_numpy(codes[n][masks[n]].astype(np.int16)) for n in codes
                    },
                    "other": other_state(work, network),
                },
            )
        quantized = StageResult(quant_key, False, time.perf_counter() - started)

    started = time.perf_counter()
    layers = []
    with progress.counter(
        "encoding (sparse format, Huffman)", len(network.layers), "layers"
    ) as shown:
        for spec in network.layers:
            shown.describe(spec.name)
            layers.append(
                layer_from_codes(
                    spec,
                    codebooks[spec.name],
                    codes[spec.name],
                    index_bits=settings[spec.name].index_bits,
                    n_pe=n_pe,
                )
            )
            shown.update()
    compressed = CompressedNetwork(network.name, tuple(layers), recipe.name)
    load_compressed_weights(work, network, compressed)
    encode_seconds = time.perf_counter() - started
    work.eval()
    return DeepCompressionResult(compressed, work, masks, pruned, quantized, encode_seconds)


def load_compressed_weights(
    model: nn.Module, network: Network, compressed: CompressedNetwork
) -> nn.Module:
    """Put every layer's dequantized weights (what the container stores) into `model`."""
    modules = layer_modules(model, network)
    with torch.no_grad():
        for layer in compressed.layers:
            weight = modules[layer.name].weight
            weight.copy_(torch.from_numpy(layer.dequantized_weights()).view_as(weight))
    return model
