"""Canonical Huffman coding and fixed-width bit packing (DESIGN §3.5): Numba kernels against
plain-Python references, round trips, degenerate alphabets and damaged streams."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compression import huffman
from compression.bitpack import pack_bits, packed_bytes, unpack_bits


def reference_pack(values, width) -> bytes:
    bits = "".join(format(int(v), f"0{width}b") for v in values)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))


def reference_encode(symbols, lengths) -> tuple[bytes, int]:
    codes = huffman.canonical_codes(lengths)
    bits = "".join(format(int(codes[s]), f"0{int(lengths[s])}b") for s in symbols)
    n_bits = len(bits)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)), n_bits


def reference_decode(data: bytes, lengths, count) -> list[int]:
    codes = huffman.canonical_codes(lengths)
    words = {
        format(int(codes[s]), f"0{int(lengths[s])}b"): s for s in range(len(lengths)) if lengths[s]
    }
    bits = "".join(format(b, "08b") for b in data)
    out, word = [], ""
    for bit in bits:
        if len(out) == count:
            break
        word += bit
        if word in words:
            out.append(words[word])
            word = ""
    return out


def reference_optimal_bits(counts) -> int:
    """Total bits of an optimal (unlimited) Huffman code: sum of merged weights."""
    heap = [int(c) for c in counts if c]
    if len(heap) == 1:
        return heap[0]
    heapq.heapify(heap)
    total = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        total += merged
        heapq.heappush(heap, merged)
    return total


@st.composite
def symbol_streams(draw):
    alphabet = draw(st.integers(1, 300))
    n = draw(st.integers(0, 400))
    p = draw(st.floats(0.05, 0.9))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return (rng.geometric(p, n) - 1) % alphabet, alphabet


@settings(max_examples=120, deadline=None)
@given(symbol_streams())
def test_huffman_matches_reference_and_round_trips(case):
    symbols, alphabet = case
    counts = np.bincount(symbols, minlength=alphabet)
    table = huffman.build_table(counts)
    data, n_bits = huffman.encode(symbols.astype(np.uint16), table)
    ref_data, ref_bits = reference_encode(symbols, table.lengths)
    assert n_bits == ref_bits == table.encoded_bits(counts)
    assert data.tobytes() == ref_data
    assert huffman.decode(data, table, symbols.size).tolist() == symbols.tolist()
    assert reference_decode(ref_data, table.lengths, symbols.size) == symbols.tolist()
    if np.count_nonzero(counts) > 1:
        assert n_bits == reference_optimal_bits(counts)  # optimal when not length-limited
    huffman.table_from_lengths(table.lengths)  # a stored table is accepted back


def test_degenerate_alphabets():
    empty = huffman.build_table(np.zeros(16, int))
    assert empty.max_length == 0
    data, n_bits = huffman.encode(np.zeros(0, np.uint16), empty)
    assert data.size == 0 and n_bits == 0
    assert huffman.decode(data, empty, 0).size == 0
    one = huffman.build_table(np.array([0, 0, 9, 0]))
    assert one.lengths.tolist() == [0, 0, 1, 0]
    data, n_bits = huffman.encode(np.full(9, 2, np.uint16), one)
    assert n_bits == 9 and huffman.decode(data, one, 9).tolist() == [2] * 9


def test_length_limit_keeps_a_complete_code():
    fibonacci = [1, 1]
    while len(fibonacci) < 40:
        fibonacci.append(fibonacci[-1] + fibonacci[-2])
    table = huffman.build_table(np.array(fibonacci))
    assert table.max_length == huffman.MAX_CODE_LENGTH
    huffman.table_from_lengths(table.lengths)
    rng = np.random.default_rng(0)
    symbols = rng.permutation(np.repeat(np.arange(40), 3))
    data, _ = huffman.encode(symbols, table)
    assert huffman.decode(data, table, symbols.size).tolist() == symbols.tolist()


def test_damaged_streams_are_refused():
    symbols = np.array([0, 1, 2, 3, 0, 0, 1], np.uint16)
    table = huffman.build_table(np.bincount(symbols, minlength=4))
    data, _ = huffman.encode(symbols, table)
    with pytest.raises(ValueError, match="ends before"):
        huffman.decode(data[:-1], table, symbols.size)
    with pytest.raises(ValueError, match="trailing"):
        huffman.decode(np.concatenate((data, [0])), table, symbols.size)
    with pytest.raises(ValueError, match="complete prefix code"):
        huffman.table_from_lengths(np.array([1, 2, 2, 2]))
    with pytest.raises(ValueError, match="symbol=3"):
        huffman.encode(np.array([3]), huffman.build_table(np.array([1, 1, 0, 0])))


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 32), st.integers(0, 200), st.integers(0, 2**32 - 1))
def test_bit_packing_matches_reference(width, n, seed):
    values = np.random.default_rng(seed).integers(0, 2**width, n, dtype=np.int64)
    data = pack_bits(values, width)
    assert data.size == packed_bytes(n, width)
    assert data.tobytes() == reference_pack(values, width)
    assert np.array_equal(unpack_bits(data, width, n), values)


def test_bit_packing_refuses_bad_input():
    with pytest.raises(ValueError, match="do not fit"):
        pack_bits(np.array([4]), 2)
    with pytest.raises(ValueError, match="packed stream size"):
        unpack_bits(np.zeros(3, np.uint8), 4, 2)
    with pytest.raises(ValueError, match="padding"):
        unpack_bits(np.array([0x01], np.uint8), 4, 1)
