"""What runs in a worker process: warm up once, then execute and export one report at a time.

:func:`render_report` is the task the run loop submits to an executor (the process pool of
:mod:`kpilib.batch.pool`, or any :class:`concurrent.futures.Executor` whose workers can
import kpilib and see the data and output folders). A worker warms up on its first task if
no pool initializer did (:func:`ensure_ready`), so an executor without initializers works.

One render (:func:`render_report`):

1. marks the unit folder ``running`` (:class:`~kpilib.batch.state.ReportState`), removes
   temporary files left by a killed render;
2. executes the notebook with Papermill (the in-process engine by default) into a
   temporary ``report.ipynb``; the notebook writes the scorecard to a temporary
   ``report.json``;
3. exports HTML (and with ``--pdf`` prints the PDF) to temporary files;
4. commits: removes the previous render's outputs that this one does not produce (a PDF
   from older inputs never stays beside new HTML), moves every temporary file into place
   and writes the state ``ok`` last. A failure keeps only the executed notebook (with its
   traceback) and writes the state ``failed``.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpilib.batch.state import ReportState, utc_now
from kpilib.errors import KpilibError
from kpilib.fsio import TMP_PREFIX, remove_tmp_files

#: Imported once per worker before the first report (missing modules are skipped).
WARM_MODULES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "matplotlib.pyplot",
    "nbformat",
    "nbconvert",
    "papermill",
    "kpilib.calendar",
    "kpilib.catalog",
    "kpilib.formulas",
    "kpilib.measures",
    "kpilib.rubric",
    "kpilib.scoring",
    "kpilib.complaints",
    "kpilib.datasets",
    "kpilib.validation",
    "kpilib.charts",
    "kpilib.render",
    "kpilib.assemble",
)

OUTPUTS = ("report.ipynb", "report.json", "report.html")
"""A report's files; with ``--pdf`` also ``<FY>_Q<q>_<unit>.pdf`` (:func:`report_outputs`)."""


def report_outputs(task: Task) -> tuple[str, ...]:
    """The file names one report may leave: :data:`OUTPUTS` and its PDF's name."""
    from kpilib.render import pdf_name

    month = task.parameters.get("month") or None
    return (*OUTPUTS, pdf_name(task.parameters["fy"], task.quarter, task.unit, month=month))


#: OS errors that mean the output folder cannot take more data: the run stops.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


@dataclass
class Task:
    """One report to render (sent to a worker process)."""

    unit: str
    quarter: int
    unit_dir: str
    notebook: str
    parameters: dict[str, Any]
    inputs: str
    fingerprint: str | None
    engine: str = "inprocess"
    pdf: bool = False
    cell_timeout: float | None = None
    run: str | None = None
    cwd: str | None = None


@dataclass
class ReportResult:
    """What happened to one report in a run (rendered, up to date, failed...).

    Attributes:
        unit, quarter: The report.
        status: ``ok`` (rendered now), ``up to date``, ``failed`` or ``interrupted``.
        error: One line, for a failed or interrupted report.
        outputs: Files of the report (``report.html``...).
        timings: Seconds per step (``execute``, ``html``, ``pdf``, ``total``).
        inputs, fingerprint: What it was made from (see :mod:`kpilib.batch.state`).
        pid: The process that rendered it; maxrss_kb: that process's peak memory so far.
        warm_up: A worker's one-time start-up timings (its first report only).
        disk_full: The output folder could not be written (the run stops).
    """

    unit: str
    quarter: int
    status: str
    error: str | None = None
    outputs: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    inputs: str | None = None
    fingerprint: str | None = None
    pid: int | None = None
    maxrss_kb: int = 0
    warm_up: dict[str, float] | None = None
    disk_full: bool = False

    @property
    def key(self) -> tuple[str, int]:
        """``(unit, quarter)``."""
        return (self.unit, self.quarter)


# --------------------------------------------------------------------------- warm-up


def child_env() -> dict[str, str]:
    """Settings a worker takes from the parent: ``KPILIB_*`` and one BLAS thread each."""
    from kpilib.paths import project_root

    env = {k: v for k, v in os.environ.items() if k.startswith("KPILIB_")}
    env.setdefault("KPILIB_ROOT", str(project_root()))  # workers see this command's project
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = os.environ.get(key, "1")
    return env


_WORKER: dict[str, Any] = {}


WORKER_NICENESS = 10
"""How much lower a render worker's CPU priority is than its parent's (``nice``). While the
early workers warm up and prime, the ingest and validation children (the run's critical
path) get the cores first; while they render, only they compete (so they lose nothing), and
an interactive user of a shared server goes first."""


