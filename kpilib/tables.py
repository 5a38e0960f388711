"""The input tables, declared once: ``params/tables/<table>.yaml`` + ``reading.yaml``.

One declaration per table says everything the ingest, validation, the sample generator and
the measures need to agree on (pandera style, as data):

- the canonical columns written to ``processed/<table>.parquet``: type, required, allowed
  values, and which are derived by the adapter rather than read;
- the table's key (rows repeating it are duplicates) and its unit column;
- each raw **source** feeding it: its adapter (``kpilib.ingest``), the raw header it is
  recognised by, which raw column fills which canonical column, the time zone of naive
  timestamps, how units are written (code or district name), an area filter;
- ``reading.yaml``: the words read as true/false and how Thai digits are read.

Definitions are data: loaded with ``yaml.safe_load`` into frozen pydantic models; unknown
keys are errors (:class:`~kpilib.errors.ConfigError` naming the file and field). See
``docs/data.md`` ("Table declarations").
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from kpilib.errors import ConfigError
from kpilib.paths import params_dir

ColumnType = Literal[
    "str", "text", "unit", "int", "float", "bool", "date", "timestamp", "month",
    "fiscal_year", "category", "tags",
]  # fmt: skip
StateClass = Literal["open", "finished", "closed"]

#: pandas dtype of each column type in the canonical tables.
DTYPES: dict[str, str] = {
    "str": "str",
    "text": "str",
    "unit": "str",
    "int": "Int64",
    "float": "Float64",
    "bool": "bool",
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns, Asia/Bangkok]",
    "month": "str",
    "fiscal_year": "Int64",
    "category": "category",
    "tags": "str",
}
#: Column types whose raw text may hold Thai digits (read per ``reading.thai_digits``).
NUMERIC_TYPES = frozenset({"int", "float", "fiscal_year", "date", "timestamp", "month"})

#: Every canonical table ends with the raw row it came from.
ROW_COLUMNS: tuple[str, ...] = ("source_file", "source_row")
#: Names a raw header may not use (the quarantine file's own columns).
RESERVED: frozenset[str] = frozenset(
    {"source_file", "source_row", "reason_code", "reason", "check", "column"}
)

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Booleans(BaseModel):
    """The words read as true and false (trimmed, case-insensitive)."""

    model_config = _FROZEN

    true_words: tuple[str, ...]
    false_words: tuple[str, ...]

    @model_validator(mode="after")
    def _disjoint(self) -> Booleans:
        both = {w.lower() for w in self.true_words} & {w.lower() for w in self.false_words}
        if both:
            raise ValueError(f"words read as both true and false: {sorted(both)}")
        return self

    def read(self, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Read text as booleans.

        Returns:
            ``(value, unreadable)``: the booleans (False where unreadable or empty) and a
            mask of non-empty values that are neither a true nor a false word.
        """
        text = values.astype("str").str.strip().str.lower()
        t = text.isin([w.lower() for w in self.true_words])
        f = text.isin([w.lower() for w in self.false_words])
        bad = ~(t | f) & (text != "") & values.notna()
        return t.fillna(False).astype(bool), bad.fillna(False).astype(bool)


class Reading(BaseModel):
    """``params/tables/reading.yaml``: how raw text is read in every table."""

    model_config = _FROZEN

    booleans: Booleans
    thai_digits: Literal["read", "reject"] = "read"


class ColumnDecl(BaseModel):
    """One canonical column.

    Attributes:
        type: How raw text is parsed and the column's dtype (:data:`DTYPES`).
        required: An empty value rejects the row (``missing_value``).
        values: Allowed values (``str``/``category``/``tags``); a category keeps this order.
        derived: Set by the adapter, not read from a raw column.
        description: For people.
    """

    model_config = _FROZEN

    type: ColumnType = "str"
    required: bool = False
    values: tuple[str, ...] | None = None
    derived: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _values_fit_type(self) -> ColumnDecl:
        if self.values is not None and self.type not in ("str", "category", "tags"):
            raise ValueError(f"values are only for str, category and tags columns, not {self.type}")
        if self.type == "category" and not self.values:
            raise ValueError("a category column needs its values")
        return self


