"""The complaint engine: monthly and as-of figures, the 3-step handling rules, Traffy resolution.

Computes from the canonical ``tickets`` and ``events`` tables (``docs/architecture.md``) and
the ``report_submissions`` table. Everything is vectorised with numpy/pandas: per-ticket
flags are computed once (:func:`evaluate_compliance`) and then grouped by unit and quarter.
The rules as implemented, and every reading of the seeds, are in ``docs/complaints.md``.

Days: a timestamp counts on its calendar date in Bangkok time (UTC+7, no daylight saving
since 1920); the time of day never matters. A figure "as of" a date includes that whole day.
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.errors import ParameterError, SchemaError

#: Thai state name of a finished Traffy / BMA ticket.
FINISHED_STATE = "เสร็จสิ้น"
#: The 50 district offices' geocodes.
DISTRICT_CODES: tuple[str, ...] = tuple(str(c) for c in range(1001, 1051))
#: Lifecycle events of the canonical event log.
EVENT_TYPES: tuple[str, ...] = ("forwarded", "accepted", "progress", "finished", "reopened")
#: Step 1: business days to accept, counted from the day after forwarding.
ACCEPT_BUSINESS_DAYS = 1
#: Step 1: business days to file the first progress report, counted from the day after acceptance.
FIRST_PROGRESS_BUSINESS_DAYS = 3
#: Step 3: the monthly summary is due on this day of the following month.
REPORT_DUE_DAY = 10
#: Year-end: at least this % of the year's complaints resolved.
YEAR_END_TARGET_PCT = 95.0
#: Backlog ageing buckets (days open, inclusive bounds; None = no upper bound).
AGEING_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (0, 7, "0–7"),
    (8, 14, "8–14"),
    (15, 30, "15–30"),
    (31, None, "31+"),
)
#: Label of a ticket without a type tag.
NO_TAG = "(ไม่ระบุประเภท)"

FebruaryRule = Literal["last_day", "last_business_day"]
StateBasis = Literal["as_of", "export_time", "mixed"]

_NEVER = np.int64(10**9)  # a day number far in the future: "never happened"
_EPOCH = dt.date(1970, 1, 1)
_BKK_OFFSET = np.timedelta64(7, "h")  # Asia/Bangkok is UTC+7 without DST since 1920


# --------------------------------------------------------------------------- small helpers


def _pct(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(num.shape, np.nan)
    ok = den > 0
    out[ok] = num[ok] * 100.0 / den[ok]
    return out


def _day_number(d: dt.date) -> int:
    return (d - _EPOCH).days


def _to_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return cal.parse_thai_date(value)
    raise ParameterError(f"{what}: not a date: {value!r}")


def _as_days(d: np.ndarray) -> np.ndarray:
    """int day numbers -> datetime64[D]; _NEVER becomes NaT."""
    out = d.astype("datetime64[D]")
    out[d >= _NEVER] = np.datetime64("NaT")
    return out


def _as_dates(d: np.ndarray) -> np.ndarray:
    """int day numbers -> datetime64[s] at midnight (pandas' own unit, no conversion); NaT kept."""
    sec = d * 86400
    sec[d >= _NEVER] = np.iinfo(np.int64).min
    return sec.view("datetime64[s]")


def _from_days(d: np.ndarray) -> np.ndarray:
    """datetime64[D] -> int day numbers; NaT becomes _NEVER."""
    nat = np.isnat(d)
    out = d.astype("datetime64[D]").astype(np.int64)
    out[nat] = _NEVER
    return out


def _require_columns(df: pd.DataFrame, table: str, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"table {table!r} lacks column(s) {missing}; expected at least {list(columns)}, "
            f"found {list(df.columns)}",
            file=table,
            column=missing[0],
        )


def bangkok_days(series: pd.Series, *, table: str = "", column: str = "") -> np.ndarray:
    """Return the Bangkok calendar day of each timestamp as an int day number (1970-01-01 = 0).

    NaT becomes a far-future sentinel ("never"). Naive timestamps are refused.

    Raises:
        SchemaError: If the column is not timezone-aware.
    """
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise SchemaError(
            f"expected timezone-aware timestamps (Asia/Bangkok), got dtype {series.dtype}",
            file=table or None,
            column=column or series.name,
        )
    days, _ = _bangkok_days_seconds(series)
    return days


def _bangkok_days_seconds(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(Bangkok day numbers, UTC epoch seconds) of a tz-aware column, with integer maths."""
    utc = series.dt.tz_convert(None).to_numpy()
    unit, _ = np.datetime_data(utc.dtype)
    per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    i8 = utc.view(np.int64)
    nat = i8 == np.iinfo(np.int64).min
    sec = i8 // per_s
    days = (sec + 7 * 3600) // 86400
    if nat.any():
        days[nat] = _NEVER
        sec[nat] = np.iinfo(np.int64).max // 4
    return days, sec


class _DayTables:
    """Business-day look-ups over a range of day numbers, built once from the calendar.

    ``add(d, n)`` equals ``bc.add_business_days_array`` and ``between(a, b)`` equals
    ``bc.business_days_between_array``, but as array gathers (the range holds a few hundred
    days, the inputs millions of tickets).
    """

    def __init__(self, bc: cal.BusinessCalendar, lo: int, hi: int) -> None:
        self.bc = bc
        self.lo = lo
        self.days = np.arange(lo, hi + 1, dtype=np.int64)
        d64 = self.days.astype("datetime64[D]")
        self.is_bd = bc.is_business_day_array(d64)
        self.cum = np.cumsum(self.is_bd)  # business days in [lo, d]
        self._add: dict[int, np.ndarray] = {}

    def add(self, d: np.ndarray, n: int) -> np.ndarray:
        if n not in self._add:
            self._add[n] = _from_days(
                self.bc.add_business_days_array(self.days.astype("datetime64[D]"), n)
            )
        out = np.full(d.shape, _NEVER)
        ok = (d >= self.lo) & (d < self.lo + self.days.size)
        out[ok] = self._add[n][d[ok] - self.lo]
        if (~ok & (d < _NEVER)).any():  # outside the table: ask the calendar directly
            m = ~ok & (d < _NEVER)
            out[m] = _from_days(self.bc.add_business_days_array(_as_days(d[m]), n))
        return out

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.full(a.shape, np.nan)
        ok = (a < _NEVER) & (b < _NEVER)
        top = self.lo + self.days.size
        inside = ok & (a >= self.lo) & (a < top) & (b >= self.lo) & (b < top)
        out[inside] = self.cum[b[inside] - self.lo] - self.cum[a[inside] - self.lo]
        rest = ok & ~inside
        if rest.any():
            out[rest] = self.bc.business_days_between_array(_as_days(a[rest]), _as_days(b[rest]))
        return out


def _codes(series: pd.Series, *, as_object: bool = True) -> tuple[np.ndarray, Any]:
    """Factorize a key column: (int codes, unique values); fast for categoricals.

    With ``as_object=False`` the unique values stay a pandas array (no Python strings made).
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.int64)
        cats = series.cat.categories
        return codes, np.asarray(cats, dtype=object) if as_object else cats
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object) if as_object else uniques


def _key_maker(series: pd.Series, values: Any) -> Any:
    """A function turning codes of ``series`` back into a column (categorical when it was)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        dtype = series.dtype
        return lambda codes: pd.Categorical.from_codes(codes, dtype=dtype)
    return lambda codes: values.take(codes)


def _order_by(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices sorting by group, then value (one int64 argsort when the key fits)."""
    if group.size == 0:
        return np.zeros(0, dtype=np.int64)
    vmin = int(value.min())
    rng = int(value.max()) - vmin + 1
    if rng * (int(group.max()) + 1) < 2**62:
        return np.argsort(group * rng + (value - vmin), kind="stable")
    return np.lexsort((value, group))


