"""The catalogue data of the result table's columns: unit, meaning, kind, format, label.

Place in the flow: part of ``reports`` (see :mod:`reports.columns`, which describes any
column — static or dynamic — and builds headers from this data). Imports nothing else but the
data of two column groups kept in their own modules: :mod:`reports.memory_columns` (storage,
DRAM traffic, on-chip fit, codebook) and :mod:`reports.area_columns` (area and efficiency).
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.area_columns import AREA_COLUMNS
from reports.memory_columns import MEMORY_COLUMNS

#: Units that say "no physical unit": the header shows no parentheses for them.
NO_UNIT = ("text", "true/false", "JSON", "identifier")


@dataclass(frozen=True)
class ColumnInfo:
    """One column of the result table."""

    name: str
    unit: str  # never empty: a unit, or one of NO_UNIT
    meaning: str
    kind: str  # "text" | "int" | "float" | "fraction" | "bool" | "json"
    number_format: str  # Excel number format for the spreadsheets
    label: str = ""  # words for the header (default: the name without its unit suffix)


FORMAT_INT = "#,##0"
FORMAT_FLOAT3 = "#,##0.000"
FORMAT_FLOAT6 = "0.000000"
FORMAT_PERCENT = "0.0%"


def _c(
    name: str,
    unit: str,
    meaning: str,
    kind: str,
    number_format: str = "General",
    label: str = "",
) -> ColumnInfo:
    return ColumnInfo(name, unit, meaning, kind, number_format, label)


def _text(name: str, meaning: str, label: str = "") -> ColumnInfo:
    return ColumnInfo(name, "text", meaning, "text", "@", label)


def _flag(name: str, meaning: str, label: str = "") -> ColumnInfo:
    return ColumnInfo(name, "true/false", meaning, "bool", "General", label)


_CATALOGUE: list[ColumnInfo] = [
    # identity
    _c(
        "point_id",
        "identifier",
        "Stable identifier of the design point (same on all its rows).",
        "text",
        "@",
        "point id",
    ),
    _text(
        "row_type", '"layer" for a per-layer row, "total" for the per-point total row.', "row type"
    ),
    _text("layer", 'Layer name; "total" on total rows.'),
    _text("layer_kind", 'Layer kind: conv, fc or lstm; "" on total rows.', "layer kind"),
    # point settings
    _text(
        "network",
        "Network entry of the point: its label in the config (e.g. alexnet-digits, alexnet-caffe).",
    ),
    _text(
        "network_name",
        "The dcsim network the entry runs (e.g. alexnet, alexnet-caffe).",
        "network name",
    ),
    _text(
        "network_source",
        "Where the network came from: built-in:NAME, python:FILE.py:FACTORY (a torch module "
        "traced by torch.fx) or onnx:FILE.onnx.",
        "network source",
    ),
    _text(
        "weight_source",
        'Where the weights come from: "digits" (trained here), "synthetic" '
        "(seeded) or the path of a user's state_dict.",
        "weight source",
    ),
    _text(
        "accelerator",
        "Accelerator preset or file, with the point's hardware overrides "
        "(e.g. eie, edge-16 (n_pe=32)).",
    ),
    _text(
        "accelerator_preset",
        "Name of the accelerator spec before overrides (eie, edge-16 or the TOML file's name).",
        "accelerator preset",
    ),
    _c("n_pe", "PEs", "Number of processing elements.", "int", FORMAT_INT, "PEs"),
    _c("clock_mhz", "MHz", "Accelerator clock frequency.", "float", "#,##0.0", "clock"),
    _c(
        "sram_per_pe_kb",
        "KiB",
        "Sparse-matrix SRAM capacity per PE (1 KiB = 1024 bytes).",
        "float",
        "#,##0.0",
        "sparse-matrix SRAM per PE",
    ),
    _c(
        "pointer_sram_per_pe_kb",
        "KiB",
        "Pointer SRAM capacity per PE, both banks (1 KiB = 1024 bytes).",
        "float",
        "#,##0.0",
        "pointer SRAM per PE",
    ),
    _c(
        "activation_sram_per_pe_kb",
        "KiB",
        "Activation SRAM per PE, besides the source/destination registers (1 KiB = 1024 bytes).",
        "float",
        "#,##0.0",
        "activation SRAM per PE",
    ),
    _c(
        "registers_per_pe",
        "registers",
        "Destination (accumulator) registers per PE; a layer with more rows per PE runs in "
        "output batches.",
        "int",
        FORMAT_INT,
        "registers per PE",
    ),
    _c("fifo_depth", "entries", "Activation FIFO depth per PE.", "int", FORMAT_INT, "FIFO depth"),
    _c(
        "node_nm",
        "nm",
        "Technology node the energies are scaled to.",
        "float",
        "0",
        "technology node",
    ),
    _text(
        "density_profile",
        "Per-layer weight-density profile (a recipe name or file, e.g. paper, digits).",
        "density profile",
    ),
    _c(
        "density_scale",
        "×",
        "Multiplier applied to the profile's weight densities (the sparsity axis).",
        "float",
        "0.00",
        "density scale",
    ),
    _c(
        "conv_bits",
        "bits",
        "Weight-sharing index width of conv layers (a codebook of 2^b entries).",
        "int",
        "0",
        "conv weight bits",
    ),
    _c(
        "fc_bits",
        "bits",
        "Weight-sharing index width of fc/lstm layers (a codebook of 2^b entries).",
        "int",
        "0",
        "fc weight bits",
    ),
    _c(
        "index_bits",
        "bits",
        "Relative-index (gap) width of the sparse format.",
        "int",
        "0",
        "relative-index bits",
    ),
    _text(
        "centroid_init",
        "k-means centroid initialisation: linear, density or random.",
        "centroid init",
    ),
    _text("sim_model", 'Simulator model: "cycle" or "analytical".', "simulator model"),
    _c(
        "seed",
        "identifier",
        "Random seed of the point (synthetic weights and activations).",
        "int",
        "0",
    ),
    _c(
        "target_fps",
        "frames/s",
        "Target frame rate the point is judged against.",
        "float",
        "0.0",
        "target frame rate",
    ),
    _c(
        "config_json",
        "JSON",
        "The point's full configuration as a JSON string.",
        "json",
        "General",
        "config",
    ),
    # work and timing
    _c("weights", "weights", "Number of weights (dense count).", "int", FORMAT_INT),
    _c(
        "weight_density",
        "fraction",
        "Fraction of weights kept after pruning (total row: weighted by the layers' weights).",
        "fraction",
        FORMAT_PERCENT,
        "weight density",
    ),
    _c(
        "weight_bits",
        "bits",
        "Weight-sharing index width of the layer (NaN on total rows).",
        "int",
        "0",
        "weight bits",
    ),
    _c(
        "activation_density",
        "fraction",
        "Fraction of the scanned input activations that are "
        "non-zero and broadcast (NaN on total rows).",
        "fraction",
        FORMAT_PERCENT,
        "activation density",
    ),
    _c(
        "cycles",
        "cycles",
        "Simulated clock cycles of compute (pipeline drain included).",
        "int",
        FORMAT_INT,
    ),
    _c(
        "ideal_cycles",
        "cycles",
        "Cycles with perfect load balance: entries walked / PEs.",
        "int",
        FORMAT_INT,
        "ideal cycles",
    ),
    _c(
        "stall_cycles",
        "cycles",
        "Cycles the activation broadcast waited for a full FIFO.",
        "int",
        FORMAT_INT,
        "stall cycles",
    ),
    _c(
        "load_balance",
        "fraction",
        "Load-balance efficiency: 1 − bubbles / total cycles (0..1; total row: cycle-weighted).",
        "fraction",
        FORMAT_PERCENT,
        "load balance",
    ),
    _c(
        "utilization",
        "fraction",
        "Useful (non-filler) MACs / (PEs × cycles) (NaN on total rows).",
        "fraction",
        FORMAT_PERCENT,
    ),
    _c(
        "fillers",
        "entries",
        "Filler entries walked (zero entries inserted where a gap exceeds 2^index_bits − 1).",
        "int",
        FORMAT_INT,
    ),
    _c(
        "latency_ms",
        "ms",
        "Latency: max(compute_ms, dram_ms) per layer (DRAM transfers "
        "overlap compute); total: the sum over layers.",
        "float",
        FORMAT_FLOAT3,
        "latency",
    ),
    _c("compute_ms", "ms", "Compute time: cycles / clock.", "float", FORMAT_FLOAT3, "compute time"),
    _c(
        "dram_ms",
        "ms",
        "Time to move the layer's DRAM traffic (weight_dram_bytes + "
        "activation_dram_bytes) at the spec's DRAM bandwidth.",
        "float",
        FORMAT_FLOAT3,
        "DRAM time",
    ),
    _c(
        "fps",
        "frames/s",
        "Frame rate: 1000 / total latency_ms (total rows only).",
        "float",
        "#,##0.0",
        "frame rate",
    ),
    _flag("meets_target", "True when fps ≥ target_fps (total rows only).", "meets target"),
    # energy
    _c(
        "energy_mj",
        "mJ",
        "Energy per inference: the sum of the energy_<action>_mj columns.",
        "float",
        FORMAT_FLOAT6,
        "energy",
    ),
    # storage, DRAM traffic, on-chip fit and codebook (reports.memory_columns)
    *(ColumnInfo(*entry) for entry in MEMORY_COLUMNS),
    # accuracy and status (totals only)
    _c(
        "top1",
        "fraction",
        "Top-1 accuracy on the network's own test set (NaN when not "
        "measured); comparable only within one network.",
        "fraction",
        FORMAT_PERCENT,
        "top-1 accuracy",
    ),
    _c(
        "top5",
        "fraction",
        "Top-5 accuracy (NaN when not measured).",
        "fraction",
        FORMAT_PERCENT,
        "top-5 accuracy",
    ),
    _c(
        "retrieval_map",
        "fraction",
        "Mean average precision of feature retrieval (NaN when not measured).",
        "fraction",
        FORMAT_PERCENT,
        "retrieval mAP",
    ),
    _c(
        "precision_at_10",
        "fraction",
        "Retrieval precision at 10 (NaN when not measured).",
        "fraction",
        FORMAT_PERCENT,
        "retrieval precision@10",
    ),
    _text(
        "accuracy_source",
        'Where the accuracy came from: "measured, k-means only" (pruning trajectory, then '
        'k-means without centroid fine-tuning), "measured, trained quantization", '
        '"not measured" or "published".',
        "accuracy source",
    ),
    _text(
        "host_ops",
        "Weight-free ops outside the engine and not modelled (no cycles, no energy): pooling, "
        'residual add, element-wise mul, non-ReLU activations, unfolded batch-norm, e.g. "add×8, '
        'maxpool×1"; "" when none. ReLU runs in the PEs; reshape, concat, dropout are free. '
        "Total rows only.",
        "host ops",
    ),
    _c(
        "host_op_elements",
        "values",
        "Output values of the host_ops per inference (a size of that unmodelled work). Total "
        "rows only.",
        "int",
        FORMAT_INT,
        "host-op values",
    ),
    _text("status", '"ok", or "error" for a point that failed.'),
    _text("error", 'Error message of a failed point ("" when ok).'),
]

_CATALOGUE += [ColumnInfo(*entry) for entry in AREA_COLUMNS]  # silicon area and efficiency
#: name → ColumnInfo for every static column of the contract.
COLUMNS: dict[str, ColumnInfo] = {c.name: c for c in _CATALOGUE}
