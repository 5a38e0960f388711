"""Steps 1 and 2 per ticket (:func:`evaluate_compliance`), as a pipeline of named stages.

Each stage is a small function taking and returning typed arrays:

1. :meth:`EventLog.from_frame` — decode the events (ticket numbers, kinds, days, seconds);
2. :func:`place_tickets` — the day, second and unit of each ticket's receipt;
3. :func:`select_window` — the cut-off and the tickets received in the window;
4. :func:`evaluate_step1` — acceptance and first progress report against their deadlines;
5. :func:`track_states` — finished / reopened: open periods, finished as of a day;
6. :func:`evaluate_step2` — the checkpoints each ticket needed and missed;
7. :class:`ComplianceResult` — the flags, with the audit tables built on first use.

The rules and every reading of the seeds are in ``docs/complaints.md``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints import step2 as s2
from kpilib.complaints.days import (
    EPOCH,
    NEVER,
    DayTable,
    as_dates,
    bangkok_days,
    checkpoint_days,
    day_number,
    require_columns,
    to_date,
)
from kpilib.complaints.events import EventLog, Events
from kpilib.complaints.rules import (
    ACCEPT_BUSINESS_DAYS,
    ACCEPTED,
    FINISHED,
    FIRST_PROGRESS_BUSINESS_DAYS,
    FORWARDED,
    PROGRESS,
    REOPENED,
    FebruaryRule,
    check_february,
)
from kpilib.errors import SchemaError

_MIN_PLAUSIBLE_DAY = day_number(dt.date(1990, 1, 1))
_NO_SEC = np.iinfo(np.int64).min
_MAX_SEC = np.iinfo(np.int64).max


def _order_by(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices sorting by group, then value (stable; no sort when already in order)."""
    if group.size == 0:
        return np.zeros(0, dtype=np.int64)
    g = group.astype(np.int64)
    v = value.astype(np.int64)
    vmin = int(v.min())
    rng = int(v.max()) - vmin + 1
    if rng * (int(g.max()) + 1) < 2**62:
        key = g * rng + (v - vmin)
        if (key[1:] >= key[:-1]).all():
            return np.arange(key.size)
        return np.argsort(key, kind="stable")
    return np.lexsort((v, g))


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
    gkey = sorted_group.astype(np.int64) * rng + (sorted_sec - lo)
    qkey = group.astype(np.int64) * rng + (sec - lo)
    pos = np.searchsorted(gkey, qkey, side="right")
    ok = pos < gkey.size
    ok[ok] = sorted_group[pos[ok]] == group[ok]
    out[ok] = pos[ok]
    return out


# --------------------------------------------------------------------------- stage 2


@dataclass(frozen=True)
class Placement:
    """Where and when each ticket (by ticket number) was received.

    Attributes:
        received: Day of the first ``forwarded`` event (or the ticket's ``created_at``); NEVER
            when neither exists.
        received_sec: Second of that event (midnight Bangkok for ``created_at``).
        unit: Index into ``unit_values`` (-1 when unplaced).
        unit_values: Unit codes.
        forwarded: True when the first ``forwarded`` event placed the ticket.
        unplaced: Tickets that could not be placed, with a ``reason``.
    """

    received: np.ndarray
    received_sec: np.ndarray
    unit: np.ndarray
    unit_values: list[str]
    forwarded: np.ndarray
    unplaced: pd.DataFrame


