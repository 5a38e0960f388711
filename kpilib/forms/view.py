"""What the report shows of the people's entries and the sign-off, as display strings.

:mod:`kpilib.report` renders these contexts with the templates ``forms.html.j2`` and
``signoff.html.j2`` (jinja2 autoescape: every entry is free text and is escaped there).
A blank entry shows as "ยังไม่รายงาน"; a declared status flag that the figures contradict is
marked.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from kpilib import calendar as cal
from kpilib.document import KpiResult, MonthFigures, ProjectProgress, ReportDocument
from kpilib.forms.models import (
    NOT_REPORTED_TH,
    STATUS_OFF_PLAN,
    STATUS_OFF_TARGET,
    STATUS_ON_PLAN,
    STATUS_ON_TARGET,
    Evidence,
    KpiEntry,
    MonthlyReport,
    Person,
    Project,
    UnitForms,
)
from kpilib.numbers import DASH, fmt_number
from kpilib.signoff import SignoffCheck, SignoffState

CHANGE_TH = {"added": "เพิ่มขึ้นใหม่", "removed": "ถูกนำออก", "changed": "เนื้อหาเปลี่ยน"}
SEVERITY_TH = {"error": "ไม่ได้นำมาใช้", "warning": "หมายเหตุ"}


def _text(value: Any) -> str:
    """A value for people: numbers plainly (2 decimals when not whole), blank = not reported."""
    if value is None:
        return NOT_REPORTED_TH
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return fmt_number(value, grouping=True)
    if isinstance(value, dt.date):
        return cal.format_thai_date(value, style="short")
    return str(value)


def _cell(value: Any) -> dict[str, str]:
    return {"text": _text(value), "css": "muted" if value is None else ""}


def _person(p: Person) -> dict[str, str]:
    if p.is_blank:
        return {"text": NOT_REPORTED_TH, "css": "muted"}
    parts = [p.name or ""]
    if p.position:
        parts.append(f"ตำแหน่ง {p.position}")
    if p.phone:
        parts.append(f"โทร. {p.phone}")
    return {"text": " ".join(x for x in parts if x), "css": ""}


def when_text(moment: dt.datetime) -> str:
    """A time as the report prints it: ``5 มกราคม 2567 09:30 น.`` (Bangkok time)."""
    local = moment.astimezone(cal.BANGKOK) if moment.tzinfo else moment
    return f"{cal.format_thai_date(local.date(), style='long')} {local:%H:%M} น."


def declared_flags(
    on_plan: bool | None,
    on_target: bool | None,
    *,
    computed_on_plan: bool | None,
    computed_on_target: bool | None,
    details: dict[str, str] | None = None,
) -> list[dict[str, str]]:
    """The unit's declared flags as badges; a declaration the figures contradict is marked
    (``computed_*`` ``None``: nothing to compare with; ``details``: the comparison in words
    by ``plan`` / ``target``)."""
    out = []
    for kind, declared, computed, yes, no in (
        ("plan", on_plan, computed_on_plan, STATUS_ON_PLAN, STATUS_OFF_PLAN),
        ("target", on_target, computed_on_target, STATUS_ON_TARGET, STATUS_OFF_TARGET),
    ):
        if declared is None:
            continue
        text = yes if declared else no
        if computed is not None and computed != declared:
            detail = (details or {}).get(kind)
            out.append(
                {
                    "text": f"{text} (หน่วยงานแจ้ง)",
                    "css": "bad",
                    "note": f"ขัดกับตัวเลข: ผลที่คำนวณได้ {yes if computed else no}"
                    + (f" ({detail})" if detail else ""),
                }
            )
        else:
            out.append(
                {"text": f"{text} (หน่วยงานแจ้ง)", "css": "ok" if declared else "warn", "note": ""}
            )
    return out


def _evidence_rows(r: KpiResult, entry: KpiEntry | None) -> list[dict[str, Any]]:
    given: list[Evidence] = list(entry.evidence) if entry else []
    rows = []
    for item in r.kpi.evidence_th:
        ev = next((e for e in given if e.required_th == item), None)
        if ev is not None:
            given.remove(ev)
        rows.append(_evidence_row(item, ev))
    rows.extend(_evidence_row("หลักฐานเพิ่มเติม", ev) for ev in given)
    return rows


def _evidence_row(label: str, ev: Evidence | None) -> dict[str, Any]:
    if ev is None or not ev.submitted:
        status = {"text": "ยังไม่ส่ง", "css": "warn"}
    elif ev.sha256:
        status = {"text": "ส่งแล้ว (มีแฟ้มในชุดข้อมูล)", "css": "ok"}
    else:
        status = {"text": "ส่งแล้ว (ไม่มีแฟ้มในชุดข้อมูล)", "css": "ok"}
    return {
        "required": label,
        "file": "" if ev is None or ev.file_name is None else ev.file_name,
        "date": "" if ev is None or ev.submitted_on is None else _text(ev.submitted_on),
        "sha": "" if ev is None or ev.sha256 is None else ev.sha256[:16],
        "status": status,
    }


def _kpi_block(r: KpiResult, forms: UnitForms, quarter: int) -> dict[str, Any]:
    e = forms.entry(r.kpi.id, quarter)
    unit_th = r.kpi.unit_th
    result = None if e is None else e.reported_result
    rows = [
        (
            "ผลงานที่หน่วยงานรายงาน",
            _cell(None if result is None else f"{fmt_number(result, grouping=True)} {unit_th}"),
        ),
        ("ผลประเมินของหน่วยงาน (2.1)", _cell(None if e is None else e.self_assessment)),
        ("ผลประเมินของ สยป. (2.2)", _cell(None if e is None else e.assessment)),
        (f"สยป. ตรวจประเมินตัวชี้วัด ไตรมาสที่ {quarter}", _cell(None if e is None else e.audit_score)),
        ("ความเห็นของ สยป.", _cell(None if e is None else e.audit_comment)),
        ("ปัจจัยสนับสนุนการดำเนินงาน", _cell(None if e is None else e.factors)),
        ("อุปสรรคต่อการดำเนินงาน", _cell(None if e is None else e.obstacles)),
        ("ข้อเสนอแนะ", _cell(None if e is None else e.suggestions)),
        ("ผู้รับผิดชอบตัวชี้วัด", _person(e.responsible if e else Person())),
        ("ผู้ประสานงาน สยป.", _person(e.coordinator if e else Person())),
    ]
    narratives = []
    for q in range(1, quarter + 1):
        eq = forms.entry(r.kpi.id, q)
        narratives.append({"quarter": q, **_cell(None if eq is None else eq.narrative)})
    flags = []
    if e is not None:
        computed: dict[str, bool | None] = {"plan": r.on_plan, "target": r.target_met}
        details = {}
        for f in r.flags:
            details[f.kind] = f.detail_th
            if f.year_to_date and not f.met:
                computed[f.kind] = None  # "not yet" before year-end contradicts no declaration
        flags = declared_flags(
            e.declared_on_plan,
            e.declared_on_target,
            computed_on_plan=computed["plan"],
            computed_on_target=computed["target"],
            details=details,
        )
    return {
        "anchor": re.sub(r"[^A-Za-z0-9_-]", "-", r.kpi.id),
        "code": r.kpi.code or "",
        "name": r.kpi.name_th,
        "reported": e is not None,
        "narratives": narratives,
        "flags": flags,
        "rows": [{"label": label, **cell} for label, cell in rows],
        "evidence": _evidence_rows(r, e),
    }


def _computed_month(fig: MonthFigures | None) -> dict[str, str] | None:
    """The month's figures from the data, as the form prints them."""
    if fig is None:
        return None

    def pct(v: float | None) -> str:
        return "" if v is None else f" ({fmt_number(v, decimals=2)} %)"

    return {
        "as_of": _text(fig.as_of),
        "received": _text(fig.received),
        "finished": _text(fig.finished) + pct(fig.finished_pct),
        "in_progress": _text(fig.in_progress) + pct(fig.in_progress_pct),
        "progress": DASH
        if fig.finished_pct is None
        else f"{fmt_number(fig.finished_pct, decimals=2)} %",
    }


