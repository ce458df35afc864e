"""Measured activations: the input each weight layer sees, captured with forward hooks.

Part of `workloads` (DESIGN §2). EIE skips zero activations, so the density of each layer's
*input* (what the accelerator broadcasts) drives latency as much as weight density does.
`capture_layer_inputs` runs a torch model on real inputs and records, per weight layer, the
tensor entering it (after the previous ReLU / pooling), detached as float32 NumPy arrays.
`measured_layer_inputs` does the same for any network through its graph (any model source,
and the compressed network's own weights). The densities to draw synthetic inputs at when
nothing is measured are `workloads.synthetic.synthetic_input_densities` (no torch needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from workloads.networks import Network
from workloads.torch_models import layer_modules


def capture_layer_inputs(
    model: nn.Module, network: Network, inputs: torch.Tensor
) -> dict[str, np.ndarray]:
    """Run `model` on `inputs` (N, C, H, W) and return each weight layer's input, by name.

    Shapes: (N, C, H, W) for conv layers, (N, features) for fc/lstm layers.
    """
    captured: dict[str, np.ndarray] = {}
    handles = []

    def hook_for(name: str):
        def hook(_module: nn.Module, args: tuple) -> None:
            captured[name] = args[0].detach().to(torch.float32).cpu().numpy().copy()

        return hook

    for name, module in layer_modules(model, network).items():
        handles.append(module.register_forward_pre_hook(hook_for(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {layer.name: captured[layer.name] for layer in network.layers}


def activation_density(activations: np.ndarray) -> float:
    """Fraction of non-zero entries."""
    return float(np.count_nonzero(activations)) / activations.size if activations.size else 0.0


def first_images(network: Network, data: str | Path, images: int = 1) -> torch.Tensor:
    """The first `images` images of an ImageNet-style folder, prepared for `network`'s input
    (3×S×S: shorter side resized to S·256/224, centre crop S, ImageNet normalisation)."""
    from workloads.datasets import ImageFolderDataset

    shape = tuple(network.input_shape)
    if len(shape) != 3 or shape[0] != 3 or shape[1] != shape[2]:
        raise ValueError(
            f"data={str(data)!r} needs a network with a 3×S×S image input; {network.name!r} "
            f"takes {shape}"
        )
    if isinstance(images, bool) or not isinstance(images, int) or images < 1:
        raise ValueError(f"images={images!r} is invalid; allowed: an integer >= 1")
    size = shape[1]
    dataset = ImageFolderDataset(data, resize=max(size, round(size * 256 / 224)), crop=size)
    return torch.stack([dataset[i][0] for i in range(min(images, len(dataset)))])


def measured_layer_inputs(
    network: Network, weights: dict, inputs: torch.Tensor, biases: dict | None = None
) -> dict[str, np.ndarray]:
    """Each weight layer's input on `inputs` (N, *input_shape), by layer name, with the
    network's graph run on `weights` (e.g. the compressed network's dequantized weights) and
    the network's own (batch-norm folded) biases unless `biases` are given
    (`workloads.graph_runner`)."""
    from workloads.graph_runner import GraphModule, capture_graph_inputs

    module = GraphModule(network, weights, biases)
    return capture_graph_inputs(module, network, inputs)
