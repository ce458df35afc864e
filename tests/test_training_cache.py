"""workloads.cache and the training cache keys: location, stable keys that change with every
input, atomic writes, damaged entries recomputed."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from compression.deep_compression import retrain_schedule
from compression.recipe import load_recipe, parse_recipe
from workloads import cache
from workloads.training import (
    DENSE_DIGITS_TRAINING,
    DIGITS_SETUP,
    TrainingSettings,
    dense_digits_key,
    resolve_device,
)


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("DCSIM_CACHE_DIR")
    assert cache.cache_dir() == tmp_path / "xdg" / "dcsim"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "dcsim"


def test_key_is_stable_and_canonical():
    a = cache.cache_key("dense", {"x": 1, "y": [1, 2], "z": {"b": 1.5, "a": None}})
    b = cache.cache_key("dense", {"z": {"a": None, "b": 1.5}, "y": (1, 2), "x": 1})
    assert a == b and len(a) == 64
    assert cache.cache_key("pruned", {"x": 1}) != cache.cache_key("dense", {"x": 1})


def _variants(instance):
    """One changed copy per field of a frozen dataclass (numbers nudged, strings swapped)."""
    alternatives = {
        "optimizer": "sgd",
        "schedule": "constant",
        "network": "vgg16",
        "max_steps": 3,
        "init": "torchvision",
    }
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        if f.name in alternatives:
            new = alternatives[f.name]
        elif isinstance(value, bool):
            new = not value
        elif isinstance(value, int):
            new = value + 1
        elif isinstance(value, float):
            new = value * 0.5 + 0.01
        else:  # pragma: no cover - every field is covered above
            raise AssertionError(f.name)
        yield f.name, dataclasses.replace(instance, **{f.name: new})


@pytest.fixture(scope="module")
def split():
    return DIGITS_SETUP.split()


def test_dense_key_changes_when_any_setting_changes(split):
    base = dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split)
    keys = {base}
    for name, setup in _variants(DIGITS_SETUP):
        key = dense_digits_key(setup, DENSE_DIGITS_TRAINING, split)
        assert key not in keys, name
        keys.add(key)
    for name, settings in _variants(DENSE_DIGITS_TRAINING):
        key = dense_digits_key(DIGITS_SETUP, settings, split)
        assert key not in keys, name
        keys.add(key)


def test_dense_key_covers_the_data_and_the_device(split):
    """A model trained on other data (one changed pixel) or on another device kind is another
    cache entry: the key holds the digest of the split's tensors, not only its settings."""
    base = dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split)
    x_train = split.x_train.clone()
    x_train[0, 0, 0, 0] = torch.nextafter(x_train[0, 0, 0, 0], torch.tensor(1e9))
    other = dataclasses.replace(split, x_train=x_train)
    assert other.digest != split.digest
    assert dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, other) != base
    assert dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split, "cuda") != base
    assert dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split) == base


def test_key_changes_with_torch_code_version_and_cpu(monkeypatch, split):
    base = dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split)
    monkeypatch.setattr(cache, "TRAINING_CODE_VERSION", cache.TRAINING_CODE_VERSION + 1)
    assert dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split) != base
    monkeypatch.undo()
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    assert dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split) != base
    monkeypatch.undo()
    capability = "AVX2" if torch.backends.cpu.get_cpu_capability() != "AVX2" else "AVX512"
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    other_kernels = dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split)
    assert other_kernels != base
    monkeypatch.undo()
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx2")
    assert cache.cpu_kernels().endswith("/onednn<=AVX2")
    assert dense_digits_key(DIGITS_SETUP, DENSE_DIGITS_TRAINING, split) not in (base, other_kernels)


def test_recipe_contents_reach_the_stage_keys():
    recipe = load_recipe("digits")
    schedule = retrain_schedule(recipe)
    assert schedule.prune.epochs == 2.0 and schedule.quantize.max_steps == 8
    changed = parse_recipe(
        {**_raw("digits"), "training": {"prune": {"epochs": 3.0}}}, default_name="digits"
    )
    assert dataclasses.asdict(retrain_schedule(changed).prune) != dataclasses.asdict(schedule.prune)


def _raw(name: str) -> dict:
    import tomllib
    from importlib import resources

    text = resources.files("compression").joinpath(f"recipes/{name}.toml").read_text()
    return tomllib.loads(text)


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"warmup": {}}, "training.warmup is unknown"),
        ({"prune": {"epoch": 1}}, "training.prune.epoch is unknown"),
        ({"prune": {"optimizer": "lbfgs"}}, "optimizer='lbfgs' is invalid"),
        ({"quantize": {"max_steps": 1.5}}, "max_steps=1.5 is invalid"),
    ],
)
def test_bad_training_table_is_a_one_line_error(training, message):
    recipe = parse_recipe({**_raw("digits"), "training": training})
    with pytest.raises(ValueError, match=message) as error:
        retrain_schedule(recipe)
    assert "\n" not in str(error.value)


def test_store_is_atomic_and_damaged_entries_are_misses(monkeypatch, tmp_path):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path))
    key = cache.cache_key("dense", {"a": 1})
    assert cache.load_entry("dense", key) is None
    path = cache.store_entry("dense", key, {"w": torch.arange(4.0), "n": 3})
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{key}.pt"]
    entry = cache.load_entry("dense", key)
    assert torch.equal(entry["w"], torch.arange(4.0)) and entry["n"] == 3
    path.write_bytes(b"not a torch file")
    assert cache.load_entry("dense", key) is None


def test_settings_validation_and_steps():
    with pytest.raises(ValueError, match="batch_size=0 is invalid"):
        TrainingSettings(batch_size=0)
    assert TrainingSettings(epochs=2, batch_size=100).steps(250) == 6
    assert TrainingSettings(epochs=0.5, batch_size=100, max_steps=1).steps(250) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_unavailable_is_a_clear_error():
    with pytest.raises(ValueError, match="device='cuda' is not available"):
        resolve_device("cuda")
