"""Measured accuracy for a sweep: every compression setting of one pruning trajectory at once.

Part of the application layer (DESIGN §6, §8). A sweep's networks that train (the digits
AlexNet; a user's AlexNet weights with a data folder) need, per compression setting, a pruned
and retrained network, its quantization and an evaluation. `prepare_settings` (called by
`dcsim.point_evaluation.prepare_points`, in the sweep's main process) builds all of them into
the cache (`workloads.cache`), under exactly the keys `dcsim.accuracy.digits_pipeline` — and
so `dcsim compress` with the point's recipe (`compression_setting.point_recipe_data`) — uses; the
work units then only read them back. Settings are grouped by pruning trajectory: one network
entry, density profile, seed and [accuracy] settings. Per group:

1. **Trajectory.** The density scales of the group, highest first, are the checkpoints of one
   pruning trajectory (`compression.pruning_trajectory`): dense → scale 1 → scale 2 → …, each
   checkpoint pruned further from the one before and retrained, each cached.
2. **k-means grid** (digits, `fine_tune = false`, the default). At each checkpoint, every layer
   is shared by k-means once per (bits, init) — conv and fc bits are separate axes, so a grid
   of C conv × F fc bit widths needs C + F k-means runs per layer kind, not C × F — and the
   evaluation is split where the conv layers end (`workloads.staged_forward`): the conv trunk
   runs once per conv bit width on the test and gallery images, the fc head once per setting.
   The results are bit-identical to evaluating each setting's whole model (tests).
3. **Otherwise** (fine-tuning: every setting's centroids train jointly; a user's weights and
   folder): each setting runs the ordinary pipeline, in trajectory order, so each checkpoint
   is pruned once and found in the cache by the settings below it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from dcsim.config import DesignPoint
from workloads import progress


def trajectory_group(point: DesignPoint) -> tuple:
    """Settings with the same value share one pruning trajectory."""
    return (point.network, point.density_profile, point.seed, point.retraining)


def prepare_settings(settings: list[DesignPoint]) -> None:
    """Build into the cache what every trained compression setting in `settings` needs
    (points with hardware blanked, `compression_setting.compression_only`)."""
    from dcsim.compression_setting import compression_label
    from dcsim.trained_models import prepare_trained

    groups: dict[tuple, list[DesignPoint]] = {}
    for point in settings:
        groups.setdefault(trajectory_group(point), []).append(point)
    for number, points in enumerate(groups.values(), 1):
        points = sorted(points, key=lambda p: -p.density_scale)  # trajectory order
        first = points[0]
        scales = sorted({p.density_scale for p in points}, reverse=True)
        label = (
            f"accuracy {number}/{len(groups)}: {first.network.label} {first.density_profile}, "
            f"{len(points)} settings at {len(scales)} densities"
        )
        with progress.stage(label):
            settings_of = dict(first.retraining)
            if first.network.weights == "digits" and settings_of.get("fine_tune") is not True:
                measure_kmeans_grid(points)
                continue
            for index, point in enumerate(points, 1):
                with progress.stage(f"train {index}/{len(points)}: {compression_label(point)}"):
                    prepare_trained(point)


def _digits_context(point: DesignPoint):
    from dcsim.trained_models import seeded_setup
    from workloads import training

    setup = seeded_setup(point)
    split = setup.split()
    dense_training = training.DENSE_DIGITS_TRAINING
    dense = training.train_dense_digits(setup, dense_training, split=split)
    return split, dense, dense_training.threads


def measure_kmeans_grid(points: list[DesignPoint]) -> None:
    """Digits settings of one trajectory, k-means only (module docstring, 1–2)."""
    from compression.deep_compression import quantized_key, recipe_hops, retrain_schedule
    from compression.pruning_trajectory import trajectory_keys, walk_trajectory
    from dcsim.accuracy import evaluation_key
    from dcsim.compression_setting import point_recipe
    from workloads.cache import cache_path, load_entry, store_entry
    from workloads.evaluation import evaluate_split
    from workloads.training import digits_training_data, torch_threads

    split, dense, threads = _digits_context(points[0])
    network = dense.network
    data = digits_training_data(split)
    seed = points[0].seed
    recipes = {p: point_recipe(p) for p in points}
    hops_of = {p: recipe_hops(recipes[p], network) for p in points}
    hops = max(hops_of.values(), key=len)
    for point, own in hops_of.items():
        if own != hops[: len(own)]:  # pragma: no cover - the config builds nested paths
            raise AssertionError(f"setting {point.point_id}: not on its group's trajectory")
    schedule = retrain_schedule(recipes[points[0]])
    keys = trajectory_keys(
        dense.key, hops, data, schedule.prune, seed=seed, threads=threads, device="cpu"
    )

    def eval_key(model_key: str) -> str:
        return evaluation_key(model_key, split.digest, threads, "cpu")

    jobs: dict[int, list[tuple[DesignPoint, str]]] = {}
    for point in points:
        index = len(hops_of[point]) - 1
        recipe = recipes[point]
        bits = {name: s.weight_bits for name, s in recipe.layer_recipes(network).items()}
        quant_key = quantized_key(
            keys[index],
            bits,
            recipe.init,
            retrain_schedule(recipe).quantize,
            data,
            seed=seed,
            threads=threads,
            device="cpu",
        )
        done = cache_path("quantized", quant_key).is_file() and (
            cache_path("evaluation", eval_key(quant_key)).is_file()
        )
        if not done:
            jobs.setdefault(index, []).append((point, quant_key))
    if load_entry("evaluation", eval_key(dense.key)) is None:
        with progress.stage("evaluating the dense model"), torch_threads(threads):
            evaluation = evaluate_split(
                dense.model, network, split.x_train, split.y_train, split.x_test, split.y_test
            )
        store_entry("evaluation", eval_key(dense.key), evaluation.as_dict())
    if not jobs:
        progress.note(f"{len(points)} settings: from the cache")
        return
    last = max(jobs)
    walk = walk_trajectory(
        dense.model,
        network,
        dense.key,
        hops[: last + 1],
        data,
        schedule.prune,
        seed=seed,
        threads=threads,
    )
    for index, checkpoint in enumerate(walk):
        if index in jobs:
            label = f"checkpoint {index + 1}/{len(hops)}"
            _checkpoint_grid(checkpoint, label, network, jobs[index], recipes, split, seed, threads)


@dataclasses.dataclass
class _SharedLayer:
    """One layer of a checkpoint shared by k-means at one (bits, init): its codebook and codes
    (`compression.weight_sharing.share_weights`), the positions of its non-zero codes, and the
    codes of its surviving weights as the quantized cache entry stores them. Settings of a
    checkpoint reuse it: the fc layers at one fc width serve every conv width, and back."""

    codebook: np.ndarray
    codes: np.ndarray  # uint16, the weight's shape
    mask: dataclasses.InitVar[np.ndarray]
    nonzero: np.ndarray = dataclasses.field(init=False)  # flat positions of non-zero codes
    stored_codes: torch.Tensor = dataclasses.field(init=False)  # int16, codes[mask]

    def __post_init__(self, mask: np.ndarray) -> None:
        self.nonzero = np.flatnonzero(self.codes)
        self.stored_codes = torch.from_numpy(self.codes[mask].astype(np.int16))

    def load_into(self, weight: torch.Tensor) -> None:
        """weight = codebook[codes]: zero, then the non-zero codes' centroids (code 0 is the
        zero weight, `codebook[0] == 0.0`), without gathering the pruned majority."""
        values = weight.detach().view(-1).numpy()  # the parameter's own memory
        values.fill(0.0)
        values[self.nonzero] = self.codebook[self.codes.reshape(-1)[self.nonzero]]


@dataclasses.dataclass
class _Batches:
    """The test and gallery images in the evaluation's batches (`tensor_batches`)."""

    test: list[torch.Tensor]
    train: list[torch.Tensor]


