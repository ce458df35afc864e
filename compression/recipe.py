"""Compression recipes: per-layer density and bit widths, read from TOML.

Part of `compression` (DESIGN §3, §5): a recipe says how far to prune and how many bits to
keep for each layer of a network; `compress_network` applies it. The `paper` recipe (Deep
Compression's AlexNet, DESIGN §5) ships as `compression/recipes/paper.toml`; `generic` (per-kind
defaults only, for any network) as `compression/recipes/generic.toml`.

Recipe keys (all optional except that every layer must end up with a density and weight bits):
    name, description            text
    density                      global density in [0, 1]
    weight_bits                  global b in [1, 16]
    index_bits                   global r in [1, 16] (default 4)
    init                         k-means init: linear | density | random (default linear)
    prune_steps                  iterative prune → retrain steps, >= 1 (default 1); with a
                                 prune_path: the steps from dense to its first checkpoint
    density_scale                multiplies every resolved density ("scale a profile"); the
                                 result must stay in [0, 1]
    prune_path                   density scales the pruning passes through before reaching
                                 `density_scale`, a pruning trajectory (strictly decreasing,
                                 each > density_scale; default none: prune from dense)
    trajectory_steps             prune → retrain steps from one prune_path checkpoint to the
                                 next, >= 1 (default 1)
    n_pe                         PEs the storage is interleaved over (default: the caller's)
    [kind.conv|depthwise|fc|lstm]  density / weight_bits / index_bits per layer kind;
                                 `depthwise` is a conv with groups = in_channels > 1, which
                                 also takes [kind.conv] values it does not set itself
    [layers]                     NAME or "GLOB" = { density / weight_bits / index_bits }: one
                                 layer by name, or every layer whose name matches a shell
                                 pattern (`"layer4.*.conv2" = { density = 0.3 }`; `*` also
                                 matches dots — quote the key so TOML keeps it whole)
    [training.prune|quantize]    retraining schedules; kept as a table here and validated by
                                 `compression.deep_compression.retrain_schedule`
A layer's value comes from [layers] (patterns in file order, a later match overriding an
earlier one, and an exact name over every pattern), else [kind.depthwise] (depthwise layers),
else [kind.KIND], else the global key. Unknown keys, unknown kinds and a [layers] name or
pattern that matches no layer of the network are one-line errors naming it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from compression.checks import check_bits, check_fraction, check_int, check_positive
from compression.sparse_format import MAX_N_PE
from compression.weight_sharing import INITS
from workloads.layer_spec import LAYER_KINDS
from workloads.networks import Network
from workloads.user_files import parse_toml, read_text

BUILTIN_RECIPES: tuple[str, ...] = ("paper", "digits", "generic")
RECIPE_KINDS: tuple[str, ...] = (*LAYER_KINDS, "depthwise")
LAYER_KEYS: tuple[str, ...] = ("density", "weight_bits", "index_bits")
TOP_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "density",
    "weight_bits",
    "index_bits",
    "init",
    "prune_steps",
    "density_scale",
    "prune_path",
    "trajectory_steps",
    "n_pe",
    "kind",
    "layers",
    "training",
)
DEFAULT_INDEX_BITS = 4


@dataclass(frozen=True)
class LayerRecipe:
    """What one layer gets: density in [0, 1], weight bits b, index bits r."""

    density: float
    weight_bits: int
    index_bits: int


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe (see the module docstring). Resolve it against a network with
    `layer_recipes`."""

    name: str
    description: str = ""
    defaults: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)
    layers: dict = field(default_factory=dict)
    init: str = "linear"
    prune_steps: int = 1
    density_scale: float = 1.0
    prune_path: tuple[float, ...] = ()
    trajectory_steps: int = 1
    n_pe: int | None = None
    training: dict = field(default_factory=dict)

    def layer_values(self, name: str) -> dict:
        """The [layers] values for layer `name`: matching patterns in file order, then the
        exact name."""
        values: dict = {}
        for pattern, table in self.layers.items():
            if pattern != name and fnmatch.fnmatchcase(name, pattern):
                values.update(table)
        values.update(self.layers.get(name, {}))
        return values

    def layer_recipes(self, network: Network) -> dict[str, LayerRecipe]:
        """Per-layer settings for every layer of `network`, in network order."""
        known = [layer.name for layer in network.layers]
        for pattern in self.layers:
            if pattern not in known and not fnmatch.filter(known, pattern):
                more = f" … ({len(known)} layers)" if len(known) > 12 else ""
                shown = ", ".join(known[:12]) + more
                if any(c in pattern for c in "*?["):
                    raise ValueError(
                        f"recipe {self.name!r}: layer pattern={pattern!r} matches no layer of "
                        f"network {network.name!r}; allowed: a pattern matching one of {shown}"
                    )
                raise ValueError(
                    f"recipe {self.name!r}: layer={pattern!r} is not in network "
                    f"{network.name!r}; allowed: {shown}"
                )
        resolved = {}
        for layer, values in self._layer_tables(network):
            resolved[layer.name] = LayerRecipe(
                density=self._scaled(layer.name, values["density"], self.density_scale),
                weight_bits=int(values["weight_bits"]),
                index_bits=int(values["index_bits"]),
            )
        return resolved

    def _layer_tables(self, network: Network):
        """(layer, its resolved table before scaling) for every layer, in network order."""
        for layer in network.layers:
            depthwise = self.kinds.get("depthwise", {}) if layer.is_depthwise else {}
            values = {
                **self.defaults,
                **self.kinds.get(layer.kind, {}),
                **depthwise,
                **self.layer_values(layer.name),
            }
            values.setdefault("index_bits", DEFAULT_INDEX_BITS)
            for key in ("density", "weight_bits"):
                if key not in values:
                    kind = "depthwise" if layer.is_depthwise else layer.kind
                    raise ValueError(
                        f"recipe {self.name!r}: layer {layer.name!r} has no {key}; allowed: "
                        f"set layers.{layer.name}.{key}, kind.{kind}.{key} or {key}"
                    )
            yield layer, values

    def _scaled(self, layer: str, density: float, scale: float) -> float:
        return check_fraction(
            f"recipe {self.name!r}: layer {layer!r} density (after scale)", density * scale
        )

    def densities(self, network: Network) -> dict[str, float]:
        """Layer name → the density the recipe prunes to (after `density_scale`)."""
        return {name: s.density for name, s in self.layer_recipes(network).items()}

    def path_densities(self, network: Network) -> list[dict[str, float]]:
        """The per-layer densities of every `prune_path` checkpoint (the recipe's densities
        with each path scale instead of `density_scale`), in order."""
        if not self.prune_path:
            return []
        tables = list(self._layer_tables(network))
        self.layer_recipes(network)  # the same checks as the recipe's own densities
        return [
            {
                layer.name: self._scaled(layer.name, values["density"], scale)
                for layer, values in tables
            }
            for scale in self.prune_path
        ]


