"""Fixed-width bit packing: unsigned integers into an MSB-first byte stream and back.

Part of `compression` (DESIGN §3.4, §3.6): the P+Q container layout stores weight indices in
b bits, gaps in r bits and column pointers in their pointer width, each as one packed stream
padded with zero bits to a whole byte. `packed_bytes(count, width)` is the size accounting
counts for such a stream.
"""

from __future__ import annotations

import numba
import numpy as np

from compression.checks import check_int

MAX_FIELD_BITS = 32


def packed_bytes(count: int, width: int) -> int:
    """Bytes of `count` fields of `width` bits, padded to a whole byte."""
    return (count * width + 7) // 8


@numba.njit(cache=True)
def _pack(values, width, out):
    buf = np.int64(0)
    nbits = 0
    k = 0
    mask = (np.int64(1) << width) - 1
    for i in range(values.shape[0]):
        buf = (buf << width) | (np.int64(values[i]) & mask)
        nbits += width
        while nbits >= 8:
            nbits -= 8
            out[k] = (buf >> nbits) & 0xFF
            k += 1
        buf &= (np.int64(1) << nbits) - 1
    if nbits > 0:
        out[k] = (buf << (8 - nbits)) & 0xFF


@numba.njit(cache=True)
def _unpack(data, width, count, out):
    buf = np.int64(0)
    nbits = 0
    k = 0
    mask = (np.int64(1) << width) - 1
    for i in range(count):
        while nbits < width:
            buf = (buf << 8) | np.int64(data[k])
            k += 1
            nbits += 8
        nbits -= width
        out[i] = (buf >> nbits) & mask
        buf &= (np.int64(1) << nbits) - 1
    return buf  # the padding bits; must be zero in a well-formed stream


def pack_bits(values: np.ndarray, width: int) -> np.ndarray:
    """uint8 stream of `values` (non-negative ints < 2**width), `width` bits each, MSB first."""
    width = check_int("width", width, 1, MAX_FIELD_BITS)
    values = np.ascontiguousarray(values, dtype=np.int64).ravel()
    if values.size and (int(values.min()) < 0 or int(values.max()) >> width):
        raise ValueError(f"values do not fit; allowed: integers in [0, {2**width - 1}]")
    out = np.zeros(packed_bytes(values.size, width), np.uint8)
    _pack(values, width, out)
    return out


def unpack_bits(data: np.ndarray, width: int, count: int) -> np.ndarray:
    """int64 [count] from a stream written by `pack_bits`; the byte size must match exactly
    and the padding bits must be zero, else ValueError."""
    width = check_int("width", width, 1, MAX_FIELD_BITS)
    count = check_int("count", count, 0)
    data = np.ascontiguousarray(data, dtype=np.uint8)
    if data.size != packed_bytes(count, width):
        raise ValueError(
            f"packed stream size={data.size} bytes is invalid; allowed: "
            f"{packed_bytes(count, width)} for {count} fields of {width} bits"
        )
    out = np.zeros(count, np.int64)
    padding = _unpack(data, width, count, out)
    if padding != 0:
        raise ValueError("packed stream padding bits are not zero")
    return out
