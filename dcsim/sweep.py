"""The design-space sweep engine: expand a config into work units, evaluate them, store, report.

Part of the application layer (DESIGN §6, §8), the last stage of the flow. The config's points
come as work units (`dcsim.work_units`: consecutive points of one compression setting — with
the analytical model thousands of hardware variants evaluated as arrays, with the cycle model
one point each); every unit is really compressed (cached per compression setting), simulated
and joined with its accuracy (`dcsim.point_evaluation.evaluate_unit`); finished units go to the
resumable `ResultStore`; at the end the stored units stream into `results.parquet` and the
reports are written from it.

A unit evaluated once is also kept in the unit cache (`dcsim.unit_cache`, keyed by content), so
the same sweep into another folder copies its rows instead of evaluating them again.

Execution: serial, local processes (`workers > 1`, spawn context; `workers="auto"`: one per
usable CPU, bounded by the units left and the memory, `dcsim.local_workers`) or a Dask cluster
(`scheduler="tcp://host:port"`), all in `dcsim.unit_executors`: units sharing a pruned structure
go to the same worker (`dcsim.unit_dispatch`), a bounded number in flight, so neither the
points nor the futures of a sweep of 10^6 points are held at once. Work that trains networks
(the digits AlexNet, its pruned and quantized versions) is prepared first, in this process, and
cached on disk; the units then only read those artefacts, so every executor produces identical
tables.

Outputs in the output directory, each written atomically, only when the sweep completes:
`results.parquet` (streamed unit by unit), `results.csv`, `results.xlsx`, `report.html`, plus
`run.json` (the config, accelerators, energy tables, validation and verification rows and
retrieval examples the report shows). Rows are in config order: per network entry, points
grouped by compression setting (`SweepConfig.iter_design_points`). A hidden manifest,
`.outputs.json` (`dcsim.output_digest`), records what the outputs were made from and their
digests: a rerun whose units, verification rows, config, code and libraries are unchanged and
whose output files are intact keeps them instead of writing the same bytes again.

Before any work and before any folder is created, `dcsim.sweep_checks` checks what would make
every point fail for the same reason (files, folders, accelerators, recipes) on a few probe
points covering every distinct value, and a Dask scheduler is connected; a sweep that stops
before storing a unit removes the folders it created. Temporary files left by a run killed
while writing outputs are removed by the next. Local worker processes exit when the sweep's
process dies, even by kill -9, instead of computing on as orphans (`dcsim.unit_executors`).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dcsim import output_digest, unit_cache
from dcsim.compression_setting import compression_only
from dcsim.config import SweepConfig
from dcsim.pareto_fine_tune import fine_tune_pareto, fine_tuned_twins, wants_pareto_fine_tune
from dcsim.point_evaluation import prepare_points, release_unit_caches
from dcsim.result_store import UNITS_DIR, ResultStore
from dcsim.sweep_checks import check_sweep_inputs
from dcsim.trained_entries import trains
from dcsim.unit_executors import dask_client, run_dask, run_processes, run_serial
from dcsim.work_units import WorkUnit, iter_units, probe_points
from workloads import progress as feedback
from workloads.atomic_file import atomic_path, stale_temp_files

OUTPUT_FILES: tuple[str, ...] = ("results.parquet", "results.csv", "results.xlsx", "report.html")


def _atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    with atomic_path(path) as temp:
        writer(temp)


def remove_stale_output_temps(out_dir: Path) -> list[Path]:
    """Remove the hidden `.results.*.tmp`, `.report.html.*.tmp`, … files that a run killed
    while writing its outputs left in `out_dir`; return what was removed."""
    stale = stale_temp_files(out_dir, ("run.json", *OUTPUT_FILES, output_digest.MANIFEST))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _folders_to_create(out_dir: Path) -> list[Path]:
    """The folders a sweep into `out_dir` will create, outermost first."""
    missing = [out_dir / UNITS_DIR]
    folder = out_dir
    while not folder.exists() and folder != folder.parent:
        missing.insert(0, folder)
        folder = folder.parent
    return [p for p in missing if not p.exists()]


def _remove_if_empty(folders: list[Path]) -> None:
    for folder in reversed(folders):
        with contextlib.suppress(OSError):  # not empty (a unit was stored) or already gone
            folder.rmdir()


def write_outputs(results: pd.DataFrame, meta: dict, out_dir: Path) -> list[Path]:
    """Write the four result files and run.json atomically from an in-memory table (small
    sweeps, `dcsim report`, the Python API); return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_output_temps(out_dir)
    _atomic_write(out_dir / "results.parquet", lambda p: results.to_parquet(p, index=False))
    return write_reports(out_dir, meta)


