"""The event log as arrays: ticket number, event kind, Bangkok day and second per event.

Numbering 5.5 million ticket-id strings is the costliest step of the engine; the common
layouts of an event log are cheap to number:

- **grouped and sorted by ticket** (as an export per ticket usually is): a ticket's events
  are one run, so comparing each id with the one before finds the tickets, and checking
  that the first ids of the runs increase proves no ticket appears twice — no hashing;
- **any other order**: the first ids of the runs are numbered with a hash (pandas
  ``factorize``), which for an event log in time order is every id.

Categorical ids use their codes. Nothing else depends on the order of the rows.

:meth:`EventLog.from_frame` decodes a pandas table; :meth:`EventLog.from_parquet` reads a
Parquet file one row group at a time, so that only the four columns' compact arrays are
held, never the whole table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpilib.complaints import ticket_ids
from kpilib.complaints.days import NEVER, bangkok_seconds, days_of_seconds, require_columns
from kpilib.complaints.grouping import codes
from kpilib.complaints.parquet import (
    batches,
    dictionary_indices,
    epoch_seconds,
    open_columns,
    plain,
)
from kpilib.complaints.rules import EVENT_TYPES, FINISHED, FORWARDED, REOPENED
from kpilib.errors import SchemaError

#: The columns of the canonical events table the engine reads.
EVENT_COLUMNS: tuple[str, ...] = ("ticket_id", "unit_code", "event", "timestamp")
_KNOWN = {v: i for i, v in enumerate(EVENT_TYPES)}


@dataclass(frozen=True)
class TicketIds:
    """How many tickets were numbered, and their ids back from ticket numbers."""

    count: int
    make: Callable[[np.ndarray], Any]  # ticket numbers -> id column


class _RunNumbering:
    """Numbers ticket ids chunk by chunk: runs of equal ids, then tickets from the runs.

    ``add`` returns each row's run number; after ``finish``, ``remap`` maps run numbers to
    ticket numbers (None when they are the same: the runs' ids increase). The first id of
    each run is kept packed into integers (:mod:`kpilib.complaints.ticket_ids`) when every
    id has at most 16 bytes, else as Arrow strings (numbered with a hash table).
    """

    def __init__(self, capacity: int) -> None:
        self.packed: ticket_ids.PackedIds | None = ticket_ids.PackedIds.empty(capacity)
        self.heads: list[pa.Array] = []  # first id of each run, when not packed
        self.runs = 0
        self.remap: np.ndarray | None = None
        self._last: pa.Array | None = None

    def add(self, ids: pa.Array) -> np.ndarray:
        m = len(ids)
        if m == 0:
            return np.zeros(0, dtype=np.int32)
        change = np.empty(m, dtype=bool)
        change[1:] = np.asarray(pc.not_equal(ids.slice(1), ids.slice(0, m - 1)), dtype=bool)
        change[0] = self._last is None or not pc.equal(ids.slice(0, 1), self._last)[0].as_py()
        run = np.cumsum(change, dtype=np.int32)
        run += self.runs - 1
        starts = np.flatnonzero(change)
        if starts.size:
            heads = ids.take(pa.array(starts))
            keys = ticket_ids.pack(heads) if self.packed is not None else None
            if keys is not None and self.packed is not None:
                self.packed.put(self.runs, keys)
            else:
                if self.packed is not None:  # an id too long for integers: keep strings
                    self.heads = [self.packed.strings(np.arange(self.runs))]
                self.packed = None
                self.heads.append(heads)
        self.runs += int(starts.size)
        self._last = ids.slice(m - 1, 1)
        return run

    def finish(self, dtype: Any) -> TicketIds:
        r = self.runs
        if r == 0:
            empty = pd.array([], dtype=dtype)
            return TicketIds(0, empty.take)
        if self.packed is not None:
            keys = self.packed.head(r)
            if keys.increasing():
                return TicketIds(r, lambda c: _to_pandas(keys.strings(c), dtype))
            self.remap, first = ticket_ids.number(keys)
            self.packed = None
            firsts = keys.take(first)  # keep each ticket's id only: the other runs' go
            return TicketIds(first.size, lambda c: _to_pandas(firsts.strings(c), dtype))
        heads = pa.chunked_array(self.heads, type=self.heads[0].type)
        self.heads = []
        increasing = r == 1 or pc.all(pc.less(heads.slice(0, r - 1), heads.slice(1))).as_py()
        if increasing:
            values = pd.Series(heads, dtype=dtype).array
            return TicketIds(r, values.take)
        run_ticket, values = pd.factorize(pd.Series(heads, dtype=dtype))
        self.remap = run_ticket.astype(np.int32)
        return TicketIds(len(values), values.take)


def _to_pandas(arr: pa.Array, dtype: Any) -> Any:
    return pd.Series(arr.cast(pa.large_string()), dtype=dtype).array


def _is_arrow_string(dtype: Any) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    if isinstance(dtype, pd.ArrowDtype):
        t = dtype.pyarrow_dtype
        return pa.types.is_string(t) or pa.types.is_large_string(t)
    return False


def number_tickets(col: pd.Series) -> tuple[np.ndarray, TicketIds]:
    """Number the tickets of an id column: (ticket number per row, -1 if missing; the ids).

    See the module docstring for the layouts numbered without hashing.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        dtype = col.dtype
        num = col.cat.codes.to_numpy().astype(np.int32)
        return num, TicketIds(
            len(dtype.categories), lambda c: pd.Categorical.from_codes(c, dtype=dtype)
        )
    if len(col) > 1 and _is_arrow_string(col.dtype) and not col.hasnans:
        numbering = _RunNumbering(len(col))
        arr = pa.array(col)  # the column's own Arrow buffers, no copy
        runs = [
            numbering.add(chunk)
            for chunk in (arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr])
        ]
        ids = numbering.finish(col.dtype)
        run = np.concatenate(runs)
        return (run if numbering.remap is None else numbering.remap[run]), ids
    num, values = codes(col, as_object=False)
    return num.astype(np.int32), TicketIds(len(values), values.take)


