"""Torch mechanisms for retraining a compressed network: mask enforcement, iterative pruning,
and trained quantization (shared centroids that learn).

Part of `compression` (DESIGN §3.1, §3.3). The training loop itself belongs to the accuracy
stage; this module gives it the mechanisms, applied to named weight parameters:

- `MaskEnforcer`: keeps pruned weights exactly zero while retraining — a gradient hook zeroes
  the gradients of pruned weights, and `apply()` re-zeroes the weights (call it after each
  optimizer step, since momentum or weight decay could otherwise move them).
- `iterative_prune`: the prune → retrain schedule of `compression.pruning.density_schedule`:
  at each step, prune every layer by magnitude to the step's density (pruned weights never
  come back), enforce the masks, and call the caller's `retrain(step)`.
- `SharedWeights` / `share_module_weights`: trained quantization. A module's weight becomes a
  parametrization `cat([0], centroids)[codes]`: the codes (indices) are a fixed buffer, only the
  2**b − 1 non-zero centroids are trainable, and autograd's backward of the gather gives each
  centroid the sum of its members' gradients (Han et al. 2016, §3.2). Code 0 maps to a constant
  zero, so pruned weights stay exactly zero. `bake_shared_weights` turns the module back into
  a plain weight holding the trained quantized values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from compression.pruning import density_schedule, magnitude_mask
from compression.weight_sharing import share_weights


class MaskEnforcer:
    """Keep `params[name]` zero where `masks[name]` is False, through gradients and steps."""

    def __init__(self, params: dict[str, nn.Parameter], masks: dict[str, np.ndarray]) -> None:
        unknown = [name for name in masks if name not in params]
        if unknown:
            raise ValueError(
                f"masks: layer={unknown[0]!r} has no parameter; allowed: {', '.join(params)}"
            )
        self.params = params
        self.masks: dict[str, torch.Tensor] = {}
        for name, mask in masks.items():
            param = params[name]
            tensor = torch.as_tensor(np.asarray(mask, dtype=bool), device=param.device)
            if tuple(tensor.shape) != tuple(param.shape):
                raise ValueError(
                    f"mask {name!r} shape={tuple(tensor.shape)} is invalid; "
                    f"allowed: {tuple(param.shape)}"
                )
            self.masks[name] = tensor
        self._hooks = [
            params[name].register_hook(lambda grad, m=mask: grad * m.to(grad.dtype))
            for name, mask in self.masks.items()
        ]
        self.apply()

    @torch.no_grad()
    def apply(self) -> None:
        """Set every pruned weight to exactly zero."""
        for name, mask in self.masks.items():
            self.params[name].mul_(mask.to(self.params[name].dtype))

    def remove(self) -> None:
        """Detach the gradient hooks (the weights keep their zeros)."""
        for hook in self._hooks:
            hook.remove()
        self._hooks = []


def iterative_prune(
    params: dict[str, nn.Parameter],
    densities: dict[str, float],
    steps: int,
    retrain: Callable[[int, MaskEnforcer], None],
    *,
    start_masks: dict[str, np.ndarray] | None = None,
    start_densities: dict[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Prune → retrain `steps` times toward each layer's target density; returns the masks.

    At step s every layer keeps the round(density_s × n) largest-magnitude weights among its
    current survivors (density_s from `density_schedule`), then `retrain(s, enforcer)` runs
    with the masks enforced (it should call `enforcer.apply()` after each optimizer step).
    `start_masks` / `start_densities`: the layers are already pruned (a checkpoint of a pruning
    trajectory): the schedule starts from those densities and only survivors can be kept."""
    start_densities = start_densities or {}
    schedules = {
        name: density_schedule(d, steps, start_densities.get(name, 1.0))
        for name, d in densities.items()
    }
    masks: dict[str, np.ndarray] = {
        name: np.asarray(mask, dtype=bool) for name, mask in (start_masks or {}).items()
    }
    for step in range(steps):
        for name, schedule in schedules.items():
            values = params[name].detach().cpu().numpy()
            if name in masks:
                values = np.where(masks[name], values, 0.0)
            masks[name] = magnitude_mask(values, schedule[step])
        enforcer = MaskEnforcer(params, masks)
        try:
            retrain(step, enforcer)
            enforcer.apply()
        finally:
            enforcer.remove()
    return masks


class SharedWeights(nn.Module):
    """Parametrization weight = cat([0], centroids)[codes]; codes fixed, centroids trained."""

    def __init__(self, codebook: np.ndarray, codes: np.ndarray) -> None:
        super().__init__()
        codebook = np.asarray(codebook, dtype=np.float32)
        if codebook.ndim != 1 or codebook.size < 2 or codebook[0] != 0:
            raise ValueError("codebook is invalid; allowed: float [2**b] with codebook[0] == 0")
        self.centroids = nn.Parameter(torch.from_numpy(codebook[1:].copy()))
        self.register_buffer("codes", torch.from_numpy(np.asarray(codes, dtype=np.int64)))
        self.register_buffer("zero", torch.zeros(1))

    def forward(self, original: torch.Tensor) -> torch.Tensor:  # noqa: ARG002 - replaced
        table = torch.cat([self.zero.to(self.centroids.dtype), self.centroids])
        return table[self.codes].to(original.dtype)

    def codebook(self) -> np.ndarray:
        """Current float32 codebook [2**b], codebook[0] == 0."""
        return np.concatenate(([0.0], self.centroids.detach().cpu().numpy())).astype(np.float32)


def share_module_weights(
    module: nn.Module, weight_bits: int, init: str = "linear", seed: int = 0
) -> SharedWeights:
    """Quantize `module.weight` (its zeros are pruned) by k-means and make the centroids the
    trainable parameters; returns the parametrization (its `.centroids` is what trains)."""
    weights = module.weight.detach().cpu().numpy()
    codebook, codes = share_weights(weights, weight_bits, init=init, seed=seed)
    shared = SharedWeights(codebook, codes).to(module.weight.device)
    parametrize.register_parametrization(module, "weight", shared, unsafe=True)
    module.parametrizations.weight.original.requires_grad_(False)
    return shared


def bake_shared_weights(module: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """Remove the parametrization, leaving the trained quantized weight; returns
    (codebook float32 [2**b], codes int64 of the weight shape)."""
    shared = module.parametrizations.weight[0]
    codebook, codes = shared.codebook(), shared.codes.cpu().numpy()
    parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    module.weight.requires_grad_(True)
    return codebook, codes
