"""Steps 1 and 2 per ticket: :func:`evaluate_compliance`, a thin pipeline of named stages.

The stages are in :mod:`kpilib.complaints.stages` (decode, place, window, step 1, states,
step 2); this module runs them in order and wraps their arrays in a
:class:`ComplianceResult`, whose per-ticket table and checkpoint rows (for the audit) are
built on first use. The rules and every reading of the seeds are in ``docs/complaints.md``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints import step2 as s2
from kpilib.complaints.days import NEVER, DayTable, as_dates, day_number
from kpilib.complaints.events import EventLog
from kpilib.complaints.rules import FebruaryRule, check_february
from kpilib.complaints.stages import (
    Placement,
    States,
    Step1,
    Step2Input,
    Window,
    checkpoint_rows,
    day_table,
    evaluate_step1,
    evaluate_step2,
    place_tickets,
    select_window,
    track_states,
)


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
    days = day_table(received, window)
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
