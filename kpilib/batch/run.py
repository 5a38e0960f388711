"""``kpi run`` / ``kpi report``: the run loop that joins plan, state, workers and outputs.

:func:`run_batch`:

1. hashes the inputs (cheap: no heavy import) and keeps every report whose last render
   came from the same inputs (:mod:`kpilib.batch.state`);
2. for the others, prepares in a child process (:mod:`kpilib.batch.prepare`): ingest,
   validation (cached), per-report fingerprints; a report whose fingerprint is unchanged is
   up to date too;
3. renders the rest on an executor (default: :class:`~kpilib.batch.pool.WorkerPool` with
   ``--jobs`` workers; ``--jobs 1``: in this process; ``--scheduler``: a Dask cluster,
   :mod:`kpilib.batch.cluster`), at most ``jobs`` (or the executor's ``capacity()``) at a
   time; a worker that dies fails its report only;
4. writes index, summaries and manifest per quarter and a record of the run.

``SIGINT`` and ``SIGTERM`` stop the run the same way: workers are stopped, temporary files
of the reports in flight removed, the index and manifest written (unfinished reports say
so), a line says what is left, and the exit code is 128 + the signal (130, 143). A ``kill
-9`` of the parent takes its workers with it (:func:`kpilib.batch.pool.die_with_parent`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from kpilib.batch.cluster import dask_executor
from kpilib.batch.outputs import (
    IndexRow,
    collect_rows,
    new_run_id,
    render_fy_index,
    render_index,
    render_month_index,
    write_manifest,
    write_run_record,
    write_summary_csv,
    write_summary_xlsx,
)
from kpilib.batch.plan import RunPlan
from kpilib.batch.pool import WorkerDied, WorkerPool
from kpilib.batch.prepare import (
    Prepared,
    PrepareRequest,
    ValidationRecord,
    cached_validation,
    prepare,
    prepare_data,
    prepare_validation,
)
from kpilib.batch.state import (
    FingerprintRequest,
    InputHashes,
    ReportState,
    fingerprints_of,
    hash_inputs,
    inputs_digest,
    is_current,
    read_state,
    report_identity,
    utc_now,
)
from kpilib.batch.worker import (
    DISK_ERRNOS,
    OUTPUTS,
    ReportResult,
    Task,
    child_env,
    peak_rss_kb,
    prime,
    render_report,
    worker_init,
)
from kpilib.errors import DependencyMissing, RenderError
from kpilib.fsio import atomic_write_text, remove_tmp_files
from kpilib.paths import package_dir, project_root

#: Exit codes of ``kpi run`` and ``kpi report``.
EXIT_OK = 0  # every report rendered or up to date, every KPI certified
EXIT_FAILED = 1  # at least one report failed (or the output folder is full)
EXIT_USAGE = 2  # bad parameters or unusable input: nothing rendered
EXIT_NOT_CERTIFIED = 3  # every report rendered or up to date, some KPIs not certified
# interrupted: 128 + the signal (130 for SIGINT/Ctrl-C, 143 for SIGTERM)

ExecutorFactory = Callable[[RunPlan, int], Executor]


_SIGNALLED: list[int] = []
"""Signals received during this run (a notebook may swallow the exception the handler raises)."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (Ctrl-C or ``SIGTERM``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports it."""
        return 128 + self.signum


@dataclass
class BatchResult:
    """What a run did."""

    run_id: str
    results: list[ReportResult]
    rows: dict[int, list[IndexRow]]
    timings: dict[str, float]
    index_paths: list[Path]
    manifest_paths: list[Path]
    run_path: Path | None = None
    validation: ValidationRecord | None = None
    outcome: str = "completed"
    messages: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[ReportResult]:
        """Reports that failed."""
        return [r for r in self.results if r.status == "failed"]

    @property
    def not_certified(self) -> list[IndexRow]:
        """Reports of this run with a KPI not certified (or unknown: no validation)."""
        keys = {r.key for r in self.results}
        return [
            row
            for rows in self.rows.values()
            for row in rows
            if (row.code, row.quarter) in keys
            and row.summary is not None
            and row.certified is not True
        ]

    @property
    def exit_code(self) -> int:
        """See :data:`EXIT_OK` and the following constants."""
        if self.failed or self.outcome != "completed":
            return EXIT_FAILED
        return EXIT_NOT_CERTIFIED if self.not_certified else EXIT_OK


