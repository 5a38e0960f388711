"""Ingest adapters: raw exports → canonical Parquet tables + quarantine.

Sources (detected from the header, or stated with ``source=``):

- ``traffy-dump``: the Traffy Fondue open-data dump CSV (UTF-8 with BOM, UTC ``+00``
  timestamps, set-literal ``type``, district without "เขต", two province spellings, rows
  outside Bangkok, empty ticket ids, state at export time only).
- ``traffy-api-v2``: Traffy's download API v2 CSV (UTC+7, true in-progress/finished times).
- ``event-log``: the canonical complaint event log (``ticket_id,unit_code,event,timestamp``).
- the other input tables of ``docs/architecture.md`` (``report_submissions`` … ``conditions``),
  recognised by their exact column set and written with parsed dtypes.

Every raw row that is not carried over goes to ``processed/quarantine/<table>.csv`` with
``source_file``, ``source_row`` (1-based data row), ``reason_code``, ``reason`` and the
original fields. Raw files are only ever opened for reading. Everything is vectorised.
See ``docs/data.md`` for the quirks handled and the interpretations made.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilib.calendar import era_confusion
from kpilib.errors import InputError, ParameterError, SchemaError
from kpilib.fsio import atomic_write, sha256_file

BANGKOK_TZ = "Asia/Bangkok"
TS_DTYPE = "datetime64[ns, Asia/Bangkok]"

#: Canonical table names, in the order they are written.
TABLES: tuple[str, ...] = (
    "tickets",
    "events",
    "report_submissions",
    "council_resolutions",
    "key_projects",
    "survey_responses",
    "directives",
    "line_requests",
    "manual_results",
    "conditions",
)

EVENT_KINDS: tuple[str, ...] = ("forwarded", "accepted", "progress", "finished", "reopened")

#: Raw schemas: source name → the columns of its header (order as the source writes them).
SCHEMAS: dict[str, tuple[str, ...]] = {
    "traffy-dump": (
        "ticket_id", "type", "organization", "comment", "coords", "photo", "photo_after",
        "address", "subdistrict", "district", "province", "timestamp", "state", "star",
        "count_reopen", "last_activity",
    ),
    "traffy-api-v2": (
        "ticket_id", "type", "organization", "description", "photo", "latitude", "longitude",
        "address", "subdistrict", "district", "province", "timestamp", "photo_after",
        "timestamp_inprogress", "timestamp_finished", "org_finished", "status", "confirmed",
        "star", "count_reopen", "last_activity",
    ),
    "event-log": ("ticket_id", "unit_code", "event", "timestamp"),
    "report_submissions": ("unit_code", "month", "submitted_on"),
    "council_resolutions": ("resolution_id", "unit_code", "resolved_on", "reported_on"),
    "key_projects": ("project_id", "unit_code", "fiscal_year", "quarter", "on_plan"),
    "survey_responses": ("response_id", "unit_code", "survey", "responded_on", "level"),
    "directives": ("directive_id", "unit_code", "visit_type", "issued_on", "completed_on"),
    "line_requests": (
        "request_id", "unit_code", "user_id", "requested_at", "acknowledged_at", "progress_at",
    ),
    "manual_results": ("unit_code", "kpi_id", "fiscal_year", "quarter", "value", "note"),
    "conditions": ("unit_code", "kpi_id", "fiscal_year", "quarter", "condition", "met", "evidence"),
}  # fmt: skip

#: Raw files other modules read directly (known, so not a schema error, but not ingested):
#: ``monthly_figures.csv`` = published monthly figures, checked by kpilib.validation.
SIDE_INPUTS: dict[str, tuple[str, ...]] = {
    "monthly_figures": (
        "unit_code", "month", "as_of", "received", "finished", "in_progress", "finished_pct",
        "in_progress_pct",
    ),
}  # fmt: skip

#: Which canonical table each source feeds.
SOURCE_TABLE: dict[str, str] = {
    "traffy-dump": "tickets",
    "traffy-api-v2": "tickets",
    "event-log": "events",
    **{t: t for t in TABLES[2:]},
}

#: Ticket sources in priority order: when two sources hold the same ticket id, the first wins.
_TICKET_PRIORITY = ("traffy-api-v2", "traffy-dump")

BANGKOK_PROVINCES = frozenset({"กรุงเทพมหานคร", "จังหวัดกรุงเทพมหานคร", "กรุงเทพฯ", "กทม."})

TICKET_COLUMNS: tuple[str, ...] = (
    "ticket_id", "unit_code", "source", "type_tags", "comment", "state", "created_at",
    "inprogress_at", "finished_at", "state_is_export_time", "count_reopen", "star",
    "source_file", "source_row",
)  # fmt: skip
EVENT_COLUMNS: tuple[str, ...] = (
    "ticket_id",
    "unit_code",
    "event",
    "timestamp",
    "source_file",
    "source_row",
)

_UNIT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_RAW_SUFFIXES = (".csv", ".csv.gz")
REPORT_NAME = "ingest_report.json"


# --------------------------------------------------------------------------- results


@dataclass
class FileResult:
    """What happened to one raw file."""

    file: str
    source: str
    table: str
    rows: int
    carried: int
    quarantined: dict[str, int]
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "file": self.file,
            "source": self.source,
            "table": self.table,
            "rows": self.rows,
            "carried": self.carried,
            "quarantined": dict(sorted(self.quarantined.items())),
            "sha256": self.sha256,
        }


@dataclass
class IngestReport:
    """Summary of one ingest run (also written as ``processed/ingest_report.json``).

    Attributes:
        out_dir: Where the canonical tables were written.
        files: One entry per raw file read.
        tables: Rows written per canonical table.
        quarantine: Quarantined rows per table and reason code.
    """

    out_dir: Path
    files: list[FileResult] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    quarantine: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def quarantined_total(self) -> int:
        """All quarantined rows."""
        return sum(sum(v.values()) for v in self.quarantine.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no time stamps, so reruns write identical bytes)."""
        return {
            "files": [f.to_dict() for f in self.files],
            "tables": dict(self.tables),
            "quarantine": {t: dict(sorted(c.items())) for t, c in self.quarantine.items()},
        }

    def lines(self) -> list[str]:
        """Human-readable summary lines (what ``kpi ingest`` prints)."""
        out = []
        for f in self.files:
            if not f.table:
                out.append(f"{f.file} [{f.source}]: not ingested (read by validation)")
                continue
            out.append(
                f"{f.file} [{f.source}] → {f.table}: {f.rows} rows, {f.carried} carried, "
                f"{sum(f.quarantined.values())} quarantined"
            )
        for table, n in self.tables.items():
            out.append(f"{table}: {n} rows")
        for table, counts in self.quarantine.items():
            for code, n in sorted(counts.items()):
                out.append(f"quarantine/{table}.csv: {n} × {code}")
        out.append(f"written to {self.out_dir}")
        return out


