"""``kpi run``: render every unit's report for a fiscal year, in parallel, incrementally, and
so that faults (a killed worker, a killed or interrupted run, a full disk) lose nothing.

Modules, in the order a run uses them (each imports only those before it):

* :mod:`~kpilib.batch.plan` — parameters checked into a :class:`RunPlan`;
* :mod:`~kpilib.batch.state` — input hashes, per-report fingerprints, ``.report.state.json``;
* :mod:`~kpilib.batch.pool` — :class:`WorkerPool`, a process pool whose workers die with
  their parent and fail one task at a time;
* :mod:`~kpilib.batch.worker` — warm-up and :func:`render_report` (one notebook → HTML/PDF);
* :mod:`~kpilib.batch.cluster` — ``--scheduler``: the Dask executor and the check that every
  worker sees the data and output folders (Dask imported only when used);
* :mod:`~kpilib.batch.prepare` — ingest, validation and fingerprints in a child process;
* :mod:`~kpilib.batch.outputs` — index page, summaries, manifest, run records; the one reader
  of ``report.json`` (:func:`summary_row`);
* :mod:`~kpilib.batch.run` — :func:`run_batch`, the loop joining them, and the exit codes.

See docs/batch.md.
"""

from kpilib.batch.outputs import SummaryRow, summary_row
from kpilib.batch.plan import RunPlan, UnitInfo, parse_quarters, plan_run
from kpilib.batch.pool import WorkerDied, WorkerPool
from kpilib.batch.run import (
    EXIT_FAILED,
    EXIT_NOT_CERTIFIED,
    EXIT_OK,
    EXIT_USAGE,
    BatchResult,
    Interrupted,
    run_batch,
)
from kpilib.batch.worker import ReportResult, Task, render_report

__all__ = [
    "EXIT_FAILED",
    "EXIT_NOT_CERTIFIED",
    "EXIT_OK",
    "EXIT_USAGE",
    "BatchResult",
    "Interrupted",
    "ReportResult",
    "RunPlan",
    "SummaryRow",
    "Task",
    "UnitInfo",
    "WorkerDied",
    "WorkerPool",
    "parse_quarters",
    "plan_run",
    "render_report",
    "run_batch",
    "summary_row",
]
