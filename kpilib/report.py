"""The report's HTML blocks, rendered from a typed :class:`~kpilib.document.ReportDocument`.

Each function takes the document and returns an HTML fragment rendered with jinja2
**autoescape**: every value is escaped, so citizen free text (complaint comments, notes,
evidence) is shown as text and can never become markup. The report notebook displays the
blocks with ``IPython.display.HTML``; templates live in ``kpilib/templates/blocks``.

Nothing runs on import; templates are loaded on first use.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from kpilib import calendar as cal
from kpilib.catalog import INDICATOR_TYPES_TH, RESULT_LEVELS_TH, Kpi
from kpilib.document import (
    CERTIFICATION_TH,
    NO_DATA_TH,
    NO_LAST_YEAR_TH,
    FindingEntry,
    KpiResult,
    ReportDocument,
)
from kpilib.fsio import atomic_write_text
from kpilib.numbers import DASH, fmt_number, round_half_up
from kpilib.paths import package_dir
from kpilib.rubric import bound_texts
from kpilib.words import finding_words, reason_th

CERTIFICATION_SENTENCE_TH = (
    "ขอรับรองว่า ข้อมูลที่ปรากฏในเอกสารฉบับนี้ หน่วยงานได้จัดพิมพ์จากระบบงานจริง เพื่อเป็นหลักฐานไว้ตรวจสอบ"
)
"""The certification sentence printed at the foot of the seeds' KPI forms."""

_LABELS: dict[str, tuple[str, str]] = {
    "title": ("รายงานผลการดำเนินงานตามตัวชี้วัด", "KPI performance report"),
    "unit": ("หน่วยงาน", "Unit"),
    "code": ("รหัส", "code"),
    "fy": ("ปีงบประมาณ พ.ศ.", "Fiscal year (BE)"),
    "quarter": ("ไตรมาสที่", "Quarter"),
    "month": ("ประจำเดือน", "Month"),
    "title_monthly": (
        "รายงานความก้าวหน้าโครงการประจำเดือน",
        "Monthly project progress report",
    ),
    "period": ("ช่วงเวลารายงาน", "Reporting period"),
    "as_of": ("ข้อมูล ณ วันที่", "Data as of"),
    "scorecard": ("1. สรุปผลการประเมิน", "Summary"),
    "details": ("2. รายละเอียดตัวชี้วัด", "KPI details"),
    "charts": ("3. ข้อมูลเรื่องร้องเรียน", "Complaint data"),
    "audit_title": ("4. ตรวจสอบรายเรื่อง", "Ticket audit"),
    "appendix": ("ภาคผนวก: นิยามและวิธีคำนวณฉบับเต็ม", "Appendix: full definitions"),
    "total_score": ("คะแนนรวม", "Total score"),
    "rank": ("อันดับ", "Rank"),
    "evaluation": ("ผลประเมิน", "Evaluation"),
    "vs_previous": ("เทียบไตรมาสก่อน", "vs previous quarter"),
    "summary_note": (
        "ผลงานสะสมตั้งแต่ 1 ต.ค. ถึงวันที่ข้อมูล; ผลประเมิน = ผลงาน × 100 ÷ แผนหรือเป้าหมายของไตรมาส"
        " (ไม่เกิน 100); คะแนน = น้ำหนัก × ระดับ ÷ 5; การเปลี่ยนแปลงคิดจากผลงาน",
        "Results are cumulative from 1 Oct; evaluation = result × 100 ÷ the quarter's plan or"
        " target (at most 100); points = weight × level ÷ 5; changes are of the result",
    ),
    "vs_year_ago": ("เทียบปีก่อน", "vs last year"),
    "kpi": ("ตัวชี้วัด", "KPI"),
    "target": ("ค่าเป้าหมาย", "Target"),
    "result": ("ผลงานที่ทำได้", "Result"),
    "level": ("ระดับ", "Level"),
    "score": ("คะแนนระดับ", "score"),
    "points": ("คะแนน", "Points"),
    "weight": ("น้ำหนัก", "Weight"),
    "status": ("สถานะ", "Status"),
    "certified": ("การรับรองข้อมูล", "Data certified"),
    "totals": ("คะแนนรวมแยกตามองค์ประกอบ", "Totals by component"),
    "component": ("องค์ประกอบ", "Component"),
    "total": ("รวมทั้งสิ้น", "Total"),
    "left_out": ("ไม่รวมน้ำหนักของตัวชี้วัดที่ไม่มีข้อมูล", "Weights left out (no data)"),
    "no_kpis": ("ไม่มีตัวชี้วัดสำหรับหน่วยงานนี้ในไตรมาสนี้", "No KPI for this unit and quarter"),
    "definition": ("นิยาม", "Definition"),
    "formula": ("สูตรคำนวณ", "Formula"),
    "scoring": ("วิธีให้คะแนน", "Scoring mode"),
    "next_level": ("ค่าที่ต้องทำได้เพื่อถึงระดับถัดไป", "Value reaching the next level"),
    "capped_by": ("ถูกจำกัดระดับโดยเงื่อนไข", "capped by"),
    "criterion": ("เกณฑ์การให้คะแนน", "Criterion"),
    "evidence": ("หลักฐานอ้างอิงที่ต้องใช้", "Required evidence"),
    "requirements": ("เงื่อนไขที่ต้องดำเนินการ", "Requirements"),
    "requirement": ("เงื่อนไข", "Requirement"),
    "requirement_state": ("ผลการดำเนินการ", "Met"),
    "requirement_evidence": ("หลักฐานที่รายงาน", "Evidence reported"),
    "caps_level": ("จำเป็นสำหรับระดับ 5", "needed for level 5"),
    "validation": ("5. ผลการตรวจสอบคุณภาพข้อมูล", "Data validation"),
    "no_findings": ("ไม่พบปัญหาคุณภาพข้อมูลของหน่วยงานนี้", "No finding for this unit"),
    "not_validated": ("ยังไม่ได้ตรวจสอบคุณภาพข้อมูล", "Data not validated"),
    "findings_intro": ("จำนวนข้อค้นพบ (ร้ายแรง / เตือน):", "Findings (blocking / warning):"),
    "blocking": ("ร้ายแรง (ระงับการรับรอง)", "blocking"),
    "warning": ("เตือน", "warning"),
    "rows_affected": ("จำนวนแถว", "rows"),
    "source_file": ("แฟ้มต้นทาง", "source file"),
    "source_row": ("แถวที่", "row"),
    "value": ("ค่าที่พบ", "value"),
    "reason": ("เหตุผล", "reason"),
    "validation_source": ("ผลการตรวจสอบข้อมูลจาก", "Validation results from"),
    "certification": ("6. การรับรองและการทำซ้ำรายงาน", "Certification and reproducibility"),
    "version": ("รุ่นซอฟต์แวร์", "Software version"),
    "generated": ("วันเวลาที่จัดทำ", "Generated at"),
    "data": ("ชุดข้อมูล", "Data"),
    "input_file": ("แฟ้มข้อมูลนำเข้า", "Input file"),
    "reproduce": ("ทำซ้ำได้ด้วยคำสั่ง", "Reproduce with"),
    "scoring_step": ("แบบขั้นบันได (step)", "step"),
    "scoring_linear": ("แบบเส้นตรง (linear)", "linear"),
    "max_level": ("ได้ระดับสูงสุดแล้ว", "highest level reached"),
    "no_data": (NO_DATA_TH, "no data"),
    "sample_banner": (
        "ข้อมูลตัวอย่าง (สังเคราะห์) — ไม่ใช่ข้อมูลจริงของหน่วยงาน ใช้เพื่อทดสอบและสาธิตเท่านั้น",
        "Sample (synthetic) data — not the unit's real data; for testing and demonstration only",
    ),
    "sample_short": ("ข้อมูลตัวอย่าง (สังเคราะห์) ไม่ใช่ข้อมูลจริง", "Sample (synthetic) data"),
    "audit": ("เรื่องที่ไม่เป็นไปตามขั้นตอนที่ 1–2", "Tickets not compliant with steps 1–2"),
    "audit_none": ("ไม่พบเรื่องที่ไม่เป็นไปตามขั้นตอน", "No non-compliant ticket"),
}

