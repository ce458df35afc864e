"""The activations one simulated frame runs on.

Part of the application layer (DESIGN §6): `dcsim.simulate` (the Python API, and through it
`dcsim simulate --data`) and the sweep's points (`dcsim.point_evaluation`) take a network's
layer inputs measured on the first image of a data folder, run through the *compressed*
network (its dequantized, batch-norm-folded weights); without a folder the simulator uses
synthetic activations at the density that flows through the network's graph
(`workloads.synthetic.synthetic_input_densities`).
"""

from __future__ import annotations


def simulation_activations(network, compressed, data=None, images: int = 1) -> dict | None:
    """Measured inputs of every layer on the first image of `data` (one frame), run through
    the compressed network; None without `data`."""
    if data is None:
        return None
    from workloads.activations import first_images, measured_layer_inputs

    weights = {layer.name: layer.dequantized_weights() for layer in compressed.layers}
    captured = measured_layer_inputs(network, weights, first_images(network, data, images))
    return {name: x[0] for name, x in captured.items()}
