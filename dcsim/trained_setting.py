"""A digits compression setting read back from the accuracy stage's cache entries: what a work
unit needs (the compressed network on one PE, the activations it sees, its accuracy), without
re-running the Deep Compression pipeline.

Part of the application layer (DESIGN §6, §8), between `dcsim.accuracy_grid` (which fills the
cache, in the sweep's main process) and `dcsim.trained_models.trained_point` (which every work
unit of a digits setting calls, in any executor). Before a unit runs, `prepare_points` has left
in the cache, under the keys `dcsim.accuracy.digits_pipeline` computes:

- the pruned checkpoint of the setting's trajectory (its packed masks),
- the quantized stage (every layer's codebook, the codes of the surviving weights, the
  non-weight state: biases),
- the evaluation of the quantized model.

`digits_pipeline` would rebuild a whole `DeepCompressionResult` from them: draw and load the
dense model (about 230 MB of weights), clone it, load the checkpoint into the clone, rebuild
the dataset split and its digest two or three times — about 2.5 s of CPU for each unit.
`cached_trained_point` reads only what the unit uses, and does exactly what `deep_compress`
does with it, so every number is the same, bit for bit (tests compare the two):

1. keys: dense model → trajectory checkpoint → quantized stage → evaluation, from the split's
   digest (the split is built once per process);
2. codes: the full code array of each layer, zero where the checkpoint's mask prunes, then
   `layer_from_codes` with the recipe's index bits on one PE (`deep_compress`'s encoding);
3. activations: each layer's input on the first test image (`workloads.activations`), cached
   under the quantized model's key and torch's thread count (`activations_key`); the first
   unit of a setting measures them with the dequantized weights and the quantized entry's
   non-weight state loaded into a model kept per process (every tensor of its state is
   overwritten, so what it held before does not matter);
4. accuracy: the cached evaluation.

Any entry missing (a cache cleared under a running sweep, a setting `prepare_points` did not
see): None, and the caller runs the ordinary pipeline.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch

from dcsim.config import DesignPoint


@dataclasses.dataclass(frozen=True)
class SettingKeys:
    """The cache keys of one digits setting's artefacts."""

    checkpoint: str  # the pruned stage (`compression.pruning_trajectory.pruned_key`)
    quantized: str  # `compression.deep_compression.quantized_key`
    evaluation: str  # `dcsim.accuracy.evaluation_key` of the quantized model


def seeded_setup(point: DesignPoint):
    """The digits task with the point's seed."""
    from workloads.training import DIGITS_SETUP

    return dataclasses.replace(DIGITS_SETUP, seed=point.seed)


@functools.lru_cache(maxsize=2)
def digits_split(setup):
    """The digits split of `setup` (a `workloads.training.DigitsSetup`), built once per
    process; its digest is computed once too (`DatasetSplit.digest` is cached)."""
    split = setup.split()
    _ = split.digest
    return split


def setting_keys(point: DesignPoint) -> SettingKeys:
    """The keys `dcsim.accuracy.digits_pipeline` (and so the accuracy stage) stores the
    setting of the digits point `point` under."""
    from compression.deep_compression import quantized_key, recipe_hops, retrain_schedule
    from compression.pruning_trajectory import trajectory_keys
    from dcsim.accuracy import evaluation_key
    from dcsim.compression_setting import point_recipe
    from workloads import training

    setup = seeded_setup(point)
    split = digits_split(setup)
    dense_training = training.DENSE_DIGITS_TRAINING  # looked up at call time, as the pipeline
    threads = dense_training.threads
    network = setup.network_spec()
    recipe = point_recipe(point)
    schedule = retrain_schedule(recipe)
    data = training.digits_training_data(split)
    dense_key = training.dense_digits_key(setup, dense_training, split, "cpu")
    hops = recipe_hops(recipe, network)
    checkpoint = trajectory_keys(
        dense_key, hops, data, schedule.prune, seed=setup.seed, threads=threads, device="cpu"
    )[-1]
    bits = {name: s.weight_bits for name, s in recipe.layer_recipes(network).items()}
    quantized = quantized_key(
        checkpoint,
        bits,
        recipe.init,
        schedule.quantize,
        data,
        seed=setup.seed,
        threads=threads,
        device="cpu",
    )
    evaluation = evaluation_key(quantized, split.digest, threads, "cpu")
    return SettingKeys(checkpoint, quantized, evaluation)


