"""The `auto:L` density-profile name: a profile derived from per-layer pruning sensitivity.

Part of the application layer (DESIGN §6), at its bottom: parsing the name needs no
measurement, so the config validates it and the sweep recognises it without importing
`dcsim.sensitivity` (which measures the curves and builds the profile's densities).
"""

from __future__ import annotations

import math

AUTO_PREFIX = "auto:"


def auto_profile_loss(profile: object) -> float | None:
    """The allowed top-1 loss (points) of an `auto:L` profile name; None for other names.
    A malformed `auto:` name is a one-line ValueError."""
    if not isinstance(profile, str) or not profile.startswith(AUTO_PREFIX):
        return None
    text = profile[len(AUTO_PREFIX) :]
    try:
        loss = float(text)
    except ValueError:
        loss = math.nan
    if not (math.isfinite(loss) and 0 <= loss <= 100):
        raise ValueError(
            f"density_profile={profile!r} is invalid; allowed: auto:L with L the allowed top-1 "
            "loss per layer in points, a number in [0, 100] (e.g. auto:1.0)"
        )
    return loss
