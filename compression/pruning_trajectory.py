"""Pruning with retraining as cached checkpoints, and a pruning trajectory through several
densities: dense → d1 → d2 → … → dD, each checkpoint pruned further from the one before.

Part of `compression` (DESIGN §3.1, §8), the first stage of `compression.deep_compression`.
Deep Compression prunes iteratively — prune, retrain, prune further — so the network pruned to
density d1 is on the way to any sparser density d2 < d1. A sweep over D densities of one
density-profile shape (the same per-layer densities × D scales) therefore walks ONE
trajectory, checkpointing at every density it needs, instead of pruning D times from dense:

    dense ──(prune_steps steps)──► checkpoint 1 ──(trajectory_steps)──► checkpoint 2 ──► …

A *hop* goes from a parent (the dense model, or the previous checkpoint) to a checkpoint's
per-layer densities in `steps` prune → retrain steps; the step densities are geometric from
the parent's densities to the target (`compression.pruning.density_schedule`), every step
keeps the largest-magnitude survivors of the step before (pruned weights never come back) and
retrains every parameter with the masks enforced. A checkpoint's masks keep exactly
round(density × n) weights per layer — the same count as pruning straight from dense to that
density — but its surviving values were shaped by the retraining of every hop before it.

Caching (`workloads.cache`, kind `pruned`): a checkpoint's key names its parent's key (the
dense model's for the first hop), the target densities, the hop's steps, the retraining
schedule, the training data, the seed, the thread count and the device kind. The first hop's
key is exactly the key of a plain prune-to-density run with the same settings, so a
trajectory's first checkpoint and `dcsim compress` with that recipe share one entry; every
later checkpoint is identified by the whole chain above it. Entries are compact: a packed mask
plus the surviving values and the non-weight state (biases).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from compression.retraining import iterative_prune
from workloads import progress
from workloads.cache import cache_key, cache_path, load_entry, store_entry
from workloads.networks import Network
from workloads.torch_models import layer_modules
from workloads.training import TrainingData, TrainingSettings, torch_threads, train_steps


@dataclass(frozen=True)
class StageResult:
    """Where a stage's result came from: its cache key, whether it was loaded, seconds."""

    key: str
    from_cache: bool
    seconds: float


@dataclass(frozen=True)
class Hop:
    """One leg of a pruning trajectory: prune to `densities` (layer → density) in `steps`
    prune → retrain steps from the parent checkpoint."""

    densities: dict[str, float]
    steps: int


@dataclass(frozen=True)
class Checkpoint:
    """A pruned, retrained model on the trajectory (CPU), its masks and its densities."""

    model: nn.Module
    masks: dict[str, np.ndarray]
    densities: dict[str, float]
    stage: StageResult

    @property
    def key(self) -> str:
        return self.stage.key


def weight_params(model: nn.Module, network: Network) -> dict[str, nn.Parameter]:
    """Layer name → the weight parameter of that layer's module."""
    return {name: module.weight for name, module in layer_modules(model, network).items()}


def other_state(model: nn.Module, network: Network) -> dict[str, torch.Tensor]:
    """The model's state that is not a layer weight (biases, ...), cloned."""
    weight_keys = {f"{path}.weight" for path in network.module_paths.values()}
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k not in weight_keys}


def clone_model(model: nn.Module, network: Network) -> nn.Module:
    """A trainable CPU copy of `model`."""
    clone = copy.deepcopy(model).to("cpu")
    for parameter in clone.parameters():
        parameter.requires_grad_(True)
    return clone


def _pack_mask(mask: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.packbits(mask.ravel()))


def _unpack_mask(packed: torch.Tensor, shape: tuple[int, ...]) -> np.ndarray:
    count = int(np.prod(shape))
    return np.unpackbits(packed.numpy(), count=count).astype(bool).reshape(shape)