class AreaDecl(BaseModel):
    """Rows whose ``column`` is neither empty nor one of ``values`` are outside the area.

    Attributes:
        name: The area's name; such rows are set aside as ``outside_<name>``.
        column: The raw column naming the place.
        values: The spellings that are inside the area.
    """

    model_config = _FROZEN

    name: str
    column: str
    values: tuple[str, ...]


class StateClasses(BaseModel):
    """What a state means: ``finished`` (resolved), ``closed`` (ended, not resolved); others open."""

    model_config = _FROZEN

    column: str
    finished: tuple[str, ...]
    closed: tuple[str, ...] = ()

    def class_of(self, state: str) -> StateClass:
        """The class of one state value."""
        if state in self.finished:
            return "finished"
        if state in self.closed:
            return "closed"
        return "open"


class SourceDecl(BaseModel):
    """One raw source of a table (a file schema), read by a registered ingest adapter.

    Attributes:
        adapter: The adapter's registered name (``kpilib.ingest.registry``).
        description: For people.
        file_names: Conventional file names (fnmatch patterns): the sample generator writes
            the first; a file that cannot be read is attributed to this table by its name.
        header: The raw columns, in the order the source writes them; a file is recognised
            by this set of names. Default: the table's non-derived columns.
        read: Raw column → the canonical column it fills (parsed with that column's type).
            Default: every header column that is a canonical column, same name.
        naive_tz: Time zone of timestamps written without an offset.
        units_by: ``code`` (unit codes) or ``district_name`` (Thai district names, with or
            without the "เขต" prefix, mapped to geocodes with the catalogue's units).
        area: Rows outside this area are set aside (``outside_area``).
        state_at_export_time: The source only holds the state at export time.
    """

    model_config = _FROZEN

    adapter: str
    description: str = ""
    file_names: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    read: dict[str, str] = {}
    naive_tz: str = "Asia/Bangkok"
    units_by: Literal["code", "district_name"] = "code"
    area: AreaDecl | None = None
    state_at_export_time: bool = False

    @field_validator("naive_tz")
    @classmethod
    def _known_zone(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r}") from None
        return tz

    @property
    def read_columns(self) -> tuple[str, ...]:
        """The raw columns the adapter reads (the others are only part of the header)."""
        extra = (self.area.column,) if self.area and self.area.column not in self.read else ()
        return (*self.read, *extra)

    def matches(self, header: set[str] | frozenset[str]) -> bool:
        """True when a file's header names exactly this source's columns (order free)."""
        return set(header) == set(self.header)


class PeriodDecl(BaseModel):
    """Which period a row belongs to: a date/timestamp column, or a fiscal year and quarter."""

    model_config = _FROZEN

    column: str | None = None
    fiscal_year: str | None = None
    quarter: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PeriodDecl:
        if (self.column is None) == (self.fiscal_year is None):
            raise ValueError("give either column or fiscal_year (with quarter)")
        return self


