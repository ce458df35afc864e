"""Accuracy in the loop: train (or load) → Deep Compression with retraining → evaluate both.

Part of the application layer (DESIGN §6): it wires `workloads.training` (dense baseline on
digits, cached), `compression.deep_compression` (prune / trained quantization / encode, each
stage cached) and `workloads.evaluation` (top-1, top-5, retrieval mAP and precision@10) into
the measurement `dcsim compress --weights digits|PATH` prints and a sweep's design points use.

Two sources of weights:
- `digits_pipeline`: AlexNet (torchvision topology, 10 classes, 64 px) trained here on the
  bundled digits; retraining on the train split; evaluation on the test split (retrieval: test
  queries over the train gallery).
- `folder_pipeline`: a user's torchvision AlexNet state_dict and an ImageNet-style folder
  (`--data`). Evaluation on the folder, retrieval within it (each query's own image left out).
  Retraining uses a separate `train_data` folder when given; without one there is no
  retraining (one-shot prune + k-means), so the evaluation folder never leaks into training.

Evaluations are cached too (keyed by the model's cache key), so a warm run only re-encodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from compression.compressed_network import CompressedNetwork
from compression.deep_compression import (
    DeepCompressionResult,
    RetrainSchedule,
    deep_compress,
    retrain_schedule,
)
from compression.recipe import Recipe, load_recipe
from workloads import progress, training
from workloads.cache import cache_key, load_entry, store_entry
from workloads.evaluation import (
    EVALUATION_BATCH_SIZE,
    Evaluation,
    evaluate_folder,
    evaluate_split,
)
from workloads.training import (
    DIGITS_SETUP,
    DigitsSetup,
    FolderData,
    TrainingSettings,
    digits_training_data,
    resolve_device,
    torch_threads,
    train_dense_digits,
)

# Bump when evaluation code changes in a way that changes its results.
EVALUATION_VERSION = 3  # 3: every query's top-10 retrieval (retrieval_top)


@dataclass(frozen=True)
class AccuracyReport:
    """Dense vs compressed accuracy of one recipe, plus where the time went (seconds)."""

    compressed: CompressedNetwork
    dense: Evaluation
    compressed_eval: Evaluation
    recipe_name: str
    source: str
    timings_s: dict[str, float] = field(default_factory=dict)
    from_cache: dict[str, bool] = field(default_factory=dict)
    result: DeepCompressionResult | None = None

    def metric_row(self, container_bytes: int | None = None) -> dict:
        """The accuracy columns `dcsim compress` prints (fractions in [0, 1])."""
        accounting = self.compressed.accounting
        row = {
            "source": self.source,
            "recipe": self.recipe_name,
            "top1_dense": self.dense.top1,
            "top1_compressed": self.compressed_eval.top1,
            "top5_dense": self.dense.top5,
            "top5_compressed": self.compressed_eval.top5,
            "map_dense": self.dense.map,
            "map_compressed": self.compressed_eval.map,
            "precision_at_10_dense": self.dense.precision_at_10,
            "precision_at_10_compressed": self.compressed_eval.precision_at_10,
            "container_bytes": container_bytes,
            "compression_ratio": accounting.pqh_ratio,
        }
        return row


def evaluation_key(model_key: str, data_digest: str, threads: int, device: str) -> str:
    """Cache key of an evaluation: the evaluated model's key and everything else that changes
    the numbers — the data (digest), the thread count and device kind the forward passes ran
    with (float reductions round differently), the batch size and the evaluation code."""
    return cache_key(
        "evaluation",
        {
            "model": model_key,
            "data": data_digest,
            "threads": threads,
            "device": device,
            "batch_size": EVALUATION_BATCH_SIZE,
            "version": EVALUATION_VERSION,
        },
    )


def _cached_evaluation(eval_key: str, compute) -> tuple[Evaluation, bool]:
    entry = load_entry("evaluation", eval_key)
    if entry is not None:
        return Evaluation.from_dict(entry), True
    evaluation = compute()
    store_entry("evaluation", eval_key, evaluation.as_dict())
    return evaluation, False


def digits_pipeline(
    recipe: Recipe | str | Path = "digits",
    *,
    setup: DigitsSetup = DIGITS_SETUP,
    dense_training: TrainingSettings | None = None,
    schedule: RetrainSchedule | None = None,
    n_pe: int | None = None,
    device: str = "cpu",
) -> AccuracyReport:
    """Dense baseline on digits (cached) → Deep Compression with retraining → evaluation.

    `dense_training`: the dense schedule (default `workloads.training.DENSE_DIGITS_TRAINING`,
    looked up at call time). Every stage, evaluation included, runs with its thread count."""
    dense_training = dense_training or training.DENSE_DIGITS_TRAINING
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    schedule = schedule or retrain_schedule(recipe)
    target = resolve_device(device)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    split = setup.split()
    timings["data_s"] = time.perf_counter() - started
    trained = train_dense_digits(setup, dense_training, split=split, device=device)
    timings["dense_train_s"] = trained.train_seconds
    result = deep_compress(
        trained.model,
        trained.network,
        trained.key,
        recipe,
        digits_training_data(split),
        n_pe=n_pe,
        seed=setup.seed,
        schedule=schedule,
        device=target,
        threads=dense_training.threads,
    )
    timings["prune_s"] = result.pruned.seconds
    timings["quantize_s"] = result.quantized.seconds
    timings["encode_s"] = result.encode_seconds

    def evaluate(model, which: str):
        def compute() -> Evaluation:
            images = f"{len(split.y_test):,} test + {len(split.y_train):,} gallery images"
            with progress.stage(f"evaluating the {which} model ({images})"):
                with torch_threads(dense_training.threads):
                    return evaluate_split(
                        model,
                        trained.network,
                        split.x_train,
                        split.y_train,
                        split.x_test,
                        split.y_test,
                    )

        return compute

    def key(model_key: str) -> str:  # evaluate_split runs on the CPU
        return evaluation_key(model_key, split.digest, dense_training.threads, "cpu")

    started = time.perf_counter()
    dense_eval, dense_cached = _cached_evaluation(
        key(trained.key), evaluate(trained.model, "dense")
    )
    compressed_eval, comp_cached = _cached_evaluation(
        key(result.quantized.key), evaluate(result.model, "compressed")
    )
    if dense_cached and comp_cached:
        progress.note("evaluations: from the cache")
    timings["evaluate_s"] = time.perf_counter() - started
    return AccuracyReport(
        result.compressed,
        dense_eval,
        compressed_eval,
        recipe.name,
        "digits",
        timings,
        {
            "dense": trained.from_cache,
            "pruned": result.pruned.from_cache,
            "quantized": result.quantized.from_cache,
            "dense_eval": dense_cached,
            "compressed_eval": comp_cached,
        },
        result,
    )


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (identifies a user's weights file in cache keys)."""
    from dcsim.content_keys import file_sha256

    return file_sha256(path)


