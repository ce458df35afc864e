"""simulator: how it runs — accelerator spec, energy tables, Numba cycle model, analytical model.

Third stage of the dcsim flow (DESIGN §1, §4): compressed layers + an accelerator + activations
→ cycles, latency, energy by component, on-chip / DRAM footprint. Imports only `compression`
and `workloads`.
"""

from simulator.accelerator import Accelerator, load_accelerator, preset_names
from simulator.analytical_model import analytical_layer
from simulator.energy_table import build_energy_table, energy_table_rows
from simulator.pruned_layer import PrunedLayer, pruned_layer
from simulator.results import LayerCounts, LayerResult, NetworkResult
from simulator.simulate import MODELS, simulate_layer, simulate_network

__all__ = [
    "MODELS",
    "Accelerator",
    "LayerCounts",
    "LayerResult",
    "NetworkResult",
    "PrunedLayer",
    "analytical_layer",
    "build_energy_table",
    "energy_table_rows",
    "load_accelerator",
    "preset_names",
    "pruned_layer",
    "simulate_layer",
    "simulate_network",
]
