"""Findings and the saved validation report (``validation.json``).

A :class:`Finding` is one check that failed for some rows of one unit (or for a whole file);
the :class:`ValidationReport` holds every finding of a run and is read back cheaply by
:func:`load_validation_report` (pydantic only: no great-expectations import).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from kpilib.errors import InputError
from kpilib.fsio import atomic_write_text

Severity = Literal["blocking", "warning"]

#: How many failing rows a finding keeps as a sample (``Finding.rows``); every row number is
#: kept in ``Finding.source_rows``.
ROW_SAMPLE = 10
#: Tables that offices (units that are not districts) read across all districts: a blocking
#: finding on any unit's rows of these tables marks an office's KPI not certified.
CROSS_UNIT_TABLES: tuple[str, ...] = ("tickets", "events")


class Finding(BaseModel):
    """One problem found in the input: a check that failed for some rows of one unit.

    Attributes:
        check: The check's name (``unique``, ``era_confusion``, ...).
        table: The canonical table.
        severity: ``blocking`` or ``warning``.
        unit_code: The unit the rows belong to; None for a file-level problem (all units).
        column: The column concerned, if any (the raw column for a parse problem).
        rows: A sample of the failing rows (``source_row``, the value, the reason).
        count: How many rows failed (0 for a file-level problem).
        message: One line naming the file, rows and column.
        source_file: The raw file (its name in the data folder's ``raw/``).
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
    """Every finding of one validation run, plus per-suite GX result summaries.

    Attributes:
        tables: Per declared table: ``validated`` (some raw file fed it), ``absent``,
            ``unreadable`` or ``unrecognised`` (only such files were found for it).
        unusable: Messages of raw files that could not be read at all (exit code 2).
    """

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
        """The findings that concern one unit: its own rows and file-level problems.

        An office (a unit that is not a district) also sees every finding on the tables it
        reads across districts (:data:`CROSS_UNIT_TABLES`).
        """
        return [f for f in self.findings if self._applies(f, unit_code)]

    def blocking_tables(self, unit_code: str) -> frozenset[str]:
        """The tables with a blocking finding for this unit (its KPIs on them are not certified)."""
        return frozenset(f.table for f in self.for_unit(unit_code) if f.severity == "blocking")

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per (check, table, severity): rows affected and findings, blocking first."""
        agg: dict[tuple[str, str, str], dict[str, Any]] = {}
        for f in self.findings:
            row = agg.setdefault(
                (f.check, f.table, f.severity),
                {"check": f.check, "table": f.table, "severity": f.severity, "count": 0,
                 "findings": 0},
            )  # fmt: skip
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


def format_summary(report: ValidationReport) -> str:
    """The summary table ``kpi validate`` prints (check, table, severity, count)."""
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


# --------------------------------------------------------------------------- grouping


@dataclass
class Failure:
    """Rows of one table that failed one check, before grouping by file and unit.

    Attributes:
        check: The check's name.
        severity: Its severity.
        column: The column concerned, if any.
        rows: The failing rows' positions in ``RowPlace`` (canonical) or their source rows.
        detail: What is wrong, for the message.
        values: The value of each failing row (by position in ``rows``), if known.
        reasons: A more precise reason per row, if any (the message gives it when all the
            rows of a finding share it, else ``detail``).
    """

    check: str
    severity: Severity
    column: str | None
    rows: Sequence[int]
    detail: str
    values: Sequence[str] | None = None
    reasons: Sequence[str] | None = None


def rows_text(rows: Sequence[int]) -> str:
    """``row 7`` / ``rows 1, 2, 3, 4, 5 and 12 more``."""
    if len(rows) == 1:
        return f"row {rows[0]}"
    head = ", ".join(str(r) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"rows {head}{more}"


def group_failures(
    failures: Iterable[Failure],
    *,
    table: str,
    files: pd.Series | str | None,
    source_rows: pd.Series | None,
    units: pd.Series | None,
) -> list[Finding]:
    """One finding per failure, file and unit.

    Args:
        failures: Failures whose ``rows`` are positions into ``files``/``source_rows``/``units``
            (or, with scalar ``files`` and no ``source_rows``, source rows themselves).
        table: The canonical table.
        files: The source file of each position (or one file name for all).
        source_rows: The source row of each position (None: positions are source rows).
        units: The unit of each position (None: file-level, no unit).
    """
    findings: list[Finding] = []
    for fl in failures:
        if not len(fl.rows):
            fname = files if isinstance(files, str) else None
            findings.append(
                Finding(
                    check=fl.check,
                    table=table,
                    severity=fl.severity,
                    column=fl.column,
                    message=f"{fname or table}: "
                    + (f"column {fl.column!r}: " if fl.column else "")
                    + fl.detail,
                    source_file=fname,
                )
            )
            continue
        groups: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
        for i, pos in enumerate(fl.rows):
            f = files if isinstance(files, str) or files is None else str(files.iat[pos])
            u = None if units is None else str(units.iat[pos]).strip()
            groups[(f, u)].append(i)
        for (fname, unit), idx in groups.items():
            rows = [
                int(source_rows.iat[fl.rows[i]]) if source_rows is not None else int(fl.rows[i])
                for i in idx
            ]
            order = sorted(range(len(idx)), key=lambda k: rows[k])
            idx = [idx[k] for k in order]
            rows = [rows[k] for k in order]
            sample = []
            for i, r in zip(idx[:ROW_SAMPLE], rows[:ROW_SAMPLE], strict=False):
                item: dict[str, Any] = {"source_row": r}
                if fl.values is not None:
                    item["value"] = str(fl.values[i])
                if fl.reasons is not None:
                    item["reason"] = str(fl.reasons[i])
                sample.append(item)
            col = f", column {fl.column!r}" if fl.column else ""
            detail = fl.detail
            if fl.reasons is not None and len({fl.reasons[i] for i in idx}) == 1:
                detail = fl.reasons[idx[0]]  # one reason for every row: say it
            findings.append(
                Finding(
                    check=fl.check,
                    table=table,
                    severity=fl.severity,
                    unit_code=unit,
                    column=fl.column,
                    rows=tuple(sample),
                    count=len(rows),
                    message=f"{fname or table}: {rows_text(rows)}{col}: {detail}",
                    source_file=fname,
                    source_rows=tuple(rows),
                )
            )
    return findings


__all__ = [
    "CROSS_UNIT_TABLES",
    "ROW_SAMPLE",
    "Failure",
    "Finding",
    "Severity",
    "ValidationReport",
    "format_summary",
    "group_failures",
    "load_validation_report",
    "rows_text",
]