def _kind_lut(values: Iterable[Any]) -> np.ndarray:
    """Event names -> int8 index into EVENT_TYPES; a trailing -1 for missing codes.

    Raises:
        SchemaError: For an event name outside EVENT_TYPES.
    """
    values = list(values)
    unknown = sorted({str(v) for v in values if v not in _KNOWN})
    if unknown:
        raise SchemaError(
            f"unknown event value(s) {unknown[:5]}; expected one of {list(EVENT_TYPES)}",
            file="events",
            column="event",
        )
    return np.array([_KNOWN[v] for v in values] + [-1], dtype=np.int8)


def _event_kinds(col: pd.Series) -> np.ndarray:
    c, values = codes(col, as_object=True)
    used = np.bincount(c + 1, minlength=len(values) + 1)[1:] > 0
    lut = _kind_lut([v for v, u in zip(values, used, strict=True) if u])
    full = np.full(len(values) + 1, -1, dtype=np.int8)
    full[np.flatnonzero(used)] = lut[:-1]
    return full[c]


@dataclass(frozen=True)
class Events:
    """The events of one kind, in input order.

    Attributes:
        ticket: Ticket number (int32).
        day: Bangkok day number (int32).
        sec: UTC epoch seconds (int64), for the kinds whose order within a ticket matters
            (forwarded, finished, reopened); None for the others.
        row: Input row (int64) of finished / reopened events, to break ties in time; else None.
    """

    ticket: np.ndarray
    day: np.ndarray
    sec: np.ndarray | None = None
    row: np.ndarray | None = None

    @property
    def size(self) -> int:
        """How many events."""
        return int(self.ticket.size)


_TIMED = (FORWARDED, FINISHED, REOPENED)  # kinds whose second is kept
_ROWED = (FINISHED, REOPENED)  # kinds whose input row is kept


class _Partition:
    """Splits decoded rows into one :class:`Events` per kind, chunk by chunk.

    Each kind's arrays are allocated for all ``n`` rows up front and filled in order: the
    pages never written are never resident, and no chunk is copied twice (no concatenation).
    """

    def __init__(self, n: int) -> None:
        self.n = [0] * len(EVENT_TYPES)
        self.ticket = [np.empty(n, dtype=np.int32) for _ in EVENT_TYPES]
        self.day = [np.empty(n, dtype=np.int32) for _ in EVENT_TYPES]
        self.sec = {k: np.empty(n, dtype=np.int64) for k in _TIMED}
        self.row = {k: np.empty(n, dtype=np.int64) for k in _ROWED}
        self.unit = np.empty(n, dtype=np.int64)

    def add(
        self,
        ticket: np.ndarray,
        kind: np.ndarray,
        sec: np.ndarray,
        unit: np.ndarray | None,
        first_row: int,
    ) -> None:
        day = days_of_seconds(sec)
        usable = (ticket >= 0) & (day < NEVER)
        if not usable.all():
            kind = np.where(usable, kind, -1)
        for k in range(len(EVENT_TYPES)):
            idx = np.flatnonzero(kind == k)
            part = slice(self.n[k], self.n[k] + idx.size)
            self.ticket[k][part] = ticket[idx]
            self.day[k][part] = day[idx]
            if k in _TIMED:
                self.sec[k][part] = sec[idx]
            if k in _ROWED:
                self.row[k][part] = idx + first_row
            if k == FORWARDED:
                self.unit[part] = idx + first_row if unit is None else unit[idx]
            self.n[k] += idx.size

    def finish(self, remap: np.ndarray | None) -> tuple[list[Events], np.ndarray]:
        """The events per kind (ticket numbers mapped through ``remap``) and, per forwarded
        event, its unit (or its input row when the units are looked up later)."""
        out = []
        for k, m in enumerate(self.n):
            ticket = self.ticket[k][:m]
            if remap is not None:
                np.take(remap, ticket, out=ticket)
            out.append(
                Events(
                    ticket,
                    self.day[k][:m],
                    self.sec[k][:m] if k in _TIMED else None,
                    self.row[k][:m] if k in _ROWED else None,
                )
            )
        return out, self.unit[: self.n[FORWARDED]]


