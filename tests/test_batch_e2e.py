"""``kpi run`` end to end on generated sample data with the real report notebook.

One module-scoped scenario (it renders real reports, so it is shared): a run interrupted
while validating, the full run that follows, then one changed cell. It checks validation
runs in a child process and once, that the index and summary read each report's
``report.json`` as kpilib scores it, that the summary and exit code say what is not
certified, and that a changed cell re-renders only the reports that read it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from fresh_python import python_stdout

from kpilib import sample
from kpilib.batch import summary_row

pytestmark = pytest.mark.slow

UNITS = ("1001", "1032", "GOVSEC")  # two districts and an office (reads every district)
KPI = [sys.executable, "-m", "kpilib.cli"]


def _run_args(root: Path, *extra: str) -> list[str]:
    units = [a for u in UNITS for a in ("--unit", u)]
    return [
        *KPI,
        "run",
        "--fy",
        "2567",
        "--quarter",
        "1",
        *units,
        "--data",
        str(root / "data"),
        "--out",
        str(root / "out"),
        "--jobs",
        "2",
        *extra,
    ]


def _statuses(stdout_err: str) -> dict[str, str]:
    found = {}
    for line in stdout_err.splitlines():
        parts = line.split()
        if "kpi" in parts and len(parts) > 6 and parts[4].startswith("["):
            found[parts[5]] = parts[7]
    return found


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch_e2e")
    sample.generate(root / "data", fy=2567, scale=0.03)
    facts: dict = {"root": root}

    # 1. interrupted while validating (in the child process)
    log_path = root / "interrupted.log"
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            _run_args(root), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while "preparing in " not in log_path.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        time.sleep(1.5)  # the child is importing / validating
        os.kill(proc.pid, signal.SIGTERM)
        facts["interrupted_code"] = proc.wait(timeout=60)
    facts["interrupted_log"] = log_path.read_text(encoding="utf-8")
    facts["interrupted_pgid"] = proc.pid
    facts["validation_after_interrupt"] = sorted(
        p.name for p in (root / "out" / "2567" / "validation").glob("*")
    )

    # 2. the full run
    full = subprocess.run(_run_args(root), capture_output=True, text=True, timeout=900)
    facts["full"] = full
    return facts


def test_an_interrupted_validation_is_redone_and_leaves_no_process(scenario, process_group):
    assert scenario["interrupted_code"] == 143
    assert "kpi run: interrupted by SIGTERM" in scenario["interrupted_log"]
    assert "Traceback" not in scenario["interrupted_log"]
    assert process_group(scenario["interrupted_pgid"]) == []
    assert "run.json" not in scenario["validation_after_interrupt"]
    full = scenario["full"]
    assert "validation: " in full.stderr and "(cached)" not in full.stderr


def _peak_mb_of_a_process_that_imports_gx() -> float:
    code = (
        "import great_expectations, great_expectations.expectations\n"
        "from kpilib.batch.worker import peak_rss_kb\n"
        "print(peak_rss_kb())"
    )
    return int(python_stdout(code).split()[-1]) / 1024


def test_validation_runs_in_a_child_not_in_the_batch_parent(scenario):
    """The parent's peak stays below what importing great-expectations alone takes; the
    preparing children's (validation's) peak is at least that."""
    root = scenario["root"]
    runs = sorted((root / "out" / "2567" / "runs").iterdir())
    record = json.loads(runs[-1].read_text(encoding="utf-8"))
    memory = record["memory_mb"]
    gx = _peak_mb_of_a_process_that_imports_gx()
    assert memory["parent_peak"] < gx <= 1.05 * memory["prepare_peak"], (memory, gx)
    assert record["validation"]["cached"] is False
    assert record["validation"]["blocking"] > 0


def test_the_summary_reads_report_json_as_kpilib_scores_it(scenario):
    from kpilib.catalog import load_catalog
    from kpilib.datasets import load_bundle
    from kpilib.scoring import unit_scorecard
    from kpilib.validation import load_validation_report

    root = scenario["root"]
    vrep = load_validation_report(root / "out" / "2567" / "validation" / "validation.json")
    bundle = load_bundle(root / "data")
    for unit in UNITS:
        sc = unit_scorecard(
            unit,
            2567,
            1,
            bundle=bundle,
            catalog=load_catalog(),
            blocked_tables=vrep.blocking_tables(unit),
        )
        row = summary_row(root / "out" / "2567" / "Q1" / unit / "report.json")
        assert row.points == pytest.approx(sc.total_points)
        assert row.weight == pytest.approx(sc.counted_weight)
        assert [k.kpi for k in row.kpis] == [r.kpi.id for r in sc.results]
        assert [k.level for k in row.kpis] == [r.level for r in sc.results]
        assert row.uncertified == tuple(r.kpi.id for r in sc.results if not r.certified)


def test_uncertified_kpis_are_in_the_summary_and_the_exit_code(scenario):
    root = scenario["root"]
    full = scenario["full"]
    uncertified = [
        u
        for u in UNITS
        if summary_row(root / "out" / "2567" / "Q1" / u / "report.json").uncertified
    ]
    assert uncertified, "the sample data's injected defects leave some KPI uncertified"
    assert full.returncode == 3, full.stderr
    assert f"not certified: {len(uncertified)} of 3 report(s)" in full.stdout
    for unit in uncertified:
        assert unit in full.stdout.split("not certified:")[1].splitlines()[0]


def test_fingerprints_joined_from_two_children_are_the_ones_one_process_computes(scenario):
    """The full run prepared in two child processes at once (ingest and what each report
    reads ‖ great-expectations imported, then validation), the parent joining the halves of
    each report's fingerprint. Computed whole in one process, they must be the same."""
    from kpilib.batch.state import (
        FingerprintRequest,
        hash_inputs,
        read_state,
        report_fingerprints,
    )
    from kpilib.paths import package_dir, params_dir, report_notebook

    root = scenario["root"]
    runs = sorted((root / "out" / "2567" / "runs").iterdir())
    timings = json.loads(runs[-1].read_text(encoding="utf-8"))["timings"]
    assert "prepare_validation_import" in timings, timings  # the two-child path ran
    hashes = hash_inputs(
        data_dir=root / "data",
        params_dir=params_dir(),
        notebook=report_notebook(),
        source_dir=package_dir(),
    )
    whole = report_fingerprints(
        FingerprintRequest(
            data_dir=str(root / "data"),
            fy=2567,
            code_digest=hashes.code_digest(),
            reports=tuple((unit, 1) for unit in UNITS),
            lang="th",
            validate=True,
            validation_json=str(root / "out" / "2567" / "validation" / "validation.json"),
        )
    )
    for unit in UNITS:
        state = read_state(root / "out" / "2567" / "Q1" / unit)
        assert state is not None and state.fingerprint == whole[(unit, 1)], unit


def test_one_changed_cell_rerenders_only_the_reports_that_read_it(scenario):
    root = scenario["root"]
    raw = root / "data" / "raw" / "traffy_api_v2.csv"
    frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
    row = frame.index[frame["district"].str.contains("ประเวศ")][0]  # a ticket of 1032
    frame.loc[row, "description"] = "แก้ไขข้อความหนึ่งช่อง"
    frame.to_csv(raw, index=False)
    again = subprocess.run(_run_args(root), capture_output=True, text=True, timeout=900)
    assert again.returncode == 3, again.stderr
    # 1032 shows its tickets; GOVSEC every district's; 1001 reads neither changed row
    assert "2 to render, 1 up to date" in again.stderr
    assert _statuses(again.stderr) == {"1032": "ok", "GOVSEC": "ok"}

    nothing = subprocess.run(_run_args(root), capture_output=True, text=True, timeout=300)
    assert "3 up to date" in nothing.stdout and "preparing" not in nothing.stderr
    manifest = json.loads((root / "out" / "2567" / "Q1" / "manifest.json").read_text())
    assert manifest["validation"]["blocking"] > 0  # a no-op run keeps the validation summary
    assert all(r["timings"].get("execute", 0) > 0 for r in manifest["reports"])