_EN_TITLES = {
    "title",
    "title_monthly",
    "scorecard",
    "details",
    "charts",
    "audit_title",
    "appendix",
    "validation",
    "certification",
}

_AUDIT_COLUMNS = (
    ("ticket_id", "เลขที่เรื่อง"),
    ("step", "ขั้นตอน"),
    ("rule_th", "ข้อที่ไม่ผ่าน"),
    ("due", "กำหนด"),
    ("actual", "ดำเนินการจริง"),
    ("late_business_days", "ช้า (วันทำการ)"),
    ("comment", "รายละเอียดเรื่อง (ข้อความจากผู้ร้อง)"),
)


def labels(lang: str = "th") -> dict[str, str]:
    """Return the report's labels in ``lang`` (``th`` or ``en``); ``*_alt`` keys hold the other."""
    i = 1 if lang == "en" else 0
    out = {k: v[i] for k, v in _LABELS.items()}
    for k in _EN_TITLES:
        out[f"{k}_alt"] = _LABELS[k][1 - i]
    out["cert_sentence"] = CERTIFICATION_SENTENCE_TH
    return out


@cache
def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(package_dir() / "templates" / "blocks")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def _render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def style_html() -> str:
    """Return the report's CSS as a ``<style>`` element (for interactive display)."""
    css = (package_dir() / "templates" / "report.css").read_text(encoding="utf-8")
    return f"<style>{css}</style>"


def notebook_style_html() -> str:
    """The embedded font and the report's CSS as one ``<style>``, for an analyst's notebook:
    its HTML export (``jupyter nbconvert --to html``) then draws Thai in Sarabun too."""
    from kpilib.render import report_css

    return f"<style>{report_css()}</style>"


