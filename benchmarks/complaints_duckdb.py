"""An independent DuckDB implementation of the complaint KPIs: the benchmark's peer.

The same rules as ``kpilib.complaints`` (docs/complaints.md), written in SQL as a competent
DuckDB user would after profiling once:

- a calendar table with a running business-day index (``cum``): the n-th business day after
  day d is the business day whose index is ``cum[d] + n``; one list look-up, no loop;
- one GROUP BY pass over the events per ticket (first forwarding and its unit, first
  acceptance, first report, finishing, reopenings) with a **bit mask of the half-month
  windows holding a progress update** (``bit_or(1 << window)``);
- step 2 for a ticket open once is then bit arithmetic (needed windows ``& ~covered``);
- a general path (checkpoint rows joined with the updates) only for the tickets it cannot
  cover: reopened tickets and odd logs (an update before receipt, a finish at or before it).

It shares nothing with kpilib but the holiday list (``kpilib.calendar``) and reads the
Parquet files itself. ``kpis()`` returns the KPI tables in the shape the benchmark compares
(see ``bench_complaints.kpilib_kpis``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from kpilib import calendar as cal

NEVER = 10**9
BKK_S = 7 * 3600


def _checkpoints(first: dt.date, last: dt.date, february: str) -> list[dt.date]:
    """The 15th and the 30th (February: last day, or last business day) from first to last."""
    bc = cal.business_calendar()
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        second = dt.date(y, m, 30) if m != 2 else nxt - dt.timedelta(days=1)
        if m == 2 and february == "last_business_day":
            while not bc.is_business_day(second):
                second -= dt.timedelta(days=1)
        out += [d for d in (dt.date(y, m, 15), second) if first <= d <= last]
        y, m = nxt.year, nxt.month
    return out


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _lookups(fy: int, february: str) -> dict[str, object]:
    """Calendar look-up lists (1-based in SQL: element ``day - lo + 1``)."""
    fy_start, fy_end = cal.fiscal_year_bounds(fy)
    lo, hi = _day(fy_start) - 400, _day(fy_end) + 400
    bc = cal.business_calendar()
    days = np.arange(lo, hi + 1).astype("datetime64[D]")
    is_bd = bc.is_business_day_array(days)
    cum = np.cumsum(is_bd)  # business days in [lo, d]
    bdays = np.flatnonzero(is_bd) + lo  # the k-th business day is bdays[k - 1]
    cps = np.array(
        [_day(d) for d in _checkpoints(fy_start - dt.timedelta(days=40), fy_end, february)]
    )
    rng = np.arange(lo, hi + 1)
    return {
        "lo": lo,
        "cum": cum.tolist(),
        "bd": bdays.tolist(),
        "win": np.searchsorted(cps, rng, side="left").tolist(),  # first checkpoint >= day
        "nle": np.searchsorted(cps, rng, side="right").tolist(),  # checkpoints <= day
        "cps": cps.tolist(),
    }


def kpis(
    folder: Path,
    fy: int,
    units: Sequence[str],
    *,
    february: str = "last_day",
    events_file: str = "events.parquet",
    per_ticket: bool = False,
    threads: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Every complaint KPI for ``units`` × 4 quarters of ``fy`` from the Parquet files."""
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    lk = _lookups(fy, february)
    fy_start, fy_end = cal.fiscal_year_bounds(fy)
    lo, cut, start = lk["lo"], _day(fy_end), _day(fy_start)
    q_ends = [_day(cal.quarter_bounds(fy, q)[1]) for q in range(1, 5)]
    ev = str(Path(folder) / events_file)
    # macros: business-day arithmetic as look-ups in constant lists (1-based)
    lst = {k: "[" + ",".join(map(str, lk[k])) + "]" for k in ("cum", "bd", "win", "nle", "cps")}
    con.execute(f"""
        CREATE MACRO cum(d) AS {lst["cum"]}[d - {lo} + 1];
        CREATE MACRO add_bd(d, n) AS {lst["bd"]}[cum(d) + n];
        CREATE MACRO win(d) AS {lst["win"]}[d - {lo} + 1];
        CREATE MACRO nle(d) AS {lst["nle"]}[d - {lo} + 1];
        CREATE MACRO cp(i) AS {lst["cps"]}[i + 1];
    """)
    # -- one pass over the events, grouped per ticket ---------------------------------
    con.execute(f"""
        CREATE TEMP TABLE t AS
        WITH e AS (
            SELECT ticket_id, unit_code, event,
                   epoch_us("timestamp") // 1000000 AS sec,
                   ((epoch_us("timestamp") // 1000000 + {BKK_S}) // 86400)::INTEGER AS day
            FROM read_parquet('{ev}')
        )
        SELECT ticket_id,
            arg_min(unit_code, sec) FILTER (event = 'forwarded') AS unit,
            min(sec) FILTER (event = 'forwarded') AS rec_sec,
            min(day) FILTER (event = 'accepted') AS acc,
            min(day) FILTER (event IN ('progress', 'finished')) AS prog,
            min(day) FILTER (event = 'progress') AS upd_first,
            min(day) FILTER (event = 'finished') AS fin_first,
            min(sec) FILTER (event = 'finished') AS fin_first_sec,
            max(day) FILTER (event = 'finished' AND day <= {cut}) AS fin_last,
            count(*) FILTER (event = 'reopened') AS n_reopen,
            bit_or(1::UBIGINT << least(win(day), 63)) FILTER (event = 'progress') AS covered
        FROM e GROUP BY ticket_id
    """)
    con.execute(f"""
        CREATE TEMP TABLE s AS
        SELECT *, (rec_sec + {BKK_S}) // 86400 AS rec FROM t
        WHERE rec_sec IS NOT NULL AND (rec_sec + {BKK_S}) // 86400 BETWEEN {start} AND {cut}
    """)
    con.execute(f"""
        CREATE TEMP TABLE r AS
        WITH a AS (
            SELECT *,
                add_bd(rec, 1) AS acc_due,
                CASE WHEN acc IS NOT NULL THEN add_bd(acc, 3) END AS prog_due,
                n_reopen > 0 OR upd_first < rec OR fin_first_sec <= rec_sec AS general,
                greatest(win(add_bd(rec, 4)), 1) AS lo_i,
                nle(least(coalesce(fin_first, {NEVER}) - 1, {cut})) AS hi_i
            FROM s
        ), b AS (
            SELECT *,
                CASE WHEN acc IS NULL OR acc > acc_due THEN acc_due
                     WHEN prog IS NULL OR prog > prog_due THEN prog_due END AS s1_fail,
                CASE WHEN hi_i > lo_i
                     THEN ((1::UBIGINT << hi_i) - (1::UBIGINT << lo_i)) & ~coalesce(covered, 0::UBIGINT)
                     ELSE 0::UBIGINT END AS missed
            FROM a
        )
        SELECT ticket_id, unit, rec, rec_sec, s1_fail, general,
            fin_first, fin_last,
            greatest(hi_i - lo_i, 0) AS n_req,
            bit_count(missed) AS n_missed,
            CASE WHEN missed <> 0 THEN cp(bit_count(xor(missed, missed - 1)) - 1) END AS s2_fail
        FROM b
    """)
    # -- the general path: checkpoint rows for reopened / odd tickets ------------------
    q_cols = ", ".join(
        f"arg_max(event, sec) FILTER (day <= {x}) AS st_{i}" for i, x in enumerate([*q_ends, cut])
    )
    con.execute(f"""
        CREATE TEMP TABLE g AS
        WITH ge AS (
            SELECT ticket_id, event, epoch_us("timestamp") // 1000000 AS sec,
                   ((epoch_us("timestamp") // 1000000 + {BKK_S}) // 86400)::INTEGER AS day
            FROM read_parquet('{ev}')
            WHERE event IN ('progress', 'finished', 'reopened')
              AND ticket_id IN (SELECT ticket_id FROM r WHERE general)
        )
        SELECT * FROM ge
    """)
    con.execute(f"""
        CREATE TEMP TABLE gp AS
        WITH periods AS (
            SELECT ticket_id, 0 AS ord, rec AS start_day, rec_sec AS start_sec,
                   add_bd(rec, 4) AS grace FROM r WHERE general
            UNION ALL
            SELECT ticket_id, row_number() OVER (PARTITION BY ticket_id ORDER BY sec) AS ord,
                   day, sec, add_bd(day, 3) FROM g WHERE event = 'reopened'
        ), ended AS (
            SELECT p.*, (SELECT min(f.day) FROM g f WHERE f.ticket_id = p.ticket_id
                         AND f.event = 'finished' AND f.sec > p.start_sec) AS end_day
            FROM periods p
        ), rows AS (
            SELECT ticket_id, c.i, arg_min(greatest(cp(c.i - 1), start_day - 1), ord) AS after
            FROM ended, (SELECT unnest(range({len(lk["cps"])})) AS i) c
            WHERE c.i >= greatest(win(grace), 1) AND cp(c.i) <= {cut}
              AND cp(c.i) <= coalesce(end_day, {NEVER}) - 1
            GROUP BY ticket_id, c.i
        ), met AS (
            SELECT rows.*, EXISTS (SELECT 1 FROM g u WHERE u.ticket_id = rows.ticket_id
                AND u.event = 'progress' AND u.day > rows.after AND u.day <= cp(rows.i)) AS ok
            FROM rows
        )
        SELECT ticket_id, count(*) AS n_req, count(*) FILTER (NOT ok) AS n_missed,
               min(cp(i)) FILTER (NOT ok) AS s2_fail
        FROM met GROUP BY ticket_id
    """)
    con.execute(f"""
        CREATE TEMP TABLE gs AS
        SELECT ticket_id, {q_cols},
               arg_max(day, sec) FILTER (day <= {cut}) AS last_state_day
        FROM g WHERE event IN ('finished', 'reopened') GROUP BY ticket_id
    """)
    fin_q = ", ".join(
        f"CASE WHEN r.general THEN coalesce(gs.st_{i} = 'finished', false) "
        f"ELSE coalesce(r.fin_first <= {x}, false) END AS fin_{i}"
        for i, x in enumerate([*q_ends, cut])
    )
    con.execute(f"""
        CREATE TEMP TABLE f AS
        SELECT r.ticket_id, r.unit, r.rec,
            coalesce(r.s1_fail, {NEVER}) AS s1_fail,
            CASE WHEN r.general THEN coalesce(gp.n_req, 0) ELSE r.n_req END AS n_req,
            CASE WHEN r.general THEN coalesce(gp.n_missed, 0) ELSE r.n_missed END AS n_missed,
            coalesce(CASE WHEN r.general THEN gp.s2_fail ELSE r.s2_fail END, {NEVER}) AS s2_fail,
            {fin_q},
            CASE WHEN r.general THEN CASE WHEN gs.st_4 = 'finished' THEN gs.last_state_day END
                 WHEN r.fin_first <= {cut} THEN r.fin_last END AS finished_on
        FROM r LEFT JOIN gp USING (ticket_id) LEFT JOIN gs USING (ticket_id)
    """)
    out: dict[str, pd.DataFrame] = {}
    agg = ", ".join(
        f"count(*) FILTER (rec <= {x}) AS received_{q}, "
        f"count(*) FILTER (rec <= {x} AND s1_fail > {x}) AS step1_ok_{q}, "
        f"count(*) FILTER (rec <= {x} AND s2_fail > {x}) AS step2_ok_{q}, "
        f"count(*) FILTER (rec <= {x} AND least(s1_fail, s2_fail) > {x}) AS compliant_{q}, "
        f"count(*) FILTER (rec <= {x} AND fin_{q - 1}) AS resolved_{q}"
        for q, x in enumerate(q_ends, start=1)
    )
    wide = con.execute(
        f"SELECT unit AS unit_code, {agg}, count(*) FILTER (fin_4) AS resolved_ye "
        "FROM f GROUP BY unit"
    ).df()
    out["step12"] = _long(
        wide, units, ("received", "step1_ok", "step2_ok", "compliant", "resolved")
    )
    ye = _by_unit(wide, units)
    out["year_end"] = pd.DataFrame(
        {
            "unit_code": list(units),
            "received": ye["received_4"].to_numpy(),
            "resolved": ye["resolved_ye"].to_numpy(),
        }
    )
    out["traffy"] = _traffy(con, folder, fy, units, start, q_ends)
    out["monthly"] = _monthly(con, folder, fy, units)
    out["step3"] = _step3(con, folder, fy, units)
    if per_ticket:
        out["tickets"] = con.execute(f"""
            SELECT ticket_id, unit AS unit_code, rec AS received_on,
                   s1_fail > {cut} AS step1_ok, s2_fail > {cut} AS step2_ok,
                   least(s1_fail, s2_fail) > {cut} AS compliant,
                   CASE WHEN least(s1_fail, s2_fail) < {NEVER} THEN least(s1_fail, s2_fail) END
                       AS fail_on,
                   n_req AS checkpoints_required, n_missed AS checkpoints_missed,
                   fin_4 AS finished, finished_on
            FROM f ORDER BY ticket_id
        """).df()
    con.close()
    return out