def place_tickets(log: EventLog, tickets: pd.DataFrame | None) -> Placement:
    """Receipt of each ticket: its first ``forwarded`` event (by time), else ``created_at``."""
    n = log.n_tickets
    fw = log.of_kind(FORWARDED)
    first_sec = np.full(n, _MAX_SEC, dtype=np.int64)
    np.minimum.at(first_sec, fw.ticket, fw.sec)
    is_first = np.flatnonzero(fw.sec == first_sec[fw.ticket])
    first = np.full(n, _MAX_SEC, dtype=np.int64)
    np.minimum.at(first, fw.ticket[is_first], is_first)  # the earliest row among ties
    has_fw = first < _MAX_SEC
    entries = first[has_fw]
    received = np.full(n, NEVER, dtype=np.int32)
    received[has_fw] = fw.day[entries]
    received_sec = np.where(has_fw, first_sec, _NO_SEC)
    unit = np.full(n, -1, dtype=np.int32)
    unit[has_fw] = log.forwarded_units[entries]
    unit_values = list(log.unit_values)

    ids: list[Any] = []
    if not has_fw.all():
        missing = np.flatnonzero(~has_fw)
        if tickets is not None and len(tickets):
            tk = tickets.set_index(tickets["ticket_id"].astype(str))
            want = pd.Index([str(x) for x in np.asarray(log.ids.make(missing), dtype=object)])
            found = want.isin(tk.index)
            if found.any():
                sub = tk.loc[want[found]]
                idx = missing[found]
                received[idx] = bangkok_days(
                    sub["created_at"], table="tickets", column="created_at"
                )
                received_sec[idx] = received[idx] * 86400 - 7 * 3600
                sub_units = sub["unit_code"].astype(str).to_numpy()
                pos = {u: i for i, u in enumerate(unit_values)}
                for u in sub_units:
                    if u not in pos:
                        pos[u] = len(unit_values)
                        unit_values.append(u)
                unit[idx] = [pos[u] for u in sub_units]
        still = np.flatnonzero(received >= NEVER)
        ids = np.asarray(log.ids.make(still), dtype=object).tolist()
    unplaced = pd.DataFrame(
        {"ticket_id": ids, "reason": ["no forwarded event and no created_at in tickets"] * len(ids)}
    )
    return Placement(received, received_sec, unit, unit_values, has_fw, unplaced)


# --------------------------------------------------------------------------- stage 3


@dataclass(frozen=True)
class Window:
    """The evaluation window: the cut-off and the tickets received in it.

    Attributes:
        cutoff: The as-of day (a date).
        cut: Its day number.
        tickets: Ticket numbers received from the window's start to the cut-off, ascending.
        position: Per ticket number, its position in ``tickets`` (-1 outside the window).
        last_day: The last day of any event (or the cut-off, whichever is later).
        everything: True when every ticket number is evaluated (positions = numbers).
    """

    cutoff: dt.date
    cut: int
    tickets: np.ndarray
    position: np.ndarray
    last_day: int
    everything: bool


def select_window(log: EventLog, placed: Placement, *, fy: int | None, as_of: Any) -> Window:
    """The cut-off (as_of, at most the fiscal year's end) and the tickets received by then.

    Raises:
        SchemaError: If an event is dated before 1990 (not plausible).
    """
    bounds = cal.fiscal_year_bounds(fy) if fy is not None else None
    span = log.day_range()
    if span is not None and span[0] < _MIN_PLAUSIBLE_DAY:
        raise SchemaError(
            "event timestamps before 1990 are not plausible", file="events", column="timestamp"
        )
    max_day = span[1] if span is not None else day_number(dt.date.today())
    if as_of is not None:
        cutoff = to_date(as_of, "as_of")
        if bounds is not None:
            cutoff = min(cutoff, bounds[1])
    elif bounds is not None:
        cutoff = bounds[1]
    else:
        cutoff = EPOCH + dt.timedelta(days=max_day)
    cut = day_number(cutoff)
    lo = day_number(bounds[0]) if bounds is not None else -(10**8)
    sel = np.flatnonzero((placed.received >= lo) & (placed.received <= cut))
    position = np.full(log.n_tickets, -1, dtype=np.int32)
    position[sel] = np.arange(sel.size, dtype=np.int32)
    everything = sel.size == log.n_tickets
    return Window(cutoff, cut, sel, position, max(max_day, cut), everything)


# --------------------------------------------------------------------------- stage 4


