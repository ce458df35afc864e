"""Storage accounting of a compressed layer and network: how many bits each stage costs.

Part of `compression` (DESIGN §3.7): the numbers `dcsim storage` prints and the footprint the
reports quote. Every figure counts what the `.dcz` container writes for the layer's payload,
with each stream padded to a whole byte, so `pq_bits` / `pqh_bits` equal 8 × the payload bytes
of a container written with fixed-width / Huffman coding (tests check it). Per-layer metadata
(name, shapes, counts: a few dozen bytes) and the file header and checksum are container
overhead, reported separately by the container, not in these bits.

Definitions, for a layer of n weights stored as E entries (fillers included) over N PEs,
b weight bits, r index bits, C matrix columns:
- `dense_bits` = 32 n: every weight as a 32-bit float.
- `pointer_bits` = bytes(N × (C + 1) × w) × 8: EIE's per-PE column pointers, C + 1 per PE,
  each w = max(16, bit length of the largest per-PE entry count) bits (16 in EIE; wider only
  when a PE holds more than 65,535 entries).
- `p_bits` (pruned only) = bytes(E × 32) + bytes(E × r) + pointer_bits: the same relative-index
  format with each stored value a 32-bit float instead of a codebook index.
- `codebook_bits` = (2**b − 1) × 32: the non-zero centroids as float32 (code 0, the zero
  weight, is implicit and not stored).
- `pq_bits` (pruned + quantized) = bytes(E × b) [indices, fillers included]
  + bytes(E × r) [gaps, fillers included] + codebook_bits + pointer_bits.
- `pqh_bits` (pruned + quantized + Huffman) = bytes(Huffman stream of the E indices)
  + bytes(Huffman stream of the E gaps) + (2**b + 2**r) × 8 [the two canonical tables, one
  code-length byte per alphabet symbol] + codebook_bits + pointer_bits.
Here bytes(x bits) means ceil(x / 8) × 8. The compression rate (Deep Compression Table 4) is
compressed bits / dense_bits; `*_ratio` is its inverse (dense / compressed, "27×").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numba
import numpy as np

from compression.huffman import HuffmanTable, build_table
from compression.sparse_format import SparseMatrix

DENSE_WEIGHT_BITS = 32
CODEBOOK_ENTRY_BITS = 32
HUFFMAN_LENGTH_BITS = 8
MIN_POINTER_BITS = 16

STORAGE_COLUMNS: tuple[str, ...] = (
    "layer",
    "weights",
    "density",
    "weight_bits",
    "index_bits",
    "dense_bits",
    "p_bits",
    "pq_bits",
    "pqh_bits",
    "fillers",
)


def byte_aligned(bits: int) -> int:
    """`bits` rounded up to a whole number of bytes, in bits."""
    return (int(bits) + 7) // 8 * 8


def pointer_width(sparse: SparseMatrix) -> int:
    """Bits of one column pointer: max(16, bit length of the largest per-PE entry count)."""
    largest = int(sparse.entries_per_pe.max()) if sparse.n_pe else 0
    return max(MIN_POINTER_BITS, largest.bit_length())


@numba.njit(cache=True)
def _uint16_histogram(symbols):
    counts = np.zeros(1 << 16, np.int64)
    for i in range(symbols.shape[0]):
        counts[symbols[i]] += 1
    return counts


def _bincount(symbols: np.ndarray, minlength: int) -> np.ndarray:
    """np.bincount(symbols, minlength=minlength), without its int64 copy for uint16 input."""
    if symbols.dtype != np.uint16 or symbols.ndim != 1:
        return np.bincount(symbols, minlength=minlength)
    counts = _uint16_histogram(symbols)
    used = np.flatnonzero(counts)
    return counts[: max(minlength, int(used[-1]) + 1 if used.size else 0)].copy()


def symbol_counts(sparse: SparseMatrix, weight_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-symbol counts of the entry codes (alphabet 2**b) and entry gaps (alphabet 2**r)."""
    code_counts = _bincount(sparse.entry_code, 1 << weight_bits)
    gap_counts = _bincount(sparse.entry_gap, 1 << sparse.index_bits)
    return code_counts, gap_counts


def huffman_tables(sparse: SparseMatrix, weight_bits: int) -> tuple[HuffmanTable, HuffmanTable]:
    """The layer's two canonical Huffman tables: over entry codes and over entry gaps."""
    code_counts, gap_counts = symbol_counts(sparse, weight_bits)
    return build_table(code_counts), build_table(gap_counts)


@dataclass(frozen=True)
class LayerAccounting:
    """Bits of one compressed layer (see the module docstring for each definition)."""

    layer: str
    weights: int
    nonzeros: int
    density: float
    weight_bits: int
    index_bits: int
    n_pe: int
    entries: int
    fillers: int
    pointer_width: int
    dense_bits: int
    pointer_bits: int
    codebook_bits: int
    index_stream_bits: int
    gap_stream_bits: int
    huffman_index_bits: int
    huffman_gap_bits: int
    huffman_table_bits: int
    p_bits: int
    pq_bits: int
    pqh_bits: int

    def storage_row(self) -> dict:
        """The columns of `dcsim storage`."""
        return {name: getattr(self, name) for name in STORAGE_COLUMNS}

    def as_dict(self) -> dict:
        return asdict(self)