@dataclass
class _Adapted:
    table: str
    frame: pd.DataFrame
    quarantine: pd.DataFrame
    rows: int


# --------------------------------------------------------------------------- helpers


def is_raw_file(path: Path) -> bool:
    """True for ``*.csv`` and ``*.csv.gz`` files not starting with ``_`` or ``.``."""
    name = path.name
    return (
        path.is_file() and name.lower().endswith(_RAW_SUFFIXES) and not name.startswith(("_", "."))
    )


def raw_files(raw_dir: str | Path) -> list[Path]:
    """The raw input files of a folder, sorted by name."""
    d = Path(raw_dir)
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if is_raw_file(p)), key=lambda p: p.name)


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_header(path: str | Path) -> list[str]:
    """Return a CSV file's column names (BOM removed, names stripped)."""
    p = Path(path)
    try:
        with _open_text(p) as fh:
            row = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read the header: {exc}", file=p.name) from exc
    if not row:
        raise SchemaError("the file is empty (no header row)", file=p.name)
    return [c.strip() for c in row]


def detect_source(path: str | Path, *, header: Sequence[str] | None = None) -> str:
    """Name the schema of a raw CSV from its header.

    Raises:
        SchemaError: The columns match no known schema; the message lists the columns
            expected (closest schema) and found.
    """
    cols = list(header) if header is not None else read_header(path)
    found = set(cols)
    for name, expected in (SCHEMAS | SIDE_INPUTS).items():
        if found == set(expected):
            return name
    best = max(SCHEMAS, key=lambda n: len(found & set(SCHEMAS[n])) / len(set(SCHEMAS[n]) | found))
    raise SchemaError(_schema_message(best, cols, unknown=True), file=Path(path).name)


def _schema_message(source: str, found: Sequence[str], *, unknown: bool) -> str:
    expected = SCHEMAS[source]
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    head = "unknown schema; closest is" if unknown else "columns do not match schema"
    return (
        f"{head} {source!r}: expected columns [{', '.join(expected)}]; "
        f"found [{', '.join(found)}]; missing [{', '.join(missing)}]; "
        f"unexpected [{', '.join(extra)}]. Known schemas: {', '.join(SCHEMAS)}"
    )


