"""The shipped `digits` recipe's claim: P+Q+H compression >= 35x with top-1 loss <= 0.5
points and retrieval mAP loss <= 1 point against the dense model, measured end to end in a
temporary cache (dense training, pruning with retraining, trained quantization, encoding,
evaluation), then served again from the cache.

The same numbers come from `dcsim compress alexnet --weights digits --recipe digits --out
digits.dcz`, recorded in the README ("Accuracy on digits") for each instruction set of torch's
CPU kernels (they round differently, so the trained weights differ); training is deterministic
otherwise (any thread count, any run). `test_readme_records_what_this_machine_gets` checks the
README's row for the kernels this machine runs, so a recorded claim that stops reproducing
fails here (issue 10) instead of being found by a user.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from compression import load_container
from dcsim.accuracy import digits_pipeline
from workloads.cache import cpu_kernels
from workloads.training import DENSE_DIGITS_TRAINING

README = Path(__file__).resolve().parents[1] / "README.md"

# The schedule: the default dense training and the recipe's own retraining schedule. Shorter
# schedules were tried and do not hold the claim (dense 6 epochs + 1 epoch per prune step:
# top-1 93.1 % -> 88.7 %), so this is the full schedule; it takes about 3-4 minutes cold on
# 2 cores and is marked slow.
DENSE = DENSE_DIGITS_TRAINING
SCHEDULE = None  # the recipe's [training] table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DCSIM_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        first = digits_pipeline("digits", dense_training=DENSE, schedule=SCHEDULE)
        second = digits_pipeline("digits", dense_training=DENSE, schedule=SCHEDULE)
    return first, second


def test_digits_recipe_claim(reports):
    report, _ = reports
    row = report.metric_row()
    assert row["top1_dense"] >= 0.97, row  # the dense baseline target (issue 5)
    assert row["compression_ratio"] >= 35.0, row
    assert (row["top1_dense"] - row["top1_compressed"]) * 100 <= 0.5, row
    assert (row["map_dense"] - row["map_compressed"]) * 100 <= 1.0, row


def test_second_run_is_served_from_the_cache(reports):
    first, second = reports
    assert not any(first.from_cache.values())
    assert all(second.from_cache.values())
    assert second.metric_row() == first.metric_row()
    for a, b in zip(first.compressed.layers, second.compressed.layers):
        assert np.array_equal(a.codebook, b.codebook) and np.array_equal(a.codes(), b.codes())


def recorded_rows() -> dict[str, dict[str, float]]:
    """The README's table of recorded runs: kernels → metric (percent, bytes, ratio)."""
    rows = {}
    pair = r"([\d.]+) → ([\d.]+) %"
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(
            r"\| `(\w+)`[^|]*\|" + (rf" {pair} \|" * 4) + r" ([\d,]+) bytes \| ([\d.]+)× \|$", line
        )
        if match:
            values = [float(v.replace(",", "")) for v in match.groups()[1:]]
            names = [
                f"{metric}_{model}"
                for metric in ("top1", "top5", "map", "precision_at_10")
                for model in ("dense", "compressed")
            ]
            rows[match.group(1)] = {
                **dict(zip(names, values[:8], strict=True)),
                "container_bytes": values[8],
                "compression_ratio": values[9],
            }
    return rows


def test_readme_records_what_this_machine_gets(reports, tmp_path):
    from compression import save_container

    rows = recorded_rows()
    assert {"AVX512", "AVX2"} <= set(rows), "the README's table of recorded runs moved"
    capability, _, limit = cpu_kernels().partition("/onednn<=")
    if limit and limit != capability:
        pytest.skip(f"torch kernels {cpu_kernels()} mix instruction sets; none recorded")
    if capability not in rows:
        pytest.skip(f"no run recorded in the README for torch's {capability} kernels")
    recorded = rows[capability]
    report, _ = reports
    row = report.metric_row(save_container(tmp_path / "digits.dcz", report.compressed).file_bytes)
    for name, value in recorded.items():
        if name == "container_bytes":
            assert row[name] == value, (name, row[name], value)
        elif name == "compression_ratio":
            assert round(row[name], 2) == value, (name, row[name], value)
        else:
            assert round(row[name] * 100, 2) == value, (name, row[name], value)


def test_container_holds_the_evaluated_weights(reports, tmp_path):
    from compression import save_container

    report, _ = reports
    info = save_container(tmp_path / "digits.dcz", report.compressed)
    loaded, _ = load_container(tmp_path / "digits.dcz")
    assert info.file_bytes == (tmp_path / "digits.dcz").stat().st_size
    modules = dict(report.result.model.named_modules())
    network = report.compressed
    for layer in loaded.layers:
        weight = modules[_path(layer.name)].weight.detach().numpy()
        assert np.array_equal(layer.dequantized_weights(), weight)
        assert np.count_nonzero(weight) == np.count_nonzero(report.result.masks[layer.name])
    assert len(loaded.layers) == len(network.layers)
    examples = report.compressed_eval.retrieval_examples
    assert len(examples) == 6 and all(len(v) == 5 for v in examples.values())


def _path(name: str) -> str:
    from workloads.networks import get_network

    return get_network("alexnet", num_classes=10, input_size=64).module_paths[name]
