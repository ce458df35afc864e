"""The Python API, part 1: networks, accelerators, compression and simulation as functions.

Part of the application layer (DESIGN §6): the functions `import dcsim` exposes
(`dcsim.network`, `dcsim.accelerator`, `dcsim.compress`, `dcsim.simulate`; the sweep, figures,
energy table and validation are in `dcsim.api_results`). The CLI commands call the same
functions, so a notebook and `dcsim ...` take one code path, one validation and give the same
numbers. Bad input raises ValueError / OSError (a sweep config: `dcsim.config.ConfigError`,
a ValueError) with the one-line message the CLI prints after `dcsim: error:`.

Units follow the sweep table (DESIGN §7): latency in ms, energy in mJ, sizes in bytes, clock in
MHz where a column says so; the objects below (Accelerator, Network) keep SI units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily at call time: `import dcsim` stays cheap
    import numpy as np
    import pandas as pd
    from torch import nn

    from compression import CompressedNetwork
    from compression.container import ContainerInfo
    from compression.recipe import Recipe
    from dcsim.accuracy import AccuracyReport
    from simulator import Accelerator, NetworkResult
    from workloads.networks import Network

DEFAULT_TARGET_FPS = 30.0
DEFAULT_RECIPE = "paper"  # `dcsim simulate`'s --recipe default


# ----------------------------------------------------------------------------- network
def network(
    source: str | Path | nn.Module | Network,
    input_shape: str | tuple[int, ...] | list[int] | None = None,
    *,
    weights: str | Path | None = None,
) -> Network:
    """The network of a model source: its weight layers (`LayerSpec`s) and graph.

    `source`: a built-in name (`"lenet-5"`, `"alexnet-caffe"`, `"resnet18"`, …), a
    `torch.nn.Module` instance (traced with torch.fx; copied, never modified),
    `"path/to/file.py:factory"` (imports the file and calls the function: your code runs) or
    `"path/to/model.onnx"`; a `Network` is returned as is. `input_shape`: one inference's
    input without the batch dimension, `(C, H, W)` or `"3,224,224"` (a module without an
    `input_shape` attribute needs it). `weights`: None = the source's own (module parameters,
    ONNX initializers; none for built-in names, which get seeded synthetic weights when
    compressed), `"synthetic"`, or the path of a torch state_dict (read with
    `weights_only=True`, checked key for key against the model).

    The result has `.layers` (weight layers; `.weights`, `.macs` each and in total) and
    `.graph` (every op and where it runs). Raises ValueError / OSError (one line) for an unknown
    name, a missing file, an op the lowering does not know, an input shape the model rejects or
    a state_dict of another model.
    """
    from workloads.model_source import load_network
    from workloads.networks import Network

    if isinstance(source, Network):
        if input_shape is not None or weights is not None:
            raise ValueError(
                "network: input_shape / weights are invalid with a loaded Network; allowed: "
                "pass the model source (name, nn.Module, file.py:factory, .onnx) instead"
            )
        return source
    if isinstance(source, Path):
        source = str(source)
    return load_network(source, input_shape, weights=weights)


_load_network = network  # `compress` and `simulate` take a parameter named `network`


# ----------------------------------------------------------------------------- accelerator
def accelerator(spec: str | Path | dict | Accelerator = "eie", **overrides: Any) -> Accelerator:
    """A validated accelerator spec.

    `spec`: a preset name (`"eie"`: 64 PEs, 800 MHz, 45 nm; `"edge-16"`), the path of an
    accelerator TOML file, a dict of the same keys (missing keys take the `Accelerator`
    defaults), or an `Accelerator`. `overrides`: fields to change, in the spec's SI units —
    e.g. `n_pe=16`, `fifo_depth=4`, `clock_hz=500e6`, `sparse_sram_bytes_per_pe=65536`,
    `technology_node_nm=28` (the field list: `dataclasses.fields(dcsim.accelerator())`).

    Raises ValueError (one line naming the field, the value and what is allowed) for an unknown
    preset or key and for a value out of range (`simulator.accelerator.INT_FIELD_RANGES`).
    """
    from simulator.accelerator import Accelerator, accelerator_from_dict, load_accelerator

    if isinstance(spec, dict):
        arch = accelerator_from_dict(dict(spec), source="accelerator")
    elif isinstance(spec, Accelerator | str | Path):
        arch = load_accelerator(spec)
    else:
        raise ValueError(
            f"accelerator={spec!r} is invalid; allowed: a preset name, a TOML path, a dict of "
            "accelerator keys or an Accelerator"
        )
    if not overrides:
        return arch
    return accelerator_from_dict({**arch.to_dict(), **overrides}, source=f"accelerator {arch.name}")


# ----------------------------------------------------------------------------- compression
@dataclass(frozen=True, eq=False)
class CompressedModel:
    """A network compressed by a recipe (what `dcsim.compress` returns).

    `network`: the `Network` (layers and graph); `compressed`: the `CompressedNetwork` (per
    layer: mask, codebook, indices, relative-index sparse format over `n_pe` PEs, Huffman
    accounting); `accuracy_report`: dense vs compressed accuracy when it was measured
    (`weights="digits"`, or a state_dict with `data`), else None.
    """

    network: Network
    compressed: CompressedNetwork
    accuracy_report: AccuracyReport | None = None

    @property
    def name(self) -> str:
        return self.compressed.name

    @property
    def n_pe(self) -> int:
        """PEs the sparse format is interleaved over (the storage depends on it)."""
        return self.compressed.n_pe

    @property
    def layers(self):
        """The compressed layers, in network order."""
        return self.compressed.layers

    def storage(self) -> pd.DataFrame:
        """The storage accounting (`dcsim storage --format json`): one row per layer, then
        `total`; bits of dense 32-bit storage (`dense_bits`), pruned (`p_bits`), pruned +
        quantized (`pq_bits`), + Huffman (`pqh_bits`), filler entries, density, bits, and
        `n_pe`. Definitions: `compression/accounting.py`."""
        import pandas as pd

        rows = [{**row, "n_pe": self.n_pe} for row in self.compressed.storage_rows()]
        return pd.DataFrame(rows)

    def accuracy(self) -> dict | None:
        """Dense vs compressed top-1 / top-5 / retrieval mAP / precision@10 (fractions in
        [0, 1]) when measured, else None."""
        return None if self.accuracy_report is None else self.accuracy_report.metric_row()

    def save(self, path: str | Path, coding: str = "huffman") -> ContainerInfo:
        """Write the `.dcz` container atomically (nothing is left behind on failure); returns
        its `ContainerInfo` (`file_bytes`, `overhead_bytes`, …). `coding`: `huffman` (P+Q+H)
        or `plain`. Raises ValueError for a bad coding, OSError when `path` cannot be
        written."""
        from compression import save_container
        from workloads.user_files import output_file

        output_file(path, "path")
        return save_container(path, self.compressed, coding=coding)


def _measured_compression(
    network_source, recipe, weights, data, train_data, n_pe, seed, device
) -> AccuracyReport | None:
    """The accuracy pipeline's report for `weights="digits"` or a state_dict with `data`."""
    from dcsim.accuracy import digits_pipeline, folder_pipeline
    from workloads.training import DIGITS_SETUP, resolve_device

    shown = (
        repr(network_source)
        if isinstance(network_source, str)
        else "a " + type(network_source).__name__
    )
    if weights == "digits":
        resolve_device(device)  # a clear error before any work when CUDA is missing
        if network_source != "alexnet":
            raise ValueError(f"network={shown} with weights digits; allowed: alexnet")
        if data is not None:
            raise ValueError("data is for weights=PATH; allowed: weights digits without data")
        from dataclasses import replace

        setup = DIGITS_SETUP if seed == DIGITS_SETUP.seed else replace(DIGITS_SETUP, seed=seed)
        return digits_pipeline(recipe, setup=setup, n_pe=n_pe, device=device)
    if data is not None:
        resolve_device(device)
        if weights in (None, "synthetic"):
            raise ValueError("data needs weights=PATH (a torchvision AlexNet state_dict)")
        if network_source != "alexnet":
            raise ValueError(f"network={shown} with data; allowed: alexnet")
        return folder_pipeline(
            weights, data, recipe, train_data=train_data, n_pe=n_pe, seed=seed, device=device
        )
    if train_data is not None:
        raise ValueError("train_data needs data; allowed: weights=PATH with data")
    return None


