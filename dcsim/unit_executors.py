"""How a sweep's work units run: in this process, on local worker processes, or on a Dask
cluster.

Part of the application layer (DESIGN §6, §8), called by `dcsim.sweep`, which stores each
finished unit through the `on_done(unit, parquet_bytes)` callback every executor takes: a
worker returns its unit's rows as the bytes of the parquet file the store keeps
(`unit_parquet`), 0.8 MB for 2,048 ImageNet-shaped points where the pickled table is 30 MB, so
neither the transfer nor the conversion to parquet is left to the sweep's process. Each executor
keeps a bounded number of units in flight (`UNITS_IN_FLIGHT_PER_WORKER` per worker), taking
them lazily from the config-order stream through `dcsim.unit_dispatch.UnitQueue` (units
sharing a pruned structure go to the same worker), so neither the points nor the futures of a
sweep of 10^6 points are held at once. Units finish in any order; the store and the result
table are in config order, so every executor gives identical tables.

- `run_serial`: one unit after the other, here.
- `run_processes`: `workers` spawned processes, each its own one-process pool (so a unit goes
  to the process the queue picks). Each process ends when the sweep's process is gone, even by
  kill -9 (`one_process_pool`), instead of computing on as an orphan.
- `run_dask` on the client of `dask_client(address)`: each unit submitted to the worker the
  queue picks, with `allow_other_workers` (another worker runs it should that one leave).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import pandas as pd

from dcsim.point_evaluation import evaluate_unit
from dcsim.result_store import rows_parquet
from dcsim.unit_dispatch import UnitQueue
from dcsim.work_units import WorkUnit

UNITS_IN_FLIGHT_PER_WORKER = 2


PARENT_POLL_S = 0.5


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker as soon as the sweep's process is gone.

    On Linux the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG); on every
    system a daemon thread also polls the parent pid and exits when the worker has been
    re-parented. Either way no orphan keeps computing (and holding memory) after kill -9."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread remains
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(PARENT_POLL_S)

    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)
    threading.Thread(target=watch, name="dcsim-parent-watch", daemon=True).start()


def one_process_pool() -> ProcessPoolExecutor:
    """A pool of one spawned worker process that ends as soon as this process is gone, even
    by kill -9 (`_exit_with_parent`): a sweep's unit workers and its side workbook writer."""
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )


def evaluate_work_unit(unit: WorkUnit) -> pd.DataFrame:
    """The rows of one work unit (what a worker runs)."""
    return evaluate_unit(unit.points)


def unit_parquet(unit: WorkUnit) -> bytes:
    """The rows of one work unit as the bytes of their parquet file (what a worker returns)."""
    return rows_parquet(evaluate_work_unit(unit))


def run_serial(units: Iterable[WorkUnit], on_done: Callable) -> None:
    for unit in units:
        on_done(unit, unit_parquet(unit))


def run_processes(
    units: Iterable[WorkUnit],
    workers: int,
    on_done: Callable,
    side_job: Callable[[], object] | None = None,
    on_side_done: Callable[[object], None] | None = None,
) -> None:
    """`workers` spawned processes, each its own one-process pool, so a unit goes to the worker
    `UnitQueue` picks (units sharing a pruned structure to the same process).

    `side_job` (a picklable function of no argument), when given, runs first on the last
    worker while the others start on the units, and `on_side_done` gets its result; that
    worker takes units once it is done (a sweep computes its report's validation rows so)."""
    queue = UnitQueue(units)
    with contextlib.ExitStack() as stack:
        pools = [stack.enter_context(one_process_pool()) for _ in range(workers)]
        pending: dict = {}
        in_flight = [0] * workers
        unit_workers = list(range(workers))

        def submit(worker: int, may_wait: bool) -> bool:
            unit = queue.next_for(worker, may_wait)
            if unit is None:
                return False
            pending[pools[worker].submit(unit_parquet, unit)] = (worker, unit)
            in_flight[worker] += 1
            return True

        def fill(worker: int) -> None:
            """Up to UNITS_IN_FLIGHT_PER_WORKER units on `worker`, fewer when the queue has
            nothing worth its while now (it is offered work again as units come back)."""
            while in_flight[worker] < UNITS_IN_FLIGHT_PER_WORKER and submit(worker, bool(pending)):
                pass

        if side_job is not None:
            pending[pools[-1].submit(side_job)] = (workers - 1, None)
            unit_workers.pop()
        for _ in range(UNITS_IN_FLIGHT_PER_WORKER):  # every worker's first unit, then the next
            for worker in unit_workers:
                submit(worker, may_wait=False)
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    worker, unit = pending.pop(future)
                    if unit is None:  # the side job: its worker joins the units
                        if on_side_done is not None:
                            on_side_done(future.result())
                        unit_workers.append(worker)
                        continue
                    in_flight[worker] -= 1
                    queue.finished(unit)
                    on_done(unit, future.result())
                for worker in unit_workers:
                    fill(worker)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        # every unit is back: the workers exit (freeing their memory, ~0.4 s each) while the
        # sweep's process goes on to its outputs, instead of being waited for one by one
        stack.pop_all()
        for pool in pools:
            pool.shutdown(wait=False)


@contextlib.contextmanager
def dask_client(scheduler: str) -> Iterator:
    """A client of the Dask scheduler at `scheduler`; a bad or unreachable address is one
    ValueError naming it."""
    from distributed import Client

    try:
        client = Client(scheduler, timeout="30s")
    except (OSError, ValueError, TypeError) as error:
        message = " ".join(str(error).split())
        raise ValueError(
            f"scheduler={scheduler!r} cannot be reached ({message}); allowed: the address of a "
            "running Dask scheduler, e.g. tcp://127.0.0.1:8786"
        ) from None
    with client:
        yield client


def run_dask(units: Iterable[WorkUnit], client, on_done: Callable) -> None:
    """Units on the Dask cluster of `client`, each submitted to the worker `UnitQueue` picks
    (others may still run it, should that worker leave)."""
    from distributed import as_completed

    queue = UnitQueue(units)
    workers = client.scheduler_info().get("workers", {}) or {None: {"nthreads": 1}}
    slots = {
        w: UNITS_IN_FLIGHT_PER_WORKER * max(1, int(i.get("nthreads", 1)))
        for w, i in workers.items()
    }
    in_flight = dict.fromkeys(workers, 0)
    pending: dict = {}

    def submit(worker, may_wait: bool) -> object | None:
        unit = queue.next_for(worker, may_wait)
        if unit is None:
            return None
        where = {} if worker is None else {"workers": [worker], "allow_other_workers": True}
        future = client.submit(unit_parquet, unit, pure=False, **where)
        pending[future] = (worker, unit)
        in_flight[worker] += 1
        return future

    first = []
    for _ in range(UNITS_IN_FLIGHT_PER_WORKER):  # every worker's first units, then the next
        for worker, info in workers.items():
            for _ in range(max(1, int(info.get("nthreads", 1)))):
                future = submit(worker, may_wait=False)
                if future is not None:
                    first.append(future)
    completed = as_completed(first)
    try:
        for future in completed:
            worker, unit = pending.pop(future)
            in_flight[worker] -= 1
            queue.finished(unit)
            on_done(unit, future.result())
            for other in workers:  # fewer when nothing is worth its while now (unit_dispatch)
                while in_flight[other] < slots[other]:
                    new = submit(other, may_wait=bool(pending))
                    if new is None:
                        break
                    completed.add(new)
    except BaseException:
        client.cancel(list(pending))
        raise
