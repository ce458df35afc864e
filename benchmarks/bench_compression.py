"""Compression benchmarks: 1-D k-means vs scikit-learn, Huffman throughput vs a pure-Python
coder, and whole-AlexNet compression — each baseline measured in the same run.

Part of `benchmarks/` (speed is measured here, never asserted in tests). Run through
`benchmarks/run.py compression`, or directly: `.venv/bin/python benchmarks/bench_compression.py`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans

from compression import compress_network, huffman, save_container
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


def bench_alexnet() -> dict:
    network = get_network("alexnet-caffe")
    compress_network(get_network("lenet-300-100"), _tiny_recipe(), n_pe=4)  # JIT warm-up
    start = time.perf_counter()
    compressed = compress_network(network, "paper")
    compress_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        info = save_container(Path(folder) / "alexnet.dcz", compressed)
        save_s = time.perf_counter() - start
    total = compressed.accounting
    print(
        f"alexnet-caffe, paper recipe, synthetic weights: compress {compress_s:.1f} s, "
        f"write .dcz {save_s:.1f} s ({info.file_bytes:,} bytes; P+Q {total.pq_ratio:.1f}x, "
        f"P+Q+H {total.pqh_ratio:.1f}x)"
    )
    return {
        "benchmark": "compress_alexnet",
        "compress_s": compress_s,
        "save_s": save_s,
        "file_bytes": info.file_bytes,
        "pq_ratio": total.pq_ratio,
        "pqh_ratio": total.pqh_ratio,
    }


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
    rows.append(bench_alexnet())
    return rows


if __name__ == "__main__":
    main()
