"""Synthetic result tables for the reports tests, following the sweep's column contract.

Two accelerators × a few points × 3 layers, plus one point without measured accuracy and one
failed point. Energies are exactly events × energy per event × 1e-9, as the sweep makes them.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd

ACTIONS = ["sparse_sram_read", "codebook_lookup", "mac", "sram_leakage_cycle", "dram_bit"]

ENERGY_PJ = {
    "eie": {
        "sparse_sram_read": 20.0,
        "codebook_lookup": 0.5,
        "mac": 1.1,
        "sram_leakage_cycle": 3.0,
        "dram_bit": 20.0,
    },
    "edge-16": {
        "sparse_sram_read": 10.0,
        "codebook_lookup": 0.4,
        "mac": 0.9,
        "sram_leakage_cycle": 1.0,
        "dram_bit": 20.0,
    },
}
HW = {
    "eie": {"n_pe": 64, "clock_mhz": 800.0, "sram_per_pe_kb": 128.0, "fifo_depth": 8},
    "edge-16": {"n_pe": 16, "clock_mhz": 400.0, "sram_per_pe_kb": 64.0, "fifo_depth": 4},
}
# capacities as the sweep reports them: weight SRAM split into sparse + pointer SRAM
CAPACITIES = {
    acc: {
        "sparse_sram_capacity_bytes": hw["n_pe"] * hw["sram_per_pe_kb"] * 1024 * 0.8,
        "pointer_sram_capacity_bytes": hw["n_pe"] * hw["sram_per_pe_kb"] * 1024 * 0.2,
        "activation_capacity_bytes": hw["n_pe"] * 2304.0,
    }
    for acc, hw in HW.items()
}
# area table entries (µm² per instance; n_pe instances) as the simulator's area table gives them
AREA_UM2 = {
    "eie": {"sparse_sram": 430_000.0, "multiplier": 1_587.5},
    "edge-16": {"sparse_sram": 91_310.5, "multiplier": 598.0},
}
MEMORY_LABELS = {
    "sparse_sram": "sparse-matrix SRAM",
    "pointer_sram": "pointer SRAM",
    "activation": "activation storage",
}
LAYERS = [
    ("conv1", "conv", 34_848, 0.84),
    ("fc6", "fc", 37_748_736, 0.09),
    ("fc7", "fc", 16_777_216, 0.09),
]


def _point_rows(pid, network, acc, scale, fc_bits, accuracy, rng):
    hw = HW[acc]
    settings = {
        "point_id": pid,
        "network": network,
        "accelerator": acc,
        **hw,
        "node_nm": 45.0,
        "density_profile": "paper",
        "density_scale": scale,
        "conv_bits": 8,
        "fc_bits": fc_bits,
        "index_bits": 4,
        "centroid_init": "linear",
        "sim_model": "cycle",
        "seed": 0,
        "target_fps": 30.0,
    }
    settings["config_json"] = json.dumps(settings, sort_keys=True)
    onchip = int(hw["n_pe"] * hw["sram_per_pe_kb"] * 1024)
    rows = []
    for name, kind, weights, dens in LAYERS:
        wd = min(1.0, dens * scale)
        nnz = int(weights * wd)
        ideal = max(1, nnz // hw["n_pe"])
        cycles = int(ideal * (1.1 + 0.2 * rng.random()))
        events = {
            "sparse_sram_read": nnz // 8,
            "codebook_lookup": nnz,
            "mac": nnz,
            "sram_leakage_cycle": cycles,
            "dram_bit": 0 if acc == "eie" else nnz * fc_bits,
        }
        row = dict(settings)
        row.update(
            row_type="layer",
            layer=name,
            layer_kind=kind,
            weights=weights,
            weight_density=wd,
            activation_density=0.35,
            cycles=cycles,
            ideal_cycles=ideal,
            load_balance=ideal / cycles,
            latency_ms=cycles / (hw["clock_mhz"] * 1e3),
            model_bytes=int(nnz * (fc_bits + 4) / 8) + 64,
            container_bytes=int(nnz * (fc_bits + 2) / 8) + 64,
            dense_bytes=weights * 4,
            onchip_bytes=onchip,
        )
        for a in ACTIONS:
            row[f"events_{a}"] = events[a]
            row[f"energy_{a}_mj"] = events[a] * ENERGY_PJ[acc][a] * 1e-9
        row["energy_mj"] = sum(row[f"energy_{a}_mj"] for a in ACTIONS)
        row["compression_ratio"] = row["dense_bytes"] / row["model_bytes"]
        pointers = 64 * hw["n_pe"] * 2
        row.update(
            sparse_sram_need_bytes=row["model_bytes"] - pointers,
            pointer_sram_need_bytes=pointers,
            activation_need_bytes=4 * 4096.0,
            **CAPACITIES[acc],
        )
        row["fits_onchip"] = row["model_bytes"] <= onchip
        rows.append(row)
    total = dict(settings)
    total.update(row_type="total", layer="total", layer_kind="")
    for col in [
        "weights",
        "cycles",
        "ideal_cycles",
        "latency_ms",
        "energy_mj",
        "model_bytes",
        "container_bytes",
    ]:
        total[col] = sum(r[col] for r in rows)
    total["dense_bytes"] = sum(r["dense_bytes"] for r in rows)
    for a in ACTIONS:
        total[f"events_{a}"] = sum(r[f"events_{a}"] for r in rows)
        total[f"energy_{a}_mj"] = sum(r[f"energy_{a}_mj"] for r in rows)
    total["weight_density"] = (
        sum(r["weights"] * r["weight_density"] for r in rows) / total["weights"]
    )
    total["activation_density"] = 0.35
    total["load_balance"] = total["ideal_cycles"] / total["cycles"]
    total["compression_ratio"] = total["dense_bytes"] / total["model_bytes"]
    total["onchip_bytes"] = onchip
    total.update(CAPACITIES[acc])
    for memory in ("sparse_sram", "pointer_sram"):
        total[f"{memory}_need_bytes"] = sum(r[f"{memory}_need_bytes"] for r in rows)
    total["activation_need_bytes"] = max(r["activation_need_bytes"] for r in rows)
    ratios = {
        label: total[f"{memory}_need_bytes"] / total[f"{memory}_capacity_bytes"]
        for memory, label in MEMORY_LABELS.items()
    }
    total["overflow"] = "; ".join(label for label, r in ratios.items() if r > 1)
    total["binding_memory"] = max(ratios, key=ratios.get)
    total["binding_utilization"] = max(ratios.values())
    total["fits_onchip"] = not total["overflow"]
    total["codebook_need_entries"] = 256
    total["codebook_capacity_entries"] = 16
    total["codebook_entries"] = 256
    total["codebook_fits"] = False
    total["fps"] = 1000.0 / total["latency_ms"]
    total["meets_target"] = total["fps"] >= 30.0
    for component, um2 in AREA_UM2[acc].items():
        total[f"area_{component}_mm2"] = hw["n_pe"] * um2 * 1e-6
    total["area_mm2"] = sum(total[f"area_{c}_mm2"] for c in AREA_UM2[acc])
    total["fps_per_mm2"] = total["fps"] / total["area_mm2"]
    top1 = accuracy
    total.update(
        top1=top1,
        top5=min(1.0, top1 + 0.2) if not math.isnan(top1) else math.nan,
        retrieval_map=top1 - 0.1 if not math.isnan(top1) else math.nan,
        precision_at_10=top1 - 0.05 if not math.isnan(top1) else math.nan,
        accuracy_source="measured" if not math.isnan(top1) else "not measured",
        status="ok",
        error="",
    )
    return rows + [total]


def make_results() -> pd.DataFrame:
    """The synthetic tidy table: 8 ok digits points, 1 caffe point without accuracy, 1 failure."""
    rng = np.random.default_rng(0)
    rows = []
    i = 0
    for acc, scale, fc_bits in itertools.product(["eie", "edge-16"], [0.5, 1.0], [4, 5]):
        accuracy = 0.97 - 0.04 * (5 - fc_bits) - 0.05 * (1.0 - scale)
        rows += _point_rows(f"p{i:03d}", "alexnet-digits", acc, scale, fc_bits, accuracy, rng)
        i += 1
    rows += _point_rows("p100", "alexnet-caffe", "eie", 1.0, 5, math.nan, rng)
    failed = {
        "point_id": "p999",
        "row_type": "total",
        "layer": "total",
        "layer_kind": "",
        "network": "alexnet-digits",
        "accelerator": "edge-16",
        "density_scale": 0.1,
        "fc_bits": 2,
        "conv_bits": 8,
        "config_json": "{}",
        "status": "error",
        "error": "ValueError: density_scale 0.1 leaves conv1 with no weights",
        "accuracy_source": "not measured",
    }
    rows.append(failed)
    df = pd.DataFrame(rows)
    return df


def make_meta() -> dict:
    energy_table = []
    for acc, table in ENERGY_PJ.items():
        for action in ACTIONS:
            energy_table.append(
                {
                    "accelerator": acc,
                    "action": action,
                    "energy_pj": table[action],
                    "unit": "one bit" if action == "dram_bit" else f"one {action}",
                    "formula": "Horowitz 45 nm scaled",
                    "source": "Horowitz ISSCC 2014",
                }
            )
    area_table = [
        {
            "accelerator": acc,
            "codebook_entries": 256,
            "component": component,
            "module": "SpmatRead" if component == "sparse_sram" else "ArithmUnit",
            "instances": HW[acc]["n_pe"],
            "area_um2": um2,
            "area_mm2": HW[acc]["n_pe"] * um2 * 1e-6,
            "formula": "CACTI" if component == "sparse_sram" else "Aladdin",
            "source": "CACTI 7" if component == "sparse_sram" else "Aladdin",
        }
        for acc, table in AREA_UM2.items()
        for component, um2 in table.items()
    ]
    grid = np.linspace(0, 1, 64).reshape(8, 8).tolist()
    example = {"image": grid, "label": 3}
    return {
        "config": {"sweep": {"density_scale": [0.5, 1.0], "fc_bits": [4, 5]}, "target_fps": 30},
        "accelerators": [
            {"name": acc, **hw, "node_nm": 45, "codebook": {"entries": 16, "bits": 16}}
            for acc, hw in HW.items()
        ],
        "energy_table": energy_table,
        "area_table": area_table,
        "validation": [
            {
                "check": "Alex-6 cycles",
                "published": 30.3,
                "model": 31.0,
                "error_pct": 2.3,
                "unit": "us",
                "notes": "EIE Table IV",
            }
        ],
        "retrieval": [
            {
                "network": "alexnet-digits",
                "point_id": "p000",
                "query_image": grid,
                "query_label": 3,
                "dense_top5": [example] * 5,
                "compressed_top5": [example] * 5,
            }
        ],
        "dcsim_version": "0.1.0",
        "created": "2026-11-28T12:00:00+00:00",
    }