def _checkpoint_grid(checkpoint, label, network, jobs, recipes, split, seed, threads) -> None:
    """k-means and evaluation of every (bits, init) setting `jobs` holds at `checkpoint`,
    stored as quantized and evaluation cache entries."""
    from compression.pruning_trajectory import other_state
    from compression.weight_sharing import share_weights
    from dcsim.accuracy import evaluation_key
    from workloads.cache import store_entry
    from workloads.evaluation import evaluate_split_staged
    from workloads.staged_forward import layer_stages, stage_inputs
    from workloads.torch_models import layer_modules
    from workloads.training import torch_threads

    model = checkpoint.model
    masks = checkpoint.masks
    model.eval()
    modules = layer_modules(model, network)
    original = {name: m.weight.detach().clone() for name, m in modules.items()}
    stages = layer_stages(model, network)
    if stages is None:  # pragma: no cover - the accuracy path builds SequentialNets
        raise ValueError(f"network {network.name!r}: the k-means grid needs a sequential model")
    kinds = {layer.name: layer.kind for layer in network.layers}
    head_start = 0  # the first stage holding a non-conv layer: the trunk is every stage before
    if any(kind != "conv" for kind in kinds.values()):
        head_start = min(stages[n] for n, kind in kinds.items() if kind != "conv")
        if any(stages[n] >= head_start for n, kind in kinds.items() if kind == "conv"):
            head_start = 0  # a conv after an fc layer: no shared trunk
    trunk = [n for n in modules if stages[n] < head_start]
    head = [n for n in modules if n not in trunk]
    shared: dict[tuple[str, int, str], _SharedLayer] = {}

    def quantized(name: str, bits: int, init: str) -> _SharedLayer:
        key = (name, bits, init)
        if key not in shared:
            weights = original[name].numpy()
            codebook, codes = share_weights(weights, bits, init=init, seed=seed)
            shared[key] = _SharedLayer(codebook, codes.astype(np.uint16, copy=False), masks[name])
        return shared[key]

    def load(names: list[str], bits: dict[str, int], init: str) -> None:
        with torch.no_grad():
            for name in names:
                quantized(name, bits[name], init).load_into(modules[name].weight)

    layer_bits = {}
    for point, _ in jobs:
        settings = recipes[point].layer_recipes(network)
        layer_bits[point] = {name: s.weight_bits for name, s in settings.items()}
    by_trunk: dict[tuple, list] = {}
    for point, quant_key in jobs:
        init = recipes[point].init
        signature = (init, tuple(layer_bits[point][n] for n in trunk))
        by_trunk.setdefault(signature, []).append((point, quant_key))
    batch = _evaluation_batches(split)
    other = other_state(model, network)
    with (
        torch_threads(threads),
        progress.counter(f"k-means + evaluation at {label}", len(jobs), "settings") as shown,
    ):
        for (init, _), group in by_trunk.items():
            first = group[0][0]
            load(trunk, layer_bits[first], init)
            test = stage_inputs(model, batch.test, [head_start])[head_start]
            train = stage_inputs(model, batch.train, [head_start])[head_start]
            for point, quant_key in group:
                bits = layer_bits[point]
                shown.describe(_bits_label(network, bits))
                load(head, bits, init)
                evaluation = evaluate_split_staged(
                    model, network, head_start, train, split.y_train, test, split.y_test
                )
                layers = {n: quantized(n, bits[n], init) for n in modules}
                store_entry(
                    "quantized",
                    quant_key,
                    {
                        "codebooks": {
                            n: torch.from_numpy(layer.codebook.copy())
                            for n, layer in layers.items()
                        },
                        "codes": {n: layer.stored_codes for n, layer in layers.items()},
                        "other": other,
                    },
                )
                store_entry(
                    "evaluation",
                    evaluation_key(quant_key, split.digest, threads, "cpu"),
                    evaluation.as_dict(),
                )
                shown.update()
    with torch.no_grad():  # the checkpoint model is the caller's: give its weights back
        for name, module in modules.items():
            module.weight.copy_(original[name])


def _evaluation_batches(split) -> _Batches:
    from workloads.evaluation import tensor_batches

    return _Batches(
        test=[x for x, _ in tensor_batches(split.x_test, split.y_test)],
        train=[x for x, _ in tensor_batches(split.x_train, split.y_train)],
    )


def _bits_label(network, bits: dict[str, int]) -> str:
    by_kind: dict[str, set[int]] = {}
    for layer in network.layers:
        by_kind.setdefault(layer.kind, set()).add(bits[layer.name])
    return ", ".join(
        f"{kind} {'/'.join(map(str, sorted(values)))} bits" for kind, values in by_kind.items()
    )