def _read_csv_strings(path: Path, header: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Read every column as text ("" for empty). Returns the frame and unparseable rows."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    bad: list[str] = []

    def _on_invalid(row: Any) -> str:
        bad.append(str(row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=_on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot parse as CSV: {exc}", file=path.name) from exc
    table = table.rename_columns([c.strip() for c in table.column_names])
    df = table.to_pandas()
    for c in df.columns:
        if df[c].dtype != "str":
            df[c] = df[c].astype("str")
    return df, bad


class _Rejects:
    """First-reason-wins bookkeeping of rejected rows."""

    def __init__(self, n: int) -> None:
        self.code = np.full(n, "", dtype=object)
        self.msg = np.full(n, "", dtype=object)
        self._ok = np.ones(n, dtype=bool)

    @property
    def ok(self) -> np.ndarray:
        """True for rows not rejected (a copy)."""
        return self._ok.copy()

    def add(self, mask: Any, code: str, msg: str | Any) -> None:
        """Reject the rows of ``mask`` not yet rejected; ``msg`` is a text or per-row texts."""
        m = np.asarray(mask, dtype=bool) & self._ok
        if not m.any():
            return
        self._ok[m] = False
        self.code[m] = code
        if isinstance(msg, str):
            self.msg[m] = msg
        elif isinstance(msg, pd.Series):
            self.msg[m] = np.asarray(msg.iloc[np.flatnonzero(m)], dtype=object)
        else:
            self.msg[m] = np.asarray(msg, dtype=object)[m]


def _by_unique(values: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``func`` to the distinct values only, then spread back (for low-cardinality text)."""
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    res = func(pd.Series(uniq, dtype="str"))
    return pd.Series(res.to_numpy()[codes], index=values.index, dtype=res.dtype)


def _rx(values: pd.Series, pattern: str) -> np.ndarray:
    """Vectorised regex search (pyarrow compute; RE2 syntax) → bool array, False for missing."""
    import pyarrow as pa
    import pyarrow.compute as pac

    res = pac.match_substring_regex(pa.array(values, type=pa.string()), pattern)
    return np.asarray(pac.fill_null(res, False).to_numpy(zero_copy_only=False), dtype=bool)


def _be_message(years: pd.Series, column: str) -> pd.Series:
    """Per-row message naming both readings of a Buddhist-Era year in a CE field."""
    out = pd.Series("", index=years.index, dtype=object)
    found = years.dropna()
    msgs = {int(y): era_confusion(int(y), expect="ce") for y in found.unique()}
    out[found.index] = [f"{column}: {msgs[int(y)]}" for y in found]
    return out


def _be_years(s: pd.Series) -> pd.Series:
    """The leading 4-digit year of each value when it lies in the Buddhist-Era range, else NaN."""
    from kpilib.calendar import BE_MAX, BE_MIN

    out = pd.Series(np.nan, index=s.index)
    cand = _rx(s, r"^\s*2[5-7]\d\d")  # cheap pre-filter
    if cand.any():
        year = pd.to_numeric(s[cand].str.strip().str.slice(0, 4), errors="coerce")
        out[cand] = year.where((year >= BE_MIN) & (year <= BE_MAX))
    return out


def _parse_timestamps(
    values: pd.Series,
    rej: _Rejects,
    *,
    column: str,
    naive_tz: str,
    required: bool,
) -> pd.Series:
    """Parse ISO 8601 timestamps to ``datetime64[ns, Asia/Bangkok]``.

    Values with an offset are converted; naive values are read in ``naive_tz`` (the
    source's documented zone). A Buddhist-Era year, an unparseable value, or an empty
    required value rejects the row.
    """
    s = values.str.strip()
    empty = (s == "").to_numpy()
    be = _be_years(s)
    is_be = be.notna().to_numpy()
    rej.add(is_be, "be_year", _be_message(be, column))
    has_off = _rx(s, _OFFSET)
    usable = ~empty & ~is_be
    out = pd.Series(pd.NaT, index=s.index, dtype=TS_DTYPE)
    m = usable & has_off
    if m.any():
        out[m] = pd.to_datetime(s[m], format="ISO8601", utc=True, errors="coerce").dt.tz_convert(
            BANGKOK_TZ
        )
    m = usable & ~has_off
    if m.any():
        naive = pd.to_datetime(s[m], format="ISO8601", errors="coerce")
        out[m] = naive.dt.tz_localize(naive_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(
            BANGKOK_TZ
        )
    bad = usable & out.isna().to_numpy()
    rej.add(bad, "bad_timestamp", (f"{column}: not an ISO 8601 timestamp: " + s))
    if required:
        rej.add(empty, f"missing_{column}", f"{column} is empty")
    return out.astype(TS_DTYPE)


def _parse_dates(values: pd.Series, rej: _Rejects, *, column: str, required: bool) -> pd.Series:
    """Parse ISO dates (``YYYY-MM-DD``) to ``datetime64[ns]`` at midnight; Thai dates too."""
    s = values.str.strip()
    empty = (s == "").to_numpy()
    be = _be_years(s)
    is_be = be.notna().to_numpy()
    rej.add(is_be, "be_year", _be_message(be, column))
    usable = ~empty & ~is_be
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if usable.any():
        parsed = pd.to_datetime(s[usable], format="%Y-%m-%d", errors="coerce")
        # not ISO: try the Thai styles (28/10/2562, 1 ต.ค. 2562) on the few distinct values
        todo = parsed.isna()
        if todo.any():
            from kpilib.calendar import parse_thai_date
            from kpilib.errors import CalendarError

            def _thai(text: str) -> Any:
                try:
                    return pd.Timestamp(parse_thai_date(text))
                except (CalendarError, ValueError):
                    return pd.NaT

            uniq = {v: _thai(v) for v in s[usable][todo].unique()}
            parsed[todo] = s[usable][todo].map(uniq)
        out[usable] = parsed.astype("datetime64[ns]")
    bad = usable & out.isna().to_numpy()
    rej.add(bad, "bad_date", (f"{column}: not a date: " + s))
    if required:
        rej.add(empty, f"missing_{column}", f"{column} is empty")
    return out.astype("datetime64[ns]")


def _parse_number(
    values: pd.Series, rej: _Rejects, *, column: str, required: bool, integer: bool
) -> pd.Series:
    s = values.str.strip()
    empty = (s == "").to_numpy()
    num = _by_unique(s, lambda u: pd.to_numeric(u.where(u != ""), errors="coerce").astype(float))
    bad = ~empty & num.isna().to_numpy()
    if integer:
        frac = num.notna() & (num != np.floor(num.fillna(0)))
        bad |= frac.to_numpy()
    rej.add(bad, "bad_number", (f"{column}: not a {'whole ' if integer else ''}number: " + s))
    if required:
        rej.add(empty, f"missing_{column}", f"{column} is empty")
    if integer:
        return num.where(~pd.Series(bad, index=s.index)).round().astype("Int64")
    return num.astype("Float64")


_TRUE = {"true", "t", "yes", "y", "1", "ใช่", "จริง"}
_FALSE = {"false", "f", "no", "n", "0", "ไม่ใช่", "ไม่จริง"}


def _parse_bool(values: pd.Series, rej: _Rejects, *, column: str) -> pd.Series:
    s = values.str.strip().str.lower()
    t = s.isin(_TRUE).to_numpy()
    f = s.isin(_FALSE).to_numpy()
    rej.add(~(t | f), "bad_boolean", (f"{column}: not true/false: " + s))
    return pd.Series(t, index=s.index, dtype=bool)


def _required_text(
    values: pd.Series, rej: _Rejects, *, column: str, code: str | None = None
) -> pd.Series:
    s = values.str.strip()
    rej.add((s == "").to_numpy(), code or f"missing_{column}", f"{column} is empty")
    return s


def _unit_codes(values: pd.Series, rej: _Rejects) -> pd.Series:
    s = values.str.strip()
    empty = (s == "").to_numpy()
    rej.add(empty, "missing_unit_code", "unit_code is empty")
    bad = ~empty & ~_rx(s, _UNIT_CODE.pattern)
    rej.add(bad, "bad_unit_code", ("unit_code is not a unit code ([A-Za-z0-9_.-]): " + s))
    return s


def _duplicates(
    key: pd.DataFrame,
    rej: _Rejects,
    rows: np.ndarray,
    *,
    code: str,
    what: str,
    candidates: np.ndarray | None = None,
) -> None:
    """Reject every repeat of a key among the rows still accepted, naming the first row.

    ``candidates`` (row positions) limits the search to rows that can be repeats.
    """
    ok = rej.ok
    idx = np.flatnonzero(ok) if candidates is None else candidates[ok[candidates]]
    if len(idx) < 2:
        return
    h = pd.util.hash_pandas_object(key.iloc[idx], index=False).to_numpy()
    dup_local = pd.Series(h).duplicated(keep="first").to_numpy()
    if not dup_local.any():
        return
    first_row = pd.Series(rows[idx]).groupby(h, sort=False).transform("first").to_numpy()
    where = idx[dup_local]
    dup = np.zeros(len(ok), dtype=bool)
    dup[where] = True
    full = np.full(len(ok), "", dtype=object)
    full[where] = [f"{what} data row {int(r)}" for r in first_row[dup_local]]
    rej.add(dup, code, full)


def _select(df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """Rows of ``df`` where ``mask`` holds, index reset.

    Filters through Arrow, chunk by chunk: pandas' boolean indexing on Arrow-backed text
    "takes" rows, which first concatenates every chunk of a column (slow on big files).
    """
    import pyarrow as pa

    if mask.all():
        return df.reset_index(drop=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    out = table.filter(pa.array(mask)).to_pandas()
    for col in df.columns:  # keep the exact dtypes (e.g. categories, nullable ints)
        if out[col].dtype != df[col].dtype:
            out[col] = out[col].astype(df[col].dtype)
    return out


def _quarantine(raw: pd.DataFrame, rej: _Rejects, rows: np.ndarray, file_name: str) -> pd.DataFrame:
    bad = ~rej.ok
    q = _select(raw, bad)
    head = pd.DataFrame(
        {
            "source_file": file_name,
            "source_row": rows[bad],
            "reason_code": rej.code[bad].astype(str),
            "reason": rej.msg[bad].astype(str),
        }
    )
    return pd.concat([head, q], axis=1)


def _row_numbers(raw: pd.DataFrame) -> np.ndarray:
    """1-based data row of each record (given by the slow reader; else consecutive)."""
    given = raw.attrs.get("source_rows")
    if given is not None and len(given) == len(raw):
        return np.asarray(given, dtype=np.int64)
    return np.arange(1, len(raw) + 1, dtype=np.int64)


def _read_csv_exact(
    path: Path, header: Sequence[str]
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Row-exact reader for files with malformed records (rare; Python's csv module).

    Returns the well-formed records (their data row numbers in ``attrs["source_rows"]``) and
    ``(row, text)`` of each record with the wrong number of fields. Blank lines are skipped and
    not counted, as the fast reader does.
    """
    good: list[list[str]] = []
    numbers: list[int] = []
    bad: list[tuple[int, str]] = []
    width = len(header)
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        next(reader, None)
        row = 0
        for rec in reader:
            if not rec:
                continue
            row += 1
            if len(rec) == width:
                good.append(rec)
                numbers.append(row)
            else:
                buf = io.StringIO()
                csv.writer(buf, lineterminator="").writerow(rec)
                bad.append((row, buf.getvalue()))
    df = pd.DataFrame(good, columns=[c.strip() for c in header], dtype="str")
    df.attrs["source_rows"] = numbers
    return df, bad


def _bad_rows_frame(bad: list[tuple[int, str]], file_name: str, width: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": file_name,
            "source_row": [r for r, _ in bad],
            "reason_code": "bad_row_shape",
            "reason": f"wrong number of fields (expected {width}; see raw_text)",
            "raw_text": [t for _, t in bad],
        }
    )


# --------------------------------------------------------------------------- districts


def district_table(params_dir: str | Path | None = None) -> pd.DataFrame:
    """The 50 Bangkok districts: ``name`` (no "เขต"), ``unit_code`` (geocode), ``name_en``.

    Read from ``params/units.yaml`` (units of kind ``district``) when it lists them,
    else from ``params/districts.csv`` (a copy of the shared district table).

    Raises:
        InputError: Neither file gives the districts.
    """
    from kpilib import paths

    pdir = Path(params_dir) if params_dir else paths.params_dir()
    frame = _districts_from_units_yaml(pdir / "units.yaml")
    if frame is None:
        csv_path = pdir / "districts.csv"
        if not csv_path.is_file():
            raise InputError(
                "no district table: expected params/units.yaml (districts) or params/districts.csv",
                file=str(pdir),
            )
        d = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame = pd.DataFrame(
            {
                "name": d["district_name"].str.strip(),
                "unit_code": d["district_geocode"].str.strip(),
                "name_en": d["district_english_name"].str.strip(),
            }
        )
    frame["name"] = frame["name"].str.replace(r"^\s*เขต\s*", "", regex=True).str.strip()
    return frame.sort_values("unit_code", ignore_index=True)


def _districts_from_units_yaml(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError):
        return None
    units = data.get("units") if isinstance(data, dict) else data
    if not isinstance(units, list):
        return None
    rows = [
        {
            "name": str(u.get("name_th", "")),
            "unit_code": str(u.get("code", "")),
            "name_en": str(u.get("name_en", "")),
        }
        for u in units
        if isinstance(u, dict) and u.get("kind") == "district"
    ]
    if len(rows) < 50:
        return None
    return pd.DataFrame(rows)


def _district_codes(values: pd.Series, lookup: dict[str, str]) -> pd.Series:
    def _norm(u: pd.Series) -> pd.Series:
        name = (
            u.str.strip()
            .str.replace(r"^เขต\s*", "", regex=True)
            .str.replace(r"\s+", "", regex=True)
        )
        return name.map(lookup).astype(object)

    return _by_unique(values, _norm)


# --------------------------------------------------------------------------- adapters


def _tags(values: pd.Series) -> pd.Series:
    """``{กีดขวาง,ถนน}`` / ``กีดขวาง, ถนน`` / ``{}`` → ``กีดขวาง,ถนน`` / ``""``."""
    return _by_unique(values, _tags_unique)


def _tags_unique(values: pd.Series) -> pd.Series:
    s = values.str.strip().str.replace(r"^\{|\}$", "", regex=True).str.replace('"', "", regex=False)
    s = s.str.replace(r"\s*,\s*", ",", regex=True).str.replace(r"^,+|,+$", "", regex=True)
    return s.str.replace(r",{2,}", ",", regex=True)


def _adapt_tickets(
    raw: pd.DataFrame,
    *,
    source: str,
    file_name: str,
    districts: dict[str, str],
) -> _Adapted:
    n = len(raw)
    rows = _row_numbers(raw)
    rej = _Rejects(n)
    tid = raw["ticket_id"].str.strip()
    rej.add(
        (tid == "").to_numpy(),
        "missing_ticket_id",
        "ticket_id is empty (a missing key, not a duplicate)",
    )
    prov = raw["province"].str.strip()
    outside = (prov != "") & ~prov.isin(BANGKOK_PROVINCES)
    rej.add(outside.to_numpy(), "outside_bangkok", ("province is outside Bangkok: " + prov))
    unit = _district_codes(raw["district"], districts)
    dist = raw["district"].str.strip()
    rej.add(((dist == "") & unit.isna()).to_numpy(), "missing_district", "district is empty")
    rej.add(
        unit.isna().to_numpy(),
        "unknown_district",
        ("district is not one of the 50 Bangkok districts: " + dist),
    )
    if source == "traffy-dump":
        created = _parse_timestamps(
            raw["timestamp"], rej, column="timestamp", naive_tz="UTC", required=True
        )
        inprog = pd.Series(pd.NaT, index=raw.index, dtype=TS_DTYPE)
        finished = pd.Series(pd.NaT, index=raw.index, dtype=TS_DTYPE)
        comment, state, export_time = raw["comment"], raw["state"], True
    else:
        created = _parse_timestamps(
            raw["timestamp"], rej, column="timestamp", naive_tz=BANGKOK_TZ, required=True
        )
        inprog = _parse_timestamps(
            raw["timestamp_inprogress"],
            rej,
            column="timestamp_inprogress",
            naive_tz=BANGKOK_TZ,
            required=False,
        )
        finished = _parse_timestamps(
            raw["timestamp_finished"],
            rej,
            column="timestamp_finished",
            naive_tz=BANGKOK_TZ,
            required=False,
        )
        comment, state, export_time = raw["description"], raw["status"], False
    star = _parse_number(raw["star"], rej, column="star", required=False, integer=False)
    reopen = _parse_number(
        raw["count_reopen"], rej, column="count_reopen", required=False, integer=True
    )
    # an exact duplicate row repeats its ticket id: only rows with a repeated id are compared
    cand = np.flatnonzero(tid.duplicated(keep=False).to_numpy())
    _duplicates(raw, rej, rows, code="duplicate", what="exact duplicate of", candidates=cand)
    _duplicates(
        pd.DataFrame({"t": tid}),
        rej,
        rows,
        code="duplicate_ticket_id",
        what="ticket_id already in",
        candidates=cand,
    )
    ok = rej.ok
    frame = pd.DataFrame(
        {
            "ticket_id": tid,
            "unit_code": unit.astype("str"),
            "source": source,
            "type_tags": _tags(raw["type"]),
            "comment": comment.astype("str"),
            "state": state.str.strip(),
            "created_at": created,
            "inprogress_at": inprog,
            "finished_at": finished,
            "state_is_export_time": export_time,
            "count_reopen": reopen,
            "star": star,
            "source_file": file_name,
            "source_row": rows,
        }
    )[list(TICKET_COLUMNS)]
    frame = _select(frame, ok)
    return _Adapted("tickets", frame, _quarantine(raw, rej, rows, file_name), n)


def _adapt_events(raw: pd.DataFrame, *, file_name: str) -> _Adapted:
    n = len(raw)
    rows = _row_numbers(raw)
    rej = _Rejects(n)
    tid = _required_text(raw["ticket_id"], rej, column="ticket_id")
    unit = _unit_codes(raw["unit_code"], rej)
    ev = raw["event"].str.strip().str.lower()
    rej.add(
        ~ev.isin(EVENT_KINDS).to_numpy(),
        "unknown_event",
        (f"event is not one of {', '.join(EVENT_KINDS)}: " + ev),
    )
    ts = _parse_timestamps(
        raw["timestamp"], rej, column="timestamp", naive_tz=BANGKOK_TZ, required=True
    )
    _duplicates(
        pd.DataFrame({"t": tid, "u": unit, "e": ev, "ts": ts}),
        rej,
        rows,
        code="duplicate",
        what="duplicate event of",
    )
    ok = rej.ok
    frame = pd.DataFrame(
        {
            "ticket_id": tid,
            "unit_code": unit,
            "event": pd.Categorical(ev.where(ok, EVENT_KINDS[0]), categories=list(EVENT_KINDS)),
            "timestamp": ts,
            "source_file": file_name,
            "source_row": rows,
        }
    )
    frame = _select(frame, ok)
    return _Adapted("events", frame, _quarantine(raw, rej, rows, file_name), n)


# column kind per other table: (kind, required); kinds: text, unit, date, timestamp, int,
# float, bool, month. "key" lists the columns that identify a row (duplicates quarantined).
_TABLE_SPECS: dict[str, dict[str, Any]] = {
    "report_submissions": {
        "cols": {
            "unit_code": ("unit", True),
            "month": ("month", True),
            "submitted_on": ("date", False),
        },
        "key": ("unit_code", "month"),
    },
    "council_resolutions": {
        "cols": {
            "resolution_id": ("text", True),
            "unit_code": ("unit", True),
            "resolved_on": ("date", True),
            "reported_on": ("date", False),
        },
        "key": ("resolution_id",),
    },
    "key_projects": {
        "cols": {
            "project_id": ("text", True),
            "unit_code": ("unit", True),
            "fiscal_year": ("int", True),
            "quarter": ("int", True),
            "on_plan": ("bool", True),
        },
        "key": ("project_id", "unit_code", "fiscal_year", "quarter"),
    },
    "survey_responses": {
        "cols": {
            "response_id": ("text", True),
            "unit_code": ("unit", True),
            "survey": ("text", True),
            "responded_on": ("date", True),
            "level": ("int", True),
        },
        "key": ("response_id",),
    },
    "directives": {
        "cols": {
            "directive_id": ("text", True),
            "unit_code": ("unit", True),
            "visit_type": ("text", True),
            "issued_on": ("date", True),
            "completed_on": ("date", False),
        },
        "key": ("directive_id",),
    },
    "line_requests": {
        "cols": {
            "request_id": ("text", True),
            "unit_code": ("unit", True),
            "user_id": ("text", True),
            "requested_at": ("timestamp", True),
            "acknowledged_at": ("timestamp", False),
            "progress_at": ("timestamp", False),
        },
        "key": ("request_id",),
    },
    "manual_results": {
        "cols": {
            "unit_code": ("unit", True),
            "kpi_id": ("text", True),
            "fiscal_year": ("int", True),
            "quarter": ("int", True),
            "value": ("float", False),
            "note": ("text", False),
        },
        "key": ("unit_code", "kpi_id", "fiscal_year", "quarter", "note"),
    },
    "conditions": {
        "cols": {
            "unit_code": ("unit", True),
            "kpi_id": ("text", True),
            "fiscal_year": ("int", True),
            "quarter": ("int", True),
            "condition": ("text", True),
            "met": ("bool", True),
            "evidence": ("text", False),
        },
        "key": ("unit_code", "kpi_id", "fiscal_year", "quarter", "condition"),
    },
}


def _adapt_table(raw: pd.DataFrame, *, table: str, file_name: str) -> _Adapted:
    spec = _TABLE_SPECS[table]
    n = len(raw)
    rows = _row_numbers(raw)
    rej = _Rejects(n)
    out: dict[str, pd.Series] = {}
    for col, (kind, required) in spec["cols"].items():
        v = raw[col]
        if kind == "unit":
            out[col] = _unit_codes(v, rej)
        elif kind == "text":
            out[col] = _required_text(v, rej, column=col) if required else v.str.strip()
        elif kind == "date":
            out[col] = _parse_dates(v, rej, column=col, required=required)
        elif kind == "timestamp":
            out[col] = _parse_timestamps(v, rej, column=col, naive_tz=BANGKOK_TZ, required=required)
        elif kind in ("int", "float"):
            out[col] = _parse_number(v, rej, column=col, required=required, integer=kind == "int")
        elif kind == "bool":
            out[col] = _parse_bool(v, rej, column=col)
        elif kind == "month":
            s = v.str.strip()
            be = _be_years(s)
            rej.add(be.notna().to_numpy(), "be_year", _be_message(be, col))
            good = _rx(s, r"^\d{4}-(0[1-9]|1[0-2])$")
            rej.add(~good & (s != "").to_numpy(), "bad_month", (f"{col}: not YYYY-MM: " + s))
            rej.add((s == "").to_numpy(), f"missing_{col}", f"{col} is empty")
            out[col] = s
        else:  # pragma: no cover - spec typo
            raise AssertionError(kind)
    frame = pd.DataFrame(out)
    _duplicates(
        frame[list(spec["key"])].astype(str), rej, rows, code="duplicate", what="duplicate key of"
    )
    frame = _select(frame, rej.ok)
    return _Adapted(table, frame, _quarantine(raw, rej, rows, file_name), n)


def read_source(
    path: str | Path,
    *,
    source: str = "auto",
    districts: dict[str, str] | None = None,
    file_name: str | None = None,
) -> tuple[str, pd.DataFrame, pd.DataFrame, int]:
    """Read one raw file with its adapter (no output written).

    Args:
        path: The raw CSV (``.csv`` or ``.csv.gz``).
        source: ``auto`` (detect from the header) or a name from :data:`SCHEMAS`.
        districts: District name → geocode (default: :func:`district_table`).
        file_name: The name recorded in ``source_file`` (default: the file's name).

    Returns:
        ``(table, canonical_frame, quarantine_frame, rows_read)``.

    Raises:
        SchemaError: Unknown schema, or the header does not match the stated source.
        InputError: The file cannot be read as CSV.
    """
    p = Path(path)
    name = file_name or p.name
    header = read_header(p)
    if source == "auto":
        source = detect_source(p, header=header)
    elif source not in SCHEMAS:
        raise ParameterError(
            f"unknown source {source!r}; choose auto or one of {', '.join(SCHEMAS)}"
        )
    elif set(header) != set(SCHEMAS[source]):
        raise SchemaError(_schema_message(source, header, unknown=False), file=name)
    raw, bad_text = _read_csv_strings(p, header)
    bad: list[tuple[int, str]] = []
    if bad_text:  # malformed records shift the fast reader's numbering: re-read row-exact
        raw, bad = _read_csv_exact(p, header)
    rows_attr = raw.attrs.get("source_rows")
    raw = raw[[c for c in SCHEMAS[source]]]
    if rows_attr is not None:
        raw.attrs["source_rows"] = rows_attr
    if source in ("traffy-dump", "traffy-api-v2"):
        if districts is None:
            d = district_table()
            districts = dict(zip(d["name"], d["unit_code"], strict=True))
        res = _adapt_tickets(raw, source=source, file_name=name, districts=districts)
    elif source == "event-log":
        res = _adapt_events(raw, file_name=name)
    else:
        res = _adapt_table(raw, table=source, file_name=name)
    q = res.quarantine
    if bad:
        q = pd.concat([q, _bad_rows_frame(bad, name, len(header))], ignore_index=True)
        q = q.sort_values("source_row", kind="stable", ignore_index=True)
    return source, res.frame, q, res.rows + len(bad)


# --------------------------------------------------------------------------- writing


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    atomic_write(
        path, lambda p: df.to_parquet(p, index=False, engine="pyarrow", compression="zstd")
    )


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda p: df.to_csv(p, index=False, encoding="utf-8", lineterminator="\n"))


def _combine_tickets(parts: list[tuple[str, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Concatenate ticket frames; a ticket id already given by a higher-priority source is quarantined."""
    parts = sorted(parts, key=lambda sp: _TICKET_PRIORITY.index(sp[0]))
    frames = [f for _, f in parts]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) == 1:
        return df, pd.DataFrame()
    dup = df["ticket_id"].duplicated(keep="first").to_numpy()
    if not dup.any():
        return df, pd.DataFrame()
    first = df.loc[~dup].drop_duplicates("ticket_id").set_index("ticket_id")
    d = df.loc[dup]
    head = pd.DataFrame(
        {
            "source_file": d["source_file"].to_numpy(),
            "source_row": d["source_row"].to_numpy(),
            "reason_code": "duplicate_ticket_id",
            "reason": [
                f"ticket_id already given by {first.at[t, 'source_file']} data row {first.at[t, 'source_row']}"
                for t in d["ticket_id"]
            ],
        }
    )
    # the raw fields are gone at this point: keep the row's canonical fields instead
    rest = d.drop(columns=["source_file", "source_row"]).reset_index(drop=True)
    q = pd.concat([head, rest], axis=1)
    return _select(df, ~dup), q


def ingest(
    files: Iterable[str | Path] | None = None,
    *,
    data_dir: str | Path,
    source: str = "auto",
    out_dir: str | Path | None = None,
) -> IngestReport:
    """Ingest raw files into canonical Parquet tables under ``out_dir``.

    Args:
        files: Raw files to read (default: every ``*.csv``/``*.csv.gz`` in ``data_dir/raw``;
            then tables with no input left are removed from ``out_dir``).
        data_dir: The data folder.
        source: ``auto`` or the schema name of every file in ``files``.
        out_dir: Output folder (default ``data_dir/processed``).

    Returns:
        The :class:`IngestReport` (also written to ``out_dir/ingest_report.json``).

    Raises:
        SchemaError: A file has an unknown schema (nothing is written).
        InputError: A file is missing or unreadable (nothing is written).
    """
    data = Path(data_dir)
    out = Path(out_dir) if out_dir else data / "processed"
    full_run = files is None
    paths = raw_files(data / "raw") if full_run else [Path(f) for f in files]
    if full_run and not paths:
        raise InputError("no raw files (*.csv, *.csv.gz) to ingest", file=str(data / "raw"))
    for p in paths:
        if not p.is_file():
            raise InputError("file not found", file=str(p))
    if out.resolve() in {p.parent.resolve() for p in paths}:
        raise ParameterError("the output folder must not be the folder of the raw files")
    # read everything first: a schema error leaves the previous output untouched
    dists: dict[str, str] | None = None
    per_table: dict[str, list[tuple[str, pd.DataFrame]]] = {}
    quarantine: dict[str, list[pd.DataFrame]] = {}
    report = IngestReport(out_dir=out)
    for p in paths:
        src = source
        if src == "auto":
            src = detect_source(p)
        if src in SIDE_INPUTS:  # read by another module, not a canonical table
            report.files.append(FileResult(p.name, src, "", 0, 0, {}, sha256_file(p)))
            continue
        if SOURCE_TABLE[src] == "tickets" and dists is None:
            d = district_table()
            dists = dict(zip(d["name"], d["unit_code"], strict=True))
        src, frame, q, nrows = read_source(p, source=src, districts=dists)
        table = SOURCE_TABLE[src]
        per_table.setdefault(table, []).append((src, frame))
        if len(q):
            quarantine.setdefault(table, []).append(q)
        counts = q["reason_code"].value_counts().to_dict() if len(q) else {}
        report.files.append(
            FileResult(
                p.name,
                src,
                table,
                nrows,
                len(frame),
                {str(k): int(v) for k, v in counts.items()},
                sha256_file(p),
            )
        )
    outputs: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        parts = per_table.get(table)
        if not parts:
            continue
        if table == "tickets":
            df, q = _combine_tickets(parts)
            if len(q):
                quarantine.setdefault("tickets", []).append(q)
                for f in report.files:  # keep rows = carried + quarantined per file
                    n = int((q["source_file"] == f.file).sum())
                    if n:
                        f.carried -= n
                        f.quarantined["duplicate_ticket_id"] = (
                            f.quarantined.get("duplicate_ticket_id", 0) + n
                        )
        else:
            frames = [f for _, f in parts]
            df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        outputs[table] = df
    for table, df in outputs.items():
        _write_parquet(df, out / f"{table}.parquet")
        report.tables[table] = len(df)
    qdir = out / "quarantine"
    for table in TABLES:
        qpath = qdir / f"{table}.csv"
        qs = quarantine.get(table)
        if qs:
            qdf = pd.concat(qs, ignore_index=True)
            _write_csv(qdf, qpath)
            counts = qdf["reason_code"].value_counts()
            report.quarantine[table] = {str(k): int(v) for k, v in sorted(counts.items())}
        elif table in outputs or full_run:
            qpath.unlink(missing_ok=True)
        if full_run and table not in outputs:
            (out / f"{table}.parquet").unlink(missing_ok=True)
    text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    atomic_write(out / REPORT_NAME, lambda p: p.write_text(text, encoding="utf-8"))
    return report