def layer_accounting(
    name: str, weights: int, weight_bits: int, sparse: SparseMatrix
) -> LayerAccounting:
    """Account a layer of `weights` weights stored as `sparse` with b = `weight_bits`."""
    entries = sparse.n_entries
    r = sparse.index_bits
    width = pointer_width(sparse)
    pointer_bits = byte_aligned(sparse.n_pe * (sparse.cols + 1) * width)
    codebook_bits = ((1 << weight_bits) - 1) * CODEBOOK_ENTRY_BITS
    index_stream_bits = byte_aligned(entries * weight_bits)
    gap_stream_bits = byte_aligned(entries * r)
    code_counts, gap_counts = symbol_counts(sparse, weight_bits)
    huffman_index_bits = byte_aligned(build_table(code_counts).encoded_bits(code_counts))
    huffman_gap_bits = byte_aligned(build_table(gap_counts).encoded_bits(gap_counts))
    huffman_table_bits = ((1 << weight_bits) + (1 << r)) * HUFFMAN_LENGTH_BITS
    fillers = int(code_counts[0]) if code_counts.size else 0
    nonzeros = entries - fillers
    shared = codebook_bits + pointer_bits
    return LayerAccounting(
        layer=name,
        weights=int(weights),
        nonzeros=nonzeros,
        density=nonzeros / weights if weights else 0.0,
        weight_bits=int(weight_bits),
        index_bits=r,
        n_pe=sparse.n_pe,
        entries=entries,
        fillers=fillers,
        pointer_width=width,
        dense_bits=DENSE_WEIGHT_BITS * int(weights),
        pointer_bits=pointer_bits,
        codebook_bits=codebook_bits,
        index_stream_bits=index_stream_bits,
        gap_stream_bits=gap_stream_bits,
        huffman_index_bits=huffman_index_bits,
        huffman_gap_bits=huffman_gap_bits,
        huffman_table_bits=huffman_table_bits,
        p_bits=byte_aligned(entries * DENSE_WEIGHT_BITS) + gap_stream_bits + pointer_bits,
        pq_bits=index_stream_bits + gap_stream_bits + shared,
        pqh_bits=huffman_index_bits + huffman_gap_bits + huffman_table_bits + shared,
    )


@dataclass(frozen=True)
class NetworkAccounting:
    """Totals over a network's layers, with the compression ratios dense / compressed."""

    weights: int
    nonzeros: int
    entries: int
    fillers: int
    dense_bits: int
    p_bits: int
    pq_bits: int
    pqh_bits: int

    @property
    def density(self) -> float:
        return self.nonzeros / self.weights if self.weights else 0.0

    @property
    def p_ratio(self) -> float:
        return self.dense_bits / self.p_bits if self.p_bits else float("inf")

    @property
    def pq_ratio(self) -> float:
        return self.dense_bits / self.pq_bits if self.pq_bits else float("inf")

    @property
    def pqh_ratio(self) -> float:
        return self.dense_bits / self.pqh_bits if self.pqh_bits else float("inf")

    @classmethod
    def total(cls, layers: list[LayerAccounting]) -> NetworkAccounting:
        return cls(**{f: sum(getattr(a, f) for a in layers) for f in cls.__dataclass_fields__})

    def storage_row(self) -> dict:
        """The `total` row of `dcsim storage` (bits columns summed; bits columns blank)."""
        return {
            "layer": "total",
            "weights": self.weights,
            "density": self.density,
            "weight_bits": None,
            "index_bits": None,
            "dense_bits": self.dense_bits,
            "p_bits": self.p_bits,
            "pq_bits": self.pq_bits,
            "pqh_bits": self.pqh_bits,
            "fillers": self.fillers,
        }


def storage_rows(layers: list[LayerAccounting]) -> list[dict]:
    """One `dcsim storage` row per layer, then the total."""
    return [a.storage_row() for a in layers] + [NetworkAccounting.total(layers).storage_row()]


def ratio_summary(total: NetworkAccounting) -> str:
    """One line: each stage's compression ratio and rate, e.g. 'P+Q 27.0× (3.70%)'."""
    parts = []
    for label, bits in (("P", total.p_bits), ("P+Q", total.pq_bits), ("P+Q+H", total.pqh_bits)):
        ratio = total.dense_bits / bits if bits else float("inf")
        rate = bits / total.dense_bits if total.dense_bits else 0.0
        parts.append(f"{label} {ratio:.1f}x ({rate:.2%}, {bits / 8 / 1e6:.2f} MB)")
    return f"dense {total.dense_bits / 8 / 1e6:.2f} MB; " + "; ".join(parts)
