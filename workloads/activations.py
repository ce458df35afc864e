"""Measured activations: the input each weight layer sees, captured with forward hooks.

Part of `workloads` (DESIGN §2). EIE skips zero activations, so the density of each layer's
*input* (what the accelerator broadcasts) drives latency as much as weight density does.
`capture_layer_inputs` runs a torch model on real inputs and records, per weight layer, the
tensor entering it (after the previous ReLU / pooling), detached as float32 NumPy arrays.
"""

from __future__ import annotations

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