class TableDecl(BaseModel):
    """One canonical table and its raw sources.

    ``period`` says which period a row belongs to, so a finding on the row is weighed only
    against reports of that period (the certification rule, docs/validation.md).
    """

    model_config = _FROZEN

    table: str
    description: str = ""
    key: tuple[str, ...]
    unit_column: str | None = None
    period: PeriodDecl | None = None
    columns: dict[str, ColumnDecl]
    state_classes: StateClasses | None = None
    sources: dict[str, SourceDecl]

    @model_validator(mode="before")
    @classmethod
    def _source_defaults(cls, data: Any) -> Any:
        """Fill each source's default header (the read columns) and read mapping (same names)."""
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            return data
        cols = data["columns"]
        plain = [c for c, d in cols.items() if not (isinstance(d, dict) and d.get("derived"))]
        sources = data.get("sources")
        if isinstance(sources, dict):
            filled = {}
            for name, src in sources.items():
                if isinstance(src, dict):
                    src = dict(src)
                    src.setdefault("header", plain)
                    src.setdefault("read", {c: c for c in src["header"] if c in cols})
                filled[name] = src
            data = {**data, "sources": filled}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> TableDecl:
        cols = self.columns
        reserved = sorted(RESERVED & set(cols))
        if reserved:
            raise ValueError(f"reserved column name(s) {reserved}")
        period = self.period
        period_cols = () if period is None else (period.column, period.fiscal_year, period.quarter)
        for what, names in (
            ("key", self.key),
            ("unit_column", (self.unit_column or "",)),
            ("period", tuple(c for c in period_cols if c)),
        ):
            unknown = [c for c in names if c and c not in cols]
            if unknown:
                raise ValueError(f"{what} names undeclared column(s) {unknown}")
        if self.state_classes is not None:
            sc = self.state_classes
            allowed = cols[sc.column].values if sc.column in cols else None
            if allowed is None:
                raise ValueError(f"state_classes.column {sc.column!r} needs declared values")
            unknown = [v for v in (*sc.finished, *sc.closed) if v not in allowed]
            if unknown:
                raise ValueError(f"state_classes name states not in {sc.column}.values: {unknown}")
        if not self.sources:
            raise ValueError("a table needs at least one source")
        for name, src in self.sources.items():
            where = f"sources.{name}"
            if len(set(src.header)) != len(src.header):
                raise ValueError(f"{where}.header repeats a column")
            reserved = sorted(RESERVED & set(src.header))
            if reserved:
                raise ValueError(f"{where}.header uses reserved column name(s) {reserved}")
            missing = [c for c in src.read if c not in src.header]
            if missing:
                raise ValueError(f"{where}.read names columns not in its header: {missing}")
            targets = list(src.read.values())
            bad = [c for c in targets if c not in cols or cols[c].derived]
            if bad:
                raise ValueError(f"{where}.read fills unknown or derived column(s) {bad}")
            if len(set(targets)) != len(targets):
                raise ValueError(f"{where}.read fills a column twice")
            unread = [
                c for c, d in cols.items() if d.required and not d.derived and c not in targets
            ]
            if unread:
                raise ValueError(f"{where} does not read required column(s) {unread}")
            if src.area is not None and src.area.column not in src.header:
                raise ValueError(f"{where}.area.column {src.area.column!r} is not in its header")
            if src.units_by == "district_name" and self.unit_column not in targets:
                raise ValueError(
                    f"{where}: units_by district_name needs a column read into unit_column"
                )
        return self

    def output_columns(self) -> tuple[str, ...]:
        """The columns of the canonical table as written: declared ones + the raw row's place."""
        return (*self.columns, *ROW_COLUMNS)


class TableSet(BaseModel):
    """Every declared table plus the reading rules."""

    model_config = _FROZEN

    reading: Reading
    tables: dict[str, TableDecl]

    @model_validator(mode="after")
    def _unique_sources(self) -> TableSet:
        seen: dict[str, str] = {}
        for t in self.tables.values():
            for s in t.sources:
                if s in seen:
                    raise ValueError(f"source {s!r} declared by {seen[s]} and {t.table}")
                seen[s] = t.table
        return self

    def table(self, name: str) -> TableDecl:
        """The declaration of one table.

        Raises:
            ConfigError: Unknown table name.
        """
        try:
            return self.tables[name]
        except KeyError:
            raise ConfigError(
                f"unknown table {name!r}; declared tables: {', '.join(self.tables)}"
            ) from None

    def sources(self) -> Iterator[tuple[str, TableDecl, SourceDecl]]:
        """Every source as ``(source name, its table, its declaration)``, in declaration order."""
        for t in self.tables.values():
            for name, src in t.sources.items():
                yield name, t, src

    def source(self, name: str) -> tuple[TableDecl, SourceDecl]:
        """A source by name, with its table.

        Raises:
            ConfigError: Unknown source (the message lists the known ones).
        """
        for s, t, src in self.sources():
            if s == name:
                return t, src
        known = ", ".join(s for s, _, _ in self.sources())
        raise ConfigError(f"unknown source {name!r}; known sources: {known}")


