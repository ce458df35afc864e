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
def _count_entries(codes_t, n_pe, index_bits, counts):
    """counts[p, j] = entries (fillers included) PE p stores for column j; codes_t: (cols, rows)."""
    cols, rows = codes_t.shape
    prev = np.empty(n_pe, np.int64)
    for j in range(cols):
        for p in range(n_pe):
            prev[p] = -1
        column = codes_t[j]
        for i in range(rows):
            if column[i] != 0:
                p = i % n_pe
                local = i // n_pe
                gap = local - prev[p] - 1
                counts[p, j] += (gap >> index_bits) + 1
                prev[p] = local


@numba.njit(cache=True)
def _fill_entries(codes_t, n_pe, index_bits, col_ptr, entry_code, entry_gap):
    """Write the entries of every (PE, column) at the offsets given by col_ptr."""
    cols, rows = codes_t.shape
    max_gap = (1 << index_bits) - 1
    prev = np.empty(n_pe, np.int64)
    cursor = np.empty(n_pe, np.int64)
    for j in range(cols):
        for p in range(n_pe):
            prev[p] = -1
            cursor[p] = col_ptr[p, j]
        column = codes_t[j]
        for i in range(rows):
            code = column[i]
            if code != 0:
                p = i % n_pe
                local = i // n_pe
                gap = local - prev[p] - 1
                k = cursor[p]
                while gap > max_gap:
                    entry_code[k] = 0
                    entry_gap[k] = max_gap
                    k += 1
                    gap -= max_gap + 1
                entry_code[k] = code
                entry_gap[k] = gap
                cursor[p] = k + 1
                prev[p] = local


def encode_sparse(codes: np.ndarray, n_pe: int, index_bits: int) -> SparseMatrix:
    """Encode an integer (rows, cols) code matrix (0 = zero/pruned weight) as a SparseMatrix.

    Codes must lie in [0, 65535]; `n_pe` >= 1; `index_bits` in [1, 16].
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
    if codes.size and (int(codes.min()) < 0 or int(codes.max()) > MAX_CODE):
        bad = int(codes.min()) if int(codes.min()) < 0 else int(codes.max())
        raise ValueError(f"codes value={bad} is invalid; allowed: integers in [0, {MAX_CODE}]")
    rows, cols = codes.shape
    codes_t = np.ascontiguousarray(codes.T, dtype=np.uint16)
    counts = np.zeros((n_pe, cols), np.int64)
    _count_entries(codes_t, n_pe, index_bits, counts)
    col_ptr = np.zeros((n_pe, cols + 1), np.int64)
    flat = np.cumsum(counts.ravel())
    col_ptr[:, 1:] = flat.reshape(n_pe, cols)
    pe_starts = np.concatenate(([0], col_ptr[:-1, -1])) if n_pe > 1 else np.zeros(1, np.int64)
    col_ptr[:, 0] = pe_starts
    n_entries = int(flat[-1]) if flat.size else 0
    entry_code = np.zeros(n_entries, np.uint16)
    entry_gap = np.zeros(n_entries, np.uint16)
    _fill_entries(codes_t, n_pe, index_bits, col_ptr, entry_code, entry_gap)
    for array in (entry_code, entry_gap, col_ptr):
        array.flags.writeable = False
    return SparseMatrix(rows, cols, n_pe, index_bits, entry_code, entry_gap, col_ptr)


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
