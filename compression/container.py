"""The `.dcz` container: a compressed network as one versioned, checksummed binary file.

Part of `compression` (DESIGN §3.6), the end of prune → share → encode: `dcsim compress`
writes it, `dcsim inspect` reads it back, and its byte size is the footprint reports quote.
Loading reproduces every layer's codebook and codes — hence its quantized weights — bit-exactly.

Layout (all integers little-endian):
    file    = header, layer × n_layers, sha256 (32 bytes of SHA-256 over everything before it)
    header  = magic b"DCZ\\0", version u16 (1 or 2), coding u8 (0 fixed-width, 1 Huffman),
              reserved u8 (= 0), file_bytes u64, network name, recipe name, n_layers u32
              (a name is u16 byte length + UTF-8: printable characters only, 1..255
              bytes; the recipe name may be empty)
    layer   = layer header, payload
    layer header = name, kind u8 (conv/fc/lstm), in_channels u32, out_channels u32,
              kernel 2×u16, stride 2×u16, padding 2×u16, groups u32, input_hw 2×u32,
              [version 2 only: dilation 2×u16],
              weight_bits u8, index_bits u8, pointer_width u8, n_pe u32, rows u32, cols u32,
              n_entries u64, then the byte length of each payload section (5 × u64)
    payload = codebook: the 2**b − 1 non-zero centroids as float32 (code 0 is the zero weight)
              pointers: per PE, its cols + 1 column pointers relative to the PE's first entry,
                        packed at pointer_width bits
              tables:   Huffman coding only — one code-length byte per symbol, 2**b for the
                        index alphabet then 2**r for the gap alphabet
              indices:  the entry codes (fillers included), b bits each or Huffman-coded
              gaps:     the entry gaps, r bits each or Huffman-coded
Every section is padded to a whole byte, so a layer's payload is exactly its accounted
`pq_bits` (fixed) or `pqh_bits` (Huffman) / 8 bytes (`compression.accounting`).

A truncated, extended or altered file is refused with a one-line `ContainerError` before
anything is decoded (length and checksum), and every field is range-checked while parsing.
Because a checksum can be recomputed, the reader also accepts only what `serialize` itself
writes: names must be printable and bounded, the reserved header byte and every field a layer
kind does not use (kernel, stride, padding, groups, input size of fc/lstm layers) must hold
their fixed values, padding bits must be zero, codebook values finite, and the Huffman tables
exactly the ones the encoder builds from the decoded streams.
Files are written atomically: a temporary file in the same folder, then `os.replace`.
Version 2 differs from version 1 only by the dilation of each layer; a network without dilated
layers is written as version 1 (byte for byte as before), and both versions are read.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compression import huffman
from compression.accounting import huffman_tables, layer_accounting, pointer_width
from compression.bitpack import pack_bits, packed_bytes, unpack_bits
from compression.compressed_layer import CompressedLayer
from compression.compressed_network import CompressedNetwork
from compression.sparse_format import MAX_N_PE, SparseMatrix, decode_sparse, encode_sparse
from workloads.atomic_file import atomic_path
from workloads.layer_spec import LAYER_KINDS, LayerSpec

MAGIC = b"DCZ\x00"
VERSION = 2
VERSIONS: tuple[int, ...] = (1, 2)
CODINGS: tuple[str, ...] = ("fixed", "huffman")
CHECKSUM_BYTES = 32
_HEADER = struct.Struct("<4sHBBQ")
_SPEC = struct.Struct("<BII2H2H2HI2I")
_DILATION = struct.Struct("<2H")
_LAYER = struct.Struct("<BBBIIIQ5Q")
MAX_NAME_BYTES = 255


class ContainerError(ValueError):
    """A `.dcz` file that cannot be read: truncated, damaged, or not a container."""


@dataclass(frozen=True)
class ContainerInfo:
    """What a container holds or was written with: coding, total bytes, and each layer's
    header and payload bytes (payload bytes × 8 == the layer's accounted bits)."""

    coding: str
    file_bytes: int
    layer_header_bytes: tuple[int, ...]
    layer_payload_bytes: tuple[int, ...]

    @property
    def overhead_bytes(self) -> int:
        """Bytes outside the layer payloads: file header, layer headers, checksum."""
        return self.file_bytes - sum(self.layer_payload_bytes)


def name_problem(text: str, allow_empty: bool = False) -> str | None:
    """Why `text` cannot be a container name (None when it can): names are printable text of
    1..255 UTF-8 bytes (the recipe name may be empty)."""
    size = len(text.encode("utf-8"))
    if size > MAX_NAME_BYTES or (size == 0 and not allow_empty):
        return f"{size} bytes long; allowed: 1..{MAX_NAME_BYTES} bytes"
    if not text.isprintable():
        return "not printable text; allowed: letters, digits, punctuation and spaces"
    return None


def _name(text: str, what: str, allow_empty: bool = False) -> bytes:
    problem = name_problem(text, allow_empty)
    if problem:
        raise ValueError(f"{what}={text!r} is {problem}")
    raw = text.encode("utf-8")
    return struct.pack("<H", len(raw)) + raw


def _layer_sections(layer: CompressedLayer, coding: str) -> list[bytes]:
    sm = layer.sparse
    b, r = layer.weight_bits, sm.index_bits
    codebook = np.ascontiguousarray(layer.codebook[1:], dtype="<f4").tobytes()
    local = sm.col_ptr - sm.col_ptr[:, :1]
    pointers = pack_bits(local.ravel(), pointer_width(sm)).tobytes()
    if coding == "fixed":
        tables = b""
        indices = pack_bits(sm.entry_code, b).tobytes()
        gaps = pack_bits(sm.entry_gap, r).tobytes()
    else:
        code_table, gap_table = huffman_tables(sm, b)
        tables = code_table.lengths.tobytes() + gap_table.lengths.tobytes()
        indices = huffman.encode(sm.entry_code, code_table)[0].tobytes()
        gaps = huffman.encode(sm.entry_gap, gap_table)[0].tobytes()
    return [codebook, pointers, tables, indices, gaps]


def serialize(network: CompressedNetwork, coding: str = "huffman") -> tuple[bytes, ContainerInfo]:
    """The container bytes of `network`, and what they hold."""
    if coding not in CODINGS:
        raise ValueError(f"coding={coding!r} is invalid; allowed: {', '.join(CODINGS)}")
    version = 2 if any(layer.spec.dilation != (1, 1) for layer in network.layers) else 1
    body = [
        _name(network.name, "network name"),
        _name(network.recipe_name, "recipe name", allow_empty=True),
        struct.pack("<I", len(network.layers)),
    ]
    header_sizes, payload_sizes = [], []
    for layer in network.layers:
        spec, sm = layer.spec, layer.sparse
        sections = _layer_sections(layer, coding)
        head = (
            _name(spec.name, "layer name")
            + _SPEC.pack(
                LAYER_KINDS.index(spec.kind),
                spec.in_channels,
                spec.out_channels,
                *spec.kernel,
                *spec.stride,
                *spec.padding,
                spec.groups,
                *spec.input_hw,
            )
            + (_DILATION.pack(*spec.dilation) if version >= 2 else b"")
            + _LAYER.pack(
                layer.weight_bits,
                sm.index_bits,
                pointer_width(sm),
                sm.n_pe,
                sm.rows,
                sm.cols,
                sm.n_entries,
                *(len(s) for s in sections),
            )
        )
        body.append(head)
        body.extend(sections)
        header_sizes.append(len(head))
        payload_sizes.append(sum(len(s) for s in sections))
    joined = b"".join(body)
    total = _HEADER.size + len(joined) + CHECKSUM_BYTES
    data = _HEADER.pack(MAGIC, version, CODINGS.index(coding), 0, total) + joined
    data += hashlib.sha256(data).digest()
    return data, ContainerInfo(coding, total, tuple(header_sizes), tuple(payload_sizes))


def save_container(
    path: str | Path, network: CompressedNetwork, coding: str = "huffman"
) -> ContainerInfo:
    """Write `network` to `path` atomically (temp file + os.replace); returns what was written."""
    data, info = serialize(network, coding)
    with atomic_path(path) as temp, open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return info


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.data, self.offset, self.source = data, 0, source

    def take(self, size: int) -> bytes:
        if size < 0 or self.offset + size > len(self.data):
            raise ContainerError(f"{self.source}: damaged: a field runs past the end of the file")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def unpack(self, layout: struct.Struct) -> tuple:
        return layout.unpack(self.take(layout.size))

    def name(self, what: str, allow_empty: bool = False) -> str:
        (size,) = struct.unpack("<H", self.take(2))
        try:
            text = self.take(size).decode("utf-8")
        except UnicodeDecodeError:
            raise ContainerError(f"{self.source}: damaged: the {what} is not UTF-8") from None
        problem = name_problem(text, allow_empty)
        if problem:
            raise ContainerError(f"{self.source}: damaged: the {what} {text!r} is {problem}")
        return text


def _read_layer(reader: _Reader, coding: str, version: int) -> tuple[CompressedLayer, int, int]:
    start = reader.offset
    name = reader.name("layer name")
    kind, in_ch, out_ch, kh, kw, sh, sw, ph, pw, groups, ih, iw = reader.unpack(_SPEC)
    dilation = reader.unpack(_DILATION) if version >= 2 else (1, 1)
    if kind >= len(LAYER_KINDS):
        raise ContainerError(f"{reader.source}: damaged: layer {name!r} has kind code {kind}")
    spec = LayerSpec(
        name,
        LAYER_KINDS[kind],
        in_ch,
        out_ch,
        (kh, kw),
        (sh, sw),
        (ph, pw),
        groups,
        (ih, iw),
        dilation=tuple(dilation),
    )
    b, r, width, n_pe, rows, cols, n_entries, *sizes = reader.unpack(_LAYER)
    if not (1 <= b <= 16 and 1 <= r <= 16 and 1 <= width <= 32):
        raise ContainerError(f"{reader.source}: damaged: layer {name!r} has invalid bit widths")
    if not 1 <= n_pe <= MAX_N_PE:
        raise ContainerError(
            f"{reader.source}: damaged: layer {name!r} n_pe={n_pe}; allowed: 1..{MAX_N_PE}"
        )
    if (rows, cols) != spec.matrix_shape:
        raise ContainerError(f"{reader.source}: damaged: layer {name!r} matrix shape mismatch")
    header_bytes = reader.offset - start
    codebook_raw, pointer_raw, table_raw, index_raw, gap_raw = (reader.take(s) for s in sizes)
    if len(codebook_raw) != ((1 << b) - 1) * 4:
        raise ContainerError(f"{reader.source}: damaged: layer {name!r} codebook size")
    codebook = np.zeros(1 << b, np.float32)
    codebook[1:] = np.frombuffer(codebook_raw, dtype="<f4")
    if not np.isfinite(codebook).all():
        raise ContainerError(f"{reader.source}: damaged: layer {name!r} codebook is not finite")
    local = unpack_bits(np.frombuffer(pointer_raw, np.uint8), width, n_pe * (cols + 1))
    local = local.reshape(n_pe, cols + 1)
    if np.any(local[:, 0] != 0) or np.any(np.diff(local, axis=1) < 0):
        raise ContainerError(f"{reader.source}: damaged: layer {name!r} column pointers")
    bases = np.concatenate(([0], np.cumsum(local[:, -1])[:-1]))
    col_ptr = local + bases[:, None]
    if int(local[:, -1].sum()) != n_entries:
        raise ContainerError(f"{reader.source}: damaged: layer {name!r} entry count")
    if coding == "fixed":
        if table_raw:
            raise ContainerError(f"{reader.source}: damaged: layer {name!r} tables section")
        codes = unpack_bits(np.frombuffer(index_raw, np.uint8), b, n_entries)
        gaps = unpack_bits(np.frombuffer(gap_raw, np.uint8), r, n_entries)
    else:
        if len(table_raw) != (1 << b) + (1 << r):
            raise ContainerError(f"{reader.source}: damaged: layer {name!r} Huffman tables")
        lengths = np.frombuffer(table_raw, np.uint8)
        code_table = huffman.table_from_lengths(lengths[: 1 << b])
        gap_table = huffman.table_from_lengths(lengths[1 << b :])
        codes = huffman.decode(np.frombuffer(index_raw, np.uint8), code_table, n_entries)
        gaps = huffman.decode(np.frombuffer(gap_raw, np.uint8), gap_table, n_entries)
    sparse = SparseMatrix(
        rows, cols, n_pe, r, codes.astype(np.uint16), gaps.astype(np.uint16), col_ptr
    )
    dense_codes = decode_sparse(sparse)
    canonical = encode_sparse(dense_codes, n_pe, r)
    if not (
        np.array_equal(canonical.entry_code, sparse.entry_code)
        and np.array_equal(canonical.entry_gap, sparse.entry_gap)
        and np.array_equal(canonical.col_ptr, sparse.col_ptr)
        and pointer_width(canonical) == width
    ):
        raise ContainerError(f"{reader.source}: damaged: layer {name!r} entries not canonical")
    if coding == "huffman":
        expected = huffman_tables(canonical, b)
        if not (
            np.array_equal(expected[0].lengths, code_table.lengths)
            and np.array_equal(expected[1].lengths, gap_table.lengths)
        ):
            raise ContainerError(
                f"{reader.source}: damaged: layer {name!r} Huffman tables are not the ones "
                "its streams are coded with"
            )
    codebook.flags.writeable = False
    accounting = layer_accounting(spec.name, spec.weights, b, canonical)
    layer = CompressedLayer(spec, b, r, codebook, canonical, accounting)
    return layer, header_bytes, sum(sizes)


def deserialize(data: bytes, source: str = "<bytes>") -> tuple[CompressedNetwork, ContainerInfo]:
    """Parse and verify container bytes; ContainerError (one line) if anything is wrong."""
    if len(data) < _HEADER.size + CHECKSUM_BYTES:
        raise ContainerError(
            f"{source}: not a .dcz container or truncated: {len(data)} bytes is too short"
        )
    magic, version, coding_code, reserved, total = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ContainerError(f"{source}: not a .dcz container (magic {magic!r})")
    if version not in VERSIONS:
        raise ContainerError(
            f"{source}: container version={version} is unsupported; allowed: "
            + ", ".join(map(str, VERSIONS))
        )
    if total != len(data):
        raise ContainerError(
            f"{source}: truncated or damaged: header says {total} bytes, file has {len(data)}"
        )
    if hashlib.sha256(data[:-CHECKSUM_BYTES]).digest() != data[-CHECKSUM_BYTES:]:
        raise ContainerError(f"{source}: damaged: checksum mismatch")
    if coding_code >= len(CODINGS):
        raise ContainerError(f"{source}: damaged: coding={coding_code} is unknown")
    if reserved != 0:
        raise ContainerError(f"{source}: damaged: reserved header byte={reserved}; allowed: 0")
    coding = CODINGS[coding_code]
    reader = _Reader(data[:-CHECKSUM_BYTES], source)
    reader.offset = _HEADER.size
    try:
        network_name = reader.name("network name")
        recipe_name = reader.name("recipe name", allow_empty=True)
        (n_layers,) = reader.unpack(struct.Struct("<I"))
        layers, heads, payloads = [], [], []
        for _ in range(n_layers):
            layer, head, payload = _read_layer(reader, coding, version)
            layers.append(layer)
            heads.append(head)
            payloads.append(payload)
        if reader.offset != len(reader.data):
            raise ContainerError(f"{source}: damaged: unused bytes after the last layer")
    except ContainerError:
        raise
    except (ValueError, struct.error) as error:
        message = " ".join(str(error).split())
        raise ContainerError(f"{source}: damaged: {message}") from None
    network = CompressedNetwork(network_name, tuple(layers), recipe_name)
    return network, ContainerInfo(coding, len(data), tuple(heads), tuple(payloads))


def load_container(path: str | Path) -> tuple[CompressedNetwork, ContainerInfo]:
    """Read and verify a `.dcz` file."""
    from workloads.user_files import InputFileError, read_bytes

    try:
        data = read_bytes(path, "container", "a .dcz file written by dcsim compress")
    except InputFileError as error:
        raise ContainerError(str(error)) from None
    return deserialize(data, str(path))


__all__ = [
    "CODINGS",
    "ContainerError",
    "ContainerInfo",
    "deserialize",
    "load_container",
    "packed_bytes",
    "save_container",
    "serialize",
]
