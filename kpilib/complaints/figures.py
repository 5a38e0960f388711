"""Figures from the tickets table: monthly / as-of counts (seed 001) and the charts' data.

Seed 001: "รายงานครั้งที่ 3 :: 24/12/2562 : ... ตั้งแต่วันที่ 1 ธ.ค. 2562 ถึง 24 ธ.ค. 2562 จำนวน 146
เรื่อง ดำเนินการเสร็จสิ้น 97 เรื่อง". A ticket is finished as of a day when ``finished_at`` falls
on or before it (the whole day, Bangkok time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints.days import (
    NEVER,
    bangkok_days,
    day_number,
    days_of_seconds,
    require_columns,
    to_date,
)
from kpilib.complaints.grouping import UnitIndex, codes, pct, state_basis, unit_index
from kpilib.complaints.parquet import batches, dictionary_indices, epoch_seconds, open_columns
from kpilib.complaints.rules import AGEING_BUCKETS, FINISHED_STATE, NO_TAG
from kpilib.errors import ParameterError

#: The columns of the canonical tickets table the figures and KPI 4 read.
TICKET_COLUMNS: tuple[str, ...] = (
    "ticket_id",
    "unit_code",
    "source",
    "state",
    "created_at",
    "finished_at",
    "state_is_export_time",
    "state_class",
    "closed_at",
)


@dataclass(frozen=True)
class MonthCounts:
    """One unit's complaint figures of one month: a row of :func:`monthly_figures`."""

    unit_code: str
    month: str  # YYYY-MM (Common Era)
    as_of: dt.date
    window_end: dt.date
    received: int
    finished: int
    in_progress: int
    closed: int
    finished_pct: float  # NaN when nothing was received
    in_progress_pct: float
    state_basis: str | None  # as_of, export_time, mixed; None when nothing was received