# ---------------------------------------------------------------- one KPI, for people

NOT_REPORTED_TH = "ยังไม่รายงาน"

_STRATEGY_FIELDS = (
    "side_th",
    "dimension_th",
    "goal_th",
    "purpose_th",
    "policy_th",
    "strategy_th",
    "sub_strategy_th",
    "objective_th",
    "key_result_th",
    "indicator_th",
)


def strategy_lines(kpi: Kpi) -> list[str]:
    """The KPI's links to the BMA strategy (ด้าน / มิติ / เป้าหมาย …), as printed."""
    values = (getattr(kpi.strategy, f) for f in _STRATEGY_FIELDS)
    return [v for v in values if v and v.strip() not in ("-", "–")]


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def value_text(r: KpiResult) -> str:
    """The KPI's value with its unit (``90.96 ร้อยละ``, ``9 โครงการ``) or ``ไม่มีข้อมูล``."""
    if not r.has_data:
        return NO_DATA_TH
    return f"{r.value_text}\u00a0{r.kpi.unit_th}".strip()  # the number stays with its unit


def target_text(r: KpiResult) -> str:
    """The target in a few words: ``ไม่น้อยกว่า 95 ร้อยละ`` / ``มากกว่า 80 ร้อยละ``."""
    t = r.kpi.target
    op = "ไม่น้อยกว่า" if t.op == ">=" else "มากกว่า"
    return f"{op} {fmt_number(t.value, grouping=True)}\u00a0{r.kpi.unit_th}".strip()


def statuses(r: KpiResult) -> list[dict[str, str]]:
    """The status flags with the numbers they compare and a CSS class each."""
    out = [
        {
            "text": f.text_th,
            "detail": f.detail_th,
            "css": "ok" if f.met else ("warn" if f.year_to_date else "bad"),
        }
        for f in r.flags
    ]
    return out or [{"text": DASH, "detail": "", "css": "muted"}]


def certification_badge(r: KpiResult) -> dict[str, str]:
    """The certification badge: text, CSS class and the reason when not certified."""
    c = r.certification
    if c.state == "no_data":
        return {"text": NO_DATA_TH, "css": "muted", "reason": "", "short": ""}
    css = {"certified": "ok", "not_certified": "bad", "unknown": "warn"}[c.state]
    n = len(c.reasons_th)
    short = f"ข้อผิดพลาดในข้อมูล {n} รายการ (ดูรายละเอียด)" if n else ""
    return {"text": c.text_th, "css": css, "reason": "; ".join(c.reasons_th), "short": short}


def rubric_rows(r: KpiResult) -> list[dict[str, Any]]:
    """The rubric, level 5 first, with the level reached marked."""
    by = r.kpi.rubric.by_level()
    bounds = bound_texts(r.kpi.rubric)
    level = r.level
    return [
        {
            "level": str(lv),
            "text": by[lv].text_th or bounds[lv],
            "points": fmt_number(r.kpi.weight * lv / 5, decimals=2),
            "reached": level == lv,
        }
        for lv in range(5, 0, -1)
    ]


def baseline_rows(k: Kpi) -> list[dict[str, str]]:
    """The KPI's results of earlier years as printed (``-`` in the seed: a dash)."""
    return [
        {
            "year": str(b.fiscal_year),
            "text": b.text_th or (DASH if b.value is None else fmt_number(b.value)),
        }
        for b in k.baseline
    ]