def write_reports(out_dir: Path, meta: dict, side=None) -> list[Path]:
    """run.json, then the CSV, XLSX and HTML outputs from `out_dir/results.parquet` (the
    XLSX on the `side` executor when given: `reports.outputs.write_outputs`)."""
    import reports

    output_digest.forget(out_dir)  # outputs written here are not those a manifest describes

    def writing(name: str):
        return feedback.stage(f"writing {out_dir / name}")

    with writing("run.json"):
        _atomic_write(out_dir / "run.json", lambda p: p.write_text(json.dumps(meta, indent=1)))
    parquet = out_dir / "results.parquet"
    if hasattr(reports, "write_outputs"):  # streaming writers (memory flat in the table)
        reports.write_outputs(
            parquet, meta, out_dir, progress=feedback.note, stage=feedback.stage, side=side
        )
    else:
        results = pd.read_parquet(parquet)
        with writing("results.csv"):
            reports.write_csv(results, out_dir / "results.csv")
        with writing("results.xlsx"):
            reports.write_xlsx(results, meta, out_dir / "results.xlsx")
        with writing("report.html"):
            reports.write_report(results, meta, out_dir / "report.html")
    return [out_dir / name for name in ("run.json", *OUTPUT_FILES)]


TOTAL_COLUMNS: tuple[str, ...] = (
    "point_id",
    "network",
    "network_name",
    "weight_source",
    "accelerator",
    "n_pe",
    "fifo_depth",
    "density_profile",
    "density_scale",
    "conv_bits",
    "fc_bits",
    "cycles",
    "latency_ms",
    "fps",
    "meets_target",
    "energy_mj",
    "container_bytes",
    "compression_ratio",
    "fits_onchip",
    "overflow",
    "binding_memory",
    "codebook_fits",
    "codebook_entries",
    "codebook_need_entries",
    "codebook_capacity_entries",
    "model_bytes",
    "top1",
    "top5",
    "retrieval_map",
    "precision_at_10",
    "accuracy_source",
    "status",
    "error",
)


def read_totals(parquet: Path, columns: Iterable[str] = TOTAL_COLUMNS) -> pd.DataFrame:
    """The total rows of a result table (one per point), with the given columns only."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    with pq.ParquetFile(parquet) as table_file:
        names = table_file.schema_arrow.names
        wanted = [c for c in dict.fromkeys(["row_type", *columns]) if c in names]
        groups = []  # row group by row group (one per work unit): memory for the totals only
        for group in range(table_file.num_row_groups):
            rows = table_file.read_row_group(group, columns=wanted)
            groups.append(rows.filter(pc.equal(rows["row_type"], "total")))
    if not groups:
        return pq.read_table(parquet, columns=wanted).to_pandas().drop(columns=["row_type"])
    table = pa.concat_tables(groups)
    return table.to_pandas().drop(columns=["row_type"]).reset_index(drop=True)


@dataclass
class _Plan:
    """What a run has to do: every unit's id and size in config order, the ones to compute."""

    unit_ids: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    todo: set[int] = field(default_factory=set)
    to_train: dict = field(default_factory=dict)  # compression setting -> a point of it
    copied_points: int = 0  # points of units copied from the unit cache by this run

    @property
    def points(self) -> int:
        return sum(self.sizes)

    @property
    def points_todo(self) -> int:
        return sum(self.sizes[i] for i in self.todo)


