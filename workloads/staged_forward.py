"""A sequential model's forward pass as a list of stages, so that evaluation can start part-way.

Part of `workloads` (DESIGN §2, §8), used by the accuracy measurements that evaluate many
variants of one network which differ only after some layer:

- a sweep's k-means-only grid: every fc bit width of one (checkpoint, conv bits) sees the same
  conv features, so the conv trunk runs once and only the fc head runs per fc bit width;
- per-layer sensitivity: pruning layer l leaves everything before it unchanged, so the input
  of layer l is computed once and only the rest of the network runs per density.

`model_stages(model)` lists the modules a `workloads.torch_models.SequentialNet` (torchvision
AlexNet / VGG layout: features → avgpool → flatten → classifier) calls, in order: every
`features` module, the average pool, an `nn.Flatten(1)`, every `classifier` module. Running
the stages one after another makes the very same calls as `model(x)`, so outputs are
bit-identical (eager mode fuses nothing); a stage's input can be kept and the rest run from it.
Models of any other layout return None (callers then run the whole model).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from workloads.networks import Network
from workloads.torch_models import SequentialNet, layer_modules


def model_stages(model: nn.Module) -> list[nn.Module] | None:
    """The modules `model(x)` calls, in order, for a SequentialNet; None otherwise."""
    if not isinstance(model, SequentialNet):
        return None
    return [*model.features, model.avgpool, nn.Flatten(1), *model.classifier]


def layer_stages(model: nn.Module, network: Network) -> dict[str, int] | None:
    """Layer name → the index of the stage that holds the layer's module (None: not staged)."""
    stages = model_stages(model)
    if stages is None:
        return None
    position = {id(module): index for index, module in enumerate(stages)}
    modules = layer_modules(model, network)
    out = {}
    for name, module in modules.items():
        if id(module) not in position:
            return None
        out[name] = position[id(module)]
    return out


def run_stages(stages: list[nn.Module], x: torch.Tensor, start: int = 0, stop: int | None = None):
    """The output of stages[start:stop] applied to `x` (the input of stage `start`)."""
    for module in stages[start:stop]:
        x = module(x)
    return x


@torch.no_grad()
def stage_inputs(
    model: nn.Module,
    batches: Iterable[torch.Tensor],
    wanted: Iterable[int],
) -> dict[int, list[torch.Tensor]]:
    """For every batch of images, the input of each stage in `wanted` (stage index → one
    tensor per batch), in one pass through the model in eval mode. Stage 0's input is the
    batch itself."""
    stages = model_stages(model)
    if stages is None:
        raise ValueError("stage_inputs: the model is not a SequentialNet")
    wanted = sorted(set(wanted))
    out: dict[int, list[torch.Tensor]] = {index: [] for index in wanted}
    was_training = model.training
    model.eval()
    try:
        last = wanted[-1] if wanted else 0
        for images in batches:
            x = images
            for index in range(last + 1):
                if index in out:
                    out[index].append(x)
                if index < last:
                    x = stages[index](x)
    finally:
        model.train(was_training)
    return out