def folder_pipeline(
    weights: str | Path,
    data: str | Path,
    recipe: Recipe | str | Path = "paper",
    *,
    train_data: str | Path | None = None,
    schedule: RetrainSchedule | None = None,
    n_pe: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    device: str = "cpu",
    threads: int = 2,
) -> AccuracyReport:
    """A user's torchvision AlexNet state_dict, compressed (retrained on `train_data` if
    given) and evaluated on the ImageNet-style folder `data`."""
    from workloads.datasets import ImageFolderDataset, image_folder_loader
    from workloads.networks import get_network
    from workloads.torch_models import build_model, load_weights

    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    schedule = schedule or retrain_schedule(recipe)
    target = resolve_device(device)
    timings: dict[str, float] = {}
    evaluation_loader = image_folder_loader(data, batch_size=batch_size)  # checks the folder
    evaluation_loader.dataset.check_headers()  # a bad image fails now, not after compressing
    training = None
    if train_data is not None:
        dataset = ImageFolderDataset(train_data)
        dataset.check_headers()
        training = FolderData(
            dataset,
            {"folder": str(Path(train_data).resolve()), "files": dataset.fingerprint()},
        )
    network = get_network("alexnet")
    model = build_model(network)
    started = time.perf_counter()
    load_weights(model, weights)
    timings["load_s"] = time.perf_counter() - started
    model.eval()
    parent_key = cache_key("user-weights", {"sha256": file_digest(weights)})
    result = deep_compress(
        model,
        network,
        parent_key,
        recipe,
        training,
        n_pe=n_pe,
        seed=seed,
        schedule=schedule,
        device=target,
        threads=threads,
    )
    timings["prune_s"] = result.pruned.seconds
    timings["quantize_s"] = result.quantized.seconds
    timings["encode_s"] = result.encode_seconds
    started = time.perf_counter()
    with torch_threads(threads):
        images = f"{len(evaluation_loader.dataset):,} images"
        with progress.stage(f"evaluating the dense model ({images})"):
            model.to(target)
            dense_eval = evaluate_folder(model, network, evaluation_loader, target)
            model.to("cpu")
        with progress.stage(f"evaluating the compressed model ({images})"):
            result.model.to(target)
            compressed_eval = evaluate_folder(result.model, network, evaluation_loader, target)
            result.model.to("cpu")
    timings["evaluate_s"] = time.perf_counter() - started
    return AccuracyReport(
        result.compressed,
        dense_eval,
        compressed_eval,
        recipe.name,
        "folder",
        timings,
        {"pruned": result.pruned.from_cache, "quantized": result.quantized.from_cache},
        result,
    )