def _plan(
    config: SweepConfig, store: ResultStore, only_units: set | None, read_cache: bool
) -> _Plan:
    """Every unit of `config`; the ones neither stored nor (with `read_cache`) copied from the
    unit cache (`dcsim.unit_cache`) are left to compute."""
    plan = _Plan()
    for unit in iter_units(config):
        plan.unit_ids.append(unit.unit_id)
        plan.sizes.append(len(unit))
        if store.finished(unit.unit_id):
            continue
        if only_units is not None and unit.index not in only_units:
            continue
        if read_cache and unit_cache.fetch(unit, store.path(unit.unit_id)):
            plan.copied_points += len(unit)
            continue
        plan.todo.add(unit.index)
        first = unit.points[0]
        if trains(first.network):
            plan.to_train.setdefault(compression_only(first), first)
    return plan


def _verify(config: SweepConfig, plan: _Plan, store: ResultStore, count: int) -> list[dict]:
    """`dcsim.verification` on `count` random points of the sweep."""
    from dcsim.verification import choose_positions, verify_points

    positions = choose_positions(plan.points, count, config.seed)
    if not positions:
        return []
    chosen, wanted, start = [], set(positions), 0
    units_needed = []
    for unit in iter_units(config, ids=plan.unit_ids):
        hits = [p for k, p in enumerate(unit.points) if start + k in wanted]
        if hits:
            chosen += hits
            units_needed.append(unit.unit_id)
        start += len(unit)
        if start > positions[-1]:
            break
    totals = store.read_totals(units_needed, [p.point_id for p in chosen]).set_index("point_id")
    return verify_points(chosen, totals, fine_tuned_twins(config, store, chosen))


def run_sweep(
    config: SweepConfig,
    out_dir: str | Path,
    *,
    workers: int | str = 1,
    scheduler: str | None = None,
    fresh: bool = False,
    progress: bool = True,
    only_units: Iterable[int] | None = None,
    verify: int | None = None,
    load_results: bool = True,
) -> pd.DataFrame | None:
    """Evaluate every work unit of `config` not already stored in `out_dir`, then write the
    outputs.

    Returns the tidy result table of all the config's points (stored and new), in config
    order, or None with `load_results=False` (a large sweep: read `results.parquet` instead).
    A missing unit whose rows are in the unit cache (`dcsim.unit_cache`: the same points,
    code, named files and libraries) is copied from it instead of evaluated, except with
    `fresh` (which also empties the store first) or `$DCSIM_UNIT_CACHE=0`.
    `only_units` (unit indices in config order) limits which missing units are computed now
    (used by tests to simulate an interrupted run); outputs are then not written and the
    stored rows are returned. `verify` overrides the config's `verify` count. `progress`:
    report each stage on stderr (`workloads.progress`: bars on a terminal, plain lines
    otherwise); it changes no result, and neither does `workers` (an integer >= 1, or "auto":
    `dcsim.local_workers.auto_workers`).
    """
    if workers != "auto" and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers={workers!r} is invalid; allowed: an integer >= 1 or 'auto'")
    out_dir = Path(out_dir)
    unit_cache.enabled()  # a bad $DCSIM_UNIT_CACHE is refused before any work
    unit_cache.new_run()
    config.check_size()  # refuses a config above its max_points before building any point
    check_sweep_inputs(probe_points(config), out_dir)
    created = _folders_to_create(out_dir)
    only = set(only_units) if only_units is not None else None
    with feedback.reporting(enabled=progress):
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(dask_client(scheduler)) if scheduler else None
            store = ResultStore(out_dir)
            try:
                store.prepare(fresh=fresh)
                if fresh:
                    output_digest.forget(out_dir)
                remove_stale_output_temps(out_dir)
                plan = _plan(config, store, only, read_cache=unit_cache.enabled() and not fresh)
                _evaluate_units(config, plan, store, client, workers)
            except BaseException:
                _remove_if_empty(created)
                raise
        if wants_pareto_fine_tune(config) and all(store.finished(u) for u in plan.unit_ids):
            fine_tune_pareto(config, store, feedback)  # once every unit has its k-means rows
        if only is not None:
            return store.read(plan.unit_ids)
        release_unit_caches()
        verify_count = config.verify if verify is None else int(verify)
        rows = []
        if verify_count:
            with feedback.stage(f"verifying {verify_count} random points on the cycle model"):
                rows = _verify(config, plan, store, verify_count)
        parquet = out_dir / "results.parquet"
        names = ("run.json", *OUTPUT_FILES)
        digest = output_digest.inputs_digest(config, [store.path(u) for u in plan.unit_ids], rows)
        if output_digest.unchanged(out_dir, digest, names):
            feedback.note(f"outputs in {out_dir}: made from the same units, unchanged, kept")
        else:
            _write_sweep_outputs(config, plan, store, rows, out_dir, side_writer=workers != 1)
            output_digest.record(out_dir, digest, names)
    return pd.read_parquet(parquet) if load_results else None


