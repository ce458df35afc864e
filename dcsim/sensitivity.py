"""Per-layer pruning sensitivity, and the `auto` density profile derived from it.

Part of the application layer (DESIGN §3, §6). Deep Compression (Han et al. 2015, Fig. 5;
Han et al. 2016) and Distiller's sensitivity analysis prune ONE layer at a time, WITHOUT
retraining, over a list of densities, and read off how much accuracy each layer gives up:
conv1 and the last fc layer are sensitive, the big fc layers are not. `measure_sensitivity`
does exactly that on a trained network: for every weight layer l and density d, layer l keeps
its round(d × n) largest-magnitude weights (`compression.pruning.magnitude_mask`) — and with
`bits`, the survivors are shared by k-means into 2**bits codes (`compression.weight_sharing`)
— every other layer stays dense, and top-1 / top-5 are measured on the evaluation data (the
digits test split, or the user's folder). Only the layers from l on are re-run for each
density (`workloads.staged_forward`: the input of layer l is computed once), so the numbers are
those of the whole network, bit for bit. Each (layer, density) result is cached
(`workloads.cache`, kind `sensitivity`) under the model's key, the layer, density, bits, init,
seed, data, thread count and evaluation code.

The `auto` profile: for an allowed top-1 loss of L points, each layer gets the LOWEST density
of the list such that pruning that layer alone to it — and to every higher density of the
list — loses at most L points of top-1 on the data the curves were measured on (the layer
stays dense when even the highest density loses more). The monotone rule keeps one noisy
lucky density below a failing one from being chosen. In a sweep it is the density profile
`auto:L` (e.g. `density_profile = "auto:1.0"`; density_scale scales it like any profile);
`dcsim sensitivity ... --write-profile FILE --max-loss L` writes it as a recipe file instead,
to read, edit and reuse. Losses of single layers do not add up exactly: pruning every layer
at once to its auto density loses more than L before retraining (the output reports that
combined loss too); the retraining of the pruning trajectory then recovers most of it.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np
import torch

from dcsim.auto_profile_name import auto_profile_loss
from dcsim.sensitivity_densities import DEFAULT_DENSITIES, check_densities
from dcsim.trained_entries import trains

AUTO_PRUNE_STEPS = 3  # prune -> retrain steps from dense to an auto profile's first checkpoint
SENSITIVITY_VERSION = 1  # bump when the measurement changes its numbers
LOSS_TOLERANCE_POINTS = 1e-9  # float slack when comparing a loss with the allowed loss


@dataclass(frozen=True)
class LayerCurve:
    """Top-1 / top-5 (fractions) of the network with one layer pruned to each density."""

    layer: str
    kind: str
    weights: int
    densities: tuple[float, ...]
    top1: tuple[float, ...]
    top5: tuple[float, ...]


@dataclass(frozen=True)
class Sensitivity:
    """Per-layer sensitivity curves of one trained network on one data set."""

    network: str
    weights: str  # "digits" or the weights file
    data: str  # what the accuracy was measured on
    bits: int | None  # quantized too (k-means, `init`), or pruning only
    init: str
    dense_top1: float
    dense_top5: float
    curves: tuple[LayerCurve, ...]
    combined: dict = field(default_factory=dict)  # max loss → top-1 with every layer at auto

    def loss_points(self, top1: float) -> float:
        """Top-1 loss against the dense network, in percentage points."""
        return 100.0 * (self.dense_top1 - top1)

    def auto_densities(self, max_loss_points: float) -> dict[str, float]:
        """The `auto` profile for an allowed loss (module docstring): layer → density."""
        out = {}
        for curve in self.curves:
            chosen = 1.0
            for density, top1 in sorted(zip(curve.densities, curve.top1), reverse=True):
                if density >= 1.0:
                    continue
                if self.loss_points(top1) > max_loss_points + LOSS_TOLERANCE_POINTS:
                    break
                chosen = density
            out[curve.layer] = chosen
        return out

    def rows(self) -> list[dict]:
        """One row per (layer, density): what `dcsim sensitivity` prints."""
        rows = []
        for curve in self.curves:
            for density, top1, top5 in zip(curve.densities, curve.top1, curve.top5):
                rows.append(
                    {
                        "layer": curve.layer,
                        "kind": curve.kind,
                        "weights": curve.weights,
                        "density": density,
                        "bits": self.bits,
                        "top1": top1,
                        "top5": top5,
                        "top1_loss_points": self.loss_points(top1),
                        "top5_loss_points": 100.0 * (self.dense_top5 - top5),
                    }
                )
        return rows

    def as_dict(self) -> dict:
        """The run.json entry (`reports.sensitivity_figure` draws it)."""
        return {
            "network": self.network,
            "weights": self.weights,
            "data": self.data,
            "bits": self.bits,
            "init": self.init,
            "dense_top1": self.dense_top1,
            "dense_top5": self.dense_top5,
            "layers": [
                {
                    "layer": c.layer,
                    "kind": c.kind,
                    "weights": c.weights,
                    "densities": list(c.densities),
                    "top1": list(c.top1),
                    "top5": list(c.top5),
                }
                for c in self.curves
            ],
            "auto": [
                {
                    "max_loss_points": loss,
                    "densities": self.auto_densities(loss),
                    "combined_top1": top1,
                }
                for loss, top1 in sorted(self.combined.items())
            ],
        }


def _topk(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    from workloads.evaluation import topk_accuracy

    return topk_accuracy(logits, labels, 1), topk_accuracy(logits, labels, 5)


class _Evaluator:
    """Top-1 / top-5 of a model on in-memory evaluation images, starting at any stage."""

    def __init__(self, model, network, images: torch.Tensor, labels: torch.Tensor):
        from workloads.evaluation import EVALUATION_BATCH_SIZE
        from workloads.staged_forward import layer_stages, model_stages, stage_inputs

        self.model, self.labels = model, labels
        self.stages = model_stages(model)
        self.layer_stage = layer_stages(model, network)
        batches = [
            images[i : i + EVALUATION_BATCH_SIZE]
            for i in range(0, len(images), EVALUATION_BATCH_SIZE)
        ]
        if self.stages is None or self.layer_stage is None:
            self.inputs = {0: batches}
            self.layer_stage = {layer.name: 0 for layer in network.layers}
        else:
            wanted = {0, *self.layer_stage.values()}
            self.inputs = stage_inputs(model, batches, wanted)

    @torch.no_grad()
    def topk(self, layer: str | None = None) -> tuple[float, float]:
        from workloads.staged_forward import run_stages

        start = 0 if layer is None else self.layer_stage[layer]
        self.model.eval()
        if self.stages is None:
            logits = torch.cat([self.model(x).float() for x in self.inputs[0]])
        else:
            logits = torch.cat(
                [run_stages(self.stages, x, start).float() for x in self.inputs[start]]
            )
        return _topk(logits, self.labels)


def _pruned_weights(weights: np.ndarray, density: float, bits: int | None, init: str, seed: int):
    from compression.pruning import magnitude_mask
    from compression.weight_sharing import share_weights

    mask = magnitude_mask(weights, density)
    pruned = np.where(mask, weights, np.float32(0.0)).astype(np.float32)
    if bits is None:
        return pruned
    codebook, codes = share_weights(pruned, bits, init=init, seed=seed)
    return codebook[codes]


def measure_sensitivity(
    model,
    network,
    model_key: str,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    data_id: object,
    data_label: str,
    network_label: str,
    weights_label: str,
    densities: tuple[float, ...] = DEFAULT_DENSITIES,
    bits: int | None = None,
    init: str = "linear",
    seed: int = 0,
    threads: int = 2,
    auto_losses: tuple[float, ...] = (),
) -> Sensitivity:
    """The sensitivity curves of `model` (left unchanged; module docstring), evaluated on
    `images` / `labels`; `auto_losses`: allowed losses whose combined top-1 (every layer at
    its auto density at once, no retraining) is measured too."""
    from workloads import progress
    from workloads.cache import cache_key, load_entry, store_entry
    from workloads.evaluation import EVALUATION_BATCH_SIZE
    from workloads.torch_models import layer_modules
    from workloads.training import torch_threads

    densities = check_densities(list(densities))
    modules = layer_modules(model, network)
    original = {name: m.weight.detach().clone() for name, m in modules.items()}

    def key(layer: str | None, density: float | None, extra: object = None) -> str:
        return cache_key(
            "sensitivity",
            {
                "model": model_key,
                "layer": layer,
                "density": density,
                "bits": bits,
                "init": init,
                "seed": seed,
                "data": data_id,
                "threads": threads,
                "batch_size": EVALUATION_BATCH_SIZE,
                "version": SENSITIVITY_VERSION,
                "combined": extra,
            },
        )

    evaluator = None

    def measured(entry_key: str, compute) -> tuple[float, float]:
        nonlocal evaluator
        entry = load_entry("sensitivity", entry_key)
        if entry is not None:
            return float(entry["top1"]), float(entry["top5"])
        if evaluator is None:
            with torch_threads(threads):
                evaluator = _Evaluator(model, network, images, labels)
        with torch_threads(threads):
            top1, top5 = compute()
        store_entry("sensitivity", entry_key, {"top1": top1, "top5": top5})
        return top1, top5

    def with_weights(changed: dict[str, np.ndarray], layer: str | None):
        def compute() -> tuple[float, float]:
            try:
                with torch.no_grad():
                    for name, values in changed.items():
                        weight = modules[name].weight
                        weight.copy_(torch.from_numpy(values).view_as(weight))
                return evaluator.topk(layer)
            finally:
                with torch.no_grad():
                    for name in changed:
                        modules[name].weight.copy_(original[name])

        return compute

    dense_top1, dense_top5 = measured(key(None, None), with_weights({}, None))
    curves = []
    total = len(network.layers) * len(densities)
    with progress.counter(
        f"sensitivity ({'prune' if bits is None else f'prune + {bits}-bit k-means'}, "
        "one layer at a time)",
        total,
        "evaluations",
    ) as shown:
        for layer in network.layers:
            top1s, top5s = [], []
            for density in densities:
                shown.describe(f"{layer.name} at {density:g}")
                weights = original[layer.name].numpy()

                def compute(layer=layer, density=density, weights=weights):
                    changed = {layer.name: _pruned_weights(weights, density, bits, init, seed)}
                    return with_weights(changed, layer.name)()

                top1, top5 = measured(key(layer.name, density), compute)
                top1s.append(top1)
                top5s.append(top5)
                shown.update()
            curves.append(
                LayerCurve(
                    layer.name,
                    layer.kind,
                    layer.weights,
                    densities,
                    tuple(top1s),
                    tuple(top5s),
                )
            )
    result = Sensitivity(
        network_label,
        weights_label,
        data_label,
        bits,
        init,
        dense_top1,
        dense_top5,
        tuple(curves),
    )
    combined = {}
    for loss in auto_losses:
        chosen = result.auto_densities(loss)
        changed = {
            name: _pruned_weights(original[name].numpy(), d, bits, init, seed)
            for name, d in chosen.items()
        }
        combined[float(loss)] = measured(
            key(None, None, {"auto": chosen}), with_weights(changed, None)
        )[0]
    return dataclasses.replace(result, combined=combined)


def digits_sensitivity(
    seed: int = 0,
    *,
    densities: tuple[float, ...] = DEFAULT_DENSITIES,
    bits: int | None = None,
    init: str = "linear",
    auto_losses: tuple[float, ...] = (),
    network_label: str = "alexnet-digits",
) -> Sensitivity:
    """Sensitivity of the digits AlexNet (trained here, cached) on the digits test split."""
    from workloads import training

    setup = dataclasses.replace(training.DIGITS_SETUP, seed=seed)
    split = setup.split()
    dense_training = training.DENSE_DIGITS_TRAINING
    trained = training.train_dense_digits(setup, dense_training, split=split)
    return measure_sensitivity(
        trained.model,
        trained.network,
        trained.key,
        split.x_test,
        split.y_test,
        data_id=split.digest,
        data_label=f"digits test split ({len(split.y_test):,} images)",
        network_label=network_label,
        weights_label="digits",
        densities=densities,
        bits=bits,
        init=init,
        seed=seed,
        threads=dense_training.threads,
        auto_losses=auto_losses,
    )


def folder_sensitivity(
    weights: str,
    data: str,
    *,
    densities: tuple[float, ...] = DEFAULT_DENSITIES,
    bits: int | None = None,
    init: str = "linear",
    seed: int = 0,
    threads: int = 2,
    auto_losses: tuple[float, ...] = (),
    network_label: str = "alexnet",
) -> Sensitivity:
    """Sensitivity of a user's torchvision AlexNet state_dict on an ImageNet-style folder
    (all of its images are held in memory for the measurement)."""
    from dcsim.accuracy import file_digest
    from workloads.cache import cache_key
    from workloads.datasets import ImageFolderDataset
    from workloads.networks import get_network
    from workloads.torch_models import build_model, load_weights

    dataset = ImageFolderDataset(data)
    network = get_network("alexnet")
    model = build_model(network)
    load_weights(model, weights)
    model.eval()
    items = [dataset[i] for i in range(len(dataset))]
    images = torch.stack([x for x, _ in items])
    labels = torch.tensor([y for _, y in items])
    parent_key = cache_key("user-weights", {"sha256": file_digest(weights)})
    return measure_sensitivity(
        model,
        network,
        parent_key,
        images,
        labels,
        data_id={"files": dataset.fingerprint()},
        data_label=f"{data} ({len(labels):,} images)",
        network_label=network_label,
        weights_label=str(weights),
        densities=densities,
        bits=bits,
        init=init,
        seed=seed,
        threads=threads,
        auto_losses=auto_losses,
    )


@functools.lru_cache(maxsize=8)
def entry_sensitivity(entry, seed: int, auto_losses: tuple[float, ...] = ()) -> Sensitivity:
    """The (pruning-only) sensitivity of a sweep's trained network entry; cached per process
    and on disk."""
    if entry.weights == "digits":
        return digits_sensitivity(seed, auto_losses=auto_losses, network_label=entry.label)
    if entry.data:
        return folder_sensitivity(
            entry.weights, entry.data, seed=seed, auto_losses=auto_losses, network_label=entry.label
        )
    raise ValueError(
        f"density_profile auto:… on network {entry.label!r} is invalid; allowed: networks with "
        "measured accuracy (weights = digits, or a weights file with data)"
    )


def auto_recipe_data(densities: dict[str, float], loss: float, description: str = "") -> dict:
    """The recipe mapping of an auto profile: the sensitivity's densities per layer, the
    generic recipe's bits (a sweep's conv / fc bits replace them), `AUTO_PRUNE_STEPS`."""
    return {
        "name": f"auto-{loss:g}",
        "description": description
        or f"per-layer densities from pruning sensitivity: each layer loses <= {loss:g} top-1 "
        "points alone",
        "index_bits": 4,
        "init": "linear",
        "prune_steps": AUTO_PRUNE_STEPS,
        "kind": {
            "conv": {"weight_bits": 8},
            "fc": {"weight_bits": 5},
            "lstm": {"weight_bits": 5},
        },
        "layers": {name: {"density": float(d)} for name, d in densities.items()},
    }


def auto_profile_data(point) -> dict:
    """The recipe mapping `auto:L` stands for on `point`'s network (module docstring)."""
    loss = auto_profile_loss(point.density_profile)
    if not trains(point.network):
        raise ValueError(
            f"density_profile {point.density_profile!r} on network {point.network.label!r} is "
            "invalid; allowed: networks with measured accuracy (weights = digits, or a weights "
            "file with data)"
        )
    sensitivity = entry_sensitivity(point.network, point.seed)
    return auto_recipe_data(sensitivity.auto_densities(loss), loss)
