"""Compression benchmarks: 1-D k-means vs scikit-learn, Huffman throughput vs a pure-Python
coder, and the CPU time of one alexnet-caffe compression setting (the sweep's unit of
compression work) against the previous path — each baseline measured in the same run.

Part of `benchmarks/` (speed is measured here, never asserted in tests). Run through
`benchmarks/run.py compression`, or directly: `.venv/bin/python benchmarks/bench_compression.py`.
"""

from __future__ import annotations

import hashlib
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from compression_baseline import compress_network_before
from sklearn.cluster import KMeans

from compression import compress_network, huffman, save_container
from compression.compressed_network import clear_synthetic_cache, synthetic_sorted_weights
from compression.container import serialize
from compression.pruning import apply_mask, magnitude_mask
from compression.sparse_format import encode_sparse
from compression.weight_sharing import initial_centroids, kmeans_1d, share_weights
from workloads import get_network
from workloads.synthetic import synthetic_weights

PYTHON_CODER_SYMBOLS = 200_000


def fc6_survivors() -> np.ndarray:
    """fc6 of alexnet-caffe, synthetic weights, pruned to the paper's 9%: 3.4 M values."""
    fc6 = get_network("alexnet-caffe").layer("fc6")
    weights = synthetic_weights(fc6, seed=0)
    pruned = apply_mask(weights, magnitude_mask(weights, 0.09))
    return pruned[pruned != 0]


def bench_kmeans(values: np.ndarray, k: int = 31) -> dict:
    kmeans_1d(values[:1000], k)  # JIT warm-up (cached on disk after the first run)
    start = time.perf_counter()
    ours = kmeans_1d(values, k, init="linear")
    ours_s = time.perf_counter() - start
    init = initial_centroids(np.sort(values), k, "linear").reshape(-1, 1)
    start = time.perf_counter()
    reference = KMeans(k, init=init, n_init=1, algorithm="lloyd").fit(
        values.astype(np.float64).reshape(-1, 1)
    )
    sklearn_s = time.perf_counter() - start
    row = {
        "benchmark": "kmeans_fc6",
        "values": int(values.size),
        "clusters": k,
        "ours_s": ours_s,
        "sklearn_s": sklearn_s,
        "speedup": sklearn_s / ours_s,
        "ours_inertia": ours.inertia,
        "sklearn_inertia": float(reference.inertia_),
        "ours_iterations": ours.iterations,
        "sklearn_iterations": int(reference.n_iter_),
    }
    print(
        f"k-means, {values.size:,} fc6 survivors, k={k}: ours {ours_s:.3f} s "
        f"({ours.iterations} iterations, inertia {ours.inertia:.6g}) vs scikit-learn "
        f"{sklearn_s:.2f} s ({reference.n_iter_} iterations, inertia {reference.inertia_:.6g}): "
        f"{row['speedup']:.0f}x faster, inertia ratio ours/sklearn "
        f"{ours.inertia / reference.inertia_:.6f}"
    )
    return row


def python_encode(symbols, codes, lengths) -> bytes:
    words = [
        format(int(codes[s]), f"0{int(lengths[s])}b") if lengths[s] else ""
        for s in range(len(lengths))
    ]
    bits = "".join(words[s] for s in symbols)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def python_decode(data: bytes, codes, lengths, count) -> list[int]:
    table = {
        format(int(codes[s]), f"0{int(lengths[s])}b"): s for s in range(len(lengths)) if lengths[s]
    }
    out, word = [], ""
    for bit in "".join(format(b, "08b") for b in data):
        if len(out) == count:
            break
        word += bit
        symbol = table.get(word)
        if symbol is not None:
            out.append(symbol)
            word = ""
    return out


def bench_huffman(streams: dict[str, tuple[np.ndarray, int]]) -> list[dict]:
    rows = []
    for name, (symbols, alphabet) in streams.items():
        table = huffman.build_table(np.bincount(symbols, minlength=alphabet))
        data, _ = huffman.encode(symbols[:100], table)  # warm-up
        huffman.decode(data, table, 100)
        start_encode = time.perf_counter()
        data, n_bits = huffman.encode(symbols, table)
        middle = time.perf_counter()
        decoded = huffman.decode(data, table, symbols.size)
        ours_s = time.perf_counter() - start_encode
        assert np.array_equal(decoded, symbols)
        subset = symbols[:PYTHON_CODER_SYMBOLS].tolist()
        codes, lengths = table.codes(), table.lengths
        start = time.perf_counter()
        py_data = python_encode(subset, codes, lengths)
        py_decoded = python_decode(py_data, codes, lengths, len(subset))
        python_s = time.perf_counter() - start
        assert py_decoded == subset
        ours_rate = symbols.size / ours_s
        python_rate = len(subset) / python_s
        rows.append(
            {
                "benchmark": f"huffman_{name}",
                "symbols": int(symbols.size),
                "bits_per_symbol": n_bits / symbols.size,
                "encode_s": middle - start_encode,
                "decode_s": ours_s - (middle - start_encode),
                "ours_symbols_per_s": ours_rate,
                "python_symbols_per_s": python_rate,
                "speedup": ours_rate / python_rate,
            }
        )
        print(
            f"Huffman {name}: {symbols.size:,} symbols, {n_bits / symbols.size:.3f} bits/symbol; "
            f"encode+decode {ours_rate / 1e6:.1f} M symbols/s vs pure Python "
            f"{python_rate / 1e6:.3f} M symbols/s: {ours_rate / python_rate:.0f}x"
        )
    return rows


