"""The design-space sweep engine: expand a config into points, evaluate each, store, report.

Part of the application layer (DESIGN §6), the last stage of the flow: every point is really
compressed (cached per compression setting), simulated layer by layer and joined with its
measured accuracy (`dcsim.point_evaluation`); finished points go to the resumable
`ResultStore`; at the end the tidy table and the reports are written.

Execution: serial, local processes (`workers > 1`, spawn context) or a Dask cluster
(`scheduler="tcp://host:port"`). Work that trains networks (the digits AlexNet, its pruned and
quantized versions) is prepared first, in this process, and cached on disk; the points then only
read those artefacts, so every executor produces identical tables.

Outputs in the output directory, each written atomically, only when the sweep completes:
`results.parquet`, `results.csv`, `results.xlsx`, `report.html`, plus `run.json` (the config,
accelerators, energy tables, validation rows and retrieval examples the report shows).

Before any work and before any folder is created, `dcsim.sweep_checks` checks what would make
every point fail for the same reason (files, folders, accelerators, recipes), and a Dask
scheduler is connected; a sweep that stops before storing a point removes the folders it
created. Temporary files left by a run killed while writing outputs are removed by the next.
Local worker processes exit when the sweep's process dies (`_exit_with_parent`), even by
kill -9, instead of computing on as orphans.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import pandas as pd

from dcsim.config import DesignPoint, SweepConfig
from dcsim.point_evaluation import compression_only, evaluate_point, prepare_points
from dcsim.result_store import POINTS_DIR, ResultStore
from dcsim.sweep_checks import check_sweep_inputs
from workloads.atomic_file import atomic_path, stale_temp_files

OUTPUT_FILES: tuple[str, ...] = ("results.parquet", "results.csv", "results.xlsx", "report.html")


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="point",
        desc="sweep",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def compression_groups(points: list[DesignPoint]) -> list[list[DesignPoint]]:
    """Points grouped by compression setting, in first-seen order: a group runs on one worker,
    so its network is compressed once and re-used for every hardware variant."""
    groups: dict[DesignPoint, list[DesignPoint]] = {}
    for point in points:
        groups.setdefault(compression_only(point), []).append(point)
    return list(groups.values())


def evaluate_group(points: list[DesignPoint]) -> list[pd.DataFrame]:
    """Rows of each point of one compression group (the unit of work sent to a worker)."""
    return [evaluate_point(point) for point in points]


def _run_serial(groups: list[list[DesignPoint]], on_done: Callable) -> None:
    for group in groups:
        for point in group:
            on_done(point, evaluate_point(point))


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


def _run_processes(groups: list[list[DesignPoint]], workers: int, on_done: Callable) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        pending = {pool.submit(evaluate_group, group): group for group in groups}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    group = pending.pop(future)
                    for point, rows in zip(group, future.result(), strict=True):
                        on_done(point, rows)
        except BaseException:
            for future in pending:
                future.cancel()
            raise


@contextlib.contextmanager
def _dask_client(scheduler: str) -> Iterator:
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


def _run_dask(groups: list[list[DesignPoint]], client, on_done: Callable) -> None:
    from distributed import as_completed

    futures = {client.submit(evaluate_group, group, pure=False): group for group in groups}
    try:
        for future in as_completed(list(futures)):
            for point, rows in zip(futures[future], future.result(), strict=True):
                on_done(point, rows)
    except BaseException:
        client.cancel(list(futures))
        raise


def _atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    with atomic_path(path) as temp:
        writer(temp)


def remove_stale_output_temps(out_dir: Path) -> list[Path]:
    """Remove the hidden `.results.*.tmp`, `.report.html.*.tmp`, … files that a run killed
    while writing its outputs left in `out_dir`; return what was removed."""
    stale = stale_temp_files(out_dir, ("run.json", *OUTPUT_FILES))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _folders_to_create(out_dir: Path) -> list[Path]:
    """The folders a sweep into `out_dir` will create, outermost first."""
    missing = [out_dir / POINTS_DIR]
    folder = out_dir
    while not folder.exists() and folder != folder.parent:
        missing.insert(0, folder)
        folder = folder.parent
    return [p for p in missing if not p.exists()]


def _remove_if_empty(folders: list[Path]) -> None:
    for folder in reversed(folders):
        with contextlib.suppress(OSError):  # not empty (a point was stored) or already gone
            folder.rmdir()


def write_outputs(results: pd.DataFrame, meta: dict, out_dir: Path) -> list[Path]:
    """Write the four result files and run.json atomically; return their paths."""
    from reports import write_csv, write_xlsx
    from reports.html_report import write_report

    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_output_temps(out_dir)
    _atomic_write(out_dir / "run.json", lambda p: p.write_text(json.dumps(meta, indent=1)))
    _atomic_write(out_dir / "results.parquet", lambda p: results.to_parquet(p, index=False))
    write_csv(results, out_dir / "results.csv")
    write_xlsx(results, meta, out_dir / "results.xlsx")
    write_report(results, meta, out_dir / "report.html")
    return [out_dir / name for name in ("run.json", *OUTPUT_FILES)]


def _evaluate_all(
    points: list[DesignPoint],
    todo: list[DesignPoint],
    store: ResultStore,
    client,
    workers: int,
    progress: bool,
) -> None:
    """Evaluate `todo` (serially, on local processes or on the Dask `client`), storing each
    point as it finishes."""

    def on_done(point: DesignPoint, rows: pd.DataFrame) -> None:
        store.write(point.point_id, rows)
        if bar is not None:
            bar.update(1)

    bar = None
    try:
        if todo:
            prepare_points(todo, progress)
            bar = _progress(len(points), len(points) - len(todo), progress)
            groups = compression_groups(todo)
            if client is not None:
                _run_dask(groups, client, on_done)
            elif workers > 1:
                _run_processes(groups, workers, on_done)
            else:
                _run_serial(groups, on_done)
    finally:
        if bar is not None:
            bar.close()


def run_sweep(
    config: SweepConfig,
    out_dir: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    fresh: bool = False,
    progress: bool = True,
    only_points: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Evaluate every point of `config` not already stored in `out_dir`, then write outputs.

    Returns the tidy result table of all the config's points (stored and new), in config order.
    `only_points` (point ids) limits which missing points are computed now (used by tests to
    simulate an interrupted run); outputs are then not written.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r} is invalid; allowed: an integer >= 1")
    out_dir = Path(out_dir)
    points = config.design_points()  # refuses a config above its max_points first
    check_sweep_inputs(points, out_dir)
    created = _folders_to_create(out_dir)
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_dask_client(scheduler)) if scheduler else None
        store = ResultStore(out_dir)
        try:
            store.prepare(fresh=fresh)
            remove_stale_output_temps(out_dir)
            todo = [p for p in points if not store.finished(p.point_id)]
            if only_points is not None:
                wanted = set(only_points)
                todo = [p for p in todo if p.point_id in wanted]
            _evaluate_all(points, todo, store, client, workers, progress)
        except BaseException:
            _remove_if_empty(created)
            raise
    results = store.read([p.point_id for p in points])
    if only_points is None:
        from dcsim.run_metadata import build_meta

        write_outputs(results, build_meta(config, points, results), out_dir)
    return results
