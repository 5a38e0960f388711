"""What a run leaves for people: the index page, the summaries, the manifest and run records.

Per quarter folder ``<out>/<FY>/Q<q>/``:

* ``index.html`` — every unit: Thai name, total, level per KPI, certification, validation,
  report status and links (only to files the unit's last render produced). Rendered from
  ``kpilib/templates/batch_index.html.j2`` with autoescaping: unit names and errors cannot
  inject HTML.
* ``summary.csv`` (UTF-8 with BOM) and ``summary.xlsx`` — the same, one row per unit.
* ``manifest.json`` — the current state of every report of the quarter (also those the last
  run did not touch), the validation summary, and the ids of every run that touched it.

Per fiscal year ``<out>/<FY>/runs/<run id>.json`` — one record per run, never overwritten:
parameters, input hashes, validation, timings, workers, outcome, what it did to each report.

:func:`summary_row` is the one place that reads a report's ``report.json``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpilib import __version__
from kpilib.batch.plan import RunPlan
from kpilib.batch.state import ReportState, read_state, utc_now
from kpilib.batch.worker import ReportResult
from kpilib.errors import InputError
from kpilib.fsio import atomic_write_bytes, atomic_write_text
from kpilib.paths import package_dir
from kpilib.provenance import git_commit

# Thai headers of summary.csv / summary.xlsx (and of the index table).
H_CODE = "รหัสหน่วยงาน"
H_NAME = "หน่วยงาน"
H_QUARTER = "ไตรมาส"
H_POINTS = "คะแนนรวม"
H_WEIGHT = "น้ำหนักรวม"
H_PERCENT = "ร้อยละของคะแนนเต็ม"
H_CERTIFIED = "การรับรอง"
H_VALIDATION = "ผลการตรวจสอบข้อมูล"
H_STATUS = "สถานะรายงาน"
H_LEVEL = "ระดับ"

STATUS_TH = {
    "ok": "สำเร็จ",
    "up to date": "สำเร็จ (ไม่เปลี่ยนแปลง)",
    "failed": "ล้มเหลว",
    "interrupted": "ยังไม่เสร็จ (การประมวลผลถูกขัดจังหวะ)",
    "missing": "ยังไม่ได้จัดทำ",
}
CERTIFIED_TH = {True: "รับรองแล้ว", False: "ยังไม่รับรอง", None: "ยังไม่ได้ตรวจสอบข้อมูล"}
DONE = ("ok", "up to date")


# --------------------------------------------------------------------------- report.json


@dataclass(frozen=True)
class KpiLevel:
    """One KPI of a report as the index shows it (``certified`` None: unknown)."""

    kpi: str
    label: str
    level: int | None
    certified: bool | None


@dataclass(frozen=True)
class SummaryRow:
    """What the index and the summaries take from one report's ``report.json``."""

    points: float | None
    weight: float | None
    percent: float | None
    kpis: tuple[KpiLevel, ...]
    certified: bool | None

    @property
    def uncertified(self) -> tuple[str, ...]:
        """KPIs not certified (unknown counts as not certified)."""
        return tuple(k.kpi for k in self.kpis if k.certified is not True)


_CERTIFIED = {"certified": True, "not_certified": False, "unknown": None}


def summary_row(path: Path) -> SummaryRow:
    """Read a report's ``report.json`` (a :class:`kpilib.document.ReportDocument`).

    The one function of the batch that reads that document: total points and the counted
    weight (KPIs without data are left out), the percentage, and per KPI its level and
    certification (``unknown`` when the report had no validation results).

    Raises:
        InputError: The file is unreadable or not a report document.
    """
    from kpilib.document import read_report_json  # pydantic models: only when reading one

    try:
        sc = read_report_json(Path(path).read_bytes()).scorecard
    except OSError as exc:
        raise InputError(f"cannot read the report's results: {exc.strerror}", file=path) from exc
    except ValueError as exc:  # pydantic's ValidationError and JSON errors
        first = str(exc).splitlines()[0]
        raise InputError(f"not a report document ({first})", file=path) from exc
    return SummaryRow(
        points=sc.total_points,
        weight=sc.counted_weight,
        percent=None if sc.percent is None else round(sc.percent, 2),
        kpis=tuple(
            KpiLevel(
                kpi=r.kpi.id,
                label=" ".join(p for p in (r.kpi.code, r.kpi.short_name_th or r.kpi.name_th) if p),
                level=r.level,
                certified=_CERTIFIED[r.certification.state],
            )
            for r in sc.results
        ),
        certified=_CERTIFIED[sc.certification],
    )


