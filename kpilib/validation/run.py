"""One validation run over a data folder: the findings of every raw file, saved once.

Validation reads the ingest's one parse of the folder (running the ingest first when
``processed/`` is missing or stale, as every reader does):

1. files the ingest could not use (``processed/ingest_report.json``): unreadable files and
   files whose header matches no source — a clear resemblance to one source holds that
   source's table to the file (blocking), an unclear one is a file-level warning;
2. rows the ingest set aside (``processed/quarantine/<table>.csv``): each with the check it
   amounts to and that check's severity in the suite;
3. values read in spite of a quirk (``processed/notes/<table>.csv``);
4. the suites' checks on the canonical tables (``processed/<table>.parquet``): GX
   expectations and domain cross-checks.

Outputs (``out_dir``): ``validation.json``, ``data_docs/`` (GX Data Docs) and
``quarantine/<table>.csv`` (carried rows failing a blocking check). Nothing else is changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import calendar as cal
from kpilib.catalog import load_catalog
from kpilib.datasets import ensure_ingested
from kpilib.errors import InputError, ParameterError
from kpilib.fsio import atomic_write
from kpilib.ingest import REPORT_NAME, load_ingest_report
from kpilib.ingest.reader import TextChunks, read_header
from kpilib.tables import TableSet, load_tables
from kpilib.validation.checks import CHECKS, RunContext
from kpilib.validation.findings import Failure, Finding, ValidationReport, group_failures
from kpilib.validation.gx import TableRun, run_gx
from kpilib.validation.suites import SuiteSet, load_suites


def _catalog_context(fy: int, kpi_ids: Iterable[str] | None) -> tuple[RunContext, tuple[str, ...]]:
    """Units and KPI identifiers from the catalogue (a broken catalogue is an error)."""
    cat = load_catalog()
    ids = (
        frozenset(kpi_ids)
        if kpi_ids is not None
        else frozenset(i for k in cat.kpis for i in (k.id, *k.data_ids) if i)
    )
    first, last = cal.fiscal_year_bounds(fy)
    ctx = RunContext(
        fy=fy,
        unit_codes=frozenset(u.code for u in cat.units),
        fy_first=first,
        fy_last=last,
        kpi_ids=ids,
    )
    return ctx, cat.district_codes()


# --------------------------------------------------------------------------- files


def _file_findings(
    data: Path, suites: SuiteSet, tables: TableSet
) -> tuple[list[Finding], dict[str, str], list[str]]:
    """Findings of the raw files the ingest could not use; per-table status; unusable files."""
    status = dict.fromkeys(tables.tables, "absent")
    path = data / "processed" / REPORT_NAME
    if not path.is_file():
        return [], status, []
    report = load_ingest_report(path)
    sev = suites.implicit
    findings: list[Finding] = []
    unusable: list[str] = []
    problems: dict[str, str] = {}
    for f in report.files:
        if f.status == "ingested":
            status[f.table] = "validated"
        elif f.status == "unreadable":
            unusable.append(f.problem)
            known = bool(f.table)
            if known:
                problems.setdefault(f.table, "unreadable")
            findings.append(
                Finding(
                    check="unreadable_file",
                    table=f.table or "(unknown)",
                    severity=sev.unreadable_file if known else "warning",
                    message=f.problem
                    + ("" if known else " (its name matches no source: the table is unknown)"),
                    source_file=f.file,
                )
            )
        else:  # unrecognised
            found = ", ".join(f.header)
            if f.clear:
                problems.setdefault(f.table, "unrecognised")
                for check, cols, what in (
                    ("missing_column", f.missing, "is missing from the header"),
                    ("unexpected_column", f.unexpected, "is not a column of"),
                ):
                    for col in cols:
                        detail = f"the {f.source} schema" if check == "unexpected_column" else ""
                        findings.append(
                            Finding(
                                check=check,
                                table=f.table,
                                severity=getattr(sev, check),
                                column=col,
                                message=f"{f.file}: column {col!r} {what} {detail}".rstrip()
                                + f"; the file was not read (it resembles source {f.source}: "
                                f"expected [{', '.join(_expected(f.source, tables))}], "
                                f"found [{found}])",
                                source_file=f.file,
                            )
                        )
            else:
                findings.append(
                    Finding(
                        check="unrecognised_file",
                        table=f.table,
                        severity=sev.unrecognised_file,
                        message=f"{f.file}: not read: its columns [{found}] match no source; "
                        f"the closest is {f.source} (table {f.table}, "
                        f"{f.similarity:.0%} of the column names shared)",
                        source_file=f.file,
                    )
                )
    for table, problem in problems.items():
        if status.get(table) == "absent":
            status[table] = problem
    return findings, status, unusable


def _expected(source: str, tables: TableSet) -> tuple[str, ...]:
    return tables.source(source)[1].header


# --------------------------------------------------------------------------- rows set aside


#: What several rows set aside for the same reason code have in common (each row's own reason,
#: e.g. which earlier row it repeats, is in the finding's sample).
_SET_ASIDE = {
    "duplicate": "exact duplicates of earlier rows, dropped by the ingest (the first is kept)",
    "be_year": "a Buddhist-Era year in a Common-Era field (each row's readings are in its sample)",
    "ce_year": "a Common-Era year in a Buddhist-Era field (each row's readings are in its sample)",
}


def _set_aside(data: Path, folder: str, table: str) -> pd.DataFrame | None:
    path = data / "processed" / folder / f"{table}.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _row_findings(data: Path, table: str, suites: SuiteSet) -> list[Finding]:
    """Findings of the rows the ingest set aside and of the values it noted, for one table."""
    out: list[Finding] = []
    q = _set_aside(data, "quarantine", table)
    if q is not None and len(q):
        keys = ["source_file", "reason_code", "check", "column", "unit_code"]
        for (file, code, check, column, unit), grp in q.groupby(keys, sort=True):
            col = column or None
            values = grp[column].tolist() if column and column in grp.columns else None
            failure = Failure(
                check,
                suites.severity(table, check, col),
                col,
                grp["source_row"].astype(int).tolist(),
                _SET_ASIDE.get(
                    code, f"set aside by the ingest ({code}); each row's reason is in its sample"
                ),
                values=values,
                reasons=grp["reason"].tolist(),
            )
            found = group_failures(
                [failure], table=table, files=str(file), source_rows=None, units=None
            )
            out += [f.model_copy(update={"unit_code": unit}) for f in found]
    notes = _set_aside(data, "notes", table)
    if notes is not None and len(notes):
        keys = ["source_file", "check", "column", "unit_code"]
        for (file, check, column, unit), grp in notes.groupby(keys, sort=True):
            failure = Failure(
                check,
                suites.severity(table, check, column),
                column or None,
                grp["source_row"].astype(int).tolist(),
                str(grp["message"].iloc[0]),
                values=grp["value"].tolist(),
            )
            found = group_failures(
                [failure], table=table, files=str(file), source_rows=None, units=None
            )
            out += [f.model_copy(update={"unit_code": unit}) for f in found]
    return out


# --------------------------------------------------------------------------- canonical tables


def _table_runs(data: Path, suites: SuiteSet, tables: TableSet) -> list[TableRun]:
    runs = []
    for name, suite in suites.tables.items():
        path = data / "processed" / f"{name}.parquet"
        if not path.is_file():
            continue
        decl = tables.table(name)
        checks = tuple(c.resolved(decl) for c in suite.checks)
        need = {"source_file", "source_row", *(decl.unit_column or "",)}
        for c in checks:
            if CHECKS[c.check].kind == "enforced":
                continue
            need.update(c.referenced_columns())
            if c.check == "event_order":
                need.update({"ticket_id", "event"})
        cols = [c for c in (*decl.columns, "source_file", "source_row") if c in need]
        runs.append(TableRun(name, decl, checks, pd.read_parquet(path, columns=cols)))
    return runs


def _printed(run: TableRun, data: Path, tables: TableSet) -> dict[str, pd.Series]:
    """The raw text (as printed) of the columns a ``printed`` check reads, by position."""
    wanted = sorted(
        {c for chk in run.checks if CHECKS[chk.check].printed for c in chk.referenced_columns()}
    )
    if not wanted:
        return {}
    frames = []
    for file in run.frame["source_file"].unique():
        path = data / "raw" / str(file)
        header = read_header(path)
        for chunk in TextChunks(path, header, wanted):
            frames.append(chunk.frame.assign(source_file=str(file), source_row=chunk.rows))
    raw = pd.concat(frames, ignore_index=True).set_index(["source_file", "source_row"])
    at = pd.MultiIndex.from_arrays([run.frame["source_file"], run.frame["source_row"]])
    return {c: raw[c].reindex(at).reset_index(drop=True) for c in wanted if c in raw.columns}


def _as_text(s: pd.Series) -> list[str]:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return [v.isoformat() if pd.notna(v) else "" for v in s]
    return ["" if pd.isna(v) else str(v) for v in s]


def _canonical_findings(run: TableRun) -> list[Finding]:
    """Findings of the checks on a canonical table: per failure, source file and unit."""
    frame = run.frame.reset_index(drop=True)
    for fl in run.failures:
        if fl.rows and fl.column and fl.column in frame.columns:
            fl.values = _as_text(frame[fl.column].iloc[list(fl.rows)])
    return group_failures(
        run.failures,
        table=run.name,
        files=frame["source_file"],
        source_rows=frame["source_row"],
        units=frame[run.decl.unit_column] if run.decl.unit_column else None,
    )


def _write_quarantine(qdir: Path, runs: list[TableRun], tables: Iterable[str]) -> None:
    """Write carried rows failing a blocking check to ``<qdir>/<table>.csv`` with the reasons.

    A quarantine file left by an earlier run for a table that has none now is removed.
    """
    for name in tables:
        run = next((r for r in runs if r.name == name), None)
        target = qdir / f"{name}.csv"
        reasons: dict[int, list[str]] = {}
        for f in run.failures if run else ():
            if f.severity != "blocking":
                continue
            text = f"{f.check}" + (f" ({f.column})" if f.column else "") + f": {f.detail}"
            for r in f.rows:
                got = reasons.setdefault(int(r), [])
                if text not in got:
                    got.append(text)
        if not reasons or run is None:
            target.unlink(missing_ok=True)
            continue
        pos = sorted(reasons)
        rows = run.frame.reset_index(drop=True).iloc[pos]
        out = pd.DataFrame(
            {
                "source_file": rows["source_file"].to_numpy(dtype=object),
                "source_row": rows["source_row"].to_numpy(),
                "reason": ["; ".join(reasons[p]) for p in pos],
            }
        )
        for c in rows.columns:
            if c not in ("source_file", "source_row"):
                out[c] = _as_text(rows[c])
        atomic_write(target, lambda p, out=out: out.to_csv(p, index=False, encoding="utf-8"))


# --------------------------------------------------------------------------- the run


def run_validation(
    data_dir: str | Path,
    *,
    fy: int | str,
    out_dir: str | Path,
    suites: SuiteSet | None = None,
    data_docs: bool = True,
    gx_context: Any = None,
    kpi_ids: Iterable[str] | None = None,
) -> ValidationReport:
    """Validate every raw file of a data folder once and save the results.

    Runs the ingest first when ``processed/`` is missing or stale (the same parse every
    reader uses), then reports what the ingest could not use, the rows it set aside, the
    values it noted and the suites' checks on the canonical tables. Writes
    ``<out_dir>/validation.json``, ``<out_dir>/data_docs/`` (GX Data Docs) and
    ``<out_dir>/quarantine/<table>.csv``; raw files are never modified. Safe to run in a
    separate process: it changes nothing but its outputs (and a stale ``processed/``).

    Args:
        data_dir: The data folder (with ``raw/``).
        fy: The fiscal year being reported (Buddhist Era).
        out_dir: Where to write the results.
        suites: The suites (default: ``params/validation/suites.yaml``).
        data_docs: Build the GX Data Docs site.
        gx_context: An existing GX context to reuse (tests); default a fresh ephemeral one.
        kpi_ids: KPI identifiers for the ``known_kpi`` check (default: the catalogue's).

    Raises:
        InputError: The data folder or its ``raw/`` folder does not exist.
        ParameterError: ``out_dir`` is a file.
        ConfigError: The catalogue, declarations or suites cannot be read.
    """
    from kpilib.imports import defer_iri_syntax

    defer_iri_syntax()  # before great-expectations imports jsonschema (2-3 s saved)
    fy_int = cal.require_be_year(fy)
    data = Path(data_dir)
    out = Path(out_dir)
    if not data.is_dir():
        raise InputError("data folder not found", file=data)
    if not (data / "raw").is_dir():
        raise InputError("no raw/ folder in the data folder", file=data)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"the output folder is a file: {out}")
    tables = load_tables()
    suites = suites or load_suites(tables=tables)
    ctx, districts = _catalog_context(fy_int, kpi_ids)
    ensure_ingested(data)

    findings, status, unusable = _file_findings(data, suites, tables)
    for table in tables.tables:
        findings += _row_findings(data, table, suites)
    runs = _table_runs(data, suites, tables)
    summaries: dict[str, dict[str, Any]] = {}
    docs_index: str | None = None
    if runs:
        summaries, docs_index = run_gx(
            runs, ctx, out_dir=out, data_docs=data_docs, gx_context=gx_context
        )
    for run in runs:
        for chk in run.checks:
            cdef = CHECKS[chk.check]
            if cdef.kind != "domain":
                continue
            printed = _printed(run, data, tables) if cdef.printed else {}
            rows = cdef.build(chk, run.frame.reset_index(drop=True), ctx, printed)
            if rows:
                run.failures.append(
                    Failure(chk.check, chk.severity, chk.column, rows, cdef.describe(chk, ctx))
                )
        findings += _canonical_findings(run)
    out.mkdir(parents=True, exist_ok=True)
    _write_quarantine(out / "quarantine", runs, tables.tables)
    report = ValidationReport(
        fy=fy_int,
        data_dir=str(data),
        created_at=dt.datetime.now(cal.BANGKOK).isoformat(timespec="seconds"),
        findings=tuple(findings),
        suites=summaries,
        tables=status,
        unusable=tuple(unusable),
        data_docs=docs_index,
        district_codes=tuple(sorted(districts)),
    )
    report.write(out / "validation.json")
    return report


__all__ = ["run_validation"]
