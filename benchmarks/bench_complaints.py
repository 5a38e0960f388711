"""Benchmark of the complaint engine (kpilib.complaints) against a DuckDB peer: a script, not a test.

One run:
1. generates N tickets (default 1,000,000; about 5.5 events each) with numpy and writes
   ``tickets.parquet``, ``events.parquet`` (grouped by ticket, as generated),
   ``events_by_time.parquet`` (the same events in time order, as a live log is) and
   ``report_submissions.parquet`` to a temp dir (in a child process, so its memory does not
   count);
2. for each events layout, runs kpilib and the DuckDB peer (``complaints_duckdb.py``)
   alternately, each in a fresh process, ``--repeat`` times: Parquet in -> every complaint
   KPI for the catalogue's 50 districts x 4 quarters (steps 1+2 per quarter, year-end
   resolution, step 3, Traffy KPI 4, the twelve monthly figures); prints each engine's
   median, the ratio of medians and the peak RSS (max RSS of the measuring process);
3. checks that both engines' KPI tables agree, table by table, on the full data;
4. runs the row-by-row pure-Python implementation of the step 1/2 rules on a sample of
   tickets and checks it agrees with the engine ticket by ticket.

Usage::

    .venv/bin/python benchmarks/bench_complaints.py [--tickets 1000000] [--repeat 5]
        [--layouts grouped,by_time] [--sample 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib import complaints as C
from kpilib.catalog import load_catalog

BKK = "Asia/Bangkok"
EVENTS = C.EVENT_TYPES


# --------------------------------------------------------------------------- data


def generate(n: int, *, seed: int = 2563, fy: int = 2563) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic tickets and events for one fiscal year (numpy, no Python loop per ticket)."""
    rng = np.random.default_rng(seed)
    start, end = cal.fiscal_year_bounds(fy)
    t0 = int(pd.Timestamp(start).tz_localize(BKK).timestamp())
    t1 = int(pd.Timestamp(end).tz_localize(BKK).timestamp()) + 86399
    fwd = np.sort(rng.integers(t0, t1, n))
    units = np.array(load_catalog().district_codes(), dtype=object)
    unit = rng.integers(0, units.size, n)
    day = 86400
    # acceptance: mostly same/next day, a share late, 3 % never
    acc_delay = rng.choice([0, 0, 0, 1, 1, 2, 3, 5], n) * day + rng.integers(600, 8 * 3600, n)
    has_acc = rng.random(n) > 0.03
    acc = fwd + acc_delay
    # first progress: 0–5 days after acceptance, 5 % never
    prog_delay = rng.choice([0, 1, 1, 2, 2, 3, 4, 5], n) * day + rng.integers(600, 8 * 3600, n)
    has_prog = has_acc & (rng.random(n) > 0.05)
    prog1 = acc + prog_delay
    # finish: 85 % finished, duration ~ exponential(18 days)
    dur = (rng.exponential(18.0, n) * day).astype(np.int64) + 3600
    has_fin = rng.random(n) < 0.85
    fin = prog1 + dur
    # follow-up progress reports: 0–4 spread over the open period
    k = rng.choice([0, 1, 1, 2, 2, 3, 4], n)
    k = np.where(has_prog, k, 0)
    tid_extra = np.repeat(np.arange(n), k)
    span = np.where(has_fin, fin - prog1, 90 * day)
    extra = prog1[tid_extra] + (rng.random(tid_extra.size) * span[tid_extra]).astype(np.int64)
    # reopen 4 % of finished tickets; 80 % of those are finished again
    reo = has_fin & (rng.random(n) < 0.04)
    reo_t = fin + rng.integers(1, 12, n) * day
    refin = reo & (rng.random(n) < 0.8)
    refin_t = reo_t + rng.integers(3, 30, n) * day
    reo_prog = reo & (rng.random(n) < 0.7)
    reo_prog_t = reo_t + rng.integers(1, 10, n) * day

    parts = [
        (np.arange(n), 0, fwd),
        (np.flatnonzero(has_acc), 1, acc[has_acc]),
        (np.flatnonzero(has_prog), 2, prog1[has_prog]),
        (tid_extra, 2, extra),
        (np.flatnonzero(has_fin), 3, fin[has_fin]),
        (np.flatnonzero(reo), 4, reo_t[reo]),
        (np.flatnonzero(reo_prog), 2, reo_prog_t[reo_prog]),
        (np.flatnonzero(refin), 3, refin_t[refin]),
    ]
    tix = np.concatenate([p[0] for p in parts])
    etype = np.concatenate([np.full(p[0].size, p[1], dtype=np.int8) for p in parts])
    ts = np.concatenate([p[2] for p in parts])
    order = np.lexsort((ts, tix))
    tix, etype, ts = tix[order], etype[order], ts[order]
    ids = np.char.add("T", np.char.zfill(np.arange(n).astype(str), 7)).astype(object)
    events = pd.DataFrame(
        {
            "ticket_id": pd.array(ids[tix], dtype="str"),
            "unit_code": pd.array(units[unit[tix]], dtype="str"),
            "event": pd.Categorical.from_codes(etype, categories=list(EVENTS)),
            "timestamp": pd.to_datetime(ts, unit="s", utc=True).tz_convert(BKK),
        }
    )
    final_fin = np.where(reo, np.where(refin, refin_t, -1), np.where(has_fin, fin, -1))
    fin_ts = pd.to_datetime(np.where(final_fin > 0, final_fin, 0), unit="s", utc=True).tz_convert(
        BKK
    )
    fin_ts = fin_ts.where(final_fin > 0)
    tags = np.array(["ถนน", "ทางเท้า", "น้ำท่วม", "ขยะ", "ไฟฟ้า", "ความปลอดภัย", ""], dtype=object)
    tickets = pd.DataFrame(
        {
            "ticket_id": pd.array(ids, dtype="str"),
            "unit_code": pd.array(units[unit], dtype="str"),
            "source": "traffy_api_v2",
            "type_tags": pd.array(tags[rng.integers(0, tags.size, n)], dtype="str"),
            "comment": "",
            "state": np.where(final_fin > 0, C.FINISHED_STATE, "กำลังดำเนินการ"),
            "created_at": pd.to_datetime(fwd, unit="s", utc=True).tz_convert(BKK),
            "inprogress_at": pd.to_datetime(
                np.where(has_acc, acc, fwd), unit="s", utc=True
            ).tz_convert(BKK),
            "finished_at": fin_ts,
            "state_is_export_time": False,
            "count_reopen": pd.array(reo.astype(int), dtype="Int64"),
            "star": pd.array(np.full(n, np.nan), dtype="Float64"),
        }
    )
    return tickets, events


