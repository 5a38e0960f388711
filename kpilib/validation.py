"""Validation of a data folder: great-expectations suites plus domain cross-checks.

Validation runs once per batch over the whole input (:func:`run_validation`), writes every
finding to ``<out>/validation.json`` (read back cheaply with :func:`load_validation_report`,
no great-expectations import) and the GX Data Docs to ``<out>/data_docs/``. Each unit's
report reads its own slice (:meth:`ValidationReport.for_unit`); a blocking finding makes the
KPIs that read the table "not certified" (:meth:`ValidationReport.blocking_tables`).

The suites are data (``params/validation/suites.yaml``): a column list per table plus
checks named from :data:`CHECKS`. Checks of kind ``gx`` become GX expectations; checks of
kind ``domain`` are pandas functions (cross-row and arithmetic checks). Every raw value is
read as text first, so Thai digits, Buddhist-Era years in Common-Era fields and values that
do not parse are found and named rather than turned into NaN. See ``docs/validation.md``.

``great_expectations`` is imported inside :func:`run_validation` only (it costs seconds).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import io
import itertools
import re
import shutil
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from kpilib import calendar as cal
from kpilib.errors import ConfigError, InputError, KpilibError
from kpilib.fsio import atomic_write, atomic_write_text
from kpilib.paths import params_dir, project_root

Severity = Literal["blocking", "warning"]
ColumnType = Literal["str", "int", "float", "bool", "date", "timestamp", "month", "fiscal_year"]

#: How many failing rows a finding keeps as a sample (``Finding.rows``); all row numbers are
#: kept in ``Finding.source_rows``.
ROW_SAMPLE = 10
#: Tables that offices (units that are not districts) read across all districts: a blocking
#: finding on any unit's rows of these tables marks an office's KPI not certified.
CROSS_UNIT_TABLES: tuple[str, ...] = ("tickets", "events")
#: The implicit checks of the parse stage: a cell they flag is not flagged again by later checks.
_PARSE_CHECKS = frozenset({"unparseable", "era_confusion"})
_THAI_DIGIT_RE = r"[๐-๙]"
_FROM_THAI = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_OFFSET_RE = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"


# --------------------------------------------------------------------------- models (suites)


class ColumnSpec(BaseModel):
    """One declared column of an input table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ColumnType = "str"
    required: bool = False


class CheckSpec(BaseModel):
    """One named check of a suite, with its parameters and severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    severity: Severity
    column: str | None = None
    columns: tuple[str, ...] | None = None
    other: str | None = None
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    first: str | None = None
    then: str | None = None
    numerator: str | None = None
    denominator: str | None = None

    @model_validator(mode="after")
    def _known_check(self) -> CheckSpec:
        spec = CHECKS.get(self.check)
        if spec is None:
            raise ValueError(f"unknown check {self.check!r}; known: {', '.join(sorted(CHECKS))}")
        missing = [p for p in spec.needs if getattr(self, p) is None]
        if missing:
            raise ValueError(f"check {self.check!r} needs {', '.join(missing)}")
        return self

    def referenced_columns(self) -> tuple[str, ...]:
        """Return every column this check reads."""
        cols = [self.column, self.other, self.numerator, self.denominator, *(self.columns or ())]
        return tuple(c for c in cols if c)


class ImplicitSeverities(BaseModel):
    """Severities of the checks every table gets from its column list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unreadable_file: Severity
    missing_column: Severity
    missing_value: Severity
    unparseable: Severity
    era_confusion: Severity
    thai_digits: Severity
    ingest_quarantine: Severity


class TableSuite(BaseModel):
    """The expectation suite of one input table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    unit_column: str | None = None
    unit_by: Literal["code", "name"] = "code"
    assume_tz: str = "Asia/Bangkok"
    columns: dict[str, ColumnSpec]
    checks: tuple[CheckSpec, ...] = ()

    @model_validator(mode="after")
    def _columns_declared(self) -> TableSuite:
        declared = set(self.columns)
        if self.unit_column and self.unit_column not in declared:
            raise ValueError(f"unit_column {self.unit_column!r} is not a declared column")
        for chk in self.checks:
            unknown = [c for c in chk.referenced_columns() if c not in declared]
            if unknown:
                raise ValueError(f"check {chk.check!r} names undeclared column(s) {unknown}")
        return self


class SuiteSet(BaseModel):
    """All suites (``params/validation/suites.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    implicit: ImplicitSeverities
    tables: dict[str, TableSuite]


def default_suites_path() -> Path:
    """Return ``params/validation/suites.yaml``."""
    return params_dir() / "validation" / "suites.yaml"


def load_suites(path: str | Path | None = None) -> SuiteSet:
    """Load and check the validation suites.

    Args:
        path: The YAML file (default :func:`default_suites_path`).

    Raises:
        ConfigError: If the file is missing, not YAML, has unknown keys or unknown checks.
    """
    path = Path(path) if path is not None else default_suites_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read validation suites: {exc}", file=path) from exc
    try:
        return SuiteSet.model_validate(raw)
    except ValidationError as exc:
        errs = exc.errors()
        where = ".".join(str(p) for p in errs[0]["loc"])
        more = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errs[1:5])
        msg = errs[0]["msg"] + (f" (also {more})" if more else "")
        raise ConfigError(msg, file=path, field=where or None) from exc


# --------------------------------------------------------------------------- findings & report


