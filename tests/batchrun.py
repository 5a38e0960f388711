"""Helpers of the tests that start ``kpi run`` as a real process and disturb it
(test_batch_faults.py, test_batch_dask.py): the command line, starting it in its own
session with the fixture notebooks' delay, and waiting for a condition."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "batch"
KPI = [sys.executable, "-m", "kpilib.cli"]


def run_args(
    work: Path, units: Sequence[str], *extra: str, notebook: str = "slow.ipynb"
) -> list[str]:
    """``kpi run`` of FY 2567 on ``work/data`` into ``work/out`` with a fixture notebook,
    without validation or ingest; ``units`` are ``--unit`` arguments."""
    return [
        *KPI,
        "run",
        "--fy",
        "2567",
        *units,
        "--data",
        str(work / "data"),
        "--out",
        str(work / "out"),
        "--notebook",
        str(FIXTURES / notebook),
        "--no-validate",
        "--no-ingest",
        *extra,
    ]


def start_run(args: list[str], work: Path, *, delay: str = "") -> subprocess.Popen:
    """Start ``args`` in a new session (its own process group), output in ``work/run.log``;
    ``delay`` is ``KPILIB_TEST_DELAY`` for the slow fixture notebook."""
    log = open(work / "run.log", "w", encoding="utf-8")
    return subprocess.Popen(
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, KPILIB_TEST_DELAY=delay),
        start_new_session=True,
    )


def wait_for(predicate: Callable[[], object], *, timeout: float = 120.0, what: str = "") -> None:
    """Poll ``predicate`` every 0.1 s; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