class _Progress:
    """A tqdm bar on a terminal, time-stamped plain lines otherwise (cron, systemd)."""

    def __init__(self, label: str, *, stream: TextIO, month: int | None = None) -> None:
        self.label = label
        self.month = month
        self.stream = stream
        self.total = 0
        self.done = 0
        self.bar: Any = None

    def start(self, total: int) -> None:
        self.total = total
        if total and hasattr(self.stream, "isatty") and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="report", file=self.stream)

    @staticmethod
    def stamp() -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S")

    def log(self, text: str) -> None:
        line = f"{self.stamp()} {self.label}: {text}"
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def update(self, result: ReportResult) -> None:
        self.done += 1
        label = f"{result.unit} {_period(result.quarter, self.month)}"
        seconds = result.timings.get("total", 0.0)
        line = f"[{self.done}/{self.total}] {label} {result.status} {seconds:.2f} s"
        if result.error:
            line += f": {result.error}"
        if self.bar is not None:
            self.bar.set_postfix_str(label)
            self.bar.update(1)
            if result.status == "failed":
                self.bar.write(f"FAILED {label}: {result.error}", file=self.stream)
        else:
            self.log(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _period(quarter: int, month: int | None) -> str:
    """``Q1``, or ``M11`` in a monthly run."""
    return f"Q{quarter}" if month is None else f"M{month:02d}"


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn ``SIGINT`` and ``SIGTERM`` into :class:`Interrupted` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):  # cleaning up takes a moment: once is enough
            signal.signal(sig, signal.SIG_IGN)
        _SIGNALLED.append(signum)
        raise Interrupted(signum)

    _SIGNALLED.clear()

    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in old:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def check_pdf() -> None:
    """Refuse ``--pdf`` before anything runs when Chromium is missing."""
    from kpilib.render import find_chromium

    try:
        find_chromium()
    except DependencyMissing as exc:
        raise DependencyMissing(f"--pdf: {exc.one_line()}; or run without --pdf") from None


def process_pool(plan: RunPlan, workers: int) -> Executor:
    """The default executor: a :class:`WorkerPool` of warmed-up workers."""
    return WorkerPool(workers, initializer=worker_init, initargs=(plan.engine, child_env()))


def report_parameters(plan: RunPlan, unit: str, quarter: int) -> dict[str, Any]:
    """The notebook parameters of one report (``validation_json`` added once known)."""
    params: dict[str, Any] = {
        "unit": unit,
        "fy": plan.fy,
        "quarter": quarter,
        "data_dir": str(plan.data_dir),
        "as_of": "",
        "lang": plan.lang,
    }
    if plan.month is not None:
        params["month"] = plan.month
    return params


def validation_key(hashes: InputHashes, fy: int) -> str:
    """What a validation result depends on: data files, ``params/``, kpilib's source, FY."""
    blob = {"data": hashes.data, "params": hashes.params, "source": hashes.source, "fy": fy}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


