"""On-chip fit: what each on-chip memory must hold, what it can hold, what overflows and binds.

Part of `simulator` (DESIGN §4): `simulator.simulate` places a network's weights and feature
maps with these rules, and the sweep (`dcsim.point_evaluation`) reports them as columns. Every
rule is plain arithmetic on per-layer arrays (numpy), so a vectorized model over many design
points computes the same columns by broadcasting.

The rule, per memory (capacities of the whole array: per-PE capacity × N):

- **sparse-matrix SRAM** — need of a layer: its stored entries (fillers included, every output
  batch) packed in whole SRAM words, summed over the PEs (`weight_storage_bytes`).
  All layers stay resident, so a network needs the *sum* over its layers.
- **pointer SRAM** — need of a layer: (batches · groups · columns + 1) column pointers per PE
  × pointer bits × N. A network needs the *sum* over its layers.
- **activation storage** (2 × registers + activation SRAM, per PE) — half holds a layer's input,
  half its output, so a layer needs 2 × max(input bytes, output bytes) (feature maps at
  `activation_bits`). Layers run one after another and reuse it: a network needs the *max*
  over its layers.

A memory *overflows* when need > capacity. A point *fits on chip* (`fits_onchip`) when no
memory overflows. The *binding* memory is the one with the largest need / capacity: the one
that overflows first as the model grows (or by most, once it does). What does not fit is
streamed from DRAM every frame, and latency and energy include it: weights are placed in
network order, each layer keeping on chip what is left of each SRAM
(streamed_i = min(need_i, max(0, cumsum_i − capacity))); a feature map larger than its half of
the activation storage moves its excess to and from DRAM. The codebook is not one of these
memories: a point whose weight bits need more codebook entries than the spec has is simulated
with the codebook enlarged (`simulator.energy_table`) and flagged `codebook_fits = False`.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.accelerator import Accelerator
from simulator.lowering import input_shape, output_batches
from workloads.layer_spec import LayerSpec

#: The on-chip memories of the fit rule, in report order, with their labels.
MEMORIES: tuple[str, ...] = ("sparse_sram", "pointer_sram", "activation")
MEMORY_LABELS: dict[str, str] = {
    "sparse_sram": "sparse-matrix SRAM",
    "pointer_sram": "pointer SRAM",
    "activation": "activation storage",
}


def memory_capacities(arch: Accelerator) -> dict[str, int]:
    """Bytes each on-chip memory holds, all PEs together."""
    return {
        "sparse_sram": arch.sparse_sram_bytes,
        "pointer_sram": arch.pointer_sram_bytes,
        "activation": arch.activation_storage_bytes,
    }


def feature_map_bytes(spec: LayerSpec, arch: Accelerator) -> tuple[float, float]:
    """(input bytes, output bytes) of one inference of `spec` at the spec's activation bits."""
    value_bytes = arch.activation_bits / 8
    return (
        math.prod(input_shape(spec)) * value_bytes,
        math.prod(spec.output_shape) * value_bytes,
    )


def activation_need_bytes(spec: LayerSpec, arch: Accelerator) -> float:
    """Activation storage `spec` needs: 2 × its larger feature map (half in, half out)."""
    return 2.0 * max(feature_map_bytes(spec, arch))


def activation_spill_bytes(spec: LayerSpec, arch: Accelerator) -> float:
    """DRAM bytes of feature-map spill for one inference: the excess of the input over its half
    of the activation storage (read from DRAM) plus that of the output (written to DRAM)."""
    half = arch.activation_storage_bytes / 2
    in_bytes, out_bytes = feature_map_bytes(spec, arch)
    return max(0.0, in_bytes - half) + max(0.0, out_bytes - half)


def weight_storage_bytes(
    entries_per_pe: np.ndarray, spec: LayerSpec, arch: Accelerator, entry_bits: int
):
    """(sparse-matrix bytes, pointer bytes) of a layer in the accelerator's on-chip format,
    with `entry_bits` = the layer's weight bits + relative-index bits per stored entry and
    `entries_per_pe` counted in that format (`simulator.lowering.onchip_entries_per_pe`)."""
    words = np.ceil(
        np.asarray(entries_per_pe, dtype=np.float64) * entry_bits / (arch.sparse_sram_word_bits)
    )
    sparse_bytes = int(words.sum()) * arch.sparse_sram_word_bits // 8
    groups = spec.groups if spec.kind == "conv" else 1
    batches = output_batches(spec.matrix_shape[0], arch.n_pe, arch.activation_registers_per_pe)
    pointers = batches * groups * spec.matrix_shape[1] + 1
    pointer_bytes = arch.n_pe * pointers * arch.pointer_bits // 8
    return sparse_bytes, int(math.ceil(pointer_bytes))


def streamed_bytes(need_bytes, capacity_bytes):
    """Per layer (network order), the bytes of a resident memory streamed from DRAM every
    frame: min(need_i, max(0, cumsum_i − capacity)). Works on the last axis of arrays, so many
    points (rows) are placed at once."""
    need = np.asarray(need_bytes, dtype=np.float64)
    excess = np.cumsum(need, axis=-1) - np.asarray(capacity_bytes, dtype=np.float64)[..., None]
    return np.minimum(need, np.maximum(0.0, excess))