ACTIVATIONS_VERSION = 1  # bump when the measured activations change

_MASKS: dict[str, dict[str, np.ndarray]] = {}  # the last checkpoints' masks, by key
_MASKS_KEPT = 2


def _checkpoint_masks(key: str, network) -> dict[str, np.ndarray] | None:
    """The masks of the pruned checkpoint `key`; the last two are kept (consecutive units
    share a checkpoint), a missing entry is not."""
    from compression.pruning_trajectory import load_masks

    if key not in _MASKS:
        masks = load_masks(network, key)
        if masks is None:
            return None
        while len(_MASKS) >= _MASKS_KEPT:
            del _MASKS[next(iter(_MASKS))]
        _MASKS[key] = masks
    return _MASKS[key]


@functools.lru_cache(maxsize=1)
def _skeleton_model(setup):
    """A model of `setup`'s network whose whole state is overwritten before each use."""
    from workloads.torch_models import build_model

    return build_model(setup.network_spec())


def activations_key(keys: SettingKeys, split_digest: str) -> str:
    """Cache key of a quantized model's layer inputs on the first test image: the model, the
    data, torch's intra-op thread count (a forward pass's float sums may depend on it) and
    `ACTIVATIONS_VERSION`."""
    from workloads.cache import cache_key

    return cache_key(
        "activations",
        {
            "model": keys.quantized,
            "data": split_digest,
            "image": "test[0]",
            "threads": torch.get_num_threads(),
            "version": ACTIVATIONS_VERSION,
        },
    )


def _activations(setup, network, keys: SettingKeys, quantized: dict, compressed) -> dict:
    """Each layer's input (float32, without the batch axis) when the quantized model runs on
    the first test image: from the cache, else measured in the skeleton model and stored."""
    from compression.deep_compression import load_compressed_weights
    from workloads.activations import capture_layer_inputs
    from workloads.cache import load_entry, store_entry

    split = digits_split(setup)
    key = activations_key(keys, split.digest)
    entry = load_entry("activations", key)
    if entry is not None and all(layer.name in entry for layer in network.layers):
        return {layer.name: entry[layer.name].numpy() for layer in network.layers}
    model = _skeleton_model(setup)
    with torch.no_grad():
        model.load_state_dict(quantized["other"], strict=False)
    load_compressed_weights(model, network, compressed)
    captured = capture_layer_inputs(model, network, split.x_test[:1])
    activations = {name: x[0] for name, x in captured.items()}
    store_entry("activations", key, {n: torch.from_numpy(x) for n, x in activations.items()})
    return activations


def cached_trained_point(point: DesignPoint):
    """(compressed network on one PE, measured activations by layer, accuracy dict) of the
    digits point `point` from the cache, exactly as `trained_models.trained_point` computes
    them through the pipeline; None when an entry is missing."""
    from compression.compressed_layer import layer_from_codes
    from compression.compressed_network import CompressedNetwork
    from dcsim.compression_setting import point_recipe
    from workloads.cache import load_entry
    from workloads.evaluation import Evaluation

    if point.network.weights != "digits":
        return None
    keys = setting_keys(point)
    setup = seeded_setup(point)
    network = setup.network_spec()
    evaluation = load_entry("evaluation", keys.evaluation)
    quantized = load_entry("quantized", keys.quantized)
    masks = _checkpoint_masks(keys.checkpoint, network)
    if evaluation is None or quantized is None or masks is None:
        return None
    recipe = point_recipe(point)
    settings = recipe.layer_recipes(network)
    layers = []
    for spec in network.layers:
        codes = np.zeros(spec.weight_shape, np.uint16)
        codes[masks[spec.name]] = quantized["codes"][spec.name].numpy().astype(np.uint16)
        layers.append(
            layer_from_codes(
                spec,
                quantized["codebooks"][spec.name].numpy(),
                codes,
                index_bits=settings[spec.name].index_bits,
                n_pe=1,
            )
        )
    compressed = CompressedNetwork(network.name, tuple(layers), recipe.name)
    activations = _activations(setup, network, keys, quantized, compressed)
    measured = Evaluation.from_dict(evaluation)
    accuracy = {
        "top1": measured.top1,
        "top5": measured.top5,
        "retrieval_map": measured.map,
        "precision_at_10": measured.precision_at_10,
    }
    return compressed, activations, accuracy
