"""Simulating compressed layers and networks on an accelerator: the simulator's public API.

Part of `simulator` (DESIGN §1, §4): takes `compression.CompressedLayer`s (or, for the
analytical model, only densities), an `Accelerator`, and activations (measured or synthetic),
and returns `LayerResult` / `NetworkResult` with cycles, latency, energy by component and the
on-chip / DRAM footprint. Energy = Σ events × the energy reference table
(`simulator.energy_table`).

Events and latency per layer (one inference) are `simulator.layer_events`'s, shared by both
models and by the array evaluation of many hardware variants (`simulator.variant_evaluation`);
both models turn a layer's timing and counts into its `LayerResult` with
`simulator.layer_assembly.assemble_layer_result`.

Memory (the rule per memory is `simulator.memory_fit`'s, `weight_storage_bytes` included). The
weights of a layer occupy, per PE, whole sparse-matrix SRAM words (ceil(entries × entry bits /
word bits)) and (batches·groups·cols + 1) pointers. A network's layers are placed in network
order: a layer stays on chip if it fits in what is left of the sparse-matrix (and pointer) SRAM;
the part that does not fit is streamed from DRAM every frame. Feature maps: half of the on-chip
activation storage holds the input, half the output; the excess of either is read from / written
to DRAM. DRAM transfers overlap compute (double buffering): latency = max(compute, DRAM bytes /
bandwidth).

Codebook. A layer with b weight bits needs 2^b codebook entries. A network runs on one codebook
sized for its widest layer (`energy_table.codebook_entries_for`): the spec's entries, or 2^b
when that is larger; every lookup pays that codebook's decode (`codebook_decode` events) and a
layer whose 2^b exceeds the spec's entries is flagged (`LayerResult.codebook_fits`).
"""

from __future__ import annotations

import math

import numpy as np

from simulator.accelerator import Accelerator, load_accelerator
from simulator.area_table import area_table_rows
from simulator.cycle_model import cycle_timing
from simulator.energy_table import (
    codebook_entries_for,
    energy_table_rows,
)
from simulator.layer_assembly import assemble_layer_result
from simulator.lowering import (
    activation_stream,
    input_shape,
    layer_work,
    onchip_entries_per_pe,
    output_batches,
    scanned_activations,
)
from simulator.memory_fit import streamed_bytes, weight_storage_bytes
from simulator.results import LayerCounts, LayerResult, NetworkResult
from workloads.layer_spec import LayerSpec
from workloads.synthetic import synthetic_activations

MODELS: tuple[str, ...] = ("cycle", "analytical")
# Activation density assumed for a hidden layer's input when neither measured activations nor
# published metadata are given (the network's first layer sees a dense input).
DEFAULT_HIDDEN_ACTIVATION_DENSITY = 0.5


def _check_model(model: str) -> str:
    if model not in MODELS:
        raise ValueError(f"model={model!r} is invalid; allowed: {', '.join(MODELS)}")
    return model


def _layer_bits(layer) -> tuple[int, int]:
    return int(layer.weight_bits), int(layer.index_bits)


