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
H_RANK = "อันดับ"
H_MONTH = "เดือน"
H_RECEIVED = "เรื่องที่ได้รับ"
H_FINISHED = "ดำเนินการเสร็จสิ้น"
H_IN_PROGRESS = "อยู่ระหว่างดำเนินการ"
H_FINISHED_PCT = "ร้อยละเสร็จสิ้น ณ สิ้นเดือน"
H_DECLARED = "ความก้าวหน้าที่หน่วยงานแจ้ง (%)"
H_COMPUTED = "ความก้าวหน้าจากข้อมูล ณ วันที่รายงาน (%)"
H_MATCH = "เทียบกับข้อมูล"

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
    short: str = ""


@dataclass(frozen=True)
class MonthSummary:
    """A monthly progress report as its month's index shows it.

    Attributes:
        received, finished, in_progress: The month's complaints as of the month's end.
        finished_pct: finished × 100 ÷ received (``None`` without complaints).
        declared_pct: The progress the unit declared for the month (first project KPI).
        computed_pct: The progress the data gives as of the unit's report date.
        reported: The unit filed the month's progress report.
        mismatches: Declared figures and flags the data contradicts (every project KPI),
            as the report counts them.
    """

    received: int | None = None
    finished: int | None = None
    in_progress: int | None = None
    finished_pct: float | None = None
    declared_pct: float | None = None
    computed_pct: float | None = None
    reported: bool = False
    mismatches: int = 0

    @property
    def match_th(self) -> str:
        """ตรงกับข้อมูล / ไม่ตรง n รายการ / ยังไม่รายงาน."""
        if not self.reported:
            return "ยังไม่รายงาน"
        return f"ไม่ตรง {self.mismatches} รายการ" if self.mismatches else "ตรงกับข้อมูล"


@dataclass(frozen=True)
class SummaryRow:
    """What the index and the summaries take from one report's ``report.json``."""

    points: float | None
    weight: float | None
    percent: float | None
    kpis: tuple[KpiLevel, ...]
    certified: bool | None
    sample_data: bool = False
    month: MonthSummary | None = None

    @property
    def uncertified(self) -> tuple[str, ...]:
        """KPIs not certified (unknown counts as not certified)."""
        return tuple(k.kpi for k in self.kpis if k.certified is not True)