def prune_with_retraining(
    model: nn.Module,
    network: Network,
    densities: dict[str, float],
    steps: int,
    data: TrainingData | None,
    settings: TrainingSettings,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    start_masks: dict[str, np.ndarray] | None = None,
    start_densities: dict[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Iteratively prune `model` in place to `densities`, retraining every parameter after each
    step with the masks enforced; returns the final masks. `start_masks` / `start_densities`:
    the model is a checkpoint already pruned to those (a trajectory hop)."""
    params = weight_params(model, network)

    def retrain(step: int, enforcer) -> None:
        kept = sum(int(torch.count_nonzero(m)) for m in enforcer.masks.values())
        size = sum(m.numel() for m in enforcer.masks.values())
        label = f"prune step {step + 1}/{steps} (density {kept / size:.2%})"
        if data is None:
            progress.note(f"{label}: no retraining")
            return
        train_steps(
            model,
            list(model.parameters()),
            data,
            settings,
            seed=seed + 1000 * (step + 1),
            after_step=enforcer.apply,
            device=device,
            label=f"{label} retraining",
        )

    return iterative_prune(
        params,
        {n: densities[n] for n in params},
        steps,
        retrain,
        start_masks=start_masks,
        start_densities=start_densities,
    )


def pruned_key(
    parent_key: str,
    densities: dict[str, float],
    prune_steps: int,
    settings: TrainingSettings,
    data: TrainingData | None,
    *,
    seed: int,
    threads: int,
    device: str,
) -> str:
    """The cache key of a checkpoint pruned from the model `parent_key` names (module
    docstring): everything that changes the retrained weights."""
    return cache_key(
        "pruned",
        {
            "parent": parent_key,
            "densities": {name: float(d) for name, d in densities.items()},
            "prune_steps": prune_steps,
            "training": asdict(settings),
            "data": None if data is None else data.identity,
            "seed": seed,
            "threads": threads,
            "device": device,
        },
    )


def _load_pruned(model: nn.Module, network: Network, entry: dict) -> dict[str, np.ndarray]:
    masks = {}
    params = weight_params(model, network)
    with torch.no_grad():
        for name, param in params.items():
            mask = _unpack_mask(entry["masks"][name], tuple(param.shape))
            values = torch.zeros_like(param)
            values[torch.from_numpy(mask)] = entry["values"][name]
            param.copy_(values)
            masks[name] = mask
        model.load_state_dict(entry["other"], strict=False)
    return masks


def pruned_stage(
    model: nn.Module,
    network: Network,
    parent_key: str,
    densities: dict[str, float],
    prune_steps: int,
    data: TrainingData | None,
    settings: TrainingSettings,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    threads: int = 2,
    use_cache: bool = True,
    start_masks: dict[str, np.ndarray] | None = None,
    start_densities: dict[str, float] | None = None,
) -> tuple[nn.Module, dict[str, np.ndarray], StageResult]:
    """A pruned, retrained copy of `model` (left unchanged) and its masks, from the cache when
    the same parent, densities, steps, schedule, data and seed were pruned before.
    `start_masks` / `start_densities`: `model` is a checkpoint pruned to those (its key is
    `parent_key`)."""
    device = device or torch.device("cpu")
    key = pruned_key(
        parent_key,
        densities,
        prune_steps,
        settings,
        data,
        seed=seed,
        threads=threads,
        device=device.type,
    )
    started = time.perf_counter()
    work = clone_model(model, network)
    entry = load_entry("pruned", key) if use_cache else None
    if entry is not None:
        masks = _load_pruned(work, network, entry)
        progress.note("pruned model: from the cache")
        return work, masks, StageResult(key, True, time.perf_counter() - started)
    with progress.stage(f"pruning in {prune_steps} steps"), torch_threads(threads):
        work.to(device)
        masks = prune_with_retraining(
            work,
            network,
            densities,
            prune_steps,
            data,
            settings,
            seed=seed,
            device=device,
            start_masks=start_masks,
            start_densities=start_densities,
        )
        work.to("cpu")
    if use_cache:
        params = weight_params(work, network)
        store_entry(
            "pruned",
            key,
            {
                "masks": {n: _pack_mask(m) for n, m in masks.items()},
                "values": {
                    n: p.detach()[torch.from_numpy(masks[n])].clone() for n, p in params.items()
                },
                "other": other_state(work, network),
            },
        )
    return work, masks, StageResult(key, False, time.perf_counter() - started)


def trajectory_keys(
    parent_key: str,
    hops: list[Hop],
    data: TrainingData | None,
    settings: TrainingSettings,
    *,
    seed: int = 0,
    threads: int = 2,
    device: str = "cpu",
) -> list[str]:
    """The cache key of every checkpoint of the trajectory, in order."""
    keys, parent = [], parent_key
    for hop in hops:
        parent = pruned_key(
            parent,
            hop.densities,
            hop.steps,
            settings,
            data,
            seed=seed,
            threads=threads,
            device=device,
        )
        keys.append(parent)
    return keys


def _check_hops(hops: list[Hop]) -> None:
    if not hops:
        raise ValueError("pruning trajectory: hops=[] is invalid; allowed: at least one hop")
    for before, after in zip(hops, hops[1:]):
        for name, density in after.densities.items():
            if density > before.densities[name]:
                raise ValueError(
                    f"pruning trajectory: layer {name!r} density={density!r} after "
                    f"{before.densities[name]!r} is invalid; allowed: densities that never grow"
                )


def load_checkpoint(
    model: nn.Module, network: Network, key: str
) -> tuple[nn.Module, dict[str, np.ndarray]] | None:
    """The checkpoint cached under `key`, loaded into a copy of `model` (any model of the
    network: the entry holds every weight and the non-weight state), or None."""
    entry = load_entry("pruned", key)
    if entry is None:
        return None
    work = clone_model(model, network)
    return work, _load_pruned(work, network, entry)


def load_masks(network: Network, key: str) -> dict[str, np.ndarray] | None:
    """The masks (layer → bool array of the weight shape) of the checkpoint cached under
    `key`, without loading its weights into a model; None when it is not cached."""
    entry = load_entry("pruned", key)
    if entry is None:
        return None
    return {
        layer.name: _unpack_mask(entry["masks"][layer.name], tuple(layer.weight_shape))
        for layer in network.layers
    }


def walk_trajectory(
    model: nn.Module,
    network: Network,
    parent_key: str,
    hops: list[Hop],
    data: TrainingData | None,
    settings: TrainingSettings,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    threads: int = 2,
    use_cache: bool = True,
    from_deepest_cached: bool = False,
) -> Iterator[Checkpoint]:
    """Walk dense `model` (key `parent_key`, left unchanged) through `hops`, yielding each
    checkpoint in order (each from the cache when there). Only the checkpoint just yielded
    and its parent are held, so memory does not grow with the number of hops.

    `from_deepest_cached`: start at the deepest checkpoint already in the cache and yield only
    it and those after it (what a caller that needs only the end uses)."""
    _check_hops(hops)
    device = device or torch.device("cpu")
    keys = trajectory_keys(
        parent_key, hops, data, settings, seed=seed, threads=threads, device=device.type
    )
    current, masks, densities, key, start = model, None, None, parent_key, 0
    if from_deepest_cached and use_cache:
        for index in reversed(range(len(hops))):
            started = time.perf_counter()
            if not cache_path("pruned", keys[index]).is_file():
                continue
            loaded = load_checkpoint(model, network, keys[index])
            if loaded is None:
                continue
            progress.note(f"checkpoint {index + 1}/{len(hops)}: from the cache")
            stage = StageResult(keys[index], True, time.perf_counter() - started)
            yield Checkpoint(loaded[0], loaded[1], dict(hops[index].densities), stage)
            current, masks = loaded
            densities, key, start = hops[index].densities, keys[index], index + 1
            break
    for index in range(start, len(hops)):
        hop = hops[index]
        overall = _overall(network, hop.densities)
        with progress.stage(f"checkpoint {index + 1}/{len(hops)} (density {overall:.2%})"):
            work, new_masks, stage = pruned_stage(
                current,
                network,
                key,
                hop.densities,
                hop.steps,
                data,
                settings,
                seed=seed,
                device=device,
                threads=threads,
                use_cache=use_cache,
                start_masks=masks,
                start_densities=densities,
            )
        if stage.key != keys[index]:  # pragma: no cover - the two key paths must agree
            raise AssertionError("pruning trajectory: checkpoint key mismatch")
        yield Checkpoint(work, new_masks, dict(hop.densities), stage)
        current, masks, densities, key = work, new_masks, hop.densities, stage.key


def _overall(network: Network, densities: dict[str, float]) -> float:
    total = sum(layer.weights for layer in network.layers)
    kept = sum(densities[layer.name] * layer.weights for layer in network.layers)
    return kept / total if total else 0.0


def trajectory_end(
    model: nn.Module,
    network: Network,
    parent_key: str,
    hops: list[Hop],
    data: TrainingData | None,
    settings: TrainingSettings,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    threads: int = 2,
    use_cache: bool = True,
) -> Checkpoint:
    """The last checkpoint of the trajectory: from the cache when there, else walked from the
    deepest cached checkpoint (or from dense)."""
    checkpoints = walk_trajectory(
        model,
        network,
        parent_key,
        hops,
        data,
        settings,
        seed=seed,
        device=device,
        threads=threads,
        use_cache=use_cache,
        from_deepest_cached=True,
    )
    last = None
    for last in checkpoints:  # noqa: B007 - the walk's last checkpoint is the result
        continue
    return last
