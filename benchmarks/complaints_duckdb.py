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


def _calendar(fy: int, february: str) -> tuple[pd.DataFrame, list[int]]:
    """The calendar table (one row per day around the fiscal year) and the checkpoints.

    ``cum`` is the running business-day index (business days up to the day); the n-th
    business day after d is then the business day whose index is ``cum[d] + n``, precomputed
    as columns ``a0`` (roll forward), ``a1``, ``a3``, ``a4``. ``win`` is the index of the
    first checkpoint on or after the day (its half-month window), ``nle`` the number of
    checkpoints on or before it.
    """
    fy_start, fy_end = cal.fiscal_year_bounds(fy)
    lo, hi = _day(fy_start) - 400, _day(fy_end) + 400
    bc = cal.business_calendar()
    days = np.arange(lo, hi + 1)
    is_bd = bc.is_business_day_array(days.astype("datetime64[D]"))
    cum = np.cumsum(is_bd)
    bdays = np.flatnonzero(is_bd) + lo

    def add(n: int) -> np.ndarray:
        k = cum - 1 + n if n > 0 else cum - is_bd
        return np.where(k < bdays.size, bdays[np.minimum(k, bdays.size - 1)], NEVER)

    cps = [_day(d) for d in _checkpoints(fy_start - dt.timedelta(days=40), fy_end, february)]
    table = pd.DataFrame(
        {
            "day": days,
            "cum": cum,
            "a0": add(0),
            "a1": add(1),
            "a3": add(3),
            "a4": add(4),
            "win": np.searchsorted(cps, days, side="left"),
            "nle": np.searchsorted(cps, days, side="right"),
        }
    ).astype("int64")
    return table, cps


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
    calendar, cps = _calendar(fy, february)
    con.register("calendar_df", calendar)
    con.execute("CREATE TEMP TABLE c AS SELECT * FROM calendar_df")
    con.execute(
        "CREATE TEMP TABLE cp AS SELECT i::BIGINT AS i, d::BIGINT AS d FROM "
        f"(SELECT unnest(range({len(cps)})) AS i, unnest({cps}) AS d)"
    )
    fy_start, fy_end = cal.fiscal_year_bounds(fy)
    cut, start = _day(fy_end), _day(fy_start)
    q_ends = [_day(cal.quarter_bounds(fy, q)[1]) for q in range(1, 5)]
    ev = str(Path(folder) / events_file)
    kind = (
        "CASE event WHEN 'forwarded' THEN 0 WHEN 'accepted' THEN 1 WHEN 'progress' THEN 2 "
        "WHEN 'finished' THEN 3 WHEN 'reopened' THEN 4 END::UTINYINT"
    )
    events = f"""
        SELECT ticket_id, unit_code, {kind} AS k,
               epoch_us("timestamp") // 1000000 AS sec,
               (epoch_us("timestamp") // 1000000 + {BKK_S}) // 86400 AS day
        FROM read_parquet('{ev}')
    """
    # -- one pass over the events, grouped per ticket; step 1 and the bit masks ----------
    con.execute(f"""
        CREATE TEMP TABLE t AS
        WITH g AS (
            SELECT ticket_id,
                arg_min(unit_code, sec) FILTER (k = 0) AS unit,
                min(sec) FILTER (k = 0) AS rec_sec,
                min(e.day) FILTER (k = 1) AS acc,
                min(e.day) FILTER (k IN (2, 3)) AS prog,
                min(e.day) FILTER (k = 2) AS upd_first,
                min(e.day) FILTER (k = 3) AS fin_first,
                min(sec) FILTER (k = 3) AS fin_first_sec,
                max(e.day) FILTER (k = 3 AND e.day <= {cut}) AS fin_last,
                count(*) FILTER (k = 4) AS n_reopen,
                bit_or(1::UBIGINT << least(c.win, 63)) FILTER (k = 2) AS covered
            FROM ({events}) e JOIN c ON c.day = e.day
            GROUP BY ticket_id
        ), r AS (
            SELECT g.*, (rec_sec + {BKK_S}) // 86400 AS rec FROM g
            WHERE rec_sec IS NOT NULL AND (rec_sec + {BKK_S}) // 86400 BETWEEN {start} AND {cut}
        ), a AS (
            SELECT r.*, cr.a1 AS acc_due, ca.a3 AS prog_due,
                coalesce(n_reopen > 0 OR upd_first < rec OR fin_first_sec <= rec_sec, false)
                    AS general,
                greatest(cg.win, 1) AS lo_i,
                coalesce(cf.nle, (SELECT count(*) FROM cp WHERE d <= {cut})) AS hi_i
            FROM r
            JOIN c cr ON cr.day = r.rec
            JOIN c cg ON cg.day = cr.a4
            LEFT JOIN c ca ON ca.day = r.acc
            LEFT JOIN c cf ON cf.day = least(r.fin_first - 1, {cut})
        ), b AS (
            SELECT *,
                CASE WHEN acc IS NULL OR acc > acc_due THEN acc_due
                     WHEN prog IS NULL OR prog > prog_due THEN prog_due END AS s1_fail,
                CASE WHEN hi_i > lo_i
                     THEN ((1::UBIGINT << hi_i) - (1::UBIGINT << lo_i))
                          & ~coalesce(covered, 0::UBIGINT)
                     ELSE 0::UBIGINT END AS missed
            FROM a
        )
        SELECT ticket_id, unit, rec, rec_sec, general, fin_first, fin_last,
            coalesce(s1_fail, {NEVER}) AS s1_fail,
            greatest(hi_i - lo_i, 0) AS n_req,
            bit_count(missed) AS n_missed,
            CASE WHEN missed <> 0 THEN {cps}[bit_count(xor(missed, missed - 1))] END AS s2_fail
        FROM b
    """)
    # -- the general path: checkpoint rows for reopened / odd tickets ------------------
    con.execute(f"""
        CREATE TEMP TABLE g AS
        SELECT ticket_id, {kind} AS k, epoch_us("timestamp") // 1000000 AS sec,
               (epoch_us("timestamp") // 1000000 + {BKK_S}) // 86400 AS day
        FROM read_parquet('{ev}')
        WHERE event IN ('progress', 'finished', 'reopened')
          AND ticket_id IN (SELECT ticket_id FROM t WHERE general)
    """)
    con.execute(f"""
        CREATE TEMP TABLE gp AS
        WITH periods AS (
            SELECT ticket_id, 0 AS ord, rec AS start_day, rec_sec AS start_sec, c.a4 AS grace
            FROM t JOIN c ON c.day = t.rec WHERE general
            UNION ALL
            SELECT ticket_id, row_number() OVER (PARTITION BY ticket_id ORDER BY sec) AS ord,
                   g.day, sec, c.a3 FROM g JOIN c ON c.day = g.day WHERE k = 4
        ), ended AS (
            SELECT p.*, (SELECT min(f.day) FROM g f WHERE f.ticket_id = p.ticket_id
                         AND f.k = 3 AND f.sec > p.start_sec) AS end_day
            FROM periods p
        ), rows AS (
            SELECT ticket_id, cp.i, cp.d,
                   arg_min(greatest(prev.d, start_day - 1), ord) AS after
            FROM ended JOIN c ON c.day = ended.grace, cp JOIN cp prev ON prev.i = cp.i - 1
            WHERE cp.i >= greatest(c.win, 1) AND cp.d <= {cut}
              AND cp.d <= coalesce(end_day, {NEVER}) - 1
            GROUP BY ticket_id, cp.i, cp.d
        ), met AS (
            SELECT rows.*, EXISTS (SELECT 1 FROM g u WHERE u.ticket_id = rows.ticket_id
                AND u.k = 2 AND u.day > rows.after AND u.day <= rows.d) AS ok
            FROM rows
        )
        SELECT ticket_id, count(*) AS n_req, count(*) FILTER (NOT ok) AS n_missed,
               min(d) FILTER (NOT ok) AS s2_fail
        FROM met GROUP BY ticket_id
    """)
    q_cols = ", ".join(
        f"arg_max(k, sec) FILTER (day <= {x}) AS st_{i}" for i, x in enumerate([*q_ends, cut])
    )
    con.execute(f"""
        CREATE TEMP TABLE gs AS
        SELECT ticket_id, {q_cols}, arg_max(day, sec) FILTER (day <= {cut}) AS last_state_day
        FROM g WHERE k IN (3, 4) GROUP BY ticket_id
    """)
    ends = [*q_ends, cut]
    simple_fin = ", ".join(
        f"coalesce(fin_first <= {x}, false) AS fin_{i}" for i, x in enumerate(ends)
    )
    general_fin = ", ".join(f"coalesce(gs.st_{i} = 3, false) AS fin_{i}" for i in range(len(ends)))
    # tickets open once need nothing but t; reopened / odd ones take the general path's rows
    final = f"""
        SELECT ticket_id, unit, rec, s1_fail, n_req, n_missed,
            coalesce(s2_fail, {NEVER}) AS s2_fail, {simple_fin},
            CASE WHEN fin_first <= {cut} THEN fin_last END AS finished_on
        FROM t WHERE NOT general
        UNION ALL
        SELECT t.ticket_id, t.unit, t.rec, t.s1_fail,
            coalesce(gp.n_req, 0), coalesce(gp.n_missed, 0), coalesce(gp.s2_fail, {NEVER}),
            {general_fin},
            CASE WHEN gs.st_4 = 3 THEN gs.last_state_day END
        FROM t LEFT JOIN gp USING (ticket_id) LEFT JOIN gs USING (ticket_id)
        WHERE t.general
    """
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
        f"FROM ({final}) GROUP BY unit"
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
    out["traffy"] = _traffy(con, folder, units, start, q_ends)
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
            FROM ({final}) ORDER BY ticket_id
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


def _traffy(con, folder, units, start, q_ends) -> pd.DataFrame:
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