# --------------------------------------------------------------------------- loading

#: Tables in the order they are written and listed (the others follow, by name).
_ORDER = (
    "tickets", "events", "report_submissions", "council_resolutions", "key_projects",
    "survey_responses", "directives", "line_requests", "manual_results", "conditions",
)  # fmt: skip

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CACHE: dict[tuple[Any, ...], TableSet] = {}
_LOCK = threading.Lock()


def default_tables_dir() -> Path:
    """Return ``params/tables``."""
    return params_dir() / "tables"


def _config_error(exc: ValidationError, path: Path) -> ConfigError:
    errs = exc.errors()
    where = ".".join(str(p) for p in errs[0]["loc"])
    more = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errs[1:4])
    msg = errs[0]["msg"] + (f" (also {more})" if more else "")
    return ConfigError(msg, file=path, field=where or None)


def _read_yaml(path: Path) -> Any:
    try:
        # the safe loader, in C when PyYAML has libyaml
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=path) from exc


def load_tables(folder: str | Path | None = None) -> TableSet:
    """Load and check the table declarations (cached per folder and file times).

    Args:
        folder: The declarations folder (default ``params/tables``).

    Raises:
        ConfigError: A missing folder or ``reading.yaml``, bad YAML, unknown keys,
            inconsistent columns, a file whose ``table`` is not its file name.
    """
    root = Path(folder) if folder is not None else default_tables_dir()
    if not root.is_dir():
        raise ConfigError("table declarations folder not found", file=root)
    files = sorted(root.glob("*.yaml"))
    key = (str(root.resolve()), tuple((f.name, f.stat().st_mtime_ns) for f in files))
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    reading_path = root / "reading.yaml"
    if not reading_path.is_file():
        raise ConfigError("missing reading.yaml (boolean words, Thai digits)", file=root)
    try:
        reading = Reading.model_validate(_read_yaml(reading_path))
    except ValidationError as exc:
        raise _config_error(exc, reading_path) from exc
    tables: dict[str, TableDecl] = {}
    for path in files:
        if path.name == "reading.yaml":
            continue
        raw = _read_yaml(path)
        try:
            decl = TableDecl.model_validate(raw)
        except ValidationError as exc:
            raise _config_error(exc, path) from exc
        if decl.table != path.stem:
            raise ConfigError(
                f"table {decl.table!r} must be declared in {decl.table}.yaml", file=path
            )
        tables[decl.table] = decl
    order = {t: i for i, t in enumerate(_ORDER)}
    tables = dict(sorted(tables.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    try:
        result = TableSet(reading=reading, tables=tables)
    except ValidationError as exc:
        raise _config_error(exc, root) from exc
    with _LOCK:
        _CACHE[key] = result
    return result


def declarations_hash(folder: str | Path | None = None) -> str:
    """sha256 of the declaration files (names and bytes): an ingest made with other
    declarations is stale."""
    root = Path(folder) if folder is not None else default_tables_dir()
    h = hashlib.sha256()
    for path in sorted(root.glob("*.yaml")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def table_names() -> tuple[str, ...]:
    """The declared canonical tables, in write order."""
    return tuple(load_tables().tables)


def read_booleans(values: pd.Series) -> pd.Series:
    """Read a column as booleans with the declared words (already-bool columns pass through).

    Unreadable or empty values are False; the ingest rejects them before they reach a
    canonical table, so this only matters for data read some other way.
    """
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    return load_tables().reading.booleans.read(values)[0]


__all__ = [
    "DTYPES",
    "ROW_COLUMNS",
    "AreaDecl",
    "Booleans",
    "ColumnDecl",
    "Reading",
    "SourceDecl",
    "StateClasses",
    "TableDecl",
    "TableSet",
    "declarations_hash",
    "default_tables_dir",
    "load_tables",
    "read_booleans",
    "table_names",
]
