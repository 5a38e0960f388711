"""The Thai fiscal calendar: fiscal years and quarters in the Buddhist Era, Thai dates,
business days (วันทำการ) and the Asia/Bangkok time zone.

Facts (see ``docs/calendar.md``):

* The fiscal year (ปีงบประมาณ) runs 1 October – 30 September and is named in the Buddhist
  Era (พ.ศ. = CE + 543) of the year it ends: FY 2563 = 2019-10-01 .. 2020-09-30.
  Q1 = Oct–Dec, Q2 = Jan–Mar, Q3 = Apr–Jun, Q4 = Jul–Sep.
* A business day is Monday–Friday except the Thai holidays that government offices
  observe: the ``public`` and ``government`` categories of the ``holidays`` package
  (``bank`` and ``armed_forces`` days are not closures of BMA offices), plus the extra
  days listed in ``params/holidays.yaml`` (cabinet-announced days) and minus the days
  listed there as ``workdays`` (a holiday cancelled by the cabinet).
* Every function that takes a fiscal year takes it in the Buddhist Era and refuses a
  Common-Era year with a message naming both readings: never a silent 543-year error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from kpilib.errors import CalendarError, ConfigError

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543

#: Plausible range for a Buddhist-Era fiscal year (CE 1957 .. 2157).
BE_MIN, BE_MAX = 2500, 2700
#: Plausible range for a Common-Era year.
CE_MIN, CE_MAX = 1957, 2157

#: Common-Era years the default business calendar covers (its holidays are known).
CALENDAR_YEARS: tuple[int, int] = (2015, 2030)

HOLIDAY_CATEGORIES: tuple[str, ...] = ("public", "government")

MONTHS_SHORT = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
MONTHS_LONG = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
_THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_TO_THAI = str.maketrans("0123456789", _THAI_DIGITS)
_FROM_THAI = str.maketrans(_THAI_DIGITS, "0123456789")

DateLike = dt.date | dt.datetime | pd.Timestamp | np.datetime64 | str


# --------------------------------------------------------------------------- eras


def be_to_ce(year_be: int) -> int:
    """Convert a Buddhist-Era year to the Common Era (2567 -> 2024)."""
    return int(year_be) - BE_OFFSET


def ce_to_be(year_ce: int) -> int:
    """Convert a Common-Era year to the Buddhist Era (2024 -> 2567)."""
    return int(year_ce) + BE_OFFSET


def _as_int_year(year: Any, what: str) -> int:
    if isinstance(year, bool):
        raise CalendarError(f"{what} must be a year, got {year!r}")
    if isinstance(year, int):
        return year
    text = from_thai_digits(str(year)).strip()
    if not re.fullmatch(r"\d{4}", text):
        raise CalendarError(f"{what} must be a 4-digit year, got {year!r}")
    return int(text)


def require_be_year(year: int | str, *, what: str = "fiscal year") -> int:
    """Return ``year`` as an int if it is a plausible Buddhist-Era year.

    Args:
        year: The year, as an int or a string (Thai digits accepted).
        what: A name for the value, used in the error message.

    Raises:
        CalendarError: If the year looks like a Common-Era year (the message names the
            Buddhist-Era year it probably means) or is outside 2500–2700.
    """
    value = _as_int_year(year, what)
    if CE_MIN <= value <= CE_MAX:
        raise CalendarError(
            f"{what} {value} looks like a Common-Era year; fiscal years are named in the "
            f"Buddhist Era: did you mean {ce_to_be(value)}?"
        )
    if not BE_MIN <= value <= BE_MAX:
        raise CalendarError(f"{what} {value} is not a plausible Buddhist-Era year (2500-2700)")
    return value


def supported_fiscal_years() -> tuple[int, int]:
    """First and last Buddhist-Era fiscal year the default business calendar covers entirely.

    A fiscal year BE ``y`` runs from 1 October CE ``y - 544`` to 30 September CE ``y - 543``.
    """
    first, last = CALENDAR_YEARS
    return first + BE_OFFSET + 1, last + BE_OFFSET


def require_supported_fy(year: int | str, *, what: str = "fiscal year (--fy)") -> int:
    """:func:`require_be_year`, and the year must lie in the business calendar's range.

    Raises:
        CalendarError: A CE year, an implausible year, or one the calendar does not cover.
    """
    value = require_be_year(year, what=what)
    first, last = supported_fiscal_years()
    if not first <= value <= last:
        raise CalendarError(
            f"{what} {value} is outside the fiscal years the business calendar covers "
            f"({first}-{last}: holidays are known for CE {CALENDAR_YEARS[0]}-{CALENDAR_YEARS[1]})"
        )
    return value


def require_quarter(quarter: int | str) -> int:
    """Return ``quarter`` as an int in 1..4, or raise CalendarError."""
    text = from_thai_digits(str(quarter)).strip()
    if not re.fullmatch(r"[1-4]", text):
        raise CalendarError(f"quarter must be 1, 2, 3 or 4, got {quarter!r}")
    return int(text)


def era_confusion(year: int, *, expect: Literal["ce", "be"]) -> str | None:
    """Describe a 543-year era confusion, or return None when ``year`` fits ``expect``.

    Args:
        year: The year found in the data.
        expect: The era the field should hold.

    Returns:
        A message such as "year 2567 looks like Buddhist Era; 2567 - 543 = 2024", or None.
    """
    if expect == "ce" and BE_MIN <= year <= BE_MAX:
        return f"year {year} looks like Buddhist Era in a Common-Era field; {year} - 543 = {year - 543}"
    if expect == "be" and CE_MIN <= year <= CE_MAX:
        return f"year {year} looks like Common Era in a Buddhist-Era field; {year} + 543 = {year + 543}"
    return None


# --------------------------------------------------------------------------- dates


def _to_date(value: DateLike) -> dt.date:
    if isinstance(value, pd.Timestamp):
        if value is pd.NaT:
            raise CalendarError("date is missing (NaT)")
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, str):
        return parse_thai_date(value)
    raise CalendarError(f"not a date: {value!r}")


def fiscal_year(date: DateLike) -> int:
    """Return the Buddhist-Era fiscal year of a date (2019-10-01 -> 2563)."""
    d = _to_date(date)
    return ce_to_be(d.year + 1 if d.month >= 10 else d.year)


def quarter_of(date: DateLike) -> int:
    """Return the fiscal quarter (1–4) of a date; Q1 = October–December."""
    d = _to_date(date)
    return (d.month - 10) % 12 // 3 + 1


def fiscal_quarter(date: DateLike) -> tuple[int, int]:
    """Return ``(fiscal year BE, quarter)`` of a date."""
    return fiscal_year(date), quarter_of(date)


def fiscal_year_bounds(fy: int | str) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a fiscal year (BE): 2563 -> 2019-10-01, 2020-09-30."""
    year = require_be_year(fy)
    end_ce = be_to_ce(year)
    return dt.date(end_ce - 1, 10, 1), dt.date(end_ce, 9, 30)


