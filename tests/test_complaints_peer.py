"""kpilib's complaint engine and the benchmark's independent DuckDB implementation agree.

The peer (benchmarks/complaints_duckdb.py) shares nothing with kpilib but the holiday list;
the tables are compared cell by cell, on data with late acceptances, missed follow-ups and
reopened tickets, in both layouts of the event log.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpilib.catalog import load_catalog

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _module(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bench = _module("bench_complaints")
    folder = tmp_path_factory.mktemp("complaints_peer")
    tickets, events = bench.generate(6000, seed=5, fy=2563)
    tickets.to_parquet(folder / "tickets.parquet", index=False)
    events.to_parquet(folder / "events.parquet", index=False)
    by_time = events.sort_values(["timestamp", "ticket_id"], ignore_index=True)
    by_time.to_parquet(folder / "events_by_time.parquet", index=False)
    bench.generate_submissions(2563).to_parquet(folder / "report_submissions.parquet", index=False)
    return folder


@pytest.mark.parametrize("layout", ["grouped", "by_time"])
def test_kpi_tables_agree_table_by_table(data: Path, layout: str) -> None:
    bench = _module("bench_complaints")
    peer = _module("complaints_duckdb")
    units = load_catalog().district_codes()
    events_file = bench.LAYOUTS[layout]
    mine = bench.kpilib_kpis(data, 2563, units, events_file=events_file)
    theirs = peer.kpis(data, 2563, units, events_file=events_file)
    assert bench.compare_tables(mine, theirs) == []
    # not agreement by emptiness: the tables hold the year's tickets and failures
    q4 = mine["step12"].query("quarter == 4")
    assert q4["received"].sum() == 6000
    assert 0 < q4["compliant"].sum() < q4["step1_ok"].sum() < 6000
    assert 0 < q4["resolved"].sum() < 6000


def test_per_ticket_flags_and_days_agree(data: Path) -> None:
    peer = _module("complaints_duckdb")
    from kpilib import complaints as C

    res = C.evaluate_compliance(C.EventLog.from_parquet(data / "events.parquet"), fy=2563)
    mine = res.tickets.assign(ticket_id=res.tickets["ticket_id"].astype(str)).set_index("ticket_id")
    theirs = peer.kpis(data, 2563, load_catalog().district_codes(), per_ticket=True)["tickets"]
    theirs = theirs.set_index("ticket_id").loc[mine.index]
    for col in ("step1_ok", "step2_ok", "compliant", "finished"):
        assert (mine[col].astype(bool) == theirs[col].astype(bool)).all(), col
    for col in ("checkpoints_required", "checkpoints_missed"):
        assert (mine[col].astype(int) == theirs[col].astype(int)).all(), col
    for col in ("fail_on", "finished_on"):
        days = (mine[col].astype("datetime64[s]").astype("int64") // 86400).where(mine[col].notna())
        assert days.astype("Float64").equals(theirs[col].astype("Float64")), col
    assert int(theirs["checkpoints_required"].sum()) > 10_000
    assert (mine["finished_on"].dropna() <= pd.Timestamp(res.cutoff)).all()
