"""Cycle model: the Numba kernel of the EIE broadcast / FIFO / PE timing (DESIGN §4).

Part of `simulator`: it turns a lowered layer (`simulator.lowering.LayerWork` + the stream
of non-zero activations) into cycles. Energy and DRAM are added by `simulator.simulate`.

Timing semantics (exact; `tests/test_simulator_cycle_model.py` holds a cycle-by-cycle
plain-Python reference that must agree exactly). A FIFO slot holds an activation until the PE
has finished its column: the PE needs x_j for every MAC of column j, so the item it works on is
the FIFO head and leaves the FIFO only when done (a depth-1 FIFO is therefore a barrier per
activation). Every cycle t = 0, 1, 2, … has two phases:
1. PE phase. An idle PE whose FIFO is not empty starts the head item; a PE with an item does
   one cycle of it, and in the item's last cycle removes it from the FIFO (the PE is idle again
   from the next cycle). An item costs PE p `cost = max(1, entries)` cycles, where `entries` are
   the stored entries (fillers included) of that column in PE p's slice — one codebook lookup +
   MAC each. A column with zero entries in the slice still costs the PE one cycle: the
   pointer-read stage handles at most one column per cycle (it reads p_j and p_j+1 from the two
   pointer banks and finds them equal); for a non-empty column that pointer read overlaps the
   previous column's MACs, so it costs nothing extra.
2. Broadcast phase. If non-zero activations remain and every PE's FIFO holds fewer than
   `fifo_depth` items (after the PE phase of this cycle), the next one (in index order) is
   pushed to every FIFO; otherwise the broadcast stalls this cycle (a stall cycle).
An item pushed in cycle b can start in cycle b + 1 at the earliest. The layer ends in the
first cycle in which everything is drained (`drain_cycle`); total cycles = drain_cycle +
pipeline latency (one cycle per pipeline stage). With no non-zero activation the layer costs
only the pipeline latency.

Closed form used by the kernel (equivalent to the phases above): with b_k the push cycle of
item k and f[p,k] the first cycle after PE p finished it,
    b_k = max(b_{k−1} + 1, max_p f[p, k − D] − 1)   (b_0 = 0; the second term only for k ≥ D)
    f[p,k] = max(b_k + 1, f[p,k−1]) + cost[item_k, p]
and drain_cycle = max_p f[p, K−1]. Only max_p f[p, k] is kept, in a ring of D slots, so the
kernel is O(K·N) time and O(N + D) memory. Stall cycles = b_{K−1} − (K − 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def broadcast_schedule(costs, stream, fifo_depth, free_at):
    """Run the stream through the PE array. Returns (drain_cycle, last_push_cycle).

    costs: int32 [types, N] cycles per item type per PE (>= 1); stream: int32 [K] item types
    in broadcast order; fifo_depth >= 1; free_at: int64 [N] scratch, overwritten with the
    cycle each PE becomes free.
    """
    n_pe = costs.shape[1]
    n_items = stream.shape[0]
    ring = np.zeros(fifo_depth, np.int64)  # max_p f[p, k] − 1 for the last D items
    for p in range(n_pe):
        free_at[p] = 0
    push = np.int64(-1)
    for k in range(n_items):
        push = push + 1
        if k >= fifo_depth:
            oldest = ring[k % fifo_depth]
            if oldest > push:
                push = oldest
        ready = push + 1
        row = costs[stream[k]]
        latest = np.int64(0)
        for p in range(n_pe):
            start = free_at[p]
            if start < ready:
                start = ready
            finish = start + row[p]
            free_at[p] = finish
            if finish > latest:
                latest = finish
        ring[k % fifo_depth] = latest - 1
    drain = np.int64(0)
    for p in range(n_pe):
        if free_at[p] > drain:
            drain = free_at[p]
    return drain, push


@dataclass(frozen=True)
class Timing:
    """Cycle counts of one layer (cycle or analytical model)."""

    total_cycles: float
    ideal_cycles: float  # Σ entries walked / N
    stall_cycles: float  # broadcast cycles lost to a full FIFO
    broadcasts: int  # non-zero activations broadcast (K)
    busy_cycles_per_pe: np.ndarray  # float64 [N]: entries walked by each PE

    @property
    def load_balance(self) -> float:
        """1 − bubbles / total = mean busy cycles / total cycles."""
        if self.total_cycles <= 0:
            return 1.0
        return float(np.mean(self.busy_cycles_per_pe) / self.total_cycles)


def cycle_timing(work, stream: np.ndarray, fifo_depth: int, pipeline_cycles: int) -> Timing:
    """Timing of `stream` (int32 item types) on `work` (a `LayerWork`) — see module docstring."""
    stream = np.ascontiguousarray(stream, dtype=np.int32)
    free_at = np.zeros(work.n_pe, np.int64)
    costs = work.costs
    drain, last_push = broadcast_schedule(costs, stream, int(fifo_depth), free_at)
    k = int(stream.shape[0])
    counts = np.bincount(stream, minlength=work.n_types).astype(np.int64)
    busy = counts @ work.entries.astype(np.int64)
    return Timing(
        total_cycles=float(drain + pipeline_cycles),
        ideal_cycles=float(busy.sum()) / work.n_pe,
        stall_cycles=float(last_push - (k - 1)) if k else 0.0,
        broadcasts=k,
        busy_cycles_per_pe=busy.astype(np.float64),
    )
