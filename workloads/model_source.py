"""Model sources: one entry point, `load_network`, from whatever names a network to a `Network`.

Part of `workloads` (DESIGN §8, "any model in"): every command that takes a NETWORK, and the
sweep's `[[networks]]`, go through here. A source is

- a built-in name (`alexnet-caffe`, `vgg16`, …, the zoo's `resnet18`, `mobilenet-v2`,
  `squeezenet1.1`): `workloads.networks.get_network`;
- `path/to/file.py:factory` — a Python file and a function in it that returns an
  `nn.Module`. **This runs the user's own code**, and only when the user names the file; the
  module is traced by `workloads.torch_lowering`. The input shape comes from `input_shape`
  (`--input-shape 3,224,224`) or, failing that, an `input_shape` attribute of the module;
- `path/to/model.onnx` — read with the `onnx` package (`workloads.onnx_lowering`); weights are
  its initializers; no code runs and onnxruntime is not needed;
- an `nn.Module` instance (Python API).

Weights (`weights=`): None takes the source's own (the module's parameters, the ONNX
initializers; none for built-in names, whose weights are then synthetic downstream);
`"synthetic"` drops them; a path is a torch state_dict read with `torch.load(...,
weights_only=True)`, checked key for key and shape for shape against the module (built-in
names and `.py` sources; an ONNX file carries its own weights).

Every failure — a file that is not ONNX, a factory that raises or returns no module, an op the
lowering does not know, an input shape the model rejects, a state_dict for another model — is
a ValueError / OSError with a one-line message (the CLI exits 2, no traceback).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import sys
from pathlib import Path

from workloads.module_network import (
    load_state_dict_into,
    network_from_module,
    zoo_network,
    zoo_network_with_weights,
)
from workloads.network import Network
from workloads.networks import NETWORK_NAMES, ZOO_NAMES, get_network

SOURCE_KINDS: tuple[str, ...] = ("builtin", "python", "onnx", "module")
SOURCE_HELP = "a built-in name, path/to/file.py:factory or path/to/model.onnx"


def source_kind(source) -> str:
    """builtin, python (`file.py:factory`), onnx (`*.onnx`) or module (an nn.Module)."""
    if not isinstance(source, str):
        from torch import nn

        if isinstance(source, nn.Module):
            return "module"
        raise ValueError(f"network={source!r} is invalid; allowed: {SOURCE_HELP}, or an nn.Module")
    if source in NETWORK_NAMES:
        return "builtin"
    path, sep, factory = source.rpartition(":")
    if sep and path.endswith(".py") and factory:
        return "python"
    if source.lower().endswith(".onnx"):
        return "onnx"
    if source.endswith(".py"):
        raise ValueError(
            f"network={source!r} names a Python file without a factory; allowed: "
            f"{source}:FUNCTION (a function returning an nn.Module)"
        )
    raise ValueError(
        f"unknown network {source!r}; known networks: {', '.join(NETWORK_NAMES)}; or "
        "path/to/file.py:factory, path/to/model.onnx"
    )


def parse_input_shape(value) -> tuple[int, ...] | None:
    """`3,224,224` / `3x224x224` / a list of ints → (3, 224, 224); None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.replace("x", ",").replace("×", ",").split(",")
        try:
            dims = tuple(int(part) for part in parts if part.strip())
        except ValueError:
            dims = ()
    elif isinstance(value, list | tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        dims = tuple(int(v) for v in value)
    else:
        dims = ()
    if not dims or len(dims) not in (1, 3) or any(d < 1 for d in dims):
        raise ValueError(
            f"input_shape={value!r} is invalid; allowed: C,H,W (e.g. 3,224,224) or F for a "
            "vector input, each >= 1, without the batch dimension"
        )
    return dims


def _import_factory(source: str):
    """The nn.Module returned by the factory of `file.py:factory` (runs the user's code)."""
    from torch import nn

    path_text, _, factory_name = source.rpartition(":")
    path = Path(path_text)
    if not path.is_file():
        raise FileNotFoundError(2, "no such Python file", str(path))
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"dcsim_user_model_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
        raise ValueError(f"network={source!r}: {path} cannot be imported")
    user = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = user  # dataclasses and pickling look the module up
    sys.path.insert(0, str(path.parent.resolve()))  # the file may import its neighbours
    try:
        spec.loader.exec_module(user)
    except (Exception, SystemExit) as error:
        sys.modules.pop(module_name, None)
        raise ValueError(
            f"network={source!r}: importing {path} raised {type(error).__name__}: "
            f"{' '.join(str(error).split())[:200]}"
        ) from None
    finally:
        sys.path.remove(str(path.parent.resolve()))
    factory = getattr(user, factory_name, None)
    if not callable(factory):
        found = sorted(
            name
            for name, value in vars(user).items()
            if callable(value) and not name.startswith("_")
        )
        raise ValueError(
            f"network={source!r}: {path} has no function {factory_name!r}; allowed: one of "
            f"{', '.join(found) or '(none)'}"
        )
    try:
        module = factory()
    except (Exception, SystemExit) as error:
        raise ValueError(
            f"network={source!r}: {factory_name}() raised {type(error).__name__}: "
            f"{' '.join(str(error).split())[:200]}"
        ) from None
    if not isinstance(module, nn.Module):
        raise ValueError(
            f"network={source!r}: {factory_name}() returned {type(module).__name__}; "
            "allowed: a torch.nn.Module"
        )
    return module


def _module_input_shape(module, input_shape, source: str) -> tuple[int, ...]:
    if input_shape is not None:
        return input_shape
    declared = getattr(module, "input_shape", None)
    if declared is not None:
        return parse_input_shape(list(declared))
    raise ValueError(
        f"network={source!r} needs an input shape; allowed: --input-shape C,H,W (config: "
        "input_shape = [C, H, W]) or an input_shape attribute on the module"
    )


def _builtin(source, input_shape, weights, num_classes) -> Network:
    if source in ZOO_NAMES:
        if weights is None:
            return zoo_network(source, input_shape, num_classes)
        shape = tuple(input_shape or (3, 224, 224))
        return zoo_network_with_weights(source, shape, num_classes, weights)
    size = channels = None
    if input_shape is not None:
        if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
            raise ValueError(
                f"network {source!r}: input_shape={input_shape} is invalid; allowed: C,H,H "
                "(square inputs)"
            )
        channels, size = input_shape[0], input_shape[1]
    network = get_network(source, num_classes=num_classes, input_size=size, in_channels=channels)
    if weights is None:
        return network
    from workloads.torch_models import build_model, layer_modules, load_weights

    model = load_weights(build_model(network), weights)
    params = {}
    for name, module in layer_modules(model, network).items():
        params[f"{name}.weight"] = module.weight.detach().cpu().numpy().astype("float32")
        if getattr(module, "bias", None) is not None:
            params[f"{name}.bias"] = module.bias.detach().cpu().numpy().astype("float32")
    return _with(network, parameters=params)


def _with(network: Network, **changes) -> Network:
    from dataclasses import replace

    return replace(network, **changes)


def load_network(
    source,
    input_shape=None,
    *,
    weights: str | Path | None = None,
    num_classes: int | None = None,
) -> Network:
    """The `Network` of `source` (module docstring): a built-in name, `file.py:factory`, an
    ONNX path or an nn.Module; `input_shape` (C, H, W) / "3,224,224" without the batch
    dimension; `weights` None (the source's own), "synthetic", or a state_dict path.

    Raises ValueError / OSError with a one-line message for anything it cannot load."""
    kind = source_kind(source)
    shape = parse_input_shape(input_shape)
    if weights is not None and str(weights) == "synthetic":
        network = load_network(source, shape, num_classes=num_classes)
        return _with(network, parameters=None) if network.parameters is not None else network
    if num_classes is not None and kind not in ("builtin",):
        raise ValueError(
            f"num_classes={num_classes!r} is for built-in networks; a {kind} source keeps its own"
        )
    if kind == "builtin":
        return _builtin(source, shape, weights, num_classes)
    if kind == "onnx":
        if weights is not None:
            raise ValueError(
                f"weights={str(weights)!r} is invalid for the ONNX file {source!r}; allowed: "
                "none (an ONNX file carries its weights as initializers) or synthetic"
            )
        from workloads.onnx_lowering import lower_onnx

        specs, graph, params, shape = lower_onnx(source, shape)
        return Network(
            name=Path(source).stem,
            layers=specs,
            input_shape=shape,
            num_classes=graph.node(graph.output).elements,
            topology=graph,
            module_paths={spec.name: spec.name for spec in specs},
            description=f"ONNX file {Path(source).name}",
            source=source,
            parameters=params,
        )
    if kind == "python":
        module = _import_factory(source)
        name = f"{Path(source.rpartition(':')[0]).stem}.{source.rpartition(':')[2]}"
        description = f"{type(module).__name__} from {source}"
    else:
        module = copy.deepcopy(source)
        name = type(source).__name__
        description = f"torch module {name}"
        source = name
    shape = _module_input_shape(module, shape, source)
    if weights is not None:
        load_state_dict_into(module, weights, source)
    return network_from_module(module, shape, name=name, source=source, description=description)
