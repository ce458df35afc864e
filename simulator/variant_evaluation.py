"""Evaluating one compressed network on many hardware variants at once, as arrays.

Part of `simulator` (DESIGN §8): the hot path of a large sweep. One compression setting (the
real compressed layers, their input activation densities) meets an array of V accelerator
variants (`HardwareVariants`, a struct of arrays), and every result is a numpy array [V, L]
(variants × layers) — no per-point Python objects. Work is shared along the layering of §8:

- per distinct (N, registers, SRAM word bits): the layers' statistics from their real matrices
  (`simulator.layer_statistics`, O(nnz) each, cached per layer), which give the events per
  broadcast item and the stored entries per PE;
- per distinct (N, registers, word bits, FIFO depth): the drain cycles of the analytical model
  (`simulator.analytical_model.drain_cycles`); axes that cannot change timing — clock, node,
  voltage, SRAM capacities, DRAM — reuse it;
- per distinct energy-relevant spec (`simulator.energy_table.ENERGY_FIELDS`) but the clock:
  the energy table, whose leakage entries (`CLOCK_DIVIDED_ACTIONS`, a power over the clock) are
  then divided by each variant's clock with the same floating-point operations;
- per distinct area-relevant spec and codebook size (`simulator.area_table.AREA_FIELDS`): the
  area table;
- per variant: storage, placement on chip and DRAM spill (`simulator.memory_fit`), latency and
  events (`simulator.layer_events`, the same functions the single-point path uses) and energy,
  all by broadcasting.

The numbers are those of `simulator.simulate.simulate_network(..., model="analytical")` for each
variant (a test checks it exactly, variant by variant).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.accelerator import FIELD_NAMES, OVERRIDE_FIELDS, Accelerator
from simulator.analytical_model import broadcast_items, drain_cycles
from simulator.area_table import AREA_COMPONENTS, AREA_FIELDS, area_table_rows
from simulator.energy_table import (
    ACTIONS,
    CLOCK_DIVIDED_ACTIONS,
    ENERGY_FIELDS,
    PJ,
    build_energy_table,
    codebook_decode_bits,
    leakage_powers_w,
)
from simulator.layer_events import layer_events, layer_latency
from simulator.layer_statistics import compressed_layer_statistics
from simulator.lowering import input_shape
from simulator.memory_fit import streamed_bytes


@dataclass(frozen=True, eq=False)
class HardwareVariants:
    """V accelerator variants: every `Accelerator` field as an array of length V."""

    fields: dict[str, np.ndarray]
    accelerators: tuple[Accelerator, ...]

    @classmethod
    def from_accelerators(cls, accelerators: Sequence[Accelerator]) -> HardwareVariants:
        archs = tuple(accelerators)
        fields = {
            name: np.array([getattr(a, name) for a in archs])
            for name in FIELD_NAMES
            if name not in OVERRIDE_FIELDS  # tables of overrides: read from the specs
        }
        return cls(fields, archs)

    def __len__(self) -> int:
        return len(self.accelerators)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.fields[name]


@dataclass(frozen=True, eq=False)
class VariantResults:
    """Per layer and variant ([V, L] arrays) and per variant ([V]) results."""

    layers: dict[str, np.ndarray]  # column -> [V, L]
    events: dict[str, np.ndarray]  # action -> [V, L]
    energy_j: dict[str, np.ndarray]  # action -> [V, L]
    energy_per_event_j: dict[str, np.ndarray]  # action -> [V]
    codebook_entries: np.ndarray  # [V]
    area_mm2: dict[str, np.ndarray]  # area component -> [V] (all its instances)
    area_tables: list[list[dict]]  # distinct area tables (rows)
    area_table_index: np.ndarray  # [V] -> index into area_tables


def _groups(keys: np.ndarray) -> list[tuple[tuple, np.ndarray]]:
    """(key, indices) of the distinct rows of `keys` [V, k], in first-seen order."""
    unique, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first)
    return [(tuple(unique[u]), np.flatnonzero(inverse == u)) for u in order]


#: `ENERGY_FIELDS` but the clock: variants differing only in it share a table (the leakage
#: entries, `CLOCK_DIVIDED_ACTIONS`, are divided by each variant's clock)
_TABLE_FIELDS: tuple[str, ...] = tuple(name for name in ENERGY_FIELDS if name != "clock_hz")


def _energy_key(arch: Accelerator) -> tuple:
    return tuple(getattr(arch, name) for name in _TABLE_FIELDS)


def variant_areas(
    variants: HardwareVariants, codebook_entries: np.ndarray
) -> tuple[dict[str, np.ndarray], list[list[dict]], np.ndarray]:
    """(area component -> [V] mm², distinct area tables, [V] index into them): one area table
    per distinct area-relevant spec and codebook size (`simulator.area_table`)."""
    tables: list[list[dict]] = []
    index = np.zeros(len(variants), np.int64)
    seen: dict[tuple, int] = {}
    for v, arch in enumerate(variants.accelerators):
        key = (*(getattr(arch, name) for name in AREA_FIELDS), int(codebook_entries[v]))
        if key not in seen:
            seen[key] = len(tables)
            tables.append(area_table_rows(arch, int(codebook_entries[v])))
        index[v] = seen[key]
    per_table = np.array(
        [[row["area_mm2"] for row in rows] for rows in tables], dtype=np.float64
    ).reshape(len(tables), len(AREA_COMPONENTS))
    area = {c: per_table[index, i] for i, c in enumerate(AREA_COMPONENTS)}
    return area, tables, index


def evaluate_variants(
    layers: Sequence, activation_densities: Sequence[float], variants: HardwareVariants
) -> VariantResults:
    """One frame of the network `layers` (compressed layers, network order) on every variant,
    with the layers' input activation densities (module docstring)."""
    V, L = len(variants), len(layers)
    if len(activation_densities) != L:
        raise ValueError(
            f"activation_densities has {len(activation_densities)} values; allowed: one per "
            f"layer ({L})"
        )
    n_pe = variants["n_pe"].astype(np.int64)
    registers = variants["activation_registers_per_pe"].astype(np.int64)
    word_bits = variants["sparse_sram_word_bits"].astype(np.int64)
    fifo = variants["fifo_depth"].astype(np.int64)
    entry_bits = np.array([int(x.weight_bits) + int(x.index_bits) for x in layers])
    shape = (V, L)
    drain = np.zeros(shape)
    items = np.zeros(shape)
    entries = np.zeros(shape)
    fillers = np.zeros(shape)
    words = np.zeros(shape)
    scanned = np.zeros(shape)
    ideal = np.zeros(shape)
    stall = np.zeros(shape)
    stored_words = np.zeros(shape)  # sparse-matrix SRAM words, all PEs
    pointers_per_pe = np.zeros(shape)
    for (n, r, w), where in _groups(np.c_[n_pe, registers, word_bits]):
        for j, layer in enumerate(layers):
            stats = compressed_layer_statistics(layer, int(n), int(r), int(entry_bits[j]), int(w))
            k = broadcast_items(stats, float(activation_densities[j]))
            items[where, j] = k
            entries[where, j] = k * stats.entries_per_item
            fillers[where, j] = k * stats.fillers_per_item
            words[where, j] = k * stats.words_per_item
            scanned[where, j] = stats.scanned_activations * stats.batches
            ideal[where, j] = k * stats.entries_per_item / n
            stored_words[where, j] = float(
                np.ceil(stats.stored_entries_per_pe * entry_bits[j] / w).sum()
            )
            spec = layer.spec
            groups = spec.groups if spec.kind == "conv" else 1
            pointers_per_pe[where, j] = stats.batches * groups * spec.matrix_shape[1] + 1
            mean_cost = sum(s.items_fraction * s.mean_cost for s in stats.segments)
            for depth in np.unique(fifo[where]):
                sub = where[fifo[where] == depth]
                cycles = drain_cycles(stats, k, int(depth))
                drain[sub, j] = cycles
                tail = min(float(depth), k) * mean_cost
                stall[sub, j] = max(0.0, cycles - 1.0 - k - tail) if k > 0 else 0.0
    total_cycles = drain + variants["pipeline_stages"][:, None]
    # storage and placement (simulator.memory_fit)
    sparse_bytes = stored_words * word_bits[:, None] // 8
    pointer_bytes = np.ceil(pointers_per_pe * (n_pe * variants["pointer_bits"])[:, None] / 8)
    sparse_capacity = n_pe * variants["sparse_sram_bytes_per_pe"]
    pointer_capacity = n_pe * variants["pointer_sram_bytes_per_pe"]
    weight_dram = streamed_bytes(sparse_bytes, sparse_capacity) + streamed_bytes(
        pointer_bytes, pointer_capacity
    )
    value_bytes = variants["activation_bits"] / 8
    in_values = np.array([math.prod(input_shape(x.spec)) for x in layers], dtype=np.float64)
    out_values = np.array([math.prod(x.spec.output_shape) for x in layers], dtype=np.float64)
    storage = n_pe * (
        2 * variants["activation_registers_per_pe"] * variants["activation_bits"] // 8
        + variants["activation_sram_bytes_per_pe"]
    )
    half = (storage / 2)[:, None]
    activation_dram = np.maximum(0.0, in_values * value_bytes[:, None] - half) + np.maximum(
        0.0, out_values * value_bytes[:, None] - half
    )
    dram_bytes = weight_dram + activation_dram
    clock = variants["clock_hz"][:, None]
    compute_s, dram_s, latency_s = layer_latency(
        total_cycles, clock, dram_bytes, variants["dram_bandwidth_bytes_per_s"][:, None]
    )
    # codebook: sized for the widest layer, per variant
    widest = max(int(x.weight_bits) for x in layers) if layers else 0
    codebook = np.maximum(variants["codebook_entries"], 2**widest)
    decode = np.array([codebook_decode_bits(int(c)) for c in codebook], dtype=np.float64)
    events = layer_events(
        lambda name: variants[name][:, None],
        sram_words=words,
        broadcasts=items,
        entries=entries,
        scanned_activations=scanned,
        input_values=np.broadcast_to(in_values, shape),
        outputs=np.broadcast_to(out_values, shape),
        decode_bits=decode[:, None],
        codebook_entries=codebook[:, None],
        compute_cycles=total_cycles,
        latency_s=latency_s,
        dram_bytes=dram_bytes,
    )
    # energy tables per distinct energy-relevant spec with the clock left out: only the leakage
    # entries depend on it (a power divided by the clock), divided here per variant
    tables: list[list[float]] = []  # per table: energy per event (J) of each action
    powers: list[list[float]] = []  # per table: power (W) of each CLOCK_DIVIDED_ACTIONS, or NaN
    table_index = np.zeros(V, np.int64)
    seen: dict[tuple, int] = {}
    for v, arch in enumerate(variants.accelerators):
        key = _energy_key(arch)
        if key not in seen:
            seen[key] = len(tables)
            rows = [entry.as_row() for entry in build_energy_table(arch).values()]
            tables.append([row["energy_pj"] * 1e-12 for row in rows])
            power = leakage_powers_w(arch)  # an overridden action is left out: NaN
            powers.append([power.get(a, math.nan) for a in CLOCK_DIVIDED_ACTIONS])
        table_index[v] = seen[key]
    table_energy = np.array(tables, dtype=np.float64).reshape(len(tables), len(ACTIONS))
    per_event = {action: table_energy[table_index, a] for a, action in enumerate(ACTIONS)}
    power_w = np.array(powers, dtype=np.float64).reshape(len(powers), -1)[table_index]
    for a, action in enumerate(CLOCK_DIVIDED_ACTIONS):  # an [energy] override stays fixed (NaN)
        divided = power_w[:, a] / variants["clock_hz"] / PJ * 1e-12
        per_event[action] = np.where(np.isnan(power_w[:, a]), per_event[action], divided)
    energy = {action: events[action] * per_event[action][:, None] for action in ACTIONS}
    useful = entries - fillers
    with np.errstate(divide="ignore", invalid="ignore"):
        load_balance = np.where(total_cycles > 0, ideal / total_cycles, 1.0)
        utilization = np.where(total_cycles > 0, useful / (n_pe[:, None] * total_cycles), 0.0)
    layers_out = {
        "cycles": total_cycles,
        "ideal_cycles": ideal,
        "stall_cycles": stall,
        "load_balance": load_balance,
        "utilization": utilization,
        "fillers": fillers,
        "broadcasts": items,
        "entries": entries,
        "scanned_activations": scanned,
        "compute_s": compute_s,
        "dram_s": dram_s,
        "latency_s": latency_s,
        "sparse_bytes": sparse_bytes,
        "pointer_bytes": pointer_bytes,
        "weight_dram_bytes": weight_dram,
        "activation_dram_bytes": activation_dram,
    }
    area, area_tables, area_index = variant_areas(variants, codebook)
    return VariantResults(
        layers=layers_out,
        events=events,
        energy_j=energy,
        energy_per_event_j=per_event,
        codebook_entries=codebook,
        area_mm2=area,
        area_tables=area_tables,
        area_table_index=area_index,
    )