SETTINGS: tuple[tuple[str, float, int, int, str], ...] = (
    # label, density_scale (× the paper's per-layer densities), conv bits, fc bits, init
    ("paper", 1.0, 8, 5, "linear"),
    ("scale 0.8", 0.8, 8, 5, "linear"),
    ("scale 1.1, 6/4 bits", 1.1, 6, 4, "linear"),
    ("scale 0.5, 4/2 bits, density init", 0.5, 4, 2, "density"),
    ("paper, random init", 1.0, 8, 5, "random"),
)


def _setting_recipe(scale: float, conv_bits: int, fc_bits: int, init: str):
    from compression.recipe import parse_recipe, recipe_data

    data, _ = recipe_data("paper")
    kinds = {kind: dict(table) for kind, table in data["kind"].items()}
    kinds["conv"]["weight_bits"] = conv_bits
    kinds["fc"]["weight_bits"] = fc_bits
    return parse_recipe({**data, "kind": kinds, "density_scale": scale, "init": init})


def _digest(network) -> str:
    return hashlib.sha256(serialize(network, "huffman")[0]).hexdigest()


def bench_settings() -> list[dict]:
    """CPU seconds (time.process_time) per compression setting of alexnet-caffe with synthetic
    weights on one PE (what `dcsim sweep` computes per setting): the previous path
    (`compression_baseline`, weights drawn once and reused as before) and the current one
    (`compress_network(weights=None)`: weights drawn and sorted once per process), in the
    same run; the first setting of each includes drawing the 60.9 M weights. Both must give
    the same .dcz bytes."""
    network = get_network("alexnet-caffe")
    recipes = [_setting_recipe(*setting[1:]) for setting in SETTINGS]
    warm = get_network("lenet-300-100")  # JIT warm-up of both paths (cached on disk after)
    compress_network_before(
        warm, _tiny_recipe(), {s.name: synthetic_weights(s) for s in warm.layers}, 1
    )
    compress_network(warm, _tiny_recipe(), n_pe=1)
    clear_synthetic_cache()

    before_s, digests = [], []
    start = time.process_time()
    weights = {spec.name: synthetic_weights(spec, 0) for spec in network.layers}
    draw_s = time.process_time() - start
    for recipe in recipes:
        compressed = compress_network_before(network, recipe, weights, 1)
        before_s.append(time.process_time() - start)
        digests.append(_digest(compressed))
        start = time.process_time()
    del weights, compressed

    after_s = []
    start = time.process_time()
    for recipe, digest in zip(recipes, digests, strict=True):
        compressed = compress_network(network, recipe, n_pe=1)
        after_s.append(time.process_time() - start)
        if _digest(compressed) != digest:
            raise AssertionError(f"recipe {recipe.name}: containers differ from the baseline")
        start = time.process_time()
    held = sum(w.nbytes for w in synthetic_sorted_weights(network, 0).values())
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        info = save_container(Path(folder) / "alexnet.dcz", compressed)
        save_s = time.perf_counter() - start
    clear_synthetic_cache()

    rows = []
    print("alexnet-caffe, synthetic weights, one PE — CPU s per compression setting (process_time)")
    print(f"{'setting':<36} {'before':>8} {'after':>8} {'ratio':>7}")
    for (label, *_), before, after in zip(SETTINGS, before_s, after_s, strict=True):
        print(f"{label:<36} {before:8.2f} {after:8.2f} {before / after:6.1f}x")
        rows.append({"benchmark": f"setting {label}", "before_cpu_s": before, "after_cpu_s": after})
    later_before = sum(before_s[1:]) / (len(before_s) - 1)
    later_after = sum(after_s[1:]) / (len(after_s) - 1)
    print(
        f"first setting of a process (incl. drawing the weights, {draw_s:.2f} s of it in the "
        f"baseline): {before_s[0]:.2f} s -> {after_s[0]:.2f} s "
        f"({before_s[0] / after_s[0]:.1f}x); later settings, mean: "
        f"{later_before:.2f} s -> {later_after:.2f} s ({later_before / later_after:.1f}x); "
        f"containers identical ({len(SETTINGS)} settings)"
    )
    print(
        f"held between settings: {held / 1e6:.0f} MB (weights + sorted survivors); peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; write .dcz "
        f"{save_s:.2f} s ({info.file_bytes:,} bytes)"
    )
    rows.append(
        {
            "benchmark": "settings_summary",
            "draw_weights_cpu_s": draw_s,
            "first_before_cpu_s": before_s[0],
            "first_after_cpu_s": after_s[0],
            "later_before_cpu_s": later_before,
            "later_after_cpu_s": later_after,
            "held_bytes": held,
        }
    )
    return rows


def _tiny_recipe():
    from compression.recipe import parse_recipe

    return parse_recipe({"density": 0.1, "weight_bits": 5}, "warm-up")


def main() -> list[dict]:
    survivors = fc6_survivors()
    rows = [bench_kmeans(survivors)]
    fc6 = get_network("alexnet-caffe").layer("fc6")
    pruned = apply_mask(synthetic_weights(fc6, 0), magnitude_mask(synthetic_weights(fc6, 0), 0.09))
    _, codes = share_weights(pruned, 5)
    sparse = encode_sparse(codes.reshape(fc6.matrix_shape), 64, 4)
    rows += bench_huffman(
        {
            "fc6_indices": (sparse.entry_code, 32),
            "fc6_gaps": (sparse.entry_gap, 16),
        }
    )
    rows += bench_settings()
    return rows


if __name__ == "__main__":
    main()