@dataclass(frozen=True)
class Step1:
    """Step 1 per evaluated ticket (day numbers, NEVER = none)."""

    accept_due: np.ndarray
    accepted: np.ndarray
    progress_due: np.ndarray
    first_progress: np.ndarray
    fail_on: np.ndarray  # the deadline missed first, NEVER if none


@dataclass(frozen=True)
class _Picked:
    """Events of one kind whose ticket is evaluated: their tickets' positions, and a filter
    for the events' other arrays (None when every ticket is evaluated)."""

    pos: np.ndarray
    keep: np.ndarray | None

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return a if self.keep is None else a[self.keep]


def _pick(log: EventLog, window: Window, kind: int) -> tuple[Events, _Picked]:
    ev = log.of_kind(kind)
    if window.everything:
        return ev, _Picked(ev.ticket, None)
    pos = window.position[ev.ticket]
    keep = pos >= 0
    return ev, _Picked(pos[keep], keep)


def _first_day(log: EventLog, window: Window, kinds: tuple[int, ...]) -> np.ndarray:
    out = np.full(window.tickets.size, NEVER, dtype=np.int32)
    for k in kinds:
        ev, p = _pick(log, window, k)
        np.minimum.at(out, p.pos, p(ev.day))  # int32 both: numpy's fast loop
    return out


def evaluate_step1(log: EventLog, received: np.ndarray, window: Window, days: DayTable) -> Step1:
    """Accepted within 1 business day, first progress report within 3 after acceptance."""
    accept_due = days.add(received, ACCEPT_BUSINESS_DAYS)
    accepted = _first_day(log, window, (ACCEPTED,))
    # a finish report on or before the deadline also serves as the first progress report
    first_progress = _first_day(log, window, (PROGRESS, FINISHED))
    has_acc = accepted < NEVER
    progress_due = np.full(accepted.size, NEVER, dtype=np.int64)
    progress_due[has_acc] = days.add(accepted[has_acc], FIRST_PROGRESS_BUSINESS_DAYS)
    acc_ok = accepted <= accept_due
    prog_ok = has_acc & (first_progress <= progress_due)
    fail_on = np.where(~acc_ok, accept_due, np.where(~prog_ok, progress_due, NEVER))
    return Step1(accept_due, accepted, progress_due, first_progress, fail_on)


# --------------------------------------------------------------------------- stage 5


