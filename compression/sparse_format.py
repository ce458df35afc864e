"""Relative-index sparse storage of a weight-code matrix, interleaved over processing elements.

Part of `compression` (DESIGN §3.4), the "encode" step of prune → share → encode: it turns a
layer's integer weight codes (the codebook indices produced by weight sharing) into the exact
entry stream an EIE-style accelerator stores, and is what the simulator walks cycle by cycle.

Format (EIE, Han et al. ISCA 2016)
- The (rows × cols) matrix is interleaved over `n_pe` processing elements: row i lives in PE
  `i % n_pe` at local row `i // n_pe`.
- Each PE stores its slice column by column (CSC). Every stored entry is a pair
  (code, gap): `code` is the codebook index (4 bits in EIE) and `gap` the number of zero rows
  (in the PE's local rows, within the column) skipped since the previous stored entry of that
  column, held in `index_bits` = r bits (4 in EIE).
- A gap larger than the largest storable gap 2**r − 1 inserts filler entries: code 0 (the zero
  weight) with gap 2**r − 1, each consuming 2**r local rows. A gap g therefore costs exactly
  floor(g / 2**r) fillers. EIE's example, r = 4, one PE: column [0,0,1,2, 0 ×18, 3] is stored as
  codes [1,2,0,3], gaps [2,0,15,2].
- Zeros after the last non-zero of a column store nothing.
- Column pointers: `col_ptr[p, j]` is the absolute offset of PE p's first entry of column j in
  the entry arrays; entries are PE-major, then column-major within a PE, so
  `col_ptr[p, cols] == col_ptr[p + 1, 0]`.

Codebook convention: code 0 is always the zero weight (pruned weights and fillers); codes
1 .. 2**b − 1 are the layer's shared (k-means) weights. Only non-zero codes are stored as real
entries, so a filler decodes to zero by construction.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numba
import numpy as np

MAX_CODE = 2**16 - 1
MAX_INDEX_BITS = 16
# Processing elements a matrix can be interleaved over: 16× the largest array of EIE's scaling
# study (256 PEs). Per-PE column pointers take n_pe × (cols + 1) integers, so the bound keeps a
# mistyped PE count a clear error rather than an attempt to allocate terabytes.
MAX_N_PE = 4096


@dataclass(frozen=True, eq=False)
class SparseMatrix:
    """Relative-index CSC storage of a (rows x cols) weight-code matrix interleaved over PEs.

    See the module docstring for the exact layout (DESIGN §3.4). Arrays are never modified
    after construction. `eq=False`: compare with `decode_sparse` or the arrays themselves.
    """

    rows: int
    cols: int
    n_pe: int
    index_bits: int
    entry_code: np.ndarray  # uint16 [n_entries]; 0 for fillers
    entry_gap: np.ndarray  # uint16 [n_entries]; zero local rows skipped before the entry
    col_ptr: np.ndarray  # int64 [n_pe, cols + 1]; absolute offsets into entry_*

    @property
    def n_entries(self) -> int:
        """Stored entries, fillers included."""
        return int(self.entry_code.shape[0])

    @property
    def n_fillers(self) -> int:
        """Stored entries with code 0 (fillers inserted for gaps larger than 2**r − 1)."""
        return int(self.entry_code.shape[0] - np.count_nonzero(self.entry_code))

    @property
    def n_nonzeros(self) -> int:
        """Stored entries with a non-zero code (the surviving weights)."""
        return int(np.count_nonzero(self.entry_code))

    @property
    def max_gap(self) -> int:
        """Largest gap one entry can hold: 2**index_bits − 1."""
        return (1 << self.index_bits) - 1

    @property
    def entries_per_pe(self) -> np.ndarray:
        """int64 [n_pe]: stored entries (fillers included) held by each PE."""
        return self.col_ptr[:, -1] - self.col_ptr[:, 0]

    @property
    def entries_per_pe_col(self) -> np.ndarray:
        """int64 [n_pe, cols]: stored entries of column j in PE p (what PE p spends on x_j)."""
        return np.diff(self.col_ptr, axis=1)

    def local_rows(self, pe: int) -> int:
        """Number of matrix rows PE `pe` holds: ceil((rows − pe) / n_pe)."""
        return max(0, -(-(self.rows - pe) // self.n_pe))


def _check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        allowed = f"an integer in [{lo}, {hi}]" if hi is not None else f"an integer >= {lo}"
        raise ValueError(f"{name}={value!r} is invalid; allowed: {allowed}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        allowed = f"an integer in [{lo}, {hi}]" if hi is not None else f"an integer >= {lo}"
        raise ValueError(f"{name}={value!r} is invalid; allowed: {allowed}")
    return value


@numba.njit(cache=True)
def _compact_rows(codes, row_end, column, code):
    """Row-major compaction of the non-zeros of a (rows, cols) code matrix: for row i, its
    non-zeros' columns and codes are column/code[row_end[i - 1] : row_end[i]], left to right.
    Branch-free (every element is written at the cursor, which advances on non-zeros), so
    `column` and `code` need one slot more than there are non-zeros."""
    rows, cols = codes.shape
    k = 0
    for i in range(rows):
        row = codes[i]
        for j in range(cols):
            c = row[j]
            column[k] = j
            code[k] = c
            k += c != 0
        row_end[i] = k


@numba.njit(cache=True)
def _count_entries(n_pe, index_bits, row_end, column, counts):
    """counts[p, j] = entries (fillers included) PE p stores for column j, from the row-major
    non-zeros (`_compact_rows`): PE p's rows p, p + N, ... in order, `prev[j]` holding the last
    local row with a non-zero in column j. O(non-zeros), no transposed copy."""
    rows = row_end.shape[0]
    cols = counts.shape[1]
    prev = np.empty(cols, np.int64)
    for p in range(n_pe):
        for j in range(cols):
            prev[j] = -1
        local = 0
        for i in range(p, rows, n_pe):
            for k in range(row_end[i - 1] if i > 0 else 0, row_end[i]):
                j = column[k]
                gap = local - prev[j] - 1
                counts[p, j] += (gap >> index_bits) + 1
                prev[j] = local
            local += 1


@numba.njit(cache=True)
def _fill_entries(n_pe, index_bits, row_end, column, code, col_ptr, entry_code, entry_gap, slot):
    """Write the entries of every (PE, column) at the offsets given by col_ptr, reading the
    non-zeros in the order of `_count_entries`; non-zero k's entry goes to slot[k] when `slot`
    is not empty (its codes can then be replaced by a scatter, `_scatter_codes`)."""
    rows = row_end.shape[0]
    cols = col_ptr.shape[1] - 1
    max_gap = (1 << index_bits) - 1
    record = slot.shape[0] > 0
    prev = np.empty(cols, np.int64)
    cursor = np.empty(cols, np.int64)
    for p in range(n_pe):
        for j in range(cols):
            prev[j] = -1
            cursor[j] = col_ptr[p, j]
        local = 0
        for i in range(p, rows, n_pe):
            for k in range(row_end[i - 1] if i > 0 else 0, row_end[i]):
                j = column[k]
                gap = local - prev[j] - 1
                e = cursor[j]
                while gap > max_gap:
                    entry_code[e] = 0
                    entry_gap[e] = max_gap
                    e += 1
                    gap -= max_gap + 1
                entry_code[e] = code[k]
                entry_gap[e] = gap
                if record:
                    slot[k] = e
                cursor[j] = e + 1
                prev[j] = local
            local += 1


@numba.njit(cache=True)
def _scatter_codes(code, slot, entry_code):
    """entry_code[slot[k]] = code[k] for every non-zero k (the fillers stay 0)."""
    for k in range(slot.shape[0]):
        entry_code[slot[k]] = code[k]


def column_pointers(counts: np.ndarray) -> np.ndarray:
    """int64 [n_pe, cols + 1] absolute offsets from per-(PE, column) entry counts (PE-major)."""
    n_pe, cols = counts.shape
    col_ptr = np.zeros((n_pe, cols + 1), np.int64)
    col_ptr[:, 1:] = np.cumsum(counts.ravel()).reshape(n_pe, cols)
    col_ptr[1:, 0] = col_ptr[:-1, -1]
    return col_ptr


#: The layout of the last matrices `sparse_from_rows` encoded from read-only (row_end,
#: column) arrays — `SortedWeights.quantize` returns the same ones for every bit width of one
#: density — so that another code set of the same non-zeros is a scatter into it.
_LAYOUTS: dict[tuple, tuple] = {}
LAYOUT_CACHE_ENTRIES = 32


def sparse_from_rows(
    shape: tuple[int, int],
    row_end: np.ndarray,
    column: np.ndarray,
    code: np.ndarray,
    n_pe: int,
    index_bits: int,
    keep_layout: bool = False,
) -> SparseMatrix:
    """The SparseMatrix of a (rows, cols) code matrix given by its non-zeros in row-major
    order: row i's columns and (non-zero uint16) codes are column/code[row_end[i - 1] :
    row_end[i]] with row_end int64 [rows], column int32, columns ascending within a row.

    `keep_layout` with read-only row_end and column (`SortedWeights.quantize`'s, the same
    objects for every bit width of one density): the layout (column pointers, gaps, each
    non-zero's entry) is kept, and the same arrays with other codes reuse it: the entry gaps
    and column pointers are then shared, read-only, and only the codes are written."""
    rows, cols = shape
    nonzeros = int(row_end[-1]) if rows else 0
    cacheable = keep_layout and not row_end.flags.writeable and not column.flags.writeable
    key = (id(row_end), id(column), rows, cols, int(n_pe), int(index_bits))
    layout = _LAYOUTS.get(key) if cacheable else None
    if layout is not None and layout[0]() is row_end and layout[1]() is column:
        _, _, col_ptr, entry_gap, slot = layout
        entry_code = np.zeros(entry_gap.shape[0], np.uint16)
        _scatter_codes(code, slot, entry_code)
        entry_code.flags.writeable = False
        return SparseMatrix(rows, cols, n_pe, index_bits, entry_code, entry_gap, col_ptr)
    counts = np.zeros((n_pe, cols), np.int64)
    _count_entries(n_pe, index_bits, row_end, column, counts)
    col_ptr = column_pointers(counts)
    n_entries = int(col_ptr[-1, -1])
    entry_code = np.empty(n_entries, np.uint16)
    entry_gap = np.empty(n_entries, np.uint16)
    slot = np.empty(nonzeros if cacheable else 0, np.int64)
    _fill_entries(n_pe, index_bits, row_end, column, code, col_ptr, entry_code, entry_gap, slot)
    for array in (entry_code, entry_gap, col_ptr):
        array.flags.writeable = False
    if cacheable:  # forgotten as soon as either array is freed (its id may then be reused)
        forget = lambda _ref: _LAYOUTS.pop(key, None)  # noqa: E731
        refs = (weakref.ref(row_end, forget), weakref.ref(column, forget))
        _LAYOUTS.pop(key, None)
        _LAYOUTS[key] = (*refs, col_ptr, entry_gap, slot)
        while len(_LAYOUTS) > LAYOUT_CACHE_ENTRIES:
            del _LAYOUTS[next(iter(_LAYOUTS))]
    return SparseMatrix(rows, cols, n_pe, index_bits, entry_code, entry_gap, col_ptr)


def encode_sparse(codes: np.ndarray, n_pe: int, index_bits: int) -> SparseMatrix:
    """Encode an integer (rows, cols) code matrix (0 = zero/pruned weight) as a SparseMatrix.

    Codes must lie in [0, 65535]; `n_pe` >= 1; `index_bits` in [1, 16]. A C-contiguous uint16
    matrix is read in place, once (its non-zeros are compacted row by row, then laid out per
    PE and column in O(non-zeros)); other dtypes or memory orders are converted first.
    """
    n_pe = _check_int("n_pe", n_pe, 1, MAX_N_PE)
    index_bits = _check_int("index_bits", index_bits, 1, MAX_INDEX_BITS)
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(
            f"codes shape={codes.shape!r} is invalid; allowed: a 2-D (rows, cols) array"
        )
    if codes.dtype.kind not in "iub":
        raise ValueError(f"codes dtype={codes.dtype} is invalid; allowed: an integer dtype")
    if codes.size and codes.dtype != np.uint16:
        lowest, highest = int(codes.min()), int(codes.max())
        if lowest < 0 or highest > MAX_CODE:
            bad = lowest if lowest < 0 else highest
            raise ValueError(f"codes value={bad} is invalid; allowed: integers in [0, {MAX_CODE}]")
    codes = np.ascontiguousarray(codes, dtype=np.uint16)
    nonzeros = int(np.count_nonzero(codes))
    row_end = np.empty(codes.shape[0], np.int64)
    column = np.empty(nonzeros + 1, np.int32)
    code = np.empty(nonzeros + 1, np.uint16)
    _compact_rows(codes, row_end, column, code)
    for array in (row_end, column):  # as every other caller passes them: one kernel signature
        array.flags.writeable = False
    return sparse_from_rows(codes.shape, row_end, column, code, n_pe, index_bits)


@numba.njit(cache=True)
def _decode_entries(rows, n_pe, col_ptr, entry_code, entry_gap, out):
    """Scatter entries back into out (rows, cols); returns -1 if fine, else the bad entry offset."""
    cols = out.shape[1]
    for p in range(n_pe):
        for j in range(cols):
            local = -1
            for k in range(col_ptr[p, j], col_ptr[p, j + 1]):
                local += np.int64(entry_gap[k]) + 1
                i = p + local * n_pe
                if i >= rows:
                    return k
                if entry_code[k] != 0:
                    out[i, j] = entry_code[k]
    return -1


def check_sparse(sm: SparseMatrix) -> None:
    """Raise ValueError (one line) unless `sm`'s arrays are mutually consistent."""
    _check_int("rows", sm.rows, 0)
    _check_int("cols", sm.cols, 0)
    _check_int("n_pe", sm.n_pe, 1)
    _check_int("index_bits", sm.index_bits, 1, MAX_INDEX_BITS)
    if sm.col_ptr.shape != (sm.n_pe, sm.cols + 1):
        raise ValueError(
            f"col_ptr shape={sm.col_ptr.shape} is invalid; allowed: ({sm.n_pe}, {sm.cols + 1})"
        )
    n = sm.entry_code.shape[0]
    if sm.entry_gap.shape != (n,):
        raise ValueError(f"entry_gap shape={sm.entry_gap.shape} is invalid; allowed: ({n},)")
    flat = np.concatenate((sm.col_ptr[:, :-1].ravel(), sm.col_ptr[-1:, -1]))
    joins_ok = sm.n_pe == 1 or np.array_equal(sm.col_ptr[1:, 0], sm.col_ptr[:-1, -1])
    if flat[0] != 0 or flat[-1] != n or np.any(np.diff(flat) < 0) or not joins_ok:
        raise ValueError(
            f"col_ptr is invalid; allowed: non-decreasing PE-major offsets from 0 to {n}"
        )
    if n and int(sm.entry_gap.max()) > sm.max_gap:
        raise ValueError(
            f"entry_gap value={int(sm.entry_gap.max())} is invalid; allowed: <= {sm.max_gap}"
        )


def decode_sparse(sm: SparseMatrix) -> np.ndarray:
    """Back to the (rows, cols) uint16 code matrix. Raises ValueError if `sm` is inconsistent."""
    check_sparse(sm)
    out = np.zeros((sm.rows, sm.cols), np.uint16)
    bad = _decode_entries(
        sm.rows,
        sm.n_pe,
        np.ascontiguousarray(sm.col_ptr, dtype=np.int64),
        np.ascontiguousarray(sm.entry_code, dtype=np.uint16),
        np.ascontiguousarray(sm.entry_gap, dtype=np.uint16),
        out,
    )
    if bad >= 0:
        raise ValueError(f"entry {bad}: row is invalid; allowed: rows < {sm.rows}")
    return out
