"""Parsing raw text into canonical columns, driven by the table declarations.

One :class:`FileParse` per raw file: every declared column of the source is parsed by its
canonical column's type (``kpilib.tables``), and every row that cannot be carried over is
set aside once, with the first reason that applies (``reason_code``), the validation check it
amounts to (``check``) and a sentence (``reason``). Values read in spite of a quirk (Thai
digits, a Traffy type that is not a tag) leave a *note*. Everything is vectorised; per-value
work runs on the distinct values of low-cardinality columns only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac

from kpilib import calendar as cal
from kpilib.errors import CalendarError
from kpilib.tables import DTYPES, NUMERIC_TYPES, ColumnDecl, Reading, SourceDecl, TableDecl

BANGKOK_TZ = "Asia/Bangkok"
TS_DTYPE = DTYPES["timestamp"]

#: The first columns of a quarantine file; the raw fields read follow.
QUARANTINE_HEAD: tuple[str, ...] = (
    "source_file", "source_row", "reason_code", "reason", "check", "column", "unit_code",
)  # fmt: skip
#: The columns of a notes file (values read in spite of a quirk).
NOTE_COLUMNS: tuple[str, ...] = (
    "source_file", "source_row", "check", "column", "unit_code", "value", "message",
)  # fmt: skip

_UNIT_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_MAX_RUNS = 64  # select(): up to this many runs of kept rows are sliced rather than copied
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_THAI_DIGIT = "[๐-๙]"


def check_of(reason_code: str) -> str:
    """The validation check a quarantine reason amounts to (its severity is the suite's)."""
    if reason_code == "duplicate":
        return "duplicate_row"
    if reason_code.startswith("duplicate_"):
        return "unique"
    if reason_code.startswith("missing_"):
        return "missing_value"
    if reason_code.startswith("outside_"):
        return "outside_area"
    if reason_code in ("unknown_district", "bad_unit_code"):
        return "known_unit"
    if reason_code.startswith("unknown_"):
        return "in_set"
    if reason_code in ("be_year", "ce_year"):
        return "era_confusion"
    if reason_code == "bad_row_shape":
        return "malformed_row"
    return "unparseable"


# --------------------------------------------------------------------------- bookkeeping


class Rejects:
    """First-reason-wins bookkeeping of the rows set aside."""

    def __init__(self, n: int) -> None:
        self.code = np.full(n, "", dtype=object)
        self.msg = np.full(n, "", dtype=object)
        self.column = np.full(n, "", dtype=object)
        self._ok = np.ones(n, dtype=bool)

    @property
    def ok(self) -> np.ndarray:
        """True for rows not set aside (a copy)."""
        return self._ok.copy()

    def add(
        self,
        mask: Any,
        code: str,
        msg: str | Any,
        *,
        column: str = "",
        values: pd.Series | None = None,
    ) -> None:
        """Set aside the rows of ``mask`` not yet set aside.

        ``msg`` is a text (followed by the row's value from ``values``, if given) or per-row
        texts; per-row texts are only built for the rows set aside.
        """
        m = np.asarray(mask, dtype=bool) & self._ok
        if not m.any():
            return
        self._ok[m] = False
        self.code[m] = code
        self.column[m] = column
        if isinstance(msg, str) and values is not None:
            picked = values.iloc[np.flatnonzero(m)].tolist()
            self.msg[m] = [msg + str(v) for v in picked]
        elif isinstance(msg, str):
            self.msg[m] = msg
        elif isinstance(msg, pd.Series):
            self.msg[m] = np.asarray(msg.to_numpy(dtype=object), dtype=object)[m]
        else:
            self.msg[m] = np.asarray(msg, dtype=object)[m]


def const_str(value: str, index: pd.Index) -> pd.Series:
    """A ``str`` column holding one value (built by Arrow, not from a list of Python strings)."""
    arr = pa.repeat(pa.scalar(value, pa.large_string()), len(index))
    return pd.Series(pd.array(arr, dtype="str"), index=index)


def key_codes(frame: pd.DataFrame) -> np.ndarray:
    """One int64 code per row, equal for rows whose values are equal in every column.

    Each column is factorised (Arrow's dictionary encoding for text), then the codes are
    combined pairwise and refactorised: no hashing of whole rows, no collisions.
    """
    out: np.ndarray | None = None
    for col in frame.columns:
        codes, uniq = pd.factorize(frame[col], use_na_sentinel=False)
        codes = codes.astype(np.int64)
        if out is None:
            out = codes
        else:
            out, _ = pd.factorize(out * (len(uniq) + 1) + codes)
            out = out.astype(np.int64)
    return out if out is not None else np.zeros(len(frame), dtype=np.int64)


def by_unique(values: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``func`` to the distinct values only, then spread back (low-cardinality text).

    Text results are spread with Arrow's ``take`` (no Python string per row).
    """
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    res = func(pd.Series(uniq, dtype="str"))
    if res.dtype == "str":
        taken = pa.array(res.array, type=pa.large_string()).take(pa.array(codes))
        return pd.Series(pd.array(taken, dtype="str"), index=values.index)
    return pd.Series(res.to_numpy()[codes], index=values.index, dtype=res.dtype)


def rx(values: pd.Series, pattern: str) -> np.ndarray:
    """Vectorised regex search (pyarrow compute; RE2 syntax) → bool array, False for missing."""
    res = pac.match_substring_regex(pa.array(values, type=pa.string()), pattern)
    return np.asarray(pac.fill_null(res, False).to_numpy(zero_copy_only=False), dtype=bool)


def _non_ascii(values: pd.Series) -> np.ndarray:
    res = pac.invert(pac.string_is_ascii(pa.array(values, type=pa.string())))
    return np.asarray(pac.fill_null(res, False).to_numpy(zero_copy_only=False), dtype=bool)


def _has_offset(s: pd.Series) -> np.ndarray:
    """True where an ISO 8601 time ends with a UTC offset (``Z``, ``+07``, ``+07:00``, ``+0700``).

    A value without a time (no ``:``) has no offset: ``2024-01-15`` ends in ``-15``.
    """
    arr = pa.array(s, type=pa.string())
    tail = pac.utf8_slice_codeunits(arr, start=-6)
    res = pac.and_(
        pac.match_substring_regex(tail, _OFFSET),  # on 6 characters, not the whole value
        pac.match_substring(arr, ":"),
    )
    return np.asarray(pac.fill_null(res, False).to_numpy(zero_copy_only=False), dtype=bool)


def _iso_times(s: pd.Series, *, utc: bool) -> pd.Series:
    """ISO 8601 text → timestamps (UTC when ``utc``, else naive); NaT where it does not parse.

    Arrow's cast parses a whole column in C++; a column holding a value it refuses is parsed
    again by pandas, value by value (slower, but it marks only the bad values).
    """
    try:
        arr = pac.cast(pa.array(s, type=pa.string()), pa.timestamp("ns", tz="UTC" if utc else None))
        out = arr.to_pandas()
        out.index = s.index
        return out
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_datetime(s, format="ISO8601", utc=utc, errors="coerce")


def be_years(s: pd.Series) -> pd.Series:
    """The leading 4-digit year of each value when it lies in the Buddhist-Era range, else NaN."""
    out = pd.Series(np.nan, index=s.index)
    arr = pa.array(s, type=pa.string())  # cheap pre-filter: starts with 25, 26 or 27
    hit = pac.or_(
        pac.starts_with(arr, "25"), pac.or_(pac.starts_with(arr, "26"), pac.starts_with(arr, "27"))
    )
    cand = np.asarray(pac.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)
    if cand.any():
        year = pd.to_numeric(s[cand].str.strip().str.slice(0, 4), errors="coerce")
        out[cand] = year.where((year >= cal.BE_MIN) & (year <= cal.BE_MAX))
    return out


def _era_message(years: pd.Series, column: str, expect: Literal["ce", "be"]) -> np.ndarray:
    """Per row: the message naming both readings of a year in the wrong era ("" elsewhere)."""
    out = np.full(len(years), "", dtype=object)
    pos = np.flatnonzero(years.notna().to_numpy())
    found = years.to_numpy()[pos]
    msgs = {int(y): cal.era_confusion(int(y), expect=expect) for y in set(found.tolist())}
    out[pos] = [f"{column}: {msgs[int(y)]}" for y in found]
    return out


def _strip_khet(s: pd.Series) -> pd.Series:
    return s.str.strip().str.replace(r"^เขต\s*", "", regex=True).str.replace(r"\s+", "", regex=True)


# --------------------------------------------------------------------------- one file


class FileParse:
    """Parse one raw file's text into canonical columns.

    Args:
        raw: The text of the columns read (``str`` columns, "" for empty).
        rows: The 1-based data row of each record.
        table: The table declaration.
        source_name: The source's name.
        source: Its declaration.
        reading: The reading rules (boolean words, Thai digits).
        file_name: The name recorded in ``source_file``.
        districts: District name (no "เขต", no spaces) → geocode (sources naming districts).
    """

    def __init__(
        self,
        raw: pd.DataFrame,
        rows: np.ndarray,
        *,
        table: TableDecl,
        source_name: str,
        source: SourceDecl,
        reading: Reading,
        file_name: str,
        districts: dict[str, str] | None = None,
    ) -> None:
        self.raw = raw
        self.rows = rows
        self.table = table
        self.source_name = source_name
        self.source = source
        self.reading = reading
        self.file_name = file_name
        self.districts = districts or {}
        self.n = len(raw)
        self.rej = Rejects(self.n)
        self._notes: list[pd.DataFrame] = []
        self._text: dict[str, pd.Series] = {}
        self.units = const_str("", raw.index)

    # -- helpers

    def text(self, column: str) -> pd.Series:
        """A raw column's text, whitespace trimmed (computed once)."""
        s = self._text.get(column)
        if s is None:
            s = self.raw[column].str.strip()
            self._text[column] = s
        return s

    def note(self, mask: np.ndarray, check: str, column: str, message: str) -> None:
        """Record a note for the rows of ``mask`` (the raw value is kept)."""
        if not mask.any():
            return
        self._notes.append(
            pd.DataFrame(
                {
                    "source_file": self.file_name,
                    "source_row": self.rows[mask],
                    "check": check,
                    "column": column,
                    "row_pos": np.flatnonzero(mask),
                    "value": self.raw[column][mask].to_numpy(dtype=object),
                    "message": message,
                }
            )
        )

    def _required(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> np.ndarray:
        empty = (s == "").to_numpy()
        if decl.required:
            self.rej.add(empty, f"missing_{raw_col}", f"{raw_col} is empty", column=raw_col)
        return empty

    def _digits(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> pd.Series:
        """Read Thai digits in a number/date field as 0-9 (noted), if the rules say so."""
        if decl.type not in NUMERIC_TYPES or self.reading.thai_digits != "read":
            return s
        cand = _non_ascii(s)
        if not cand.any():
            return s
        thai = np.zeros(self.n, dtype=bool)
        thai[cand] = rx(s[cand], _THAI_DIGIT)
        if not thai.any():
            return s
        self.note(thai, "thai_digits", raw_col, "Thai digits read as Arabic digits")
        out = s.copy()
        out[thai] = s[thai].map(cal.from_thai_digits)
        return out

    # -- column types

    def parse(self, raw_col: str) -> pd.Series:
        """Parse one raw column with the type of the canonical column it fills."""
        decl = self.table.columns[self.source.read[raw_col]]
        kind = decl.type
        if kind == "text":  # kept verbatim (no copy); only emptiness matters
            if decl.required:
                self.rej.add(rx(self.raw[raw_col], r"^\s*$"), f"missing_{raw_col}",
                             f"{raw_col} is empty", column=raw_col)  # fmt: skip
            return self.raw[raw_col]
        s = self._digits(self.text(raw_col), raw_col, decl)
        if kind == "str":
            self._required(s, raw_col, decl)
            return s
        if kind == "unit":
            return self._units(s, raw_col)
        if kind in ("int", "float", "fiscal_year"):
            return self._number(s, raw_col, decl)
        if kind == "bool":
            return self._bool(s, raw_col, decl)
        if kind == "date":
            return self._date(s, raw_col, decl)
        if kind == "timestamp":
            return self._timestamp(s, raw_col, decl)
        if kind == "month":
            return self._month(s, raw_col, decl)
        if kind == "category":
            return self._category(s, raw_col, decl)
        if kind == "tags":
            return self._tags(s, raw_col, decl)
        raise AssertionError(kind)  # pragma: no cover - the model forbids other types

    def _units(self, s: pd.Series, raw_col: str) -> pd.Series:
        empty = (s == "").to_numpy()
        self.rej.add(empty, f"missing_{raw_col}", f"{raw_col} is empty", column=raw_col)
        if self.source.units_by == "district_name":
            lookup = self.districts
            known = by_unique(s, lambda u: _strip_khet(u).isin(lookup.keys()))
            unknown = ~known.to_numpy(dtype=bool) & ~empty
            self.rej.add(
                unknown,
                f"unknown_{raw_col}",
                f"{raw_col} is not one of the 50 Bangkok districts: ",
                values=s,
                column=raw_col,
            )
            # the geocode; an unknown name stays as written (the unit of its finding)
            out = by_unique(s, lambda u: _strip_khet(u).map(lookup).fillna(u).astype("str"))
        else:
            good = by_unique(s, lambda u: pd.Series(rx(u, _UNIT_CODE), index=u.index))
            bad = ~empty & ~good.to_numpy(dtype=bool)
            self.rej.add(
                bad,
                "bad_unit_code",
                f"{raw_col} is not a unit code ([A-Za-z0-9_.-]): ",
                values=s,
                column=raw_col,
            )
            out = s
        self.units = out.astype("str")
        return self.units

    def _number(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> pd.Series:
        empty = (s == "").to_numpy()
        integer = decl.type in ("int", "fiscal_year")

        def _num(u: pd.Series) -> pd.Series:
            return pd.to_numeric(
                u.str.replace(",", "", regex=False).where(u != ""), errors="coerce"
            ).astype(float)

        num = by_unique(s, _num)
        bad = ~empty & num.isna().to_numpy()
        if integer:
            bad |= (num.notna() & (num != np.floor(num.fillna(0)))).to_numpy()
        word = "whole number" if integer else "number"
        self.rej.add(bad, "bad_number", f"{raw_col}: not a {word}: ", values=s, column=raw_col)
        if decl.type == "fiscal_year":
            ok = num.notna() & ~pd.Series(bad, index=s.index)
            ce = ok & num.between(cal.CE_MIN, cal.CE_MAX)
            self.rej.add(ce.to_numpy(), "ce_year", _era_message(num.where(ce), raw_col, "be"),
                         column=raw_col)  # fmt: skip
            odd = ok & ~ce & ~num.between(cal.BE_MIN, cal.BE_MAX)
            self.rej.add(
                odd.to_numpy(),
                "bad_fiscal_year",
                f"{raw_col}: not a Buddhist-Era fiscal year (e.g. 2567): ",
                values=s,
                column=raw_col,
            )
        self._required(s, raw_col, decl)
        if integer:
            return num.where(~pd.Series(bad, index=s.index)).round().astype("Int64")
        return num.astype("Float64")

    def _bool(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> pd.Series:
        empty = (s == "").to_numpy()
        value, bad = self.reading.booleans.read(s)
        words = ", ".join((*self.reading.booleans.true_words, *self.reading.booleans.false_words))
        self.rej.add(
            bad.to_numpy(),
            "bad_boolean",
            f"{raw_col}: not true/false (one of {words}): ",
            values=s,
            column=raw_col,
        )
        if decl.required:
            self.rej.add(empty, f"missing_{raw_col}", f"{raw_col} is empty", column=raw_col)
        return value

    def _era(self, s: pd.Series, raw_col: str) -> np.ndarray:
        be = be_years(s)
        is_be = be.notna().to_numpy()
        self.rej.add(is_be, "be_year", _era_message(be, raw_col, "ce"), column=raw_col)
        return is_be

    def _date(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> pd.Series:
        empty = (s == "").to_numpy()
        usable = ~empty & ~self._era(s, raw_col)

        def _dates(u: pd.Series) -> pd.Series:
            parsed = pd.to_datetime(u, format="%Y-%m-%d", errors="coerce")
            todo = parsed.isna() & (u != "")
            if todo.any():  # not ISO: the Thai styles (28/10/2562, 1 ต.ค. 2562)

                def _thai(text: str) -> Any:
                    try:
                        return pd.Timestamp(cal.parse_thai_date(text))
                    except (CalendarError, ValueError):
                        return pd.NaT

                parsed[todo] = u[todo].map(_thai)
            return parsed.astype("datetime64[ns]")

        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        if usable.any():
            out[usable] = by_unique(s[usable], _dates)
        bad = usable & out.isna().to_numpy()
        self.rej.add(bad, "bad_date", f"{raw_col}: not a date: ", values=s, column=raw_col)
        self._required(s, raw_col, decl)
        return out

    def _timestamp(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> pd.Series:
        empty = (s == "").to_numpy()
        usable = ~empty & ~self._era(s, raw_col)
        has_off = _has_offset(s)
        out = pd.Series(pd.NaT, index=s.index, dtype=TS_DTYPE)
        m = usable & has_off
        if m.any():
            out[m] = _iso_times(s[m], utc=True).dt.tz_convert(BANGKOK_TZ)
        m = usable & ~has_off
        if m.any():
            out[m] = (
                _iso_times(s[m], utc=False)
                .dt.tz_localize(self.source.naive_tz, ambiguous="NaT", nonexistent="NaT")
                .dt.tz_convert(BANGKOK_TZ)
            )
        bad = usable & out.isna().to_numpy()
        self.rej.add(
            bad,
            "bad_timestamp",
            f"{raw_col}: not an ISO 8601 timestamp: ",
            values=s,
            column=raw_col,
        )
        self._required(s, raw_col, decl)
        return out.astype(TS_DTYPE)

    def _month(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> pd.Series:
        empty = (s == "").to_numpy()
        self._era(s, raw_col)
        good = rx(s, r"^\d{4}-(0[1-9]|1[0-2])$")
        self.rej.add(
            ~good & ~empty, "bad_month", f"{raw_col}: not YYYY-MM: ", values=s, column=raw_col
        )
        self._required(s, raw_col, decl)
        return s

    def _category(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> pd.Series:
        values = list(decl.values or ())
        low = s.str.lower()
        empty = (s == "").to_numpy()
        unknown = ~empty & ~low.isin(values).to_numpy()
        self.rej.add(
            unknown,
            f"unknown_{raw_col}",
            f"{raw_col} is not one of {', '.join(values)}: ",
            values=s,
            column=raw_col,
        )
        self._required(s, raw_col, decl)
        return pd.Series(
            pd.Categorical(low.where(low.isin(values), None), categories=values), index=s.index
        )

    def _tags(self, s: pd.Series, raw_col: str, decl: ColumnDecl) -> pd.Series:
        """``{กีดขวาง,ถนน}`` / ``กีดขวาง, ถนน`` / ``{}`` → ``กีดขวาง,ถนน`` / ``""``.

        A value that is not one of the declared tags (e.g. ``Point``) is dropped and noted.
        """
        allowed = frozenset(decl.values or ())

        def _split(u: pd.Series) -> pd.Series:
            t = u.str.replace(r"^\{|\}$", "", regex=True).str.replace('"', "", regex=False)
            t = t.str.replace(r"\s*,\s*", ",", regex=True)
            return t.map(lambda v: ",".join(x for x in v.split(",") if x)).astype("str")

        tags = by_unique(s, _split)
        if allowed:

            def _keep(u: pd.Series) -> pd.Series:
                return u.map(
                    lambda v: ",".join(x for x in v.split(",") if x and x in allowed)
                ).astype("str")

            kept = by_unique(tags, _keep)
            dropped = (kept != tags).to_numpy()
            self.note(
                dropped, "unknown_tag", raw_col, "not a Traffy type tag: dropped from type_tags"
            )
            tags = kept
        self._required(tags, raw_col, decl)
        return tags.astype("str")

    # -- rows

    def area(self) -> None:
        """Set aside rows outside the source's area (e.g. a province other than Bangkok)."""
        area = self.source.area
        if area is None:
            return
        s = self.text(area.column)
        outside = (s != "").to_numpy() & ~s.isin(area.values).to_numpy()
        self.rej.add(
            outside,
            f"outside_{area.name}",
            f"{area.column} is outside {area.name}: ",
            values=s,
            column=area.column,
        )

    # -- results

    def quarantine(self) -> pd.DataFrame:
        """The rows set aside: :data:`QUARANTINE_HEAD`, then the raw fields read."""
        bad = ~self.rej.ok
        codes = self.rej.code[bad].astype(str)
        head = pd.DataFrame(
            {
                "source_file": self.file_name,
                "source_row": self.rows[bad],
                "reason_code": codes,
                "reason": self.rej.msg[bad].astype(str),
                "check": [check_of(c) for c in codes],
                "column": self.rej.column[bad].astype(str),
                "unit_code": self.units[bad].to_numpy(dtype=object),
            }
        )
        fields = self.raw.drop(columns=[c for c in self.raw.columns if c in QUARANTINE_HEAD])
        body = select(fields, bad)
        return pd.concat([head, body], axis=1)

    def notes(self, carried: np.ndarray) -> pd.DataFrame:
        """Notes of the rows carried over (a row set aside is explained by its reason)."""
        if not self._notes:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in NOTE_COLUMNS})
        df = pd.concat(self._notes, ignore_index=True)
        df = df.loc[carried[df["row_pos"].to_numpy()]]
        df["unit_code"] = self.units.iloc[df["row_pos"].to_numpy()].to_numpy(dtype=object)
        return df[list(NOTE_COLUMNS)].reset_index(drop=True)


def select(df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """Rows of ``df`` where ``mask`` holds, index reset.

    Filters through Arrow, chunk by chunk: pandas' boolean indexing on Arrow-backed text
    "takes" rows, which first concatenates every chunk of a column (slow on big files).
    """
    if mask.all():
        return df.reset_index(drop=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    if len(edges) <= 2 * _MAX_RUNS:  # few runs of kept rows: zero-copy slices, no copying
        parts = [table.slice(a, b - a) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        table = pa.concat_tables(parts) if parts else table.slice(0, 0)
    else:
        table = table.filter(pa.array(mask))
    out = table.to_pandas()
    for col in df.columns:  # keep the exact dtypes (categories, nullable ints, str)
        if out[col].dtype != df[col].dtype:
            out[col] = out[col].astype(df[col].dtype)
    return out


def empty_column(decl: ColumnDecl, n: int, index: pd.Index) -> pd.Series:
    """A column of missing values of the declared dtype (a column a source does not have)."""
    if decl.type == "category":
        return pd.Series(
            pd.Categorical([None] * n, categories=list(decl.values or ())), index=index
        )
    if decl.type in ("str", "text", "unit", "month", "tags"):
        return const_str("", index)
    if decl.type == "bool":
        return pd.Series(False, index=index, dtype=bool)
    if decl.type == "timestamp":
        return pd.Series(pd.NaT, index=index, dtype=TS_DTYPE)
    if decl.type == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    return pd.Series(pd.NA, index=index, dtype=DTYPES[decl.type])


__all__ = [
    "NOTE_COLUMNS",
    "QUARANTINE_HEAD",
    "FileParse",
    "Rejects",
    "by_unique",
    "check_of",
    "const_str",
    "empty_column",
    "key_codes",
    "select",
]
