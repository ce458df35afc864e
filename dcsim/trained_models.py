"""Bridge between the sweep and the networks whose weights are real: the digits-trained
AlexNet and a user's state_dict (with or without an ImageNet-style data folder).

Part of the application layer (DESIGN §6). Training, retraining and evaluation live in
`workloads`, `compression` and `dcsim.accuracy` (each stage cached on disk); this module asks
them for what a design point needs — the compressed network, the activations it sees on a real
input, and its measured accuracy (and `dcsim.retrieval_examples` for the report's retrieval rows).

Activations of a trained point are measured: the compressed network (dequantized weights) runs
on one real input — the first image of the digits test split, or of the user's folder — and
each weight layer's input is captured with forward hooks (`workloads.activations`). One image is
one frame, as the accelerator sees it. A work unit of a digits setting gets all of this from the
accuracy stage's cache entries (`dcsim.trained_setting`), not from a rebuilt pipeline.
"""

from __future__ import annotations

import functools

import numpy as np

from dcsim.config import DesignPoint
from dcsim.trained_setting import seeded_setup

RETRIEVAL_IMAGE_PX = 16


@functools.lru_cache(maxsize=2)
def accuracy_report(point: DesignPoint):
    """The cached Deep Compression run of a trained point (compressed on one PE); `point` has
    its hardware settings blanked (`compression_only`)."""
    from dcsim.accuracy import digits_pipeline, folder_pipeline
    from dcsim.compression_setting import point_recipe

    recipe = point_recipe(point)
    if point.network.weights == "digits":
        return digits_pipeline(recipe, setup=seeded_setup(point), n_pe=1)
    # the same call (threads included) as `dcsim compress --weights PATH --data DIR`
    return folder_pipeline(
        point.network.weights, point.network.data, recipe, n_pe=1, seed=point.seed
    )


def prepare_trained(point: DesignPoint) -> None:
    """Train / retrain / evaluate (or find in the cache) what `point` needs, in this process."""
    from dcsim.compression_setting import compression_only

    accuracy_report(compression_only(point))


def _first_input(point: DesignPoint):
    if point.network.weights == "digits":
        return seeded_setup(point).split().x_test[:1]
    from workloads.datasets import ImageFolderDataset

    return ImageFolderDataset(point.network.data)[0][0].unsqueeze(0)


def trained_point(point: DesignPoint):
    """(compressed network on one PE, measured activations by layer, accuracy dict). A digits
    setting is read back from the accuracy stage's cache entries (`dcsim.trained_setting`, the
    same numbers without rebuilding the pipeline's models); anything else, or a digits setting
    whose entries are missing, goes through the pipeline."""
    from dcsim.compression_setting import compression_only
    from dcsim.trained_setting import cached_trained_point
    from workloads.activations import capture_layer_inputs

    cached = cached_trained_point(compression_only(point))
    if cached is not None:
        return cached
    report = accuracy_report(compression_only(point))
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
        return seeded_setup(point).network_spec()
    return get_network(point.network.network)


def thumbnail(image) -> list[list[float]]:
    """A grey thumbnail (RETRIEVAL_IMAGE_PX square) of a (3, H, W) normalised tensor."""
    import torch.nn.functional as F

    grey = image[:1].unsqueeze(0).float()
    small = F.adaptive_avg_pool2d(grey, RETRIEVAL_IMAGE_PX)[0, 0].numpy()
    return np.round(small.astype(np.float64), 3).tolist()
