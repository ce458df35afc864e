"""The digits pipeline cut to a few steps, for tests whose property does not depend on how well
the network is trained: a tiny dense schedule and the shipped digits recipe with its
[training] tables replaced by tiny ones."""

from __future__ import annotations

import tomllib
from importlib import resources

from workloads.training import TrainingSettings

TINY_DENSE = TrainingSettings(epochs=1.0, learning_rate=5e-4, batch_size=32, max_steps=3)
TINY_PRUNE = "\n[training.prune]\nlearning_rate = 2.5e-4\nbatch_size = 32\nmax_steps = 2\n"


def tiny_digits_recipe(folder, training: str = TINY_PRUNE) -> str:
    """Write the shipped digits recipe, named `digits-tiny`, with `training` (TOML [training]
    tables) instead of its retraining schedules, to `folder`; return the file's path."""
    text = resources.files("compression").joinpath("recipes/digits.toml").read_text()
    head = text.split("\n# Retraining schedules", 1)[0]
    assert "training" not in tomllib.loads(head)
    path = folder / "digits-tiny.toml"
    path.write_text(head.replace('name = "digits"', 'name = "digits-tiny"') + training)
    return str(path)