def generate_submissions(fy: int, *, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for unit in load_catalog().district_codes():
        for y, m in cal.fiscal_months(fy):
            if rng.random() < 0.05:
                continue
            ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
            rows.append((unit, f"{y:04d}-{m:02d}", dt.date(ny, nm, int(rng.integers(1, 14)))))
    df = pd.DataFrame(rows, columns=["unit_code", "month", "submitted_on"])
    df["submitted_on"] = pd.to_datetime(df["submitted_on"])
    return df


# --------------------------------------------------------------------------- the reference


def _checkpoints_py(first: dt.date, last: dt.date, february: str, bc) -> list[dt.date]:
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        if m == 2:
            nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
            second = nxt - dt.timedelta(days=1)
            if february == "last_business_day":
                while not bc.is_business_day(second):
                    second -= dt.timedelta(days=1)
        else:
            second = dt.date(y, m, 30)
        for d in (dt.date(y, m, 15), second):
            if first <= d <= last:
                out.append(d)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def reference_compliance(
    events: pd.DataFrame, *, fy: int, as_of: dt.date | None = None, february: str = "last_day"
) -> dict[str, dict]:
    """Steps 1 and 2 ticket by ticket in plain Python (the rules of docs/complaints.md)."""
    bc = cal.business_calendar()
    fy_start, fy_end = cal.fiscal_year_bounds(fy)
    cut = min(as_of, fy_end) if as_of else fy_end
    per: dict[str, list[tuple[pd.Timestamp, str, str]]] = {}
    for tid, unit, ev, ts in zip(
        events["ticket_id"], events["unit_code"], events["event"], events["timestamp"], strict=True
    ):
        per.setdefault(str(tid), []).append((ts.tz_convert(BKK), str(ev), str(unit)))
    out: dict[str, dict] = {}
    for tid, evs in per.items():
        evs.sort(key=lambda e: e[0])
        fwds = [e for e in evs if e[1] == "forwarded"]
        if not fwds:
            continue
        rec_ts = fwds[0][0]
        rec = rec_ts.date()
        if not fy_start <= rec <= cut:
            continue
        days = {k: [e[0].date() for e in evs if e[1] == k] for k in EVENTS}
        acc_due = bc.add_business_days(rec, 1)
        accepted = min(days["accepted"]) if days["accepted"] else None
        reports = days["progress"] + days["finished"]
        first_prog = min(reports) if reports else None
        if accepted is None or accepted > acc_due:
            s1_fail = acc_due
        else:
            prog_due = bc.add_business_days(accepted, 3)
            s1_fail = prog_due if (first_prog is None or first_prog > prog_due) else None
        # open periods
        periods = [(rec_ts, bc.add_business_days(rec, 4))]
        for ts, ev, _ in evs:
            if ev == "reopened" and ts.date() <= cut:
                periods.append((ts, bc.add_business_days(ts.date(), 3)))
        cps = _checkpoints_py(rec - dt.timedelta(days=40), cut, february, bc)
        required: dict[dt.date, bool] = {}
        for start_ts, grace in periods:
            ends = [
                ts
                for ts, ev, _ in evs
                if ev == "finished" and int(ts.timestamp()) > int(start_ts.timestamp())
            ]
            end_day = min(ends).date() if ends else None
            for i in range(1, len(cps)):
                c = cps[i]
                if c < grace or c > cut or (end_day is not None and c >= end_day):
                    continue
                if c in required:
                    continue
                w0 = max(cps[i - 1], start_ts.date() - dt.timedelta(days=1))
                required[c] = any(w0 < d <= c for d in days["progress"])
        missed = sorted(c for c, ok in required.items() if not ok)
        s2_fail = missed[0] if missed else None
        fails = [d for d in (s1_fail, s2_fail) if d is not None]
        fail = min(fails) if fails else None
        state, state_day = None, None
        for ts, ev, _ in evs:
            if ev in ("finished", "reopened") and ts.date() <= cut:
                state, state_day = ev, ts.date()
        out[tid] = {
            "step1_ok": s1_fail is None or s1_fail > cut,
            "step2_ok": s2_fail is None or s2_fail > cut,
            "compliant": fail is None or fail > cut,
            "fail_on": fail,
            "checkpoints_required": len(required),
            "checkpoints_missed": len(missed),
            "finished": state == "finished",
            "finished_on": state_day if state == "finished" else None,
        }
    return out


# --------------------------------------------------------------------------- the two engines

LAYOUTS = {"grouped": "events.parquet", "by_time": "events_by_time.parquet"}
ENGINES = ("kpilib", "duckdb", "duckdb_1thread", "kpilib_before")
#: The last commit with the single-module engine (kpilib/complaints.py), for "no slower".
BEFORE = "bd72c1c874235092b3bf8dd3eb2d93d8de07b269"


@functools.cache
def _engine_before():
    """kpilib/complaints.py as of :data:`BEFORE`, loaded from git history (once)."""
    import importlib.util

    src = subprocess.run(
        [
            "git",
            "-C",
            str(Path(__file__).resolve().parent),
            "show",
            f"{BEFORE}:kpilib/complaints.py",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="complaints_before_")) / "complaints_before.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("complaints_before", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["complaints_before"] = mod
    spec.loader.exec_module(mod)
    return mod


def before_kpis(folder: Path, fy: int, units: Sequence[str], *, events_file: str) -> dict:
    """The same KPIs with the previous engine, read as its benchmark read them."""
    old = _engine_before()
    events = pd.read_parquet(folder / events_file)
    tickets = pd.read_parquet(folder / "tickets.parquet")
    subs = pd.read_parquet(folder / "report_submissions.parquet")
    res = old.evaluate_compliance(events, fy=fy)
    return {
        "step12": old.compliance_by_quarter(res, units=units),
        "year_end": old.year_end_resolution(res, units=units),
        "step3": old.step3_table(subs, fy=fy, units=units),
        "traffy": old.traffy_resolution(tickets, fy=fy, units=units),
        "monthly": old.monthly_figures_fy(tickets, fy, units=units),
    }


def kpilib_kpis(
    folder: Path, fy: int, units: Sequence[str], *, events_file: str = "events.parquet"
) -> dict[str, pd.DataFrame]:
    """Every complaint KPI through kpilib's public API, in the tables the peer returns."""
    subs = pd.read_parquet(folder / "report_submissions.parquet")
    t = C.year_tables(folder / events_file, folder / "tickets.parquet", subs, fy=fy, units=units)
    return {
        "step12": t.compliance[
            ["unit_code", "quarter", "received", "step1_ok", "step2_ok", "compliant", "resolved"]
        ],
        "year_end": t.year_end[["unit_code", "received", "resolved"]],
        "traffy": t.traffy[["unit_code", "quarter", "received", "resolved", "state_basis"]],
        "monthly": t.monthly[["unit_code", "month", "received", "finished", "in_progress"]],
        "step3": t.step3[["unit_code", "month", "on_time"]],
    }


def _peer():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import complaints_duckdb

    return complaints_duckdb


def compare_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> list[str]:
    """Names of the KPI tables that differ (values compared cell by cell, keys in order)."""
    bad = []
    for name in ("step12", "year_end", "traffy", "monthly", "step3"):
        x = a[name].reset_index(drop=True)
        y = b[name].reset_index(drop=True)
        keys = [c for c in ("unit_code", "quarter", "month") if c in x.columns]
        x = x.astype({"unit_code": str}).sort_values(keys, ignore_index=True)
        y = y.astype({"unit_code": str}).sort_values(keys, ignore_index=True)
        try:
            pd.testing.assert_frame_equal(x, y, check_dtype=False, check_categorical=False)
        except AssertionError as exc:
            bad.append(f"{name}: {str(exc).splitlines()[0:3]}")
    return bad


# --------------------------------------------------------------------------- phases


def _phase_generate(folder: Path, n: int, fy: int) -> None:
    tickets, events = generate(n, fy=fy)
    tickets.to_parquet(folder / "tickets.parquet", index=False)
    events.to_parquet(folder / LAYOUTS["grouped"], index=False)
    by_time = events.sort_values(["timestamp", "ticket_id"], kind="stable", ignore_index=True)
    by_time.to_parquet(folder / LAYOUTS["by_time"], index=False)
    generate_submissions(fy).to_parquet(folder / "report_submissions.parquet", index=False)
    print(json.dumps({"tickets": len(tickets), "events": len(events)}))


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _phase_measure(folder: Path, fy: int, engine: str, layout: str) -> None:
    # outside the timed part, for both engines alike: imports, the holiday calendar (the
    # rules' input) and the catalogue's districts
    units = load_catalog().district_codes()
    cal.business_calendar()
    peer = _peer() if engine.startswith("duckdb") else None
    threads = 1 if engine == "duckdb_1thread" else None
    if engine == "kpilib_before":
        _engine_before()  # compiled outside the timed part, like the others' imports
    rss_before = _rss_mb()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    if peer is not None:
        tables = peer.kpis(folder, fy, units, events_file=LAYOUTS[layout], threads=threads)
    elif engine == "kpilib_before":
        tables = before_kpis(folder, fy, units, events_file=LAYOUTS[layout])
    else:
        tables = kpilib_kpis(folder, fy, units, events_file=LAYOUTS[layout])
    seconds = time.perf_counter() - t
    now = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = now.ru_utime + now.ru_stime - cpu.ru_utime - cpu.ru_stime
    print(
        json.dumps(
            {
                "engine": engine,
                "layout": layout,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu_s, 3),
                "peak_rss_mb": _rss_mb(),
                "rss_after_imports_mb": rss_before,
                "rows": {k: len(v) for k, v in tables.items()},
                "compliant_q4": int(tables["step12"].query("quarter == 4")["compliant"].sum()),
            }
        )
    )