def memory_fit_columns(
    sparse_need_bytes, pointer_need_bytes, activation_need, capacities: dict[str, float]
) -> tuple[dict[str, list], dict[str, object]]:
    """The fit columns of one point: (per-layer columns, total-row columns).

    Per layer: `<memory>_need_bytes` (the layer's own need), `<memory>_capacity_bytes`,
    `overflow` (the memories this layer spills from, "; "-joined labels, "" when none) and
    `fits_onchip`. Total: needs (sum, sum, max), capacities, `overflow` (the memories whose need
    exceeds their capacity), `binding_memory` (largest need / capacity), `binding_utilization`
    (that ratio) and `fits_onchip` (nothing overflows). Inputs are per-layer arrays in network
    order; the arithmetic is the module docstring's."""
    needs = {
        "sparse_sram": np.asarray(sparse_need_bytes, dtype=np.float64),
        "pointer_sram": np.asarray(pointer_need_bytes, dtype=np.float64),
        "activation": np.asarray(activation_need, dtype=np.float64),
    }
    caps = {m: float(capacities[m]) for m in MEMORIES}
    layer_spills = {
        "sparse_sram": streamed_bytes(needs["sparse_sram"], caps["sparse_sram"]) > 0,
        "pointer_sram": streamed_bytes(needs["pointer_sram"], caps["pointer_sram"]) > 0,
        "activation": needs["activation"] > caps["activation"],
    }
    n_layers = len(needs["sparse_sram"])
    layer: dict[str, list] = {}
    for m in MEMORIES:
        layer[f"{m}_need_bytes"] = needs[m].tolist()
        layer[f"{m}_capacity_bytes"] = [caps[m]] * n_layers
    layer["overflow"] = [
        "; ".join(MEMORY_LABELS[m] for m in MEMORIES if layer_spills[m][i]) for i in range(n_layers)
    ]
    layer["fits_onchip"] = [not any(layer_spills[m][i] for m in MEMORIES) for i in range(n_layers)]

    point_need = {
        "sparse_sram": float(needs["sparse_sram"].sum()),
        "pointer_sram": float(needs["pointer_sram"].sum()),
        "activation": float(needs["activation"].max()) if n_layers else 0.0,
    }
    ratio = {m: point_need[m] / caps[m] if caps[m] > 0 else math.inf for m in MEMORIES}
    binding = max(MEMORIES, key=lambda m: ratio[m])  # first in MEMORIES order on ties
    total: dict[str, object] = {}
    for m in MEMORIES:
        total[f"{m}_need_bytes"] = point_need[m]
        total[f"{m}_capacity_bytes"] = caps[m]
    total["overflow"] = "; ".join(MEMORY_LABELS[m] for m in MEMORIES if point_need[m] > caps[m])
    total["binding_memory"] = MEMORY_LABELS[binding]
    total["binding_utilization"] = ratio[binding]
    total["fits_onchip"] = not total["overflow"]
    return layer, total


def _joined_labels(flags: dict[str, np.ndarray]) -> np.ndarray:
    """Per element, the "; "-joined labels of the memories whose flag is set ("" if none)."""
    shape = next(iter(flags.values())).shape
    out = np.full(shape, "", dtype=object)
    for m in MEMORIES:
        label = MEMORY_LABELS[m]
        flag = flags[m]
        out = np.where(flag & (out != ""), out + "; " + label, np.where(flag, label, out))
    return out


def memory_fit_arrays(
    sparse_need_bytes, pointer_need_bytes, activation_need, capacities: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """`memory_fit_columns` for V points at once: needs are [V, L] arrays (network order),
    capacities [V] arrays; returns (per-layer columns [V, L], total columns [V]) with the
    same names and values."""
    needs = {
        "sparse_sram": np.asarray(sparse_need_bytes, dtype=np.float64),
        "pointer_sram": np.asarray(pointer_need_bytes, dtype=np.float64),
        "activation": np.asarray(activation_need, dtype=np.float64),
    }
    caps = {m: np.asarray(capacities[m], dtype=np.float64) for m in MEMORIES}
    spills = {
        "sparse_sram": streamed_bytes(needs["sparse_sram"], caps["sparse_sram"]) > 0,
        "pointer_sram": streamed_bytes(needs["pointer_sram"], caps["pointer_sram"]) > 0,
        "activation": needs["activation"] > caps["activation"][:, None],
    }
    layer: dict[str, np.ndarray] = {}
    for m in MEMORIES:
        layer[f"{m}_need_bytes"] = needs[m]
        layer[f"{m}_capacity_bytes"] = np.broadcast_to(caps[m][:, None], needs[m].shape)
    layer["overflow"] = _joined_labels(spills)
    layer["fits_onchip"] = ~(spills["sparse_sram"] | spills["pointer_sram"] | spills["activation"])
    point_need = {
        "sparse_sram": needs["sparse_sram"].sum(axis=1),
        "pointer_sram": needs["pointer_sram"].sum(axis=1),
        "activation": needs["activation"].max(axis=1)
        if needs["activation"].shape[1]
        else np.zeros(needs["activation"].shape[0]),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.stack(
            [np.where(caps[m] > 0, point_need[m] / caps[m], np.inf) for m in MEMORIES], axis=1
        )
    binding = np.argmax(ratio, axis=1)  # first in MEMORIES order on ties
    labels = np.array([MEMORY_LABELS[m] for m in MEMORIES], dtype=object)
    total: dict[str, np.ndarray] = {}
    for m in MEMORIES:
        total[f"{m}_need_bytes"] = point_need[m]
        total[f"{m}_capacity_bytes"] = caps[m]
    total["overflow"] = _joined_labels({m: point_need[m] > caps[m] for m in MEMORIES})
    total["binding_memory"] = labels[binding]
    total["binding_utilization"] = ratio[np.arange(ratio.shape[0]), binding]
    total["fits_onchip"] = total["overflow"] == ""
    return layer, total
