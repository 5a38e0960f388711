"""The report's display building blocks: HTML fragments for the report notebook.

Each function takes plain data (the scorecard as ``Scorecard.to_dict()``, validation findings,
file hashes) and returns an HTML string rendered with jinja2 **autoescape**: every value is
escaped, so citizen free text (complaint comments, notes, evidence) is shown as text and can
never become markup. The notebook displays them with ``IPython.display.HTML``.

The scorecard keys read here are listed in ``docs/report.md``; missing keys show as ``—``
rather than failing, so the report degrades visibly instead of breaking.

Nothing runs on import; templates are loaded on first use.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from kpilib import numbers
from kpilib.paths import package_dir

CERTIFICATION_SENTENCE_TH = (
    "ขอรับรองว่า ข้อมูลที่ปรากฏในเอกสารฉบับนี้ หน่วยงานได้จัดพิมพ์จากระบบงานจริง เพื่อเป็นหลักฐานไว้ตรวจสอบ"
)
"""The certification sentence printed at the foot of the seeds' KPI forms."""

STATUS_ON_PLAN = "เป็นไปตามแผน"
STATUS_OFF_PLAN = "ไม่เป็นไปตามแผน"
STATUS_ON_TARGET = "เป็นไปตามเป้าหมาย"
STATUS_OFF_TARGET = "ไม่เป็นไปตามเป้าหมาย"

_LABELS: dict[str, tuple[str, str]] = {
    "title": ("รายงานผลการดำเนินงานตามตัวชี้วัด", "KPI performance report"),
    "unit": ("หน่วยงาน", "Unit"),
    "code": ("รหัส", "code"),
    "fy": ("ปีงบประมาณ พ.ศ.", "Fiscal year (BE)"),
    "quarter": ("ไตรมาสที่", "Quarter"),
    "period": ("ช่วงเวลารายงาน", "Reporting period"),
    "as_of": ("ข้อมูล ณ วันที่", "Data as of"),
    "scorecard": ("สรุปผลตัวชี้วัด", "Scorecard"),
    "kpi": ("ตัวชี้วัด", "KPI"),
    "target": ("ค่าเป้าหมาย", "Target"),
    "result": ("ผลงานที่ทำได้", "Result"),
    "level": ("ระดับ", "Level"),
    "score": ("คะแนนระดับ", "score"),
    "points": ("คะแนน", "Points"),
    "weight": ("น้ำหนัก", "Weight"),
    "status": ("สถานะ", "Status"),
    "certified": ("การรับรองข้อมูล", "Data certified"),
    "yes_certified": ("รับรองแล้ว", "certified"),
    "not_certified": ("ยังไม่รับรอง", "not certified"),
    "totals": ("คะแนนรวมแยกตามองค์ประกอบ", "Totals by component"),
    "component": ("องค์ประกอบ", "Component"),
    "total": ("รวมทั้งสิ้น", "Total"),
    "no_kpis": ("ไม่มีตัวชี้วัดสำหรับหน่วยงานนี้ในไตรมาสนี้", "No KPI for this unit and quarter"),
    "definition": ("นิยาม", "Definition"),
    "formula": ("สูตรคำนวณ", "Formula"),
    "scoring": ("วิธีให้คะแนน", "Scoring mode"),
    "next_level": ("ค่าที่ต้องทำได้เพื่อถึงระดับถัดไป", "Value reaching the next level"),
    "capped_by": ("ถูกจำกัดระดับโดยเงื่อนไข", "capped by"),
    "criterion": ("เกณฑ์การให้คะแนน", "Criterion"),
    "evidence": ("หลักฐานอ้างอิงที่ต้องใช้", "Required evidence"),
    "validation": ("ผลการตรวจสอบคุณภาพข้อมูล", "Data validation"),
    "no_findings": ("ไม่พบปัญหาคุณภาพข้อมูลของหน่วยงานนี้", "No finding for this unit"),
    "findings_intro": ("จำนวนข้อค้นพบ (ร้ายแรง / เตือน):", "Findings (blocking / warning):"),
    "blocking": ("ร้ายแรง (ระงับการรับรอง)", "blocking"),
    "warning": ("เตือน", "warning"),
    "rows_affected": ("จำนวนแถว", "rows"),
    "source_file": ("แฟ้มต้นทาง", "source file"),
    "certification": ("การรับรองและการทำซ้ำรายงาน", "Certification and reproducibility"),
    "version": ("รุ่นซอฟต์แวร์", "Software version"),
    "generated": ("วันเวลาที่จัดทำ", "Generated at"),
    "parameters": ("พารามิเตอร์", "Parameters"),
    "input_file": ("แฟ้มข้อมูลนำเข้า", "Input file"),
    "reproduce": ("ทำซ้ำได้ด้วยคำสั่ง", "Reproduce with"),
    "scoring_step": ("แบบขั้นบันได (step)", "step"),
    "scoring_linear": ("แบบเส้นตรง (linear)", "linear"),
    "max_level": ("ได้ระดับสูงสุดแล้ว", "highest level reached"),
}