def simulate_layer(
    layer,
    activations: np.ndarray,
    arch: Accelerator | str,
    model: str = "cycle",
    *,
    weight_dram_bytes: float | None = None,
    codebook_entries: int | None = None,
) -> LayerResult:
    """One `CompressedLayer` with one input (`activations`, the layer's input shape).

    `weight_dram_bytes`: the part of the layer's weights streamed from DRAM every frame; by
    default whatever exceeds the accelerator's sparse-matrix + pointer SRAM on its own.
    `codebook_entries`: the codebook it runs on (default: the spec's, or 2^b if larger).
    The cycle model needs the layer encoded for the accelerator's PE count; the analytical
    model (`simulator.analytical_model`) takes the layer's real matrix for any PE count and
    only the activations' density.
    """
    arch = load_accelerator(arch)
    _check_model(model)
    spec = layer.spec
    sparse = layer.sparse
    weight_bits, index_bits = _layer_bits(layer)
    entry_bits = weight_bits + index_bits
    registers = arch.activation_registers_per_pe
    batches = output_batches(spec.matrix_shape[0], arch.n_pe, registers)
    if model == "analytical":
        from simulator.analytical_model import compressed_timing_counts

        if isinstance(activations, int | float):
            act_density = float(activations)  # the analytical model needs only the density
        else:
            x = np.asarray(activations)
            act_density = float(np.count_nonzero(x)) / x.size if x.size else 0.0
        timing, counts = compressed_timing_counts(layer, act_density, arch)
    elif sparse.n_pe != arch.n_pe:
        raise ValueError(
            f"layer {spec.name!r}: compressed for n_pe={sparse.n_pe}; allowed: the "
            f"accelerator's n_pe={arch.n_pe} (compress with n_pe={arch.n_pe})"
        )
    stored = stored_entries_per_pe(layer, arch, model)
    sparse_bytes, pointer_bytes = weight_storage_bytes(stored, spec, arch, entry_bits)
    if weight_dram_bytes is None:
        weight_dram_bytes = max(0, sparse_bytes - arch.sparse_sram_bytes) + max(
            0, pointer_bytes - arch.pointer_sram_bytes
        )
    if model != "analytical":
        work = layer_work(sparse, spec, entry_bits, arch.sparse_sram_word_bits, registers)
        stream = activation_stream(spec, activations, batches)
        timing = cycle_timing(work, stream, arch.fifo_depth, arch.pipeline_latency_cycles)
        item_counts = np.bincount(stream, minlength=work.n_types).astype(np.int64)
        counts = LayerCounts(
            broadcasts=float(stream.shape[0]),
            entries=float(timing.busy_cycles_per_pe.sum()),
            fillers=float((item_counts @ work.fillers.astype(np.int64)).sum()),
            sram_words=float((item_counts @ work.words.astype(np.int64)).sum()),
            scanned_activations=float(scanned_activations(spec) * batches),
            outputs=float(math.prod(spec.output_shape)),
        )
    return assemble_layer_result(
        spec,
        timing,
        counts,
        arch,
        model=model,
        weight_bits=weight_bits,
        sparse_bytes=sparse_bytes,
        pointer_bytes=pointer_bytes,
        weight_dram_bytes=float(weight_dram_bytes),
        codebook_entries=codebook_entries,
    )


def streamed_weight_bytes(sparse_bytes, pointer_bytes, arch: Accelerator) -> list[float]:
    """Per layer (network order), weight bytes streamed from DRAM every frame: each SRAM filled
    in order (`simulator.memory_fit.streamed_bytes`)."""
    streamed = streamed_bytes(sparse_bytes, arch.sparse_sram_bytes) + streamed_bytes(
        pointer_bytes, arch.pointer_sram_bytes
    )
    return [float(v) for v in streamed]


def stored_entries_per_pe(layer, arch: Accelerator, model: str = "cycle") -> np.ndarray:
    """Entries (fillers included) each PE stores of `layer` on `arch`, all output batches: from
    the layer's encoding for the cycle model (it must be encoded for arch.n_pe), from its
    non-zero structure for any PE count for the analytical model (the same numbers)."""
    if model == "analytical":
        from simulator.layer_statistics import compressed_layer_statistics

        weight_bits, index_bits = _layer_bits(layer)
        return compressed_layer_statistics(
            layer,
            arch.n_pe,
            arch.activation_registers_per_pe,
            weight_bits + index_bits,
            arch.sparse_sram_word_bits,
        ).stored_entries_per_pe
    return onchip_entries_per_pe(layer.sparse, arch.activation_registers_per_pe)


def place_weights(layers, arch: Accelerator, model: str = "cycle") -> list[tuple[int, int, float]]:
    """Per layer (sparse bytes, pointer bytes, bytes streamed from DRAM), placed in order."""
    sizes = []
    for layer in layers:
        weight_bits, index_bits = _layer_bits(layer)
        entries = stored_entries_per_pe(layer, arch, model)
        sizes.append(weight_storage_bytes(entries, layer.spec, arch, weight_bits + index_bits))
    sparse = [s for s, _ in sizes]
    pointers = [p for _, p in sizes]
    streamed = streamed_weight_bytes(sparse, pointers, arch) if sizes else []
    return [(s, p, d) for (s, p), d in zip(sizes, streamed)]


def default_activations(
    spec: LayerSpec, index: int, seed: int, hidden_density: float
) -> np.ndarray:
    """Synthetic input of a network's layer: published density if the spec has one, else dense
    for the first layer and `hidden_density` for the others."""
    density = default_activation_density(spec, index, hidden_density)
    return synthetic_activations(input_shape(spec), density, seed, key=f"input/{spec.name}")