def lower_priority(niceness: int) -> None:
    """Lower this process's CPU priority by ``niceness`` (where the system allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(niceness)


GC_YOUNG_THRESHOLD = 10_000
"""How many new container objects a render worker lets accumulate before a young-generation
garbage collection (Python's default: 700). A report's charts make and drop matplotlib
objects by the hundred thousand (figures are reference cycles, freed only by the collector);
with the default, the collector ran about 37 times a report and took about 100 ms of its
≈ 0.9 s CPU, mostly re-examining objects that live as long as the worker. Measured in
``docs/benchmarks.md``."""


def settle_garbage_collector() -> None:
    """Tune the garbage collector for a long-lived worker that renders many reports.

    Everything alive after the warm-up (modules, the notebook shell) lives as long as the
    worker: it is collected once and moved out of the collector's sight (``gc.freeze``), so
    later collections examine only what reports create; and young collections run less
    often (:data:`GC_YOUNG_THRESHOLD`). Garbage is still freed, a few reports' charts at a
    time at most.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def worker_init(engine: str, env: dict[str, str]) -> None:
    """Pool initializer: take the parent's settings, lower the priority
    (:data:`WORKER_NICENESS`) and import everything once."""
    os.environ.update(env)
    lower_priority(WORKER_NICENESS)
    ensure_ready(engine)


def ensure_ready(engine: str) -> None:
    """Warm this process up once (register the engine, import :data:`WARM_MODULES`)."""
    if "warm_up" in _WORKER:
        return
    t0 = time.perf_counter()
    from kpilib.imports import defer_iri_syntax

    defer_iri_syntax()  # before papermill imports jsonschema (2-3 s per worker)
    from kpilib import engine as inprocess

    inprocess.register()  # imports papermill (and nbformat, jsonschema: about 2 s)
    timings = {"papermill": time.perf_counter() - t0}
    if engine == "inprocess":
        timings.update(inprocess.warm_up(WARM_MODULES))
    settle_garbage_collector()
    _WORKER["warm_up"] = timings
    _WORKER["first"] = True


@contextlib.contextmanager
def _quiet_nbconvert() -> Iterator[None]:
    """nbconvert logs a warning per image without alt text: 200 reports would flood cron."""
    logger = logging.getLogger("traitlets")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def peak_rss_kb() -> int:
    """This process's peak resident memory in KiB.

    Linux's ``ru_maxrss`` survives ``exec``: a spawned worker would report its parent's peak.
    ``VmHWM`` is the process's own high-water mark.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def one_line(text: str, *, limit: int = 500) -> str:
    """An error message on one line (ANSI colours removed), at most ``limit`` characters."""
    flat = " ".join(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _tmp_path(final: Path) -> Path:
    return final.with_name(f"{TMP_PREFIX}{final.stem}.{os.getpid()}{final.suffix}")


def _export_html(nb: Any, path: Path) -> None:
    from kpilib.render import notebook_to_html

    with _quiet_nbconvert():
        notebook_to_html(nb, path)


def _print_pdf(html: Path, pdf: Path) -> None:
    from kpilib.render import html_to_pdf

    html_to_pdf(html, pdf)


def _execute(task: Task, output: Path, result_json: Path) -> tuple[Any, str | None]:
    """Run the notebook; return (executed notebook or None, error line or None)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    params = dict(task.parameters, result_json=str(result_json))
    try:
        nb = papermill.execute_notebook(
            task.notebook,
            str(output),
            parameters=params,
            engine_name="kpilib-inprocess" if task.engine == "inprocess" else None,
            progress_bar=False,
            request_save_on_cell_execute=False,
            cwd=task.cwd or str(Path(task.notebook).parent),
            execution_timeout=task.cell_timeout,
        )
    except PapermillExecutionError as exc:
        return None, f"{exc.ename}: {exc.evalue}".strip()
    except KpilibError as exc:
        return None, f"{type(exc).__name__}: {exc.one_line()}"
    except OSError as exc:
        if exc.errno in DISK_ERRNOS:
            raise
        return None, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # papermill could not even start the notebook
        return None, f"{type(exc).__name__}: {exc}"
    return nb, None


def prime(
    data_dir: str, fy: int, quarters: tuple[int, ...], units: tuple[str, ...], cwd: str
) -> float | str:
    """Pool task: compute what the run's reports share before the first of them
    (:func:`kpilib.assemble.prime`), in the folder the reports run in. The batch submits it
    while its validation goes on.

    Returns:
        Seconds spent, or the reason it stopped: a failure here is not a report's failure
        (each report computes what it needs and says what went wrong).
    """
    t0 = time.perf_counter()
    try:
        with _RENDER_LOCK, contextlib.chdir(cwd):
            from kpilib.assemble import prime as prime_reports

            prime_reports(data_dir, fy=fy, quarters=quarters, units=units)
    except KpilibError as exc:
        return exc.one_line()
    except Exception as exc:  # the reports will meet it again, and report it
        return one_line(f"{type(exc).__name__}: {exc}")
    return time.perf_counter() - t0


_RENDER_LOCK = threading.Lock()
"""One render at a time per process: the in-process engine has one shell and matplotlib state
(a Dask worker started with more than one thread runs its reports one after another)."""


def render_report(task: Task) -> ReportResult:
    """Execute one report notebook and export it; never raises for a report's own failure.

    Returns:
        A :class:`ReportResult` (``ok`` or ``failed``; ``disk_full`` when the output folder
        could not be written).
    """
    with _RENDER_LOCK:
        return _render_report(task)


def _render_report(task: Task) -> ReportResult:
    ensure_ready(task.engine)
    unit_dir = Path(task.unit_dir)
    timings: dict[str, float] = {}
    names = report_outputs(task)
    pdf = names[-1]
    final = {name: unit_dir / name for name in names}
    tmp = {name: _tmp_path(path) for name, path in final.items()}
    state = ReportState(
        status="running",
        unit=task.unit,
        quarter=task.quarter,
        inputs=task.inputs,
        fingerprint=task.fingerprint,
        engine=task.engine,
        pid=os.getpid(),
        started_at=utc_now(),
        run=task.run,
    )
    error: str | None = None
    disk_full = False
    made: list[str] = []
    t0 = time.perf_counter()
    try:
        unit_dir.mkdir(parents=True, exist_ok=True)
        remove_tmp_files(unit_dir)
        state.write(unit_dir)  # from here on the folder is "not rendered" until done
        nb, error = _execute(task, tmp["report.ipynb"], tmp["report.json"])
        timings["execute"] = time.perf_counter() - t0
        if tmp["report.ipynb"].exists():
            made.append("report.ipynb")
        if error is None:
            if tmp["report.json"].exists():
                made.append("report.json")
            t1 = time.perf_counter()
            _export_html(nb, tmp["report.html"])
            made.append("report.html")
            timings["html"] = time.perf_counter() - t1
            if task.pdf:
                t2 = time.perf_counter()
                _print_pdf(tmp["report.html"], tmp[pdf])
                made.append(pdf)
                timings["pdf"] = time.perf_counter() - t2
    except KpilibError as exc:
        error = f"{type(exc).__name__}: {exc.one_line()}"
    except OSError as exc:
        disk_full = exc.errno in DISK_ERRNOS
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    if error is not None and not disk_full:
        made = [m for m in made if m == "report.ipynb"]  # a failure keeps its traceback only
    if not disk_full:
        try:
            for name in names:  # outputs of one report always come from one render
                if name not in made:
                    final[name].unlink(missing_ok=True)
            for name in made:
                os.replace(tmp[name], final[name])
        except OSError as exc:
            disk_full = exc.errno in DISK_ERRNOS
            error = error or f"{type(exc).__name__}: {exc}"
            made = []
    for path in tmp.values():
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    if error is not None:
        error = one_line(error)
    timings["total"] = time.perf_counter() - t0
    state.status = "ok" if error is None else "failed"
    state.outputs = tuple(made)
    state.error = error
    state.timings = {k: round(v, 3) for k, v in timings.items()}
    state.finished_at = utc_now()
    if state.status == "failed":
        state.inputs = state.fingerprint = None
    if not disk_full:
        try:
            state.write(unit_dir)
        except OSError as exc:
            disk_full = exc.errno in DISK_ERRNOS
            state.status = "failed"
            state.error = error = one_line(f"{type(exc).__name__}: {exc}")
    result = ReportResult(
        unit=task.unit,
        quarter=task.quarter,
        status=state.status,
        error=state.error,
        outputs=state.outputs,
        timings=state.timings,
        inputs=task.inputs,
        fingerprint=task.fingerprint,
        pid=os.getpid(),
        maxrss_kb=peak_rss_kb(),
        disk_full=disk_full,
    )
    if _WORKER.pop("first", False):
        result.warm_up = _WORKER.get("warm_up", {})
    return result