@dataclass(frozen=True)
class TicketArrays:
    """The columns of the tickets table the figures need, as numpy arrays (computed once)."""

    created: np.ndarray  # Bangkok day numbers
    finished: np.ndarray  # Bangkok day numbers, NEVER when unknown
    export_only: np.ndarray  # state known only at export time (no finished_at)
    export_finished: np.ndarray  # ... and that state is finished
    ucode: np.ndarray
    uvalues: np.ndarray
    traffy: np.ndarray  # source names Traffy
    closed: np.ndarray | None = None  # day closed without being resolved (_closed_days)
    _by_unit: tuple[tuple[str, ...], UnitIndex] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, tickets: pd.DataFrame) -> TicketArrays:
        """Decode the tickets table.

        Raises:
            SchemaError: Missing columns or naive timestamps.
        """
        require_columns(tickets, "tickets", ("unit_code", "created_at", "finished_at"))
        created = bangkok_days(tickets["created_at"], table="tickets", column="created_at")
        fin = bangkok_days(tickets["finished_at"], table="tickets", column="finished_at")
        if "state_is_export_time" in tickets.columns:
            export = tickets["state_is_export_time"].fillna(False).to_numpy(dtype=bool)
        else:
            export = np.zeros(len(tickets), dtype=bool)
        export_only = export & (fin >= NEVER)
        export_fin = export_only.copy()
        if export_only.any():
            scode, svalues = codes(tickets["state"])
            is_fin = np.array([v == FINISHED_STATE for v in svalues] + [False], dtype=bool)
            export_fin &= is_fin[scode]
        ucode, uvalues = codes(tickets["unit_code"])
        if "source" in tickets.columns:
            ccode, cvalues = codes(tickets["source"])
            is_t = np.array(["traffy" in str(v).lower() for v in cvalues] + [False], dtype=bool)
            traffy = is_t[ccode]  # code -1 (missing) picks the trailing False
        else:
            traffy = np.zeros(len(tickets), dtype=bool)
        return cls(
            created, fin, export_only, export_fin, ucode, uvalues, traffy, _closed_days(tickets)
        )

    @classmethod
    def from_parquet(cls, path: str | Path, *, batch_rows: int = 1 << 20) -> TicketArrays:
        """Read the tickets table's columns the figures need from Parquet, batch by batch.

        Units, sources and states are read dictionary-encoded; the citizens' free text and
        the other columns are not read at all.

        Raises:
            InputError: The file is missing or unreadable.
            SchemaError: A required column is missing or timestamps are naive.
        """
        required = ("unit_code", "created_at", "finished_at")
        pf = open_columns(
            path, required, dictionary=("unit_code", "source", "state", "state_class")
        )
        names = set(pf.schema_arrow.names)
        cols = [c for c in TICKET_COLUMNS if c in names and c != "ticket_id"]
        n = pf.metadata.num_rows
        created = np.empty(n, dtype=np.int32)
        finished = np.empty(n, dtype=np.int32)
        export = np.zeros(n, dtype=bool)
        export_fin = np.zeros(n, dtype=bool)
        traffy = np.zeros(n, dtype=bool)
        closed = np.full(n, NEVER, dtype=np.int32)
        ucode = np.empty(n, dtype=np.int32)
        uvalues: list[str] = []
        upos: dict[str, int] = {}
        at = 0
        for batch in batches(pf, cols, batch_rows):
            m = batch.num_rows
            part = slice(at, at + m)
            created[part] = days_of_seconds(epoch_seconds(batch.column("created_at"), path))
            finished[part] = days_of_seconds(epoch_seconds(batch.column("finished_at"), path))
            units = batch.column("unit_code")
            lut = []
            for u in units.dictionary.to_pylist():
                lut.append(upos.setdefault(str(u), len(upos)))
                if len(uvalues) < len(upos):
                    uvalues.append(str(u))
            ucode[part] = np.array([*lut, -1], dtype=np.int32)[dictionary_indices(units)]
            if "state_is_export_time" in cols:
                col = batch.column("state_is_export_time").fill_null(False)
                export[part] = np.asarray(col, dtype=bool) & (finished[part] >= NEVER)
                if export[part].any() and "state" in cols:
                    st = batch.column("state")
                    is_fin = [v == FINISHED_STATE for v in st.dictionary.to_pylist()]
                    export_fin[part] = (
                        export[part] & np.array([*is_fin, False])[dictionary_indices(st)]
                    )
            if "source" in cols:
                src = batch.column("source")
                is_t = ["traffy" in str(v).lower() for v in src.dictionary.to_pylist()]
                traffy[part] = np.array([*is_t, False])[dictionary_indices(src)]
            if "state_class" in cols and "closed_at" in cols:
                sc = batch.column("state_class")
                is_closed = [v == "closed" for v in sc.dictionary.to_pylist()]
                shut = np.array([*is_closed, False])[dictionary_indices(sc)]
                day = days_of_seconds(epoch_seconds(batch.column("closed_at"), path))
                closed[part] = np.where(shut, np.where(day >= NEVER, -NEVER, day), NEVER)
            at += m
        return cls(
            created,
            finished,
            export,
            export_fin,
            ucode,
            np.array(uvalues, dtype=object),
            traffy,
            closed,
        )

    @classmethod
    def coerce(cls, tickets: pd.DataFrame | TicketArrays) -> TicketArrays:
        """The arrays of a tickets table (decoded once; arrays pass through)."""
        return tickets if isinstance(tickets, TicketArrays) else cls.of(tickets)

    def by_unit(self, units: Sequence[str]) -> UnitIndex:
        """The rows' units mapped to ``units`` (kept for the last list asked)."""
        key = tuple(units)
        if self._by_unit is None or self._by_unit[0] != key:
            object.__setattr__(self, "_by_unit", (key, UnitIndex(self.ucode, self.uvalues, key)))
        return self._by_unit[1]

    def rows_of(self, unit_code: str) -> np.ndarray:
        """A mask of the rows of one unit."""
        hits = [i for i, v in enumerate(self.uvalues) if str(v) == str(unit_code)]
        return np.isin(self.ucode, hits)

    def present(self, mask: np.ndarray) -> np.ndarray:
        """Unit codes with at least one row in ``mask``."""
        c = np.unique(self.ucode[mask])
        return self.uvalues[c[c >= 0]]

    def year_counts(self, months: list[tuple[int, int]], units: Sequence[str]) -> pd.DataFrame:
        """The counts of several months, each as of its last day, for ``units``."""
        return _year_counts(self, months, units)

    def month_counts(
        self, month: str, as_of: dt.date | None, units: Sequence[str] | None
    ) -> pd.DataFrame:
        """:func:`monthly_figures` on the decoded table."""
        return pd.DataFrame(self._month_columns(month, as_of, units))

    def unit_month(self, month: str, as_of: dt.date | None, unit_code: str) -> MonthCounts:
        """One unit's row of :meth:`month_counts` (no table built: a report asks for up to
        twelve months of its unit)."""
        cols = self._month_columns(month, as_of, [unit_code])
        return MonthCounts(
            unit_code=str(unit_code),
            month=month,
            as_of=cols["as_of"],
            window_end=cols["window_end"],
            received=int(cols["received"][0]),
            finished=int(cols["finished"][0]),
            in_progress=int(cols["in_progress"][0]),
            closed=int(cols["closed"][0]),
            finished_pct=float(cols["finished_pct"][0]),
            in_progress_pct=float(cols["in_progress_pct"][0]),
            state_basis=cols["state_basis"].iloc[0],
        )

    def _month_columns(
        self, month: str, as_of: dt.date | None, units: Sequence[str] | None
    ) -> dict[str, Any]:
        first, last = month_bounds(month)
        as_of_d = as_of if as_of is not None else last
        if as_of_d < first:
            raise ParameterError(f"as_of {as_of_d} is before the month {month}")
        window_end = min(last, as_of_d)
        m = (self.created >= day_number(first)) & (self.created <= day_number(window_end))
        unit_list = unit_index(units, self.present(m) if units is None else None)
        by_unit = self.by_unit(unit_list)
        received = by_unit.count(m)
        fin = (self.finished <= day_number(as_of_d)) | self.export_finished
        n_fin = by_unit.count(m & fin)
        n_closed = by_unit.count(m & ~fin & self.closed_by(day_number(as_of_d)))
        n_exp = by_unit.count(m & self.export_only)
        return {
            "unit_code": unit_list,
            "month": month,
            "as_of": as_of_d,
            "window_end": window_end,
            **_count_columns(received, n_fin, n_closed, n_exp),
        }

    def closed_by(self, day: int | np.ndarray) -> np.ndarray:
        """Rows closed without being resolved on or before ``day`` (see :func:`_closed_days`)."""
        if self.closed is None:
            return np.zeros(self.created.shape, dtype=bool)
        return self.closed <= day