def simulate_network(
    compressed_layers,
    arch: Accelerator | str,
    activations: dict | None = None,
    seed: int = 0,
    model: str = "cycle",
    *,
    hidden_activation_density: float = DEFAULT_HIDDEN_ACTIVATION_DENSITY,
    activation_densities: dict | None = None,
) -> NetworkResult:
    """One frame through all `compressed_layers` (in network order).

    `activations`: {layer name: input array}; missing layers get synthetic inputs
    (`default_activations`, seeded by `seed`), at `activation_densities[name]` when given (the
    density that flows through the network's graph, `workloads.activations`). Same inputs +
    seed → identical results.
    """
    arch = load_accelerator(arch)
    _check_model(model)
    layers = list(getattr(compressed_layers, "layers", compressed_layers))
    activations = activations or {}
    placement = place_weights(layers, arch, model)
    codebook_entries = codebook_entries_for(arch, [_layer_bits(layer)[0] for layer in layers])
    results = []
    for index, (layer, (_, _, dram_b)) in enumerate(zip(layers, placement)):
        x = activations.get(layer.spec.name)
        if x is None and activation_densities and layer.spec.name in activation_densities:
            density = activation_densities[layer.spec.name]
            x = (
                float(density)  # the analytical model needs only the density
                if model == "analytical"
                else synthetic_activations(
                    input_shape(layer.spec), density, seed, key=f"input/{layer.spec.name}"
                )
            )
        if x is None and model == "analytical":
            x = default_activation_density(layer.spec, index, hidden_activation_density)
        elif x is None:
            x = default_activations(layer.spec, index, seed, hidden_activation_density)
        results.append(
            simulate_layer(
                layer,
                x,
                arch,
                model,
                weight_dram_bytes=dram_b,
                codebook_entries=codebook_entries,
            )
        )
    total = sum(s + p for s, p, _ in placement)
    streamed = sum(d for _, _, d in placement)
    return NetworkResult(
        layers=results,
        arch_name=arch.name,
        model=model,
        model_bytes=int(total),
        model_bytes_onchip=int(total - streamed),
        energy_table=energy_table_rows(arch),
        area_table=area_table_rows(arch, codebook_entries),
    )


def default_activation_density(
    spec: LayerSpec, index: int, hidden_density: float = DEFAULT_HIDDEN_ACTIVATION_DENSITY
) -> float:
    """The density `default_activations` draws at: published, else 1 (first layer) / hidden."""
    if spec.activation_density is not None:
        return spec.activation_density
    return 1.0 if index == 0 else hidden_density


def analytical_network(
    layers: list[tuple[LayerSpec, float, float, int, int]], arch: Accelerator | str
) -> NetworkResult:
    """One frame from densities alone: `layers` holds, in network order, (spec, weight density,
    activation density, weight bits, index bits). Each layer's storage is the analytical
    model's expectation for the accelerator's PE count; the layers are placed on chip in
    network order exactly as `simulate_network` places them, the overflow streaming from DRAM
    every frame."""
    from simulator.analytical_model import analytical_layer, analytical_storage_bytes

    arch = load_accelerator(arch)
    codebook_entries = codebook_entries_for(arch, [bits for _, _, _, bits, _ in layers])
    sizes = [
        analytical_storage_bytes(spec, weight_density, weight_bits, index_bits, arch)
        for spec, weight_density, _, weight_bits, index_bits in layers
    ]
    streamed = streamed_weight_bytes([s for s, _ in sizes], [p for _, p in sizes], arch)
    results = [
        analytical_layer(
            spec,
            weight_density,
            act_density,
            weight_bits,
            index_bits,
            arch,
            weight_dram_bytes=dram_bytes,
            codebook_entries=codebook_entries,
        )
        for (spec, weight_density, act_density, weight_bits, index_bits), dram_bytes in zip(
            layers, streamed
        )
    ]
    total = sum(r.weight_bytes for r in results)
    streamed = sum(r.weight_dram_bytes for r in results)
    return NetworkResult(
        layers=results,
        arch_name=arch.name,
        model="analytical",
        model_bytes=int(total),
        model_bytes_onchip=int(total - streamed),
        energy_table=energy_table_rows(arch),
        area_table=area_table_rows(arch, codebook_entries),
    )
