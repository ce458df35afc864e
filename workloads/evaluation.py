"""Evaluation: classification accuracy (top-1, top-5) and image retrieval on fc7 features.

Part of `workloads` (DESIGN §2); the accuracy half of a design point. The same function
measures the dense model and the compressed one (whose weights are the container's
dequantized weights), so the two are comparable.

Retrieval (the Deep Compression slides' image search with an uncompressed and a compressed
network): the descriptor of an image is the input of the last fc layer — the output of fc7's
ReLU, read with a forward pre-hook, so the network is not changed. Similarity is cosine.
Relevant = same class. Per query, the gallery is ranked by similarity (ties by gallery index),
average precision = mean over the relevant items of precision at their rank; mAP = mean over
queries; precision@10 = relevant fraction of the first 10. On digits the test split is the
query set and the train split the gallery. On a single folder (the ImageNet path) the folder is
both query set and gallery and every query's own image is left out of its gallery
(`exclude_self=True`). For `RETRIEVAL_EXAMPLE_QUERIES` fixed queries the top-5 gallery indices
are kept (for a picture of dense vs compressed results in the report), and for every query
the first `PRECISION_AT` gallery indices (`retrieval_top`), so that queries on which two
networks disagree can be picked afterwards without evaluating again.

`evaluate_split_staged` is `evaluate_split` started part-way through a sequential model
(`workloads.staged_forward`): given the input of stage `start` for every batch, it runs only
the stages from there and gives the same `Evaluation`, bit for bit, as the whole model would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from workloads.networks import Network
from workloads.staged_forward import model_stages, run_stages
from workloads.torch_models import layer_modules

RETRIEVAL_EXAMPLE_QUERIES: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
RETRIEVAL_TOP = 5
PRECISION_AT = 10
EVALUATION_BATCH_SIZE = 256
RETRIEVAL_ROWS = 256  # queries ranked at a time by `retrieval`


@dataclass(frozen=True)
class Outputs:
    """Logits (N, classes) and retrieval descriptors (N, features) of a set of images."""

    logits: torch.Tensor
    features: torch.Tensor


@dataclass(frozen=True)
class RetrievalResult:
    mean_average_precision: float
    precision_at_10: float
    # query index → the gallery indices of its top-5 results, best first
    examples: dict[int, list[int]] = field(default_factory=dict)
    # every query's first PRECISION_AT gallery indices, best first
    top: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Evaluation:
    """Accuracy of one model: fractions in [0, 1]."""

    top1: float
    top5: float
    map: float
    precision_at_10: float
    retrieval_examples: dict[int, list[int]] = field(default_factory=dict)
    # every query's first PRECISION_AT gallery indices, best first (query order)
    retrieval_top: tuple[tuple[int, ...], ...] = ()

    def as_dict(self) -> dict:
        """The cache entry (`retrieval_top` as an int32 tensor [queries, PRECISION_AT])."""
        return {
            "top1": self.top1,
            "top5": self.top5,
            "map": self.map,
            "precision_at_10": self.precision_at_10,
            "retrieval_examples": {int(k): list(v) for k, v in self.retrieval_examples.items()},
            "retrieval_top": torch.tensor(
                [list(row) for row in self.retrieval_top] or [[]], dtype=torch.int32
            ),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Evaluation:
        return cls(
            top1=float(data["top1"]),
            top5=float(data["top5"]),
            map=float(data["map"]),
            precision_at_10=float(data["precision_at_10"]),
            retrieval_examples={
                int(k): [int(i) for i in v] for k, v in data["retrieval_examples"].items()
            },
            retrieval_top=tuple(tuple(row) for row in data["retrieval_top"].tolist() if row),
        )


def descriptor_module(model: nn.Module, network: Network) -> nn.Module:
    """The module whose *input* is the retrieval descriptor: the last weight layer (fc8)."""
    return layer_modules(model, network)[network.layers[-1].name]


@torch.no_grad()
def model_outputs(
    model: nn.Module,
    network: Network,
    batches,
    device: torch.device | None = None,
) -> tuple[Outputs, torch.Tensor]:
    """Run `model` in eval mode over `batches` (an iterable of (images, labels)); returns the
    outputs and the labels, on the CPU."""
    device = device or torch.device("cpu")
    captured: list[torch.Tensor] = []
    hook = descriptor_module(model, network).register_forward_pre_hook(
        lambda _m, args: captured.append(args[0].detach().float().cpu())
    )
    was_training = model.training
    model.eval()
    logits, labels = [], []
    try:
        for images, targets in batches:
            logits.append(model(images.to(device)).float().cpu())
            labels.append(torch.as_tensor(targets))
    finally:
        hook.remove()
        model.train(was_training)
    return Outputs(torch.cat(logits), torch.cat(captured)), torch.cat(labels)


def tensor_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int = EVALUATION_BATCH_SIZE):
    """(images, labels) batches of in-memory tensors, in order."""
    for start in range(0, len(y), batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """Fraction of samples whose label is among the k highest logits (k capped at classes)."""
    k = min(k, logits.shape[1])
    top = logits.topk(k, dim=1).indices
    return float((top == labels.view(-1, 1)).any(dim=1).float().mean())


def retrieval(
    query_features: torch.Tensor,
    query_labels: torch.Tensor,
    gallery_features: torch.Tensor,
    gallery_labels: torch.Tensor,
    *,
    exclude_self: bool = False,
    example_queries: tuple[int, ...] = RETRIEVAL_EXAMPLE_QUERIES,
) -> RetrievalResult:
    """mAP and precision@10 of cosine-similarity retrieval (see the module docstring).

    `exclude_self`: queries and gallery are the same set and query i skips gallery item i."""
    if exclude_self and len(query_labels) != len(gallery_labels):
        raise ValueError("exclude_self needs the same query and gallery sets")
    q = query_features.double()
    g = gallery_features.double()
    q = q / q.norm(dim=1, keepdim=True).clamp_min(1e-12)
    g = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
    similarity = (q @ g.T).numpy()
    q_labels, g_labels = query_labels.numpy(), gallery_labels.numpy()
    average_precisions, precisions, examples, top = [], [], {}, []
    for start in range(0, len(q_labels), RETRIEVAL_ROWS):  # rows at a time: memory stays flat
        rows = range(start, min(start + RETRIEVAL_ROWS, len(q_labels)))
        # a stable sort of each row, as np.argsort(-similarity[i], kind="stable") row by row
        orders = np.argsort(-similarity[rows.start : rows.stop], axis=1, kind="stable")
        if exclude_self:
            keep = orders != np.arange(rows.start, rows.stop)[:, None]
            orders = orders[keep].reshape(len(rows), -1)  # each row holds its own index once
        relevant = g_labels[orders] == q_labels[rows.start : rows.stop, None]
        top += map(tuple, orders[:, :PRECISION_AT].tolist())
        if relevant.shape[1]:
            precisions += relevant[:, :PRECISION_AT].mean(axis=1).tolist()
        else:
            precisions += [0.0] * len(rows)
        for i in sorted(set(example_queries)):
            if i in rows:
                examples[i] = orders[i - rows.start, :RETRIEVAL_TOP].tolist()
        row_of, column = np.nonzero(relevant)  # row-major: each row's hits in rank order
        ends = np.searchsorted(row_of, np.arange(1, len(rows) + 1))
        for hits in np.split(column, ends[:-1]):
            if hits.size == 0:
                average_precisions.append(0.0)
            else:
                average_precisions.append(float(np.mean(np.arange(1, hits.size + 1) / (hits + 1))))
    return RetrievalResult(
        float(np.mean(average_precisions)) if average_precisions else 0.0,
        float(np.mean(precisions)) if precisions else 0.0,
        examples,
        tuple(top),
    )


def _evaluation(outputs: Outputs, labels: torch.Tensor, found) -> Evaluation:
    """Top-1/top-5 of `outputs` against `labels`, with the retrieval `found` on their features."""
    return Evaluation(
        top1=topk_accuracy(outputs.logits, labels, 1),
        top5=topk_accuracy(outputs.logits, labels, 5),
        map=found.mean_average_precision,
        precision_at_10=found.precision_at_10,
        retrieval_examples=found.examples,
        retrieval_top=found.top,
    )


def evaluate_split(
    model: nn.Module,
    network: Network,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    device: torch.device | None = None,
) -> Evaluation:
    """Top-1/top-5 on the test split; retrieval with test queries over the train gallery."""
    test, test_labels = model_outputs(model, network, tensor_batches(x_test, y_test), device)
    train, train_labels = model_outputs(model, network, tensor_batches(x_train, y_train), device)
    found = retrieval(test.features, test_labels, train.features, train_labels)
    return _evaluation(test, test_labels, found)


@torch.no_grad()
def staged_outputs(
    model: nn.Module,
    network: Network,
    start: int,
    stage_inputs: list[torch.Tensor],
    labels: torch.Tensor,
) -> tuple[Outputs, torch.Tensor]:
    """`model_outputs` of a SequentialNet from the input of stage `start` (one tensor per
    batch, `workloads.staged_forward.stage_inputs`); the same outputs as the whole model."""
    stages = model_stages(model)
    if stages is None:
        raise ValueError("staged_outputs: the model is not a SequentialNet")
    captured: list[torch.Tensor] = []
    hook = descriptor_module(model, network).register_forward_pre_hook(
        lambda _m, args: captured.append(args[0].detach().float().cpu())
    )
    was_training = model.training
    model.eval()
    logits = []
    try:
        for x in stage_inputs:
            logits.append(run_stages(stages, x, start).float().cpu())
    finally:
        hook.remove()
        model.train(was_training)
    return Outputs(torch.cat(logits), torch.cat(captured)), labels


def evaluate_split_staged(
    model: nn.Module,
    network: Network,
    start: int,
    train_inputs: list[torch.Tensor],
    y_train: torch.Tensor,
    test_inputs: list[torch.Tensor],
    y_test: torch.Tensor,
) -> Evaluation:
    """`evaluate_split` from the input of stage `start` of every test and train batch (the
    batches of `tensor_batches`, in order); bit-identical to `evaluate_split`."""
    test, test_labels = staged_outputs(model, network, start, test_inputs, y_test)
    train, train_labels = staged_outputs(model, network, start, train_inputs, y_train)
    found = retrieval(test.features, test_labels, train.features, train_labels)
    return _evaluation(test, test_labels, found)


def evaluate_folder(
    model: nn.Module, network: Network, batches, device: torch.device | None = None
) -> Evaluation:
    """Top-1/top-5 on a labelled image folder; retrieval within the folder, self excluded."""
    outputs, labels = model_outputs(model, network, batches, device)
    found = retrieval(outputs.features, labels, outputs.features, labels, exclude_self=True)
    return _evaluation(outputs, labels, found)