def _closed_days(tickets: pd.DataFrame) -> np.ndarray:
    """The day each ticket was closed without being resolved (``state_class`` closed, e.g.
    ไม่เกี่ยวข้อง), ``NEVER`` otherwise; with no closing time known, every day (as an
    export-time state is). See docs/data.md."""
    n = len(tickets)
    out = np.full(n, NEVER, dtype=np.int32)
    if "state_class" not in tickets.columns:
        return out
    shut = tickets["state_class"].to_numpy(dtype=object) == "closed"
    if not shut.any():
        return out
    if "closed_at" in tickets.columns:
        day = bangkok_days(tickets["closed_at"], table="tickets", column="closed_at")
    else:
        day = np.full(n, NEVER)
    return np.where(shut, np.where(day >= NEVER, -NEVER, day), NEVER).astype(np.int32)


def _year_counts(
    arr: TicketArrays, months: list[tuple[int, int]], units: Sequence[str]
) -> pd.DataFrame:
    """:meth:`TicketArrays.month_counts` of several months (each as of its last day) at
    once: each ticket falls in one month, so three bincounts over (unit, month) do."""
    first = np.array([day_number(dt.date(y, m, 1)) for y, m in months])
    last = np.array([day_number(cal.last_day_of_month(y, m)) for y, m in months])
    month = np.searchsorted(first, arr.created, side="right") - 1
    inside = (month >= 0) & (arr.created <= last[np.clip(month, 0, None)])
    month = np.where(inside, month, 0)
    finished = (arr.finished <= last[month]) | arr.export_finished
    closed = ~finished & arr.closed_by(last[month])
    unit_list = [str(u) for u in units]
    n, k = len(unit_list), len(months)
    key = arr.by_unit(unit_list).idx * k + month

    def count(mask: np.ndarray) -> np.ndarray:
        c = np.bincount(key, weights=mask, minlength=(n + 1) * k)
        return c.reshape(n + 1, k)[1:].T.ravel().astype(np.int64)  # month-major, as concat

    received = count(inside)
    n_fin = count(inside & finished)
    n_closed = count(inside & closed)
    n_exp = count(inside & arr.export_only)
    ends = [dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + int(d)) for d in last]
    return pd.DataFrame(
        {
            "unit_code": unit_list * k,
            "month": np.repeat([f"{y:04d}-{m:02d}" for y, m in months], n),
            "as_of": np.repeat(np.array(ends, dtype=object), n),
            "window_end": np.repeat(np.array(ends, dtype=object), n),
            **_count_columns(received, n_fin, n_closed, n_exp),
        }
    )


