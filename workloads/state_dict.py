"""Reading a user's torch state_dict safely, and checking it against a model.

Part of `workloads` (DESIGN §2, §8): every `weights=` file — for a built-in network
(`workloads.torch_models.build_model`), a zoo network or a `file.py:factory` model source
(`workloads.module_network`) — is read here with `torch.load(..., weights_only=True)` (a file
can carry tensors, never code) and checked key for key, shape for shape and for finite values
before it is loaded, with a one-line ValueError naming the file and what is wrong.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state_dict with `torch.load(weights_only=True)`; a `{"state_dict": ...}` or
    `{"model": ...}` checkpoint wrapper is unwrapped. Raises ValueError for anything else."""
    from workloads.user_files import input_file

    path = input_file(path, "weights file", "a torch state_dict file (torch.save)")
    try:
        with warnings.catch_warnings():  # e.g. a pickle-protocol warning before the error
            warnings.simplefilter("ignore")
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for damaged/unsafe files
        raise ValueError(
            f"weights={str(path)!r} is not a readable torch state_dict ({_load_failure(error)}); "
            "allowed: a file written by torch.save holding only tensors"
        ) from None
    if isinstance(loaded, dict):
        for wrapper in ("state_dict", "model"):
            if wrapper in loaded and isinstance(loaded[wrapper], dict):
                loaded = loaded[wrapper]
                break
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()
    ):
        raise ValueError(
            f"weights={str(path)!r} does not hold a state_dict (a mapping of names to tensors)"
        )
    return loaded


def _load_failure(error: BaseException) -> str:
    """The informative part of torch.load's message, on one short line."""
    text = " ".join(str(error).split())
    marker = "WeightsUnpickler error:"
    if marker in text:  # torch's long weights_only preamble hides the actual reason
        reason = text.split(marker, 1)[1].split(" Check the documentation", 1)[0].strip()
        return f"damaged, or holds objects other than tensors: {reason}"[:160]
    return text.split(". ", 1)[0][:160]


def _summarise(keys: list[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def check_state_dict(
    model: nn.Module,
    state_dict: dict[str, torch.Tensor],
    source: str,
    layout: str = "a torchvision-layout state_dict",
) -> None:
    """Raise a one-line ValueError unless `state_dict` fits `model` key for key and shape for
    shape, with finite floating-point values; `layout` says what was expected."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {_summarise(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_summarise(unexpected)}")
        raise ValueError(
            f"weights={source!r} does not match the model: {'; '.join(parts)} (expected {layout})"
        )
    for key, tensor in expected.items():
        got = state_dict[key]
        if tuple(got.shape) != tuple(tensor.shape):
            raise ValueError(
                f"weights={source!r}: {key} has shape {tuple(got.shape)}; "
                f"allowed: {tuple(tensor.shape)}"
            )
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise ValueError(f"weights={source!r}: {key} contains NaN or Inf; allowed: finite")


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a user's state_dict file into `model` after checking keys, shapes and values."""
    state_dict = read_state_dict(path)
    check_state_dict(model, state_dict, str(path))
    model.load_state_dict(state_dict)
    return model