def kpi_row(r: KpiResult, L: dict[str, str], lang: str = "th") -> dict[str, Any]:
    """Everything one KPI shows, as display strings."""
    k = r.kpi
    name, name_alt = (k.name_en, k.name_th) if lang == "en" else (k.name_th, k.name_en)
    s = r.score
    next_level = DASH
    if s is not None:
        if s.level == 5:
            next_level = L["max_level"]
        elif s.next_level_value is not None:
            op = "ไม่น้อยกว่า" if s.next_level_inclusive else "มากกว่า"
            next_level = f"{op} {fmt_number(s.next_level_value, grouping=True)} {k.unit_th}"
    return {
        "kpi_id": k.id,
        "code": k.code or "",
        "name": name,
        "short_name": k.short_name_th or k.name_th,
        "name_alt": name_alt,
        "target": target_text(r),
        "target_full": k.target.text_th,
        "value": value_text(r),
        "value_raw": "" if r.value is None else r.value,
        "level": DASH if s is None else str(s.level),
        "score_fraction": fmt_number(s.score, decimals=2) if s and s.scoring == "linear" else "",
        "points": L["no_data"] if s is None else fmt_number(s.points, decimals=2),
        "points_raw": "" if s is None else s.points,
        "weight": fmt_number(k.weight, grouping=True),
        "statuses": statuses(r),
        "cert": certification_badge(r),
        "definition": k.definition_th,
        "formula": r.formula.text_th or DASH,
        "capped_by": "; ".join(s.capped_by) if s and s.capped_by else "",
        "capped_reason": (s.capped_reason_th or "") if s else "",
        "scoring": L[f"scoring_{k.rubric.scoring}"],
        "next_level": next_level,
        "rubric": rubric_rows(r),
        "evidence": list(k.evidence_th),
        "figures": [{"label": f.label_th, "text": f.text_th} for f in r.figures],
        "indicator_type": INDICATOR_TYPES_TH[k.indicator_type],
        "component": f"{k.component} {k.component_name_th}",
        "source": f"เอกสาร {k.source.document[:3]}"
        + (f" ตัวชี้วัดที่ {k.source.number}" if k.source.number else "")
        + f" ปีงบประมาณ พ.ศ. {k.fiscal_year}",
        "result_levels": [
            {"text": text, "ticked": k.result_level == key}
            for key, text in RESULT_LEVELS_TH.items()
        ],
        "strategy": strategy_lines(k),
        "definition_short": _shorten(k.definition_th, 160),
        "formula_seed": k.formula_th,
        "data_source": k.data_source_th or "",
        "period": k.period_th,
        "baselines": baseline_rows(k),
        "year_end_summary": NOT_REPORTED_TH,
        "supporting": NOT_REPORTED_TH,
        "obstacles": NOT_REPORTED_TH,
        "evidence_submitted": NOT_REPORTED_TH,
        "interpretations": list(k.interpretations_th),
        "assumptions": list(k.assumptions_th),
        "requirements": [
            {
                "text": q.text_th,
                "state": q.state_th,
                "css": "muted" if q.met is None else ("ok" if q.met else "bad"),
                "evidence": q.evidence,
                "caps": q.caps_level,
            }
            for q in r.requirements
        ],
    }


# ---------------------------------------------------------------- numerals


def digits_of(doc: ReportDocument) -> Callable[[str], str]:
    """The report's numeral style as a text function: Thai digits or Arabic digits throughout.

    Applied to everything kpilib writes (numbers, dates, the catalogue's texts such as
    "ร้อยละ ๙๕"), never to identifiers (codes, ticket numbers, hashes) or people's own words.
    """
    return cal.to_thai_digits if doc.numerals == "thai" else cal.from_thai_digits


_KEEP_DIGITS = frozenset({"kpi_id", "code", "value_raw", "points_raw", "anchor", "css"})


