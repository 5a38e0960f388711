"""Faults ``kpi run`` must survive, injected into real processes.

Each test starts ``kpi run`` in its own session (so its process group is known), on the
fixture notebooks of tests/fixtures/batch/ (``slow.ipynb`` sleeps per unit as
``KPILIB_TEST_DELAY`` says), then signals the run or one of its workers, and checks: the
exit code and message, that no process of the run is left (by process group), that no
half-written file is at a final path, and that a rerun renders only what is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from batchrun import FIXTURES, run_args, start_run, wait_for

from kpilib import fsio

pytestmark = pytest.mark.slow

UNITS = ["--unit", "1001", "--unit", "1002", "--unit", "1003"]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "data", tmp_path / "data")
    return tmp_path


def _args(work: Path, *extra: str, notebook: str = "slow.ipynb") -> list[str]:
    return run_args(work, UNITS, *extra, notebook=notebook)


def _start(work: Path, *extra: str, delay: str = "", **kw) -> subprocess.Popen:
    return start_run(_args(work, *extra, **kw), work, delay=delay)


def _log(work: Path) -> str:
    return (work / "run.log").read_text(encoding="utf-8")


_wait_for = wait_for


def _no_process_left(group, pgid: int) -> None:
    _wait_for(lambda: not group(pgid), timeout=15, what=f"process group {pgid} to end")


def _states(out: Path) -> dict[tuple[str, str], str]:
    return {
        (p.parent.parent.name, p.parent.name): json.loads(p.read_text())["status"]
        for p in out.rglob(".report.state.json")
    }


def _no_partial_files(out: Path) -> None:
    assert not [p for p in out.rglob(f"{fsio.TMP_PREFIX}*")], "temporary files left"
    for html in out.rglob("report.html"):
        assert html.read_text(encoding="utf-8").rstrip().endswith("</html>"), html


def _rerun_completes_only_what_is_missing(work: Path, done_before: int, total: int) -> None:
    proc = subprocess.run(
        _args(work, "--quarter", "all"), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 3, proc.stderr  # complete; the fixture's 1003 is not certified
    missing = total - done_before
    assert f"{missing} to render, {done_before} up to date" in proc.stderr
    assert set(_states(work / "out").values()) == {"ok"}
    _no_partial_files(work / "out")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_parent_stops_the_run_cleanly(work, sig, process_group):
    proc = _start(work, "--quarter", "all", "--jobs", "2", delay="*=0.7")
    _wait_for(lambda: "[2/12]" in _log(work), what="two reports")
    os.kill(proc.pid, sig)
    assert proc.wait(timeout=60) == 128 + sig
    _no_process_left(process_group, proc.pid)
    log = _log(work)
    name = signal.Signals(sig).name
    assert re.search(rf"kpi run: interrupted by {name}: \d+ report\(s\) not finished; run the", log)
    assert "Traceback" not in log
    _no_partial_files(work / "out")
    states = _states(work / "out")
    done = sum(1 for s in states.values() if s == "ok")
    assert 2 <= done < 12
    assert set(states.values()) <= {"ok", "running"}
    index = (work / "out" / "2567" / "Q1" / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((work / "out" / "2567" / "Q1" / "manifest.json").read_text())
    runs = list((work / "out" / "2567" / "runs").iterdir())
    assert len(runs) == 1 and json.loads(runs[0].read_text())["outcome"] == f"interrupted by {name}"
    for report in manifest["reports"]:
        if report["status"] != "ok":  # unfinished: said so, nothing linked but a notebook
            assert report["status"] == "interrupted"
            assert "report.html" not in report["outputs"]
    assert ("ยังไม่เสร็จ" in index) == any(r["status"] != "ok" for r in manifest["reports"])
    if sig == signal.SIGTERM:  # the same clean state either way: one rerun is enough
        _rerun_completes_only_what_is_missing(work, done, 12)


def test_kill_9_of_the_parent_takes_its_workers_along(work, process_group):
    proc = _start(work, "--quarter", "all", "--jobs", "2", delay="*=1")
    _wait_for(lambda: "[1/12]" in _log(work), what="one report")
    workers = [p for p in process_group(proc.pid) if p != proc.pid]
    assert workers, "no worker processes found"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    _no_process_left(process_group, proc.pid)
    out = work / "out"
    done = sum(1 for s in _states(out).values() if s == "ok")
    assert not (out / "2567" / "Q1" / "index.html").exists()  # the parent never got there
    _rerun_completes_only_what_is_missing(work, done, 12)


def test_kill_9_of_one_worker_fails_only_its_report(work, process_group):
    first = subprocess.run(_args(work, "--jobs", "2"), capture_output=True, text=True, timeout=300)
    assert first.returncode == 3, first.stderr
    unit_dir = work / "out" / "2567" / "Q1" / "1002"
    assert (unit_dir / "report.html").is_file()

    proc = _start(work, "--jobs", "2", "--force", delay="1002=120,*=0.2")

    def running_1002() -> int | None:
        try:
            state = json.loads((unit_dir / ".report.state.json").read_text())
        except (OSError, ValueError):
            return None
        return state["pid"] if state["status"] == "running" else None

    _wait_for(lambda: running_1002() is not None, what="1002 to start")
    os.kill(running_1002(), signal.SIGKILL)
    assert proc.wait(timeout=120) == 1
    log = _log(work)
    assert re.search(r"FAILED 1002 Q1: worker process \d+ died \(killed by SIGKILL\)", log), log
    states = _states(work / "out")
    assert states == {("Q1", "1001"): "ok", ("Q1", "1002"): "failed", ("Q1", "1003"): "ok"}
    # the previous render's HTML/JSON of the failed report are gone, and not linked
    assert not (unit_dir / "report.html").exists() and not (unit_dir / "report.json").exists()
    index = (work / "out" / "2567" / "Q1" / "index.html").read_text(encoding="utf-8")
    row = re.search(r'<tr class="failed">.*?</tr>', index, re.S).group(0)
    assert "1002" in row and "href=" not in row
    _no_process_left(process_group, proc.pid)
    _no_partial_files(work / "out")


def test_a_full_output_disk_is_a_clear_error_and_keeps_the_previous_reports(work):
    import resource

    first = subprocess.run(
        _args(work, "--jobs", "1", notebook="ok.ipynb"), capture_output=True, text=True
    )
    assert first.returncode == 3, first.stderr
    q1 = work / "out" / "2567" / "Q1"
    kept = ["index.html", "summary.csv", "summary.xlsx"]
    kept += [f"{u}/{n}" for u in ("1001", "1002", "1003") for n in ("report.html", "report.json")]
    before = {name: (q1 / name).read_bytes() for name in kept}

    def small_files_only() -> None:  # writes beyond 40 kB fail (EFBIG), like a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    proc = subprocess.run(
        _args(work, "--jobs", "1", "--force", notebook="ok.ipynb"),
        capture_output=True,
        text=True,
        preexec_fn=small_files_only,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert re.search(
        r"kpi run: error: the output folder cannot be written: OSError: \[Errno 27\] File too "
        r"large.*; reports rendered before are intact; free space and run the same command",
        proc.stderr,
    ), proc.stderr
    assert {name: (q1 / name).read_bytes() for name in kept} == before
    _no_partial_files(work / "out")


def test_sigterm_while_a_notebook_runs_in_the_parent_process(work, process_group):
    """``--jobs 1`` (and ``kpi report``) render in the calling process: the signal arrives
    inside a notebook cell, where IPython would record it as the cell's error."""
    proc = _start(work, "--quarter", "1", "--jobs", "1", delay="1001=60")
    unit_dir = work / "out" / "2567" / "Q1" / "1001"
    _wait_for(lambda: (unit_dir / ".report.state.json").is_file(), what="1001 to start")
    time.sleep(1.0)  # inside the sleeping cell
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    _no_process_left(process_group, proc.pid)
    log = _log(work)
    assert "kpi run: interrupted by SIGTERM: 3 report(s) not finished" in log, log
    assert "FAILED" not in log and "Traceback" not in log
    assert not (unit_dir / "report.html").exists()
    _no_partial_files(work / "out")
