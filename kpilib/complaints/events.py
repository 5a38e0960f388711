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

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpilib.complaints.days import NEVER, bangkok_seconds, days_of_seconds, require_columns
from kpilib.complaints.grouping import codes
from kpilib.complaints.parquet import dictionary_indices, epoch_seconds, open_columns, plain
from kpilib.complaints.rules import EVENT_TYPES
from kpilib.errors import SchemaError

#: The columns of the canonical events table the engine reads.
EVENT_COLUMNS: tuple[str, ...] = ("ticket_id", "unit_code", "event", "timestamp")
_KNOWN = {v: i for i, v in enumerate(EVENT_TYPES)}


@dataclass(frozen=True)
class TicketIds:
    """A ticket-id column numbered: ``number[i]`` of row i (-1 missing), and the ids back."""

    number: np.ndarray
    count: int
    make: Callable[[np.ndarray], Any]  # ticket numbers -> id column


class _RunNumbering:
    """Numbers ticket ids chunk by chunk: runs of equal ids, then tickets from the runs."""

    def __init__(self, n: int) -> None:
        self.run = np.empty(n, dtype=np.int32)  # run number per row
        self.heads: list[pa.Array] = []  # first id of each run
        self.filled = 0
        self.runs = 0
        self._last: pa.Array | None = None

    def add(self, ids: pa.Array) -> None:
        m = len(ids)
        if m == 0:
            return
        change = np.empty(m, dtype=bool)
        change[1:] = np.asarray(pc.not_equal(ids.slice(1), ids.slice(0, m - 1)), dtype=bool)
        change[0] = self._last is None or not pc.equal(ids.slice(0, 1), self._last)[0].as_py()
        local = np.cumsum(change, dtype=np.int64)
        self.run[self.filled : self.filled + m] = local + (self.runs - 1)
        starts = np.flatnonzero(change)
        if starts.size:
            self.heads.append(ids.take(pa.array(starts)))
        self.runs += int(starts.size)
        self.filled += m
        self._last = ids.slice(m - 1, 1)

    def finish(self, dtype: Any) -> TicketIds:
        heads = pa.chunked_array(self.heads, type=self.heads[0].type) if self.heads else None
        r = self.runs
        if r == 0 or heads is None:
            return TicketIds(self.run[: self.filled], 0, lambda c: pd.array([], dtype=dtype))
        increasing = r == 1 or pc.all(pc.less(heads.slice(0, r - 1), heads.slice(1))).as_py()
        if increasing:
            values = pd.Series(heads, dtype=dtype).array
        else:
            run_ticket, values = pd.factorize(pd.Series(heads, dtype=dtype))
            np.take(run_ticket.astype(np.int32), self.run, out=self.run)
        return TicketIds(self.run[: self.filled], len(values), values.take)


def _is_arrow_string(dtype: Any) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    if isinstance(dtype, pd.ArrowDtype):
        t = dtype.pyarrow_dtype
        return pa.types.is_string(t) or pa.types.is_large_string(t)
    return False


