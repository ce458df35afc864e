"""Checks before a sweep starts: what would make every point fail for the same reason.

Part of the application layer (DESIGN §6), run by `dcsim.sweep.run_sweep` once, before any
work and before any output folder is created. A point that fails on its own (one density
scale too large for one profile) is recorded as a failed point and the sweep goes on; but a
missing or unreadable recipe or density-profile file, a recipe that does not fit the network,
a bad accelerator file or hardware override, a missing weights file or data folder, or an
output path that cannot be written would make every point that uses it fail with the same
message — so each distinct one is checked here and the sweep stops with one clear error
(`ValueError`, exit status 2 in the CLI).
"""

from __future__ import annotations

from pathlib import Path

from dcsim.config import HARDWARE_AXES, DesignPoint


def check_output_folder(out_dir: str | Path) -> Path:
    """`out_dir` as a folder the sweep can write (existing, or creatable)."""
    from workloads.user_files import output_folder

    return output_folder(out_dir, "sweep --out")


def _check_network_inputs(points: list[DesignPoint]) -> None:
    from dcsim.config import WEIGHT_SOURCES
    from workloads.user_files import input_file

    for entry in dict.fromkeys(point.network for point in points):
        if entry.weights not in WEIGHT_SOURCES:
            input_file(
                entry.weights,
                f"network {entry.label!r} weights file",
                "a torch state_dict file, " + ", ".join(WEIGHT_SOURCES),
            )
        if entry.data is not None:
            from workloads.datasets import ImageFolderDataset

            try:
                ImageFolderDataset(entry.data)  # lists the folder: class sub-folders, images
            except ValueError as error:
                raise ValueError(f"network {entry.label!r}: {error}") from None


def _check_recipes(points: list[DesignPoint]) -> None:
    """Each distinct (network, density profile) once: the profile file reads and parses, and
    gives every layer of the network a density and bits — at the smallest density scale its
    points use (a larger scale too large for some layer fails only its own points)."""
    from dcsim.auto_profile_name import auto_profile_loss
    from dcsim.compression_setting import point_recipe
    from dcsim.point_evaluation import entry_network
    from dcsim.trained_entries import trains

    smallest: dict[tuple, DesignPoint] = {}
    for point in points:
        key = (point.network, point.density_profile)
        if key not in smallest or point.density_scale < smallest[key].density_scale:
            smallest[key] = point
    for (entry, profile), point in smallest.items():
        network = entry.network
        if auto_profile_loss(profile) is not None:
            if not trains(entry):  # an auto profile needs measured accuracy
                raise ValueError(
                    f"density_profile {profile!r} on network {entry.label!r} is invalid; "
                    "allowed: networks with measured accuracy (weights = digits, or a weights "
                    "file with data)"
                )
            continue  # its densities come from the measured sensitivity: every layer has one
        recipe = point_recipe(point)
        try:
            if trains(entry):
                from dcsim.trained_models import network_of  # torch: only for trained networks

                layers_of = network_of(point)
            else:
                layers_of = entry_network(entry.network, entry.input_shape, entry.weights)
            recipe.layer_recipes(layers_of)
        except ValueError as error:
            raise ValueError(
                f"density_profile {profile!r} on network {network!r}: {error}"
            ) from None


def _check_accelerators(points: list[DesignPoint]) -> None:
    """Each distinct accelerator with its hardware overrides once."""
    from dcsim.point_evaluation import accelerator_label, point_accelerator

    seen = set()
    for point in points:
        key = tuple(getattr(point, axis) for axis in HARDWARE_AXES)
        if key in seen:
            continue
        seen.add(key)
        try:
            point_accelerator(point)
        except ValueError as error:
            raise ValueError(f"accelerator {accelerator_label(point)!r}: {error}") from None


def check_sweep_inputs(points: list[DesignPoint], out_dir: str | Path) -> None:
    """Every check of the module docstring; the first problem is raised as one line."""
    check_output_folder(out_dir)
    _check_network_inputs(points)
    _check_accelerators(points)
    _check_recipes(points)
