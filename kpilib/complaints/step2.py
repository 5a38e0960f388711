"""Step 2: the checkpoints an open ticket needs (the 15th and the 30th) and which were met.

Two ways to the same answer (docs/complaints.md, "Step 2"):

- :func:`mask_counts`, for a ticket open once (never reopened): the checkpoints of a fiscal
  year are fewer than 64, so the half-month windows holding a progress update are the bits
  of one integer per ticket (one pass over the updates), the checkpoints it needs are a run
  of bits, and the missed ones are ``needed & ~covered``;
- :func:`expand_checkpoints`, for any ticket (reopened ones, more than 63 checkpoints, and
  the audit's checkpoint rows): one row per open period and required checkpoint, each
  looked up in the sorted progress updates.

The test suite checks that both agree on every ticket of a generated year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kpilib.complaints.days import NEVER

#: Checkpoints a bit mask can hold (bit 63 stays free for "after the last checkpoint").
MASK_CHECKPOINTS = 63


@dataclass(frozen=True)
class Step2Counts:
    """Per ticket: checkpoints required, checkpoints missed, first missed checkpoint (day)."""

    required: np.ndarray
    missed: np.ndarray
    first_missed: np.ndarray


@dataclass(frozen=True)
class Periods:
    """Open periods: from receipt (or a reopening) to the next finished event.

    Attributes:
        ticket: The ticket (position in the evaluated tickets) of each period.
        start: First day of the period.
        grace: First day a checkpoint may be required (step 1's allowance).
        end: Day of the first finished event strictly after the period's start, or NEVER.
    """

    ticket: np.ndarray
    start: np.ndarray
    grace: np.ndarray
    end: np.ndarray


@dataclass(frozen=True)
class CheckpointRows:
    """One row per required checkpoint: ticket, checkpoint day, window start (exclusive),
    updated in the window, day of the next update after the checkpoint (NEVER if none)."""

    ticket: np.ndarray
    day: np.ndarray
    window_after: np.ndarray
    updated: np.ndarray
    next_update: np.ndarray


def _bit_count(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x).astype(np.int64)


def required_range(
    cps: np.ndarray, grace: np.ndarray, end: np.ndarray, cut: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``[lo, hi)`` into ``cps`` of the checkpoints a period requires.

    From the first checkpoint on or after ``grace`` (never the first one, which only opens a
    window) up to the last one before the finishing day and not after the cut-off.
    """
    lo = np.maximum(_search(cps, grace, "left"), 1)
    hi = _search(cps, np.minimum(end - 1, cut), "right")
    return lo, np.maximum(hi, lo)


def _search(cps: np.ndarray, days: np.ndarray, side: str) -> np.ndarray:
    """``np.searchsorted(cps, days, side)``, as a per-day look-up when the days span a few
    years (a million tickets, a few dozen checkpoints)."""
    if days.size < 1024:
        return np.searchsorted(cps, days, side=side)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 20_000:
        return np.searchsorted(cps, days, side=side)
    table = np.searchsorted(cps, np.arange(lo, hi + 1), side=side)
    return table[days - lo]


def mask_counts(
    cps: np.ndarray,
    *,
    start: np.ndarray,
    grace: np.ndarray,
    end: np.ndarray,
    cut: int,
    update_ticket: np.ndarray,
    update_day: np.ndarray,
) -> Step2Counts:
    """Step 2 for tickets open once, with one bit per half-month window.

    Args:
        cps: Checkpoint day numbers, ascending (at most :data:`MASK_CHECKPOINTS`).
        start: Per ticket, the day it was received (updates before it do not count).
        grace: Per ticket, the first day a checkpoint may be required.
        end: Per ticket, the day it was finished (NEVER if open).
        cut: The evaluation cut-off (day number).
        update_ticket: Ticket of each progress update.
        update_day: Day of each progress update.
    """
    if cps.size > MASK_CHECKPOINTS:
        raise ValueError(f"{cps.size} checkpoints do not fit a 64-bit mask")
    n = start.size
    lo, hi = required_range(cps, grace, end, cut)
    one = np.uint64(1)
    required = (one << hi.astype(np.uint64)) - (one << lo.astype(np.uint64))
    covered = np.zeros(n, dtype=np.uint64)
    if update_day.size:
        # the bit of each day's window (the first checkpoint on or after it), as a look-up
        first, last = int(update_day.min()), int(update_day.max())
        window = np.searchsorted(cps, np.arange(first, last + 1), side="left")
        bit = one << np.minimum(window, MASK_CHECKPOINTS).astype(np.uint64)
        counts = update_day >= start[update_ticket]  # updates before receipt do not count
        if counts.all():
            _or_into(covered, update_ticket, bit[update_day - first])
        else:
            _or_into(covered, update_ticket[counts], bit[update_day[counts] - first])
    missed = required & ~covered
    lowest = _bit_count((missed & (~missed + one)) - one)  # index of the lowest missed bit
    first = np.full(n, NEVER, dtype=np.int64)
    has = missed != 0
    first[has] = cps[lowest[has]]
    return Step2Counts(hi - lo, _bit_count(missed), first)


def _or_into(out: np.ndarray, group: np.ndarray, bits: np.ndarray) -> None:
    """``out[g] |= bits`` for every (g, bits) pair: per run of one group when the groups
    come in order (an event log grouped by ticket), else pair by pair."""
    if group.size > 1 and (group[1:] >= group[:-1]).all():
        starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
        out[group[starts]] |= np.bitwise_or.reduceat(bits, starts)
    else:
        np.bitwise_or.at(out, group, bits)


def expand_checkpoints(
    cps: np.ndarray, periods: Periods, *, cut: int, n: int, update_keys: np.ndarray, span: int
) -> CheckpointRows:
    """One row per (ticket, required checkpoint), looked up in the sorted progress updates.

    Args:
        cps: Checkpoint day numbers, ascending.
        periods: The open periods; a ticket's first period comes first.
        cut: The evaluation cut-off (day number).
        n: Number of tickets.
        update_keys: ``ticket * span + day`` of every progress update, sorted.
        span: The key multiplier (larger than any day number used).
    """
    lo, hi = required_range(cps, periods.grace, periods.end, cut)
    cnt = hi - lo
    total = int(cnt.sum())
    pid = np.repeat(np.arange(periods.ticket.size), cnt)
    offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    ci = lo[pid] + offs
    ticket = periods.ticket[pid]
    day = cps[ci] if total else np.zeros(0, dtype=np.int64)
    after = np.maximum(cps[ci - 1], periods.start[pid] - 1) if total else day.copy()
    del pid, offs, ci
    if periods.ticket.size > n and total:
        # overlapping open periods (reopened tickets) must not double a checkpoint: the
        # ticket's earliest period keeps it
        multi = np.bincount(periods.ticket, minlength=n) > 1
        rows = np.flatnonzero(multi[ticket])
        _, first_occ = np.unique(ticket[rows] * span + day[rows], return_index=True)
        keep = np.ones(ticket.size, dtype=bool)
        keep[rows] = False
        keep[rows[first_occ]] = True
        ticket, day, after = ticket[keep], day[keep], after[keep]
    k_hi = ticket * span + day
    right = np.searchsorted(update_keys, k_hi, side="right")
    updated = right > np.searchsorted(update_keys, ticket * span + after, side="right")
    nxt = right < update_keys.size
    nxt[nxt] = (update_keys[right[nxt]] // span) == ticket[nxt]
    next_update = np.full(day.size, NEVER, dtype=np.int64)
    next_update[nxt] = update_keys[right[nxt]] % span
    return CheckpointRows(ticket, day, after, updated, next_update)


def counts_of_rows(rows: CheckpointRows, n: int) -> Step2Counts:
    """Per-ticket step 2 counts from checkpoint rows."""
    missed = ~rows.updated
    first = np.full(n, NEVER, dtype=np.int64)
    np.minimum.at(first, rows.ticket[missed], rows.day[missed])
    return Step2Counts(
        np.bincount(rows.ticket, minlength=n),
        np.bincount(rows.ticket[missed], minlength=n),
        first,
    )