def _first_per_group(group: np.ndarray, order_key: np.ndarray, n_groups: int) -> np.ndarray:
    """Row index of the smallest ``order_key`` per group (-1 where the group has no row)."""
    out = np.full(n_groups, -1, dtype=np.int64)
    if group.size == 0:
        return out
    order = _order_by(group, order_key)
    g = group[order]
    first = np.ones(g.size, dtype=bool)
    first[1:] = g[1:] != g[:-1]
    out[g[first]] = order[first]
    return out


def _finished_flags(tickets: pd.DataFrame, as_of_day: int) -> tuple[np.ndarray, np.ndarray]:
    """(finished as of the day, row used the export-time state) for every ticket row."""
    fin = bangkok_days(tickets["finished_at"], table="tickets", column="finished_at")
    if "state_is_export_time" in tickets.columns:
        export = tickets["state_is_export_time"].fillna(False).to_numpy(dtype=bool)
    else:
        export = np.zeros(len(tickets), dtype=bool)
    export_only = export & (fin >= _NEVER)
    finished = fin <= as_of_day
    if export_only.any():
        state = tickets["state"].to_numpy(dtype=object)
        finished = finished | (export_only & (state == FINISHED_STATE))
    return finished, export_only


def _basis(n_export: np.ndarray, n_rows: np.ndarray) -> list[str | None]:
    out: list[str | None] = []
    for e, n in zip(n_export.tolist(), n_rows.tolist(), strict=True):
        if n == 0:
            out.append(None)
        elif e == 0:
            out.append("as_of")
        elif e == n:
            out.append("export_time")
        else:
            out.append("mixed")
    return out


def _unit_index(units: Sequence[str] | None, present: np.ndarray) -> list[str]:
    if units is not None:
        return [str(u) for u in units]
    return sorted({str(u) for u in present})


def _group_counts(
    unit_codes: np.ndarray, unit_values: np.ndarray, units: list[str], *flags: np.ndarray
) -> list[np.ndarray]:
    """Count rows (and rows where each flag is True) per unit in ``units`` order."""
    pos = {u: i for i, u in enumerate(units)}
    lut = np.array([pos.get(str(v), -1) for v in unit_values], dtype=np.int64)
    idx = lut[unit_codes] if unit_codes.size else unit_codes
    keep = idx >= 0
    idx = idx[keep]
    n = len(units)
    out = [np.bincount(idx, minlength=n)]
    for f in flags:
        out.append(np.bincount(idx[f[keep]], minlength=n))
    return out


@dataclass(frozen=True)
class _TicketArrays:
    """The columns of the tickets table the figures need, as numpy arrays (computed once)."""

    created: np.ndarray  # Bangkok day numbers
    finished: np.ndarray  # Bangkok day numbers, _NEVER when unknown
    export_only: np.ndarray  # state known only at export time (no finished_at)
    export_finished: np.ndarray  # ... and that state is finished
    ucode: np.ndarray
    uvalues: np.ndarray
    traffy: np.ndarray  # source names Traffy

    @classmethod
    def of(cls, tickets: pd.DataFrame) -> _TicketArrays:
        _require_columns(tickets, "tickets", ("unit_code", "created_at", "finished_at"))
        created = bangkok_days(tickets["created_at"], table="tickets", column="created_at")
        fin = bangkok_days(tickets["finished_at"], table="tickets", column="finished_at")
        if "state_is_export_time" in tickets.columns:
            export = tickets["state_is_export_time"].fillna(False).to_numpy(dtype=bool)
        else:
            export = np.zeros(len(tickets), dtype=bool)
        export_only = export & (fin >= _NEVER)
        export_fin = export_only.copy()
        if export_only.any():
            scode, svalues = _codes(tickets["state"])
            export_fin &= np.array([v == FINISHED_STATE for v in svalues], dtype=bool)[scode]
        ucode, uvalues = _codes(tickets["unit_code"])
        if "source" in tickets.columns:
            ccode, cvalues = _codes(tickets["source"])
            is_t = np.array(["traffy" in str(v).lower() for v in cvalues] + [False], dtype=bool)
            traffy = is_t[ccode]  # code -1 (missing) picks the trailing False
        else:
            traffy = np.zeros(len(tickets), dtype=bool)
        return cls(created, fin, export_only, export_fin, ucode, uvalues, traffy)

    def _present(self, mask: np.ndarray) -> np.ndarray:
        codes = np.unique(self.ucode[mask])
        return self.uvalues[codes[codes >= 0]]

    def month_counts(
        self, month: str, as_of: dt.date | None, units: Sequence[str] | None
    ) -> pd.DataFrame:
        first, last = _month_bounds(month)
        as_of_d = as_of if as_of is not None else last
        if as_of_d < first:
            raise ParameterError(f"as_of {as_of_d} is before the month {month}")
        window_end = min(last, as_of_d)
        m = (self.created >= _day_number(first)) & (self.created <= _day_number(window_end))
        finished = (self.finished <= _day_number(as_of_d)) | self.export_finished
        unit_list = _unit_index(units, self._present(m) if units is None else None)
        received, n_fin, n_exp = _group_counts(
            self.ucode[m], self.uvalues, unit_list, finished[m], self.export_only[m]
        )
        in_prog = received - n_fin
        return pd.DataFrame(
            {
                "unit_code": unit_list,
                "month": month,
                "as_of": as_of_d,
                "window_end": window_end,
                "received": received,
                "finished": n_fin,
                "in_progress": in_prog,
                "finished_pct": _pct(n_fin, received),
                "in_progress_pct": _pct(in_prog, received),
                "state_basis": _basis(n_exp, received),
            }
        )


# --------------------------------------------------------------------------- monthly figures


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    try:
        y, m = (int(x) for x in str(month).split("-"))
        first = dt.date(y, m, 1)
    except ValueError:
        raise ParameterError(f"month must be YYYY-MM (Common Era), got {month!r}") from None
    if cal.BE_MIN <= y <= cal.BE_MAX:
        raise ParameterError(f"month {month!r}: {cal.era_confusion(y, expect='ce')}")
    return first, cal.last_day_of_month(y, m)


