"""The stages of :func:`kpilib.complaints.compliance.evaluate_compliance`, in order.

Each takes and returns typed arrays (frozen dataclasses), per ticket number or per evaluated
ticket (its position in :attr:`Window.tickets`); day numbers, NEVER = none:

1. :meth:`EventLog.from_frame` / :meth:`EventLog.from_parquet` (``events``) — decode;
2. :func:`place_tickets` — the day, second and unit of each ticket's receipt;
3. :func:`select_window` — the cut-off and the tickets received in the window;
4. :func:`evaluate_step1` — acceptance and first progress report against their deadlines;
5. :func:`track_states` — finished / reopened: when the first open period ends, finished
   as of a day;
6. :func:`evaluate_step2` — the checkpoints each ticket needed and missed (bit masks for
   tickets open once, :func:`checkpoint_rows` for the others and for the audit).

The rules and every reading of the seeds are in ``docs/complaints.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints import step2 as s2
from kpilib.complaints.days import (
    EPOCH,
    NEVER,
    DayTable,
    bangkok_days,
    checkpoint_days,
    day_number,
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


def day_table(received: np.ndarray, window: Window) -> DayTable:
    """Business days from the first receipt to 60 days after the last event, within the
    calendar's years (a day outside them is asked of the calendar, which refuses it)."""
    bc = cal.business_calendar()
    lo = (int(received.min()) if received.size else window.cut) - 1
    hi = window.last_day + 60
    lo = max(lo, day_number(dt.date(bc.first_year, 1, 1)))
    hi = min(hi, day_number(dt.date(bc.last_year, 12, 31)))
    return DayTable(bc, lo, max(lo, hi))
