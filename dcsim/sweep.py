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
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import pandas as pd

from dcsim.config import DesignPoint, SweepConfig
from dcsim.point_evaluation import compression_only, evaluate_point, prepare_points
from dcsim.result_store import ResultStore
from workloads import progress as feedback
from workloads.atomic_file import atomic_path

OUTPUT_FILES: tuple[str, ...] = ("results.parquet", "results.csv", "results.xlsx", "report.html")


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


def _run_processes(groups: list[list[DesignPoint]], workers: int, on_done: Callable) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
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


def _run_dask(groups: list[list[DesignPoint]], scheduler: str, on_done: Callable) -> None:
    from distributed import Client, as_completed

    with Client(scheduler, timeout="30s") as client:
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


def write_outputs(results: pd.DataFrame, meta: dict, out_dir: Path) -> list[Path]:
    """Write the four result files and run.json atomically, each a progress stage; return
    their paths."""
    from reports import write_csv, write_xlsx
    from reports.html_report import write_report

    out_dir.mkdir(parents=True, exist_ok=True)

    def writing(name: str):
        return feedback.stage(f"writing {out_dir / name}")

    with writing("run.json"):
        _atomic_write(out_dir / "run.json", lambda p: p.write_text(json.dumps(meta, indent=1)))
    with writing("results.parquet"):
        _atomic_write(out_dir / "results.parquet", lambda p: results.to_parquet(p, index=False))
    with writing("results.csv"):
        write_csv(results, out_dir / "results.csv")
    with writing("results.xlsx"):
        write_xlsx(results, meta, out_dir / "results.xlsx")
    with writing("report.html"):
        write_report(results, meta, out_dir / "report.html")
    return [out_dir / name for name in ("run.json", *OUTPUT_FILES)]


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
    simulate an interrupted run); outputs are then not written. `progress`: report each stage
    on stderr (`workloads.progress`: bars on a terminal, plain lines otherwise); it changes
    no result.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r} is invalid; allowed: an integer >= 1")
    out_dir = Path(out_dir)
    points = config.design_points()
    store = ResultStore(out_dir)
    store.prepare(fresh=fresh)
    todo = [p for p in points if not store.finished(p.point_id)]
    if only_points is not None:
        wanted = set(only_points)
        todo = [p for p in todo if p.point_id in wanted]

    def on_done(point: DesignPoint, rows: pd.DataFrame) -> None:
        store.write(point.point_id, rows)
        bar.update(1)

    with feedback.reporting(enabled=progress):
        if len(todo) < len(points):
            feedback.note(f"sweep: {len(points) - len(todo)} of {len(points)} points stored")
        if todo:
            prepare_points(todo)
            with feedback.counter(
                "sweep", len(todo), "points", milestones=feedback.percent_milestones(len(todo))
            ) as bar:
                groups = compression_groups(todo)
                if scheduler:
                    _run_dask(groups, scheduler, on_done)
                elif workers > 1:
                    _run_processes(groups, workers, on_done)
                else:
                    _run_serial(groups, on_done)
        results = store.read([p.point_id for p in points])
        if only_points is None:
            from dcsim.run_metadata import build_meta

            with feedback.stage("collecting the report's metadata (validation, retrieval)"):
                meta = build_meta(config, points, results)
            write_outputs(results, meta, out_dir)
    return results