def _write_sweep_outputs(
    config: SweepConfig,
    plan: _Plan,
    store: ResultStore,
    rows: list[dict],
    out_dir: Path,
    side_writer: bool = False,
) -> None:
    """results.parquet streamed from the stored units (with the verification columns), then
    run.json and the reports; `side_writer` (a sweep allowed several processes, on a machine
    with several CPUs): the workbook is written by a side process, readied meanwhile
    (`reports.outputs`)."""
    from dcsim.local_workers import usable_cpus

    parquet = out_dir / "results.parquet"
    with contextlib.ExitStack() as stack:
        side = None
        if side_writer and usable_cpus() > 1:
            from dcsim.unit_executors import one_process_pool
            from reports.outputs import prepare_side_writer

            side = stack.enter_context(one_process_pool())  # no orphan after kill -9
            side.submit(prepare_side_writer)
        with feedback.stage(f"writing {parquet}"):
            if rows:
                import pyarrow as pa

                from dcsim.verification import VERIFY_COLUMNS, verification_columns

                store.write_table(
                    plan.unit_ids,
                    parquet,
                    verification_columns(rows),
                    [pa.field(name, pa.float64()) for name in VERIFY_COLUMNS],
                )
            else:
                store.write_table(plan.unit_ids, parquet)
        from dcsim.run_metadata import build_meta

        with feedback.stage("collecting the report's metadata (validation, retrieval)"):
            meta = build_meta(config, read_totals(parquet), verification=rows)
        write_reports(out_dir, meta, side)
        if side is not None:  # done: it exits on its own while the sweep finishes
            stack.pop_all()
            side.shutdown(wait=False)


def _evaluate_units(config, plan: _Plan, store: ResultStore, client, workers) -> None:
    """Evaluate the plan's units (serially, on local processes or on the Dask `client`),
    storing each as it finishes."""
    if plan.copied_points:
        feedback.note(
            f"sweep: {plan.copied_points:,} of {plan.points:,} points copied from the unit cache"
        )
    if plan.points_todo < plan.points:
        feedback.note(f"sweep: {plan.points - plan.points_todo:,} of {plan.points:,} points stored")
    if not plan.todo:
        return
    if workers == "auto":
        from dcsim.local_workers import auto_workers

        workers = auto_workers(len(plan.todo))
    # the report's validation rows (cached per code version): on local worker processes one
    # worker computes them while the others start on the units; otherwise before the units,
    # not after them: the EIE benchmark layers (0.57 GB at their peak) next to a unit's network
    # in one process would raise that process's peak memory
    from dcsim import validation_rows as validation

    side_job = None
    if client is None and workers > 1 and validation.cached_validation_rows() is None:
        side_job = functools.partial(
            validation.compute_validation_rows,
            compile_statistics_first=config.sim_model == "analytical",
        )
        feedback.note("validation rows for the report: computed on a worker beside the units")
    else:
        validation.validation_rows()
    prepare_points(list(plan.to_train.values()))
    todo = plan.points_todo
    with feedback.counter(
        "sweep", todo, "points", milestones=feedback.percent_milestones(todo)
    ) as bar:
        keep = unit_cache.enabled()

        def on_done(unit: WorkUnit, data: bytes) -> None:
            store.write_bytes(unit.unit_id, data)
            if keep:
                unit_cache.keep(unit, store.path(unit.unit_id))
            bar.update(len(unit))

        units = (u for u in iter_units(config, ids=plan.unit_ids) if u.index in plan.todo)
        if client is not None:
            run_dask(units, client, on_done)
        elif workers > 1:
            run_processes(units, workers, on_done, side_job, validation.keep_validation_rows)
        else:
            run_serial(units, on_done)
