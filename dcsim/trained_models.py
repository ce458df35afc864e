"""Bridge between the sweep and the networks whose weights are real: the digits-trained
AlexNet and a user's state_dict (with or without an ImageNet-style data folder).

Part of the application layer (DESIGN §6). Training, retraining and evaluation live in
`workloads`, `compression` and `dcsim.accuracy` (each stage cached on disk); this module asks
them for what a design point needs — the compressed network, the activations it sees on a real
input, and its measured accuracy — and for the retrieval examples the report shows.

Activations of a trained point are measured: the compressed network (dequantized weights) runs
on one real input — the first image of the digits test split, or of the user's folder — and
each weight layer's input is captured with forward hooks (`workloads.activations`). One image is
one frame, as the accelerator sees it.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd

from dcsim.config import DesignPoint

RETRIEVAL_QUERIES_SHOWN = 4
RETRIEVAL_IMAGE_PX = 16


def _seeded_setup(point: DesignPoint):
    from workloads.training import DIGITS_SETUP

    return dataclasses.replace(DIGITS_SETUP, seed=point.seed)


@functools.lru_cache(maxsize=2)
def _accuracy_report(point: DesignPoint):
    """The cached Deep Compression run of a trained point (compressed on one PE); `point` has
    its hardware settings blanked (`compression_only`)."""
    from dcsim.accuracy import digits_pipeline, folder_pipeline
    from dcsim.point_evaluation import point_recipe

    recipe = point_recipe(point)
    if point.network.weights == "digits":
        return digits_pipeline(recipe, setup=_seeded_setup(point), n_pe=1)
    # the same call (threads included) as `dcsim compress --weights PATH --data DIR`
    return folder_pipeline(
        point.network.weights, point.network.data, recipe, n_pe=1, seed=point.seed
    )


def prepare_trained(point: DesignPoint) -> None:
    """Train / retrain / evaluate (or find in the cache) what `point` needs, in this process."""
    from dcsim.point_evaluation import compression_only

    _accuracy_report(compression_only(point))


def _first_input(point: DesignPoint):
    if point.network.weights == "digits":
        return _seeded_setup(point).split().x_test[:1]
    from workloads.datasets import ImageFolderDataset

    return ImageFolderDataset(point.network.data)[0][0].unsqueeze(0)


def trained_point(point: DesignPoint):
    """(compressed network on one PE, measured activations by layer, accuracy dict)."""
    from dcsim.point_evaluation import compression_only
    from workloads.activations import capture_layer_inputs

    report = _accuracy_report(compression_only(point))
    network = network_of(point)
    captured = capture_layer_inputs(report.result.model, network, _first_input(point))
    activations = {name: x[0] for name, x in captured.items()}
    evaluation = report.compressed_eval
    accuracy = {
        "top1": evaluation.top1,
        "top5": evaluation.top5,
        "retrieval_map": evaluation.map,
        "precision_at_10": evaluation.precision_at_10,
    }
    return report.compressed, activations, accuracy


def network_of(point: DesignPoint):
    from workloads import get_network

    if point.network.weights == "digits":
        return _seeded_setup(point).network_spec()
    return get_network(point.network.network)


def _thumbnail(image) -> list[list[float]]:
    """A grey thumbnail (RETRIEVAL_IMAGE_PX square) of a (3, H, W) normalised tensor."""
    import torch.nn.functional as F

    grey = image[:1].unsqueeze(0).float()
    small = F.adaptive_avg_pool2d(grey, RETRIEVAL_IMAGE_PX)[0, 0].numpy()
    return np.round(small.astype(np.float64), 3).tolist()


def retrieval_examples(points: list[DesignPoint], results: pd.DataFrame) -> list[dict]:
    """Retrieval pictures for the report: for each digits network, its best measured point
    (highest top-1, then smallest model), a few fixed test queries with the top-5 train images
    retrieved by the dense and by that point's compressed network."""
    from dcsim.point_evaluation import compression_only

    if results.empty or "top1" not in results:
        return []
    totals = results[results["row_type"] == "total"] if "row_type" in results else results
    totals = totals[totals["status"] == "ok"]
    examples = []
    for label in dict.fromkeys(p.network.label for p in points if p.network.weights == "digits"):
        measured = totals[(totals["network"] == label) & totals["top1"].notna()]
        if measured.empty:
            continue
        best = measured.sort_values(["top1", "container_bytes"], ascending=[False, True]).iloc[0]
        point = next((p for p in points if p.point_id == best["point_id"]), None)
        if point is None:
            continue
        report = _accuracy_report(compression_only(point))
        split = _seeded_setup(point).split()
        dense, compressed = (
            report.dense.retrieval_examples,
            report.compressed_eval.retrieval_examples,
        )
        for query in sorted(set(dense) & set(compressed))[:RETRIEVAL_QUERIES_SHOWN]:
            examples.append(
                {
                    "network": label,
                    "point_id": point.point_id,
                    "query_image": _thumbnail(split.x_test[query]),
                    "query_label": int(split.y_test[query]),
                    "dense_top5": [
                        {"image": _thumbnail(split.x_train[i]), "label": int(split.y_train[i])}
                        for i in dense[query][:5]
                    ],
                    "compressed_top5": [
                        {"image": _thumbnail(split.x_train[i]), "label": int(split.y_train[i])}
                        for i in compressed[query][:5]
                    ],
                }
            )
    return examples