# --------------------------------------------------------------------------- rows


@dataclass
class IndexRow:
    """One unit's line in the index, the summaries and the manifest."""

    code: str
    name_th: str
    quarter: int
    status: str
    error: str | None
    validation: str
    links: dict[str, str]
    summary: SummaryRow | None = None
    state: ReportState | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def certified(self) -> bool | None:
        """The report's certification (None: no result, or unknown)."""
        return None if self.summary is None else self.summary.certified


def collect_rows(
    plan: RunPlan,
    quarter: int,
    results: Mapping[tuple[str, int], ReportResult],
    validation_status: Callable[[str], str],
) -> list[IndexRow]:
    """Every unit of this run plus every unit already rendered in the quarter's folder."""
    names = {u.code: u.name_th for u in plan.units}
    qdir = plan.quarter_dir(quarter)
    codes = set(names)
    if qdir.is_dir():
        codes.update(c.name for c in qdir.iterdir() if c.is_dir() and read_state(c) is not None)
    rows = []
    for code in sorted(codes):
        unit_dir = qdir / code
        state = read_state(unit_dir)
        result = results.get((code, quarter))
        if result is not None:
            status, error, outputs = result.status, result.error, result.outputs
        elif state is not None:
            status, error, outputs = state.status, state.error, state.outputs
            if status == "running":  # a render that never finished (killed, interrupted)
                status, outputs = "interrupted", ()
        else:
            status, error, outputs = "missing", None, ()
        if status not in DONE:
            outputs = tuple(o for o in outputs if o == "report.ipynb")
        links = {o.split(".")[-1]: f"{code}/{o}" for o in outputs if (unit_dir / o).is_file()}
        summary = None
        if status in DONE and "json" in links:
            try:
                summary = summary_row(unit_dir / "report.json")
            except InputError as exc:
                error = exc.one_line()
        rows.append(
            IndexRow(
                code=code,
                name_th=names.get(code, code),
                quarter=quarter,
                status=status,
                error=error,
                validation=validation_status(code),
                links=links,
                summary=summary,
                state=state,
                timings=dict(state.timings) if state is not None else {},
            )
        )
    return rows


def _certified_th(row: IndexRow) -> str:
    return "—" if row.summary is None else CERTIFIED_TH[row.certified]


def _kpi_columns(rows: Sequence[IndexRow]) -> list[KpiLevel]:
    seen: dict[str, KpiLevel] = {}
    for r in rows:
        for k in r.summary.kpis if r.summary else ():
            seen.setdefault(k.kpi, k)
    return list(seen.values())


def _levels(row: IndexRow) -> dict[str, int | None]:
    return {k.kpi: k.level for k in row.summary.kpis} if row.summary else {}


def summary_table(rows: Sequence[IndexRow]) -> list[list[Any]]:
    """Header + one row per unit, Thai headers (used for the CSV and the workbook)."""
    kpis = _kpi_columns(rows)
    header = [H_CODE, H_NAME, H_QUARTER, H_POINTS, H_WEIGHT, H_PERCENT]
    header += [f"{H_LEVEL} {k.kpi}" for k in kpis] + [H_CERTIFIED, H_VALIDATION, H_STATUS]
    table: list[list[Any]] = [header]
    for r in rows:
        s = r.summary
        line = [r.code, r.name_th, r.quarter]
        line += [s.points, s.weight, s.percent] if s else [None, None, None]
        levels = _levels(r)
        line += [levels.get(k.kpi) for k in kpis]
        line += [_certified_th(r), r.validation, STATUS_TH.get(r.status, r.status)]
        table.append(line)
    return table