_EN_TITLES = {"title", "scorecard", "validation", "certification"}

_DASH = "—"


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

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(package_dir() / "templates" / "blocks")),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        keep_trailing_newline=False,
    )
    return env


def _render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def style_html() -> str:
    """Return the report's CSS as a ``<style>`` element (for interactive display)."""
    css = (package_dir() / "templates" / "report.css").read_text(encoding="utf-8")
    return f"<style>{css}</style>"


# ---------------------------------------------------------------- formatting


def fmt_number(value: Any, *, digits: int = 2) -> str:
    """Display form of a value: whole numbers (ints) plainly, floats with ``digits`` decimals."""
    if isinstance(value, float):
        return numbers.fmt_number(value, decimals=digits, grouping=True)
    return numbers.fmt_number(value, grouping=True)


def _get(d: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    """First present key among ``keys`` in ``d`` or its nested ``score``/``kpi`` mappings."""
    for source in (d, d.get("score"), d.get("kpi")):
        if isinstance(source, Mapping):
            for k in keys:
                if k in source and source[k] is not None:
                    return source[k]
    return default


def _statuses(r: Mapping[str, Any], L: Mapping[str, str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    on_plan = _get(r, "on_plan")
    on_target = _get(r, "on_target", "target_met")
    if isinstance(on_plan, bool):
        out.append(
            {
                "text": STATUS_ON_PLAN if on_plan else STATUS_OFF_PLAN,
                "css": "ok" if on_plan else "bad",
            }
        )
    if isinstance(on_target, bool):
        out.append(
            {
                "text": STATUS_ON_TARGET if on_target else STATUS_OFF_TARGET,
                "css": "ok" if on_target else "bad",
            }
        )
    for key in ("status", "plan_status", "target_status"):
        text = r.get(key)
        if isinstance(text, str) and text and text not in {s["text"] for s in out}:
            css = "bad" if text.startswith("ไม่") or text.startswith("not") else "ok"
            out.append({"text": text, "css": css})
    if not out:
        out.append({"text": _DASH, "css": "muted"})
    return out


def _with_unit(value: Any, unit: str | None) -> str:
    text = fmt_number(value)
    return f"{text} {unit}" if unit and text != _DASH else text


def _target_text(r: Mapping[str, Any]) -> str:
    text = _get(r, "target_text")
    if text:
        return str(text)
    return _with_unit(_get(r, "target"), _get(r, "value_unit", "unit_th", "unit_label"))


def formula_text(r: Mapping[str, Any]) -> str:
    """The formula filled in with numbers: ``formula_text`` if given, else built from parts.

    With a numerator and a denominator: ``131 × 100 / 217 = 60.37`` for percentages
    (``value_unit``/``unit_th`` ``ร้อยละ`` or ``kind`` containing ``percent``), otherwise
    ``a / b = c``.
    """
    text = _get(r, "formula_text", "formula_filled")
    if text:
        return str(text)
    num, den, value = _get(r, "numerator"), _get(r, "denominator"), _get(r, "value")
    if num is not None and den is not None:
        unit = str(_get(r, "value_unit", "unit_th", "unit_label", default=""))
        kind = str(_get(r, "formula", "formula_kind", default=""))
        pct = "ร้อยละ" in unit or "percent" in kind or unit == "%"
        mid = (
            f"{fmt_number(num)} × 100 / {fmt_number(den)}"
            if pct
            else f"{fmt_number(num)} / {fmt_number(den)}"
        )
        return f"{mid} = {fmt_number(value)}"
    return fmt_number(value)


def _rubric_rows(r: Mapping[str, Any], level: Any) -> list[dict[str, Any]]:
    rows = _get(r, "rubric", "rubric_rows", default=None) or []
    if isinstance(rows, Mapping):
        rows = rows.get("levels") or rows.get("rows") or []
    out = []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        lv = row.get("level")
        text = (
            row.get("text")
            or row.get("text_th")
            or row.get("label")
            or row.get("criterion")
            or row.get("description")
        )
        if not text:
            lo, hi = row.get("lower", row.get("min")), row.get("upper", row.get("max"))
            parts = []
            if lo is not None:
                parts.append(f"{'≥' if row.get('lower_inclusive', True) else '>'} {fmt_number(lo)}")
            if hi is not None:
                parts.append(
                    f"{'≤' if row.get('upper_inclusive', False) else '<'} {fmt_number(hi)}"
                )
            text = " และ ".join(parts) if parts else _DASH
        out.append({"level": lv, "text": text, "reached": level is not None and lv == level})
    return out


def _scoring_text(r: Mapping[str, Any], L: Mapping[str, str]) -> str:
    mode = _get(r, "scoring", "scoring_mode")
    if mode in ("step", "linear"):
        return L[f"scoring_{mode}"]
    return str(mode) if mode else _DASH


def _evidence(r: Mapping[str, Any]) -> list[str]:
    ev = _get(r, "evidence", "required_evidence", default=None)
    if not ev:
        return []
    if isinstance(ev, str):
        return [ev]
    return [str(e) for e in ev]


def _row(r: Mapping[str, Any], L: Mapping[str, str], lang: str) -> dict[str, Any]:
    name_th = _get(r, "name_th", "name", default=_DASH)
    name_en = _get(r, "name_en", default="")
    name, name_alt = (name_en or name_th, name_th) if lang == "en" else (name_th, name_en)
    level = _get(r, "level")
    unit = _get(r, "value_unit", "unit_th", "unit_label")
    next_value = _get(r, "next_level_value")
    certified = _get(r, "certified", default=True)
    reason = _get(r, "uncertified_reason", "not_certified_reason", default="")
    if not reason and not certified:
        blocked = _get(r, "blocking_tables", "uncertified_tables", default=None)
        if blocked:
            reason = ", ".join(str(b) for b in blocked)
    score = _get(r, "score") if not isinstance(r.get("score"), Mapping) else r["score"].get("score")
    capped = _get(r, "capped_by", default=None)
    return {
        "kpi_id": _get(r, "kpi_id", "id", default=""),
        "code": _get(r, "code", "kpi_code", default=""),
        "name": name,
        "name_alt": name_alt if name_alt != name else "",
        "target": _target_text(r),
        "value": _with_unit(_get(r, "value"), unit),
        "value_raw": "" if _get(r, "value") is None else _get(r, "value"),
        "level": fmt_number(level),
        "points": fmt_number(_get(r, "points")),
        "points_raw": "" if _get(r, "points") is None else _get(r, "points"),
        "weight": fmt_number(_get(r, "weight")),
        "statuses": _statuses(r, L),
        "certified": bool(certified),
        "uncertified_reason": reason,
        "definition": _get(r, "definition_th", "definition", default="")
        if lang != "en"
        else _get(r, "definition_en", "definition", "definition_th", default=""),
        "formula": formula_text(r),
        "score_fraction": fmt_number(score)
        if isinstance(score, float) and _get(r, "scoring") == "linear"
        else "",
        "capped_by": ", ".join(capped)
        if isinstance(capped, list | tuple) and capped
        else (capped or ""),
        "scoring": _scoring_text(r, L),
        "next_level": L["max_level"]
        if next_value is None and level == 5
        else _with_unit(next_value, unit),
        "rubric": _rubric_rows(r, level),
        "evidence": _evidence(r),
    }


def _results(scorecard: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    results = scorecard.get("results") or scorecard.get("kpis") or []
    if isinstance(results, Mapping):
        results = list(results.values())
    return [r for r in results if isinstance(r, Mapping)]


def _totals(scorecard: Mapping[str, Any]) -> list[dict[str, str]]:
    totals = scorecard.get("totals_by_component") or {}
    rows: list[dict[str, str]] = []
    items: Iterable[tuple[Any, Any]]
    if isinstance(totals, Mapping):
        items = totals.items()
    else:
        items = ((t.get("component"), t) for t in totals if isinstance(t, Mapping))
    for comp, t in items:
        if isinstance(t, Mapping):
            rows.append(
                {
                    "component": str(t.get("name_th") or t.get("label") or comp),
                    "points": fmt_number(t.get("points")),
                    "weight": fmt_number(t.get("weight")),
                }
            )
        else:
            rows.append({"component": str(comp), "points": fmt_number(t), "weight": _DASH})
    return rows


# ---------------------------------------------------------------- blocks


def header_html(
    *,
    unit_code: str,
    unit_name_th: str,
    fy: int,
    quarter: int,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    unit_name_en: str = "",
    lang: str = "th",
) -> str:
    """The report header: unit (Thai name, code), FY พ.ศ., quarter, period and as-of date (Thai)."""
    from kpilib import calendar as cal

    style = "long"
    return _render(
        "header.html.j2",
        L=labels(lang),
        unit_code=unit_code,
        unit_name=unit_name_en if lang == "en" and unit_name_en else unit_name_th,
        unit_name_alt=unit_name_th if lang == "en" else unit_name_en,
        fy=fy,
        quarter=quarter,
        period_start=cal.format_thai_date(period_start, style=style),
        period_end=cal.format_thai_date(period_end, style=style),
        as_of=cal.format_thai_date(as_of, style=style),
    )


def scorecard_html(scorecard: Mapping[str, Any], *, lang: str = "th") -> str:
    """The scorecard table (every KPI) and totals by component."""
    L = labels(lang)
    rows = [_row(r, L, lang) for r in _results(scorecard)]
    return _render(
        "scorecard.html.j2",
        L=L,
        rows=rows,
        totals=_totals(scorecard),
        total_points=fmt_number(scorecard.get("total_points")),
        total_points_raw=scorecard.get("total_points", ""),
        total_weight=fmt_number(scorecard.get("total_weight")),
    )


def kpi_section_html(result: Mapping[str, Any], *, lang: str = "th") -> str:
    """One KPI: definition, filled-in formula, rubric with the reached level highlighted, etc."""
    L = labels(lang)
    row = _row(result, L, lang)
    anchor = "".join(
        c if c.isalnum() or c in "-_" else "-" for c in str(row["kpi_id"] or row["code"])
    )
    return _render("kpi_section.html.j2", L=L, r=row, anchor=anchor or "kpi")


def kpi_sections_html(scorecard: Mapping[str, Any], *, lang: str = "th") -> str:
    """Every KPI's section, in scorecard order."""
    return "\n".join(kpi_section_html(r, lang=lang) for r in _results(scorecard))


def _finding_dict(f: Any) -> dict[str, Any]:
    if isinstance(f, Mapping):
        return dict(f)
    if hasattr(f, "model_dump"):
        return f.model_dump()
    if hasattr(f, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(f)
    return dict(vars(f))


def validation_html(findings: Sequence[Any], *, lang: str = "th", max_rows: int = 5) -> str:
    """The validation findings for the unit, blocking first, with up to ``max_rows`` sample rows."""
    L = labels(lang)
    items = []
    for f in (_finding_dict(x) for x in findings):
        rows = [r for r in (f.get("rows") or []) if isinstance(r, Mapping)][:max_rows]
        columns: list[str] = []
        for r in rows:
            columns.extend(c for c in r if c not in columns)
        severity = f.get("severity") or "warning"
        items.append(
            {
                "check": f.get("check", ""),
                "table": f.get("table", ""),
                "column": f.get("column") or "",
                "severity": severity,
                "severity_text": L["blocking"] if severity == "blocking" else L["warning"],
                "message": f.get("message", ""),
                "count": fmt_number(f.get("count")),
                "source_file": f.get("source_file") or "",
                "sample_columns": columns,
                "sample_rows": [[_cell(r.get(c)) for c in columns] for r in rows],
            }
        )
    items.sort(key=lambda i: (i["severity"] != "blocking", str(i["table"]), str(i["check"])))
    return _render(
        "validation.html.j2",
        L=L,
        findings=items,
        n_blocking=sum(i["severity"] == "blocking" for i in items),
        n_warning=sum(i["severity"] != "blocking" for i in items),
    )


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    return str(v)


def certification_html(
    *,
    input_hashes: Mapping[str, str],
    parameters: Mapping[str, Any],
    generated_at: dt.datetime | str,
    version: str | None = None,
    commit: str | None = None,
    lang: str = "th",
) -> str:
    """The certification footer: the seeds' sentence, input hashes, version, parameters, time.

    The generation time is wrapped in ``<span class="generated-at">`` (the only part of a
    report that differs between two runs on the same inputs).
    """
    if version is None:
        from kpilib import __version__ as version
    when = generated_at
    if isinstance(generated_at, dt.datetime):
        from kpilib import calendar as cal

        when = f"{cal.format_thai_date(generated_at.date(), style='long')} {generated_at:%H:%M:%S %z}".strip()
    params = sorted((str(k), "" if v is None else str(v)) for k, v in parameters.items())
    cmd_parts = ["kpi report"]
    for k, opt in (
        ("unit", "--unit"),
        ("fy", "--fy"),
        ("quarter", "--quarter"),
        ("data_dir", "--data"),
    ):
        if k in parameters and parameters[k] not in (None, ""):
            cmd_parts.append(f"{opt} {parameters[k]}")
    return _render(
        "certification.html.j2",
        L=labels(lang),
        hashes=sorted(input_hashes.items()),
        parameters=params,
        generated_at=when,
        version=version,
        commit=commit,
        command=" ".join(cmd_parts),
    )


def quarter_rows(scorecards: Sequence[Mapping[str, Any]], kpi_id: str) -> list[dict[str, Any]]:
    """One KPI's value, target and plan per quarter, from several quarters' scorecard dicts.

    Feeds :func:`kpilib.charts.result_by_quarter`.
    """
    rows = []
    for sc in scorecards:
        for r in _results(sc):
            if str(_get(r, "kpi_id", "id", default="")) == str(kpi_id):
                rows.append(
                    {
                        "quarter": sc.get("quarter"),
                        "value": _get(r, "value"),
                        "target": _get(r, "target"),
                        "plan": _get(r, "plan", "quarter_plan", "plan_value"),
                    }
                )
    return rows