def localise(obj: Any, digits: Callable[[str], str]) -> Any:
    """Apply ``digits`` to every display string of a block's context (ids excepted)."""
    if isinstance(obj, str):
        return digits(obj)
    if isinstance(obj, dict):
        return {k: (v if k in _KEEP_DIGITS else localise(v, digits)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [localise(v, digits) for v in obj]
    return obj


_MONTHLY_SECTIONS = {"validation": ("5.", "3."), "certification": ("6.", "4.")}
"""A monthly report has two sections of its own (the project form, the month's complaints)
before the validation and certification sections: they are numbered 3 and 4 there."""


def _labels(doc: ReportDocument) -> dict[str, str]:
    """:func:`labels` in the document's language and numeral style."""
    out = labels(doc.lang)
    if doc.period.monthly:
        for key, (old, new) in _MONTHLY_SECTIONS.items():
            out[key] = out[key].replace(old, new, 1)
    return localise(out, digits_of(doc))


def _signed(delta: float | None) -> str:
    """A change with its sign (``+1.25``, ``−3.00``, ``0.00``) or ``—``."""
    if delta is None:
        return DASH
    d = round_half_up(delta, 2) or 0.0
    text = fmt_number(abs(d), decimals=2, grouping=True)
    return f"+{text}" if d > 0 else (f"\u2212{text}" if d < 0 else text)


def _change_css(delta: float | None) -> str:
    if delta is None:
        return "muted"
    d = round_half_up(delta, 2) or 0.0
    return "up" if d > 0 else ("down" if d < 0 else "same")


# ---------------------------------------------------------------- blocks


def header_html(doc: ReportDocument) -> str:
    """The report header: unit, FY พ.ศ., quarter, period and as-of date (Thai); a sample banner."""
    L = _labels(doc)
    u, p = doc.unit, doc.period
    en = doc.lang == "en"
    if p.month is not None:  # a monthly progress report: the month, not the quarter
        year, month = cal.fiscal_month(p.fiscal_year, p.month)
        period_name, period_value = L["month"], cal.format_thai_month(year, month)
        heading, heading_alt = L["title_monthly"], L["title_monthly_alt"]
    else:
        period_name, period_value = L["quarter"], str(p.quarter)
        heading, heading_alt = L["title"], L["title_alt"]
    context = localise(
        {
            "unit_name": u.name_en if en else u.name_th,
            "unit_name_alt": u.name_th if en else u.name_en,
            "fy": str(p.fiscal_year),
            "period_name": period_name,
            "period_value": period_value,
            "period_start": cal.format_thai_date(p.start, style="long"),
            "period_end": cal.format_thai_date(p.as_of, style="long"),
            "as_of": cal.format_thai_date(p.as_of, style="long"),
        },
        digits_of(doc),
    )
    digits = digits_of(doc)
    running = digits(
        f"{context['unit_name']} ({u.code}) · {L['fy']} {p.fiscal_year} · "
        f"{period_name} {period_value}"
    )
    if doc.provenance.sample_data:
        running += " · " + L["sample_short"]
    title = digits(
        f"{heading} {context['unit_name']} {L['fy']} {p.fiscal_year} {period_name} {period_value}"
    )
    return style_html() + _render(
        "header.html.j2",
        L=L,
        heading=heading,
        heading_alt=heading_alt,
        unit_code=u.code,
        sample=doc.provenance.sample_data,
        running_header=running,
        pdf_title=title,
        **context,
    )


def rank_text(doc: ReportDocument) -> str:
    """``อันดับที่ 23 จาก 50 สำนักงานเขต`` (or why there is none)."""
    rk = doc.rank
    if rk is None:
        return DASH
    group = "สำนักงานเขต" if rk.kind == "district" else "หน่วยงานระดับสำนัก/สำนักงาน"
    if rk.position is None:
        return f"ไม่จัดอันดับ (ไม่มีตัวชี้วัดที่มีข้อมูล) จาก {rk.of} {group}"
    return f"อันดับที่ {rk.position} จาก {rk.of} {group}"


def summary_rows(doc: ReportDocument) -> list[dict[str, Any]]:
    """Per KPI, the summary's cells as display strings (before numerals are applied)."""
    L = _labels(doc)
    out = []
    for r in doc.scorecard.results:
        row = kpi_row(r, L, doc.lang)
        row["anchor"] = _anchor(r.kpi.id)
        form = doc.web_form_of(r.kpi.id)
        evaluation = None
        if form is not None:
            now = next((w for w in form.rows if w.quarter == doc.period.quarter), None)
            evaluation = None if now is None else now.evaluation
        ch = doc.change_of(r.kpi.id)
        prev = None if ch is None else ch.delta_previous
        year = None if ch is None else ch.delta_year_ago
        year_text = NO_LAST_YEAR_TH if ch is None or ch.year_ago is None else _signed(year)
        prev_text = _signed(prev) if ch is not None and ch.previous is not None else NO_DATA_TH
        row.update(
            evaluation=DASH if evaluation is None else fmt_number(evaluation, decimals=2),
            delta_previous=prev_text,
            delta_previous_css=_change_css(prev),
            delta_previous_title="" if ch is None else ch.previous_label_th,
            delta_year=year_text,
            delta_year_css=_change_css(year),
            delta_year_title="" if ch is None else ch.year_ago_label_th,
        )
        out.append(row)
    return out


def summary_html(doc: ReportDocument) -> str:
    """The one-page summary: total score, component totals, rank, and one line per KPI.

    Every KPI line: short name, target, result, evaluation, level, points of weight, status,
    change since the previous quarter and the same quarter last year, certification.
    """
    L = _labels(doc)
    sc = doc.scorecard
    left_out = [
        f"{r.kpi.short_name_th or r.kpi.name_th} (น้ำหนัก {fmt_number(r.kpi.weight)})"
        for r in sc.results
        if r.kpi.id in sc.left_out
    ]
    totals = [
        {
            "component": f"{t.component} {t.name_th}",
            "points": fmt_number(t.points, decimals=2),
            "weight": fmt_number(t.counted_weight, grouping=True),
            "left_out": fmt_number(t.weight - t.counted_weight, grouping=True)
            if t.weight > t.counted_weight
            else "",
        }
        for t in sc.totals_by_component
    ]
    ch = doc.changes[0] if doc.changes else None
    context = localise(
        {
            "rows": summary_rows(doc),
            "totals": totals,
            "total_points": fmt_number(sc.total_points, decimals=2),
            "total_weight": fmt_number(sc.counted_weight, grouping=True),
            "percent": DASH if sc.percent is None else fmt_number(sc.percent, decimals=2),
            "rank": rank_text(doc),
            "left_out": left_out,
            "certification": {
                "certified": "ok",
                "not_certified": "bad",
                "unknown": "warn",
            }[sc.certification],
            "certification_text": CERTIFICATION_TH[sc.certification],
            "previous_label": "" if ch is None else ch.previous_label_th,
            "year_ago_label": "" if ch is None else ch.year_ago_label_th,
            "as_of": cal.format_thai_date(doc.period.as_of, style="long"),
            "period": f"ไตรมาสที่ {doc.period.quarter} ปีงบประมาณ พ.ศ. {doc.period.fiscal_year}",
        },
        digits_of(doc),
    )
    return _render(
        "summary.html.j2",
        L=L,
        unit_name=doc.unit.name_th,
        unit_code=doc.unit.code,
        total_points_raw=sc.total_points,
        **context,
    )


def scorecard_html(doc: ReportDocument) -> str:
    """The scorecard (kept for callers of the earlier API): the one-page summary."""
    return summary_html(doc)


def web_form_rows(doc: ReportDocument, kpi_id: str) -> dict[str, Any] | None:
    """The web form's quarterly table of one KPI, as display strings."""
    form = doc.web_form_of(kpi_id)
    if form is None:
        return None

    def num(v: float | None) -> str:
        return DASH if v is None else fmt_number(v, decimals=2, grouping=True)

    rows = []
    for w in form.rows:
        if w.quarter > doc.period.quarter and w.result is None:
            continue
        assessed = (
            "ยังไม่ประเมิน"
            if w.assessment_2_1 is None and w.assessment_2_2 is None
            else f"{num(w.assessment_2_1)} / {num(w.assessment_2_2)}"
        )
        rows.append(
            {
                "quarter": str(w.quarter),
                "result": num(w.result),
                "source": "ที่หน่วยงานรายงาน" if w.result_source == "reported" else "",
                "computed": num(w.computed) if w.result_source == "reported" else "",
                "comparator": f"{'แผน' if w.comparator_kind == 'plan' else 'เป้าหมาย'} {num(w.comparator)}",
                "evaluation": num(w.evaluation),
                "assessment": assessed,
                "narrative": w.narrative if w.narrative else NOT_REPORTED_TH,
            }
        )
    audit = (
        f"สยป. ตรวจประเมินตัวชี้วัด : ไตรมาสที่ {form.audit_quarter} : {num(form.audit_score)}"
        if form.audit_quarter is not None
        else "สยป. ตรวจประเมินตัวชี้วัด : ยังไม่ตรวจประเมิน"
    )
    return {"rows": rows, "audit": audit, "target": num(form.target), "result": num(form.result)}


def people_parts(doc: ReportDocument, kpi_id: str) -> dict[str, str]:
    """The form's people's sections of one KPI (year-end summary, factors, obstacles, evidence
    submitted), from the latest quarter that reported each; ``ยังไม่รายงาน`` when nobody did."""
    entries = doc.forms.entries_of(kpi_id) if doc.forms is not None else ()

    def latest(field: str) -> str:
        values = [getattr(e, field) for e in sorted(entries, key=lambda e: e.quarter)]
        values = [v for v in values if v]
        return values[-1] if values else NOT_REPORTED_TH

    q4 = [e for e in entries if e.quarter == 4 and e.narrative]
    submitted = [
        f"{ev.file_name}"
        + (f" ({cal.format_thai_date(ev.submitted_on)})" if ev.submitted_on else "")
        + (" (ตรวจพบแฟ้มแล้ว)" if ev.sha256 else "")
        for e in entries
        for ev in e.evidence
        if ev.submitted
    ]
    return {
        "year_end_summary": q4[0].narrative if q4 else NOT_REPORTED_TH,  # type: ignore[dict-item]
        "supporting": latest("factors"),
        "obstacles": latest("obstacles"),
        "evidence_submitted": "; ".join(submitted) if submitted else NOT_REPORTED_TH,
    }


def _anchor(kpi_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", kpi_id)


def kpi_sections_html(doc: ReportDocument, *, charts: bool = True) -> str:
    """Section 2: one section per KPI in the indicator report form's order (seed 004).

    Each section holds the KPI's by-quarter chart (result, plan and target) beside its
    quarterly table; the full definition and the seed's calculation text are in the appendix.
    """
    L = _labels(doc)
    digits = digits_of(doc)
    figures = kpi_chart_html(doc) if charts else {}
    out = []
    for i, r in enumerate(doc.scorecard.results):
        row = kpi_row(r, L, doc.lang)
        row["web_form"] = web_form_rows(doc, r.kpi.id)
        row = localise(row, digits)
        row.update(people_parts(doc, r.kpi.id))  # people's own words, as written
        out.append(
            _render(
                "kpi_section.html.j2",
                L=L,
                r=row,
                anchor=_anchor(r.kpi.id),
                chart=Markup(figures.get(r.kpi.id, "")),
                section_heading=L["details"] if i == 0 else "",
                section_heading_alt=L["details_alt"],
            )
        )
    return "\n".join(out)


def appendix_html(doc: ReportDocument) -> str:
    """The appendix: each KPI's full definition, the seed's calculation text, interpretations."""
    L = _labels(doc)
    items = []
    for r in doc.scorecard.results:
        k = r.kpi
        items.append(
            {
                "anchor": _anchor(k.id),
                "name": k.short_name_th or k.name_th,
                "full_name": k.name_th,
                "definition": k.definition_th,
                "formula_seed": k.formula_th,
                "interpretations": list(k.interpretations_th),
                "assumptions": list(k.assumptions_th),
            }
        )
    return _render("appendix.html.j2", L=L, items=localise(items, digits_of(doc)))


# ---------------------------------------------------------------- validation, for people


def _affects(doc: ReportDocument, table: str) -> list[str]:
    """Short names of the report's KPIs that read ``table``."""
    return [
        r.kpi.short_name_th or r.kpi.name_th for r in doc.scorecard.results if table in r.tables
    ]


def group_findings(
    findings: Iterable[tuple[FindingEntry, str | None]],
    affects: Callable[[str], list[str]],
    *,
    max_rows: int = 5,
) -> list[dict[str, Any]]:
    """Findings grouped per check, table and column, in plain Thai, blocking first.

    Args:
        findings: Each finding with the name of the unit its rows belong to (``None``: the
            whole file).
        affects: The KPIs (short names) that read a table.
        max_rows: Sample rows kept per group.

    Each group: what is wrong, where (data, column, file), how many rows, which units, what
    it affects (blocking: their certification is withheld), what to do, the first rows.
    """
    words = finding_words()
    groups: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for f, unit in findings:
        key = (f.check, f.table, f.column)
        g = groups.get(key)
        if g is None:
            text = words["checks"].get(f.check, words["generic"])
            table = words["tables"].get(f.table, f.table)
            column = words["columns"].get(f.column or "", f.column or "")
            kpis = affects(f.table)
            blocking = f.severity == "blocking"
            if kpis:
                lead = "ระงับการรับรองผลของตัวชี้วัด: " if blocking else "อาจกระทบตัวชี้วัด: "
                what_affects = lead + ", ".join(kpis)
            else:
                what_affects = "ไม่กระทบตัวชี้วัดโดยตรง"
            g = groups[key] = {
                "severity": f.severity,
                "severity_text": "ต้องแก้ไขก่อนรับรอง" if blocking else "ควรตรวจสอบ",
                "css": "bad" if blocking else "warn",
                "what": text["what_th"],
                "todo": text["todo_th"],
                "where": f"ข้อมูล{table}" + (f" ช่อง “{column}”" if column else ""),
                "affects": what_affects,
                "count": 0,
                "files": [],
                "units": [],
                "samples": [],
                "check": f.check,
            }
        g["count"] += f.count
        if f.source_file and f.source_file not in g["files"]:
            g["files"].append(f.source_file)
        if unit and unit not in g["units"]:
            g["units"].append(unit)
        for row in f.rows:
            if len(g["samples"]) < max_rows:
                g["samples"].append(
                    {
                        "row": fmt_number(row.source_row, grouping=True),
                        "value": row.value or "",
                        "reason": reason_th(row.reason) if row.reason else "",
                    }
                )
    out = sorted(groups.values(), key=lambda g: (g["severity"] != "blocking", -g["count"]))
    for g in out:
        g["count"] = fmt_number(g["count"], grouping=True)
        g["has_value"] = any(x["value"] for x in g["samples"])
        g["has_reason"] = any(x["reason"] for x in g["samples"])
    return out


def finding_groups(doc: ReportDocument, *, max_rows: int = 5) -> list[dict[str, Any]]:
    """The unit's findings grouped per check and table, in plain Thai (:func:`group_findings`),
    each saying which of the report's KPIs read the table."""
    return group_findings(
        ((f, None) for f in doc.validation.findings),
        lambda table: _affects(doc, table),
        max_rows=max_rows,
    )


FINDINGS_CSV = "findings.csv"
"""The full list of a report's failing rows, written next to the report."""

_CSV_COLUMNS = (
    "ความรุนแรง",
    "การตรวจสอบ",
    "ข้อมูล",
    "ช่อง",
    "แฟ้มต้นทาง",
    "แถวที่",
    "ค่าที่พบ",
    "เหตุผล",
    "สิ่งที่ผิด",
    "สิ่งที่ควรทำ",
)


def findings_rows(findings: Iterable[FindingEntry]) -> list[list[str]]:
    """Every failing row of the findings (one line per row), with a Thai header."""
    words = finding_words()
    rows = [list(_CSV_COLUMNS)]
    for f in findings:
        text = words["checks"].get(f.check, words["generic"])
        base = [
            "ต้องแก้ไขก่อนรับรอง" if f.severity == "blocking" else "ควรตรวจสอบ",
            f.check,
            words["tables"].get(f.table, f.table),
            f.column or "",
            f.source_file or "",
        ]
        samples = f.rows or ()
        if not samples:
            rows.append([*base, "", "", "", text["what_th"], text["todo_th"]])
        for s in samples:
            rows.append(
                [
                    *base,
                    str(s.source_row),
                    s.value or "",
                    reason_th(s.reason) if s.reason else "",
                    text["what_th"],
                    text["todo_th"],
                ]
            )
    return rows


def write_findings_csv(doc: ReportDocument, path: str | Path) -> Path:
    """Write the unit's :func:`findings_rows` (UTF-8 CSV with a BOM)."""
    return write_rows_csv(findings_rows(doc.validation.findings), path)


def write_rows_csv(rows: list[list[str]], path: str | Path) -> Path:
    """Rows as UTF-8 CSV with a BOM (Excel opens Thai correctly)."""

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return atomic_write_text(path, "\ufeff" + buf.getvalue())


def write_findings_beside(doc: ReportDocument, result_json: Path | None) -> Path | None:
    """Write :data:`FINDINGS_CSV` in the folder of ``report.json`` (nothing without one)."""
    if result_json is None:
        return None
    return write_findings_csv(doc, Path(result_json).with_name(FINDINGS_CSV))


def validation_html(doc: ReportDocument, *, max_rows: int = 5) -> str:
    """Section 5: the findings that concern the unit, grouped per check, in plain Thai."""
    L = _labels(doc)
    v = doc.validation
    groups = finding_groups(doc, max_rows=max_rows)
    return _render(
        "validation.html.j2",
        L=L,
        validated=v.validated,
        groups=localise(groups, digits_of(doc)),
        n_blocking=fmt_number(sum(g["severity"] == "blocking" for g in groups)),
        n_warning=fmt_number(sum(g["severity"] != "blocking" for g in groups)),
        csv_name=FINDINGS_CSV,
    )


def audit_html(doc: ReportDocument) -> str:
    """Section 4: a sample of non-compliant tickets so a reviewer can audit the KPI 3.1 figure."""
    a = doc.audit
    if a is None:
        return ""
    L = _labels(doc)
    digits = digits_of(doc)
    rows = []
    for r in a.rows:
        comment = r.comment if len(r.comment) <= 120 else r.comment[:119] + "…"
        rows.append(
            [
                r.ticket_id,
                digits(str(r.step)),
                digits(r.rule_th),
                "" if r.due is None else digits(cal.format_thai_date(r.due)),
                "" if r.actual is None else digits(cal.format_thai_date(r.actual)),
                "" if r.late_business_days is None else digits(str(r.late_business_days)),
                comment,
            ]
        )
    return _render(
        "audit.html.j2",
        L=L,
        tickets=digits(fmt_number(a.tickets, grouping=True)),
        shown=digits(str(len(rows))),
        as_of=digits(cal.format_thai_date(a.as_of, style="long")),
        columns=[label for _, label in _AUDIT_COLUMNS],
        rows=rows,
    )


def certification_html(doc: ReportDocument) -> str:
    """Section 6: the seeds' sentence, inputs' hashes, version, time, command.

    The generation time is wrapped in ``<span class="generated-at">`` (the only part of a
    report that differs between two runs on the same inputs).
    """
    p = doc.provenance
    when = p.generated_at
    digits = digits_of(doc)
    text = f"{cal.format_thai_date(when.date(), style='long')} {when:%H:%M:%S} น."
    return _render(
        "certification.html.j2",
        L=_labels(doc),
        hashes=sorted(p.inputs.items()),
        generated_at=digits(text),
        version=p.kpilib_version,
        commit=p.git_commit,
        data=p.data_label,
        sample=p.sample_data,
        command=p.command,
    )


def kpi_chart_html(doc: ReportDocument) -> dict[str, str]:
    """Each KPI's by-quarter chart (result, plan, target) as inline SVG, by KPI id."""
    from kpilib import charts  # matplotlib: imported only when charts are drawn

    return {kpi: charts.figure_html(fig, alt=alt) for kpi, alt, fig in charts.kpi_figures(doc)}


def charts_html(doc: ReportDocument) -> str:
    """Section 3: the complaint charts as inline SVG (the report opens offline)."""
    from kpilib import charts  # matplotlib: imported only when charts are drawn

    figures = charts.complaint_charts_html(doc)
    if not figures:
        return ""
    L = _labels(doc)
    parts = [f'<section class="kpi-report charts"><h2 class="section">{L["charts"]}</h2>']
    parts.extend(figures)
    parts.append("</section>")
    return "\n".join(parts)


def forms_html(doc: ReportDocument) -> str:
    """What the unit entered on its forms: narratives, declared flags, assessments (2.1, 2.2,
    สยป.), responsible people, evidence, the project form, and the workbooks' findings."""
    from kpilib.forms.view import forms_context

    context = forms_context(doc)
    return "" if context is None else _render("forms.html.j2", **context)


def monthly_html(doc: ReportDocument) -> str:
    """A monthly progress report's body: each project's progress form (seed 001) with the
    month's report and the history up to it, computed figures beside the declared ones, and
    the month's complaint figures ("" for a quarterly report)."""
    from kpilib.forms.view import monthly_context

    context = monthly_context(doc)
    if context is None:
        return ""
    return _render("monthly.html.j2", L=_labels(doc), **localise(context, digits_of(doc)))


def signoff_html(doc: ReportDocument) -> str:
    """The signature block (reporter, unit head) and the sign-off state against the data."""
    from kpilib.forms.view import signoff_context

    context = signoff_context(doc)
    return "" if context is None else _render("signoff.html.j2", **context)


_GENERATED = re.compile(r'<span class="generated-at">.*?</span>', re.S)


def strip_generation_time(text: str) -> str:
    """Blank the generation time in a rendered report (for determinism checks)."""
    return _GENERATED.sub('<span class="generated-at"></span>', text)
