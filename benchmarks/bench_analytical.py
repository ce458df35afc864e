"""Analytical model: points per second over arrays of hardware variants (vs the cycle model on
the same variants, measured in the same run), and its agreement with the cycle model over the
full grid of PE counts × FIFO depths for the nine EIE layers and every AlexNet layer.

Targets (issue 11): ≥ 10,000 whole-network points per second per core for alexnet-caffe
(8 layers, compression fixed, variants over n_pe × FIFO × clock × SRAM); within 5 % of the
cycle model on total cycles (goal 3 %) everywhere on the grid.

    .venv/bin/python benchmarks/run.py analytical            (speed + agreement, ~10 min)
    DCSIM_BENCH_QUICK=1 .venv/bin/python benchmarks/run.py analytical   (coarser grid)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_PE = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128)
FIFO = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64)
CLOCK_HZ = tuple(np.linspace(1e8, 1e9, 10))
SRAM_BYTES_PER_PE = tuple(2**k for k in range(12, 22))


def _network():
    from compression import compress_network
    from simulator.simulate import default_activation_density
    from workloads import get_network

    compressed = compress_network(get_network("alexnet-caffe"), "paper", n_pe=1, seed=0)
    densities = [default_activation_density(x.spec, i) for i, x in enumerate(compressed.layers)]
    return compressed, densities


def bench_points_per_second(compressed, densities) -> list[dict]:
    from simulator.accelerator import load_accelerator
    from simulator.simulate import simulate_network
    from simulator.variant_evaluation import evaluate_variants, variants_from

    base = load_accelerator("edge-16")
    start = time.process_time()
    variants = variants_from(
        base,
        n_pe=list(N_PE),
        fifo_depth=list(FIFO),
        clock_hz=list(CLOCK_HZ),
        sparse_sram_bytes_per_pe=list(SRAM_BYTES_PER_PE),
    )
    build_s = time.process_time() - start
    start = time.process_time()
    evaluate_variants(compressed.layers, densities, variants)
    cold_s = time.process_time() - start
    start = time.process_time()
    evaluate_variants(compressed.layers, densities, variants)
    warm_s = time.process_time() - start
    # the cycle model on a sample of the same variants (it costs seconds per point)
    from dcsim.point_evaluation import interleave

    sample = variants.accelerators[:: max(1, len(variants) // 6)][:6]
    start = time.process_time()
    for arch in sample:
        simulate_network(interleave(compressed, arch.n_pe), arch, seed=0, model="cycle")
    cycle_rate = len(sample) / (time.process_time() - start)
    rows = [
        {
            "benchmark": f"analytical, {len(variants):,} variants, first call (statistics for "
            f"{len(N_PE)} PE counts)",
            "points_per_cpu_s": len(variants) / cold_s,
            "ratio_vs_cycle": len(variants) / cold_s / cycle_rate,
        },
        {
            "benchmark": f"analytical, {len(variants):,} variants, statistics cached",
            "points_per_cpu_s": len(variants) / warm_s,
            "ratio_vs_cycle": len(variants) / warm_s / cycle_rate,
        },
        {
            "benchmark": "cycle model, same variants (sample of 6)",
            "points_per_cpu_s": cycle_rate,
            "ratio_vs_cycle": 1.0,
        },
        {
            "benchmark": f"building the {len(variants):,} Accelerator variants",
            "points_per_cpu_s": len(variants) / build_s,
            "ratio_vs_cycle": float("nan"),
        },
    ]
    for row in rows:
        print(
            f"  {row['benchmark']}: {row['points_per_cpu_s']:,.1f} points/CPU-s "
            f"({row['ratio_vs_cycle']:,.0f}x the cycle model)"
        )
    return rows


def bench_agreement() -> list[dict]:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_simulator_analytical import ALEXNET_DENSITY, EIE_LAYERS, _cycle_and_model

    from simulator.pruned_layer import pruned_codes
    from simulator.simulate import default_activations
    from workloads import get_network

    quick = bool(os.environ.get("DCSIM_BENCH_QUICK"))
    n_pes = (1, 4, 16, 64, 256) if quick else (1, 2, 4, 8, 16, 32, 64, 128, 256)
    depths = (1, 2, 8, 64, 256) if quick else (1, 2, 3, 4, 6, 8, 16, 32, 64, 128, 256)
    specs = [get_network(name).layers[0] for name in EIE_LAYERS]
    specs += list(get_network("alexnet-caffe").layers)
    rows = []
    for spec in specs:
        density = spec.weight_density or ALEXNET_DENSITY[spec.name]
        codes = pruned_codes(spec, density, seed=0)
        x = default_activations(spec, 0 if spec.name == "conv1" else 1, 0, 0.5)
        errors = []
        for n_pe in n_pes:
            for depth, cycle, model in _cycle_and_model(spec, codes, x, n_pe, depths):
                errors.append((abs(model / cycle - 1), n_pe, depth))
        worst = max(errors)
        mean = float(np.mean([e for e, _, _ in errors]))
        rows.append(
            {
                "layer": spec.name,
                "worst_error_pct": 100 * worst[0],
                "at": f"N={worst[1]}, D={worst[2]}",
                "mean_error_pct": 100 * mean,
            }
        )
        print(
            f"  {spec.name}: worst {100 * worst[0]:.2f} % at N={worst[1]}, D={worst[2]}; "
            f"mean {100 * mean:.2f} % over {len(errors)} points"
        )
    overall = max(r["worst_error_pct"] for r in rows)
    print(f"  all layers: worst {overall:.2f} % (target 5 %, goal 3 %)")
    return rows


def main() -> list[dict]:
    compressed, densities = _network()
    rows = bench_points_per_second(compressed, densities)
    return rows + bench_agreement()


if __name__ == "__main__":
    main()