def _layer_values(where: str, table: object) -> dict:
    if not isinstance(table, dict):
        raise ValueError(f"recipe {where}={table!r} is invalid; allowed: a table of {LAYER_KEYS}")
    out = {}
    for key, value in table.items():
        if key not in LAYER_KEYS:
            raise ValueError(
                f"recipe key {where}.{key} is unknown; allowed: {', '.join(LAYER_KEYS)}"
            )
        if key == "density":
            out[key] = check_fraction(f"recipe {where}.density", value)
        else:
            out[key] = check_bits(f"recipe {where}.{key}", value)
    return out


def _flatten_layers(table: dict, prefix: str = "") -> dict:
    """[layers] entries by full name: an unquoted dotted key (`layer1.0.conv1 = {...}`) reaches
    here as nested tables, which are joined back into the dotted layer name."""
    out: dict = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            out.update(_flatten_layers(value, name))
        else:
            out[name] = value
    return out


def _prune_path(value: object, density_scale: float) -> tuple[float, ...]:
    allowed = (
        f"a list of density scales, strictly decreasing, each > density_scale ({density_scale:g})"
    )
    if not isinstance(value, list | tuple):
        raise ValueError(f"recipe prune_path={value!r} is invalid; allowed: {allowed}")
    path = tuple(check_positive("recipe prune_path", v) for v in value)
    steps = [*path, density_scale]
    if any(a <= b for a, b in zip(steps, steps[1:])):
        raise ValueError(f"recipe prune_path={list(value)!r} is invalid; allowed: {allowed}")
    return path


