"""The certification rule: which blocking findings withhold which KPI figures, and why.

A KPI's figure is *certified* when the data it was computed from was validated and no
blocking finding touches it. A blocking finding **touches** a unit's report for a period when
one of its rows belongs to that unit's data the KPI counts **in that period**: the row's date
(its table's ``period`` in ``params/tables``) falls between the fiscal year's first day and
the report's as-of day (or, for a table kept by fiscal year and quarter, the row is of that
fiscal year and quarter ≤ the report's). A row whose date cannot be read (the finding may
be about that very date) touches every period; so does a finding about a whole file. A row
the ingest dropped as an exact repeat is not blocking at all (docs/validation.md), so it
never reaches this rule.

The result names, per table, the rows that withhold certification, so a report can say
"ข้อมูลเรื่องร้องเรียน (Traffy Fondue) แถวที่ 12, 57 ของ traffy_api_v2.csv: พบเลขที่รายการซ้ำกัน …".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.datasets import Bundle
from kpilib.memo import memoized
from kpilib.tables import TableDecl, load_tables
from kpilib.validation import Finding
from kpilib.words import check_th, table_th

ROW_NAMES = 5
"""How many rows a reason names (the rest are counted)."""


@dataclass(frozen=True)
class Blocking:
    """Blocking findings of one table that touch a report's period.

    Attributes:
        table: The canonical table.
        reasons_th: One line per finding: its rows in the period and what is wrong.
    """

    table: str
    reasons_th: tuple[str, ...]


def _day(value: object) -> dt.date | None:
    """A row's date from a parsed value or raw text (a Buddhist-Era year read as such)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        return (value.tz_convert(cal.BANGKOK) if value.tzinfo else value).date()
    text = cal.from_thai_digits(str(value)).strip()
    if not text:
        return None
    if len(text) == 7 and text[4] == "-":  # a month, YYYY-MM
        text += "-01"
    stamp = pd.to_datetime(text[:10], errors="coerce", format="%Y-%m-%d")
    if pd.isna(stamp):
        stamp = pd.to_datetime(text, errors="coerce", utc=True)
    if pd.isna(stamp):
        return None
    day = stamp.date()
    if day.year >= cal.BE_MIN:  # a BE year where CE belongs: the row's intended date
        day = day.replace(year=day.year - 543)
    return day


def _days(values: pd.Series, *, raw: bool) -> np.ndarray:
    """Each value's Bangkok calendar day as ``datetime64[D]`` (NaT when unreadable)."""
    if not raw and pd.api.types.is_datetime64_any_dtype(values):
        v = values
        if isinstance(v.dtype, pd.DatetimeTZDtype):
            v = v.dt.tz_convert(cal.BANGKOK).dt.tz_localize(None)
        return v.to_numpy(dtype="datetime64[D]")
    text = values.astype("string")
    uniq = {u: _day(u) for u in text.dropna().unique()}
    mapped = text.map(lambda u: uniq.get(u) if u is not pd.NA else None)
    return pd.to_datetime(mapped, errors="coerce").to_numpy(dtype="datetime64[D]")