def write_summary_csv(path: Path, rows: Sequence[IndexRow]) -> Path:
    """``summary.csv``: UTF-8 with BOM (Excel shows Thai correctly), one row per unit."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for line in summary_table(rows):
        writer.writerow(["" if v is None else v for v in line])
    return atomic_write_bytes(path, buf.getvalue().encode("utf-8-sig"))


def write_summary_xlsx(path: Path, rows: Sequence[IndexRow]) -> Path:
    """``summary.xlsx`` (openpyxl), one row per unit, Thai headers, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "สรุปผล"
    for line in summary_table(rows):
        ws.append(line)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.column_dimensions["B"].width = 28
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


# --------------------------------------------------------------------------- index page


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _cell(value: Any, *, num: bool = False) -> dict[str, Any]:
    return {"text": _fmt(value), "sort": "" if value is None else value, "num": num}


def render_index(plan: RunPlan, quarter: int, rows: Sequence[IndexRow]) -> str:
    """The index page of one quarter (every value escaped by Jinja2's autoescape)."""
    import jinja2

    from kpilib.calendar import format_thai_date
    from kpilib.render import font_face_css

    kpis = _kpi_columns(rows)
    legend = [{"short": f"K{i}", "id": k.kpi, "name": k.label} for i, k in enumerate(kpis, 1)]
    headers = [
        {"label": H_CODE, "type": "text"},
        {"label": H_NAME, "type": "text"},
        {"label": H_POINTS, "type": "num"},
        {"label": H_PERCENT, "type": "num"},
        *({"label": f"{H_LEVEL} {k['short']}", "type": "num", "title": k["id"]} for k in legend),
        {"label": H_CERTIFIED, "type": "text"},
        {"label": H_VALIDATION, "type": "text"},
        {"label": H_STATUS, "type": "text"},
        {"label": "ลิงก์", "type": "text"},
    ]
    view = []
    for r in rows:
        s = r.summary
        levels = _levels(r)
        cells = [_cell(r.code), _cell(r.name_th)]
        cells += [
            _cell(s.points if s else None, num=True),
            _cell(s.percent if s else None, num=True),
        ]
        cells += [_cell(levels.get(k.kpi), num=True) for k in kpis]
        cert = _cell(_certified_th(r))
        if s is not None and s.uncertified:
            cert["text"] += f" ({len(s.uncertified)} ตัวชี้วัด)"
        cells += [cert, _cell(r.validation)]
        view.append(
            {
                "css": r.status.replace(" ", "-"),
                "cells": cells,
                "status": STATUS_TH.get(r.status, r.status),
                "status_css": r.status.replace(" ", "-"),
                "status_sort": r.status,
                "error": r.error if r.status not in DONE else None,
                "links": [
                    ("notebook" if ext == "ipynb" else ext.upper(), href)
                    for ext, href in sorted(r.links.items(), key=lambda kv: _LINK_ORDER[kv[0]])
                ],
            }
        )
    n_failed = sum(1 for r in rows if r.status == "failed")
    n_uncertified = sum(1 for r in rows if r.summary is not None and r.certified is not True)
    meta = (
        f"ปีงบประมาณ {plan.fy} ไตรมาสที่ {quarter} · {len(rows)} หน่วยงาน · "
        f"ล้มเหลว {n_failed} · ยังไม่รับรอง {n_uncertified} · "
        f"จัดทำเมื่อ {format_thai_date(dt.date.today(), style='long')} · kpilib {__version__} · "
        "คลิกหัวตารางเพื่อเรียงลำดับ"
    )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(package_dir() / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("batch_index.html.j2").render(
        font_css=font_face_css(),
        title=f"รายงานผลตัวชี้วัด ปีงบประมาณ {plan.fy} ไตรมาสที่ {quarter}",
        meta=meta,
        headers=headers,
        rows=view,
        legend=legend,
        H_LEVEL=H_LEVEL,
    )


_LINK_ORDER = {"html": 0, "pdf": 1, "ipynb": 2, "json": 3}


# --------------------------------------------------------------------------- manifest & runs


def new_run_id() -> str:
    """``20261121T064701.123456Z-12345``: UTC start time and process id."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{now}-{os.getpid()}"


def write_manifest(
    path: Path,
    *,
    plan: RunPlan,
    quarter: int,
    rows: Sequence[IndexRow],
    run_id: str,
    validation: dict[str, Any] | None,
) -> Path:
    """``manifest.json``: the current state of every report of the quarter, and its runs.

    Earlier runs' ids are kept (read from the previous manifest); a run touching only some
    units updates their entries and keeps the others' (read from their state files).
    """
    runs: list[str] = []
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        runs = [str(r) for r in previous.get("runs", [])]
        if validation is None:
            validation = previous.get("validation")
    except (OSError, ValueError, AttributeError):
        pass
    if run_id not in runs:
        runs.append(run_id)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    manifest = {
        "kpilib_version": __version__,
        "git_commit": git_commit(),
        "updated_at": utc_now(),
        "fy": plan.fy,
        "quarter": quarter,
        "last_run": run_id,
        "runs": runs,
        "validation": validation,
        "counts": counts,
        "not_certified": sorted(
            r.code for r in rows if r.summary is not None and r.certified is not True
        ),
        "reports": [
            {
                "unit": r.code,
                "name_th": r.name_th,
                "status": r.status,
                "error": r.error,
                "outputs": sorted(Path(h).name for h in r.links.values()),
                "certified": r.certified,
                "uncertified_kpis": list(r.summary.uncertified) if r.summary else [],
                "inputs": r.state.inputs if r.state else None,
                "fingerprint": r.state.fingerprint if r.state else None,
                "rendered_at": r.state.finished_at if r.state else None,
                "rendered_by_run": r.state.run if r.state else None,
                "timings": r.timings,
            }
            for r in rows
        ],
    }
    return atomic_write_text(path, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")


def write_run_record(
    plan: RunPlan,
    *,
    run_id: str,
    started_at: str,
    outcome: str,
    exit_code: int,
    hashes: Any,
    prepared: Any,
    validation: dict[str, Any] | None,
    timings: dict[str, float],
    results: Iterable[ReportResult],
    parent_peak_kb: int,
) -> Path:
    """``<out>/<FY>/runs/<run id>.json``: one file per run, never overwritten."""
    results = list(results)
    workers: dict[str, dict[str, Any]] = {}
    for r in results:
        if r.pid is None:
            continue
        w = workers.setdefault(str(r.pid), {"reports": 0, "maxrss_mb": 0.0})
        w["reports"] += 1
        w["maxrss_mb"] = max(w["maxrss_mb"], round(r.maxrss_kb / 1024, 1))
        if r.warm_up:
            w["warm_up"] = {k: round(v, 3) for k, v in r.warm_up.items()}
    record = {
        "run": run_id,
        "command": plan.command,
        "started_at": started_at,
        "finished_at": utc_now(),
        "outcome": outcome,
        "exit_code": exit_code,
        "kpilib_version": __version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "parameters": {
            "fy": plan.fy,
            "quarters": list(plan.quarters),
            "units": [u.code for u in plan.units] if plan.units_explicit else "catalogue",
            "data": str(plan.data_dir),
            "out": str(plan.out_dir),
            "jobs": plan.jobs,
            "pdf": plan.pdf,
            "force": plan.force,
            "engine": plan.engine,
            "notebook": str(plan.notebook),
            "lang": plan.lang,
            "validate": plan.validate,
            "ingest": plan.ingest,
        },
        "input_hashes": {
            "data_files": hashes.data,
            "params": hashes.params,
            "notebook": hashes.notebook,
            "kpilib_source": hashes.source_digest(),
            "bundle": prepared.bundle_hashes if prepared else {},
        },
        "validation": validation,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "memory_mb": {
            "parent_peak": round(parent_peak_kb / 1024, 1),
            "prepare_peak": round(prepared.peak_rss_kb / 1024, 1) if prepared else None,
        },
        "workers": workers,
        "reports": [
            {
                "unit": r.unit,
                "quarter": r.quarter,
                "status": r.status,
                "error": r.error,
                "timings": {k: round(v, 3) for k, v in r.timings.items()},
            }
            for r in sorted(results, key=lambda r: (r.quarter, r.unit))
        ],
    }
    path = plan.runs_dir() / f"{run_id}.json"
    return atomic_write_text(path, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