def parse_recipe(data: dict, default_name: str = "recipe") -> Recipe:
    """A Recipe from the parsed TOML mapping `data` (validated; see the module docstring)."""
    for key in data:
        if key not in TOP_KEYS:
            raise ValueError(f"recipe key {key!r} is unknown; allowed: {', '.join(TOP_KEYS)}")
    name = str(data.get("name", default_name))
    defaults = _layer_values("(top level)", {k: data[k] for k in LAYER_KEYS if k in data})
    kinds_table = data.get("kind", {})
    if not isinstance(kinds_table, dict):
        raise ValueError(f"recipe kind={kinds_table!r} is invalid; allowed: a table")
    kinds = {}
    for kind, table in kinds_table.items():
        if kind not in RECIPE_KINDS:
            raise ValueError(f"recipe kind {kind!r} is unknown; allowed: {', '.join(RECIPE_KINDS)}")
        kinds[kind] = _layer_values(f"kind.{kind}", table)
    layers_table = data.get("layers", {})
    if not isinstance(layers_table, dict):
        raise ValueError(f"recipe layers={layers_table!r} is invalid; allowed: a table")
    layers = {
        name_: _layer_values(f"layers.{name_}", t)
        for name_, t in _flatten_layers(layers_table).items()
    }
    init = data.get("init", "linear")
    if init not in INITS:
        raise ValueError(f"recipe init={init!r} is invalid; allowed: {', '.join(INITS)}")
    n_pe = data.get("n_pe")
    density_scale = check_positive("recipe density_scale", data.get("density_scale", 1.0))
    training = data.get("training", {})
    if not isinstance(training, dict):
        raise ValueError(f"recipe training={training!r} is invalid; allowed: a table")
    return Recipe(
        name=name,
        description=str(data.get("description", "")),
        defaults=defaults,
        kinds=kinds,
        layers=layers,
        init=init,
        prune_steps=check_int("recipe prune_steps", data.get("prune_steps", 1), 1, 100),
        density_scale=density_scale,
        prune_path=_prune_path(data.get("prune_path", []), density_scale),
        trajectory_steps=check_int(
            "recipe trajectory_steps", data.get("trajectory_steps", 1), 1, 100
        ),
        n_pe=None if n_pe is None else check_int("recipe n_pe", n_pe, 1, MAX_N_PE),
        training=training,
    )


def recipe_data(recipe: str | Path) -> tuple[dict, str]:
    """The parsed TOML mapping of a built-in recipe (by name) or a recipe file (by path), and
    its default name; not yet validated (`parse_recipe` does that)."""
    if isinstance(recipe, str) and recipe in BUILTIN_RECIPES:
        text = resources.files("compression").joinpath(f"recipes/{recipe}.toml").read_text("utf-8")
        source = recipe
        return parse_toml(text, "recipe", source), source
    allowed = f"{', '.join(BUILTIN_RECIPES)} or the path of a recipe TOML file"
    path = Path(recipe)
    if not path.exists() and path.suffix.lower() != ".toml":
        raise ValueError(f"recipe={str(recipe)!r} is invalid; allowed: {allowed}")
    return parse_toml(read_text(path, "recipe", allowed), "recipe", str(path), allowed), path.stem


def _toml_value(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"recipe value of type {type(value).__name__} cannot be written as TOML")


def _toml_key(key: str) -> str:
    import json

    bare = key and all(c.isalnum() or c in "-_" for c in key)
    return key if bare else json.dumps(key, ensure_ascii=False)


def recipe_toml(data: dict, comment: str = "") -> str:
    """A recipe mapping (what `parse_recipe` takes) as TOML text that `load_recipe` reads
    back to the same mapping: top-level keys, then [kind.*], [layers] (one inline table per
    layer, names quoted when needed) and [training.*]. `comment` goes first, as # lines."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    tables = ("kind", "layers", "training")
    for key, value in data.items():
        if key not in tables:
            lines.append(f"{key} = {_toml_value(value)}")
    for key in ("kind", "training"):
        for sub, table in data.get(key, {}).items():
            lines += ["", f"[{key}.{_toml_key(sub)}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    if data.get("layers"):
        lines += ["", "[layers]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data["layers"].items()]
    return "\n".join(lines) + "\n"


def load_recipe(recipe: str | Path) -> Recipe:
    """A built-in recipe by name (`paper`) or a TOML file by path."""
    data, source = recipe_data(recipe)
    return parse_recipe(data, default_name=source)
