"""Canonical Huffman coding of a layer's weight indices and gaps, on real packed bit streams.

Part of `compression` (DESIGN §3.5), the last step of encode: the entry codes and the entry
gaps of a layer's sparse format are each Huffman-coded with their own per-layer table.

- `HuffmanTable` holds one code length per alphabet symbol (0 = symbol absent). Codes are
  canonical (DEFLATE's rule: shorter codes first, then by symbol), so the lengths alone define
  the code — that is all the container stores (one byte per alphabet symbol).
- Lengths come from a classic Huffman tree over the symbol counts (ties broken by symbol, so
  tables are deterministic) and are limited to `MAX_CODE_LENGTH` bits with JPEG's Annex K.3
  adjustment. A one-symbol alphabet gets a 1-bit code; an empty one has no codes and encodes
  to an empty stream.
- Streams are MSB-first, padded with zero bits to a whole byte. Encode and decode are Numba
  kernels; decode uses a 2**11-entry lookup table with a canonical bit-by-bit fallback for
  longer codes, and refuses a stream that is too short, holds an invalid code or has non-zero
  padding.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numba
import numpy as np

from compression.checks import check_int

MAX_CODE_LENGTH = 24
LOOKUP_BITS = 11
MAX_ALPHABET = 1 << 16


@dataclass(frozen=True, eq=False)
class HuffmanTable:
    """Canonical Huffman code over symbols 0 .. alphabet_size − 1, given by code lengths."""

    lengths: np.ndarray  # uint8 [alphabet_size]; 0 = symbol not in the code

    @property
    def alphabet_size(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def max_length(self) -> int:
        return int(self.lengths.max()) if self.lengths.size else 0

    def codes(self) -> np.ndarray:
        """int64 [alphabet_size]: the canonical code word of each symbol (0 where absent)."""
        return canonical_codes(self.lengths)

    def encoded_bits(self, counts: np.ndarray) -> int:
        """Exact bit length of a stream with the given per-symbol counts."""
        return int(np.dot(np.asarray(counts, np.int64), self.lengths.astype(np.int64)))


def _limit_lengths(length_counts: list[int], limit: int) -> list[int]:
    """JPEG Annex K.3: move codes longer than `limit` up, keeping the Kraft sum == 1."""
    counts = list(length_counts)
    for length in range(len(counts) - 1, limit, -1):
        while counts[length] > 0:
            j = length - 2
            while counts[j] == 0:
                j -= 1
            counts[length] -= 2
            counts[length - 1] += 1
            counts[j + 1] += 2
            counts[j] -= 1
    return counts[: limit + 1]


def build_table(counts: np.ndarray, max_length: int = MAX_CODE_LENGTH) -> HuffmanTable:
    """Huffman table for symbol frequencies `counts` (int [alphabet_size])."""
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size > MAX_ALPHABET:
        raise ValueError(
            f"counts shape={counts.shape} is invalid; allowed: 1-D, at most {MAX_ALPHABET}"
        )
    if counts.size and int(counts.min()) < 0:
        raise ValueError(f"counts value={int(counts.min())} is invalid; allowed: >= 0")
    max_length = check_int("max_length", max_length, 1, MAX_CODE_LENGTH)
    lengths = np.zeros(counts.size, np.uint8)
    used = [int(s) for s in np.flatnonzero(counts)]
    if not used:
        return HuffmanTable(lengths)
    if len(used) == 1:
        lengths[used[0]] = 1
        return HuffmanTable(lengths)
    if len(used) > (1 << max_length):
        raise ValueError(f"max_length={max_length} is invalid; allowed: >= log2(symbols used)")
    # heap items: (count, tie, node); leaves are symbols, internal nodes are (left, right)
    heap = [(int(counts[s]), s, s) for s in used]
    heapq.heapify(heap)
    tie = counts.size
    children: dict[int, tuple[int, int]] = {}
    while len(heap) > 1:
        c1, _, n1 = heapq.heappop(heap)
        c2, _, n2 = heapq.heappop(heap)
        children[tie] = (n1, n2)
        heapq.heappush(heap, (c1 + c2, tie, tie))
        tie += 1
    depth = {heap[0][2]: 0}
    stack = [heap[0][2]]
    tree_lengths = {}
    while stack:
        node = stack.pop()
        if node in children:
            for child in children[node]:
                depth[child] = depth[node] + 1
                stack.append(child)
        else:
            tree_lengths[node] = depth[node]
    longest = max(tree_lengths.values())
    per_length = [0] * (longest + 1)
    for length in tree_lengths.values():
        per_length[length] += 1
    if longest > max_length:
        per_length = _limit_lengths(per_length, max_length)
    # most frequent symbols (ties: lower symbol) take the shortest lengths
    order = sorted(used, key=lambda s: (-int(counts[s]), s))
    position = 0
    for length, how_many in enumerate(per_length):
        for s in order[position : position + how_many]:
            lengths[s] = length
        position += how_many
    return HuffmanTable(lengths)


def table_from_lengths(lengths: np.ndarray) -> HuffmanTable:
    """A table from stored code lengths; refuses lengths that do not form a complete prefix
    code (Kraft sum must be exactly 1, or a single 1-bit code, or no code at all)."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size > MAX_ALPHABET:
        raise ValueError(f"code lengths shape={lengths.shape} is invalid; allowed: 1-D")
    if lengths.size and int(lengths.max()) > MAX_CODE_LENGTH:
        raise ValueError(
            f"code length={int(lengths.max())} is invalid; allowed: <= {MAX_CODE_LENGTH}"
        )
    used = lengths[lengths > 0].astype(np.int64)
    kraft = int(np.sum(np.int64(1) << (MAX_CODE_LENGTH - used))) if used.size else 0
    complete = kraft == (1 << MAX_CODE_LENGTH)
    single = used.size == 1 and int(used[0]) == 1
    if used.size and not (complete or single):
        raise ValueError("Huffman code lengths are invalid; allowed: a complete prefix code")
    return HuffmanTable(lengths.astype(np.uint8))


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Canonical code words for `lengths` (DEFLATE's assignment)."""
    lengths = np.asarray(lengths, np.int64)
    codes = np.zeros(lengths.size, np.int64)
    if not lengths.size or lengths.max() == 0:
        return codes
    longest = int(lengths.max())
    per_length = np.bincount(lengths, minlength=longest + 1)
    per_length[0] = 0
    next_code = np.zeros(longest + 2, np.int64)
    code = 0
    for length in range(1, longest + 1):
        code = (code + int(per_length[length - 1])) << 1
        next_code[length] = code
    for symbol in range(lengths.size):
        length = int(lengths[symbol])
        if length:
            codes[symbol] = next_code[length]
            next_code[length] += 1
    return codes


@numba.njit(cache=True)
def _encoded_bits(symbols, lengths):
    """Total bits of `symbols`; -1 - i if symbol i is outside the table."""
    total = np.int64(0)
    alphabet = lengths.shape[0]
    for i in range(symbols.shape[0]):
        s = np.int64(symbols[i])
        if s < 0 or s >= alphabet or lengths[s] == 0:
            return -1 - i
        total += lengths[s]
    return total


@numba.njit(cache=True)
def _encode(symbols, codes, lengths, out):
    buf = np.int64(0)
    nbits = 0
    k = 0
    for i in range(symbols.shape[0]):
        s = symbols[i]
        length = lengths[s]
        buf = (buf << length) | codes[s]
        nbits += length
        if nbits >= 32:
            nbits -= 32
            word = buf >> nbits
            out[k] = (word >> 24) & 0xFF
            out[k + 1] = (word >> 16) & 0xFF
            out[k + 2] = (word >> 8) & 0xFF
            out[k + 3] = word & 0xFF
            k += 4
            buf &= (np.int64(1) << nbits) - 1
    while nbits >= 8:
        nbits -= 8
        out[k] = (buf >> nbits) & 0xFF
        k += 1
    if nbits > 0:
        out[k] = (buf << (8 - nbits)) & 0xFF


def encode(symbols: np.ndarray, table: HuffmanTable) -> tuple[np.ndarray, int]:
    """(uint8 stream, exact bit length) of integer `symbols` under `table`."""
    symbols = np.ascontiguousarray(symbols).ravel()
    if symbols.size == 0:
        return np.zeros(0, np.uint8), 0
    if symbols.dtype.kind not in "iu":
        raise ValueError(f"symbols dtype={symbols.dtype} is invalid; allowed: integers")
    lengths = table.lengths.astype(np.int64)
    n_bits = int(_encoded_bits(symbols, lengths))
    if n_bits < 0:
        bad = int(symbols[-1 - n_bits])
        raise ValueError(f"symbol={bad} is invalid; allowed: symbols present in the table")
    out = np.zeros((n_bits + 7) // 8, np.uint8)
    _encode(symbols, table.codes(), lengths, out)
    return out, n_bits


@numba.njit(cache=True)
def _decode(
    data,
    count,
    lookup_symbol,
    lookup_length,
    peek,
    first_code,
    first_index,
    per_length,
    sorted_symbols,
    max_length,
    out,
):
    """Returns 0 on success, 1 if the stream ends early, 2 on an invalid code, 3 on non-zero
    padding or unused trailing bytes."""
    n_bytes = data.shape[0]
    buf = np.int64(0)
    nbits = 0
    k = 0
    peek_mask = (np.int64(1) << peek) - 1
    for i in range(count):
        if nbits < max_length:
            while nbits <= 55 and k < n_bytes:
                buf = (buf << 8) | np.int64(data[k])
                k += 1
                nbits += 8
        if nbits >= peek:
            window = (buf >> (nbits - peek)) & peek_mask
        else:
            window = (buf << (peek - nbits)) & peek_mask
        length = lookup_length[window]
        if length > 0:
            if length > nbits:
                return 1
            out[i] = lookup_symbol[window]
            nbits -= length
        else:
            code = np.int64(0)
            found = False
            for length in range(1, max_length + 1):
                if length > nbits:
                    return 1
                code = (code << 1) | ((buf >> (nbits - length)) & 1)
                offset = code - first_code[length]
                if 0 <= offset < per_length[length]:
                    out[i] = sorted_symbols[first_index[length] + offset]
                    nbits -= length
                    found = True
                    break
            if not found:
                return 2
        buf &= (np.int64(1) << nbits) - 1
    if k < n_bytes or nbits >= 8 or buf != 0:
        return 3
    return 0


def decode(data: np.ndarray, table: HuffmanTable, count: int) -> np.ndarray:
    """uint16 [count] symbols from a stream written by `encode`; ValueError if it is damaged."""
    count = check_int("count", count, 0)
    data = np.ascontiguousarray(data, dtype=np.uint8)
    out = np.zeros(count, np.uint16)
    if count == 0:
        if data.size:
            raise ValueError("Huffman stream is invalid: bytes present for zero symbols")
        return out
    lengths = table.lengths.astype(np.int64)
    max_length = table.max_length
    if max_length == 0:
        raise ValueError("Huffman stream is invalid: symbols present but the table is empty")
    codes = table.codes()
    peek = min(max_length, LOOKUP_BITS)
    lookup_symbol = np.zeros(1 << peek, np.int64)
    lookup_length = np.zeros(1 << peek, np.int64)
    for symbol in np.flatnonzero((lengths > 0) & (lengths <= peek)):
        length = int(lengths[symbol])
        start = int(codes[symbol]) << (peek - length)
        stop = start + (1 << (peek - length))
        lookup_symbol[start:stop] = symbol
        lookup_length[start:stop] = length
    per_length = np.bincount(lengths, minlength=max_length + 1).astype(np.int64)
    per_length[0] = 0
    order = np.lexsort((np.arange(lengths.size), lengths))
    sorted_symbols = order[lengths[order] > 0].astype(np.int64)
    first_index = np.zeros(max_length + 1, np.int64)
    first_code = np.zeros(max_length + 1, np.int64)
    index = 0
    for length in range(1, max_length + 1):
        first_index[length] = index
        members = sorted_symbols[index : index + per_length[length]]
        first_code[length] = codes[members[0]] if members.size else 0
        index += int(per_length[length])
    status = _decode(
        data,
        count,
        lookup_symbol,
        lookup_length,
        peek,
        first_code,
        first_index,
        per_length,
        sorted_symbols,
        max_length,
        out,
    )
    if status == 1:
        raise ValueError(f"Huffman stream is invalid: it ends before {count} symbols")
    if status == 2:
        raise ValueError("Huffman stream is invalid: it holds a code that is not in the table")
    if status == 3:
        raise ValueError("Huffman stream is invalid: trailing bytes or non-zero padding bits")
    return out
