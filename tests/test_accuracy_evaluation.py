"""workloads.evaluation: top-k accuracy and retrieval metrics against hand-computed values,
and the fc7 descriptor hook."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workloads import evaluation
from workloads.evaluation import (
    PRECISION_AT,
    RETRIEVAL_TOP,
    descriptor_module,
    model_outputs,
    retrieval,
    tensor_batches,
    topk_accuracy,
)
from workloads.networks import get_network
from workloads.torch_models import build_model


def test_topk_accuracy():
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.3], [0.2, 0.3, 0.5]])
    labels = torch.tensor([1, 2, 0])
    assert topk_accuracy(logits, labels, 1) == pytest.approx(1 / 3)
    assert topk_accuracy(logits, labels, 2) == pytest.approx(2 / 3)
    assert topk_accuracy(logits, labels, 5) == 1.0  # k capped at the class count


def test_retrieval_matches_hand_computation():
    # one query along x; gallery ranked by cosine: g0 (1,0) > g2 (1,1) > g1 (0,1) > g3 (-1,0)
    query = torch.tensor([[2.0, 0.0]])
    gallery = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    labels = torch.tensor([0, 1, 1, 0])
    result = retrieval(query, torch.tensor([0]), gallery, labels, example_queries=(0,))
    # relevant (label 0) at ranks 1 and 4: AP = (1/1 + 2/4) / 2
    assert result.mean_average_precision == pytest.approx(0.75)
    assert result.precision_at_10 == pytest.approx(0.5)  # 2 relevant of the 4 available
    assert result.examples == {0: [0, 2, 1, 3]}


def test_retrieval_excludes_self_and_is_scale_invariant():
    rng = np.random.default_rng(0)
    features = torch.from_numpy(rng.normal(size=(12, 5)))
    labels = torch.from_numpy(rng.integers(0, 3, 12))
    a = retrieval(features, labels, features, labels, exclude_self=True)
    b = retrieval(features * 7.5, labels, features * 7.5, labels, exclude_self=True)
    assert a.mean_average_precision == pytest.approx(b.mean_average_precision)
    assert all(q not in top for q, top in a.examples.items())
    # with self included every query's first hit is itself
    c = retrieval(features, labels, features, labels)
    assert all(top[0] == q for q, top in c.examples.items())
    assert c.mean_average_precision > a.mean_average_precision


def _retrieval_query_by_query(q_features, q_labels, g_features, g_labels, exclude_self, queries):
    """Plain twin of `retrieval`: every query ranked on its own (the loop `retrieval` ran
    before it ranked blocks of rows at once)."""
    q = q_features.double()
    g = g_features.double()
    q = q / q.norm(dim=1, keepdim=True).clamp_min(1e-12)
    g = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
    similarity = (q @ g.T).numpy()
    ql, gl = q_labels.numpy(), g_labels.numpy()
    aps, precisions, examples, top = [], [], {}, []
    for i in range(len(ql)):
        order = np.argsort(-similarity[i], kind="stable")
        if exclude_self:
            order = order[order != i]
        relevant = gl[order] == ql[i]
        if i in queries:
            examples[i] = [int(j) for j in order[:RETRIEVAL_TOP]]
        top.append(tuple(int(j) for j in order[:PRECISION_AT]))
        hits = np.flatnonzero(relevant)
        aps.append(float(np.mean(np.arange(1, hits.size + 1) / (hits + 1))) if hits.size else 0.0)
        precisions.append(float(relevant[:PRECISION_AT].mean()) if relevant.size else 0.0)
    return float(np.mean(aps)), float(np.mean(precisions)), examples, tuple(top)


@pytest.mark.parametrize("exclude_self", [False, True])
@pytest.mark.parametrize("rows", [1, 3, 256])
def test_retrieval_equals_ranking_each_query_alone(monkeypatch, exclude_self, rows):
    monkeypatch.setattr(evaluation, "RETRIEVAL_ROWS", rows)
    rng = np.random.default_rng(rows)
    # coarse features: many exactly tied similarities, so the stable tie order matters
    features = torch.from_numpy(rng.integers(-2, 3, size=(40, 4)).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, 4, 40))
    queries, query_labels = (features, labels) if exclude_self else (features[:17], labels[:17])
    wanted = (0, 5, 3, 16)
    got = retrieval(
        queries, query_labels, features, labels, exclude_self=exclude_self, example_queries=wanted
    )
    expected = _retrieval_query_by_query(
        queries, query_labels, features, labels, exclude_self, wanted
    )
    assert (got.mean_average_precision, got.precision_at_10, got.examples, got.top) == expected
    assert list(got.examples) == sorted(wanted)


def test_descriptor_is_the_fc7_relu_output():
    network = get_network("alexnet", num_classes=10, input_size=64)
    model = build_model(network, seed=0).eval()
    assert descriptor_module(model, network) is model.classifier[6]  # fc8
    x = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    outputs, labels = model_outputs(model, network, tensor_batches(x, torch.arange(3), 2))
    with torch.no_grad():
        expected = model.classifier[:6](torch.flatten(model.avgpool(model.features(x)), 1))
    assert torch.allclose(outputs.features, expected, rtol=1e-4, atol=1e-6)
    assert (outputs.features >= 0).all() and outputs.logits.shape == (3, 10)
    assert labels.tolist() == [0, 1, 2]