@dataclass(frozen=True)
class States:
    """Finished / reopened events of the evaluated tickets.

    A ticket never reopened is finished as of a day when a ``finished`` event falls on or
    before it; a reopened ticket ("complex") is finished when its last ``finished`` /
    ``reopened`` event by that day is ``finished`` (looked up in ``keys``).

    Attributes:
        first_finished: Day of the ticket's first finished event (NEVER if none).
        end: Day of the first finished event strictly after receipt (NEVER if none).
        reopened: True for tickets with a ``reopened`` event.
        keys: ``position * span + day`` of the complex tickets' state events, in time order.
        finished_key: Whether each key is a ``finished`` event.
        span: The key multiplier.
    """

    first_finished: np.ndarray
    end: np.ndarray
    reopened: np.ndarray
    keys: np.ndarray
    finished_key: np.ndarray
    span: int

    def finished_as_of(self, day: int) -> np.ndarray:
        """Per evaluated ticket: finished as of the day."""
        out = self.first_finished <= day
        if self.keys.size:
            tickets = np.flatnonzero(self.reopened)
            out[tickets] = self._last_state(tickets, day) == 1
        return out

    def finished_on(self, day: int, last_finished: np.ndarray) -> np.ndarray:
        """Per evaluated ticket: the day it was finished, as of ``day`` (NEVER if open then).

        ``last_finished`` is the last finished day on or before ``day`` of a ticket never
        reopened; a reopened ticket's comes from its state events by that day.
        """
        out = np.where(self.first_finished <= day, last_finished, NEVER)
        if self.keys.size:
            tickets = np.flatnonzero(self.reopened)
            idx = self._last_index(tickets, day)
            fin = np.zeros(tickets.size, dtype=bool)
            ok = idx >= 0
            fin[ok] = self.finished_key[idx[ok]]
            res = np.full(tickets.size, NEVER, dtype=np.int64)
            res[fin] = self.keys[idx[fin]] % self.span
            out[tickets] = res
        return out

    def _last_index(self, tickets: np.ndarray, day: int) -> np.ndarray:
        idx = np.searchsorted(self.keys, tickets * self.span + day, side="right") - 1
        ok = idx >= 0
        ok[ok] = (self.keys[idx[ok]] // self.span) == tickets[ok]
        return np.where(ok, idx, -1)

    def _last_state(self, tickets: np.ndarray, day: int) -> np.ndarray:
        """1 finished, 0 reopened, -1 none, per ticket."""
        idx = self._last_index(tickets, day)
        out = np.full(tickets.size, -1, dtype=np.int8)
        ok = idx >= 0
        out[ok] = self.finished_key[idx[ok]].astype(np.int8)
        return out


def track_states(log: EventLog, placed: Placement, window: Window) -> tuple[States, np.ndarray]:
    """Finished / reopened per evaluated ticket; also the last finished day by the cut-off."""
    n = window.tickets.size
    span = window.last_day + 2
    fin, pf = _pick(log, window, FINISHED)
    fin_day = pf(fin.day)
    first_finished = np.full(n, NEVER, dtype=np.int32)
    np.minimum.at(first_finished, pf.pos, fin_day)
    # the initial open period ends at the first finished event strictly after receipt
    after = pf(fin.sec) > placed.received_sec[window.tickets][pf.pos]
    end = np.full(n, NEVER, dtype=np.int32)
    np.minimum.at(end, pf.pos[after], fin_day[after])
    last_finished = np.full(n, -1, dtype=np.int32)
    by_cut = fin_day <= window.cut
    np.maximum.at(last_finished, pf.pos[by_cut], fin_day[by_cut])

    reo, pr = _pick(log, window, REOPENED)
    reopened = np.zeros(n, dtype=bool)
    reopened[pr.pos] = True
    # the state events of reopened tickets, in time order per ticket (input order on ties)
    cf = reopened[pf.pos]
    pos = np.concatenate([pf.pos[cf], pr.pos]).astype(np.int64)
    sec = np.concatenate([pf(fin.sec)[cf], pr(reo.sec)])
    day = np.concatenate([fin_day[cf], pr(reo.day)])
    is_fin = np.concatenate([np.ones(int(cf.sum()), dtype=bool), np.zeros(pr.pos.size, dtype=bool)])
    order = np.argsort(np.concatenate([pf(fin.row)[cf], pr(reo.row)]), kind="stable")
    order = order[_order_by(pos[order], sec[order])]
    keys = pos[order] * span + day[order]
    states = States(first_finished, end, reopened, keys, is_fin[order], span)
    return states, last_finished


# --------------------------------------------------------------------------- stage 6


@dataclass(frozen=True)
class Step2Input:
    """What step 2 needs, kept so the audit's checkpoint rows can be built later."""

    cps: np.ndarray
    received: np.ndarray
    received_sec: np.ndarray
    grace: np.ndarray
    cut: int
    span: int


def _progress(log: EventLog, window: Window) -> tuple[np.ndarray, np.ndarray]:
    ev, p = _pick(log, window, PROGRESS)
    return p.pos, p(ev.day)


def _ordered(
    log: EventLog, window: Window, kind: int, wanted: np.ndarray
) -> tuple[Events, np.ndarray]:
    """Events of one kind of the wanted tickets, ordered by ticket then time (input order on
    ties), with their tickets' positions."""
    ev, p = _pick(log, window, kind)
    keep = wanted[p.pos]
    pos = p.pos[keep].astype(np.int64)
    sec, day = p(ev.sec)[keep], p(ev.day)[keep].astype(np.int64)
    order = _order_by(pos, sec)
    return Events(pos[order], day[order], sec[order]), pos[order]


def _periods(
    log: EventLog, window: Window, inp: Step2Input, tickets: np.ndarray, days: DayTable
) -> s2.Periods:
    """Open periods of some tickets: receipt, then every reopening; each ends at the first
    finished event strictly after its start."""
    wanted = np.zeros(window.tickets.size, dtype=bool)
    wanted[tickets] = True
    reo, reo_pos = _ordered(log, window, REOPENED, wanted)
    fin, fin_pos = _ordered(log, window, FINISHED, wanted)
    p_ticket = np.concatenate([tickets, reo_pos])
    p_start = np.concatenate([inp.received[tickets], reo.day])
    p_sec = np.concatenate([inp.received_sec[tickets], reo.sec])
    p_grace = np.concatenate([inp.grace[tickets], days.add(reo.day, FIRST_PROGRESS_BUSINESS_DAYS)])
    nxt = _next_after(fin_pos, fin.sec, p_ticket, p_sec)
    p_end = np.full(p_ticket.size, NEVER, dtype=np.int64)
    p_end[nxt >= 0] = fin.day[nxt[nxt >= 0]]
    return s2.Periods(p_ticket, p_start, p_grace, p_end)


def checkpoint_rows(
    log: EventLog, window: Window, inp: Step2Input, tickets: np.ndarray, days: DayTable
) -> s2.CheckpointRows:
    """The required checkpoints of some evaluated tickets, one row each."""
    periods = _periods(log, window, inp, tickets, days)
    upd_pos, upd_day = _progress(log, window)
    wanted = np.zeros(window.tickets.size, dtype=bool)
    wanted[tickets] = True
    keep = wanted[upd_pos]
    keys = np.sort(upd_pos[keep].astype(np.int64) * inp.span + upd_day[keep])
    return s2.expand_checkpoints(
        inp.cps, periods, cut=inp.cut, n=window.tickets.size, update_keys=keys, span=inp.span
    )


def evaluate_step2(
    log: EventLog,
    window: Window,
    received: np.ndarray,
    received_sec: np.ndarray,
    states: States,
    days: DayTable,
    february: FebruaryRule,
) -> tuple[s2.Step2Counts, Step2Input]:
    """Checkpoints required and missed per ticket: bit masks for tickets open once, one row
    per checkpoint for reopened tickets (and for everything when a mask cannot hold them)."""
    n = received.size
    first_cp = (EPOCH + dt.timedelta(days=int(received.min()) - 40)) if n else window.cutoff
    cps = np.array(
        [day_number(d) for d in checkpoint_days(first_cp, window.cutoff, february=february)],
        dtype=np.int64,
    )
    grace = days.add(received, ACCEPT_BUSINESS_DAYS + FIRST_PROGRESS_BUSINESS_DAYS)
    inp = Step2Input(cps, received, received_sec, grace, window.cut, states.span)
    if cps.size > s2.MASK_CHECKPOINTS:
        rows = checkpoint_rows(log, window, inp, np.arange(n), days)
        return s2.counts_of_rows(rows, n), inp
    upd_pos, upd_day = _progress(log, window)
    counts = s2.mask_counts(
        cps,
        start=received,
        grace=grace,
        end=states.end,
        cut=window.cut,
        update_ticket=upd_pos,
        update_day=upd_day,
    )
    complex_ = np.flatnonzero(states.reopened)
    if complex_.size:
        rows = checkpoint_rows(log, window, inp, complex_, days)
        general = s2.counts_of_rows(rows, n)
        for mine, theirs in (
            (counts.required, general.required),
            (counts.missed, general.missed),
            (counts.first_missed, general.first_missed),
        ):
            mine[complex_] = theirs[complex_]
    return counts, inp


# --------------------------------------------------------------------------- stage 7


@dataclass(frozen=True)
class TicketFlags:
    """Per evaluated ticket, as arrays (day numbers; NEVER = none). Summaries group these.

    Attributes:
        unit: Index into ``unit_values``.
        unit_values: Unit codes.
        received: Day received.
        step1_fail: Day the first step-1 deadline was missed.
        step2_fail: First missed checkpoint.
        fail: The earlier of the two.
        finished: Finished as of the cut-off.
        finished_on: The day it was finished, as of the cut-off.
    """

    unit: np.ndarray
    unit_values: list[str]
    received: np.ndarray
    step1_fail: np.ndarray
    step2_fail: np.ndarray
    fail: np.ndarray
    finished: np.ndarray
    finished_on: np.ndarray


@dataclass(frozen=True)
class ComplianceResult:
    """Per-ticket step 1/2 flags, computed once; group them with ``compliance_by_quarter``.

    Attributes:
        flags: The per-ticket arrays the summaries read.
        unplaced: Tickets of the event log that could not be evaluated, with a ``reason``.
        fy: The fiscal year evaluated (or None).
        cutoff: The evaluation cut-off (the as-of day).
        february: The February checkpoint rule used.
    """

    flags: TicketFlags = field(repr=False)
    unplaced: pd.DataFrame = field(repr=False)
    fy: int | None
    cutoff: dt.date
    february: str
    _states: States = field(repr=False)
    _table: Callable[[], pd.DataFrame] = field(repr=False)
    _checkpoint_frame: Callable[[bool], pd.DataFrame] = field(repr=False)

    @functools.cached_property
    def tickets(self) -> pd.DataFrame:
        """One row per ticket received in the window (columns in docs/complaints.md)."""
        return self._table()

    @functools.cached_property
    def checkpoints(self) -> pd.DataFrame:
        """One row per required step-2 checkpoint (``ticket_id, unit_code, checkpoint,
        window_start, updated, next_update, late_business_days``), built on first use."""
        return self._checkpoint_frame(False)

    def missed_checkpoints(self) -> pd.DataFrame:
        """The rows of :attr:`checkpoints` that were missed (built without the others)."""
        return self._checkpoint_frame(True)

    def finished_as_of(self, day: dt.date) -> np.ndarray:
        """Per ticket: True if its last finished/reopened event by ``day`` is ``finished``."""
        return self._states.finished_as_of(day_number(day))


def evaluate_compliance(
    events: pd.DataFrame | EventLog,
    *,
    tickets: pd.DataFrame | None = None,
    fy: int | None = None,
    as_of: dt.date | str | None = None,
    february: FebruaryRule = "last_day",
) -> ComplianceResult:
    """Evaluate steps 1 and 2 for every ticket of the event log, in one vectorised pass.

    Args:
        events: The canonical events table (``ticket_id, unit_code, event, timestamp``), or
            its :class:`EventLog` (e.g. read with :meth:`EventLog.from_parquet`).
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
    check_february(february)
    fy = cal.require_be_year(fy) if fy is not None else None
    log = events if isinstance(events, EventLog) else EventLog.from_frame(events)
    placed = place_tickets(log, tickets)
    window = select_window(log, placed, fy=fy, as_of=as_of)
    sel = window.tickets
    received = placed.received[sel]
    days = _day_table(received, window)
    step1 = evaluate_step1(log, received, window, days)
    states, last_finished = track_states(log, placed, window)
    counts, inp = evaluate_step2(
        log, window, received, placed.received_sec[sel], states, days, february
    )
    flags = TicketFlags(
        unit=placed.unit[sel],
        unit_values=placed.unit_values,
        received=received,
        step1_fail=step1.fail_on,
        step2_fail=counts.first_missed,
        fail=np.minimum(step1.fail_on, counts.first_missed),
        finished=states.finished_as_of(window.cut),
        finished_on=states.finished_on(window.cut, last_finished),
    )
    table = functools.partial(_ticket_table, log, placed, window, days, step1, counts, flags, fy)
    cp_frame = functools.partial(_checkpoint_frame, log, window, inp, days, flags)
    return ComplianceResult(
        flags=flags,
        unplaced=placed.unplaced,
        fy=fy,
        cutoff=window.cutoff,
        february=february,
        _states=states,
        _table=table,
        _checkpoint_frame=cp_frame,
    )


def _day_table(received: np.ndarray, window: Window) -> DayTable:
    """Business days from the first receipt to 60 days after the last event, within the
    calendar's years (a day outside them is asked of the calendar, which refuses it)."""
    bc = cal.business_calendar()
    lo = (int(received.min()) if received.size else window.cut) - 1
    hi = window.last_day + 60
    lo = max(lo, day_number(dt.date(bc.first_year, 1, 1)))
    hi = min(hi, day_number(dt.date(bc.last_year, 12, 31)))
    return DayTable(bc, lo, max(lo, hi))


def _units_of(flags: TicketFlags, rows: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(flags.unit[rows], dtype=pd.CategoricalDtype(flags.unit_values))


def _ticket_table(
    log: EventLog,
    placed: Placement,
    window: Window,
    days: DayTable,
    step1: Step1,
    counts: s2.Step2Counts,
    flags: TicketFlags,
    fy: int | None,
) -> pd.DataFrame:
    sel = window.tickets
    cut = window.cut
    n = sel.size
    fq = days.fiscal_quarters(flags.received)
    return pd.DataFrame(
        {
            "ticket_id": log.ids.make(sel),
            "unit_code": _units_of(flags, np.arange(n)),
            "received_from": np.where(placed.forwarded[sel], "forwarded", "created_at").astype(
                object
            ),
            "received_on": as_dates(flags.received),
            "fiscal_year": fq[0],
            "quarter": fq[1],
            "accept_due": as_dates(step1.accept_due),
            "accepted_on": as_dates(step1.accepted),
            "accept_late_business_days": pd.array(
                days.late(step1.accept_due, step1.accepted), dtype="Int64"
            ),
            "first_progress_due": as_dates(step1.progress_due),
            "first_progress_on": as_dates(step1.first_progress),
            "first_progress_late_business_days": pd.array(
                days.late(step1.progress_due, step1.first_progress), dtype="Int64"
            ),
            "step1_fail_on": as_dates(step1.fail_on),
            "checkpoints_required": counts.required,
            "checkpoints_missed": counts.missed,
            "first_missed_checkpoint": as_dates(counts.first_missed),
            "step1_ok": step1.fail_on > cut,
            "step2_ok": counts.first_missed > cut,
            "compliant": flags.fail > cut,
            "fail_on": as_dates(flags.fail),
            "finished_on": as_dates(flags.finished_on),
            "finished": flags.finished,
        }
    )


def _checkpoint_frame(
    log: EventLog,
    window: Window,
    inp: Step2Input,
    days: DayTable,
    flags: TicketFlags,
    missed_only: bool,
) -> pd.DataFrame:
    rows = checkpoint_rows(log, window, inp, np.arange(window.tickets.size), days)
    r = np.flatnonzero(~rows.updated) if missed_only else np.arange(rows.day.size)
    t = rows.ticket[r]
    late = days.late(np.where(rows.updated[r], NEVER, rows.day[r]), rows.next_update[r])
    return pd.DataFrame(
        {
            "ticket_id": log.ids.make(window.tickets[t]),
            "unit_code": _units_of(flags, t),
            "checkpoint": as_dates(rows.day[r]),
            "window_start": as_dates(rows.window_after[r] + 1),
            "updated": rows.updated[r],
            "next_update": as_dates(rows.next_update[r]),
            "late_business_days": pd.array(late, dtype="Int64"),
        }
    )


__all__ = [
    "ComplianceResult",
    "EventLog",
    "TicketFlags",
    "evaluate_compliance",
    "require_columns",
]
