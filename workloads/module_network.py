"""A torch module to a `Network`: the lowering shared by the zoo and user modules.

Part of `workloads` (DESIGN §2, §8), between a torch module and the `Network` the rest of
the flow reads. `network_from_module` traces a module at an input shape
(`workloads.torch_lowering`) and keeps its own tensors as the network's parameters;
`load_state_dict_into` loads a checked state_dict file (`workloads.state_dict`) first. The zoo
networks (`workloads.zoo`: resnet18, mobilenet-v2, squeezenet1.1) are lowered here:
`zoo_network` is what `workloads.networks.get_network` returns for a zoo name (no weights of
its own), `zoo_network_with_weights` the same with a torchvision-layout state_dict.
`workloads.model_source.load_network` uses all of them for built-in names, `file.py:factory`
sources and `nn.Module` instances. Nothing here imports the registry of named networks.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from workloads.network import Network


def network_from_module(
    module, input_shape, *, name: str, source: str, description: str
) -> Network:
    """The `Network` of torch `module` traced at `input_shape` (C, H, W), with its own tensors
    as `parameters`; `name`, `source` and `description` are recorded as given."""
    from workloads.torch_lowering import lower_module

    specs, graph, params, paths = lower_module(module, input_shape, where=f"network {source!r}")
    return Network(
        name=name,
        layers=specs,
        input_shape=tuple(input_shape),
        num_classes=graph.node(graph.output).elements,
        topology=graph,
        module_paths=paths,
        family="network",
        description=description,
        source=source,
        parameters=params,
    )


def load_state_dict_into(module, weights, source: str):
    """`module` with the state_dict file `weights` loaded after checking keys, shapes and
    values against it (a one-line ValueError names `source` as the expected layout)."""
    from workloads.state_dict import check_state_dict, read_state_dict

    state_dict = read_state_dict(weights)
    check_state_dict(module, state_dict, str(weights), layout=f"a state_dict of {source}")
    module.load_state_dict(state_dict)
    return module


@functools.lru_cache(maxsize=8)
def zoo_network(
    name: str, input_shape: tuple[int, ...] | None = None, num_classes: int | None = None
) -> Network:
    """Zoo network `name` (resnet18, mobilenet-v2, squeezenet1.1) lowered at `input_shape`
    (default 3×224×224); no weights of its own (`parameters` None: synthetic downstream)."""
    from workloads.zoo import ZOO_INPUT_SHAPE

    shape = tuple(input_shape or ZOO_INPUT_SHAPE)
    network = zoo_network_with_weights(name, shape, num_classes, None)
    description = network.description
    if shape != ZOO_INPUT_SHAPE:
        description += f" (here at {'×'.join(map(str, shape))})"
    return replace(network, parameters=None, description=description)


def zoo_network_with_weights(name, shape, num_classes, weights) -> Network:
    """Zoo network `name` lowered at `shape` (3, H, W) with `num_classes` outputs (None: 1000);
    `weights` None keeps torch's default initialisation under seed 0, a path loads that
    torchvision-layout state_dict."""
    import torch

    from workloads.zoo import ZOO_DESCRIPTIONS, zoo_module

    if len(shape) != 3 or shape[0] != 3:
        raise ValueError(f"network {name!r}: input_shape={shape} is invalid; allowed: 3,H,W")
    state = torch.random.get_rng_state()
    torch.manual_seed(0)  # torch's default init, deterministic
    try:
        module = zoo_module(name, num_classes=num_classes or 1000)
    finally:
        torch.random.set_rng_state(state)
    if weights is not None:
        load_state_dict_into(module, weights, f"{name} (torchvision layout)")
    return network_from_module(
        module, shape, name=name, source=name, description=ZOO_DESCRIPTIONS[name]
    )