def month_mismatches(rep: MonthlyReport, fig: MonthFigures | None) -> list[str]:
    """Figures the unit declared that the data does not give (as of the same date)."""
    if fig is None:
        return []
    out = []
    for label, declared, computed in (
        ("เรื่องที่ได้รับ", rep.received, fig.received),
        ("ดำเนินการเสร็จสิ้น", rep.finished, fig.finished),
        ("อยู่ระหว่างดำเนินการ", rep.in_progress, fig.in_progress),
    ):
        if declared is not None and declared != computed:
            out.append(f"{label}: แจ้ง {_text(declared)} ข้อมูลในระบบ {_text(computed)}")
    return out


def disagreements(row: dict[str, Any]) -> int:
    """How many declared figures and flags of a month's row (:func:`_month_row`) the data
    contradicts."""
    return len(row.get("mismatch", [])) + sum(f["css"] == "bad" for f in row.get("flags", []))


def month_disagreements(rep: MonthlyReport, fig: MonthFigures | None, target: Any) -> int:
    """:func:`disagreements` of one declared monthly report against the computed figures."""
    return disagreements(_month_row(rep.report_no, rep.year, rep.month, rep, target, fig))


def _month_row(
    no: int,
    year: int,
    month: int,
    rep: MonthlyReport | None,
    target: Any,
    fig: MonthFigures | None = None,
) -> dict[str, Any]:
    label = cal.format_thai_month(year, month, long=False)
    computed = _computed_month(fig)
    if rep is None:
        return {"no": no, "month": label, "reported": False, "computed": computed, "mismatch": []}

    def pct(part: int | None) -> str:
        if part is None or not rep.received:
            return ""
        return f" ({fmt_number(part * 100 / rep.received, decimals=2)} %)"

    computed_target = None
    details = {}
    progress = fig.finished_pct if fig is not None else rep.progress_pct
    if progress is not None and target is not None:
        computed_target = target.met(round(progress, 2))
        details["target"] = (
            f"{fmt_number(progress, decimals=2)} % เทียบเป้าหมาย "
            f"{fmt_number(target.value, grouping=True)} %"
        )
    period = DASH
    if rep.period_start or rep.period_end:
        period = f"{_text(rep.period_start)} – {_text(rep.period_end)}"
    return {
        "no": no,
        "month": label,
        "reported": True,
        "reported_on": _text(rep.reported_on),
        "period": period,
        "received": _text(rep.received),
        "finished": _text(rep.finished) + pct(rep.finished),
        "in_progress": _text(rep.in_progress) + pct(rep.in_progress),
        "progress": NOT_REPORTED_TH
        if rep.progress_pct is None
        else f"{fmt_number(rep.progress_pct, decimals=2)} %",
        "budget": _text(rep.budget_spent),
        "flags": declared_flags(
            rep.declared_on_plan,
            rep.declared_on_target,
            computed_on_plan=None,
            computed_on_target=computed_target,
            details=details,
        ),
        "text": rep.text or "",
        "computed": computed,
        "mismatch": month_mismatches(rep, fig),
    }


