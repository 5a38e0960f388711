"""One unit-quarter report's content, assembled from kpilib's parts.

The report notebook (``notebooks/report.ipynb``) stays thin: it calls
:func:`check_parameters` and :func:`build_report`, then displays the HTML blocks of the
returned :class:`UnitReport`. Everything a reviewer sees is computed here, from the data
bundle, the catalogue, the complaint engine and the saved validation results, so the same
content can be produced outside a notebook (tests, other tools).

Citizen free text only ever reaches the HTML through jinja2 autoescaping or
``html.escape`` / ``DataFrame.to_html(escape=True)``.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import calendar as cal
from kpilib.errors import ParameterError
from kpilib.paths import outputs_dir, safe_component
from kpilib.provenance import git_commit

LANGS = ("th", "en")
AUDIT_ROWS = 10
"""Non-compliant tickets listed in a district report (the full list is in the audit CSV)."""

_RULES_TH = {
    "accept_late": "ขั้นตอนที่ 1: ตอบรับเรื่องเกิน 1 วันทำการ",
    "accept_missing": "ขั้นตอนที่ 1: ไม่มีการตอบรับเรื่อง",
    "first_progress_late": "ขั้นตอนที่ 1: รายงานความก้าวหน้าครั้งที่ 1 เกิน 3 วันทำการ",
    "first_progress_missing": "ขั้นตอนที่ 1: ไม่มีรายงานความก้าวหน้าครั้งที่ 1",
    "checkpoint_missed": "ขั้นตอนที่ 2: ไม่ได้ติดตามความคืบหน้าตามรอบวันที่ 15/30",
}


@dataclass(frozen=True)
class ReportParameters:
    """The report notebook's parameters, checked.

    Attributes:
        unit: Unit code (district geocode or office code), path-safe.
        fy: Fiscal year, Buddhist Era.
        quarter: 1–4.
        data_dir: The data folder (raw/ and processed/), resolved to an absolute path.
            (The CLI refuses ``..`` in path options before they reach here; a notebook
            run from ``notebooks/`` legitimately uses ``../data/sample``.)
        validation_json: Saved validation results, or None to use/run the default.
        as_of: The as-of date (default: the quarter's last day).
        lang: ``th`` or ``en``.
        result_json: Where to write the scorecard JSON, or None.
    """

    unit: str
    fy: int
    quarter: int
    data_dir: Path
    validation_json: Path | None
    as_of: dt.date
    lang: str
    result_json: Path | None

    def as_dict(self) -> dict[str, Any]:
        """The parameters as plain values (for the certification footer)."""
        return {
            "unit": self.unit,
            "fy": self.fy,
            "quarter": self.quarter,
            "data_dir": str(self.data_dir),
            "validation_json": str(self.validation_json or ""),
            "as_of": self.as_of.isoformat(),
            "lang": self.lang,
        }


def check_parameters(
    *,
    unit: str,
    fy: int | str,
    quarter: int | str,
    data_dir: str | Path,
    validation_json: str | Path = "",
    as_of: str = "",
    lang: str = "th",
    result_json: str | Path = "",
) -> ReportParameters:
    """Check the report parameters before anything reads a file.

    Raises:
        ParameterError: A bad unit code, CE year, quarter, language, date or path.
    """
    safe_component(str(unit), what="unit code")
    year = cal.require_be_year(fy)
    q = cal.require_quarter(quarter)
    if lang not in LANGS:
        raise ParameterError(f"lang must be 'th' or 'en', got {lang!r}")
    q_start, q_end = cal.quarter_bounds(year, q)
    if as_of:
        day = cal.parse_thai_date(str(as_of), assume_era="be")
        if not q_start <= day <= q_end:
            raise ParameterError(
                f"as_of {day.isoformat()} is outside FY {year} Q{q} "
                f"({q_start.isoformat()}..{q_end.isoformat()})"
            )
    else:
        day = q_end

    def _path(value: str | Path, name: str) -> Path | None:
        if value in ("", None):
            return None
        text = str(value)
        if "\x00" in text:
            raise ParameterError(f"{name} {text!r}: NUL characters are not allowed")
        return Path(text).resolve()

    data = _path(data_dir, "data_dir")
    if data is None or not data.is_dir():
        raise ParameterError(f"data_dir {str(data_dir)!r} is not a folder")
    return ReportParameters(
        unit=str(unit),
        fy=year,
        quarter=q,
        data_dir=data,
        validation_json=_path(validation_json, "validation_json"),
        as_of=day,
        lang=lang,
        result_json=_path(result_json, "result_json"),
    )


@dataclass
class UnitReport:
    """Everything one unit-quarter report shows.

    Attributes:
        params: The checked parameters.
        unit: The catalogue's unit.
        scorecard: The quarter's :class:`~kpilib.scoring.Scorecard`.
        scorecards: The scorecards of quarters 1..quarter (for the by-quarter charts).
        findings: Validation findings that concern the unit.
        validation_source: Which validation results were used.
        generated_at: When the report was assembled (Bangkok time).
    """

    params: ReportParameters
    unit: Any
    bundle: Any
    scorecard: Any
    scorecards: list[Any]
    findings: list[Any]
    validation_source: str
    generated_at: dt.datetime
    _dicts: list[dict[str, Any]] = field(default_factory=list, repr=False)

    # ------------------------------------------------------------------ blocks
    @property
    def is_district(self) -> bool:
        """True for a district office."""
        return getattr(self.unit, "kind", "") == "district"

    def scorecard_dict(self) -> dict[str, Any]:
        """The quarter's scorecard as JSON-ready data (``report.json``)."""
        data = self.scorecard.to_dict()
        data["as_of"] = self.params.as_of.isoformat()
        data["validation"] = {
            "source": self.validation_source,
            "blocking": sum(1 for f in self.findings if f.severity == "blocking"),
            "warnings": sum(1 for f in self.findings if f.severity != "blocking"),
        }
        return data

    def header_html(self) -> str:
        """Unit, fiscal year (พ.ศ.), quarter, reporting period and as-of date."""
        from kpilib import report

        fy_start, _ = cal.fiscal_year_bounds(self.params.fy)
        return report.style_html() + report.header_html(
            unit_code=self.unit.code,
            unit_name_th=self.unit.name_th,
            unit_name_en=self.unit.name_en,
            fy=self.params.fy,
            quarter=self.params.quarter,
            period_start=fy_start,
            period_end=self.params.as_of,
            as_of=self.params.as_of,
            lang=self.params.lang,
        )

    def scorecard_html(self) -> str:
        """The scorecard table and totals by component."""
        from kpilib import report

        return report.scorecard_html(self.scorecard_dict(), lang=self.params.lang)

    def kpi_sections_html(self) -> str:
        """Per KPI: definition, filled-in formula, rubric, next level, evidence."""
        from kpilib import report

        return report.kpi_sections_html(self.scorecard_dict(), lang=self.params.lang)

    def validation_html(self) -> str:
        """Validation findings for this unit, with row samples (escaped)."""
        from kpilib import report

        note = (
            f'<p class="validation-source">ผลการตรวจสอบข้อมูลจาก (validation results): '
            f"{html.escape(self.validation_source)}</p>"
        )
        return report.validation_html(self.findings, lang=self.params.lang) + note

    def certification_html(self) -> str:
        """The certification footer: inputs' hashes, version, commit, parameters, time."""
        from kpilib import report

        return report.certification_html(
            input_hashes=self.bundle.input_hashes(),
            parameters=self.params.as_dict(),
            generated_at=self.generated_at,
            commit=git_commit(),
            lang=self.params.lang,
        )

    # ------------------------------------------------------------------ charts
    def _tickets(self) -> pd.DataFrame | None:
        return self.bundle.table("tickets") if self.bundle.has_table("tickets") else None

    def chart_figures(self) -> list[tuple[str, Any]]:
        """``(alt text, matplotlib figure)`` for every chart of the report, in order."""
        from kpilib import charts, complaints, report

        figs: list[tuple[str, Any]] = []
        p = self.params
        for r in self.scorecard.results:
            rows = report.quarter_rows(self._dicts, r.kpi.id)
            if not any(row.get("value") is not None for row in rows):
                continue
            title = f"{r.kpi.name_th[:60]}{'…' if len(r.kpi.name_th) > 60 else ''}"
            figs.append(
                (
                    f"ผลงานเทียบเป้าหมายรายไตรมาส: {r.kpi.name_th}",
                    charts.result_by_quarter(rows, title=title, unit_label=r.kpi.unit_th),
                )
            )
        tickets = self._tickets()
        if tickets is None:
            return figs
        scope = self.unit.code if self.is_district else None
        where = self.unit.name_th if self.is_district else "50 สำนักงานเขต"
        if self.is_district:
            trend = complaints.monthly_trend(tickets, self.unit.code, p.fy, as_of=p.as_of)
            if not trend.empty:
                ym = trend["month"].str.split("-", expand=True).astype(int)
                frame = pd.DataFrame(
                    {
                        "year": ym[0],
                        "month": ym[1],
                        "received": trend["received"],
                        "finished": trend["finished"],
                    }
                )
                figs.append(
                    (
                        "เรื่องร้องเรียนรับใหม่และเสร็จสิ้นรายเดือน",
                        charts.monthly_trend(
                            frame, title=f"เรื่องร้องเรียนรับใหม่และเสร็จสิ้นรายเดือน – {where}"
                        ),
                    )
                )
        ranking = complaints.traffy_ranking(tickets, fy=p.fy, quarter=p.quarter)
        if not ranking.empty:
            from kpilib.catalog import load_catalog

            cat = load_catalog()
            names = {u.code: u.name_th for u in cat.units}
            frame = pd.DataFrame(
                {
                    "unit_code": ranking["unit_code"],
                    "name": [names.get(c, c) for c in ranking["unit_code"]],
                    "value": ranking["resolved_pct"],
                }
            )
            target = next(
                (
                    r.kpi.target.value
                    for r in self.scorecard.results
                    if "traffy" in r.kpi.id and getattr(r.kpi.target, "value", None) is not None
                ),
                None,
            )
            figs.append(
                (
                    "ร้อยละเรื่องร้องเรียน Traffy Fondue ที่แก้ไขแล้ว เทียบ 50 สำนักงานเขต",
                    charts.district_position(
                        frame,
                        unit_code=self.unit.code,
                        title=f"ร้อยละเรื่องที่แก้ไขแล้ว (Traffy Fondue) ณ สิ้นไตรมาส {p.quarter}",
                        target=target,
                    ),
                )
            )
        fy_start, _ = cal.fiscal_year_bounds(p.fy)
        by_type = complaints.complaints_by_type(
            tickets, unit_code=scope, start=fy_start, end=p.as_of
        )
        figs.append(
            (
                "เรื่องร้องเรียนแยกตามประเภท",
                charts.complaints_by_type(
                    by_type.set_index("type_tag")["received"],
                    title=f"เรื่องร้องเรียนแยกตามประเภท – {where}",
                ),
            )
        )
        ageing = complaints.backlog_ageing(tickets, as_of=p.as_of, unit_code=scope)
        figs.append(
            (
                "อายุเรื่องค้างดำเนินการ",
                charts.backlog_ageing(
                    ageing.set_index("bucket")["open"],
                    title=f"อายุเรื่องค้างดำเนินการ (วัน) ณ {cal.format_thai_date(p.as_of, style='short')}",
                ),
            )
        )
        return figs

    def charts_html(self) -> str:
        """Every chart as an embedded PNG (the report opens offline)."""
        import matplotlib.pyplot as plt

        from kpilib import charts

        parts = ['<section class="kpi-report charts">']
        for alt, fig in self.chart_figures():
            parts.append(charts.figure_html(fig, alt=alt))
            plt.close(fig)
        parts.append("</section>")
        return "\n".join(parts)

    # ------------------------------------------------------------------ audit
    def audit_frame(self) -> pd.DataFrame:
        """Non-compliant tickets of a district (steps 1 and 2), with the citizen's comment."""
        from kpilib import complaints

        if not self.is_district or not self.bundle.has_table("events"):
            return pd.DataFrame()
        events = self.bundle.table("events")
        events = events.loc[events["unit_code"] == self.unit.code]
        tickets = self._tickets()
        if tickets is not None:
            tickets = tickets.loc[tickets["unit_code"] == self.unit.code]
        res = complaints.evaluate_compliance(
            events, tickets=tickets, fy=self.params.fy, as_of=self.params.as_of
        )
        reasons = complaints.noncompliance_reasons(res)
        if reasons.empty:
            return reasons
        if tickets is not None and "comment" in tickets:
            reasons = reasons.merge(
                tickets[["ticket_id", "comment"]], on="ticket_id", how="left", validate="m:1"
            )
        return reasons.sort_values(["due", "ticket_id"], ignore_index=True)

    def audit_html(self, *, rows: int = AUDIT_ROWS) -> str:
        """A sample of non-compliant tickets so a reviewer can audit the KPI 3.1 figure."""
        if not self.is_district:
            return ""
        frame = self.audit_frame()
        head = (
            '<section class="kpi-report audit"><p>เรื่องที่ไม่เป็นไปตามขั้นตอนที่ 1–2 '
            '<span class="en">(tickets not compliant with steps 1–2)</span></p>'
        )
        if frame.empty:
            return head + "<p>ไม่พบเรื่องที่ไม่เป็นไปตามขั้นตอน</p></section>"
        n_tickets = frame["ticket_id"].nunique()
        sample = frame.head(rows).copy()
        sample["rule"] = sample["rule"].map(lambda r: _RULES_TH.get(r, r))
        for col in ("due", "actual"):
            sample[col] = sample[col].map(
                lambda v: "" if pd.isna(v) else cal.format_thai_date(pd.Timestamp(v).date())
            )
        sample["late_business_days"] = sample["late_business_days"].map(
            lambda v: "" if pd.isna(v) else f"{int(v)}"
        )
        if "comment" in sample:
            sample["comment"] = (
                sample["comment"].fillna("").map(lambda s: s if len(s) <= 120 else s[:119] + "…")
            )
        sample = sample.rename(
            columns={
                "ticket_id": "เลขที่เรื่อง",
                "step": "ขั้นตอน",
                "rule": "ข้อที่ไม่ผ่าน",
                "due": "กำหนด",
                "actual": "ดำเนินการจริง",
                "late_business_days": "ช้า (วันทำการ)",
                "comment": "รายละเอียดเรื่อง (ข้อความจากผู้ร้อง)",
            }
        ).drop(columns=["unit_code"], errors="ignore")
        table = sample.to_html(index=False, escape=True, border=0, classes="audit-table")
        return (
            head
            + f"<p>{n_tickets:,} เรื่องไม่เป็นไปตามขั้นตอน ณ "
            + f"{html.escape(cal.format_thai_date(self.params.as_of, style='long'))}; "
            + f"แสดง {len(sample)} รายการแรก</p>"
            + table
            + "</section>"
        )

    # ------------------------------------------------------------------ output
    def write_result_json(self) -> Path | None:
        """Write the scorecard JSON to ``params.result_json`` (if set)."""
        import json

        target = self.params.result_json
        if target is None:
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.scorecard_dict(), ensure_ascii=False, indent=1, default=str)
        target.write_text(text + "\n", encoding="utf-8")
        return target


