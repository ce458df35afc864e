"""Result types of the simulator: per-layer counts and results, per-network totals.

Part of `simulator` (DESIGN §1): what `simulator.simulate` (cycle model) and
`simulator.analytical_model` hand to the sweep and the reports. Units are SI and carried in
the names (seconds, joules, bytes); `row()` gives the flat, presentation-ready view the CLI and
the sweep's tidy table use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.energy_table import COMPONENTS


@dataclass(frozen=True)
class LayerCounts:
    """Model-independent event counts of one layer for one inference (expected values for the
    analytical model, so they may be fractional)."""

    broadcasts: float  # non-zero activations broadcast to all PEs
    entries: float  # stored entries walked (fillers included): codebook lookups and MACs
    fillers: float  # of which fillers
    sram_words: float  # sparse-matrix SRAM words read
    scanned_activations: float  # activation values the LNZD tests (and reads from SRAM)
    outputs: float  # output activations written


@dataclass(frozen=True)
class LayerResult:
    """One layer on one accelerator (DESIGN §4)."""

    layer: str
    kind: str
    model: str  # "cycle" or "analytical"
    n_pe: int
    total_cycles: float
    ideal_cycles: float
    stall_cycles: float
    load_balance: float  # 1 − bubbles / total
    utilization: float  # useful (non-filler) MACs / (N × total cycles)
    counts: LayerCounts
    busy_cycles_per_pe: np.ndarray = field(repr=False)
    events: dict = field(repr=False)  # action -> count (see simulator.energy_table.ACTIONS)
    energy_by_component_j: dict = field(repr=False)
    compute_s: float = 0.0
    dram_s: float = 0.0  # time to move this layer's DRAM traffic at the spec bandwidth
    latency_s: float = 0.0  # max(compute_s, dram_s): transfers overlap compute
    weight_bytes: int = 0  # on-chip format: sparse-matrix words + pointers
    sparse_bytes: int = 0  # of which sparse-matrix SRAM words (all PEs)
    pointer_bytes: int = 0  # of which column pointers (all PEs)
    weight_dram_bytes: float = 0.0  # part of weight_bytes streamed from DRAM every frame
    activation_dram_bytes: float = 0.0  # feature-map spill (input read + output write)
    codebook_entries: int = 0  # entries of the codebook it ran on (≥ the spec's; 2^b if larger)
    codebook_fits: bool = True  # 2**weight_bits <= the spec's codebook entries
    dense_macs: int = 0  # MACs of the dense layer (dense-equivalent work)

    @property
    def energy_j(self) -> float:
        return float(sum(self.energy_by_component_j.values()))

    @property
    def fillers(self) -> float:
        return self.counts.fillers

    def row(self) -> dict:
        """Presentation row: cycles, µs, µJ (the `dcsim simulate` columns)."""
        out = {
            "layer": self.layer,
            "cycles": self.total_cycles,
            "ideal_cycles": self.ideal_cycles,
            "load_balance": self.load_balance,
            "latency_us": self.latency_s * 1e6,
            "energy_uj": self.energy_j * 1e6,
        }
        for component in COMPONENTS:
            out[f"energy_{component}_uj"] = self.energy_by_component_j[component] * 1e6
        return out


@dataclass(frozen=True)
class NetworkResult:
    """A whole network (one frame) on one accelerator."""

    layers: list[LayerResult]
    arch_name: str
    model: str
    model_bytes: int  # on-chip format (sparse-matrix words + pointers) of all layers
    model_bytes_onchip: int
    energy_table: list[dict] = field(repr=False, default_factory=list)
    area_table: list[dict] = field(repr=False, default_factory=list)  # simulator.area_table

    @property
    def area_mm2(self) -> float:
        """Silicon area of the accelerator: Σ of its area table (NaN without one)."""
        if not self.area_table:
            return float("nan")
        return float(sum(row["area_mm2"] for row in self.area_table))

    @property
    def dense_ops(self) -> float:
        """Dense-equivalent operations of one frame: 2 × the layers' dense MACs."""
        return float(sum(2 * layer.dense_macs for layer in self.layers))

    @property
    def model_bytes_dram(self) -> int:
        return self.model_bytes - self.model_bytes_onchip

    @property
    def fits_onchip(self) -> bool:
        """No on-chip memory overflows (`simulator.memory_fit`): no weight byte streams from
        DRAM and no feature map spills."""
        return self.model_bytes_dram == 0 and not any(
            layer.activation_dram_bytes > 0 for layer in self.layers
        )

    @property
    def latency_s(self) -> float:
        return float(sum(layer.latency_s for layer in self.layers))

    @property
    def energy_j(self) -> float:
        return float(sum(layer.energy_j for layer in self.layers))

    @property
    def fps(self) -> float:
        return 1.0 / self.latency_s if self.latency_s > 0 else float("inf")

    @property
    def total_cycles(self) -> float:
        return float(sum(layer.total_cycles for layer in self.layers))

    @property
    def energy_by_component_j(self) -> dict:
        return {c: sum(r.energy_by_component_j[c] for r in self.layers) for c in COMPONENTS}

    def total_row(self) -> dict:
        ideal = sum(layer.ideal_cycles for layer in self.layers)
        busy = sum(layer.load_balance * layer.total_cycles for layer in self.layers)
        row = {
            "layer": "total",
            "cycles": self.total_cycles,
            "ideal_cycles": ideal,
            "load_balance": busy / self.total_cycles if self.total_cycles else 1.0,
            "latency_us": self.latency_s * 1e6,
            "energy_uj": self.energy_j * 1e6,
        }
        for component, joules in self.energy_by_component_j.items():
            row[f"energy_{component}_uj"] = joules * 1e6
        row["fps"] = self.fps
        seconds = self.latency_s
        row["power_mw"] = self.energy_j / seconds * 1e3 if seconds > 0 else float("nan")
        row["area_mm2"] = self.area_mm2
        row["fps_per_mm2"] = self.fps / self.area_mm2 if self.area_mm2 > 0 else float("nan")
        row["frames_per_j"] = 1.0 / self.energy_j if self.energy_j > 0 else float("inf")
        row["tops_per_w_dense"] = (
            self.dense_ops / self.energy_j / 1e12 if self.energy_j > 0 else float("nan")
        )
        return row

    def rows(self) -> list[dict]:
        rows = [layer.row() for layer in self.layers]
        total = self.total_row()
        for row in rows:
            for name in total:
                row.setdefault(name, float("nan"))
        return [*rows, total]
