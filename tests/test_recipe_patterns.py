"""Recipes for arbitrary models: per-kind defaults (conv / depthwise / fc) and [layers]
overrides by shell pattern, validated against the network's layer names."""

import tomllib

import pytest

from compression.recipe import parse_recipe
from workloads import LayerSpec, Network
from workloads.graph import NetworkGraph, make_node


def _network(*specs: LayerSpec) -> Network:
    nodes = [make_node("input", "input", (), (8, 8, 8))]
    for spec in specs:
        nodes.append(make_node(spec.name, spec.kind, (nodes[-1].name,), spec.output_shape))
    return Network(
        name="net",
        layers=specs,
        input_shape=(8, 8, 8),
        num_classes=10,
        topology=NetworkGraph(tuple(nodes), nodes[-1].name),
        module_paths={s.name: s.name for s in specs},
    )


NET = _network(
    LayerSpec("stem", "conv", 8, 8, kernel=(3, 3), padding=(1, 1), input_hw=(8, 8)),
    LayerSpec("layer4.0.conv1", "conv", 8, 8, kernel=(3, 3), padding=(1, 1), input_hw=(8, 8)),
    LayerSpec("layer4.0.conv2", "conv", 8, 8, kernel=(3, 3), padding=(1, 1), input_hw=(8, 8)),
    LayerSpec("layer4.1.conv2", "conv", 8, 8, kernel=(3, 3), padding=(1, 1), input_hw=(8, 8)),
    LayerSpec("block.dw", "conv", 8, 8, kernel=(3, 3), padding=(1, 1), groups=8, input_hw=(8, 8)),
    LayerSpec("fc", "conv", 8, 10, kernel=(8, 8), input_hw=(8, 8)),
)

RECIPE = """
density = 0.5
weight_bits = 8
[kind.depthwise]
density = 0.9
weight_bits = 6
[kind.conv]
index_bits = 3
[layers]
"layer4.*.conv2" = { density = 0.3 }
"layer4.1.*" = { density = 0.2 }
"layer4.0.conv2" = { density = 0.4, weight_bits = 5 }
"""


def _resolved(text: str, network: Network = NET) -> dict:
    return parse_recipe(tomllib.loads(text)).layer_recipes(network)


def test_kind_defaults_patterns_in_file_order_and_exact_names_last():
    r = _resolved(RECIPE)
    assert (r["stem"].density, r["stem"].weight_bits, r["stem"].index_bits) == (0.5, 8, 3)
    assert r["layer4.0.conv1"].density == 0.5  # no pattern matches conv1
    assert (r["layer4.0.conv2"].density, r["layer4.0.conv2"].weight_bits) == (0.4, 5)  # exact
    assert r["layer4.1.conv2"].density == 0.2  # both patterns match: the later one wins
    # depthwise: its own kind first, then conv's values it does not set
    assert (r["block.dw"].density, r["block.dw"].weight_bits, r["block.dw"].index_bits) == (
        0.9,
        6,
        3,
    )


def test_pattern_matching_nothing_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"layer pattern='layer9\.\*' matches no layer") as info:
        _resolved(RECIPE + '"layer9.*" = { density = 0.1 }\n')
    assert "\n" not in str(info.value) and "layer4.0.conv1" in str(info.value)
    with pytest.raises(ValueError, match=r"layer='layer4\.0\.conv3' is not in network 'net'"):
        _resolved(RECIPE + '"layer4.0.conv3" = { density = 0.1 }\n')


def test_unquoted_dotted_layer_names_are_joined_back():
    text = "density = 0.5\nweight_bits = 4\n[layers]\nlayer4.0.conv1 = { density = 0.25 }\n"
    assert _resolved(text)["layer4.0.conv1"].density == 0.25


def test_depthwise_kind_is_validated_and_a_missing_value_names_it():
    with pytest.raises(ValueError, match="recipe kind 'pointwise' is unknown; allowed: conv"):
        parse_recipe({"kind": {"pointwise": {"density": 0.5}}})
    text = "[kind.conv]\ndensity = 0.5\nweight_bits = 8\n[kind.depthwise]\ndensity = 0.9\n"
    assert _resolved(text)["block.dw"].weight_bits == 8
    only_depthwise = _network(NET.layer("block.dw"))
    with pytest.raises(ValueError, match="layer 'block.dw' has no weight_bits.*kind.depthwise"):
        _resolved("[kind.depthwise]\ndensity = 0.9\n", only_depthwise)