def _by_unit(wide: pd.DataFrame, units: Sequence[str]) -> pd.DataFrame:
    return wide.set_index("unit_code").reindex(list(units)).fillna(0).astype("int64")


def _long(wide: pd.DataFrame, units: Sequence[str], cols: Sequence[str]) -> pd.DataFrame:
    w = _by_unit(wide, units)
    frames = [
        pd.DataFrame(
            {"unit_code": list(units), "quarter": q, **{c: w[f"{c}_{q}"].to_numpy() for c in cols}}
        )
        for q in range(1, 5)
    ]
    return pd.concat(frames, ignore_index=True)


def _traffy(con, folder, fy, units, start, q_ends) -> pd.DataFrame:
    tk = str(Path(folder) / "tickets.parquet")
    agg = ", ".join(
        f"count(*) FILTER (cd BETWEEN {start} AND {x}) AS received_{q}, "
        f"count(*) FILTER (cd BETWEEN {start} AND {x} AND (fd <= {x} OR xfin)) AS resolved_{q}, "
        f"count(*) FILTER (cd BETWEEN {start} AND {x} AND xonly) AS export_{q}"
        for q, x in enumerate(q_ends, start=1)
    )
    wide = con.execute(f"""
        WITH k AS (
            SELECT unit_code,
                (epoch_us(created_at) // 1000000 + {BKK_S}) // 86400 AS cd,
                coalesce((epoch_us(finished_at) // 1000000 + {BKK_S}) // 86400, {NEVER}) AS fd,
                coalesce(state_is_export_time, false) AND finished_at IS NULL AS xonly,
                coalesce(state_is_export_time, false) AND finished_at IS NULL
                    AND state = 'เสร็จสิ้น' AS xfin
            FROM read_parquet('{tk}') WHERE contains(lower(source), 'traffy')
        )
        SELECT unit_code, {agg} FROM k GROUP BY unit_code
    """).df()
    t = _long(wide, units, ("received", "resolved", "export"))
    basis = np.where(
        t["received"] == 0,
        None,
        np.where(
            t["export"] == 0,
            "as_of",
            np.where(t["export"] == t["received"], "export_time", "mixed"),
        ),
    )
    return t.drop(columns="export").assign(state_basis=basis)