_CERTIFIED = {"certified": True, "not_certified": False, "unknown": None, "no_data": False}


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
        doc = read_report_json(Path(path).read_bytes())
        sc = doc.scorecard
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
                short=r.kpi.short_name_th or r.kpi.name_th,
            )
            for r in sc.results
        ),
        certified=_CERTIFIED[sc.certification],
        sample_data=doc.provenance.sample_data,
        month=month_summary(doc),
    )


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def month_summary(doc: Any) -> MonthSummary | None:
    """A monthly report's figures for its index (``None`` for a quarterly report)."""
    from kpilib.forms.view import month_disagreements

    no = doc.period.report_no
    if no is None:
        return None
    fig = doc.month_figures
    declared = computed = None
    reported, mismatches = False, 0
    for progress in doc.projects:
        computed_fig = progress.month(no)
        project = doc.forms.project(progress.kpi) if doc.forms is not None else None
        rep = project.report(no) if project is not None else None
        if computed is None and computed_fig is not None:
            computed = computed_fig.finished_pct
        if rep is not None:
            reported = True
            if declared is None:
                declared = rep.progress_pct
            target = doc.scorecard.result(progress.kpi).kpi.target
            mismatches += month_disagreements(rep, computed_fig, target)
    return MonthSummary(
        received=None if fig is None else fig.received,
        finished=None if fig is None else fig.finished,
        in_progress=None if fig is None else fig.in_progress,
        finished_pct=None if fig is None else _pct(fig.finished_pct),
        declared_pct=declared,
        computed_pct=_pct(computed),
        reported=reported,
        mismatches=mismatches,
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


def kpi_headers(kpis: Sequence[KpiLevel]) -> dict[str, str]:
    """Each KPI column's heading: its short Thai name (with its code when two share one)."""
    names = [k.short or k.label for k in kpis]
    return {
        k.kpi: name if names.count(name) == 1 else f"{name} ({k.label})"
        for k, name in zip(kpis, names, strict=True)
    }


def ranks(plan: RunPlan, rows: Sequence[IndexRow]) -> dict[str, tuple[int, int]]:
    """Each unit's position (1 = best) and how many are ranked, among units of its kind
    (districts, offices) on the total percentage; units without a total are not ranked."""
    kinds = {u.code: u.kind for u in plan.units}
    scored = [
        (r.code, r.summary.percent) for r in rows if r.summary and r.summary.percent is not None
    ]
    out = {}
    for code, pct in scored:
        peers = [p for c, p in scored if kinds.get(c) == kinds.get(code)]
        out[code] = (1 + sum(p > pct for p in peers), len(peers))
    return out


def _levels(row: IndexRow) -> dict[str, int | None]:
    return {k.kpi: k.level for k in row.summary.kpis} if row.summary else {}


def month_table(rows: Sequence[IndexRow]) -> list[list[Any]]:
    """A monthly run's summary: header + one row per unit (the month's figures, the declared
    and computed progress, whether they match, certification, validation, status)."""
    header = [H_CODE, H_NAME, H_RECEIVED, H_FINISHED, H_IN_PROGRESS, H_FINISHED_PCT]
    header += [H_DECLARED, H_COMPUTED, H_MATCH, H_CERTIFIED, H_VALIDATION, H_STATUS]
    table: list[list[Any]] = [header]
    for r in rows:
        m = r.summary.month if r.summary is not None else None
        line: list[Any] = [r.code, r.name_th]
        if m is None:
            line += [None] * 7
        else:
            line += [m.received, m.finished, m.in_progress, m.finished_pct]
            line += [m.declared_pct, m.computed_pct, m.match_th]
        line += [_certified_th(r), r.validation, STATUS_TH.get(r.status, r.status)]
        table.append(line)
    return table


def summary_table(rows: Sequence[IndexRow], *, monthly: bool = False) -> list[list[Any]]:
    """Header + one row per unit, Thai headers (used for the CSV and the workbook)."""
    if monthly:
        return month_table(rows)
    kpis = _kpi_columns(rows)
    names = kpi_headers(kpis)
    header = [H_CODE, H_NAME, H_QUARTER, H_POINTS, H_WEIGHT, H_PERCENT]
    header += [f"{H_LEVEL} {names[k.kpi]}" for k in kpis] + [H_CERTIFIED, H_VALIDATION, H_STATUS]
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


def write_summary_csv(path: Path, rows: Sequence[IndexRow], *, monthly: bool = False) -> Path:
    """``summary.csv``: UTF-8 with BOM (Excel shows Thai correctly), one row per unit."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for line in summary_table(rows, monthly=monthly):
        writer.writerow(["" if v is None else v for v in line])
    return atomic_write_bytes(path, buf.getvalue().encode("utf-8-sig"))


def write_summary_xlsx(path: Path, rows: Sequence[IndexRow], *, monthly: bool = False) -> Path:
    """``summary.xlsx`` (openpyxl), one row per unit, Thai headers, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "สรุปผล"
    for line in summary_table(rows, monthly=monthly):
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


VALIDATION_PAGE = "validation/index.html"
"""The validation page of a fiscal year, relative to ``<out>/<FY>/`` (linked when present)."""


def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(package_dir() / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _quarter_links(plan: RunPlan, current: int | None) -> list[dict[str, Any]]:
    """Links to the fiscal year's quarter indexes that exist (and the one being written)."""
    out = []
    for q in range(1, 5):
        if q == current or (plan.quarter_dir(q) / "index.html").is_file():
            href = f"Q{q}/index.html" if current is None else f"../Q{q}/index.html"
            out.append({"text": f"ไตรมาสที่ {q}", "href": href, "current": q == current})
    return out


def render_index(plan: RunPlan, quarter: int, rows: Sequence[IndexRow]) -> str:
    """The index page of one quarter (every value escaped by Jinja2's autoescape).

    KPI columns are headed by the KPIs' short Thai names; each unit's rank among units of its
    kind; links to the summaries, the validation page, the other quarters and the fiscal
    year's index; a banner when a report was made from the generated sample data.
    """
    from kpilib.calendar import format_thai_date

    kpis = _kpi_columns(rows)
    names = kpi_headers(kpis)
    rank = ranks(plan, rows)
    headers = [
        {"label": H_CODE, "type": "text"},
        {"label": H_NAME, "type": "text"},
        {"label": H_POINTS, "type": "num"},
        {"label": H_PERCENT, "type": "num"},
        {"label": H_RANK, "type": "num", "title": "ในหน่วยงานประเภทเดียวกัน"},
        *({"label": f"{H_LEVEL} {names[k.kpi]}", "type": "num", "title": k.label} for k in kpis),
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
        pos = rank.get(r.code)
        rank_cell = _cell(pos[0] if pos else None, num=True)
        if pos:
            rank_cell["text"] = f"{pos[0]} / {pos[1]}"
        cells.append(rank_cell)
        cells += [_cell(levels.get(k.kpi), num=True) for k in kpis]
        cert = _cell(_certified_th(r))
        if s is not None and s.uncertified:
            cert["text"] += f" ({len(s.uncertified)} ตัวชี้วัด)"
        cells += [cert, _cell(r.validation)]
        view.append(_row_view(r, cells))
    n_failed = sum(1 for r in rows if r.status == "failed")
    n_uncertified = sum(1 for r in rows if r.summary is not None and r.certified is not True)
    meta = (
        f"ปีงบประมาณ {plan.fy} ไตรมาสที่ {quarter} · {len(rows)} หน่วยงาน · "
        f"ล้มเหลว {n_failed} · ยังไม่รับรอง {n_uncertified} · "
        f"จัดทำเมื่อ {format_thai_date(dt.date.today(), style='long')} · kpilib {__version__} · "
        "คลิกหัวตารางเพื่อเรียงลำดับ"
    )
    return _index_page(
        plan,
        rows,
        title=f"รายงานผลตัวชี้วัด ปีงบประมาณ {plan.fy} ไตรมาสที่ {quarter}",
        meta=meta,
        headers=headers,
        view=view,
        periods=_quarter_links(plan, quarter),
        fy_index="../index.html",
    )


def _month_links(plan: RunPlan) -> list[dict[str, Any]]:
    """Links to the fiscal year's month indexes that exist (and the one being written)."""
    from kpilib.calendar import MONTHS_SHORT, fiscal_months

    out = []
    for _, m in fiscal_months(plan.fy):
        if m == plan.month or (plan.month_dir(m) / "index.html").is_file():
            out.append(
                {
                    "text": MONTHS_SHORT[m - 1],
                    "href": f"../M{m:02d}/index.html",
                    "current": m == plan.month,
                }
            )
    return out


def _row_view(r: IndexRow, cells: list[dict[str, Any]]) -> dict[str, Any]:
    """One index row for the template: its cells, status, error and links."""
    return {
        "css": r.status.replace(" ", "-"),
        "cells": cells,
        "status": STATUS_TH.get(r.status, r.status),
        "status_css": r.status.replace(" ", "-"),
        "status_sort": r.status,
        "error": r.error if r.status not in DONE else None,
        "links": [
            (_LINK_TEXT.get(ext, ext.upper()), href)
            for ext, href in sorted(r.links.items(), key=lambda kv: _LINK_ORDER[kv[0]])
        ],
    }


def _index_page(
    plan: RunPlan,
    rows: Sequence[IndexRow],
    *,
    title: str,
    meta: str,
    headers: list[dict[str, Any]],
    view: list[dict[str, Any]],
    periods: Any,
    fy_index: str,
) -> str:
    """A period's index page (quarter or month): the summaries, the validation page, links
    to the other periods, the sample-data banner."""
    from kpilib.render import font_face_css

    files = [("สรุปผล (Excel)", "summary.xlsx"), ("สรุปผล (CSV)", "summary.csv")]
    if (plan.fy_dir() / VALIDATION_PAGE).is_file():
        files.append(("ผลการตรวจสอบข้อมูล", f"../{VALIDATION_PAGE}"))
    return (
        _env()
        .get_template("batch_index.html.j2")
        .render(
            font_css=font_face_css(),
            title=title,
            meta=meta,
            headers=headers,
            rows=view,
            files=files,
            quarters=periods,
            fy_index=fy_index,
            sample=any(r.summary is not None and r.summary.sample_data for r in rows),
        )
    )


def render_month_index(plan: RunPlan, rows: Sequence[IndexRow]) -> str:
    """The index page of one month's progress reports (every value escaped).

    Per unit: the month's complaints as of its end, the progress the unit declared beside the
    progress the data gives as of the unit's report date, whether the declared figures match,
    certification, validation, status and links; links to the other months and quarters.
    """
    from kpilib.calendar import fiscal_month, format_thai_date, format_thai_month

    assert plan.month is not None
    year, month = fiscal_month(plan.fy, plan.month)
    month_th = format_thai_month(year, month)
    nums = {H_RECEIVED, H_FINISHED, H_IN_PROGRESS, H_FINISHED_PCT, H_DECLARED, H_COMPUTED}
    header = month_table([])[0]
    headers = [
        {"label": h, "type": "num" if h in nums else "text"} for h in header if h != H_STATUS
    ]
    headers += [{"label": H_STATUS, "type": "text"}, {"label": "ลิงก์", "type": "text"}]
    view = []
    for r, line in zip(rows, month_table(rows)[1:], strict=True):
        cells = [_cell(v, num=h in nums) for h, v in zip(header[:-1], line[:-1], strict=True)]
        for c in cells:
            if isinstance(c["sort"], int):
                c["text"] = f"{c['sort']:,}"
        view.append(_row_view(r, cells))
    mismatched = sum(
        1 for r in rows if r.summary and r.summary.month and r.summary.month.mismatches
    )
    meta = (
        f"ปีงบประมาณ {plan.fy} เดือน{month_th} · {len(rows)} หน่วยงาน · "
        f"ตัวเลขที่แจ้งไม่ตรงกับข้อมูล {mismatched} หน่วยงาน · "
        f"จัดทำเมื่อ {format_thai_date(dt.date.today(), style='long')} · kpilib {__version__} · "
        "คลิกหัวตารางเพื่อเรียงลำดับ"
    )
    return _index_page(
        plan,
        rows,
        title=f"รายงานความก้าวหน้าโครงการ ปีงบประมาณ {plan.fy} ประจำเดือน{month_th}",
        meta=meta,
        headers=headers,
        view=view,
        periods=_month_links(plan),
        fy_index="../index.html" if (plan.fy_dir() / "index.html").is_file() else "",
    )


def render_fy_index(plan: RunPlan, by_quarter: Mapping[int, Sequence[IndexRow]]) -> str:
    """The fiscal year's index: every unit's total percentage and rank in each quarter
    rendered so far, with links to the quarter indexes and each report."""
    from kpilib.calendar import format_thai_date
    from kpilib.render import font_face_css

    quarters = sorted(by_quarter)
    names = {u.code: u.name_th for u in plan.units}
    codes = sorted({r.code for q in quarters for r in by_quarter[q]})
    for q in quarters:
        names.update({r.code: r.name_th for r in by_quarter[q]})
    rank = {q: ranks(plan, by_quarter[q]) for q in quarters}
    cells = {(r.code, q): r for q in quarters for r in by_quarter[q]}
    view = []
    for code in codes:
        line = []
        for q in quarters:
            r = cells.get((code, q))
            s = r.summary if r is not None else None
            pos = rank[q].get(code)
            line.append(
                {
                    "percent": _fmt(s.percent if s else None),
                    "sort": "" if s is None or s.percent is None else s.percent,
                    "rank": f"{pos[0]} / {pos[1]}" if pos else "",
                    "href": f"Q{q}/{r.links['html']}"
                    if r is not None and "html" in r.links
                    else "",
                }
            )
        view.append({"code": code, "name": names.get(code, code), "quarters": line})
    sample = any(
        r.summary is not None and r.summary.sample_data for q in quarters for r in by_quarter[q]
    )
    return (
        _env()
        .get_template("batch_fy_index.html.j2")
        .render(
            font_css=font_face_css(),
            title=f"รายงานผลตัวชี้วัด ปีงบประมาณ {plan.fy} ทุกไตรมาส",
            meta=(
                f"{len(codes)} หน่วยงาน · จัดทำเมื่อ "
                f"{format_thai_date(dt.date.today(), style='long')} · kpilib {__version__}"
            ),
            quarters=quarters,
            quarter_links=_quarter_links(plan, None),
            rows=view,
            sample=sample,
            validation=f"{VALIDATION_PAGE}" if (plan.fy_dir() / VALIDATION_PAGE).is_file() else "",
        )
    )


_LINK_TEXT = {"html": "รายงาน", "pdf": "PDF", "ipynb": "notebook", "json": "JSON"}
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
        "month": plan.month,
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
            "month": plan.month,
            "units": [u.code for u in plan.units] if plan.units_explicit else "catalogue",
            "data": str(plan.data_dir),
            "out": str(plan.out_dir),
            "jobs": plan.jobs,
            "scheduler": plan.scheduler,
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
                "pid": r.pid,
                "first_in_worker": r.warm_up is not None,
            }
            for r in sorted(results, key=lambda r: (r.quarter, r.unit))
        ],
    }
    path = plan.runs_dir() / f"{run_id}.json"
    return atomic_write_text(path, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