def number_tickets(col: pd.Series) -> TicketIds:
    """Number the tickets of an id column (see the module docstring for the fast layouts)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        dtype = col.dtype
        num = col.cat.codes.to_numpy().astype(np.int32)
        return TicketIds(
            num, len(dtype.categories), lambda c: pd.Categorical.from_codes(c, dtype=dtype)
        )
    if len(col) > 1 and _is_arrow_string(col.dtype) and not col.hasnans:
        numbering = _RunNumbering(len(col))
        arr = pa.array(col)  # the column's own Arrow buffers, no copy
        for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
            numbering.add(chunk)
        return numbering.finish(col.dtype)
    num, values = codes(col, as_object=False)
    return TicketIds(num.astype(np.int32), len(values), values.take)


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


UnitLookup = Callable[[np.ndarray], tuple[np.ndarray, list[str]]]


@dataclass(frozen=True)
class EventLog:
    """One entry per usable event (a ticket id, a known kind and a timestamp), as arrays.

    Attributes:
        ticket: Ticket number per entry (0 .. ``ids.count - 1``).
        kind: Index into :data:`EVENT_TYPES` (0 forwarded … 4 reopened).
        day: Bangkok day number.
        sec: UTC epoch seconds (orders events within a ticket).
        ids: The ticket numbering (ids back from numbers).
        unit_at: Unit codes of some entries: ``(codes, values)``.
    """

    ticket: np.ndarray
    kind: np.ndarray
    day: np.ndarray
    sec: np.ndarray
    ids: TicketIds
    unit_at: UnitLookup

    @property
    def n_tickets(self) -> int:
        """How many ticket numbers there are."""
        return self.ids.count

    def of_kind(self, kind: int) -> np.ndarray:
        """Entries of one event kind (found once, then kept)."""
        return self._by_kind[kind]

    @functools.cached_property
    def _by_kind(self) -> dict[int, np.ndarray]:
        return {k: np.flatnonzero(self.kind == k) for k in range(len(EVENT_TYPES))}

    @classmethod
    def _of(
        cls,
        ids: TicketIds,
        kind: np.ndarray,
        sec: np.ndarray,
        unit_at: Callable[[np.ndarray], tuple[np.ndarray, list[str]]],
    ) -> EventLog:
        day = days_of_seconds(sec)
        ok = (ids.number >= 0) & (kind >= 0) & (day < NEVER)
        if ok.all():
            return cls(ids.number, kind, day, sec, ids, unit_at)
        rows = np.flatnonzero(ok)
        return cls(
            ids.number[rows], kind[rows], day[rows], sec[rows], ids, lambda e: unit_at(rows[e])
        )

    @classmethod
    def from_frame(cls, events: pd.DataFrame) -> EventLog:
        """Decode the canonical events table.

        Raises:
            SchemaError: Missing columns, an unknown event name, naive timestamps.
        """
        require_columns(events, "events", EVENT_COLUMNS)
        kind = _event_kinds(events["event"])
        sec = bangkok_seconds(events["timestamp"], table="events", column="timestamp")
        ids = number_tickets(events["ticket_id"])
        col = events["unit_code"]

        def unit_at(rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
            if isinstance(col.dtype, pd.CategoricalDtype):
                return col.cat.codes.to_numpy()[rows].astype(np.int64), [
                    str(u) for u in col.cat.categories
                ]
            c, values = pd.factorize(col.take(rows), use_na_sentinel=True)
            return c.astype(np.int64), [str(u) for u in values]

        return cls._of(ids, kind, sec, unit_at)

    @classmethod
    def from_parquet(cls, path: str | Path, *, batch_rows: int = 1 << 20) -> EventLog:
        """Read the canonical events table from Parquet, one batch of rows at a time.

        Only ``ticket_id, unit_code, event, timestamp`` are read; units and event names are
        read dictionary-encoded (no string per row), ids compared in Arrow.

        Raises:
            InputError: The file is missing or unreadable.
            SchemaError: A column is missing, an unknown event, naive timestamps.
        """
        pf = open_columns(path, EVENT_COLUMNS, dictionary=("unit_code", "event"))
        n = pf.metadata.num_rows
        numbering = _RunNumbering(n)
        kind = np.empty(n, dtype=np.int8)
        sec = np.empty(n, dtype=np.int64)
        unit = np.empty(n, dtype=np.int32)
        unit_values: list[str] = []
        unit_pos: dict[str, int] = {}
        at = 0
        id_type = None
        for batch in pf.iter_batches(batch_size=batch_rows, columns=list(EVENT_COLUMNS)):
            m = batch.num_rows
            ids = plain(batch.column("ticket_id"))
            id_type = ids.type
            if ids.null_count:
                raise SchemaError("missing ticket_id", file=str(path), column="ticket_id")
            numbering.add(ids)
            ev = batch.column("event")
            lut = _kind_lut(ev.dictionary.to_pylist())
            kind[at : at + m] = lut[dictionary_indices(ev)]
            units = batch.column("unit_code")
            ulut = []
            for u in units.dictionary.to_pylist():
                key = str(u)
                if key not in unit_pos:
                    unit_pos[key] = len(unit_values)
                    unit_values.append(key)
                ulut.append(unit_pos[key])
            unit[at : at + m] = np.array([*ulut, -1], dtype=np.int32)[dictionary_indices(units)]
            sec[at : at + m] = epoch_seconds(batch.column("timestamp"), path)
            at += m
        ids = numbering.finish(_id_dtype(id_type))

        def unit_at(rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
            return unit[rows].astype(np.int64), unit_values

        return cls._of(ids, kind, sec, unit_at)


def _id_dtype(arrow_type: Any) -> Any:
    """The pandas dtype of the ids read from Parquet (Arrow-backed strings, as pandas reads them)."""
    if arrow_type is None or pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow")
    return pd.ArrowDtype(arrow_type)