def _in_child(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a one-worker pool (dies with this process); re-raise its error."""
    return _in_children((fn, *args))[0]


def _in_children(*calls: tuple[Any, ...]) -> list[Any]:
    """Run each ``(fn, *args)`` at once, each in its own one-worker pool (they die with this
    process); return their results in order, or re-raise the first call's error (in order:
    the later ones are stopped)."""
    pools = [
        WorkerPool(1, initializer=worker_env, initargs=(child_env(),), max_deaths=0) for _ in calls
    ]
    try:
        futures = [pool.submit(fn, *args) for pool, (fn, *args) in zip(pools, calls, strict=True)]
        results = []
        for future in futures:
            try:
                results.append(future.result())
            except WorkerDied as exc:
                raise RenderError(f"preparing the run failed: {exc}") from None
        return results
    except BaseException:
        for pool in pools:
            pool.abandon()
        raise
    finally:
        for pool in pools:
            pool.shutdown(wait=True)


def _split(req: PrepareRequest) -> bool:
    """Whether :func:`_prepare` runs two children: the run ingests and validates afresh."""
    if not (req.ingest and req.validate):
        return False
    return cached_validation(Path(req.validation_dir), req.validation_key) is None


def _prepare(req: PrepareRequest) -> Prepared:
    """Ingest, validation and fingerprints in child processes (:mod:`kpilib.batch.prepare`).

    When the run ingests and must validate afresh, two children work at once: one ingests and
    hashes what each report reads, the other imports great-expectations meanwhile and
    validates as soon as the ingest is done; this process joins the halves of the
    fingerprints. Otherwise one child does it all in turn.
    """
    if not _split(req):
        return _in_child(prepare, req)
    data, checked = _in_children((prepare_data, req), (prepare_validation, req))
    if req.fingerprints is not None:
        fp_req = replace(req.fingerprints, validation_json=checked.validation.path)
        data.fingerprints = fingerprints_of(fp_req, data.read_parts, checked.findings)
    data.read_parts = {}
    data.validation = checked.validation
    data.timings["validation"] = sum(checked.timings.values())
    data.timings.update(checked.timings)
    data.peak_rss_kb = max(data.peak_rss_kb, checked.peak_rss_kb)
    return data


def worker_env(env: dict[str, str]) -> None:
    """Initializer of the preparing child: the parent's settings only (no warm-up)."""
    import os

    os.environ.update(env)


