"""Bits vs accuracy on digits: the *shape* of Deep Compression's findings, as `dcsim validate`
rows.

Part of the application layer (DESIGN §5, §6). Registered as validation checks (in
`simulator.validation`'s registry) when this module is imported — `dcsim validate` imports
it. Each check measures top-1 on the digits test split of the digits-trained AlexNet (the
cached dense baseline of `workloads.training`) after quantization without fine-tuning, so the
rows isolate what the number of bits and the centroid initialisation do:

- `accuracy-bits`: conv layers at b bits (fc at 8) vs fc layers at b bits (conv at 8), on the
  pruned model of the `digits` recipe; Han et al. 2016 (Fig. 7): fc layers tolerate far fewer
  bits than conv layers (about 2 vs 4 for AlexNet).
- `accuracy-init`: linear vs density vs random (Forgy) centroid init at conv 4 / fc 2 bits;
  Han et al. (Fig. 9): linear is at least as good as the others.
- `accuracy-prune-quant`: quantizing the pruned model vs quantizing the dense model at the
  same bits; Han et al. (Fig. 6): pruning does not hurt quantization.

Rows: check, published (the paper's qualitative expectation is in `notes`; NaN), model = top-1
loss in points against the dense model, unit, notes (`trend holds` / `trend does not hold`).
The pruned model comes from the `digits` recipe's pruning stage (shared with
`dcsim compress --weights digits --recipe digits`); each row's top-1 is cached.
"""

from __future__ import annotations

import math
from dataclasses import asdict

from compression.deep_compression import (
    clone_model,
    pruned_stage,
    quantize_with_retraining,
    retrain_schedule,
)
from compression.recipe import load_recipe
from simulator.validation import register_check, row
from workloads.cache import cache_key, load_entry, store_entry
from workloads.evaluation import model_outputs, tensor_batches, topk_accuracy
from workloads.training import (
    DENSE_DIGITS_TRAINING,
    DIGITS_SETUP,
    TrainingSettings,
    digits_training_data,
    torch_threads,
    train_dense_digits,
)

TREND_RECIPE = "digits"
NO_FINE_TUNING = TrainingSettings(epochs=0.0)


class _Context:
    """The dense and pruned digits models, built (or loaded from the cache) once per process."""

    _instance: _Context | None = None

    def __init__(self, seed: int) -> None:
        setup = DIGITS_SETUP if seed == DIGITS_SETUP.seed else _replace_seed(seed)
        self.split = setup.split()
        self.dense = train_dense_digits(setup, DENSE_DIGITS_TRAINING, split=self.split)
        self.network = self.dense.network
        self.recipe = load_recipe(TREND_RECIPE)
        settings = self.recipe.layer_recipes(self.network)
        self.densities = {name: s.density for name, s in settings.items()}
        self.pruned, self.masks, self.pruned_result = pruned_stage(
            self.dense.model,
            self.network,
            self.dense.key,
            self.densities,
            self.recipe.prune_steps,
            digits_training_data(self.split),
            retrain_schedule(self.recipe).prune,
            seed=seed,
            threads=DENSE_DIGITS_TRAINING.threads,
        )
        self.seed = seed

    @classmethod
    def get(cls, seed: int) -> _Context:
        if cls._instance is None or cls._instance.seed != seed:
            cls._instance = cls(seed)
        return cls._instance

    def top1(self, model) -> float:
        with torch_threads(DENSE_DIGITS_TRAINING.threads):
            outputs, labels = model_outputs(
                model, self.network, tensor_batches(self.split.x_test, self.split.y_test)
            )
        return topk_accuracy(outputs.logits, labels, 1)

    def quantized_top1(self, source: str, conv_bits: int, fc_bits: int, init: str) -> float:
        """Top-1 after k-means (no fine-tuning) of the dense or pruned model, cached."""
        parent = self.dense.key if source == "dense" else self.pruned_result.key
        key = cache_key(
            "trend",
            {
                "parent": parent,
                "conv_bits": conv_bits,
                "fc_bits": fc_bits,
                "init": init,
                "training": asdict(NO_FINE_TUNING),
                "seed": self.seed,
            },
        )
        cached = load_entry("trend", key)
        if cached is not None:
            return float(cached["top1"])
        model = clone_model(self.dense.model if source == "dense" else self.pruned, self.network)
        bits = {
            layer.name: conv_bits if layer.kind == "conv" else fc_bits
            for layer in self.network.layers
        }
        with torch_threads(DENSE_DIGITS_TRAINING.threads):
            quantize_with_retraining(
                model, self.network, bits, init, None, NO_FINE_TUNING, seed=self.seed
            )
        top1 = self.top1(model)
        store_entry("trend", key, {"top1": top1})
        return top1

    def dense_top1(self) -> float:
        key = cache_key("trend", {"parent": self.dense.key, "dense": True})
        cached = load_entry("trend", key)
        if cached is not None:
            return float(cached["top1"])
        top1 = self.top1(self.dense.model)
        store_entry("trend", key, {"top1": top1})
        return top1