class Finding(BaseModel):
    """One problem found in the input: a check that failed for some rows of one unit.

    Attributes:
        check: The check's name (``unique``, ``era_confusion``, ...).
        table: The input table (canonical name).
        severity: ``blocking`` or ``warning``.
        unit_code: The unit the rows belong to; None for a file-level problem (all units).
        column: The column concerned, if any.
        rows: A sample of the failing rows (``source_row`` and the raw value).
        count: How many rows failed (0 for a file-level problem).
        message: One line naming the file, rows and column.
        source_file: The raw file (name relative to the data folder's ``raw/``).
        source_rows: Every failing row number (1-based data rows; the header is row 0).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    table: str
    severity: Severity
    unit_code: str | None = None
    column: str | None = None
    rows: tuple[dict[str, Any], ...] = ()
    count: int = 0
    message: str
    source_file: str | None = None
    source_rows: tuple[int, ...] = ()


class ValidationReport(BaseModel):
    """Every finding of one validation run, plus per-suite GX result summaries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fy: int
    data_dir: str
    created_at: str
    findings: tuple[Finding, ...] = ()
    suites: dict[str, dict[str, Any]] = {}
    tables: dict[str, str] = {}
    unusable: tuple[str, ...] = ()
    data_docs: str | None = None
    district_codes: tuple[str, ...] = ()
    cross_unit_tables: tuple[str, ...] = CROSS_UNIT_TABLES

    def _applies(self, finding: Finding, unit_code: str) -> bool:
        if finding.unit_code is None or finding.unit_code == unit_code:
            return True
        is_office = bool(self.district_codes) and unit_code not in self.district_codes
        return is_office and finding.table in self.cross_unit_tables

    def for_unit(self, unit_code: str) -> list[Finding]:
        """Return the findings that concern one unit: its own rows and file-level problems.

        An office (a unit that is not a district) also sees every finding on the tables it
        reads across districts (:data:`CROSS_UNIT_TABLES`).
        """
        return [f for f in self.findings if self._applies(f, unit_code)]

    def blocking_tables(self, unit_code: str) -> frozenset[str]:
        """Return the tables with a blocking finding for this unit (its KPIs on them are not certified)."""
        return frozenset(f.table for f in self.for_unit(unit_code) if f.severity == "blocking")

    def summary_rows(self) -> list[dict[str, Any]]:
        """Return one row per (check, table, severity): rows affected and findings, blocking first."""
        agg: dict[tuple[str, str, str], dict[str, Any]] = {}
        for f in self.findings:
            key = (f.check, f.table, f.severity)
            row = agg.setdefault(
                key,
                {
                    "check": f.check,
                    "table": f.table,
                    "severity": f.severity,
                    "count": 0,
                    "findings": 0,
                },
            )
            row["count"] += f.count
            row["findings"] += 1
        order = {"blocking": 0, "warning": 1}
        return sorted(agg.values(), key=lambda r: (order[r["severity"]], r["table"], r["check"]))

    @property
    def has_blocking(self) -> bool:
        """True when any finding is blocking."""
        return any(f.severity == "blocking" for f in self.findings)

    @property
    def exit_code(self) -> int:
        """The ``kpi validate`` exit code: 2 unusable input, 1 blocking findings, 0 clean."""
        if self.unusable:
            return 2
        return 1 if self.has_blocking else 0

    def write(self, path: str | Path) -> Path:
        """Write the report as JSON (UTF-8, Thai kept readable)."""
        return atomic_write_text(path, self.model_dump_json(indent=1))


def load_validation_report(path: str | Path) -> ValidationReport:
    """Read a saved ``validation.json`` (cheap: no great-expectations import).

    Raises:
        InputError: If the file is missing or is not a validation report.
    """
    path = Path(path)
    try:
        return ValidationReport.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read validation results: {exc.strerror}", file=path) from exc
    except ValidationError as exc:
        raise InputError(f"not a validation report: {exc.errors()[0]['msg']}", file=path) from exc


# --------------------------------------------------------------------------- units


@dataclass(frozen=True)
class UnitDirectory:
    """Known unit codes, the district subset, and district names (without "เขต") to codes."""

    codes: frozenset[str]
    district_codes: frozenset[str]
    names: Mapping[str, str] = field(default_factory=dict)

    def code_for_name(self, name: str) -> str | None:
        """Return the geocode of a district name (with or without the "เขต" prefix)."""
        return self.names.get(_strip_khet(name))


def _strip_khet(name: str) -> str:
    name = name.strip()
    return name[3:].strip() if name.startswith("เขต") else name


def _shared_dir() -> Path:
    import os

    env = os.environ.get("KPILIB_SHARED")
    return Path(env) if env else project_root().parent / "shared"