def quarter_months(fy: int | str, quarter: int | str) -> list[tuple[int, int]]:
    """Return the ``(CE year, month)`` pairs of a fiscal quarter."""
    year = require_be_year(fy)
    q = require_quarter(quarter)
    start_ce = be_to_ce(year) - 1
    out = []
    for i in range(3):
        m = 10 + (q - 1) * 3 + i
        out.append((start_ce + (m - 1) // 12, (m - 1) % 12 + 1))
    return out


def quarter_bounds(fy: int | str, quarter: int | str) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a fiscal quarter (inclusive)."""
    months = quarter_months(fy, quarter)
    (y0, m0), (y1, m1) = months[0], months[-1]
    return dt.date(y0, m0, 1), last_day_of_month(y1, m1)


def fiscal_months(fy: int | str) -> list[tuple[int, int]]:
    """Return the twelve ``(CE year, month)`` pairs of a fiscal year, October first."""
    return [m for q in range(1, 5) for m in quarter_months(fy, q)]


def last_day_of_month(year: int, month: int) -> dt.date:
    """Return the last calendar day of a month (CE year)."""
    return (pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)).date()


def require_month(month: int | str) -> int:
    """Return a calendar month 1–12 from a number (Thai digits too) or a Thai month name.

    ``10``, ``๑๐``, ``ต.ค.``, ``ตค`` and ``ตุลาคม`` all give 10 (October). A number is the
    calendar month, not the month's place in the fiscal year (``1`` is January).

    Raises:
        CalendarError: Anything else.
    """
    text = from_thai_digits(str(month)).strip()
    if re.fullmatch(r"0?[1-9]|1[0-2]", text):
        return int(text)
    found = _MONTH_LOOKUP.get(text) or _MONTH_LOOKUP.get(text.replace(".", ""))
    if found is None:
        raise CalendarError(
            f"month must be 1-12 (calendar month) or a Thai month such as ต.ค., got {month!r}"
        )
    return found


def fiscal_month_number(month: int) -> int:
    """The month's place in the fiscal year (October = 1 … September = 12)."""
    return (month - 10) % 12 + 1


def fiscal_month(fy: int | str, month: int | str) -> tuple[int, int]:
    """The ``(CE year, month)`` of a calendar month within a fiscal year (BE).

    ``fiscal_month(2563, 10)`` is October 2019; ``fiscal_month(2563, 1)`` January 2020.
    """
    m = require_month(month)
    return fiscal_months(fy)[fiscal_month_number(m) - 1]


def month_bounds(fy: int | str, month: int | str) -> tuple[dt.date, dt.date]:
    """The first and last day of a calendar month within a fiscal year (BE)."""
    year, m = fiscal_month(fy, month)
    return dt.date(year, m, 1), last_day_of_month(year, m)


# --------------------------------------------------------------------------- Thai text


def to_thai_digits(text: Any) -> str:
    """Replace Arabic digits with Thai digits ("2567" -> "๒๕๖๗")."""
    return str(text).translate(_TO_THAI)


def from_thai_digits(text: Any) -> str:
    """Replace Thai digits with Arabic digits ("๒๕๖๗" -> "2567")."""
    return str(text).translate(_FROM_THAI)


def format_thai_date(
    date: DateLike,
    *,
    style: Literal["numeric", "short", "long"] = "numeric",
    thai_digits: bool = False,
) -> str:
    """Format a date the Thai way, with the year in the Buddhist Era.

    Args:
        date: The date.
        style: ``numeric`` (28/10/2562), ``short`` (1 ต.ค. 2562) or ``long`` (1 ตุลาคม 2562).
        thai_digits: Use Thai digits (๒๘/๑๐/๒๕๖๒).
    """
    d = _to_date(date)
    year = ce_to_be(d.year)
    if style == "numeric":
        text = f"{d.day}/{d.month}/{year}"
    elif style == "short":
        text = f"{d.day} {MONTHS_SHORT[d.month - 1]} {year}"
    elif style == "long":
        text = f"{d.day} {MONTHS_LONG[d.month - 1]} {year}"
    else:
        raise CalendarError(f"unknown Thai date style {style!r}: numeric, short or long")
    return to_thai_digits(text) if thai_digits else text


def format_thai_month(year: int, month: int, *, long: bool = True) -> str:
    """Format a month as "ตุลาคม 2562" (or "ต.ค. 2562" with ``long=False``); year in CE."""
    names = MONTHS_LONG if long else MONTHS_SHORT
    return f"{names[month - 1]} {ce_to_be(year)}"


_MONTH_LOOKUP: dict[str, int] = {}
for _i, (_s, _l) in enumerate(zip(MONTHS_SHORT, MONTHS_LONG, strict=True), start=1):
    _MONTH_LOOKUP[_s] = _i
    _MONTH_LOOKUP[_s.replace(".", "")] = _i
    _MONTH_LOOKUP[_l] = _i

_NUMERIC = re.compile(r"^(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WORDS = re.compile(r"^(\d{1,2})\s*([^\d\s]+?)\s*(\d{4})$")


def _year_from_text(year: int, text: str, *, assume: str) -> int:
    """Turn a written year into CE: Thai-written dates carry BE years."""
    if BE_MIN <= year <= BE_MAX:
        return be_to_ce(year)
    if assume == "be":
        raise CalendarError(
            f"{text!r}: year {year} is not a Buddhist-Era year; Thai dates are written "
            f"in พ.ศ. (did you mean {ce_to_be(year)}?)"
        )
    return year


def parse_thai_date(text: str, *, assume_era: Literal["be", "any"] = "be") -> dt.date:
    """Parse a Thai or ISO date.

    Accepted: ``28/10/2562``, ``1 ต.ค. 2562``, ``1 ตค 2562``, ``1 ตุลาคม 2562``, the same
    with Thai digits, and ISO ``2019-10-28`` (an ISO date is Common Era).

    Args:
        text: The date text.
        assume_era: ``be`` (default): a Thai-written date must carry a Buddhist-Era year
            and a CE year is refused; ``any``: a CE year in a Thai-written date is accepted.

    Raises:
        CalendarError: If the text is not a date or the year is in the wrong era.
    """
    raw = text
    s = " ".join(from_thai_digits(str(text)).strip().split())
    try:
        m = _ISO.match(s)
        if m:
            year = int(m.group(1))
            if BE_MIN <= year <= BE_MAX:
                raise CalendarError(
                    f"{raw!r}: {era_confusion(year, expect='ce')}; ISO dates are Common Era"
                )
            return dt.date(year, int(m.group(2)), int(m.group(3)))
        m = _NUMERIC.match(s)
        if m:
            year = _year_from_text(int(m.group(3)), raw, assume=assume_era)
            return dt.date(year, int(m.group(2)), int(m.group(1)))
        m = _WORDS.match(s)
        if m:
            month = _MONTH_LOOKUP.get(m.group(2)) or _MONTH_LOOKUP.get(m.group(2).replace(".", ""))
            if month is None:
                raise CalendarError(f"{raw!r}: unknown Thai month {m.group(2)!r}")
            year = _year_from_text(int(m.group(3)), raw, assume=assume_era)
            return dt.date(year, month, int(m.group(1)))
    except CalendarError:
        raise
    except ValueError as exc:  # e.g. 31/2/2563
        raise CalendarError(f"{raw!r} is not a valid date: {exc}") from None
    raise CalendarError(
        f"{raw!r} is not a date in a known form (28/10/2562, 1 ต.ค. 2562, 1 ตุลาคม 2562, 2019-10-28)"
    )


# --------------------------------------------------------------------------- time zone


def to_bangkok(value: Any, *, assume_tz: str | dt.tzinfo | None = None) -> Any:
    """Convert a timestamp (or a pandas Series/DatetimeIndex of them) to Asia/Bangkok.

    Args:
        value: A ``datetime``, ``pd.Timestamp``, ``pd.Series`` or ``pd.DatetimeIndex``.
        assume_tz: The zone that naive values are in (e.g. ``"UTC"`` for Traffy's ``+00``
            dumps). Without it, naive values are refused: a naive time is ambiguous by 7 hours.

    Raises:
        CalendarError: If a value is naive and ``assume_tz`` is not given.
    """
    if isinstance(value, pd.Series):
        ser = value if isinstance(value.dtype, pd.DatetimeTZDtype) else pd.to_datetime(value)
        if ser.dt.tz is None:
            if assume_tz is None:
                raise CalendarError(
                    "naive timestamps: pass assume_tz= to say which zone they are in"
                )
            ser = ser.dt.tz_localize(assume_tz)
        return ser.dt.tz_convert(BANGKOK)
    if isinstance(value, pd.DatetimeIndex):
        idx = value
        if idx.tz is None:
            if assume_tz is None:
                raise CalendarError(
                    "naive timestamps: pass assume_tz= to say which zone they are in"
                )
            idx = idx.tz_localize(assume_tz)
        return idx.tz_convert(BANGKOK)
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        if assume_tz is None:
            raise CalendarError(
                f"naive timestamp {value!r}: pass assume_tz= to say which zone it is in"
            )
        ts = ts.tz_localize(assume_tz)
    return ts.tz_convert(BANGKOK)


# --------------------------------------------------------------------------- business days


class _HolidayExtras:
    """The cabinet-announced extra holidays and cancelled holidays from params."""

    def __init__(self, holidays: dict[dt.date, str], workdays: dict[dt.date, str]) -> None:
        self.holidays = holidays
        self.workdays = workdays


def load_holiday_extras(path: str | Path | None = None) -> _HolidayExtras:
    """Read ``params/holidays.yaml``: extra holidays and cancelled ones (``workdays``).

    The file holds two optional mappings, ``holidays`` and ``workdays``, each from an ISO
    date to a Thai description. Unknown keys are errors.

    Raises:
        ConfigError: If the file is malformed (naming the file and the field).
    """
    import yaml

    from kpilib.paths import params_dir

    p = Path(path) if path is not None else params_dir() / "holidays.yaml"
    if not p.exists():
        return _HolidayExtras({}, {})
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=p) from None
    if not isinstance(doc, dict):
        raise ConfigError("expected a mapping with 'holidays' and 'workdays'", file=p)
    unknown = set(doc) - {"holidays", "workdays"}
    if unknown:
        raise ConfigError(f"unknown key(s) {sorted(unknown)}", file=p, field=sorted(unknown)[0])
    out: dict[str, dict[dt.date, str]] = {}
    for key in ("holidays", "workdays"):
        section = doc.get(key) or {}
        if not isinstance(section, dict):
            raise ConfigError("expected a mapping of ISO date: description", file=p, field=key)
        parsed: dict[dt.date, str] = {}
        for k, v in section.items():
            try:
                d = k if isinstance(k, dt.date) else dt.date.fromisoformat(str(k))
            except ValueError:
                raise ConfigError(f"{k!r} is not an ISO date", file=p, field=f"{key}.{k}") from None
            parsed[d] = str(v)
        out[key] = parsed
    return _HolidayExtras(out["holidays"], out["workdays"])


@dataclass(frozen=True)
class BusinessCalendar:
    """Monday–Friday minus a set of holidays, with scalar and vectorised operations.

    Build it with :func:`business_calendar` (cached) rather than directly.

    Attributes:
        holidays: Holiday dates mapped to their names.
        first_year: First CE year covered.
        last_year: Last CE year covered.
    """

    holidays: dict[dt.date, str]
    first_year: int
    last_year: int
    _np: np.busdaycalendar = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        days = np.array(sorted(self.holidays), dtype="datetime64[D]")
        object.__setattr__(self, "_np", np.busdaycalendar(weekmask="1111100", holidays=days))

    # -- scalar ------------------------------------------------------------------------
    def _check_range(self, d: dt.date) -> None:
        if not self.first_year <= d.year <= self.last_year:
            raise CalendarError(
                f"{d.isoformat()} is outside the business calendar "
                f"({self.first_year}-{self.last_year}); build it with years covering the date"
            )

    def is_business_day(self, date: DateLike) -> bool:
        """True if the date is a Monday–Friday that is not a holiday."""
        d = _to_date(date)
        self._check_range(d)
        return bool(np.is_busday(np.datetime64(d, "D"), busdaycal=self._np))

    def holiday_name(self, date: DateLike) -> str | None:
        """The holiday's name on that date, or None."""
        return self.holidays.get(_to_date(date))

    def add_business_days(self, date: DateLike, n: int) -> dt.date:
        """Return the n-th business day counted from the day after ``date``.

        ``add_business_days(Fri 2019-12-06, 1)`` is Mon 2019-12-09. ``n = 0`` returns the
        date itself if it is a business day, else the next business day.
        """
        d = _to_date(date)
        self._check_range(d)
        if n < 0:
            raise CalendarError("n must be >= 0")
        res = np.busday_offset(np.datetime64(d, "D"), n, roll="forward", busdaycal=self._np)
        if n > 0 and not self.is_business_day(d):
            # counted from the day after: a non-business start day does not itself count
            res = np.busday_offset(np.datetime64(d, "D"), n - 1, roll="forward", busdaycal=self._np)
        return pd.Timestamp(res).date()

    def business_days_between(self, start: DateLike, end: DateLike) -> int:
        """Count business days in ``(start, end]``: after ``start``, up to and including ``end``.

        Negative when ``end`` is before ``start`` (the count of ``(end, start]``, negated).
        """
        s, e = _to_date(start), _to_date(end)
        self._check_range(s)
        self._check_range(e)
        s1 = np.datetime64(s, "D") + 1
        e1 = np.datetime64(e, "D") + 1
        return int(np.busday_count(s1, e1, busdaycal=self._np))

    def last_day_of_month(self, year: int, month: int) -> dt.date:
        """The month's last calendar day (CE year)."""
        return last_day_of_month(year, month)

    def last_business_day_of_month(self, year: int, month: int) -> dt.date:
        """The month's last business day (CE year)."""
        last = np.datetime64(last_day_of_month(year, month), "D")
        return pd.Timestamp(np.busday_offset(last, 0, roll="backward", busdaycal=self._np)).date()

    # -- vectorised --------------------------------------------------------------------
    @staticmethod
    def _days(values: Any) -> np.ndarray:
        """Turn dates/timestamps (Series, Index, arrays, lists) into datetime64[D].

        Tz-aware values are taken in their own zone's wall time (convert to Bangkok first).
        NaT stays NaT.
        """
        if isinstance(values, pd.Series | pd.Index):
            s = pd.Series(values)
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                s = s.dt.tz_localize(None)
            elif not pd.api.types.is_datetime64_any_dtype(s.dtype):
                s = pd.to_datetime(s)
            return s.to_numpy(dtype="datetime64[D]")
        arr = np.asarray(values)
        if arr.dtype.kind == "M":
            return arr.astype("datetime64[D]")
        return pd.to_datetime(pd.Series(arr)).to_numpy(dtype="datetime64[D]")

    def _check_range_array(self, days: np.ndarray) -> None:
        valid = days[~np.isnat(days)]
        if valid.size == 0:
            return
        lo, hi = valid.min(), valid.max()
        lo_y = int(str(lo)[:4])
        hi_y = int(str(hi)[:4])
        if lo_y < self.first_year or hi_y > self.last_year:
            raise CalendarError(
                f"dates {lo}..{hi} are outside the business calendar "
                f"({self.first_year}-{self.last_year})"
            )

    def is_business_day_array(self, dates: Any) -> np.ndarray:
        """Vectorised :meth:`is_business_day`; NaT gives False."""
        days = self._days(dates)
        self._check_range_array(days)
        nat = np.isnat(days)
        out = np.zeros(days.shape, dtype=bool)
        out[~nat] = np.is_busday(days[~nat], busdaycal=self._np)
        return out

    def add_business_days_array(self, dates: Any, n: int | np.ndarray) -> np.ndarray:
        """Vectorised :meth:`add_business_days`; returns datetime64[D], NaT where input is NaT."""
        days = self._days(dates)
        self._check_range_array(days)
        n_arr = np.broadcast_to(np.asarray(n, dtype=np.int64), days.shape)
        if (n_arr < 0).any():
            raise CalendarError("n must be >= 0")
        nat = np.isnat(days)
        out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
        d = days[~nat]
        k = n_arr[~nat]
        start_is_bd = np.is_busday(d, busdaycal=self._np)
        k_eff = np.where((k > 0) & ~start_is_bd, k - 1, k)
        out[~nat] = np.busday_offset(d, k_eff, roll="forward", busdaycal=self._np)
        return out

    def business_days_between_array(self, start: Any, end: Any) -> np.ndarray:
        """Vectorised :meth:`business_days_between`; returns float64 with NaN where NaT."""
        s = self._days(start)
        e = self._days(end)
        self._check_range_array(s)
        self._check_range_array(e)
        nat = np.isnat(s) | np.isnat(e)
        out = np.full(s.shape, np.nan)
        out[~nat] = np.busday_count(s[~nat] + 1, e[~nat] + 1, busdaycal=self._np)
        return out


def thai_holidays(
    years: Iterable[int], *, extras_path: str | Path | None = None
) -> dict[dt.date, str]:
    """Thai holidays observed by government offices for the given CE years.

    The ``public`` and ``government`` categories of the ``holidays`` package, plus the
    extra days in ``params/holidays.yaml`` and minus its ``workdays``.
    """
    import holidays as pyholidays

    years = sorted(set(years))
    base = pyholidays.Thailand(years=years, categories=HOLIDAY_CATEGORIES, language="th")
    out: dict[dt.date, str] = {d: str(name) for d, name in base.items()}
    extras = load_holiday_extras(extras_path)
    for d, name in extras.holidays.items():
        if d.year in years:
            out[d] = name
    for d in extras.workdays:
        out.pop(d, None)
    return out


@lru_cache(maxsize=8)
def _cached_calendar(first_year: int, last_year: int, extras_path: str | None) -> BusinessCalendar:
    days = thai_holidays(range(first_year, last_year + 1), extras_path=extras_path)
    return BusinessCalendar(holidays=days, first_year=first_year, last_year=last_year)


def business_calendar(
    *,
    first_year: int = CALENDAR_YEARS[0],
    last_year: int = CALENDAR_YEARS[1],
    extras_path: str | Path | None = None,
) -> BusinessCalendar:
    """Return the (cached) Thai government business calendar for CE years in a range.

    Args:
        first_year: First CE year covered (default 2015).
        last_year: Last CE year covered (default 2030).
        extras_path: The cabinet-days file (default ``params/holidays.yaml``).
    """
    if first_year > last_year:
        raise CalendarError("first_year must not be after last_year")
    return _cached_calendar(first_year, last_year, str(extras_path) if extras_path else None)