def _project_block(
    r: KpiResult,
    project: Project | None,
    fy: int,
    last_report: int,
    progress: ProjectProgress | None = None,
) -> dict[str, Any]:
    """The project form: its facts and the monthly reports 1 … ``last_report``."""
    p = project
    facts = [
        ("รหัสโครงการ", _cell(r.kpi.code)),
        ("ปีงบประมาณ พ.ศ.", _cell(str(fy))),
        ("เริ่มต้นโครงการ", _cell(p.start if p else None)),
        ("สิ้นสุดโครงการ", _cell(p.end if p else None)),
        ("งบประมาณที่ได้รับ (บาท)", _cell(p.budget_received if p else None)),
        ("งบประมาณที่ใช้ไป (บาท)", _cell(p.budget_used if p else None)),
        ("หน่วยงานที่รับผิดชอบ", _cell(p.responsible_unit if p else None)),
        ("ผู้รับผิดชอบ", _person(p.responsible if p else Person())),
        ("ผู้ประสานงาน สยป.", _person(p.coordinator if p else Person())),
        ("เป้าหมายของโครงการ", _cell(r.kpi.target.text_th)),
    ]
    months = []
    for no, (year, month) in enumerate(cal.fiscal_months(fy)[:last_report], start=1):
        fig = progress.month(no) if progress is not None else None
        months.append(_month_row(no, year, month, p.report(no) if p else None, r.kpi.target, fig))
    return {
        "name": r.kpi.name_th,
        "facts": [{"label": label, **cell} for label, cell in facts],
        "months": months,
    }


def forms_context(doc: ReportDocument) -> dict[str, Any] | None:
    """The forms block's context (``None`` when the report has no forms)."""
    forms = doc.forms
    if forms is None:
        return None
    q = doc.period.quarter
    fy = doc.period.fiscal_year
    results = doc.scorecard.results
    return {
        "quarter": q,
        "reported": forms.reported,
        "not_reported": NOT_REPORTED_TH,
        "files": [
            {
                "path": f.path,
                "sha": f.sha256[:16],
                "read": f.read,
                "kind": "แบบรายงาน" if f.kind == "workbook" else "หลักฐาน",
            }
            for f in sorted(
                forms.files, key=lambda f: (f.quarter or 0, f.kind != "workbook", f.path)
            )
        ],
        "reporter": _person(forms.reporter),
        "head": _person(forms.head),
        "reported_on": _cell(forms.reported_on),
        "kpis": [_kpi_block(r, forms, q) for r in results],
        "projects": [
            _project_block(r, forms.project(r.kpi.id), fy, 3 * q, doc.project_of(r.kpi.id))
            for r in results
            if r.kpi.indicator_type == "project"
        ],
        "findings": [
            {
                "where": f.where,
                "message": f.message,
                "severity": SEVERITY_TH[f.severity],
                "css": "bad" if f.severity == "error" else "warn",
            }
            for f in sorted(forms.findings, key=lambda f: (f.severity != "error", f.file))
        ],
        "n_errors": forms.errors,
        "n_warnings": forms.warnings,
    }


