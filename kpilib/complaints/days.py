"""Days as integers: Bangkok calendar days, the business-day table, step-2 checkpoints.

The engine counts in day numbers (1970-01-01 = 0) so that a million tickets are a few
integer arrays. A timestamp counts on its calendar date in Bangkok time (UTC+7, no daylight
saving since 1920); the time of day never matters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints.rules import FebruaryRule, check_february
from kpilib.errors import ParameterError, SchemaError

#: A day number far in the future: "never happened".
NEVER = 10**9
EPOCH = dt.date(1970, 1, 1)
BKK_OFFSET_S = 7 * 3600  # Asia/Bangkok is UTC+7 without DST since 1920
_NAT = np.iinfo(np.int64).min


def day_number(d: dt.date) -> int:
    """The day number of a date (1970-01-01 = 0)."""
    return (d - EPOCH).days


def date_of(day: int) -> dt.date:
    """The date of a day number."""
    return EPOCH + dt.timedelta(days=int(day))


def to_date(value: Any, what: str) -> dt.date:
    """A date from a date, datetime, Timestamp, ISO or Thai date string.

    Raises:
        ParameterError: If the value is not a date.
    """
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


def as_dates(d: np.ndarray) -> np.ndarray:
    """Day numbers -> datetime64[s] at midnight (pandas' own unit, no conversion); NEVER -> NaT."""
    sec = d.astype(np.int64) * 86400
    sec[d >= NEVER] = _NAT
    return sec.view("datetime64[s]")


def from_dates(d: np.ndarray) -> np.ndarray:
    """datetime64 -> day numbers; NaT becomes NEVER."""
    nat = np.isnat(d)
    out = d.astype("datetime64[D]").astype(np.int64)
    out[nat] = NEVER
    return out


def _as_days64(d: np.ndarray) -> np.ndarray:
    out = d.astype(np.int64).astype("datetime64[D]")
    out[d >= NEVER] = np.datetime64("NaT")
    return out


def require_columns(df: pd.DataFrame, table: str, columns: tuple[str, ...]) -> None:
    """Refuse a table without the columns the engine reads.

    Raises:
        SchemaError: Naming the table and the first missing column.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"table {table!r} lacks column(s) {missing}; expected at least {list(columns)}, "
            f"found {list(df.columns)}",
            file=table,
            column=missing[0],
        )


def bangkok_seconds(series: pd.Series, *, table: str = "", column: str = "") -> np.ndarray:
    """UTC epoch seconds of a tz-aware column (int64, no copy of the timestamps); NaT -> min int.

    Raises:
        SchemaError: If the column is not timezone-aware.
    """
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise SchemaError(
            f"expected timezone-aware timestamps (Asia/Bangkok), got dtype {series.dtype}",
            file=table or None,
            column=column or series.name,
        )
    i8 = series.array.asi8
    per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[series.dtype.unit]
    if per_s == 1:
        return i8
    nat = i8 == _NAT
    sec = i8 // per_s
    if nat.any():
        sec[nat] = _NAT
    return sec


def days_of_seconds(sec: np.ndarray) -> np.ndarray:
    """Bangkok day numbers (int32) of UTC epoch seconds; NaT (min int) becomes NEVER."""
    day = ((sec + BKK_OFFSET_S) // 86400).astype(np.int32)
    nat = sec == _NAT
    if nat.any():
        day[nat] = NEVER
    return day


def bangkok_days(series: pd.Series, *, table: str = "", column: str = "") -> np.ndarray:
    """Return the Bangkok calendar day of each timestamp as an int day number (1970-01-01 = 0).

    NaT becomes a far-future sentinel ("never"). Naive timestamps are refused.

    Raises:
        SchemaError: If the column is not timezone-aware.
    """
    return days_of_seconds(bangkok_seconds(series, table=table, column=column)).astype(np.int64)


class DayTable:
    """Business days over a range of day numbers, as a running business-day index.

    ``cum[d]`` counts the business days from the range's first day up to ``d``; the n-th
    business day after ``d`` is then the business day whose index is ``cum[d] + n``. So
    ``add(d, n)`` equals ``BusinessCalendar.add_business_days_array`` and ``between(a, b)``
    equals ``business_days_between_array``, as array gathers (the range holds a few hundred
    days, the inputs millions of tickets). Days outside the range are asked of the calendar.
    """

    def __init__(self, bc: cal.BusinessCalendar, lo: int, hi: int) -> None:
        self.bc = bc
        self.lo = lo
        self.size = hi - lo + 1
        days = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]")
        self.is_bd = bc.is_business_day_array(days)
        self.cum = np.cumsum(self.is_bd)  # business days in [lo, d]
        self.business_days = np.flatnonzero(self.is_bd) + lo  # the k-th business day (0-based)
        self._add: dict[int, np.ndarray] = {}

    def _inside(self, d: np.ndarray) -> np.ndarray:
        return (d >= self.lo) & (d < self.lo + self.size)

    def _add_table(self, n: int) -> np.ndarray:
        """``add(d, n)`` for every day of the table (NEVER where the answer is beyond it)."""
        if n not in self._add:
            k = self.cum - 1 + n if n > 0 else self.cum - self.is_bd
            out = np.full(self.size, NEVER, dtype=np.int64)
            fits = k < self.business_days.size
            out[fits] = self.business_days[k[fits]]
            self._add[n] = out
        return self._add[n]

    def add(self, d: np.ndarray, n: int) -> np.ndarray:
        """The n-th business day counted from the day after each day (n = 0: roll forward)."""
        d = np.asarray(d, dtype=np.int64)
        table = self._add_table(n)
        if d.size and int(d.min()) >= self.lo and int(d.max()) < self.lo + self.size:
            out = table[d - self.lo]  # one gather
        else:
            out = np.full(d.shape, NEVER, dtype=np.int64)
            ok = self._inside(d)
            out[ok] = table[d[ok] - self.lo]
        rest = (out >= NEVER) & (d < NEVER)
        if rest.any():  # outside the table: ask the calendar directly
            res = self.bc.add_business_days_array(_as_days64(d[rest]), n)
            out[rest] = res.astype(np.int64)
        return out

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Business days in ``(a, b]`` (float, NaN where either is NEVER)."""
        out = np.full(a.shape, np.nan)
        ok = (a < NEVER) & (b < NEVER)
        inside = ok & self._inside(a) & self._inside(b)
        out[inside] = self.cum[b[inside] - self.lo] - self.cum[a[inside] - self.lo]
        rest = ok & ~inside
        if rest.any():
            out[rest] = self.bc.business_days_between_array(
                _as_days64(a[rest]), _as_days64(b[rest])
            )
        return out

    def late(self, due: np.ndarray, actual: np.ndarray) -> np.ndarray:
        """Business days late (actual after due), NaN where on time or missing.

        An action on a non-business day counts as if on the next business day, so a report
        on Saturday after a Friday deadline is 1 business day late (not 0).
        """
        out = np.full(due.size, np.nan)
        m = (actual < NEVER) & (due < NEVER) & (actual > due)
        if m.any():
            out[m] = self.between(due[m], self.add(actual[m], 0))
        return out

    def fiscal_quarters(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(fiscal year BE, quarter) of each day number inside the table (0 outside)."""
        months = (
            (np.arange(self.size, dtype=np.int64) + self.lo)
            .astype("datetime64[D]")
            .astype("datetime64[M]")
            .astype(np.int64)
        )
        year = months // 12 + 1970
        month = months % 12 + 1
        fy_lut = np.where(month >= 10, year + 1, year) + cal.BE_OFFSET
        q_lut = (month - 10) % 12 // 3 + 1
        idx = days - self.lo
        ok = (idx >= 0) & (idx < self.size)
        fy = np.zeros(days.size, dtype=np.int64)
        q = np.zeros(days.size, dtype=np.int64)
        fy[ok] = fy_lut[idx[ok]]
        q[ok] = q_lut[idx[ok]]
        return fy, q


def checkpoint_days(
    first: dt.date, last: dt.date, *, february: FebruaryRule = "last_day"
) -> list[dt.date]:
    """Step-2 checkpoints (the 15th and the 30th of each month) between two dates, inclusive.

    February's second checkpoint is its last day (seed 000), or its last business day with
    ``february="last_business_day"`` (seed 001). In 31-day months the window ends on the
    30th; the 31st belongs to the next window (ending on the 15th).
    """
    check_february(february)
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
