"""`.dcz` container, accounting, recipes, compress_network and the storage/compress/inspect CLI
(DESIGN §3.6–3.7, §5): round trips, accounted bits == serialized bits, damage detection."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compression import (
    CompressedNetwork,
    ContainerError,
    compress_layer,
    compress_network,
    load_container,
    load_recipe,
    save_container,
)
from compression.container import CODINGS, deserialize, serialize
from compression.recipe import parse_recipe
from dcsim.cli import main
from workloads import LayerSpec, get_network


@st.composite
def compressed_networks(draw):
    n_layers = draw(st.integers(0, 3))
    layers = []
    for index in range(n_layers):
        out = draw(st.integers(1, 40))
        if draw(st.booleans()):
            spec = LayerSpec(
                f"fc{index}", "fc", in_channels=draw(st.integers(1, 30)), out_channels=out
            )
        else:
            spec = LayerSpec(
                f"conv{index}",
                "conv",
                in_channels=2,
                out_channels=out,
                kernel=(2, 2),
                input_hw=(3, 3),
            )
        rng = np.random.default_rng(draw(st.integers(0, 999)))
        weights = rng.standard_normal(spec.weight_shape)
        layers.append(
            compress_layer(
                spec,
                weights,
                density=draw(st.sampled_from([0.0, 0.02, 0.3, 1.0])),
                weight_bits=draw(st.integers(1, 9)),
                index_bits=draw(st.integers(1, 5)),
                n_pe=draw(st.integers(1, 8)),
            )
        )
    return CompressedNetwork("net", tuple(layers), "test")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(compressed_networks(), st.sampled_from(CODINGS))
def test_round_trip_is_bit_exact_and_accounted_bits_equal_serialized_bits(network, coding):
    data, info = serialize(network, coding)
    back, read_info = deserialize(data)
    assert read_info == info and info.file_bytes == len(data)
    assert back.name == "net" and back.recipe_name == "test"
    for original, loaded, payload in zip(network.layers, back.layers, info.layer_payload_bytes):
        accounted = (
            original.accounting.pq_bits if coding == "fixed" else original.accounting.pqh_bits
        )
        assert accounted == 8 * payload
        assert original.spec == loaded.spec
        assert np.array_equal(original.codebook, loaded.codebook)
        assert original.dequantized_weights().tobytes() == loaded.dequantized_weights().tobytes()
        assert loaded.accounting == original.accounting
    assert info.overhead_bytes == len(data) - sum(info.layer_payload_bytes)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_one_flipped_byte_or_truncation_is_detected(data):
    spec = LayerSpec("fc", "fc", in_channels=20, out_channels=12)
    weights = np.random.default_rng(0).standard_normal(spec.weight_shape)
    layer = compress_layer(spec, weights, density=0.3, weight_bits=3, n_pe=2)
    blob, _ = serialize(CompressedNetwork("net", (layer,)), data.draw(st.sampled_from(CODINGS)))
    position = data.draw(st.integers(0, len(blob) - 1))
    flip = data.draw(st.integers(1, 255))
    damaged = bytearray(blob)
    damaged[position] ^= flip
    with pytest.raises(ContainerError) as info:
        deserialize(bytes(damaged), "f.dcz")
    assert "\n" not in str(info.value) and str(info.value).startswith("f.dcz: ")
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(ContainerError, match="truncated|too short"):
        deserialize(blob[:cut], "f.dcz")


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    network = compress_network(get_network("lenet-300-100"), _recipe(tmp_path), n_pe=4)
    path = tmp_path / "model.dcz"
    info = save_container(path, network)
    assert path.stat().st_size == info.file_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.dcz", "r.toml"]
    with pytest.raises(OSError):
        save_container(tmp_path / "missing" / "x.dcz", network)
    assert not (tmp_path / "missing").exists()
    loaded, _ = load_container(path)
    assert [layer.name for layer in loaded.layers] == ["fc1", "fc2", "fc3"]
    with pytest.raises(ContainerError, match="container '.*nope.dcz' does not exist"):
        load_container(tmp_path / "nope.dcz")
    with pytest.raises(ContainerError, match="is a directory"):
        load_container(tmp_path)


def _recipe(tmp_path, text: str | None = None):
    path = tmp_path / "r.toml"
    path.write_text(
        text
        or 'name = "small"\nweight_bits = 4\ndensity = 0.2\n[kind.fc]\nweight_bits = 3\n'
        "[layers.fc3]\ndensity = 0.5\nindex_bits = 3\n"
    )
    return path


def test_recipe_resolution_order(tmp_path):
    recipe = load_recipe(_recipe(tmp_path))
    resolved = recipe.layer_recipes(get_network("lenet-300-100"))
    assert resolved["fc1"].weight_bits == 3 and resolved["fc1"].density == 0.2
    assert resolved["fc3"].density == 0.5 and resolved["fc3"].index_bits == 3
    assert resolved["fc1"].index_bits == 4
    scaled = parse_recipe({"density": 0.4, "weight_bits": 2, "density_scale": 0.5})
    assert scaled.layer_recipes(get_network("lenet-300-100"))["fc2"].density == 0.2


def test_paper_recipe_matches_design():
    paper = load_recipe("paper")
    resolved = paper.layer_recipes(get_network("alexnet-caffe"))
    assert resolved["conv1"].density == 0.84 and resolved["fc6"].density == 0.09
    assert resolved["conv3"].weight_bits == 8 and resolved["fc8"].weight_bits == 5
    assert all(r.index_bits == 4 for r in resolved.values())


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"densty": 0.1}, "recipe key 'densty' is unknown"),
        ({"layers": {"fc1": {"bits": 3}}}, r"recipe key layers.fc1.bits is unknown"),
        ({"kind": {"pool": {"density": 0.1}}}, "recipe kind 'pool' is unknown"),
        ({"density": 2.0}, r"density=2.0 is invalid; allowed: a number in \[0, 1\]"),
        ({"weight_bits": 0}, r"weight_bits=0 is invalid; allowed: an integer in \[1, 16\]"),
        ({"init": "best"}, "init='best'"),
        (
            {"density": 0.5, "weight_bits": 4, "layers": {"fc9": {}}},
            "layer='fc9' is not in network",
        ),
        ({"weight_bits": 4}, "layer 'fc1' has no density"),
        ({"density": 0.8, "weight_bits": 4, "density_scale": 2.0}, r"density \(after scale\)=1.6"),
    ],
)
def test_bad_recipes_get_one_line_errors(data, match):
    with pytest.raises(ValueError, match=match) as info:
        parse_recipe(data).layer_recipes(get_network("lenet-300-100"))
    assert "\n" not in str(info.value)


def test_compress_network_is_deterministic_and_checks_weights(tmp_path):
    network = get_network("lenet-300-100")
    recipe = _recipe(tmp_path)
    a = compress_network(network, recipe, seed=3)
    b = compress_network(network, recipe, seed=3)
    assert serialize(a)[0] == serialize(b)[0]
    assert a.n_pe == 64 and a.accounting.dense_bits == 32 * network.weights
    weights = {layer.name: np.zeros(layer.weight_shape) for layer in network.layers}
    empty = compress_network(network, recipe, weights=weights)
    assert empty.accounting.nonzeros == 0 and empty.accounting.entries == 0
    with pytest.raises(ValueError, match="layer='fc3' is missing"):
        compress_network(network, recipe, weights={"fc1": weights["fc1"], "fc2": weights["fc2"]})
    with pytest.raises(ValueError, match="weights shape"):
        compress_network(network, recipe, weights={**weights, "fc1": np.zeros((2, 2))})


def test_cli_storage_compress_inspect(tmp_path, capsys):
    import csv
    import io
    import json

    recipe = str(_recipe(tmp_path))
    assert (
        main(["storage", "lenet-300-100", "--recipe", recipe, "--pe", "4", "--format", "csv"]) == 0
    )
    storage = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(storage[0]) == [
        *"layer,weights,density,weight_bits,index_bits,dense_bits,p_bits,pq_bits,pqh_bits".split(
            ","
        ),
        "fillers",
        "n_pe",
    ]
    assert [row["layer"] for row in storage] == ["fc1", "fc2", "fc3", "total"]
    assert {row["n_pe"] for row in storage} == {"4"}
    out = tmp_path / "m.dcz"
    argv = ["compress", "lenet-300-100", "--recipe", recipe, "--pe", "4", "--out", str(out)]
    assert main([*argv, "--format", "csv"]) == 0
    compressed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [{k: row[k] for k in storage[0]} for row in compressed] == storage
    total = compressed[-1]
    assert int(total["container_bytes"]) == out.stat().st_size
    assert (total["container_file"], total["coding"]) == (str(out), "huffman")
    assert compressed[0]["container_bytes"] == ""  # container columns belong to the total row
    assert main(["inspect", str(out), "--format", "json"]) == 0
    inspected = json.loads(capsys.readouterr().out)
    assert [
        {k: str(row[k]) if row[k] is not None else "" for k in storage[0]} for row in inspected
    ] == storage
    assert inspected[-1]["container_bytes"] == out.stat().st_size
    assert (inspected[-1]["network"], inspected[-1]["recipe"]) == ("lenet-300-100", "small")
    assert main(["inspect", str(out)]) == 0
    assert "checksum ok" in capsys.readouterr().out
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x40
    out.write_bytes(bytes(data))
    assert main(["inspect", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dcsim: error: ") and "checksum mismatch" in err and err.count("\n") == 1
    assert main(["storage", "lenet-300-100", "--recipe", "paper"]) == 2
    assert "not in network 'lenet-300-100'" in capsys.readouterr().err
    assert main(["storage", "lenet-300-100", "--recipe", "nope"]) == 2
    assert "recipe='nope' is invalid" in capsys.readouterr().err
    assert not any(name.endswith(".tmp") for name in os.listdir(tmp_path))


# --- tampering with a recomputed checksum (issue 10 §6) -----------------------------------------
def _small_network(coding_bits: int = 3) -> CompressedNetwork:
    rng = np.random.default_rng(5)
    fc = LayerSpec("fc1", "fc", in_channels=9, out_channels=7)
    conv = LayerSpec("conv1", "conv", in_channels=2, out_channels=4, kernel=(2, 2), input_hw=(3, 3))
    layers = tuple(
        compress_layer(
            spec,
            rng.standard_normal(spec.weight_shape),
            density=0.4,
            weight_bits=coding_bits,
            index_bits=2,
            n_pe=3,
        )
        for spec in (fc, conv)
    )
    return CompressedNetwork("tiny-net", layers, "tiny-recipe")


def _resealed(blob: bytes, offset: int, value: int) -> bytes:
    """`blob` with byte `offset` set to `value` and the SHA-256 recomputed, as an attacker or a
    buggy tool would leave it."""
    import hashlib

    patched = bytearray(blob[:-32])
    patched[offset] = value
    return bytes(patched) + hashlib.sha256(bytes(patched)).digest()


@pytest.mark.parametrize("coding", CODINGS)
def test_resealed_names_and_reserved_fields_are_refused(coding):
    blob, _ = serialize(_small_network(), coding)
    net_name = blob.index(b"tiny-net")
    layer_name = blob.index(b"fc1")
    cases = {
        "control character in the network name": (net_name + 2, 0x01, "network name"),
        "control character in a layer name": (layer_name + 1, 0x07, "layer name"),
        "newline in the recipe name": (blob.index(b"tiny-recipe") + 4, 0x0A, "recipe name"),
        "reserved header byte": (7, 0x01, "reserved header byte=1"),
    }
    # The fc layer's stride is a field fc layers do not use: it must stay (1, 1).
    spec_start = layer_name + 3  # after the name: kind u8, in u32, out u32, kernel 2×u16, stride
    stride = spec_start + 1 + 4 + 4 + 4
    cases["stride of an fc layer"] = (stride, 0x02, "only conv layers have kernel, stride")
    padding = stride + 4
    cases["padding of an fc layer"] = (padding, 0x01, "only conv layers")
    for what, (offset, value, fragment) in cases.items():
        with pytest.raises(ContainerError) as info:
            deserialize(_resealed(blob, offset, value), "f.dcz")
        assert fragment in str(info.value), what
        assert "\n" not in str(info.value)


def test_container_names_must_be_printable_and_bounded_when_written():
    network = _small_network()
    for bad_name in ("tab\tname", "", "x" * 256):
        with pytest.raises(ValueError, match="network name="):
            serialize(CompressedNetwork(bad_name, network.layers, "r"))


@pytest.mark.parametrize("coding", CODINGS)
def test_the_reader_accepts_only_what_serialize_writes(coding):
    """Every single-byte change with a recomputed checksum is refused, or reads back as a
    network that serializes to exactly the changed bytes (a centroid value, a printable name
    character): there is no field the reader ignores."""
    blob, _ = serialize(_small_network(), coding)
    accepted = 0
    for offset in range(len(blob) - 32):
        for value in {blob[offset] ^ 0x01, blob[offset] ^ 0x80}:
            patched = _resealed(blob, offset, value)
            try:
                network, _ = deserialize(patched, "f.dcz")
            except ContainerError:
                continue
            accepted += 1
            assert serialize(network, coding)[0] == patched, offset
    assert accepted < 2 * (len(blob) - 32)  # most changes are refused