@dataclass(frozen=True)
class _FileRows:
    """One source file's rows of a table: each row's period, by its row number.

    Attributes:
        rows: The rows' numbers in the file (unique: a row's first appearance).
        day: Each row's day (``datetime64[D]``, NaT when unreadable), for a dated table.
        fy: Each row's fiscal year (NaN when unknown), for a table kept by quarter.
        quarter: Each row's quarter (NaN when unknown), with ``fy``.
    """

    rows: pd.Index
    day: np.ndarray | None = None
    fy: np.ndarray | None = None
    quarter: np.ndarray | None = None

    def in_period(
        self, rows: np.ndarray, first: np.datetime64, last: np.datetime64, fy: int, quarter: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(found, inside)`` for ``rows``: which are this file's, and of those which belong
        to the period (an unreadable period: they do)."""
        pos = self.rows.get_indexer(rows)
        found = pos >= 0
        at = pos[found]
        if self.day is not None:
            day = self.day[at]
            inside = np.isnat(day) | ((day >= first) & (day <= last))
        else:
            assert self.fy is not None and self.quarter is not None
            f, q = self.fy[at], self.quarter[at]
            inside = np.isnan(f) | np.isnan(q) | ((f == fy) & (q <= quarter))
        return found, inside


class _Rows:
    """Where each raw row of a table went, with its period (canonical, then set aside).

    Built once per bundle and table (:func:`kpilib.memo.memoized`): a batch worker asks
    for every report it renders, one source file's rows at a time."""

    def __init__(self, bundle: Bundle, decl: TableDecl) -> None:
        self.decl = decl
        kept = bundle.table(decl.table) if bundle.has_table(decl.table) else None
        self.parts = [  # looked up in this order: a row kept is not also set aside
            self._by_file(kept),
            self._by_file(bundle.quarantine(decl.table), raw=True),
        ]

    def _raw_columns(self, canonical: str) -> list[str]:
        names = [canonical]
        for src in self.decl.sources.values():
            names += [raw for raw, col in src.read.items() if col == canonical]
        return list(dict.fromkeys(names))

    def _by_file(self, df: pd.DataFrame | None, *, raw: bool = False) -> dict[str, _FileRows]:
        p = self.decl.period
        if df is None or df.empty or p is None or "source_row" not in df.columns:
            return {}
        out = pd.DataFrame(
            {
                "source_file": df["source_file"].astype(str).to_numpy(),
                "source_row": pd.to_numeric(df["source_row"], errors="coerce").to_numpy(),
            }
        )
        if p.column is not None:
            cols = self._raw_columns(p.column) if raw else [p.column]
            col = next((c for c in cols if c in df.columns), None)
            out["day"] = (
                _days(df[col], raw=raw)
                if col is not None
                else np.full(len(df), "NaT", "datetime64[D]")
            )
        else:
            out["fy"] = pd.to_numeric(df.get(p.fiscal_year), errors="coerce").to_numpy()
            out["quarter"] = pd.to_numeric(df.get(p.quarter), errors="coerce").to_numpy()
        out = out.drop_duplicates(["source_file", "source_row"])
        files: dict[str, _FileRows] = {}
        for name, part in out.groupby("source_file", sort=False):
            columns = {c: part[c].to_numpy() for c in ("day", "fy", "quarter") if c in part}
            if "day" in columns:
                columns["day"] = columns["day"].astype("datetime64[D]")
            files[str(name)] = _FileRows(pd.Index(part["source_row"].to_numpy()), **columns)
        return files

    def in_period(
        self, file: str, rows: Iterable[int], fy: int, quarter: int, as_of: dt.date
    ) -> list[int]:
        """The rows of ``file`` that belong to the period (an unknown period: they do)."""
        rows = np.asarray(list(rows), dtype=np.int64)
        inside = np.ones(len(rows), dtype=bool)
        seen = np.zeros(len(rows), dtype=bool)
        first = np.datetime64(cal.fiscal_year_bounds(fy)[0], "D")
        last = np.datetime64(as_of, "D")
        for part in self.parts:
            if file not in part:
                continue
            unseen = np.flatnonzero(~seen)
            found, ok = part[file].in_period(rows[unseen], first, last, fy, quarter)
            inside[unseen[found]] = ok
            seen[unseen[found]] = True
        return [int(r) for r in rows[inside]]


@cache
def _decls() -> Mapping[str, TableDecl]:
    return load_tables().tables


def _rows_th(rows: list[int]) -> str:
    head = ", ".join(str(r) for r in rows[:ROW_NAMES])
    more = f" และอีก {len(rows) - ROW_NAMES} แถว" if len(rows) > ROW_NAMES else ""
    return f"แถวที่ {head}{more}"


def blocking_in_period(
    findings: Iterable[Finding],
    bundle: Bundle,
    *,
    fy: int,
    quarter: int,
    as_of: dt.date | None = None,
) -> dict[str, Blocking]:
    """The tables whose blocking findings touch a report's period, with the rows named.

    Args:
        findings: The unit's findings (``ValidationReport.for_unit``).
        bundle: The data bundle (where each raw row went, and its date).
        fy: Fiscal year (Buddhist Era).
        quarter: The report's quarter.
        as_of: The report's as-of day (default: the quarter's last day).
    """
    as_of = as_of or cal.quarter_bounds(fy, quarter)[1]
    decls = _decls()
    out: dict[str, list[str]] = {}
    for f in findings:
        if f.severity != "blocking":
            continue
        where = f" ของ {f.source_file}" if f.source_file else ""
        if not f.source_rows or f.table not in decls:
            out.setdefault(f.table, []).append(
                f"ข้อมูล{table_th(f.table)}{where} ทั้งแฟ้ม: {check_th(f.check)}"
            )
            continue
        decl = decls[f.table]
        tr = memoized(bundle, ("certify.rows", f.table), lambda d=decl: _Rows(bundle, d))
        hit = tr.in_period(str(f.source_file), f.source_rows, fy, quarter, as_of)
        if hit:
            out.setdefault(f.table, []).append(
                f"ข้อมูล{table_th(f.table)} {_rows_th(hit)}{where}: {check_th(f.check)}"
            )
    return {t: Blocking(t, tuple(reasons)) for t, reasons in out.items()}