def _count_columns(
    received: np.ndarray, finished: np.ndarray, closed: np.ndarray, export_only: np.ndarray
) -> dict[str, Any]:
    """The count columns of :func:`monthly_figures` from its four counts per row."""
    in_prog = received - finished - closed  # closed as not relevant: not in progress
    return {
        "received": received,
        "finished": finished,
        "in_progress": in_prog,
        "closed": closed,
        "finished_pct": pct(finished, received),
        "in_progress_pct": pct(in_prog, received),
        "state_basis": pd.Series(state_basis(export_only, received), dtype=object),
    }


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYY-MM`` month (Common Era).

    Raises:
        ParameterError: For another format or a Buddhist-Era year.
    """
    try:
        y, m = (int(x) for x in str(month).split("-"))
        first = dt.date(y, m, 1)
    except ValueError:
        raise ParameterError(f"month must be YYYY-MM (Common Era), got {month!r}") from None
    if cal.BE_MIN <= y <= cal.BE_MAX:
        raise ParameterError(f"month {month!r}: {cal.era_confusion(y, expect='ce')}")
    return first, cal.last_day_of_month(y, m)


def monthly_figures(
    tickets: pd.DataFrame | TicketArrays,
    *,
    month: str,
    as_of: dt.date | str | None = None,
    units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Received / finished / in-progress figures per unit for tickets received in a month.

    Tickets received from the month's first day up to ``min(month end, as_of)`` count; a
    ticket is finished if ``finished_at`` is on or before the as-of day (the whole day); a
    ticket closed without being resolved by then (``state_class`` closed, e.g. ไม่เกี่ยวข้อง)
    is ``closed``: neither finished nor in progress (received = finished + in_progress +
    closed; docs/data.md).

    Args:
        tickets: The canonical tickets table.
        month: ``YYYY-MM`` (Common Era).
        as_of: The report's as-of date (default: the month's last day).
        units: Units to report, in order (default: every unit with tickets in the window).

    Returns:
        One row per unit: ``unit_code, month, as_of, window_end, received, finished,
        in_progress, closed, finished_pct, in_progress_pct, state_basis`` (percentages unrounded;
        ``state_basis`` is ``as_of``, ``export_time`` or ``mixed`` — see docs/complaints.md).
    """
    as_of_d = to_date(as_of, "as_of") if as_of is not None else None
    return TicketArrays.coerce(tickets).month_counts(month, as_of_d, units)


def monthly_figures_fy(
    tickets: pd.DataFrame | TicketArrays, fy: int, *, units: Sequence[str] | None = None
) -> pd.DataFrame:
    """:func:`monthly_figures` for the twelve months of a fiscal year, each as of its last day."""
    fy = cal.require_be_year(fy)
    arr = TicketArrays.coerce(tickets)
    months = cal.fiscal_months(fy)
    if units is None:  # each month lists the units with tickets in it
        return pd.concat(
            [arr.month_counts(f"{y:04d}-{m:02d}", None, None) for y, m in months],
            ignore_index=True,
        )
    return arr.year_counts(months, units)


