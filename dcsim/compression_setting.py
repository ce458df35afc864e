"""A design point's compression setting: its recipe, its label, and how its accuracy is known.

Part of the application layer (DESIGN §6, §8), between the config (`dcsim.config`: points)
and the stages that compress and measure (`dcsim.accuracy_grid`, `dcsim.trained_models`,
`dcsim.point_evaluation`): the point's density profile (a built-in recipe, a recipe file or
`auto:L`) × its density scale, with its conv / fc bits, index bits and centroid init, becomes
one recipe (`point_recipe`); points that differ only in hardware map to one compression
setting (`compression_only`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dcsim.auto_profile_name import auto_profile_loss
from dcsim.config import DesignPoint


def point_recipe(point: DesignPoint):
    """The point's recipe: the density profile's per-layer densities × density_scale, with the
    point's conv / fc bits, index bits and centroid init; for a network that trains, the
    pruning trajectory above the point (`prune_path`) and the sweep's [accuracy] settings
    (`dcsim.config.ACCURACY_DEFAULTS`) as the recipe's training schedules."""
    from compression.recipe import parse_recipe

    return parse_recipe(point_recipe_data(point))


def point_recipe_data(point: DesignPoint) -> dict:
    """`point_recipe` as the recipe mapping (what a recipe TOML file holds:
    `compression.recipe.recipe_toml` writes it, and `dcsim compress --recipe FILE` then
    measures exactly what the sweep measured for the point)."""
    data, _ = profile_data(point)
    data = {k: v for k, v in data.items() if k not in ("n_pe", "weight_bits", "index_bits")}
    kinds = {k: dict(v) for k, v in data.get("kind", {}).items()}
    for kind, bits in (("conv", point.conv_bits), ("fc", point.fc_bits), ("lstm", point.fc_bits)):
        kinds.setdefault(kind, {})
        kinds[kind]["weight_bits"] = bits
        kinds[kind].pop("index_bits", None)
    if "depthwise" in kinds:  # depthwise convs are conv layers: conv_bits
        kinds["depthwise"].update(weight_bits=point.conv_bits)
        kinds["depthwise"].pop("index_bits", None)
    layers = {
        name: {k: v for k, v in table.items() if k == "density"}
        for name, table in data.get("layers", {}).items()
    }
    profile_scale = float(data.get("density_scale", 1.0))
    data.update(
        kind=kinds,
        layers=layers,
        index_bits=point.index_bits,
        init=point.centroid_init,
        density_scale=profile_scale * point.density_scale,
        name=f"{data.get('name', point.density_profile)}",
    )
    data.pop("prune_path", None)  # a sweep's trajectory comes from its grid
    if point.retraining:
        settings = dict(point.retraining)
        path = [profile_scale * s for s in point.prune_path]
        largest = _largest_density(data)
        path = [s for s in path if largest is None or largest * s <= 1.0]  # see below
        if path:
            data["prune_path"] = path
        data["trajectory_steps"] = int(settings["trajectory_steps"])
        training = {k: dict(v) for k, v in data.get("training", {}).items()}
        training.setdefault("prune", {})["epochs"] = float(settings["prune_epochs"])
        if settings["fine_tune"] is not True:  # false, or "pareto" before its second pass
            training["quantize"] = {"epochs": 0.0}  # k-means only
        data["training"] = training
    return data


def _largest_density(data: dict) -> float | None:
    """The largest unscaled density a recipe mapping names (None when it names none). A path
    scale that would push it above 1 is left out of the trajectory: that scale's own points
    fail with the recipe's error, and the points below it prune without that checkpoint."""
    values = [data.get("density")]
    values += [table.get("density") for table in data.get("kind", {}).values()]
    values += [table.get("density") for table in data.get("layers", {}).values()]
    values = [float(v) for v in values if isinstance(v, int | float)]
    return max(values) if values else None


def profile_data(point: DesignPoint) -> tuple[dict, str]:
    """The parsed mapping of the point's density profile (a built-in recipe, a recipe file,
    or `auto:L` from the network's measured per-layer sensitivity) and its name."""
    from compression.recipe import recipe_data

    if auto_profile_loss(point.density_profile) is not None:
        from dcsim.sensitivity import auto_profile_data

        return auto_profile_data(point), point.density_profile
    return recipe_data(point.density_profile)


MEASURED_KMEANS = "measured, k-means only"
MEASURED_TRAINED = "measured, trained quantization"


def measured_source(point: DesignPoint) -> str:
    """The `accuracy_source` of a trained point: whether its quantization fine-tuned the
    centroids (trained quantization) or stopped at k-means; a user's weights without
    training data never retrain."""
    from compression.deep_compression import fine_tunes, retrain_schedule

    schedule = retrain_schedule(point_recipe(point))
    retrains = point.network.weights == "digits"  # a sweep has no --train-data folder
    return MEASURED_TRAINED if retrains and fine_tunes(schedule.quantize) else MEASURED_KMEANS


def compression_only(point: DesignPoint) -> DesignPoint:
    """The point with its hardware and simulation settings blanked: points that compress the
    same way map to the same value."""
    return dataclasses.replace(
        point,
        accelerator="",
        n_pe=None,
        clock_mhz=None,
        sram_per_pe_kb=None,
        pointer_sram_per_pe_kb=None,
        activation_sram_per_pe_kb=None,
        registers_per_pe=None,
        fifo_depth=None,
        node_nm=None,
        target_fps=0.0,
        sim_model="",
    )


def compression_label(point: DesignPoint) -> str:
    """A compression setting in words, e.g. `alexnet-digits digits x1 conv 6 / fc 4 bits`."""
    return (
        f"{point.network.label} {Path(point.density_profile).stem} x{point.density_scale:g} "
        f"conv {point.conv_bits} / fc {point.fc_bits} bits, {point.centroid_init} init"
    )