def _replace_seed(seed: int):
    from dataclasses import replace

    return replace(DIGITS_SETUP, seed=seed)


def _loss_points(context: _Context, top1: float) -> float:
    return (context.dense_top1() - top1) * 100.0


def _trend_row(check: str, label: str, loss: float, holds: bool | None, expectation: str):
    """A trend row: no published number; `expectation` ("Han et al. Fig. N: ...") names the
    figure whose trend it checks, which becomes the row's source."""
    verdict = "" if holds is None else ("trend holds" if holds else "trend does not hold")
    figure, _, claim = expectation.partition(": ")
    notes = "; ".join(part for part in (label, claim) if part)
    notes += f" — {verdict}" if verdict else ""
    source = f"{figure} (Deep Compression, ICLR 2016), trend" if claim else ""
    return row(check, math.nan, loss, "top-1 loss, points", notes, source=source)


@register_check("accuracy-bits")
def check_accuracy_bits(seed: int = 0) -> list[dict]:
    context = _Context.get(seed)
    rows = []
    losses = {}
    for bits in (2, 4):
        conv = _loss_points(context, context.quantized_top1("pruned", bits, 8, "linear"))
        fc = _loss_points(context, context.quantized_top1("pruned", 8, bits, "linear"))
        losses[bits] = (conv, fc)
        rows.append(_trend_row("accuracy-bits", f"conv {bits}-bit, fc 8-bit", conv, None, ""))
        rows.append(_trend_row("accuracy-bits", f"fc {bits}-bit, conv 8-bit", fc, None, ""))
    conv2, fc2 = losses[2]
    rows.append(
        _trend_row(
            "accuracy-bits",
            "fc 2-bit loss minus conv 2-bit loss",
            fc2 - conv2,
            fc2 <= conv2,
            "Han et al. Fig. 7: fc tolerates far fewer bits than conv",
        )
    )
    return rows


@register_check("accuracy-init")
def check_accuracy_init(seed: int = 0) -> list[dict]:
    context = _Context.get(seed)
    losses = {
        init: _loss_points(context, context.quantized_top1("pruned", 4, 2, init))
        for init in ("linear", "density", "random")
    }
    rows = [
        _trend_row("accuracy-init", f"{init} init, conv 4 / fc 2 bits", loss, None, "")
        for init, loss in losses.items()
    ]
    worst_other = min(losses["density"], losses["random"])
    rows.append(
        _trend_row(
            "accuracy-init",
            "linear loss minus best of density/random",
            losses["linear"] - worst_other,
            losses["linear"] <= worst_other + 0.5,
            "Han et al. Fig. 9: linear init is at least as good (0.5-point tolerance)",
        )
    )
    return rows


@register_check("accuracy-prune-quant")
def check_accuracy_prune_quant(seed: int = 0) -> list[dict]:
    context = _Context.get(seed)
    rows = []
    for conv_bits, fc_bits in ((4, 2), (6, 4)):
        pruned = _loss_points(
            context, context.quantized_top1("pruned", conv_bits, fc_bits, "linear")
        )
        dense = _loss_points(context, context.quantized_top1("dense", conv_bits, fc_bits, "linear"))
        label = f"conv {conv_bits} / fc {fc_bits} bits"
        rows.append(_trend_row("accuracy-prune-quant", f"quantized only, {label}", dense, None, ""))
        rows.append(
            _trend_row(
                "accuracy-prune-quant",
                f"pruned + quantized, {label}",
                pruned,
                pruned <= dense + 0.5,
                "Han et al. Fig. 6: pruning does not hurt quantization (0.5-point tolerance)",
            )
        )
    return rows