_EMPTY32 = np.zeros(0, dtype=np.int32)


@dataclass(frozen=True)
class EventLog:
    """The usable events (a ticket id, a known kind and a timestamp), one array set per kind.

    Only what the rules read is kept: the unit of forwarded events, the second of forwarded,
    finished and reopened events (their order within a ticket matters), the day of all.

    Attributes:
        kinds: :class:`Events` per kind, indexed like :data:`EVENT_TYPES`.
        ids: The ticket numbering (ids back from numbers).
        forwarded_units: Unit code index of each forwarded event.
        unit_values: Unit codes.
    """

    kinds: tuple[Events, ...]
    ids: TicketIds
    forwarded_units: np.ndarray
    unit_values: list[str]

    @property
    def n_tickets(self) -> int:
        """How many ticket numbers there are."""
        return self.ids.count

    def of_kind(self, kind: int) -> Events:
        """The events of one kind (0 forwarded … 4 reopened)."""
        return self.kinds[kind]

    def day_range(self) -> tuple[int, int] | None:
        """First and last day of any event (None without events)."""
        lows = [int(e.day.min()) for e in self.kinds if e.size]
        highs = [int(e.day.max()) for e in self.kinds if e.size]
        return (min(lows), max(highs)) if lows else None

    @classmethod
    def from_frame(cls, events: pd.DataFrame) -> EventLog:
        """Decode the canonical events table.

        Raises:
            SchemaError: Missing columns, an unknown event name, naive timestamps.
        """
        require_columns(events, "events", EVENT_COLUMNS)
        kind = _event_kinds(events["event"])
        sec = bangkok_seconds(events["timestamp"], table="events", column="timestamp")
        number, ids = number_tickets(events["ticket_id"])
        part = _Partition(len(events))
        part.add(number, kind, sec, None, 0)
        kinds, fw_rows = part.finish(None)
        col = events["unit_code"]
        if isinstance(col.dtype, pd.CategoricalDtype):
            units = col.cat.codes.to_numpy()[fw_rows].astype(np.int32)
            values = [str(u) for u in col.cat.categories]
        else:  # the forwarded rows only: a fifth of the strings
            c, uniques = pd.factorize(col.take(fw_rows), use_na_sentinel=True)
            units, values = c.astype(np.int32), [str(u) for u in uniques]
        return cls(tuple(kinds), ids, units, values)

    @classmethod
    def from_parquet(cls, path: str | Path, *, batch_rows: int = 1 << 20) -> EventLog:
        """Read the canonical events table from Parquet, one batch of rows at a time.

        Only ``ticket_id, unit_code, event, timestamp`` are read; units and event names are
        read dictionary-encoded (no string per row), ids compared in Arrow, and each batch
        is reduced to the arrays above before the next is read.

        Raises:
            InputError: The file is missing or unreadable.
            SchemaError: A column is missing, an unknown event, naive timestamps.
        """
        pf = open_columns(path, EVENT_COLUMNS, dictionary=("unit_code", "event"))
        numbering = _RunNumbering(pf.metadata.num_rows)
        part = _Partition(pf.metadata.num_rows)
        unit_values: list[str] = []
        unit_pos: dict[str, int] = {}
        at = 0
        id_type = None
        for batch in batches(pf, EVENT_COLUMNS, batch_rows):
            ids = plain(batch.column("ticket_id"))
            if ids.null_count:
                raise SchemaError("missing ticket_id", file=str(path), column="ticket_id")
            id_type = ids.type
            run = numbering.add(ids)
            ev = batch.column("event")
            kind = _kind_lut(ev.dictionary.to_pylist())[dictionary_indices(ev)]
            units = batch.column("unit_code")
            lut = [unit_pos.setdefault(str(u), len(unit_pos)) for u in units.dictionary.to_pylist()]
            unit_values += [str(u) for u in list(unit_pos)[len(unit_values) :]]
            unit = np.array([*lut, -1], dtype=np.int32)[dictionary_indices(units)]
            part.add(run, kind, epoch_seconds(batch.column("timestamp"), path), unit, at)
            at += batch.num_rows
        ids = numbering.finish(_id_dtype(id_type))
        kinds, units = part.finish(numbering.remap)
        return cls(tuple(kinds), ids, units, unit_values)


def _id_dtype(arrow_type: Any) -> Any:
    """The pandas dtype of the ids read from Parquet (Arrow-backed strings, as pandas reads them)."""
    if arrow_type is None or pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow")
    return pd.ArrowDtype(arrow_type)