def _cleanup_dead(task: Task, error: str) -> ReportResult:
    """A report whose worker died: remove its partial and earlier files, record the failure."""
    unit_dir = Path(task.unit_dir)
    remove_tmp_files(unit_dir)
    for name in OUTPUTS:  # all from an earlier render: the state said "running"
        (unit_dir / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        ReportState(
            status="failed",
            unit=task.unit,
            quarter=task.quarter,
            error=error,
            engine=task.engine,
            finished_at=utc_now(),
            run=task.run,
        ).write(unit_dir)
    return ReportResult(task.unit, task.quarter, "failed", error=error)


def _stop(executor: Executor) -> None:
    """Stop an executor now, whatever it is doing."""
    abandon = getattr(executor, "abandon", None)
    if abandon is not None:
        abandon()
    else:
        executor.shutdown(wait=False, cancel_futures=True)


def _early_pool(
    plan: RunPlan,
    todo: list[tuple[str, int]],
    executor_factory: ExecutorFactory | None,
) -> Executor | None:
    """Start the render workers before preparing, and have each compute what the reports
    share (:func:`kpilib.batch.worker.prime`), when the run renders on the default process
    pool: their warm-up and that work then overlap the ingest and validation, which run in a
    child process and leave a core idle. None for one worker, another executor or the
    ``kernel`` engine."""
    workers = min(plan.jobs, len(todo))
    if (
        workers < 2
        or executor_factory is not None
        or plan.scheduler is not None
        or plan.engine != "inprocess"
    ):
        return None
    pool = process_pool(plan, workers)
    units = tuple(dict.fromkeys(u for u, _ in todo))
    quarters = tuple(sorted({q for _, q in todo}))
    for _ in range(workers):  # one each, as a worker comes free from its warm-up
        pool.submit(prime, str(plan.data_dir), plan.fy, quarters, units, str(project_root()))
    return pool


def _render(
    tasks: list[Task],
    plan: RunPlan,
    progress: _Progress,
    results: dict[tuple[str, int], ReportResult],
    executor_factory: ExecutorFactory | None,
    executor: Executor | None = None,
) -> tuple[str | None, dict[str, Any]]:
    """Render ``tasks``; return (why the run stopped early or None, pool facts).

    ``executor``: a pool started earlier (:func:`_early_pool`), used and shut down here.
    """
    workers = min(plan.jobs, len(tasks))
    info: dict[str, Any] = {"workers": workers}
    if executor_factory is None and plan.scheduler is not None:
        executor_factory = dask_executor
    if workers == 1 and executor_factory is None and executor is None:
        for task in tasks:
            try:
                result = render_report(task)
            except BaseException:
                remove_tmp_files(Path(task.unit_dir))
                raise
            if _SIGNALLED:  # IPython records an interrupt inside a cell as the cell's error
                raise Interrupted(_SIGNALLED[0])
            results[(task.unit, task.quarter)] = result
            progress.update(result)
            if result.disk_full:
                return f"the output folder cannot be written: {result.error}", info
        return None, info
    if executor is None:
        executor = (executor_factory or process_pool)(plan, workers)
    capacity: Callable[[], int] = getattr(executor, "capacity", lambda: workers)
    queue = deque(tasks)
    running: dict[Future[ReportResult], Task] = {}
    stopped: str | None = None
    try:
        describe = getattr(executor, "describe", None)
        if describe is not None:
            progress.log(describe())
        while queue or running:
            limit = capacity()  # a cluster may grow or shrink while the run goes on
            while queue and len(running) < limit and stopped is None:
                task = queue.popleft()
                running[executor.submit(render_report, task)] = task
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                try:
                    result = future.result()
                except WorkerDied as exc:
                    result = _cleanup_dead(task, str(exc))
                except Exception as exc:
                    result = _cleanup_dead(task, f"{type(exc).__name__}: {exc}")
                results[(task.unit, task.quarter)] = result
                progress.update(result)
                if result.disk_full and stopped is None:
                    stopped = f"the output folder cannot be written: {result.error}"
                    queue.clear()
    except BaseException:
        _stop(executor)
        for task in running.values():
            remove_tmp_files(Path(task.unit_dir))
        raise
    executor.shutdown(wait=True)
    return stopped, info


def run_batch(
    plan: RunPlan,
    *,
    stream: TextIO | None = None,
    out: TextIO | None = None,
    executor_factory: ExecutorFactory | None = None,
) -> BatchResult:
    """Render every report of ``plan``; write index, summaries, manifest and a run record.

    Args:
        plan: A plan from :func:`kpilib.batch.plan_run`.
        stream: Where progress goes (default ``sys.stderr``).
        out: Where the final summary goes (default ``sys.stdout``).
        executor_factory: ``(plan, workers) -> concurrent.futures.Executor`` to render on
            (default: :func:`process_pool`; with ``--jobs 1`` and no factory, this process).

    Returns:
        What happened; ``exit_code`` is the command's exit code.

    Raises:
        Interrupted: After cleaning up, when ``SIGINT``/``SIGTERM`` stopped the run.
        KpilibError: Unusable input found while preparing (nothing rendered).
    """
    stream = stream if stream is not None else sys.stderr
    out = out if out is not None else sys.stdout
    progress = _Progress(plan.command, stream=stream, month=plan.month)
    run_id = new_run_id()
    started_at = utc_now()
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    results: dict[tuple[str, int], ReportResult] = {}
    prepared: Prepared | None = None
    vdir = plan.validation_dir()
    validation = ValidationRecord.read(vdir) if plan.validate else None
    outcome = "completed"
    interrupted: Interrupted | None = None
    tasks: list[Task] = []
    hashes: InputHashes | None = None
    early: Executor | None = None  # workers started before preparing (_early_pool)
    with _stop_on_signals():
        try:
            if plan.pdf:
                check_pdf()
            t0 = time.perf_counter()
            hashes = hash_inputs(
                data_dir=plan.data_dir,
                params_dir=plan.params_dir,
                notebook=plan.notebook,
                source_dir=package_dir(),
            )
            todo = []
            for quarter in plan.quarters:
                for unit in plan.units:
                    identity = report_identity(
                        unit.code,
                        plan.fy,
                        quarter,
                        lang=plan.lang,
                        validate=plan.validate,
                        month=plan.month,
                    )
                    inputs = inputs_digest(hashes, identity)
                    unit_dir = plan.unit_dir(quarter, unit.code)
                    state = read_state(unit_dir)
                    if not plan.force and is_current(state, unit_dir, inputs=inputs, pdf=plan.pdf):
                        results[(unit.code, quarter)] = _up_to_date(state, inputs)  # type: ignore[arg-type]
                    else:
                        todo.append((unit.code, quarter, unit_dir, inputs, state))
            timings["hash"] = time.perf_counter() - t0
            if todo:
                period = (
                    f"Q{','.join(map(str, plan.quarters))}"
                    if plan.month is None
                    else f"M{plan.month:02d}"
                )
                progress.log(
                    f"FY {plan.fy} {period}: {len(todo)} report(s) "
                    f"to check, {len(results)} up to date"
                )
                early = _early_pool(plan, [(u, q) for u, q, *_ in todo], executor_factory)
                if plan.ingest or plan.validate:
                    t0 = time.perf_counter()
                    fp_req = None
                    if plan.ingest:
                        fp_req = FingerprintRequest(
                            data_dir=str(plan.data_dir),
                            fy=plan.fy,
                            code_digest=hashes.code_digest(),
                            reports=tuple((u, q) for u, q, *_ in todo),
                            lang=plan.lang,
                            validate=plan.validate,
                            month=plan.month,
                        )
                    request = PrepareRequest(
                        data_dir=str(plan.data_dir),
                        fy=plan.fy,
                        validation_dir=str(vdir),
                        validation_key=validation_key(hashes, plan.fy),
                        ingest=plan.ingest,
                        validate=plan.validate,
                        fingerprints=fp_req,
                    )
                    steps = (("ingest", plan.ingest), ("validation", plan.validate))
                    progress.log(
                        ("preparing in two child processes: " if _split(request) else
                         "preparing in a child process: ")
                        + ", ".join(s for s, on in (*steps, ("fingerprints", plan.ingest)) if on)
                    )  # fmt: skip
                    prepared = _prepare(request)
                    timings["prepare"] = time.perf_counter() - t0
                    timings.update({f"prepare_{k}": v for k, v in prepared.timings.items()})
                    if prepared.validation is not None:
                        validation = prepared.validation
                        v = validation
                        progress.log(
                            f"validation{' (cached)' if v.cached else ''}: {v.blocking} blocking "
                            f"finding(s), {v.warnings} warning(s) ({v.seconds:.1f} s)"
                        )
                vjson = validation.path if validation is not None else ""
                for unit_code, quarter, unit_dir, inputs, state in todo:
                    fingerprint = (
                        prepared.fingerprints.get((unit_code, quarter)) if prepared else None
                    )
                    if (
                        not plan.force
                        and fingerprint is not None
                        and is_current(state, unit_dir, fingerprint=fingerprint, pdf=plan.pdf)
                    ):
                        state.inputs = inputs  # type: ignore[union-attr]  # fast path next time
                        with contextlib.suppress(OSError):
                            state.write(unit_dir)  # type: ignore[union-attr]
                        results[(unit_code, quarter)] = _up_to_date(state, inputs)  # type: ignore[arg-type]
                        continue
                    tasks.append(
                        Task(
                            unit=unit_code,
                            quarter=quarter,
                            unit_dir=str(unit_dir),
                            notebook=str(plan.notebook),
                            parameters={
                                **report_parameters(plan, unit_code, quarter),
                                "validation_json": vjson,
                            },
                            inputs=inputs,
                            fingerprint=fingerprint or inputs,
                            engine=plan.engine,
                            pdf=plan.pdf,
                            cell_timeout=plan.cell_timeout,
                            run=run_id,
                            cwd=str(project_root()),  # where params/ is, as for this command
                        )
                    )
            if tasks:
                workers = min(plan.jobs, len(tasks))
                where = (
                    f"{workers} worker(s)"
                    if plan.scheduler is None or plan.scheduler == "local"
                    else f"Dask scheduler {plan.scheduler}"
                )
                progress.log(
                    f"{len(tasks)} to render, {len(results)} up to date, "
                    f"{where}, engine {plan.engine}"
                )
                progress.start(len(tasks))
                t0 = time.perf_counter()
                pool, early = early, None  # _render shuts it down
                try:
                    stopped, _ = _render(tasks, plan, progress, results, executor_factory, pool)
                finally:
                    progress.close()
                timings["render"] = time.perf_counter() - t0
                if stopped:
                    outcome = f"stopped: {stopped}"
        except Interrupted as exc:
            interrupted = exc
            outcome = f"interrupted by {signal.Signals(exc.signum).name}"
        finally:
            if early is not None:  # nothing left to render, or preparing failed
                _stop(early)
        # finished or interrupted: say what the folder holds now
        for task in tasks:
            key = (task.unit, task.quarter)
            if key not in results:
                why = "interrupted" if interrupted else "not rendered (run stopped)"
                results[key] = ReportResult(task.unit, task.quarter, "interrupted", error=why)
        timings["total"] = time.perf_counter() - t_start
        batch = _write_outputs(
            plan,
            run_id=run_id,
            started_at=started_at,
            outcome=outcome,
            results=results,
            validation=validation,
            hashes=hashes,
            prepared=prepared,
            timings=timings,
            progress=progress,
        )
    _say(batch, plan, out=out, stream=stream, interrupted=interrupted)
    if interrupted is not None:
        raise interrupted
    return batch


def _up_to_date(state: ReportState, inputs: str) -> ReportResult:
    return ReportResult(
        state.unit,
        state.quarter,
        "up to date",
        outputs=state.outputs,
        inputs=inputs,
        fingerprint=state.fingerprint,
    )


def _write_outputs(
    plan: RunPlan,
    *,
    run_id: str,
    started_at: str,
    outcome: str,
    results: dict[tuple[str, int], ReportResult],
    validation: ValidationRecord | None,
    hashes: InputHashes | None,
    prepared: Prepared | None,
    timings: dict[str, float],
    progress: _Progress,
) -> BatchResult:
    """Index, summaries, manifest per quarter and the run record (best effort when full)."""
    t0 = time.perf_counter()
    status = validation.unit_status if validation is not None else (lambda unit: "—")
    batch = BatchResult(run_id, list(results.values()), {}, timings, [], [], None, validation)
    batch.outcome = outcome
    vdict = validation.as_dict() if validation is not None else None
    if vdict is not None:
        vdict.pop("units", None)
    try:
        vjson = plan.validation_dir() / "validation.json"
        if plan.validate and vjson.is_file():  # the validation page first: the indexes link it
            from kpilib.findings_page import write_validation_page  # jinja2, the catalogue
            from kpilib.validation import load_validation_report

            write_validation_page(load_validation_report(vjson), plan.validation_dir())
        for quarter in plan.quarters:
            rows = collect_rows(plan, quarter, results, status)
            batch.rows[quarter] = rows
            qdir = plan.quarter_dir(quarter)
            qdir.mkdir(parents=True, exist_ok=True)
            page = (
                render_month_index(plan, rows)
                if plan.monthly
                else render_index(plan, quarter, rows)
            )
            batch.index_paths.append(atomic_write_text(qdir / "index.html", page))
            write_summary_csv(qdir / "summary.csv", rows, monthly=plan.monthly)
            write_summary_xlsx(qdir / "summary.xlsx", rows, monthly=plan.monthly)
            batch.manifest_paths.append(
                write_manifest(
                    qdir / "manifest.json",
                    plan=plan,
                    quarter=quarter,
                    rows=rows,
                    run_id=run_id,
                    validation=vdict,
                )
            )
        if not plan.monthly:  # the fiscal year's index is over the quarters
            by_quarter = {
                q: batch.rows[q] if q in batch.rows else collect_rows(plan, q, {}, status)
                for q in range(1, 5)
                if q in batch.rows or (plan.quarter_dir(q) / "index.html").is_file()
            }
            atomic_write_text(plan.fy_dir() / "index.html", render_fy_index(plan, by_quarter))
        timings["index"] = time.perf_counter() - t0
        if hashes is not None:
            batch.run_path = write_run_record(
                plan,
                run_id=run_id,
                started_at=started_at,
                outcome=outcome,
                exit_code=batch.exit_code,
                hashes=hashes,
                prepared=prepared,
                validation=vdict,
                timings=timings,
                results=results.values(),
                parent_peak_kb=peak_rss_kb(),
            )
    except OSError as exc:
        if exc.errno not in DISK_ERRNOS:
            raise
        if not batch.outcome.startswith("stopped"):
            batch.outcome = f"stopped: the output folder cannot be written: {exc}"
        batch.messages.append(
            f"cannot write the index/summaries/manifest ({exc}); the previous ones are intact"
        )
    return batch


def _say(
    batch: BatchResult,
    plan: RunPlan,
    *,
    out: TextIO,
    stream: TextIO,
    interrupted: Interrupted | None,
) -> None:
    """The closing lines: counts, validation, certification, where to look, what failed."""
    label = plan.command
    n = {
        s: sum(1 for r in batch.results if r.status == s)
        for s in ("ok", "up to date", "failed", "interrupted")
    }
    took = batch.timings.get("total", 0.0)
    line = (
        f"{label}: {len(batch.results)} report(s): {n['ok']} rendered, {n['up to date']} up to "
        f"date, {n['failed']} failed"
    )
    if n["interrupted"]:
        line += f", {n['interrupted']} not finished"
    print(f"{line} in {took:.1f} s", file=out, flush=True)
    if batch.validation is not None:
        v = batch.validation
        print(
            f"{label}: validation: {v.blocking} blocking finding(s), {v.warnings} warning(s)",
            file=out,
        )
    uncertified = batch.not_certified
    if uncertified:
        kpis = sum(len(r.summary.uncertified) for r in uncertified if r.summary)
        units = sorted({r.code for r in uncertified})
        shown = ", ".join(units[:10]) + (" …" if len(units) > 10 else "")
        print(
            f"{label}: not certified: {len(uncertified)} of {len(batch.results)} report(s), "
            f"{kpis} KPI result(s), {len(units)} unit(s) ({shown})",
            file=out,
        )
    if batch.index_paths:
        print(f"{label}: index: " + ", ".join(map(str, batch.index_paths)), file=out, flush=True)
    for r in sorted(batch.failed, key=lambda r: (r.quarter, r.unit)):
        print(f"{label}: FAILED {r.unit} {_period(r.quarter, plan.month)}: {r.error}", file=stream)
    for message in batch.messages:
        print(f"{label}: error: {message}", file=stream)
    if interrupted is not None:
        left = sum(1 for r in batch.results if r.status == "interrupted")
        print(
            f"{label}: interrupted by {signal.Signals(interrupted.signum).name}: "
            f"{left} report(s) not finished; run the same command again to render them",
            file=stream,
            flush=True,
        )
    elif batch.outcome.startswith("stopped"):
        print(
            f"{label}: error: {batch.outcome.removeprefix('stopped: ')}; reports rendered "
            "before are intact; free space and run the same command again",
            file=stream,
            flush=True,
        )


__all__ = [
    "EXIT_FAILED",
    "EXIT_NOT_CERTIFIED",
    "EXIT_OK",
    "EXIT_USAGE",
    "BatchResult",
    "ExecutorFactory",
    "Interrupted",
    "process_pool",
    "run_batch",
]