def _validation(params: ReportParameters) -> tuple[Any, str]:
    """The saved validation results to use, running validation once if there are none."""
    from kpilib.validation import load_validation_report, run_validation

    if params.validation_json is not None:
        return load_validation_report(params.validation_json), str(params.validation_json)
    default = outputs_dir() / str(params.fy) / "validation" / "validation.json"
    if default.is_file():
        return load_validation_report(default), str(default)
    rep = run_validation(params.data_dir, fy=params.fy, out_dir=default.parent)
    return rep, str(default)


def build_report(params: ReportParameters) -> UnitReport:
    """Assemble one unit-quarter report.

    Args:
        params: Checked parameters (:func:`check_parameters`).

    Returns:
        The :class:`UnitReport`; its ``*_html`` methods give the sections.

    Raises:
        KpilibError: Unknown unit, unreadable data or validation results.
    """
    from kpilib.catalog import load_catalog
    from kpilib.datasets import load_bundle
    from kpilib.scoring import unit_scorecard

    cat = load_catalog()
    unit = cat.unit(params.unit)
    bundle = load_bundle(params.data_dir)
    validation, source = _validation(params)
    findings = validation.for_unit(unit.code)
    blocked = validation.blocking_tables(unit.code)
    scorecards = [
        unit_scorecard(
            unit.code,
            params.fy,
            q,
            bundle=bundle,
            catalog=cat,
            uncertified_tables=blocked,
        )
        for q in range(1, params.quarter + 1)
    ]
    rep = UnitReport(
        params=params,
        unit=unit,
        bundle=bundle,
        scorecard=scorecards[-1],
        scorecards=scorecards,
        findings=findings,
        validation_source=source,
        generated_at=dt.datetime.now(cal.BANGKOK).replace(microsecond=0),
    )
    rep._dicts = [sc.to_dict() for sc in scorecards]
    return rep


_GENERATED = re.compile(r'<span class="generated-at">.*?</span>', re.S)


def strip_generation_time(text: str) -> str:
    """Blank the generation time in a rendered report (for determinism checks)."""
    return _GENERATED.sub('<span class="generated-at"></span>', text)
