"""The densities a pruning-sensitivity scan prunes each layer to: the default grid and the
check of a user's list.

Part of the application layer, beside `dcsim.sensitivity` (which measures the curves with
torch): kept apart so that the command line can show the default and check `--densities`
without importing torch.
"""

from __future__ import annotations

# Densities of the sensitivity curves (1.0, the dense layer, is the baseline): fine steps near
# the low end, where the big fc layers of AlexNet cross from harmless to harmful.
DEFAULT_DENSITIES: tuple[float, ...] = (
    0.8,
    0.6,
    0.4,
    0.3,
    0.2,
    0.1,
    0.05,
    0.03,
    0.02,
    0.01,
)


def check_densities(densities: object) -> tuple[float, ...]:
    """Sensitivity densities: distinct numbers in (0, 1], returned highest first."""
    allowed = "numbers in (0, 1], e.g. 0.8,0.5,0.2,0.1"
    if isinstance(densities, str):
        parts = [p.strip() for p in densities.split(",") if p.strip()]
        try:
            densities = [float(p) for p in parts]
        except ValueError:
            raise ValueError(
                f"densities={','.join(parts)!r} is invalid; allowed: {allowed}"
            ) from None
    values = list(densities) if isinstance(densities, list | tuple) else []
    if not values or any(
        isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 1 for v in values
    ):
        raise ValueError(f"densities={densities!r} is invalid; allowed: {allowed}")
    return tuple(sorted({float(v) for v in values}, reverse=True))