def _month_complaints(fig: MonthFigures | None) -> dict[str, str] | None:
    """The month's complaint figures as of its end (a monthly report's second part)."""
    if fig is None:
        return None
    computed = _computed_month(fig)
    closed = fig.received - fig.finished - fig.in_progress
    return {
        **computed,  # type: ignore[dict-item]
        "month": cal.format_thai_month(fig.year, fig.month),
        "period": f"{_text(dt.date(fig.year, fig.month, 1))} – {_text(fig.as_of)}",
        "closed": _text(closed) if closed else "",
        "basis": "" if fig.state_basis in (None, "as_of") else fig.state_basis,
    }


def monthly_context(doc: ReportDocument) -> dict[str, Any] | None:
    """A monthly progress report's context: per project KPI the form's facts, the month's
    report, the history up to it (each beside the figures computed from the data) and the
    mismatches; the month's complaint figures; the responsible person's signature line.
    ``None`` for a quarterly report."""
    period = doc.period
    no = period.report_no
    if no is None:
        return None
    fy = period.fiscal_year
    year, month = cal.fiscal_month(fy, period.month)  # type: ignore[arg-type]
    forms = doc.forms
    projects = []
    for r in doc.scorecard.results:
        if r.kpi.indicator_type != "project":
            continue
        project = forms.project(r.kpi.id) if forms is not None else None
        block = _project_block(r, project, fy, no, doc.project_of(r.kpi.id))
        current = block["months"][-1]
        responsible = project.responsible if project is not None else Person()
        projects.append(
            {
                **block,
                "code": r.kpi.code or "",
                "current": current,
                "history": block["months"],
                "mismatches": disagreements(current),
                "signer": responsible.name or "",
                "signer_position": responsible.position or "",
            }
        )
    return {
        "month": cal.format_thai_month(year, month),
        "report_no": str(no),
        "as_of": _text(period.as_of),
        "projects": projects,
        "complaints": _month_complaints(doc.month_figures),
        "not_reported": NOT_REPORTED_TH,
    }


def _signature(s: SignoffCheck) -> dict[str, Any]:
    return {
        "name": s.name,
        "role": s.role,
        "when": when_text(s.signed_at),
        "file": s.file,
        "digest": s.digest[:16],
        "matches": s.matches,
        "inputs": [
            {
                "path": c.path,
                "change": CHANGE_TH[c.change],
                "old": (c.old_sha256 or DASH)[:16],
                "new": (c.new_sha256 or DASH)[:16],
            }
            for c in s.inputs_changed
        ],
        "kpis": [
            {
                "name": c.name_th,
                "old_value": c.old_value or DASH,
                "new_value": c.new_value or DASH,
                "old_points": c.old_points or DASH,
                "new_points": c.new_points or DASH,
            }
            for c in s.kpis_changed
        ],
    }


def signoff_context(doc: ReportDocument) -> dict[str, Any] | None:
    """The signature block and the sign-off state (``None`` without them)."""
    state: SignoffState | None = doc.signoff
    forms = doc.forms
    if state is None and forms is None:
        return None
    p = doc.period
    return {
        "reporter": _person(forms.reporter if forms else Person()),
        "reporter_name": (forms.reporter.name if forms else None) or "",
        "reporter_position": (forms.reporter.position if forms else None) or "",
        "head_name": (forms.head.name if forms else None) or "",
        "head_position": (forms.head.position if forms else None) or "",
        "not_reported": NOT_REPORTED_TH,
        "signatures": [] if state is None else [_signature(s) for s in state.signatures],
        "superseded": 0 if state is None else state.superseded,
        "problems": [] if state is None else list(state.problems),
        "digest": "" if state is None else state.fingerprint.digest,
        "n_inputs": 0 if state is None else len(state.fingerprint.inputs),
        "sign_command": f"kpi sign --unit {doc.unit.code} --fy {p.fiscal_year} "
        f"--quarter {p.quarter} --name … --role …",
    }