def load_units(*, params: str | Path | None = None) -> UnitDirectory:
    """Return the known units: ``params/units.yaml`` if present, else the 50-district table + GOVSEC.

    The fallback reads ``bkk_districts.csv`` from the shared reference folder
    (``KPILIB_SHARED``, default ``../shared``) until the catalogue's units file exists.

    Raises:
        ConfigError: If neither source can be read.
    """
    units_yaml = Path(params) if params is not None else params_dir() / "units.yaml"
    if units_yaml.is_file():
        return _units_from_yaml(units_yaml)
    csv_path = _shared_dir() / "data" / "bkk_districts.csv"
    try:
        df = pd.read_csv(csv_path, dtype=str, encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(
            "no params/units.yaml and the district table cannot be read", file=csv_path
        ) from exc
    codes = frozenset(df["district_geocode"].str.strip())
    names = {
        _strip_khet(n): c.strip()
        for n, c in zip(df["district_name"], df["district_geocode"], strict=True)
    }
    return UnitDirectory(codes=codes | {"GOVSEC"}, district_codes=codes, names=names)


def _units_from_yaml(path: Path) -> UnitDirectory:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read units: {exc}", file=path) from exc
    items: Iterable[Any]
    if isinstance(raw, dict) and "units" in raw:
        raw = raw["units"]
    if isinstance(raw, dict):
        items = [{"code": k, **(v or {})} for k, v in raw.items()]
    elif isinstance(raw, list):
        items = raw
    else:
        raise ConfigError("expected a list of units", file=path)
    codes: set[str] = set()
    districts: set[str] = set()
    names: dict[str, str] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "code" not in item:
            raise ConfigError("each unit needs a code", file=path, field=f"units[{i}]")
        code = str(item["code"]).strip()
        codes.add(code)
        if item.get("kind") == "district":
            districts.add(code)
            if item.get("name_th"):
                names[_strip_khet(str(item["name_th"]))] = code
    return UnitDirectory(codes=frozenset(codes), district_codes=frozenset(districts), names=names)


# --------------------------------------------------------------------------- reading raw CSVs


def read_raw_csv(path: str | Path) -> pd.DataFrame:
    """Read a raw CSV as text (every value a string, empty cells ``""``), never modifying it.

    A UTF-8 byte-order mark is accepted. The returned frame's index is the 1-based data row
    number (the header is row 0).

    Raises:
        InputError: If the file is empty, binary, HTML, not UTF-8 or not a well-formed CSV;
            the message names the file (and the row where known).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from exc
    if not data.strip():
        raise InputError("empty file: no header and no rows", file=path)
    if b"\x00" in data[:8192]:
        raise InputError("binary data, not a CSV text file", file=path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n")
        raise InputError(
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8 "
            "(a Thai TIS-620/Windows-874 export must be converted first)",
            file=path,
            row=line,
        ) from exc
    head = text.lstrip().lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body", "<table")):
        raise InputError("HTML/XML, not a CSV (a web page saved instead of the data?)", file=path)
    try:
        df = pd.read_csv(
            io.BytesIO(data),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError("empty file: no header and no rows", file=path) from exc
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        row = int(m.group(1)) - 1 if m else None
        raise InputError(
            f"not a well-formed CSV: {' '.join(str(exc).split())}", file=path, row=row
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df


# --------------------------------------------------------------------------- row failures


@dataclass
class _Failure:
    """Rows of one table that failed one check (before grouping by unit)."""

    check: str
    severity: Severity
    column: str | None
    rows: list[int]
    detail: str
    row_detail: dict[int, str] | None = None  # a more precise detail per row, if any


@dataclass
class _RunContext:
    fy: int
    units: UnitDirectory
    fy_first: dt.date
    fy_last: dt.date
    kpi_ids: frozenset[str] | None = None  # None: the catalogue could not be read


@dataclass(frozen=True)
class CheckDef:
    """A registered check: its kind, required parameters and how to run or describe it."""

    name: str
    kind: Literal["gx", "domain"]
    needs: tuple[str, ...]
    describe: Callable[[CheckSpec, _RunContext], str]
    build: Callable[..., Any]


#: Every check a suite may name.
CHECKS: dict[str, CheckDef] = {}


def register_check(
    name: str,
    *,
    kind: Literal["gx", "domain"],
    needs: tuple[str, ...] = (),
    describe: Callable[[CheckSpec, _RunContext], str],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a check by name.

    A ``gx`` check's function is ``(gxe, spec, ctx, column_type) -> Expectation`` (``gxe`` is
    ``great_expectations.expectations``); a ``domain`` check's function is
    ``(spec, parsed, raw, ctx) -> list[int]`` returning failing row numbers.
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = CheckDef(name=name, kind=kind, needs=needs, describe=describe, build=fn)
        return fn

    return deco


def _fy_text(ctx: _RunContext) -> str:
    return f"fiscal year {ctx.fy} ({ctx.fy_first.isoformat()}..{ctx.fy_last.isoformat()})"


@register_check(
    "unique",
    kind="gx",
    needs=("columns",),
    describe=lambda s, c: f"duplicate key ({', '.join(s.columns or ())}); the first row is kept",
)
def _gx_unique(gxe: Any, spec: CheckSpec, ctx: _RunContext, ctype: str | None) -> Any:
    cols = list(spec.columns or ())
    if len(cols) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=cols[0])
    return gxe.ExpectCompoundColumnsToBeUnique(column_list=cols)


@register_check(
    "known_unit",
    kind="gx",
    needs=("column",),
    describe=lambda s, c: "unknown unit (not one of the 50 districts or the offices in params)",
)
def _gx_known_unit(gxe: Any, spec: CheckSpec, ctx: _RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnValuesToBeInSet(column=spec.column, value_set=sorted(ctx.units.codes))


@register_check(
    "known_kpi",
    kind="gx",
    needs=("column",),
    describe=lambda s, c: "KPI id not in the catalogue (id, official code or alias)",
)
def _gx_known_kpi(gxe: Any, spec: CheckSpec, ctx: _RunContext, ctype: str | None) -> Any:
    if ctx.kpi_ids is None:
        return None  # no catalogue: reported once as a check_error warning
    return gxe.ExpectColumnValuesToBeInSet(
        column=spec.column, value_set=sorted(html.escape(k) for k in ctx.kpi_ids)
    )


def catalog_kpi_ids() -> frozenset[str] | None:
    """Return every identifier the catalogue accepts for a KPI, or None if it cannot be read."""
    try:
        from kpilib.catalog import load_catalog

        cat = load_catalog()
        return frozenset(i for k in cat.kpis for i in (k.id, *k.data_ids) if i)
    except (ImportError, KpilibError):
        return None


@register_check(
    "in_set",
    kind="gx",
    needs=("column", "values"),
    describe=lambda s, c: f"value not allowed (allowed: {', '.join(s.values or ())})",
)
def _gx_in_set(gxe: Any, spec: CheckSpec, ctx: _RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnValuesToBeInSet(
        column=spec.column, value_set=[html.escape(v) for v in spec.values or ()]
    )


def _bounds_text(spec: CheckSpec) -> str:
    lo = "-inf" if spec.min is None else f"{spec.min:g}"
    hi = "inf" if spec.max is None else f"{spec.max:g}"
    return f"value outside [{lo}, {hi}]"


@register_check("between", kind="gx", needs=("column",), describe=lambda s, c: _bounds_text(s))
def _gx_between(gxe: Any, spec: CheckSpec, ctx: _RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnValuesToBeBetween(
        column=spec.column, min_value=spec.min, max_value=spec.max
    )


@register_check(
    "in_fiscal_year",
    kind="gx",
    needs=("column",),
    describe=lambda s, c: f"outside {_fy_text(c)}",
)
def _gx_in_fiscal_year(gxe: Any, spec: CheckSpec, ctx: _RunContext, ctype: str | None) -> Any:
    if ctype == "fiscal_year":
        return gxe.ExpectColumnValuesToBeInSet(column=spec.column, value_set=[float(ctx.fy)])
    lo = pd.Timestamp(ctx.fy_first)
    hi = pd.Timestamp(ctx.fy_last) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    if ctype == "timestamp":
        lo, hi = lo.tz_localize(cal.BANGKOK), hi.tz_localize(cal.BANGKOK)
    return gxe.ExpectColumnValuesToBeBetween(column=spec.column, min_value=lo, max_value=hi)


@register_check(
    "not_before",
    kind="gx",
    needs=("column", "other"),
    describe=lambda s, c: f"{s.column} is before {s.other}",
)
def _gx_not_before(gxe: Any, spec: CheckSpec, ctx: _RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=spec.column,
        column_B=spec.other,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


@register_check(
    "not_greater",
    kind="gx",
    needs=("column", "other"),
    describe=lambda s, c: f"{s.column} (numerator) is greater than {s.other} (denominator)",
)
def _gx_not_greater(gxe: Any, spec: CheckSpec, ctx: _RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=spec.other,
        column_B=spec.column,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


# ---- domain checks (pandas)


@register_check(
    "event_order",
    kind="domain",
    needs=("column", "first", "then"),
    describe=lambda s, c: f"'{s.then}' is before the ticket's first '{s.first}'",
)
def _dom_event_order(
    spec: CheckSpec, parsed: pd.DataFrame, raw: pd.DataFrame, ctx: _RunContext
) -> list[int]:
    need = {"ticket_id", "event", spec.column}
    if not need <= set(parsed.columns):
        return []
    ev = parsed[["ticket_id", "event", spec.column]].dropna(subset=[spec.column])
    ev = ev[ev["ticket_id"] != ""]
    first = ev[ev["event"] == spec.first].groupby("ticket_id")[spec.column].min()
    then = ev[ev["event"] == spec.then]
    joined = then.join(first.rename("_first"), on="ticket_id")
    bad = joined[joined[spec.column] < joined["_first"]]
    return [int(i) for i in bad.index]


def _decimals(text: str) -> int:
    text = cal.from_thai_digits(text).strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


def reported_percentage_mismatch(
    numerator: pd.Series,
    denominator: pd.Series,
    reported: pd.Series,
    *,
    printed: pd.Series | None = None,
    decimals: int = 2,
) -> pd.Series:
    """Return a boolean mask of rows whose reported percentage disagrees with num×100/den.

    A printed value is accepted when it is within half a unit of its last printed decimal
    (131 of 217 = 60.3686…: "60.37" and "60.4" pass, "60.36" and "61" fail).

    Args:
        numerator: Counts (e.g. finished).
        denominator: Counts (e.g. received).
        reported: The published percentage, as numbers.
        printed: The published percentage as printed (text), to read its decimals from;
            when absent, ``decimals`` is used.
        decimals: Printed decimals when ``printed`` is absent.
    """
    num = pd.to_numeric(numerator, errors="coerce").astype(float)
    den = pd.to_numeric(denominator, errors="coerce").astype(float)
    rep = pd.to_numeric(reported, errors="coerce").astype(float)
    if printed is not None:
        dec = printed.astype(str).map(_decimals).astype(float)
    else:
        dec = pd.Series(float(decimals), index=rep.index)
    tol = 0.5 * 10.0 ** (-dec) + 1e-9
    usable = num.notna() & den.notna() & rep.notna() & (den > 0)
    exact = num.where(usable) * 100.0 / den.where(usable)
    return (usable & ((rep - exact).abs() > tol)).fillna(False).astype(bool)


def monthly_figures_mismatch(
    received: pd.Series, finished: pd.Series, in_progress: pd.Series
) -> pd.Series:
    """Return a boolean mask of rows where finished + in progress ≠ received."""
    r = pd.to_numeric(received, errors="coerce")
    f = pd.to_numeric(finished, errors="coerce")
    p = pd.to_numeric(in_progress, errors="coerce")
    usable = r.notna() & f.notna() & p.notna()
    return (usable & ((f + p) != r)).fillna(False).astype(bool)


def percentages_sum_mismatch(
    a: pd.Series,
    b: pd.Series,
    *,
    printed_a: pd.Series | None = None,
    printed_b: pd.Series | None = None,
    decimals: int = 2,
) -> pd.Series:
    """Return a boolean mask of rows whose two percentages do not add up to 100 within rounding."""
    x = pd.to_numeric(a, errors="coerce").astype(float)
    y = pd.to_numeric(b, errors="coerce").astype(float)

    def tol(printed: pd.Series | None, idx: pd.Index) -> pd.Series:
        if printed is None:
            return pd.Series(0.5 * 10.0**-decimals, index=idx)
        return 0.5 * 10.0 ** (-printed.astype(str).map(_decimals).astype(float))

    limit = tol(printed_a, x.index) + tol(printed_b, y.index) + 1e-9
    usable = x.notna() & y.notna()
    return (usable & ((x + y - 100.0).abs() > limit)).fillna(False).astype(bool)


def check_monthly_figures(
    df: pd.DataFrame,
    *,
    table: str = "monthly_figures",
    source_file: str | None = None,
    decimals: int = 2,
) -> list[Finding]:
    """Cross-check any monthly-figures table: balance, reported percentages, percentage sum.

    ``df`` needs ``received``, ``finished``, ``in_progress`` and optionally ``finished_pct``,
    ``in_progress_pct`` (numbers or printed text) and ``unit_code``. Row numbers are the
    frame's index. All three checks are blocking except the percentage sum (warning), as in
    the suites file.

    Returns:
        One finding per failing check and unit (empty when the table is consistent).
    """
    out: list[_Failure] = []
    bal = monthly_figures_mismatch(df["received"], df["finished"], df["in_progress"])
    if bal.any():
        out.append(
            _Failure("monthly_balance", "blocking", "received", _idx(bal), _MONTHLY_BALANCE_TEXT)
        )
    for pct, num in (("finished_pct", "finished"), ("in_progress_pct", "in_progress")):
        if pct in df.columns:
            printed = df[pct] if df[pct].dtype == object or str(df[pct].dtype) == "str" else None
            bad = reported_percentage_mismatch(
                df[num],
                df["received"],
                _numeric_text(df[pct]),
                printed=printed,
                decimals=decimals,
            )
            if bad.any():
                out.append(
                    _Failure(
                        "reported_percentage",
                        "blocking",
                        pct,
                        _idx(bad),
                        f"{pct} differs from {num} × 100 / received beyond its printed rounding",
                    )
                )
    if {"finished_pct", "in_progress_pct"} <= set(df.columns):
        bad = percentages_sum_mismatch(
            _numeric_text(df["finished_pct"]),
            _numeric_text(df["in_progress_pct"]),
            decimals=decimals,
        )
        if bad.any():
            out.append(
                _Failure(
                    "percentages_sum",
                    "warning",
                    "finished_pct",
                    _idx(bad),
                    "finished_pct + in_progress_pct is not 100 within rounding",
                )
            )
    units = df["unit_code"].astype(str) if "unit_code" in df.columns else None
    raw = df.astype(str)
    return _group_failures(out, table=table, source_file=source_file, raw=raw, unit_of=units)


_MONTHLY_BALANCE_TEXT = "finished + in_progress is not equal to received"


def _numeric_text(s: pd.Series) -> pd.Series:
    return pd.to_numeric(
        s.astype(str).map(cal.from_thai_digits).str.replace(",", ""), errors="coerce"
    )


def _idx(mask: pd.Series) -> list[int]:
    return [int(i) for i in mask[mask].index]


@register_check(
    "monthly_balance",
    kind="domain",
    describe=lambda s, c: _MONTHLY_BALANCE_TEXT,
)
def _dom_monthly_balance(
    spec: CheckSpec, parsed: pd.DataFrame, raw: pd.DataFrame, ctx: _RunContext
) -> list[int]:
    if not {"received", "finished", "in_progress"} <= set(parsed.columns):
        return []
    return _idx(
        monthly_figures_mismatch(parsed["received"], parsed["finished"], parsed["in_progress"])
    )


@register_check(
    "reported_percentage",
    kind="domain",
    needs=("column", "numerator", "denominator"),
    describe=lambda s, c: (
        f"{s.column} differs from {s.numerator} × 100 / {s.denominator} beyond its printed rounding"
    ),
)
def _dom_reported_percentage(
    spec: CheckSpec, parsed: pd.DataFrame, raw: pd.DataFrame, ctx: _RunContext
) -> list[int]:
    cols = {spec.column, spec.numerator, spec.denominator}
    if not cols <= set(parsed.columns):
        return []
    bad = reported_percentage_mismatch(
        parsed[spec.numerator],
        parsed[spec.denominator],
        parsed[spec.column],
        printed=raw[spec.column],
    )
    return _idx(bad)


@register_check(
    "percentages_sum",
    kind="domain",
    needs=("columns",),
    describe=lambda s, c: f"{' + '.join(s.columns or ())} is not 100 within rounding",
)
def _dom_percentages_sum(
    spec: CheckSpec, parsed: pd.DataFrame, raw: pd.DataFrame, ctx: _RunContext
) -> list[int]:
    cols = list(spec.columns or ())
    if len(cols) != 2 or not set(cols) <= set(parsed.columns):
        return []
    a, b = cols
    return _idx(percentages_sum_mismatch(parsed[a], parsed[b], printed_a=raw[a], printed_b=raw[b]))


# --------------------------------------------------------------------------- parsing


_TYPE_HELP = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "date": "a date YYYY-MM-DD (Common Era)",
    "timestamp": "an ISO 8601 timestamp (Common Era)",
    "month": "a month YYYY-MM (Common Era)",
    "fiscal_year": "a fiscal year in the Buddhist Era (e.g. 2567)",
}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _parse_column(s: pd.Series, ctype: str, tz: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse text values of one column.

    Returns:
        ``(parsed, unparseable_mask, era_message)``: the parsed values (missing where empty
        or invalid), the rows whose non-empty value does not parse, and per row a 543-year
        era-confusion message or None.
    """
    era = pd.Series(None, index=s.index, dtype=object)
    if ctype == "str":
        return s, pd.Series(False, index=s.index), era
    text = s.astype(object)
    if text.str.contains(_THAI_DIGIT_RE, regex=True).any():
        text = text.str.translate(_FROM_THAI)
    text = text.str.strip()
    empty = text == ""
    if ctype in ("int", "float", "fiscal_year"):
        num = pd.to_numeric(
            text.str.replace(",", "", regex=False).str.replace(" ", ""), errors="coerce"
        ).astype(float)
        bad = ~empty & num.isna()
        if ctype in ("int", "fiscal_year"):
            bad |= num.notna() & (num % 1 != 0)
        if ctype == "fiscal_year":
            ok = num.notna() & ~bad
            suspect = ok & num.between(cal.CE_MIN, cal.CE_MAX)  # only these can be confused
            era[suspect] = [cal.era_confusion(int(y), expect="be") for y in num[suspect]]
            implausible = ok & era.isna() & ~num.between(cal.BE_MIN, cal.BE_MAX)
            bad |= implausible
        num = num.where(~bad & era.isna())
        return num, bad, era
    if ctype == "bool":
        low = text.str.lower()
        val = pd.Series(
            [True if v in _TRUE else False if v in _FALSE else None for v in low],
            index=s.index,
            dtype=object,
        )
        bad = ~empty & val.isna()
        return val, bad, era
    # date-like: read the year first, so a Buddhist-Era year is named rather than unparseable
    year = pd.to_numeric(text.str.extract(r"^(\d{4})", expand=False), errors="coerce")
    suspect = year.notna() & ~empty & year.between(cal.BE_MIN, cal.BE_MAX)
    era[suspect] = [cal.era_confusion(int(y), expect="ce") for y in year[suspect]]
    todo = ~empty & era.isna()
    if ctype == "date":
        parsed = pd.to_datetime(text.where(todo), format="%Y-%m-%d", errors="coerce")
    elif ctype == "month":
        parsed = pd.to_datetime(text.where(todo), format="%Y-%m", errors="coerce")
    else:
        with_off = todo & text.str.contains(_OFFSET_RE, regex=True)
        naive = todo & ~with_off
        a = pd.to_datetime(text.where(with_off), format="ISO8601", utc=True, errors="coerce")
        a = a.dt.tz_convert(tz)
        b = pd.to_datetime(text.where(naive), format="ISO8601", errors="coerce")
        b = b.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        parsed = a.where(with_off, b)
    bad = todo & parsed.isna()
    return parsed, bad, era


# --------------------------------------------------------------------------- grouping


def _rows_text(rows: list[int]) -> str:
    if len(rows) == 1:
        return f"row {rows[0]}"
    head = ", ".join(str(r) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"rows {head}{more}"


def _group_failures(
    failures: list[_Failure],
    *,
    table: str,
    source_file: str | None,
    raw: pd.DataFrame,
    unit_of: pd.Series | None,
) -> list[Finding]:
    findings: list[Finding] = []
    fname = source_file or table
    for fl in failures:
        if not fl.rows:
            findings.append(
                Finding(
                    check=fl.check,
                    table=table,
                    severity=fl.severity,
                    column=fl.column,
                    message=f"{fname}: "
                    + (f"column {fl.column!r}: " if fl.column else "")
                    + fl.detail,
                    source_file=source_file,
                )
            )
            continue
        by_unit: dict[str | None, list[int]] = defaultdict(list)
        for r in sorted(set(fl.rows)):
            u = None  # file-level: no unit column
            if unit_of is not None and r in unit_of.index:
                u = str(unit_of.at[r]).strip()  # "" = a row without a unit
            by_unit[u].append(r)
        for unit, rows in by_unit.items():
            sample = []
            for r in rows[:ROW_SAMPLE]:
                item: dict[str, Any] = {"source_row": r}
                if fl.column and fl.column in raw.columns and r in raw.index:
                    item["value"] = str(raw.at[r, fl.column])
                sample.append(item)
            col = f", column {fl.column!r}" if fl.column else ""
            detail = (fl.row_detail or {}).get(rows[0], fl.detail)
            findings.append(
                Finding(
                    check=fl.check,
                    table=table,
                    severity=fl.severity,
                    unit_code=unit,
                    column=fl.column,
                    rows=tuple(sample),
                    count=len(rows),
                    message=f"{fname}: {_rows_text(rows)}{col}: {detail}",
                    source_file=source_file,
                    source_rows=tuple(rows),
                )
            )
    return findings


# --------------------------------------------------------------------------- the run


_RUN_IDS = itertools.count(1)


@dataclass
class _TableRun:
    name: str
    suite: TableSuite
    source_file: str
    raw: pd.DataFrame
    parsed: pd.DataFrame
    present: list[str]
    units: pd.Series | None
    implicit: ImplicitSeverities
    failures: list[_Failure] = field(default_factory=list)


def new_gx_context() -> Any:
    """Return an ephemeral great-expectations context with progress bars off (imports GX)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    # GX makes an (empty) temporary folder for its default ephemeral docs site: drop both
    for name, cfg in list(ctx.list_data_docs_sites().items()):
        base = Path(str(cfg.get("store_backend", {}).get("base_directory", "")))
        ctx.delete_data_docs_site(name)
        tmp_root = Path(tempfile.gettempdir()).resolve()
        if base.name and base.resolve().parent == tmp_root and base.is_dir():
            with contextlib.suppress(OSError):
                base.rmdir()  # only if still empty
    return ctx


def run_validation(
    data_dir: str | Path,
    *,
    fy: int | str,
    out_dir: str | Path,
    suites: SuiteSet | None = None,
    units: UnitDirectory | None = None,
    data_docs: bool = True,
    gx_context: Any = None,
    kpi_ids: Iterable[str] | None = None,
) -> ValidationReport:
    """Validate every input table of a data folder once and save the results.

    Reads ``<data_dir>/raw/*.csv`` (as text) and the ingest's quarantine
    (``<data_dir>/processed/quarantine/<table>.csv``), runs one GX suite per table plus
    the domain cross-checks, and writes ``<out_dir>/validation.json``,
    ``<out_dir>/data_docs/`` (GX Data Docs) and ``<out_dir>/quarantine/<table>.csv`` (rows
    failing a blocking check, with the reason). Raw files are never modified. An unreadable
    file becomes a blocking finding (and ``report.unusable``); the other tables still run.

    Args:
        data_dir: The data folder (with ``raw/``).
        fy: The fiscal year being reported (Buddhist Era).
        out_dir: Where to write the results.
        suites: The suites (default: ``params/validation/suites.yaml``).
        units: Known units (default: :func:`load_units`).
        data_docs: Build the GX Data Docs site.
        gx_context: An existing GX context to reuse (tests); default a fresh ephemeral one.
        kpi_ids: KPI identifiers for the ``known_kpi`` check (default: from the catalogue).

    Raises:
        InputError: If the data folder or its ``raw/`` folder does not exist.
    """
    fy_int = cal.require_be_year(fy)
    data_dir = Path(data_dir)
    out_dir = Path(out_dir)
    raw_dir = data_dir / "raw"
    if not data_dir.is_dir():
        raise InputError("data folder not found", file=data_dir)
    if not raw_dir.is_dir():
        raise InputError("no raw/ folder in the data folder", file=data_dir)
    suites = suites or load_suites()
    units = units or load_units()
    first, last = cal.fiscal_year_bounds(fy_int)
    uses_kpis = any(c.check == "known_kpi" for t in suites.tables.values() for c in t.checks)
    ids = frozenset(kpi_ids) if kpi_ids is not None else (catalog_kpi_ids() if uses_kpis else None)
    ctx = _RunContext(fy=fy_int, units=units, fy_first=first, fy_last=last, kpi_ids=ids)
    sev = suites.implicit

    findings: list[Finding] = []
    tables_status: dict[str, str] = {}
    unusable: list[str] = []
    runs: list[_TableRun] = []

    for name, suite in suites.tables.items():
        path = raw_dir / suite.file
        if not path.is_file():
            tables_status[name] = "absent"
            continue
        try:
            raw = read_raw_csv(path)
        except InputError as exc:
            tables_status[name] = "unreadable"
            unusable.append(exc.one_line())
            findings.append(
                Finding(
                    check="unreadable_file",
                    table=name,
                    severity=sev.unreadable_file,
                    message=exc.one_line(),
                    source_file=suite.file,
                )
            )
            continue
        tables_status[name] = "validated"
        runs.append(_prepare_table(name, suite, raw, ctx, sev))

    gx_summaries: dict[str, dict[str, Any]] = {}
    docs_index: str | None = None
    if runs:
        gx_summaries, docs_index = _run_gx(
            runs, ctx, out_dir=out_dir, data_docs=data_docs, gx_context=gx_context
        )
    for run in runs:
        for chk in run.suite.checks:
            cdef = CHECKS[chk.check]
            if cdef.kind != "domain" or not set(chk.referenced_columns()) <= set(run.present):
                continue
            rows = cdef.build(chk, run.parsed, run.raw, ctx)
            if rows:
                run.failures.append(
                    _Failure(chk.check, chk.severity, chk.column, rows, cdef.describe(chk, ctx))
                )
        _drop_repeats(run)
        findings.extend(
            _group_failures(
                run.failures,
                table=run.name,
                source_file=run.source_file,
                raw=run.raw,
                unit_of=run.units,
            )
        )

    q_findings, q_unusable = _ingest_quarantine(
        data_dir, sev.ingest_quarantine, sev.unreadable_file, units
    )
    findings.extend(q_findings)
    unusable.extend(q_unusable)
    _write_quarantine(out_dir / "quarantine", runs, suites.tables)

    report = ValidationReport(
        fy=fy_int,
        data_dir=str(data_dir),
        created_at=dt.datetime.now(cal.BANGKOK).isoformat(timespec="seconds"),
        findings=tuple(findings),
        suites=gx_summaries,
        tables=tables_status,
        unusable=tuple(unusable),
        data_docs=docs_index,
        district_codes=tuple(sorted(units.district_codes)),
    )
    report.write(out_dir / "validation.json")
    return report


def _prepare_table(
    name: str, suite: TableSuite, raw: pd.DataFrame, ctx: _RunContext, sev: ImplicitSeverities
) -> _TableRun:
    present = [c for c in suite.columns if c in raw.columns]
    failures: list[_Failure] = []
    for col in suite.columns:
        if col not in raw.columns:
            failures.append(
                _Failure(
                    "missing_column",
                    sev.missing_column,
                    col,
                    [],
                    "required column is missing from the header",
                )
            )
    parsed = pd.DataFrame(index=raw.index)
    for col in present:
        ctype = suite.columns[col].type
        values = raw[col].astype(object)
        if ctype != "str":
            thai = values.str.contains(_THAI_DIGIT_RE, regex=True)
            if thai.any():
                failures.append(
                    _Failure(
                        "thai_digits",
                        sev.thai_digits,
                        col,
                        _idx(thai),
                        "Thai digits in a numeric field (read as Arabic digits)",
                    )
                )
        parsed_col, bad, era = _parse_column(values, ctype, suite.assume_tz)
        if col == suite.unit_column and suite.unit_by == "name":
            parsed_col = values.map(_strip_khet)
        parsed[col] = parsed_col
        if era.notna().any():
            rows = [int(i) for i in era[era.notna()].index]
            failures.append(
                _Failure(
                    "era_confusion",
                    sev.era_confusion,
                    col,
                    rows,
                    "year 543 off (Buddhist/Common Era confusion)",
                    {r: f"year 543 off (Buddhist/Common Era confusion): {era[r]}" for r in rows},
                )
            )
        if bad.any():
            failures.append(
                _Failure(
                    "unparseable",
                    sev.unparseable,
                    col,
                    _idx(bad),
                    f"value is not {_TYPE_HELP.get(ctype, ctype)}",
                )
            )
    units = None
    if suite.unit_column and suite.unit_column in present:
        u = raw[suite.unit_column].astype(object).str.strip()
        if suite.unit_by == "name":
            u = u.map(lambda n: ctx.units.code_for_name(n) or n)
            parsed[suite.unit_column] = u.where(u.isin(ctx.units.codes), parsed[suite.unit_column])
        units = u
    return _TableRun(
        name=name,
        suite=suite,
        source_file=suite.file,
        raw=raw,
        parsed=parsed,
        present=present,
        units=units,
        implicit=sev,
        failures=failures,
    )


def _gx_frame(run: _TableRun) -> pd.DataFrame:
    """The frame handed to GX: declared columns, strings HTML-escaped (Data Docs do not escape)."""
    out = pd.DataFrame(index=run.parsed.index)
    for col in run.present:
        ctype = run.suite.columns[col].type
        s = run.parsed[col]
        if ctype == "str":
            s = s.astype(object)
            s = s.where(s != "", None)
            risky = s.str.contains(r"[<>&\"']", regex=True).fillna(False).astype(bool)
            if risky.any():
                s = s.copy()
                s[risky] = s[risky].map(html.escape)
        elif ctype == "bool":
            s = s.astype(object)
        out[col] = s
    out["_source_row"] = out.index.astype(int)
    return out


def _run_gx(
    runs: list[_TableRun],
    ctx: _RunContext,
    *,
    out_dir: Path,
    data_docs: bool,
    gx_context: Any,
) -> tuple[dict[str, dict[str, Any]], str | None]:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    fresh = gx_context is None
    context = new_gx_context() if fresh else gx_context
    tag = "" if fresh else f"-r{next(_RUN_IDS)}"
    site = None
    if data_docs:
        for s in context.get_site_names():
            context.delete_data_docs_site(s)
        site = f"kpilib{tag}"
        docs_dir = out_dir / "data_docs"
        if (docs_dir / "index.html").is_file():
            shutil.rmtree(docs_dir)  # an earlier run's site: its pages would stay in the index
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name=site,
            site_config={
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    source = context.data_sources.add_pandas(f"kpilib{tag}")
    summaries: dict[str, dict[str, Any]] = {}
    for run in runs:
        suite_name = f"{run.name}{tag}"
        gsuite = context.suites.add(gx.ExpectationSuite(name=suite_name))
        for col in run.suite.columns:
            e = gxe.ExpectColumnToExist(column=col)
            e.meta = {"check": "missing_column", "severity": "blocking", "column": col}
            gsuite.add_expectation(e)
        for col in run.present:
            if run.suite.columns[col].required:
                e = gxe.ExpectColumnValuesToNotBeNull(column=col)
                e.meta = {"check": "missing_value", "column": col}
                gsuite.add_expectation(e)
        for chk in run.suite.checks:
            cdef = CHECKS[chk.check]
            if cdef.kind != "gx" or not set(chk.referenced_columns()) <= set(run.present):
                continue
            ctype = run.suite.columns[chk.column].type if chk.column else None
            e = cdef.build(gxe, chk, ctx, ctype)
            if e is None:
                run.failures.append(
                    _Failure(
                        "check_error",
                        "warning",
                        chk.column,
                        [],
                        f"{chk.check} not run: the KPI catalogue could not be read",
                    )
                )
                continue
            e.meta = {
                "check": chk.check,
                "severity": chk.severity,
                "column": chk.column,
                "detail": cdef.describe(chk, ctx),
            }
            gsuite.add_expectation(e)
        asset = source.add_dataframe_asset(suite_name)
        batch = asset.add_batch_definition_whole_dataframe("all")
        vdef = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=gsuite)
        )
        actions: list[
            Any
        ] = []  # Data Docs are built once at the end (one action per table costs ~1 s)
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=suite_name,
                validation_definitions=[vdef],
                actions=actions,
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": ["_source_row"],
                },
            )
        )
        with warnings.catch_warnings():
            # GX 1.24 reads tz-aware columns through a pandas API that pandas 3.1 deprecates
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=DeprecationWarning)
            result = checkpoint.run(batch_parameters={"dataframe": _gx_frame(run)})
        vres = next(iter(result.run_results.values()))
        summaries[run.name] = _collect_gx(run, vres, ctx)
    docs_index = None
    if site:
        urls = context.build_data_docs(site_names=[site])
        docs_index = str(out_dir / "data_docs" / "index.html") if urls else None
    return summaries, docs_index


def _collect_gx(run: _TableRun, vres: Any, ctx: _RunContext) -> dict[str, Any]:
    """Turn one suite's GX results into row failures on ``run``; return its summary."""
    expectations = []
    for r in vres.results:
        cfg = r.expectation_config
        meta = dict(cfg.meta or {})
        check = meta.get("check", cfg.type)
        column = meta.get("column")
        res = dict(r.result or {})
        raised = bool(r.exception_info and r.exception_info.get("raised_exception"))
        expectations.append(
            {
                "expectation": cfg.type,
                "check": check,
                "column": column,
                "success": bool(r.success),
                "unexpected_count": res.get("unexpected_count", 0),
            }
        )
        if r.success:
            continue
        if raised:
            msg = str(r.exception_info.get("exception_message", "error"))
            run.failures.append(
                _Failure(
                    "check_error",
                    "warning",
                    column,
                    [],
                    f"{check} could not run: {' '.join(msg.split())[:200]}",
                )
            )
            continue
        if check == "missing_column":
            continue  # reported from the header in _prepare_table (same result, better message)
        rows = sorted({int(d["_source_row"]) for d in res.get("unexpected_index_list") or []})
        if check == "missing_value":
            severity: Severity = run.implicit.missing_value
            detail = "required value is empty"
        else:
            severity = meta["severity"]
            detail = meta.get("detail", check)
        if check == "unique":
            rows = _later_duplicates(run, rows)
        if rows:
            if check == "unique" and column is None:
                column = ",".join(_unique_columns(run))
            run.failures.append(_Failure(check, severity, column, rows, detail))
    stats = vres.statistics or {}
    return {
        "source_file": run.source_file,
        "rows": len(run.raw),
        "success": bool(vres.success),
        "evaluated": int(stats.get("evaluated_expectations", 0)),
        "successful": int(stats.get("successful_expectations", 0)),
        "unsuccessful": int(stats.get("unsuccessful_expectations", 0)),
        "expectations": expectations,
    }


def _unique_columns(run: _TableRun) -> list[str]:
    spec = next((c for c in run.suite.checks if c.check == "unique"), None)
    return list(spec.columns or ()) if spec else []


def _later_duplicates(run: _TableRun, rows: list[int]) -> list[int]:
    """Keep the first row of each duplicated key; flag the later ones."""
    cols = _unique_columns(run)
    if not cols or not rows:
        return rows
    keys = run.parsed.loc[rows, cols]
    dup = keys.duplicated(keep="first")
    return [int(i) for i in dup[dup].index]


def _drop_repeats(run: _TableRun) -> None:
    """A cell flagged by the parse stage is not flagged again by a later check."""
    parsed_cells = {(f.column, r) for f in run.failures if f.check in _PARSE_CHECKS for r in f.rows}
    if not parsed_cells:
        return
    kept: list[_Failure] = []
    for f in run.failures:
        if f.check not in _PARSE_CHECKS and f.check != "thai_digits" and f.rows:
            f.rows = [r for r in f.rows if (f.column, r) not in parsed_cells]
            if not f.rows:
                continue
        kept.append(f)
    run.failures = kept


def _ingest_quarantine(
    data_dir: Path, severity: Severity, unreadable: Severity, units: UnitDirectory
) -> tuple[list[Finding], list[str]]:
    """Findings for the rows the ingest set aside (``processed/quarantine/<table>.csv``)."""
    qdir = data_dir / "processed" / "quarantine"
    findings: list[Finding] = []
    unusable: list[str] = []
    if not qdir.is_dir():
        return findings, unusable
    for path in sorted(qdir.glob("*.csv")):
        table = path.stem
        try:
            df = read_raw_csv(path)
        except InputError as exc:
            unusable.append(exc.one_line())
            findings.append(
                Finding(
                    check="unreadable_file",
                    table=table,
                    severity=unreadable,
                    message=exc.one_line(),
                    source_file=str(path.name),
                )
            )
            continue
        missing = [c for c in ("source_file", "source_row", "reason") if c not in df.columns]
        if missing:
            findings.append(
                Finding(
                    check="ingest_quarantine",
                    table=table,
                    severity=severity,
                    message=f"{path.name}: quarantine file lacks column(s) {', '.join(missing)}",
                    source_file=path.name,
                )
            )
            continue
        if "unit_code" in df.columns:
            df["_unit"] = df["unit_code"].str.strip()
        elif "district" in df.columns:  # Traffy rows name the district
            df["_unit"] = df["district"].map(lambda n: units.code_for_name(n) or n.strip())
        else:
            df["_unit"] = ""  # rows of no known unit (not a file-level problem)
        code_col = "reason_code" if "reason_code" in df.columns else "reason"
        for (src, code, unit), grp in df.groupby(["source_file", code_col, "_unit"], sort=True):
            rows = sorted(
                int(x) for x in pd.to_numeric(grp["source_row"], errors="coerce").dropna()
            )
            reasons = dict(
                zip(pd.to_numeric(grp["source_row"], errors="coerce"), grp["reason"], strict=True)
            )
            sample = tuple(
                {"source_row": r, "reason": str(reasons.get(r, code))} for r in rows[:ROW_SAMPLE]
            )
            first = str(grp["reason"].iloc[0])
            what = _rows_text(rows) if rows else f"{len(grp)} rows"
            findings.append(
                Finding(
                    check="ingest_quarantine",
                    table=table,
                    severity=severity,
                    unit_code=str(unit),
                    column=None,
                    rows=sample,
                    count=len(grp),
                    message=f"{src}: {what}: not carried over by the ingest ({code}): {first}",
                    source_file=str(src),
                    source_rows=tuple(rows),
                )
            )
    return findings, unusable


def _write_quarantine(qdir: Path, runs: list[_TableRun], tables: Iterable[str]) -> None:
    """Write rows failing a blocking check to ``<qdir>/<table>.csv`` with the reasons.

    A quarantine file left by an earlier run for a table that has none now is removed.
    """
    done = {run.name for run in runs}
    for name in tables:
        stale = qdir / f"{name}.csv"
        if name not in done and stale.is_file():
            stale.unlink()
    for run in runs:
        target = qdir / f"{run.name}.csv"
        reasons: dict[int, list[str]] = defaultdict(list)
        for f in run.failures:
            if f.severity != "blocking":
                continue
            text = f"{f.check}" + (f" ({f.column})" if f.column else "") + f": {f.detail}"
            for r in f.rows:
                if text not in reasons[r]:
                    reasons[r].append(text)
        if not reasons:
            if target.exists():
                target.unlink()
            continue
        rows = sorted(reasons)
        out = run.raw.loc[rows].copy()
        out.insert(0, "reason", ["; ".join(reasons[r]) for r in rows])
        out.insert(0, "source_row", rows)
        out.insert(0, "source_file", run.source_file)
        atomic_write(target, lambda p, out=out: out.to_csv(p, index=False, encoding="utf-8"))


def format_summary(report: ValidationReport) -> str:
    """Return the summary table ``kpi validate`` prints (check, table, severity, count)."""
    rows = report.summary_rows()
    head = ("check", "table", "severity", "count")
    body = [(r["check"], r["table"], r["severity"], str(r["count"])) for r in rows]
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)) for b in body]
    if not body:
        lines.append("(no findings)")
    return "\n".join(lines)


__all__ = [
    "CHECKS",
    "CROSS_UNIT_TABLES",
    "CheckSpec",
    "Finding",
    "SuiteSet",
    "TableSuite",
    "UnitDirectory",
    "ValidationReport",
    "check_monthly_figures",
    "format_summary",
    "load_suites",
    "load_units",
    "load_validation_report",
    "monthly_figures_mismatch",
    "new_gx_context",
    "percentages_sum_mismatch",
    "read_raw_csv",
    "register_check",
    "reported_percentage_mismatch",
    "run_validation",
]