def monthly_figures(
    tickets: pd.DataFrame,
    *,
    month: str,
    as_of: dt.date | str | None = None,
    units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Received / finished / in-progress figures per unit for tickets received in a month.

    Tickets received from the month's first day up to ``min(month end, as_of)`` count; a
    ticket is finished if ``finished_at`` is on or before the as-of day (the whole day).

    Args:
        tickets: The canonical tickets table.
        month: ``YYYY-MM`` (Common Era).
        as_of: The report's as-of date (default: the month's last day).
        units: Units to report, in order (default: every unit with tickets in the window).

    Returns:
        One row per unit: ``unit_code, month, as_of, window_end, received, finished,
        in_progress, finished_pct, in_progress_pct, state_basis`` (percentages unrounded;
        ``state_basis`` is ``as_of``, ``export_time`` or ``mixed`` — see docs/complaints.md).
    """
    as_of_d = _to_date(as_of, "as_of") if as_of is not None else None
    return _TicketArrays.of(tickets).month_counts(month, as_of_d, units)


def monthly_figures_fy(
    tickets: pd.DataFrame, fy: int, *, units: Sequence[str] | None = None
) -> pd.DataFrame:
    """:func:`monthly_figures` for the twelve months of a fiscal year, each as of its last day."""
    fy = cal.require_be_year(fy)
    arr = _TicketArrays.of(tickets)
    return pd.concat(
        [arr.month_counts(f"{y:04d}-{m:02d}", None, units) for y, m in cal.fiscal_months(fy)],
        ignore_index=True,
    )


def monthly_trend(
    tickets: pd.DataFrame, unit_code: str, fy: int, *, as_of: dt.date | str | None = None
) -> pd.DataFrame:
    """Month-by-month figures of one unit for a fiscal year, each month as of its last day.

    Months that start after ``as_of`` are left out; the month holding ``as_of`` is cut there.
    Besides the :func:`monthly_figures` columns, ``finished_in_month`` counts tickets (of any
    month) whose ``finished_at`` falls in the month.
    """
    fy = cal.require_be_year(fy)
    as_of_d = _to_date(as_of, "as_of") if as_of is not None else cal.fiscal_year_bounds(fy)[1]
    unit_rows = tickets.loc[tickets["unit_code"].astype(str) == str(unit_code)]
    fin_days = bangkok_days(unit_rows["finished_at"], table="tickets", column="finished_at")
    rows = []
    for y, m in cal.fiscal_months(fy):
        first = dt.date(y, m, 1)
        if first > as_of_d:
            break
        month_as_of = min(cal.last_day_of_month(y, m), as_of_d)
        fig = monthly_figures(
            unit_rows, month=f"{y:04d}-{m:02d}", as_of=month_as_of, units=[unit_code]
        )
        rec = fig.iloc[0].to_dict()
        rec["finished_in_month"] = int(
            ((fin_days >= _day_number(first)) & (fin_days <= _day_number(month_as_of))).sum()
        )
        rows.append(rec)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- step 1 and 2


def checkpoint_days(
    first: dt.date, last: dt.date, *, february: FebruaryRule = "last_day"
) -> list[dt.date]:
    """Step-2 checkpoints (the 15th and the 30th of each month) between two dates, inclusive.

    February's second checkpoint is its last day (seed 000), or its last business day with
    ``february="last_business_day"`` (seed 001). In 31-day months the window ends on the
    30th; the 31st belongs to the next window (ending on the 15th).
    """
    if february not in ("last_day", "last_business_day"):
        raise ParameterError(
            f"february must be 'last_day' or 'last_business_day', got {february!r}"
        )
    bc = cal.business_calendar()
    out: list[dt.date] = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        second = dt.date(y, m, 30) if m != 2 else cal.last_day_of_month(y, m)
        if m == 2 and february == "last_business_day":
            second = bc.last_business_day_of_month(y, m)
        for d in (dt.date(y, m, 15), second):
            if first <= d <= last:
                out.append(d)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class ComplianceResult:
    """Per-ticket step 1/2 flags, computed once; group them with :func:`compliance_by_quarter`.

    Attributes:
        tickets: One row per ticket received in the window (columns in docs/complaints.md).
        checkpoints: One row per required step-2 checkpoint (``ticket_id, unit_code,
            checkpoint, window_start, updated, next_update, late_business_days``).
        unplaced: Tickets of the event log that could not be evaluated, with a ``reason``.
        fy: The fiscal year evaluated (or None).
        cutoff: The evaluation cut-off (the as-of day).
        february: The February checkpoint rule used.
    """

    tickets: pd.DataFrame
    unplaced: pd.DataFrame
    fy: int | None
    cutoff: dt.date
    february: str
    _state_keys: np.ndarray
    _state_finished: np.ndarray
    _ticket_codes: np.ndarray
    _key_span: int
    _checkpoint_frame: Any

    @functools.cached_property
    def checkpoints(self) -> pd.DataFrame:
        """One row per required step-2 checkpoint (built on first use)."""
        return self._checkpoint_frame(False)

    def missed_checkpoints(self) -> pd.DataFrame:
        """The rows of :attr:`checkpoints` that were missed (built without the others)."""
        return self._checkpoint_frame(True)

    def finished_as_of(self, day: dt.date) -> np.ndarray:
        """Per row of :attr:`tickets`: True if its last finished/reopened event by ``day`` is finished."""
        x = min(_day_number(day), _KEY_BASE + self._key_span - 1)
        return _finished_as_of(
            self._state_keys, self._state_finished, self._ticket_codes, self._key_span, x
        )


_KEY_BASE = _day_number(dt.date(1990, 1, 1))


def evaluate_compliance(
    events: pd.DataFrame,
    *,
    tickets: pd.DataFrame | None = None,
    fy: int | None = None,
    as_of: dt.date | str | None = None,
    february: FebruaryRule = "last_day",
) -> ComplianceResult:
    """Evaluate steps 1 and 2 for every ticket of the event log, in one vectorised pass.

    Args:
        events: The canonical events table (``ticket_id, unit_code, event, timestamp``).
        tickets: The canonical tickets table; only used for tickets without a ``forwarded``
            event (their ``created_at`` and ``unit_code`` stand in).
        fy: Only tickets received in this fiscal year (BE); the cut-off is at most its last day.
        as_of: The evaluation cut-off (default: the fiscal year's last day, or the last
            event's day without ``fy``). Checkpoints after it are not required and deadlines
            after it are "not yet due" (the ticket counts as compliant so far).
        february: ``last_day`` (seed 000, default) or ``last_business_day`` (seed 001).

    Returns:
        A :class:`ComplianceResult`.
    """
    _require_columns(events, "events", ("ticket_id", "unit_code", "event", "timestamp"))
    if february not in ("last_day", "last_business_day"):
        raise ParameterError(
            f"february must be 'last_day' or 'last_business_day', got {february!r}"
        )
    bc = cal.business_calendar()
    fy_bounds = cal.fiscal_year_bounds(fy) if fy is not None else None
    fy = cal.require_be_year(fy) if fy is not None else None

    tcode, tvalues = _codes(events["ticket_id"], as_object=False)
    ecode, evalues = _codes(events["event"])
    known = {v: i for i, v in enumerate(EVENT_TYPES)}
    unknown = [v for v in evalues if v not in known]
    if unknown:
        raise SchemaError(
            f"unknown event value(s) {sorted(map(str, unknown))[:5]}; expected one of {list(EVENT_TYPES)}",
            file="events",
            column="event",
        )
    etype = np.array([known[v] for v in evalues] + [-1], dtype=np.int8)[ecode]
    del ecode
    bangkok_days(events["timestamp"].iloc[:0], table="events", column="timestamp")  # dtype check
    day, ts_s = _bangkok_days_seconds(events["timestamp"])
    valid = (tcode >= 0) & (day < _NEVER)
    n_t = len(tvalues)

    # -- received day and unit: the first forwarded event ------------------------------
    fw = np.flatnonzero(valid & (etype == 0))
    first_fw = _first_per_group(tcode[fw], ts_s[fw], n_t)
    has_fw = first_fw >= 0
    received = np.full(n_t, _NEVER)
    received[has_fw] = day[fw[first_fw[has_fw]]]
    received_ts = np.full(n_t, np.iinfo(np.int64).min)
    received_ts[has_fw] = ts_s[fw[first_fw[has_fw]]]
    # the unit of the first forwarded event (factorized on those rows only)
    fw_rows = fw[first_fw[has_fw]]
    ucode_fw, uvalues = _codes(events["unit_code"].take(fw_rows))
    unit_code_of = np.full(n_t, -1, dtype=np.int64)
    unit_code_of[has_fw] = ucode_fw
    unit = np.empty(n_t, dtype=object)
    unit[has_fw] = uvalues[ucode_fw]
    received_from = np.where(has_fw, "forwarded", "").astype(object)

    unplaced_ids: list[Any] = []
    unplaced_reason: list[str] = []
    if not has_fw.all():
        missing = np.flatnonzero(~has_fw)
        if tickets is not None and len(tickets):
            tk = tickets.set_index(tickets["ticket_id"].astype(str))
            ids = pd.Index([str(x) for x in np.asarray(tvalues.take(missing), dtype=object)])
            found = ids.isin(tk.index)
            if found.any():
                sub = tk.loc[ids[found]]
                created = bangkok_days(sub["created_at"], table="tickets", column="created_at")
                idx = missing[found]
                received[idx] = created
                unit[idx] = sub["unit_code"].astype(str).to_numpy()
                received_from[idx] = "created_at"
        still = np.flatnonzero(received >= _NEVER)
        unplaced_ids.extend(np.asarray(tvalues.take(still), dtype=object).tolist())
        unplaced_reason.extend(["no forwarded event and no created_at in tickets"] * still.size)

    # -- the window --------------------------------------------------------------------
    min_day = int(day[valid].min()) if valid.any() else _KEY_BASE
    max_day = int(day[valid].max()) if valid.any() else _day_number(dt.date.today())
    if as_of is not None:
        cutoff = _to_date(as_of, "as_of")
        if fy_bounds is not None:
            cutoff = min(cutoff, fy_bounds[1])
    elif fy_bounds is not None:
        cutoff = fy_bounds[1]
    else:
        cutoff = _EPOCH + dt.timedelta(days=max_day)
    cut = _day_number(cutoff)
    lo_day = _day_number(fy_bounds[0]) if fy_bounds is not None else -(10**8)
    sel = np.flatnonzero((received >= lo_day) & (received <= cut))
    new_id = np.full(n_t, -1, dtype=np.int64)
    new_id[sel] = np.arange(sel.size)
    n = sel.size
    rec = received[sel]

    # per-event ticket index within the selection
    eid = (
        new_id[tcode]
        if (tcode >= 0).all()
        else np.where(tcode >= 0, new_id[np.clip(tcode, 0, None)], -1)
    )
    in_sel = valid & (eid >= 0)
    del tcode, valid

    def first_day(kind: int) -> np.ndarray:
        m = in_sel & (etype == kind)
        out = np.full(n, _NEVER)
        np.minimum.at(out, eid[m], day[m])
        return out

    # -- step 1 ------------------------------------------------------------------------
    ev_days = day[in_sel]
    lut_lo = int(ev_days.min()) if ev_days.size else cut
    lut_lo = min(lut_lo, int(rec.min()) if n else cut) - 1
    lut_hi = max(int(ev_days.max()) if ev_days.size else cut, cut) + 60
    bd = _DayTables(bc, lut_lo, lut_hi)
    acc_due = bd.add(rec, ACCEPT_BUSINESS_DAYS)
    accepted = first_day(1)
    # a finish report on or before the deadline also serves as the first progress report
    first_prog = np.minimum(first_day(2), first_day(3))
    acc_missing = accepted >= _NEVER
    acc_ok = accepted <= acc_due
    prog_due = np.full(n, _NEVER)
    prog_due[~acc_missing] = bd.add(accepted[~acc_missing], FIRST_PROGRESS_BUSINESS_DAYS)
    prog_ok = (~acc_missing) & (first_prog <= prog_due)
    acc_late_bd = _late_bd(bd, acc_due, accepted)
    prog_late_bd = _late_bd(bd, prog_due, first_prog)
    step1_fail = np.where(~acc_ok, acc_due, np.where(~prog_ok, prog_due, _NEVER))

    # -- state changes (finished / reopened), keyed by ticket then time ----------------
    sc = np.flatnonzero(in_sel & ((etype == 3) | (etype == 4)))
    sc_order = _order_by(eid[sc], ts_s[sc])
    sc = sc[sc_order]
    span = max(max_day, cut) - _KEY_BASE + 2
    if min_day < _KEY_BASE:
        raise SchemaError(
            "event timestamps before 1990 are not plausible", file="events", column="timestamp"
        )
    state_keys = eid[sc] * span + (day[sc] - _KEY_BASE)
    state_fin = etype[sc] == 3

    # -- step 2: open periods and their checkpoints ------------------------------------
    fin_idx = sc[state_fin]  # finished events, sorted by ticket then time
    fin_t = eid[fin_idx]
    fin_sec = ts_s[fin_idx]
    re_idx = sc[~state_fin]
    p_ticket = np.concatenate([np.arange(n), eid[re_idx]])
    p_start = np.concatenate([rec, day[re_idx]])
    start_sec = np.where(has_fw[sel], received_ts[sel], rec * 86400 - 7 * 3600)
    p_start_sec = np.concatenate([start_sec, ts_s[re_idx]])
    del ts_s  # the largest per-event temporaries are not needed any more
    p_grace = np.concatenate(
        [
            bd.add(rec, ACCEPT_BUSINESS_DAYS + FIRST_PROGRESS_BUSINESS_DAYS),
            bd.add(day[re_idx], FIRST_PROGRESS_BUSINESS_DAYS),
        ]
    )
    # period end: the first finished event of the same ticket strictly after the start
    pos = _next_after(fin_t, fin_sec, p_ticket, p_start_sec)
    p_end = np.full(p_ticket.size, _NEVER)
    p_end[pos >= 0] = day[fin_idx[pos[pos >= 0]]]

    first_cp = _EPOCH + dt.timedelta(days=int(rec.min()) - 40) if n else cutoff
    cps = np.array(
        [_day_number(d) for d in checkpoint_days(first_cp, cutoff, february=february)],
        dtype=np.int64,
    )
    last_req = np.minimum(p_end - 1, cut)
    lo = np.searchsorted(cps, p_grace, side="left")
    lo = np.maximum(lo, 1)  # the first checkpoint only serves as a window start
    hi = np.searchsorted(cps, last_req, side="right")
    cnt = np.maximum(hi - lo, 0)
    total = int(cnt.sum())
    pid = np.repeat(np.arange(p_ticket.size), cnt)
    offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    ci = lo[pid] + offs
    c_ticket = p_ticket[pid]
    c_day = cps[ci] if total else np.zeros(0, dtype=np.int64)
    c_wstart = np.maximum(cps[ci - 1], p_start[pid] - 1) if total else np.zeros(0, dtype=np.int64)
    del pid, offs, ci
    if p_ticket.size > n and total:
        # overlapping open periods (odd logs: reopened twice) must not double a checkpoint
        multi = np.bincount(p_ticket, minlength=n) > 1
        rows = np.flatnonzero(multi[c_ticket])
        key = c_ticket[rows] * span + (c_day[rows] - _KEY_BASE)
        _, first_occ = np.unique(key, return_index=True)
        keep = np.ones(c_ticket.size, dtype=bool)
        keep[rows] = False
        keep[rows[first_occ]] = True
        c_ticket, c_day, c_wstart = c_ticket[keep], c_day[keep], c_wstart[keep]
    # progress updates keyed by (ticket, day)
    pr = np.flatnonzero(in_sel & (etype == 2))
    upd_keys = np.sort(eid[pr] * span + (day[pr] - _KEY_BASE))
    k_hi = c_ticket * span + (c_day - _KEY_BASE)
    k_lo = c_ticket * span + (c_wstart - _KEY_BASE)
    right = np.searchsorted(upd_keys, k_hi, side="right")
    updated = right > np.searchsorted(upd_keys, k_lo, side="right")
    del k_hi, k_lo
    nxt_ok = right < upd_keys.size
    nxt_ok[nxt_ok] = (upd_keys[right[nxt_ok]] // span) == c_ticket[nxt_ok]
    next_upd = np.full(c_day.size, _NEVER)
    next_upd[nxt_ok] = upd_keys[right[nxt_ok]] % span + _KEY_BASE
    missed = ~updated
    late_cp = _late_bd(bd, np.where(missed, c_day, _NEVER), next_upd)
    n_req = np.bincount(c_ticket, minlength=n)
    n_missed = np.bincount(c_ticket[missed], minlength=n)
    first_missed = np.full(n, _NEVER)
    np.minimum.at(first_missed, c_ticket[missed], c_day[missed])
    step2_fail = first_missed

    fail = np.minimum(step1_fail, step2_fail)
    fin_now = _finished_as_of(state_keys, state_fin, np.arange(n), span, cut)
    last_fin = np.full(n, _NEVER)
    if fin_t.size:
        # the latest finished event per ticket, if the ticket is finished as of the cut-off
        last = np.ones(fin_t.size, dtype=bool)
        last[:-1] = fin_t[1:] != fin_t[:-1]
        lf = np.full(n, -1, dtype=np.int64)
        lf[fin_t[last]] = np.flatnonzero(last)
        ok = (lf >= 0) & fin_now
        last_fin[ok] = day[fin_idx[lf[ok]]]

    make_id = _key_maker(events["ticket_id"], tvalues)
    ids = make_id(sel)
    if has_fw[sel].all():
        # units as a categorical over the few unit codes: no per-row strings
        unit_dtype = pd.CategoricalDtype([str(u) for u in uvalues])
        unit_sel_codes = unit_code_of[sel]
    else:
        unit_dtype = pd.CategoricalDtype(sorted({str(u) for u in unit[sel]}))
        unit_sel_codes = unit_dtype.categories.get_indexer(unit[sel].astype(str))
    units_sel = pd.Categorical.from_codes(unit_sel_codes, dtype=unit_dtype)

    def units_cp(rows: np.ndarray) -> Any:
        return pd.Categorical.from_codes(unit_sel_codes[rows], dtype=unit_dtype)

    fq = _fiscal_quarters(rec, bd)
    table = pd.DataFrame(
        {
            "ticket_id": ids,
            "unit_code": units_sel,
            "received_from": received_from[sel],
            "received_on": _as_dates(rec),
            "fiscal_year": fq[0],
            "quarter": fq[1],
            "accept_due": _as_dates(acc_due),
            "accepted_on": _as_dates(accepted),
            "accept_late_business_days": pd.array(acc_late_bd, dtype="Int64"),
            "first_progress_due": _as_dates(prog_due),
            "first_progress_on": _as_dates(first_prog),
            "first_progress_late_business_days": pd.array(prog_late_bd, dtype="Int64"),
            "step1_fail_on": _as_dates(step1_fail),
            "checkpoints_required": n_req,
            "checkpoints_missed": n_missed,
            "first_missed_checkpoint": _as_dates(first_missed),
            "step1_ok": step1_fail > cut,
            "step2_ok": step2_fail > cut,
            "compliant": fail > cut,
            "fail_on": _as_dates(fail),
            "finished_on": _as_dates(last_fin),
            "finished": fin_now,
        }
    )
    cp_arrays = {
        "ticket": c_ticket.astype(np.int32),
        "day": c_day.astype(np.int32),
        "wstart": c_wstart.astype(np.int32),
        "updated": updated,
        "next": next_upd.astype(np.int32),
        "late": late_cp.astype(np.float32),
    }
    del c_ticket, c_day, c_wstart, updated, next_upd, late_cp

    def checkpoint_frame(missed_only: bool) -> pd.DataFrame:
        a = cp_arrays
        rows = np.flatnonzero(~a["updated"]) if missed_only else np.arange(a["day"].size)
        t = a["ticket"][rows]
        return pd.DataFrame(
            {
                "ticket_id": make_id(sel[t]),
                "unit_code": units_cp(t),
                "checkpoint": _as_dates(a["day"][rows].astype(np.int64)),
                "window_start": _as_dates(a["wstart"][rows].astype(np.int64) + 1),
                "updated": a["updated"][rows],
                "next_update": _as_dates(a["next"][rows].astype(np.int64)),
                "late_business_days": pd.array(a["late"][rows].astype(np.float64), dtype="Int64"),
            }
        )

    unplaced = pd.DataFrame({"ticket_id": unplaced_ids, "reason": unplaced_reason})
    return ComplianceResult(
        tickets=table,
        _checkpoint_frame=checkpoint_frame,
        unplaced=unplaced,
        fy=fy,
        cutoff=cutoff,
        february=february,
        _state_keys=state_keys,
        _state_finished=state_fin,
        _ticket_codes=np.arange(n, dtype=np.int64),
        _key_span=span,
    )


def _late_bd(bd: _DayTables, due: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Business days late (actual after due), NaN where on time or missing.

    An action on a non-business day counts as if on the next business day, so a report on
    Saturday after a Friday deadline is 1 business day late (not 0).
    """
    out = np.full(due.size, np.nan)
    m = (actual < _NEVER) & (due < _NEVER) & (actual > due)
    if m.any():
        rolled = bd.add(actual[m], 0)
        out[m] = bd.between(due[m], rolled)
    return out


def _next_after(
    sorted_group: np.ndarray, sorted_sec: np.ndarray, group: np.ndarray, sec: np.ndarray
) -> np.ndarray:
    """Index of the first (group, second) pair of a sorted list with the same group and a
    strictly later second than each query, or -1."""
    out = np.full(group.size, -1, dtype=np.int64)
    if sorted_group.size == 0 or group.size == 0:
        return out
    lo = min(int(sorted_sec.min()), int(sec.min()))
    rng = max(int(sorted_sec.max()), int(sec.max())) - lo + 2
    gkey = sorted_group * rng + (sorted_sec - lo)
    qkey = group * rng + (sec - lo)
    pos = np.searchsorted(gkey, qkey, side="right")
    ok = pos < gkey.size
    ok[ok] = sorted_group[pos[ok]] == group[ok]
    out[ok] = pos[ok]
    return out


def _finished_as_of(
    state_keys: np.ndarray, state_fin: np.ndarray, ticket: np.ndarray, span: int, day: int
) -> np.ndarray:
    if state_keys.size == 0:
        return np.zeros(ticket.size, dtype=bool)
    key = ticket * span + (day - _KEY_BASE)
    idx = np.searchsorted(state_keys, key, side="right") - 1
    ok = idx >= 0
    out = np.zeros(ticket.size, dtype=bool)
    out[ok] = ((state_keys[idx[ok]] // span) == ticket[ok]) & state_fin[idx[ok]]
    return out


def _fiscal_quarters(days: np.ndarray, bd: _DayTables) -> tuple[np.ndarray, np.ndarray]:
    """(fiscal year BE, quarter) of each day number, through a table over the day range."""
    d = bd.days.astype("datetime64[D]")
    months = d.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    year = months // 12 + 1970
    month = months % 12 + 1
    fy_lut = np.where(month >= 10, year + 1, year) + cal.BE_OFFSET
    q_lut = (month - 10) % 12 // 3 + 1
    idx = days - bd.lo
    ok = (idx >= 0) & (idx < bd.days.size)
    fy = np.zeros(days.size, dtype=np.int64)
    q = np.zeros(days.size, dtype=np.int64)
    fy[ok] = fy_lut[idx[ok]]
    q[ok] = q_lut[idx[ok]]
    return fy, q


def compliance_by_quarter(
    result: ComplianceResult, *, units: Sequence[str] | None = None
) -> pd.DataFrame:
    """KPI 3.1 / project 50340000-3453 Part 1 per unit and quarter, cumulative from the FY start.

    For quarter q the figures are as of ``min(quarter end, cut-off)``: tickets received from
    the fiscal year's first day to that day, compliant if no step-1 deadline or step-2
    checkpoint up to that day was missed. ``resolved`` counts those finished as of that day.

    Returns:
        ``unit_code, fiscal_year, quarter, as_of, received, step1_ok, step2_ok, compliant,
        compliant_pct, resolved, resolved_pct``.
    """
    if result.fy is None:
        raise ParameterError("compliance_by_quarter needs a result evaluated with fy=")
    t = result.tickets
    ucode, uvalues = _codes(t["unit_code"])
    unit_list = _unit_index(units, uvalues)
    rec = _from_days(t["received_on"].to_numpy(dtype="datetime64[D]"))
    s1 = _from_days(t["step1_fail_on"].to_numpy(dtype="datetime64[D]"))
    fail = _from_days(t["fail_on"].to_numpy(dtype="datetime64[D]"))
    s2 = _from_days(t["first_missed_checkpoint"].to_numpy(dtype="datetime64[D]"))
    frames = []
    for q in range(1, 5):
        q_end = min(cal.quarter_bounds(result.fy, q)[1], result.cutoff)
        if q > 1 and cal.quarter_bounds(result.fy, q)[0] > result.cutoff:
            break
        x = _day_number(q_end)
        m = rec <= x
        fin = result.finished_as_of(q_end)
        received, ok1, ok2, ok, res = _group_counts(
            ucode[m], uvalues, unit_list, (s1 > x)[m], (s2 > x)[m], (fail > x)[m], fin[m]
        )
        frames.append(
            pd.DataFrame(
                {
                    "unit_code": unit_list,
                    "fiscal_year": result.fy,
                    "quarter": q,
                    "as_of": q_end,
                    "received": received,
                    "step1_ok": ok1,
                    "step2_ok": ok2,
                    "compliant": ok,
                    "compliant_pct": _pct(ok, received),
                    "resolved": res,
                    "resolved_pct": _pct(res, received),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def year_end_resolution(
    result: ComplianceResult, *, units: Sequence[str] | None = None
) -> pd.DataFrame:
    """Year-end check of KPI 3.1: complaints resolved as of the FY's last day ≥ 95 % of all.

    Returns:
        ``unit_code, received, resolved, resolved_pct, target_pct, met`` (``met`` is None
        when the cut-off is before the fiscal year's end: the year is not over).
    """
    if result.fy is None:
        raise ParameterError("year_end_resolution needs a result evaluated with fy=")
    last = min(cal.fiscal_year_bounds(result.fy)[1], result.cutoff)
    t = result.tickets
    ucode, uvalues = _codes(t["unit_code"])
    unit_list = _unit_index(units, uvalues)
    received, res = _group_counts(ucode, uvalues, unit_list, result.finished_as_of(last))
    pct = _pct(res, received)
    year_over = result.cutoff >= cal.fiscal_year_bounds(result.fy)[1]
    met = [None if (not year_over or np.isnan(p)) else bool(p >= YEAR_END_TARGET_PCT) for p in pct]
    return pd.DataFrame(
        {
            "unit_code": unit_list,
            "as_of": last,
            "received": received,
            "resolved": res,
            "resolved_pct": pct,
            "target_pct": YEAR_END_TARGET_PCT,
            "met": met,
        }
    )


def noncompliance_reasons(result: ComplianceResult) -> pd.DataFrame:
    """Why each non-compliant ticket failed, one row per failed rule, for audit.

    Returns:
        ``ticket_id, unit_code, step, rule, due, actual, late_business_days`` where ``rule``
        is ``accept_late``, ``accept_missing``, ``first_progress_late``,
        ``first_progress_missing`` (step 1) or ``checkpoint_missed`` (step 2; ``due`` is the
        checkpoint, ``actual`` the next progress update, if any). Only failures due by the
        cut-off are listed.
    """
    t = result.tickets
    cut = pd.Timestamp(result.cutoff)
    acc_due = t["accept_due"]
    acc = t["accepted_on"]
    due_passed = acc_due <= cut
    frames = []

    def add(
        mask: pd.Series, step: int, rule: str, due: pd.Series, actual: pd.Series, late: Any
    ) -> None:
        if not mask.any():
            return
        frames.append(
            pd.DataFrame(
                {
                    "ticket_id": t.loc[mask, "ticket_id"].to_numpy(),
                    "unit_code": t.loc[mask, "unit_code"].to_numpy(),
                    "step": step,
                    "rule": rule,
                    "due": due[mask].to_numpy(),
                    "actual": actual[mask].to_numpy(),
                    "late_business_days": pd.array(
                        late[mask].to_numpy()
                        if isinstance(late, pd.Series)
                        else [pd.NA] * int(mask.sum()),
                        dtype="Int64",
                    ),
                }
            )
        )

    add(due_passed & acc.isna(), 1, "accept_missing", acc_due, acc, None)
    add(
        due_passed & acc.notna() & (acc > acc_due),
        1,
        "accept_late",
        acc_due,
        acc,
        t["accept_late_business_days"],
    )
    p_due = t["first_progress_due"]
    p = t["first_progress_on"]
    p_passed = p_due.notna() & (p_due <= cut)
    add(p_passed & p.isna(), 1, "first_progress_missing", p_due, p, None)
    add(
        p_passed & p.notna() & (p > p_due),
        1,
        "first_progress_late",
        p_due,
        p,
        t["first_progress_late_business_days"],
    )
    cp = result.missed_checkpoints()
    if len(cp):
        frames.append(
            pd.DataFrame(
                {
                    "ticket_id": cp["ticket_id"].to_numpy(),
                    "unit_code": cp["unit_code"].to_numpy(),
                    "step": 2,
                    "rule": "checkpoint_missed",
                    "due": cp["checkpoint"].to_numpy(),
                    "actual": cp["next_update"].to_numpy(),
                    "late_business_days": cp["late_business_days"].array,
                }
            )
        )
    cols = ["ticket_id", "unit_code", "step", "rule", "due", "actual", "late_business_days"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["ticket_id", "step", "due"], kind="stable", ignore_index=True)[cols]


# --------------------------------------------------------------------------- step 3


def step3_table(
    report_submissions: pd.DataFrame,
    *,
    fy: int,
    units: Sequence[str] | None = None,
    through_quarter: int = 4,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """Step 3 per unit-month: the monthly summary submitted by the 10th of the following month.

    Months from October of the fiscal year through the last month of ``through_quarter``;
    with ``as_of``, months whose due date is after it are left out (not yet due). A missing
    submission counts as not on time; of several submissions the earliest counts.

    Returns:
        ``unit_code, month, due, submitted_on, on_time, days_late`` (calendar days).
    """
    _require_columns(
        report_submissions, "report_submissions", ("unit_code", "month", "submitted_on")
    )
    fy = cal.require_be_year(fy)
    q = cal.require_quarter(through_quarter)
    months = [m for qq in range(1, q + 1) for m in cal.quarter_months(fy, qq)]
    due = [dt.date(y + (m == 12), m % 12 + 1, REPORT_DUE_DAY) for y, m in months]
    labels = [f"{y:04d}-{m:02d}" for y, m in months]
    if as_of is not None:
        a = _to_date(as_of, "as_of")
        keep = [i for i, d in enumerate(due) if d <= a]
        labels, due = [labels[i] for i in keep], [due[i] for i in keep]
    rs = report_submissions.copy()
    rs["unit_code"] = rs["unit_code"].astype(str)
    rs["month"] = rs["month"].astype(str)
    sub = pd.to_datetime(rs["submitted_on"]).dt.normalize()
    if isinstance(sub.dtype, pd.DatetimeTZDtype):
        sub = sub.dt.tz_convert(cal.BANGKOK).dt.tz_localize(None).dt.normalize()
    rs["submitted_on"] = sub
    earliest = rs.groupby(["unit_code", "month"], sort=False)["submitted_on"].min()
    unit_list = _unit_index(units, rs["unit_code"].unique())
    grid = pd.MultiIndex.from_product([unit_list, labels], names=["unit_code", "month"])
    out = grid.to_frame(index=False)
    out["due"] = np.tile(np.array(due, dtype="datetime64[D]"), len(unit_list)).astype(
        "datetime64[ns]"
    )
    out["submitted_on"] = earliest.reindex(grid).to_numpy()
    out["on_time"] = (out["submitted_on"].notna() & (out["submitted_on"] <= out["due"])).to_numpy()
    out["days_late"] = pd.array(
        np.where(
            out["on_time"] | out["submitted_on"].isna(),
            np.nan,
            (out["submitted_on"] - out["due"]).dt.days,
        ),
        dtype="Int64",
    )
    return out


# --------------------------------------------------------------------------- KPI 4 (Traffy)


def traffy_tickets(tickets: pd.DataFrame) -> pd.DataFrame:
    """Tickets whose ``source`` names Traffy Fondue (case-insensitive ``traffy`` in it)."""
    _require_columns(tickets, "tickets", ("source",))
    return tickets.loc[
        tickets["source"].astype(str).str.contains("traffy", case=False, regex=False)
    ]


def traffy_resolution(
    tickets: pd.DataFrame,
    *,
    fy: int,
    cumulative: bool = True,
    units: Sequence[str] | None = DISTRICT_CODES,
    traffy_only: bool = True,
) -> pd.DataFrame:
    """KPI 4: % of Traffy complaints resolved per district and quarter, as of the quarter's end.

    Received: tickets created from the fiscal year's start (``cumulative=True``, default) or
    the quarter's start, to the quarter's last day. Resolved: ``finished_at`` on or before
    the quarter's last day. Tickets whose source only holds the state at export time
    (``state_is_export_time`` and no ``finished_at``) are counted by their export-time
    state, and the row's ``state_basis`` says so (``export_time`` or ``mixed``): such a
    figure is not an as-of figure.

    Returns:
        One row per unit and quarter (50 districts × 4 by default): ``unit_code,
        fiscal_year, quarter, as_of, received, resolved, resolved_pct, state_basis``.
    """
    fy = cal.require_be_year(fy)
    _require_columns(tickets, "tickets", ("unit_code", "created_at", "finished_at"))
    arr = _TicketArrays.of(tickets)
    keep = arr.traffy if traffy_only else np.ones(arr.created.size, dtype=bool)
    created = np.where(keep, arr.created, _NEVER)  # non-Traffy rows fall outside every window
    ucode, uvalues = arr.ucode, arr.uvalues
    unit_list = _unit_index(units, uvalues)
    fy_start = _day_number(cal.fiscal_year_bounds(fy)[0])
    fin, export_only, export_fin = arr.finished, arr.export_only, arr.export_finished
    frames = []
    for q in range(1, 5):
        q_start, q_end = cal.quarter_bounds(fy, q)
        x = _day_number(q_end)
        start = fy_start if cumulative else _day_number(q_start)
        m = (created >= start) & (created <= x)
        resolved = (fin <= x) | export_fin
        received, res, n_exp = _group_counts(
            ucode[m], uvalues, unit_list, resolved[m], export_only[m]
        )
        frames.append(
            pd.DataFrame(
                {
                    "unit_code": unit_list,
                    "fiscal_year": fy,
                    "quarter": q,
                    "as_of": q_end,
                    "received": received,
                    "resolved": res,
                    "resolved_pct": _pct(res, received),
                    "state_basis": _basis(n_exp, received),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def traffy_ranking(
    tickets: pd.DataFrame, *, fy: int, quarter: int, cumulative: bool = True
) -> pd.DataFrame:
    """All 50 districts ranked by KPI 4 (highest % resolved first; no tickets: last, no rank)."""
    q = cal.require_quarter(quarter)
    t = traffy_resolution(tickets, fy=fy, cumulative=cumulative)
    t = t.loc[t["quarter"] == q].copy()
    t["rank"] = t["resolved_pct"].rank(method="min", ascending=False).astype("Int64")
    return t.sort_values(["rank", "unit_code"], na_position="last", ignore_index=True)


# --------------------------------------------------------------------------- helpers for charts


def _unit_rows(tickets: pd.DataFrame, unit_code: str | None) -> pd.DataFrame:
    if unit_code is None:
        return tickets
    return tickets.loc[tickets["unit_code"].astype(str) == str(unit_code)]


def complaints_by_type(
    tickets: pd.DataFrame,
    *,
    unit_code: str | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> pd.DataFrame:
    """Tickets per type tag (a ticket with several tags counts once under each).

    Returns:
        ``type_tag, received, share_pct`` sorted by ``received`` (share of tickets, so the
        shares add up to more than 100 when tickets carry several tags).
    """
    tk = _window(_unit_rows(tickets, unit_code), start, end)
    tags = tk["type_tags"].fillna("").astype(str).str.split(",").explode().str.strip()
    tags = tags.mask(tags == "", NO_TAG)
    counts = tags.value_counts()
    out = counts.rename_axis("type_tag").reset_index(name="received")
    out["share_pct"] = _pct(out["received"].to_numpy(), np.full(len(out), len(tk)))
    return out.sort_values(["received", "type_tag"], ascending=[False, True], ignore_index=True)


def _window(tk: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    if start is None and end is None:
        return tk
    created = bangkok_days(tk["created_at"], table="tickets", column="created_at")
    m = np.ones(len(tk), dtype=bool)
    if start is not None:
        m &= created >= _day_number(_to_date(start, "start"))
    if end is not None:
        m &= created <= _day_number(_to_date(end, "end"))
    return tk.loc[m]


def backlog_ageing(
    tickets: pd.DataFrame, *, as_of: dt.date | str, unit_code: str | None = None
) -> pd.DataFrame:
    """Open tickets as of a day by age (days since received): 0–7, 8–14, 15–30, 31+.

    Returns:
        ``bucket, open, state_basis`` in bucket order.
    """
    a = _day_number(_to_date(as_of, "as_of"))
    tk = _unit_rows(tickets, unit_code)
    created = bangkok_days(tk["created_at"], table="tickets", column="created_at")
    m = created <= a
    tk = tk.loc[m]
    finished, export = _finished_flags(tk, a)
    age = (a - created[m])[~finished]
    counts = []
    for lo, hi, _ in AGEING_BUCKETS:
        sel = age >= lo if hi is None else (age >= lo) & (age <= hi)
        counts.append(int(sel.sum()))
    basis = _basis(np.array([int(export[~finished].sum())]), np.array([int((~finished).sum())]))[0]
    return pd.DataFrame(
        {"bucket": [b[2] for b in AGEING_BUCKETS], "open": counts, "state_basis": basis}
    )


def time_to_finish(
    tickets: pd.DataFrame,
    *,
    unit_code: str | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> pd.DataFrame:
    """Days from creation to finish for finished tickets with a known ``finished_at``.

    Returns:
        ``ticket_id, unit_code, days`` (fractional days; a chart bins them).
    """
    tk = _window(_unit_rows(tickets, unit_code), start, end)
    tk = tk.loc[tk["finished_at"].notna()]
    days = (tk["finished_at"] - tk["created_at"]).dt.total_seconds() / 86400.0
    return pd.DataFrame(
        {
            "ticket_id": tk["ticket_id"].to_numpy(),
            "unit_code": tk["unit_code"].to_numpy(),
            "days": days.to_numpy(),
        }
    )


# --------------------------------------------------------------------------- per-bundle cache


_BUNDLE_CACHE: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()
_ID_CACHE: dict[int, tuple[Any, dict[Any, Any]]] = {}


def _cache_for(bundle: Any) -> dict[Any, Any]:
    try:
        return _BUNDLE_CACHE.setdefault(bundle, {})
    except TypeError:  # not weak-referenceable or not hashable
        entry = _ID_CACHE.get(id(bundle))
        if entry is None or entry[0] is not bundle:
            if len(_ID_CACHE) >= 4:
                _ID_CACHE.pop(next(iter(_ID_CACHE)))
            entry = (bundle, {})
            _ID_CACHE[id(bundle)] = entry
        return entry[1]


def _cached(bundle: Any, key: tuple[Any, ...], table: str, compute: Any) -> Any:
    """``compute()`` once per bundle and key; None when the bundle lacks ``table``."""
    cache = _cache_for(bundle)
    if key not in cache:
        cache[key] = compute() if bundle.has_table(table) else None
    return cache[key]


def bundle_compliance(bundle: Any, fy: int) -> pd.DataFrame | None:
    """KPI 3.1 per unit and quarter for a bundle (cached per bundle); None without events."""
    fy = cal.require_be_year(fy)

    def compute() -> pd.DataFrame:
        tickets = bundle.table("tickets") if bundle.has_table("tickets") else None
        res = evaluate_compliance(bundle.table("events"), tickets=tickets, fy=fy)
        return compliance_by_quarter(res)

    return _cached(bundle, ("step12", fy), "events", compute)


def bundle_traffy(bundle: Any, fy: int) -> pd.DataFrame | None:
    """KPI 4 per district and quarter for a bundle (cached per bundle); None without tickets."""
    fy = cal.require_be_year(fy)
    return _cached(
        bundle, ("traffy", fy), "tickets", lambda: traffy_resolution(bundle.table("tickets"), fy=fy)
    )


def bundle_step3(bundle: Any, fy: int) -> pd.DataFrame | None:
    """Step 3 per unit-month for the whole fiscal year (cached per bundle); None without data."""
    fy = cal.require_be_year(fy)
    return _cached(
        bundle,
        ("step3", fy),
        "report_submissions",
        lambda: step3_table(bundle.table("report_submissions"), fy=fy),
    )


def _row(table: pd.DataFrame | None, unit_code: str, quarter: int) -> pd.Series | None:
    if table is None:
        return None
    m = (table["unit_code"] == str(unit_code)) & (table["quarter"] == quarter)
    if not m.any():
        return None
    return table.loc[m].iloc[0]


def step12_counts(bundle: Any, unit_code: str, fy: int, quarter: int) -> tuple[int, int] | None:
    """(compliant, received) for KPI 3.1 Part 1, cumulative to the quarter; None without data."""
    row = _row(bundle_compliance(bundle, fy), unit_code, cal.require_quarter(quarter))
    if row is None or int(row["received"]) == 0:
        return None
    return int(row["compliant"]), int(row["received"])


def traffy_kpi(bundle: Any, unit_code: str, fy: int, quarter: int) -> dict[str, Any] | None:
    """KPI 4 for a district, or for all 50 districts together for any other unit (e.g. GOVSEC).

    Returns:
        ``{"received", "resolved", "resolved_pct", "as_of", "state_basis"}`` or None
        without Traffy tickets. ``state_basis`` other than ``as_of`` means the figure was
        counted from the export-time state, not as of the quarter's end.
    """
    q = cal.require_quarter(quarter)
    table = bundle_traffy(bundle, fy)
    if table is None:
        return None
    t = table.loc[table["quarter"] == q]
    if str(unit_code) in DISTRICT_CODES:
        t = t.loc[t["unit_code"] == str(unit_code)]
    received = int(t["received"].sum())
    if received == 0:
        return None
    resolved = int(t["resolved"].sum())
    bases = set(t["state_basis"].dropna())
    basis = bases.pop() if len(bases) == 1 else "mixed"
    return {
        "received": received,
        "resolved": resolved,
        "resolved_pct": resolved * 100.0 / received,
        "as_of": t["as_of"].iloc[0],
        "state_basis": basis,
    }


def step3_counts(bundle: Any, unit_code: str, fy: int, quarter: int) -> tuple[int, int] | None:
    """(months on time, months due) for step 3, October through the quarter's last month."""
    q = cal.require_quarter(quarter)
    table = bundle_step3(bundle, fy)
    if table is None:
        return None
    t = table.loc[table["unit_code"] == str(unit_code)]
    if t.empty:
        return None
    months = {f"{y:04d}-{m:02d}" for qq in range(1, q + 1) for y, m in cal.quarter_months(fy, qq)}
    t = t.loc[t["month"].isin(months)]
    return int(t["on_time"].sum()), len(t)


# --------------------------------------------------------------------------- measures


def m_step12_compliant(bundle: Any, unit_code: str, fy: int, quarter: int) -> int | None:
    """Tickets compliant with both step 1 and step 2 (cumulative from the FY start)."""
    c = step12_counts(bundle, unit_code, fy, quarter)
    return None if c is None else c[0]


def m_step12_total(bundle: Any, unit_code: str, fy: int, quarter: int) -> int | None:
    """Tickets received from the FY start to the quarter's end (the event log)."""
    c = step12_counts(bundle, unit_code, fy, quarter)
    return None if c is None else c[1]


def m_traffy_resolved(bundle: Any, unit_code: str, fy: int, quarter: int) -> int | None:
    """Traffy tickets resolved as of the quarter's end; None unless the figure is truly as-of."""
    k = traffy_kpi(bundle, unit_code, fy, quarter)
    return None if k is None or k["state_basis"] != "as_of" else k["resolved"]


def m_traffy_received(bundle: Any, unit_code: str, fy: int, quarter: int) -> int | None:
    """Traffy tickets received from the FY start to the quarter's end; None as for resolved."""
    k = traffy_kpi(bundle, unit_code, fy, quarter)
    return None if k is None or k["state_basis"] != "as_of" else k["received"]


def m_step3_on_time(bundle: Any, unit_code: str, fy: int, quarter: int) -> int | None:
    """Monthly summaries submitted by the 10th of the following month (FY start to quarter)."""
    c = step3_counts(bundle, unit_code, fy, quarter)
    return None if c is None else c[0]


def m_step3_months(bundle: Any, unit_code: str, fy: int, quarter: int) -> int | None:
    """Months whose monthly summary was due (FY start to the quarter's last month)."""
    c = step3_counts(bundle, unit_code, fy, quarter)
    return None if c is None else c[1]
