"""Trained AlexNet layers for the EIE timing check: `dcsim validate --weights FILE [--data DIR]`.

Part of the application layer (DESIGN §6). EIE's Alex-6/7/8 benchmark layers are AlexNet's
fc6, fc7 and fc8, timed on the trained, pruned matrices and on activations of real images
(EIE Table III/IV). Synthetic i.i.d. weights and activations at the published densities get
the mechanism but not what a particular trained matrix and its inputs add — for instance,
inputs that fire often meeting columns that kept more weights, which raises the work beyond
weight density × activation density. This module supplies the real thing when the user has
it (nothing is downloaded): it loads the user's AlexNet state_dict (torchvision or Caffe
layout, checked key by key), runs the network as given on the first `images` images of an
ImageNet-style folder, captures the input of fc6/fc7/fc8 with forward hooks and returns them
as `simulator.validation.MeasuredLayer`s. The timing code then prunes each matrix by
magnitude to EIE's density (a matrix already pruned to that density keeps its mask), so the
weights to give are Deep Compression's pruned + retrained ones; dense ones are a proxy.
Without `data`, the activations stay synthetic at EIE's densities (only the weights are real).

`network` may also be any model source (`workloads.model_source`: an ONNX export of an
AlexNet, a `file.py:factory` returning one) — its own weights, or `weights` as a state_dict —
whose fc layers include AlexNet's fc6/fc7/fc8 shapes (9216→4096, 4096→4096, 4096→1000); the
first fc layer of each shape is used, and activations are captured through its graph.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

EIE_ALEXNET_LAYERS: dict[str, str] = {"alex-6": "fc6", "alex-7": "fc7", "alex-8": "fc8"}
ALEXNET_LAYOUTS: tuple[str, ...] = ("alexnet", "alexnet-caffe")
DEFAULT_IMAGES = 8


def _first_images(data: str | Path, images: int, crop_px: int):
    import torch

    from workloads.datasets import ImageFolderDataset

    dataset = ImageFolderDataset(data, resize=max(256, crop_px), crop=crop_px)
    count = min(images, len(dataset))
    return torch.stack([dataset[i][0] for i in range(count)])


def measured_alexnet_layers(
    weights: str | Path,
    data: str | Path | None = None,
    *,
    network: str = "alexnet",
    images: int = DEFAULT_IMAGES,
    seed: int = 0,
) -> dict:
    """{EIE layer name: MeasuredLayer} from a user's AlexNet `weights` (and images in `data`)."""
    from simulator.validation import MeasuredLayer
    from workloads import get_network
    from workloads.activations import capture_layer_inputs
    from workloads.synthetic import synthetic_layer_input
    from workloads.torch_models import build_model, layer_modules, load_weights

    if isinstance(images, bool) or not isinstance(images, int) or images < 1:
        raise ValueError(f"images={images!r} is invalid; allowed: an integer >= 1")
    if network not in ALEXNET_LAYOUTS:
        return _source_layers(weights, data, network, images, seed)
    if weights is None:
        raise ValueError(f"network={network!r} needs --weights FILE (a trained AlexNet state_dict)")
    spec = get_network(network)
    model = load_weights(build_model(spec), weights).eval()
    modules = layer_modules(model, spec)
    matrices = {
        eie: modules[fc].weight.detach().cpu().numpy().astype(np.float32)
        for eie, fc in EIE_ALEXNET_LAYERS.items()
    }
    if data is None:
        source = f"weights {Path(weights).name}, synthetic activations"
        activations = {}
        for eie in EIE_ALEXNET_LAYERS:
            eie_spec = get_network(eie).layers[0]
            x = synthetic_layer_input(eie_spec, eie_spec.activation_density, seed)
            activations[eie] = x.reshape(1, -1)
    else:
        batch = _first_images(data, images, spec.input_shape[-1])
        captured = capture_layer_inputs(model, spec, batch)
        activations = {
            eie: captured[fc].reshape(batch.shape[0], -1) for eie, fc in EIE_ALEXNET_LAYERS.items()
        }
        source = f"weights {Path(weights).name}, {batch.shape[0]} image(s) of {Path(data).name}"
    return {
        eie: MeasuredLayer(matrices[eie], activations[eie], source) for eie in EIE_ALEXNET_LAYERS
    }


# (out, in) of AlexNet's fc6, fc7, fc8 — the matrices of EIE's Alex-6/7/8.
EIE_ALEXNET_SHAPES: dict[str, tuple[int, int]] = {
    "alex-6": (4096, 9216),
    "alex-7": (4096, 4096),
    "alex-8": (1000, 4096),
}


def _source_layers(weights, data, source: str, images: int, seed: int) -> dict:
    """MeasuredLayers of a model source holding an AlexNet classifier (module docstring)."""
    from simulator.validation import MeasuredLayer
    from workloads import get_network, load_network
    from workloads.activations import first_images, measured_layer_inputs
    from workloads.synthetic import synthetic_layer_input

    net = load_network(source, weights=weights)
    if net.parameters is None:
        raise ValueError(
            f"network={source!r} has no weights of its own; allowed: --weights FILE (a trained "
            "state_dict of it)"
        )
    chosen: dict[str, str] = {}
    for eie, shape in EIE_ALEXNET_SHAPES.items():
        match = [
            layer.name
            for layer in net.layers
            if layer.kind == "fc"
            and layer.matrix_shape == shape
            and layer.name not in chosen.values()
        ]
        if not match:
            raise ValueError(
                f"network={source!r} has no fc layer of shape {shape[1]}→{shape[0]} ({eie}); "
                "allowed: a network with AlexNet's fc6/fc7/fc8 (9216→4096→4096→1000)"
            )
        chosen[eie] = match[0]
    matrices = {eie: net.parameters[f"{name}.weight"] for eie, name in chosen.items()}
    if data is None:
        activations = {}
        for eie in chosen:
            eie_spec = get_network(eie).layers[0]
            x = synthetic_layer_input(eie_spec, eie_spec.activation_density, seed)
            activations[eie] = x.reshape(1, -1)
        source_text = f"{Path(source).name} weights, synthetic activations"
    else:
        batch = first_images(net, data, images)
        captured = measured_layer_inputs(net, net.layer_weights, batch)
        activations = {
            eie: captured[name].reshape(batch.shape[0], -1) for eie, name in chosen.items()
        }
        source_text = f"{Path(source).name}, {batch.shape[0]} image(s) of {Path(data).name}"
    return {
        eie: MeasuredLayer(np.asarray(matrices[eie], np.float32), activations[eie], source_text)
        for eie in chosen
    }