def _phase_agree(folder: Path, fy: int, layout: str) -> None:
    units = load_catalog().district_codes()
    a = kpilib_kpis(folder, fy, units, events_file=LAYOUTS[layout])
    b = _peer().kpis(folder, fy, units, events_file=LAYOUTS[layout])
    print(json.dumps({"layout": layout, "differ": compare_tables(a, b)}))


def _child(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _reference_check(n: int, fy: int) -> str:
    _tickets, events = generate(n, seed=11, fy=fy)
    t = time.perf_counter()
    ref = reference_compliance(events, fy=fy)
    t_ref = time.perf_counter() - t
    t = time.perf_counter()
    res = C.evaluate_compliance(events, fy=fy)
    t_eng = time.perf_counter() - t
    got = res.tickets.set_index("ticket_id")
    flags = ("step1_ok", "step2_ok", "compliant", "finished")
    counts = ("checkpoints_required", "checkpoints_missed")
    days = ("fail_on", "finished_on")

    def day(v):
        return None if pd.isna(v) else pd.Timestamp(v).date()

    disagree = [
        tid
        for tid, r in ref.items()
        if any(bool(got.at[tid, c]) != r[c] for c in flags)
        or any(int(got.at[tid, c]) != r[c] for c in counts)
        or any(day(got.at[tid, c]) != r[c] for c in days)
    ]
    assert len(got) == len(ref), (len(got), len(ref))
    assert not disagree, f"engine and reference disagree on {len(disagree)} tickets: {disagree[:5]}"
    return (
        f"row-by-row Python on {len(ref):,} tickets: {t_ref:.2f} s ({t_ref / len(ref) * 1e6:.0f} "
        f"µs/ticket); the engine on the same tickets {t_eng:.3f} s; all {len(ref):,} tickets "
        "identical (flags, checkpoint counts, first failure day, finished state and day)"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--sample", type=int, default=20_000, help="tickets for the row-by-row check")
    p.add_argument("--fy", type=int, default=2563)
    p.add_argument("--repeat", type=int, default=5, help="runs per engine and layout")
    p.add_argument("--layouts", default="grouped,by_time", help="comma-separated: grouped, by_time")
    p.add_argument("--phase", choices=["all", "generate", "measure", "agree"], default="all")
    p.add_argument("--engine", choices=ENGINES, default="kpilib")
    p.add_argument(
        "--engines",
        default="kpilib,duckdb",
        help=f"comma-separated, measured alternately: {', '.join(ENGINES)}",
    )
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="grouped")
    p.add_argument("--dir", default=None, help="data folder (generate/measure/agree phases)")
    a = p.parse_args(argv)
    if a.phase == "generate":
        _phase_generate(Path(a.dir), a.tickets, a.fy)
        return 0
    if a.phase == "measure":
        _phase_measure(Path(a.dir), a.fy, a.engine, a.layout)
        return 0
    if a.phase == "agree":
        _phase_agree(Path(a.dir), a.fy, a.layout)
        return 0

    layouts = [x.strip() for x in a.layouts.split(",") if x.strip()]
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench_complaints_") as tmp:
        t = time.perf_counter()
        gen = _child(["--phase", "generate", "--dir", tmp, "--tickets", str(a.tickets)])
        print(
            f"generated {gen['tickets']:,} tickets, {gen['events']:,} events "
            f"in {time.perf_counter() - t:.1f} s"
        )
        engines = [e.strip() for e in a.engines.split(",") if e.strip()]
        for layout in layouts:
            runs: dict[str, list[dict]] = {e: [] for e in engines}
            for i in range(a.repeat):
                # alternate, and rotate which engine goes first
                order = engines[i % len(engines) :] + engines[: i % len(engines)]
                for engine in order:
                    args = ["--phase", "measure", "--dir", tmp, "--fy", str(a.fy)]
                    runs[engine].append(_child([*args, "--engine", engine, "--layout", layout]))
            med = {e: statistics.median(r["seconds"] for r in rs) for e, rs in runs.items()}
            for e, rs in runs.items():
                print(
                    f"[{layout}] {e:14s} median {med[e]:.3f} s  runs "
                    f"{[r['seconds'] for r in rs]}  CPU median "
                    f"{statistics.median(r['cpu_seconds'] for r in rs):.2f} s  peak RSS median "
                    f"{statistics.median(r['peak_rss_mb'] for r in rs):.0f} MB "
                    f"(max {max(r['peak_rss_mb'] for r in rs):.0f}; after imports "
                    f"{statistics.median(r['rss_after_imports_mb'] for r in rs):.0f})"
                )
            for e in engines[1:]:
                print(
                    f"[{layout}] ratio {e} / {engines[0]} (medians): {med[e] / med[engines[0]]:.2f}"
                )
            agree = _child(
                ["--phase", "agree", "--dir", tmp, "--fy", str(a.fy), "--layout", layout]
            )
            verdict = "agree" if not agree["differ"] else f"DIFFER: {agree['differ']}"
            print(f"[{layout}] KPI tables, kpilib vs DuckDB, table by table: {verdict}")
    print(_reference_check(a.sample, a.fy))
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