def compress(
    network: str | Path | nn.Module | Network,
    recipe: str | Path | dict | Recipe,
    *,
    weights: str | Path | None = None,
    input_shape: str | tuple[int, ...] | None = None,
    n_pe: int | None = None,
    seed: int = 0,
    data: str | Path | None = None,
    train_data: str | Path | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> CompressedModel:
    """Deep Compression of a network: prune → k-means weight sharing → relative-index sparse
    format over `n_pe` PEs → Huffman accounting (DESIGN §3).

    `network`: a model source (see `dcsim.network`) or a `Network`. `recipe`: a built-in
    recipe (`"paper"` — Deep Compression's AlexNet — `"digits"`, `"generic"`: per layer kind,
    any network), a recipe TOML path, a dict of the same keys (e.g. `{"density": 0.3,
    "weight_bits": 4, "kind": {"fc": {"density": 0.1}}}`) or a `Recipe`. `weights`: None =
    the source's own (seeded synthetic for built-in names), `"synthetic"`, a state_dict path,
    or `"digits"` (AlexNet trained here on scikit-learn's digits, then pruned and quantized
    with retraining; accuracy measured; cached). `data`: an ImageNet-style folder to measure a
    state_dict's accuracy on (AlexNet; `train_data` to retrain). `n_pe`: None = the recipe's,
    else 64. Same inputs + `seed` → identical result. `progress`: stage lines on stderr while
    training.

    Returns a `CompressedModel` (`.storage()` DataFrame, `.save(path)` → `.dcz`). Raises
    ValueError / OSError (one line) for an unknown recipe or recipe key, a recipe layer the
    network does not have, bad weights, or an out-of-range `n_pe` / `seed`.
    """
    from compression import compress_network
    from compression.recipe import parse_recipe
    from workloads.networks import Network
    from workloads.progress import reporting

    if isinstance(recipe, dict):
        recipe = parse_recipe(recipe, default_name="recipe")
    elif isinstance(recipe, Path):
        recipe = str(recipe)
    with reporting(enabled=progress):
        report = _measured_compression(
            network, recipe, weights, data, train_data, n_pe, seed, device
        )
        if report is not None:
            loaded = _load_network(network, input_shape, weights="synthetic")
            return CompressedModel(loaded, report.compressed, report)
        if not isinstance(network, Network):
            loaded = _load_network(network, input_shape, weights=weights)
            layer_weights = loaded.layer_weights
        else:
            loaded = _load_network(network, input_shape)
            if weights not in (None, "synthetic"):
                raise ValueError(
                    f"weights={str(weights)!r} is invalid with a loaded Network; allowed: None, "
                    "synthetic (or pass the model source with the state_dict)"
                )
            layer_weights = None if weights == "synthetic" else loaded.layer_weights
        compressed = compress_network(loaded, recipe, weights=layer_weights, n_pe=n_pe, seed=seed)
    return CompressedModel(loaded, compressed)


# ----------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class Simulation:
    """What one simulation ran on and gave: the compressed model (stored for the
    accelerator's PE count), the accelerator and the simulator's `NetworkResult` (per layer in
    SI units; `dcsim simulate` prints its rows)."""

    model: CompressedModel
    arch: Accelerator
    result: NetworkResult


def _interleaved(model: CompressedModel, n_pe: int) -> CompressedModel:
    from dcsim.point_evaluation import interleave

    if model.n_pe == n_pe:
        return model
    return CompressedModel(model.network, interleave(model.compressed, n_pe), model.accuracy_report)


def _activations(activations, model: CompressedModel) -> dict | None:
    """{layer name: input array} from None, a dict, or an ImageNet-style folder (measured on
    its first image through the compressed network)."""
    if activations is None:
        return None
    if isinstance(activations, dict):
        import numpy as np

        known = {layer.spec.name: layer.spec for layer in model.layers}
        for name in activations:
            if name not in known:
                raise ValueError(
                    f"activations: layer={name!r} is not in the network; allowed: "
                    f"{', '.join(known)}"
                )
        return {name: np.asarray(x) for name, x in activations.items()}
    if isinstance(activations, str | Path):
        from dcsim.frame_activations import simulation_activations

        return simulation_activations(model.network, model.compressed, activations)
    raise ValueError(
        f"activations={type(activations).__name__} is invalid; allowed: None (synthetic), a "
        "dict {layer name: input array}, or an ImageNet-style folder"
    )


def run_simulation(
    network_or_compressed,
    accelerator_spec="eie",
    model: str = "cycle",
    activations=None,
    *,
    recipe=None,
    weights=None,
    input_shape=None,
    act_density: float | None = None,
    seed: int = 0,
) -> Simulation:
    """The simulation behind `dcsim.simulate` and `dcsim simulate NETWORK` (see
    `dcsim.simulate` for the arguments); returns the `Simulation`."""
    from compression import CompressedNetwork
    from simulator import simulate_network
    from simulator.simulate import DEFAULT_HIDDEN_ACTIVATION_DENSITY, MODELS
    from workloads.synthetic import synthetic_input_densities

    if model not in MODELS:
        raise ValueError(f"model={model!r} is invalid; allowed: {', '.join(MODELS)}")
    arch = accelerator(accelerator_spec)
    if isinstance(network_or_compressed, CompressedNetwork):
        raise ValueError(
            "simulate: a bare CompressedNetwork has no graph; allowed: the CompressedModel "
            "dcsim.compress returns, a Network or a model source"
        )
    if isinstance(network_or_compressed, CompressedModel):
        given = [name for name, value in (("recipe", recipe), ("weights", weights),
                 ("input_shape", input_shape)) if value is not None]  # fmt: skip
        if given:
            raise ValueError(
                f"{given[0]} is invalid with a CompressedModel (it is compressed already); "
                "allowed: None, or pass the network to compress"
            )
        compressed = _interleaved(network_or_compressed, arch.n_pe)
    else:
        compressed = compress(
            network_or_compressed,
            DEFAULT_RECIPE if recipe is None else recipe,
            weights=weights,
            input_shape=input_shape,
            n_pe=arch.n_pe,
            seed=seed,
        )
    hidden = DEFAULT_HIDDEN_ACTIVATION_DENSITY if act_density is None else act_density
    result = simulate_network(
        compressed.compressed,
        arch,
        _activations(activations, compressed),
        seed=seed,
        model=model,
        hidden_activation_density=hidden,
        activation_densities=synthetic_input_densities(compressed.network, hidden),
    )
    return Simulation(compressed, arch, result)


def simulation_table(simulation: Simulation, target_fps: float = DEFAULT_TARGET_FPS):
    """The sweep table's per-layer rows and total row of one `Simulation`
    (`dcsim.result_table.tidy_table`, the builder every sweep point goes through)."""
    from dcsim.result_table import tidy_table
    from simulator.variant_evaluation import results_of_network
    from workloads.graph import host_op_summary

    model, arch = simulation.model, simulation.arch
    variants, results = results_of_network(simulation.result, arch)
    ops, _, elements = host_op_summary(model.network.graph)
    accuracy = None
    if model.accuracy_report is not None:
        measured = model.accuracy_report.compressed_eval
        accuracy = {
            "top1": measured.top1,
            "top5": measured.top5,
            "retrieval_map": measured.map,
            "precision_at_10": measured.precision_at_10,
        }
    settings = {
        "network": model.name,
        "accelerator": arch.name,
        "n_pe": arch.n_pe,
        "clock_mhz": arch.clock_hz / 1e6,
        "sim_model": simulation.result.model,
        "target_fps": float(target_fps),
    }
    return tidy_table(
        settings,
        model.layers,
        variants,
        results,
        target_fps=target_fps,
        accuracy=accuracy,
        accuracy_source="measured" if accuracy is not None else "not measured",
        host_ops=(ops, elements),
    )


def simulate(
    network_or_compressed: str | Path | nn.Module | Network | CompressedModel,
    accelerator: str | Path | dict | Accelerator = "eie",
    model: str = "cycle",
    activations: dict[str, np.ndarray] | str | Path | None = None,
    *,
    recipe: str | Path | dict | Recipe | None = None,
    weights: str | Path | None = None,
    input_shape: str | tuple[int, ...] | None = None,
    act_density: float | None = None,
    target_fps: float = DEFAULT_TARGET_FPS,
    seed: int = 0,
) -> pd.DataFrame:
    """One frame of a compressed network on an accelerator, as the sweep table's rows.

    `network_or_compressed`: what `dcsim.compress` returned (re-stored for the accelerator's
    PE count when it differs), or a `Network` / model source, which is first compressed with
    `recipe` (None: `"paper"`, as `dcsim simulate`), `weights`, `input_shape` and `seed` on
    the accelerator's PEs (these three are for a network to compress: with a CompressedModel
    they are an error). `accelerator`: anything `dcsim.accelerator` takes. `model`:
    `"cycle"` (the Numba cycle model, the reference) or `"analytical"` (closed form from
    densities; fast). `activations`: None = synthetic, seeded, at the density that flows
    through the graph (ReLU outputs at `act_density`, default 0.5; the input and conv / fc
    outputs dense); a dict {layer name: that layer's input array}; or an ImageNet-style folder,
    measured on its first image through the compressed network. `target_fps`: sets
    `meets_target`.

    Returns a DataFrame with one row per weight layer, then a `total` row (`row_type` says
    which), and exactly the per-layer columns and units of the sweep table
    (`dcsim.result_table`): `cycles`, `ideal_cycles`, `stall_cycles`, `load_balance`,
    `utilization`, `fillers`, `latency_ms`, `compute_ms`, `dram_ms`, `energy_mj`,
    `energy_<action>_mj`, `events_<action>`, `model_bytes`, `container_bytes`, `dense_bytes`,
    `compression_ratio`, `weight_dram_bytes`, `activation_dram_bytes`, the on-chip fit per
    memory (`*_need_bytes`, `*_capacity_bytes`, `overflow`, `fits_onchip`), the codebook
    columns, `fps` and `meets_target` (total row), `host_ops`, accuracy (`top1`, … when
    measured), preceded by `network`, `accelerator`, `n_pe`, `clock_mhz`, `sim_model`,
    `target_fps`. `reports.columns.column_info(name)` explains a column.

    Raises ValueError / OSError (one line) for an unknown model, a bad accelerator, recipe,
    network or weights, activations for a layer the network lacks, or `act_density` outside
    [0, 1].
    """
    if not isinstance(target_fps, int | float) or not math.isfinite(target_fps) or target_fps <= 0:
        raise ValueError(f"target_fps={target_fps!r} is invalid; allowed: a finite number > 0")
    simulation = run_simulation(
        network_or_compressed,
        accelerator,
        model,
        activations,
        recipe=recipe,
        weights=weights,
        input_shape=input_shape,
        act_density=act_density,
        seed=seed,
    )
    return simulation_table(simulation, target_fps)