def monthly_trend(
    tickets: pd.DataFrame | TicketArrays,
    unit_code: str,
    fy: int,
    *,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """Month-by-month figures of one unit for a fiscal year, each month as of its last day.

    Months that start after ``as_of`` are left out; the month holding ``as_of`` is cut there.
    Besides the :func:`monthly_figures` columns, ``finished_in_month`` counts tickets (of any
    month) whose ``finished_at`` falls in the month.

    Args:
        tickets: The tickets table, or its decoded :class:`TicketArrays` (any units: only
            ``unit_code``'s rows count).
    """
    fy = cal.require_be_year(fy)
    as_of_d = to_date(as_of, "as_of") if as_of is not None else cal.fiscal_year_bounds(fy)[1]
    if isinstance(tickets, TicketArrays):
        arr = tickets
    else:
        arr = TicketArrays.of(_unit_rows(tickets, unit_code))
    mine = arr.rows_of(unit_code)
    rows = []
    for y, m in cal.fiscal_months(fy):
        first = dt.date(y, m, 1)
        if first > as_of_d:
            break
        month_as_of = min(cal.last_day_of_month(y, m), as_of_d)
        rec = dataclasses.asdict(arr.unit_month(f"{y:04d}-{m:02d}", month_as_of, unit_code))
        in_month = (arr.finished >= day_number(first)) & (arr.finished <= day_number(month_as_of))
        rec["finished_in_month"] = int((in_month & mine).sum())
        rows.append(rec)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- charts' data


def _unit_rows(tickets: pd.DataFrame, unit_code: str | None) -> pd.DataFrame:
    if unit_code is None:
        return tickets
    return tickets.loc[tickets["unit_code"].astype(str) == str(unit_code)]


def _window(tk: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    if start is None and end is None:
        return tk
    created = bangkok_days(tk["created_at"], table="tickets", column="created_at")
    m = np.ones(len(tk), dtype=bool)
    if start is not None:
        m &= created >= day_number(to_date(start, "start"))
    if end is not None:
        m &= created <= day_number(to_date(end, "end"))
    return tk.loc[m]


@dataclass(frozen=True)
class TypeTags:
    """Each ticket's type tags split once (``type_tags`` is comma-separated text).

    Counting tags for a unit and a window of days is then a mask and a ``bincount``: a
    batch worker splits the tickets table once and answers every report from it.
    """

    created: np.ndarray  # Bangkok day number per ticket
    unit: np.ndarray  # unit code per ticket, as an index into ``units``
    units: dict[str, int]
    rows: np.ndarray  # the ticket (position) of each tag occurrence
    tags: np.ndarray  # the tag of each occurrence, as an index into ``names``
    names: pd.Index

    @classmethod
    def of(cls, tickets: pd.DataFrame) -> TypeTags:
        """Split the tags of a tickets table (``unit_code, created_at, type_tags``)."""
        tk = tickets.reset_index(drop=True)
        created = bangkok_days(tk["created_at"], table="tickets", column="created_at")
        ucodes, uvalues = pd.factorize(tk["unit_code"].astype(str))
        tags = tk["type_tags"].fillna("").astype(str).str.split(",").explode().str.strip()
        tags = tags.mask(tags == "", NO_TAG)
        tcodes, names = pd.factorize(tags)
        return cls(
            created=created,
            unit=ucodes,
            units={str(u): i for i, u in enumerate(uvalues)},
            rows=tags.index.to_numpy(dtype=np.int64),
            tags=tcodes,
            names=names,
        )

    def _mask(self, unit_code: str | None, start: Any, end: Any) -> np.ndarray:
        m = np.ones(len(self.created), dtype=bool)
        if unit_code is not None:
            m &= self.unit == self.units.get(str(unit_code), -1)
        if start is not None:
            m &= self.created >= day_number(to_date(start, "start"))
        if end is not None:
            m &= self.created <= day_number(to_date(end, "end"))
        return m

    def tickets(self, *, unit_code: str | None = None, start: Any = None, end: Any = None) -> int:
        """Tickets of the unit (every unit: None) received from ``start`` to ``end``."""
        return int(self._mask(unit_code, start, end).sum())

    def counts(
        self, *, unit_code: str | None = None, start: Any = None, end: Any = None
    ) -> pd.DataFrame:
        """:func:`complaints_by_type` of the unit (every unit: None) and window."""
        m = self._mask(unit_code, start, end)
        per_tag = np.bincount(self.tags[m[self.rows]], minlength=len(self.names))
        present = np.flatnonzero(per_tag)
        out = pd.DataFrame(
            {"type_tag": self.names.take(present), "received": per_tag[present].astype(np.int64)}
        )
        out["share_pct"] = pct(out["received"].to_numpy(), np.full(len(out), int(m.sum())))
        return out.sort_values(["received", "type_tag"], ascending=[False, True], ignore_index=True)


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
    return TypeTags.of(_unit_rows(tickets, unit_code)).counts(start=start, end=end)


def backlog_ageing(
    tickets: pd.DataFrame | TicketArrays,
    *,
    as_of: dt.date | str,
    unit_code: str | None = None,
) -> pd.DataFrame:
    """Open tickets as of a day by age (days since received): 0–7, 8–14, 15–30, 31+.

    Args:
        tickets: The tickets table, or its decoded :class:`TicketArrays`.
        as_of: The day.
        unit_code: Only this unit's tickets (every unit: None).

    Returns:
        ``bucket, open, state_basis`` in bucket order.
    """
    a = day_number(to_date(as_of, "as_of"))
    arr = tickets if isinstance(tickets, TicketArrays) else TicketArrays.of(tickets)
    m = arr.created <= a
    if unit_code is not None:
        m &= arr.rows_of(unit_code)
    open_ = m & ~((arr.finished <= a) | arr.export_finished | arr.closed_by(a))
    age = a - arr.created[open_]
    counts = []
    for lo, hi, _ in AGEING_BUCKETS:
        sel = age >= lo if hi is None else (age >= lo) & (age <= hi)
        counts.append(int(sel.sum()))
    basis = state_basis(
        np.array([int(arr.export_only[open_].sum())]), np.array([int(open_.sum())])
    )[0]
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