def variants_from(base: Accelerator, **axes) -> HardwareVariants:
    """The product of `axes` (Accelerator field -> values) over `base`, as variants."""
    names = list(axes)
    grids = np.meshgrid(*[np.asarray(axes[n]) for n in names], indexing="ij")
    archs = []
    for values in zip(*(g.reshape(-1) for g in grids)):
        changes = {n: (v.item() if hasattr(v, "item") else v) for n, v in zip(names, values)}
        archs.append(dataclasses.replace(base, **changes))
    return HardwareVariants.from_accelerators(archs)


def results_of_network(sim, arch: Accelerator) -> tuple[HardwareVariants, VariantResults]:
    """One `NetworkResult` (either model) as the arrays of a single variant, so that one table
    builder serves both the array path and the per-point cycle model."""
    variants = HardwareVariants.from_accelerators([arch])
    layers = sim.layers

    def column(get) -> np.ndarray:
        return np.array([[float(get(r)) for r in layers]], dtype=np.float64).reshape(1, -1)

    per_layer = {
        "cycles": column(lambda r: r.total_cycles),
        "ideal_cycles": column(lambda r: r.ideal_cycles),
        "stall_cycles": column(lambda r: r.stall_cycles),
        "load_balance": column(lambda r: r.load_balance),
        "utilization": column(lambda r: r.utilization),
        "fillers": column(lambda r: r.counts.fillers),
        "broadcasts": column(lambda r: r.counts.broadcasts),
        "entries": column(lambda r: r.counts.entries),
        "scanned_activations": column(lambda r: r.counts.scanned_activations),
        "compute_s": column(lambda r: r.compute_s),
        "dram_s": column(lambda r: r.dram_s),
        "latency_s": column(lambda r: r.latency_s),
        "sparse_bytes": column(lambda r: r.sparse_bytes),
        "pointer_bytes": column(lambda r: r.pointer_bytes),
        "weight_dram_bytes": column(lambda r: r.weight_dram_bytes),
        "activation_dram_bytes": column(lambda r: r.activation_dram_bytes),
    }
    rows = sim.energy_table
    per_event = {row["action"]: np.array([row["energy_pj"] * 1e-12]) for row in rows}
    events = {a: column(lambda r, a=a: r.events[a]) for a in ACTIONS}
    energy = {a: events[a] * per_event[a][:, None] for a in ACTIONS}
    codebook = np.array([layers[0].codebook_entries if layers else arch.codebook_entries])
    area_rows = sim.area_table or area_table_rows(arch, int(codebook[0]))
    return variants, VariantResults(
        layers=per_layer,
        events=events,
        energy_j=energy,
        energy_per_event_j=per_event,
        codebook_entries=codebook,
        area_mm2={row["component"]: np.array([row["area_mm2"]]) for row in area_rows},
        area_tables=[area_rows],
        area_table_index=np.zeros(1, np.int64),
    )