def _monthly(con, folder, fy, units) -> pd.DataFrame:
    tk = str(Path(folder) / "tickets.parquet")
    months = cal.fiscal_months(fy)
    first, last = dt.date(*months[0], 1), cal.last_day_of_month(*months[-1])
    m = con.execute(f"""
        WITH k AS (
            SELECT unit_code,
                ((epoch_us(created_at) // 1000000 + {BKK_S}) // 86400)::INTEGER AS cd,
                coalesce((epoch_us(finished_at) // 1000000 + {BKK_S}) // 86400, {NEVER}) AS fd,
                coalesce(state_is_export_time, false) AND finished_at IS NULL
                    AND state = 'เสร็จสิ้น' AS xfin
            FROM read_parquet('{tk}')
        ), d AS (
            SELECT unit_code, DATE '1970-01-01' + cd AS created, fd, xfin FROM k
            WHERE cd BETWEEN {_day(first)} AND {_day(last)}
        )
        SELECT unit_code, strftime(created, '%Y-%m') AS month, count(*) AS received,
               count(*) FILTER (fd <= date_diff('day', DATE '1970-01-01', last_day(created)) OR xfin)
                   AS finished
        FROM d GROUP BY ALL
    """).df()
    labels = [f"{y:04d}-{mm:02d}" for y, mm in months]
    grid = pd.MultiIndex.from_product([labels, list(units)], names=["month", "unit_code"])
    g = m.set_index(["month", "unit_code"]).reindex(grid).fillna(0).astype("int64").reset_index()
    g["in_progress"] = g["received"] - g["finished"]
    return g[["unit_code", "month", "received", "finished", "in_progress"]]


def _step3(con, folder, fy, units) -> pd.DataFrame:
    rs = str(Path(folder) / "report_submissions.parquet")
    months = [f"{y:04d}-{m:02d}" for y, m in cal.fiscal_months(fy)]
    s = con.execute(f"""
        SELECT unit_code::VARCHAR AS unit_code, month::VARCHAR AS month,
               min(submitted_on::DATE) AS sub
        FROM read_parquet('{rs}') GROUP BY ALL
    """).df()
    grid = pd.MultiIndex.from_product([list(units), months], names=["unit_code", "month"])
    sub = s.set_index(["unit_code", "month"])["sub"].reindex(grid)
    due = [dt.date(int(m[:4]) + (m[5:] == "12"), int(m[5:]) % 12 + 1, 10) for m in months] * len(
        units
    )
    on_time = [
        (not pd.isna(x)) and pd.Timestamp(x).date() <= d for x, d in zip(sub, due, strict=True)
    ]
    return pd.DataFrame(
        {
            "unit_code": grid.get_level_values(0),
            "month": grid.get_level_values(1),
            "on_time": on_time,
        }
    )
