"""Which sweep network entries have measured accuracy (go through the accuracy pipeline).

Part of the application layer (DESIGN §6, §8), at its bottom: the config's validation, the
compression setting of a point (`dcsim.compression_setting`), the sensitivity analysis and the
sweep all ask it, so it imports nothing from `dcsim` itself.
"""

from __future__ import annotations


def trains(entry) -> bool:
    """Whether a network entry goes through the accuracy pipeline (`dcsim.trained_models`):
    the digits AlexNet, or a sequential built-in (AlexNet) with a user's weights and data."""
    from workloads.model_source import source_kind
    from workloads.networks import ZOO_NAMES

    if entry.weights == "digits":
        return True
    return (
        bool(entry.data)
        and source_kind(entry.network) == "builtin"
        and (entry.network not in ZOO_NAMES)
    )
