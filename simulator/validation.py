"""Validation: published reference points next to what the model computes (`dcsim validate`).

Part of `simulator` (DESIGN §5): every check is a function registered with `@register_check`
that returns rows {check, published, model, error_pct, unit, notes}; later issues append their
own checks the same way. Nothing here is fitted: the model's constants come from the
accelerator spec and the energy table, and the weights / activations are synthetic at the
published densities (EIE Table III), so a miss points at a missing mechanism or at the real
(trained) weights' statistics.

Registered checks
- `eie-alexnet`: EIE Alex-6/7/8 on the `eie` preset — actual time (published 30.3, 12.2,
  9.9 µs) and theoretical time (28.1, 11.7, 8.9 µs; the model's ideal cycles = entries
  walked / N, i.e. perfect load balance).
- `fifo-depth`: load-balance efficiency vs FIFO depth 1…256 on Alex-7 (EIE Fig. 11: about half
  the cycles idle at depth 1, little gain past 8). Published number only at depth 1 (0.5).
- `pe-scaling`: speedup vs PE count 1…256 on Alex-7 (EIE Fig. 12: near-linear); published =
  the linear speedup N.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from simulator.accelerator import load_accelerator
from simulator.pruned_layer import pruned_layer
from simulator.simulate import simulate_layer
from workloads import get_network
from workloads.synthetic import synthetic_layer_input

CHECKS: dict[str, Callable[[int], list[dict]]] = {}


def register_check(name: str):
    """Decorator: add a check `fn(seed) -> rows` under `name` (run in registration order)."""

    def wrap(fn):
        CHECKS[name] = fn
        return fn

    return wrap


def row(check: str, published: float, model: float, unit: str, notes: str = "") -> dict:
    error = (
        (model - published) / published * 100
        if published and not math.isnan(published)
        else (float("nan"))
    )
    return {
        "check": check,
        "published": published,
        "model": model,
        "error_pct": error,
        "unit": unit,
        "notes": notes,
    }


def _eie_layer_result(name: str, arch, seed: int):
    spec = get_network(name).layers[0]
    layer = pruned_layer(spec, spec.weight_density, n_pe=arch.n_pe, seed=seed)
    x = synthetic_layer_input(spec, spec.activation_density, seed)
    return simulate_layer(layer, x, arch)


EIE_PUBLISHED_US = {"alex-6": (30.3, 28.1), "alex-7": (12.2, 11.7), "alex-8": (9.9, 8.9)}


@register_check("eie-alexnet")
def check_eie_alexnet(seed: int = 0) -> list[dict]:
    arch = load_accelerator("eie")
    rows = []
    for name, (actual, theoretical) in EIE_PUBLISHED_US.items():
        result = _eie_layer_result(name, arch, seed)
        rows.append(
            row(f"{name} time", actual, result.latency_s * 1e6, "us", "EIE Table IV, actual")
        )
        rows.append(
            row(
                f"{name} theoretical time",
                theoretical,
                result.ideal_cycles / arch.clock_hz * 1e6,
                "us",
                "EIE Table IV; model: ideal cycles (entries walked / N)",
            )
        )
    return rows


FIFO_DEPTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
PE_COUNTS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@register_check("fifo-depth")
def check_fifo_depth(seed: int = 0) -> list[dict]:
    base = load_accelerator("eie")
    rows = []
    for depth in FIFO_DEPTHS:
        result = _eie_layer_result("alex-7", base.replace(fifo_depth=depth), seed)
        published = 0.5 if depth == 1 else float("nan")
        note = "EIE Fig. 11: about half idle at depth 1" if depth == 1 else "trend only"
        rows.append(
            row(
                f"alex-7 load balance, FIFO {depth}",
                published,
                result.load_balance,
                "fraction",
                note,
            )
        )
    return rows


@register_check("pe-scaling")
def check_pe_scaling(seed: int = 0) -> list[dict]:
    base = load_accelerator("eie")
    times = {}
    for n_pe in PE_COUNTS:
        times[n_pe] = _eie_layer_result("alex-7", base.replace(n_pe=n_pe), seed).total_cycles
    return [
        row(
            f"alex-7 speedup, {n} PEs",
            float(n),
            times[1] / times[n],
            "x",
            "EIE Fig. 12: near-linear; published = linear",
        )
        for n in PE_COUNTS
    ]


def validation_rows(checks: list[str] | None = None, seed: int = 0) -> list[dict]:
    """Rows of the selected checks (all registered ones by default)."""
    names = list(CHECKS) if not checks else checks
    rows = []
    for name in names:
        if name not in CHECKS:
            raise ValueError(f"check={name!r} is invalid; allowed: {', '.join(CHECKS)}")
        rows.extend(CHECKS[name](seed))
    return rows
