"""The report document: one typed model of a unit-period report, end to end.

Scoring (:mod:`kpilib.scoring`) produces the :class:`Scorecard`; assembly
(:mod:`kpilib.assemble`) wraps it with the period, the validation findings, the chart data,
the audit sample and the provenance into a :class:`ReportDocument`. Everything downstream
reads these models as they are: the report notebook and its HTML blocks
(:mod:`kpilib.report`), ``report.json`` (``ReportDocument.model_dump_json``), the batch's index
and summaries. Nobody guesses keys: a field that is not here does not exist.

The JSON Schema of ``report.json`` is ``docs/report.schema.json`` (a test keeps it equal to
:func:`report_json_schema`).

Models only: this module computes nothing but derived totals, and imports no data library
at module level (``Scorecard.to_frame`` imports pandas when called).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from kpilib.catalog import COMPONENTS, Kpi, Unit
from kpilib.forms.models import (
    STATUS_OFF_PLAN,
    STATUS_OFF_TARGET,
    STATUS_ON_PLAN,
    STATUS_ON_TARGET,
    UnitForms,
)
from kpilib.formulas import FormulaResult
from kpilib.numbers import DASH, fmt_number
from kpilib.rubric import RubricScore
from kpilib.signoff import SignoffState

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
"""Bumped when ``report.json`` changes incompatibly."""

_MODEL = ConfigDict(extra="forbid", frozen=True)

CertificationState = Literal["certified", "not_certified", "unknown", "no_data"]
"""``certified``: validated and no blocking finding touches the rows the KPI counts in the
period; ``not_certified``: one does (the reasons name the rows); ``unknown``: no validation
results were given (a library call without them), so nobody can say; ``no_data``: the KPI has
no figure, so there is nothing to sign."""

CERTIFICATION_TH: dict[str, str] = {
    "certified": "รับรองแล้ว",
    "not_certified": "ยังไม่รับรอง",
    "unknown": "ยังไม่ได้ตรวจสอบข้อมูล",
    "no_data": "ไม่มีข้อมูล",
}
NO_DATA_TH = "ไม่มีข้อมูล"


# --------------------------------------------------------------------------- one KPI


class KpiScore(RubricScore):
    """A KPI value scored with its rubric: the :class:`~kpilib.rubric.RubricScore` fields
    (level, score, scoring, value_level, capped_by, capped_reason_th, next_level_*) plus:

    Attributes:
        kpi: The KPI id.
        value: The value scored: the KPI value as displayed (half-up to 2 decimals).
        points: weight × level / 5 (step) or weight × score / 5 (linear).
        weight: The KPI's weight.
        conditions: The conditions used (name → met; ``None`` = no evidence).
    """

    kpi: str
    value: float
    points: float
    weight: float
    conditions: dict[str, bool | None] = Field(default_factory=dict)


class Certification(BaseModel):
    """Whether a KPI's figure can be signed, and why not.

    Attributes:
        state: See :data:`CertificationState`.
        blocked_tables: Tables with a blocking finding that touches this KPI.
        reasons_th: One line per blocking finding that withholds certification.
    """

    model_config = _MODEL

    state: CertificationState
    blocked_tables: tuple[str, ...] = ()
    reasons_th: tuple[str, ...] = ()

    @property
    def text_th(self) -> str:
        """The state in Thai."""
        return CERTIFICATION_TH[self.state]


class StatusFlag(BaseModel):
    """A status flag of the BMA forms, with the two numbers it compares.

    Attributes:
        kind: ``plan`` (เป็นไปตามแผน: the result against the quarter's plan) or ``target``
            (เป็นไปตามเป้าหมาย: the result against the year's target).
        met: Whether the result reaches the comparator (on the displayed, rounded result).
        result: The result compared (as displayed).
        comparator: The quarter's plan or the year's target.
        strict: The target needs more than the comparator (``>``) rather than at least it.
        year_to_date: The result is cumulative progress toward a year-end target, so before
            the last quarter a shortfall means "not yet", not "missed".
    """

    model_config = _MODEL

    kind: Literal["plan", "target"]
    met: bool
    result: float
    comparator: float
    strict: bool = False
    year_to_date: bool = False

    @property
    def text_th(self) -> str:
        """The flag as the forms word it."""
        if self.kind == "plan":
            return STATUS_ON_PLAN if self.met else STATUS_OFF_PLAN
        if self.met:
            return STATUS_ON_TARGET
        return "ยังไม่ถึงเป้าหมายของปี" if self.year_to_date else STATUS_OFF_TARGET

    @property
    def detail_th(self) -> str:
        """The comparison in words: ``ผลงาน 55.00 เทียบแผนไตรมาส 60``."""
        what = "แผนไตรมาส" if self.kind == "plan" else "เป้าหมายของปี"
        op = "มากกว่า " if self.strict else ""
        return (
            f"ผลงาน {fmt_number(self.result, decimals=2)} เทียบ{what} {op}"
            f"{fmt_number(self.comparator, grouping=True)}"
        )


class RequirementStatus(BaseModel):
    """A KPI's non-numeric requirement and whether the unit met it, with its evidence.

    Attributes:
        name: The requirement's identifier.
        text_th: The requirement as the seed words it.
        met: ``True``/``False`` as reported; ``None`` when nobody reported it (ยังไม่รายงาน).
        evidence: The evidence given with the report.
        quarter: The quarter of the report that decides it.
        caps_level: A rubric level needs it (not met: the level is capped).
        computed: Checked from data (the evidence is the computed figure), not reported.
    """

    model_config = _MODEL

    name: str
    text_th: str
    met: bool | None = None
    evidence: str = ""
    quarter: int | None = None
    caps_level: bool = False
    computed: bool = False

    @property
    def state_th(self) -> str:
        """ผ่าน / ไม่ผ่าน / ยังไม่รายงาน."""
        return "ยังไม่รายงาน" if self.met is None else ("ผ่าน" if self.met else "ไม่ผ่าน")


class FigureValue(BaseModel):
    """A figure shown beside a KPI's value: a count, or numerator × 100 ÷ denominator."""

    model_config = _MODEL

    id: str
    label_th: str
    numerator: float | None
    denominator: float | None = None

    @property
    def value(self) -> float | None:
        """The share in percent (``None`` without a denominator or with a zero one)."""
        if self.numerator is None or not self.denominator:
            return None
        return self.numerator * 100.0 / self.denominator

    @property
    def text_th(self) -> str:
        """``1,234 จาก 1,500 (82.27 %)`` or the count alone."""
        if self.numerator is None:
            return NO_DATA_TH
        n = fmt_number(self.numerator, grouping=True)
        if self.denominator is None:
            return n
        share = self.value
        pct = "" if share is None else f" (ร้อยละ {fmt_number(share, decimals=2)})"
        return f"{n} จาก {fmt_number(self.denominator, grouping=True)}{pct}"


class PartResult(BaseModel):
    """One part of a composite KPI (e.g. project 50340000-3453 Part 1, 20 points)."""

    model_config = _MODEL

    id: str
    name_th: str
    weight: float
    target: float | None
    formula: FormulaResult
    inputs: dict[str, float | None]


class KpiResult(BaseModel):
    """One KPI of a unit-period scorecard.

    Attributes:
        kpi: The KPI definition as used (from the catalogue).
        formula: The formula result (value, numerator, denominator, the formula in words).
        inputs: The resolved inputs by the names of the KPI's formula.
        parts: Composite parts, if any.
        score: The rubric score (``None`` without a value).
        target_met: Whether the result meets the year's target (เป็นไปตามเป้าหมาย).
        plan_value: The quarter's milestone plan, if the KPI has one.
        on_plan: Whether the result meets the quarter's plan (เป็นไปตามแผน).
        flags: Those two, with the numbers compared.
        requirements: The KPI's non-numeric requirements, met or not, with evidence.
        figures: Figures shown beside the value (e.g. each step of KPI 3.1).
        certification: Whether the figure can be signed.
        tables: Every table this KPI reads.
        error_th: Why the KPI could not be computed (a bad input), if so.
    """

    model_config = _MODEL

    kpi: Kpi
    formula: FormulaResult
    inputs: dict[str, float | None] = Field(default_factory=dict)
    parts: tuple[PartResult, ...] = ()
    score: KpiScore | None = None
    target_met: bool | None = None
    plan_value: float | None = None
    on_plan: bool | None = None
    flags: tuple[StatusFlag, ...] = ()
    requirements: tuple[RequirementStatus, ...] = ()
    figures: tuple[FigureValue, ...] = ()
    certification: Certification
    tables: tuple[str, ...] = ()
    error_th: str | None = None

    @property
    def value(self) -> float | None:
        """The KPI value (unrounded)."""
        return self.formula.value

    @property
    def numerator(self) -> float | None:
        """The numerator (or count / result)."""
        return self.formula.numerator

    @property
    def denominator(self) -> float | None:
        """The denominator (or target / plan)."""
        return self.formula.denominator

    @property
    def result_value(self) -> float | None:
        """The result (ผลงาน): for a milestone KPI the progress compared with the plan."""
        return self.formula.result if self.formula.result is not None else self.formula.value

    @property
    def evaluation(self) -> float | None:
        """The evaluation (ผลประเมิน) against the quarter's plan, for a milestone KPI."""
        return self.formula.value if self.formula.result is not None else None

    @property
    def has_data(self) -> bool:
        """True when the KPI has a value."""
        return self.formula.value is not None

    @property
    def points(self) -> float | None:
        """Points earned, ``None`` without data (never a silent 0)."""
        return None if self.score is None else self.score.points

    @property
    def level(self) -> int | None:
        """The level reached, ``None`` without data."""
        return None if self.score is None else self.score.level

    @property
    def certified(self) -> bool:
        """True when the figure is certified."""
        return self.certification.state == "certified"

    @property
    def value_text(self) -> str:
        """The result (ผลงาน, :attr:`result_value`) as displayed: 2 decimals for percentages and
        scores, whole counts plainly. For a KPI evaluated against a target or plan (KPI 3.1,
        a milestone KPI) this is the result, not the evaluation beside it."""
        v = self.result_value
        if v is None:
            return NO_DATA_TH
        if self.kpi.unit_of_measure == "count" and float(v).is_integer():
            return fmt_number(v, grouping=True)
        return fmt_number(v, decimals=2, grouping=True)


# --------------------------------------------------------------------------- the web form


class WebFormRow(BaseModel):
    """One quarter of the web form's table (ผลงาน / ผลประเมินตัวชี้วัด / 2.1 / 2.2).

    Attributes:
        quarter: 1–4.
        result: ผลงาน as shown (the unit's figure if it typed one, else the computed one).
        result_source: ``reported`` (the unit's entry) or ``computed``; ``None``: nothing yet.
        computed: The system's figure for the quarter.
        reported: The unit's own figure, if any.
        comparator: The quarter's plan, or the year's target when the KPI has no plan.
        comparator_kind: ``plan`` or ``target``.
        evaluation: ผลประเมินตัวชี้วัด = min(100, result × 100 ÷ comparator).
        assessment_2_1: The unit's self-assessment (people's entry).
        assessment_2_2: The สยป. assessment (people's entry).
        narrative: รายงานผลฯ ไตรมาสที่ n (``None``: not reported, printed "-").
    """

    model_config = _MODEL

    quarter: int
    result: float | None = None
    result_source: Literal["reported", "computed"] | None = None
    computed: float | None = None
    reported: float | None = None
    comparator: float | None = None
    comparator_kind: Literal["plan", "target"] | None = None
    evaluation: float | None = None
    assessment_2_1: float | None = None
    assessment_2_2: float | None = None
    narrative: str | None = None


class WebForm(BaseModel):
    """One KPI's web form for the fiscal year (seeds 000 and 002).

    Attributes:
        kpi: The KPI id.
        target: ค่าเป้าหมาย.
        result: ผลงานที่ทำได้ (the latest quarter's result).
        rows: Quarters 1–4.
        audit_quarter: The latest quarter สยป. audited (สยป. ตรวจประเมินตัวชี้วัด).
        audit_score: Its score.
    """

    model_config = _MODEL

    kpi: str
    target: float
    result: float | None = None
    rows: tuple[WebFormRow, ...]
    audit_quarter: int | None = None
    audit_score: float | None = None


# --------------------------------------------------------------------------- projects (seed 001)


class MonthFigures(BaseModel):
    """A project's monthly progress report as the data gives it (seed 001, "รายงานครั้งที่ n").

    Attributes:
        report_no: รายงานครั้งที่: the month's number in the fiscal year (October = 1).
        year: Calendar year (CE) of the month.
        month: Calendar month 1–12.
        as_of: The report's as-of date (the unit's report date, else the month's last day).
        received: Complaints received from the month's first day to ``as_of``.
        finished: Of those, finished as of ``as_of``.
        in_progress: Of those, not finished.
        state_basis: ``as_of`` (true completion times) or ``export_time`` / ``mixed``.
    """

    model_config = _MODEL

    report_no: int
    year: int
    month: int
    as_of: dt.date
    received: int
    finished: int
    in_progress: int
    state_basis: str | None = None

    @property
    def finished_pct(self) -> float | None:
        """ดำเนินการเสร็จสิ้น คิดเป็นร้อยละ (the form's ความก้าวหน้าของงาน)."""
        return None if not self.received else self.finished * 100.0 / self.received

    @property
    def in_progress_pct(self) -> float | None:
        """อยู่ระหว่างดำเนินการ คิดเป็นร้อยละ."""
        return None if not self.received else self.in_progress * 100.0 / self.received


class ProjectProgress(BaseModel):
    """A project KPI's monthly progress reports 1 … n, computed from the complaint data."""

    model_config = _MODEL

    kpi: str
    months: tuple[MonthFigures, ...]

    def month(self, report_no: int) -> MonthFigures | None:
        """One month's figures."""
        return next((m for m in self.months if m.report_no == report_no), None)


# --------------------------------------------------------------------------- a unit's KPIs


class ComponentTotal(BaseModel):
    """Points and weights of one component (1.1 Function Base, 1.2 Joint KPIs, 1.3 Agenda Base)."""

    model_config = _MODEL

    component: str
    name_th: str
    name_en: str
    weight: float
    counted_weight: float
    points: float
    kpis: tuple[str, ...]


class Scorecard(BaseModel):
    """A unit's KPIs for one period, scored, with totals.

    KPIs without data earn no points and their weight is left out of ``counted_weight``
    (``left_out`` names them); the percentage is points ÷ counted weight.
    """

    model_config = _MODEL

    unit: Unit
    fiscal_year: int
    quarter: int
    results: tuple[KpiResult, ...]

    @model_validator(mode="before")
    @classmethod
    def _derived_fields_are_recomputed(cls, data: Any) -> Any:
        """``report.json`` carries the totals for its readers; reading it recomputes them."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in cls.model_computed_fields}
        return data

    @property
    def unit_code(self) -> str:
        """The unit's code."""
        return self.unit.code

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_points(self) -> float:
        """Points over the KPIs with data."""
        return sum(r.points or 0.0 for r in self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_weight(self) -> float:
        """Sum of every KPI's weight."""
        return sum(r.kpi.weight for r in self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counted_weight(self) -> float:
        """Sum of the weights of the KPIs with data."""
        return sum(r.kpi.weight for r in self.results if r.has_data)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def left_out(self) -> tuple[str, ...]:
        """Ids of KPIs with a weight but no data (their weight is not counted)."""
        return tuple(r.kpi.id for r in self.results if not r.has_data and r.kpi.weight > 0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def percent(self) -> float | None:
        """Points × 100 ÷ counted weight (``None`` when nothing is counted)."""
        return None if not self.counted_weight else self.total_points * 100 / self.counted_weight

    @computed_field  # type: ignore[prop-decorator]
    @property
    def totals_by_component(self) -> tuple[ComponentTotal, ...]:
        """Totals per component, in component order."""
        out = []
        for comp, (name_th, name_en) in COMPONENTS.items():
            rs = [r for r in self.results if r.kpi.component == comp]
            if rs:
                out.append(
                    ComponentTotal(
                        component=comp,
                        name_th=name_th,
                        name_en=name_en,
                        weight=sum(r.kpi.weight for r in rs),
                        counted_weight=sum(r.kpi.weight for r in rs if r.has_data),
                        points=sum(r.points or 0.0 for r in rs),
                        kpis=tuple(r.kpi.id for r in rs),
                    )
                )
        return tuple(out)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def certification(self) -> CertificationState:
        """``unknown`` if any KPI is unknown; else ``not_certified`` if any KPI is not certified
        or has no data (a missing figure cannot be signed); else ``certified``."""
        states = {r.certification.state for r in self.results}
        if "unknown" in states:
            return "unknown"
        if states & {"not_certified", "no_data"}:
            return "not_certified"
        return "certified"

    @property
    def certified(self) -> bool:
        """True when every KPI is certified."""
        return self.certification == "certified"

    def result(self, kpi_id: str) -> KpiResult:
        """The result of one KPI (by id, code or alias).

        Raises:
            KeyError: No KPI of this scorecard has that identifier.
        """
        for r in self.results:
            if kpi_id in r.kpi.data_ids:
                return r
        raise KeyError(kpi_id)

    def to_frame(self) -> pd.DataFrame:
        """One row per KPI with Thai column labels and displayed (rounded) numbers."""
        import pandas as pd

        rows = []
        for r in self.results:
            rows.append(
                {
                    "ตัวชี้วัด": r.kpi.short_name_th or r.kpi.name_th,
                    "ค่าเป้าหมาย": r.kpi.target.text_th,
                    "ผลงาน": None if r.value is None else float(fmt_number(r.value, decimals=2)),
                    "หน่วย": r.kpi.unit_th,
                    "ระดับ": r.level,
                    "คะแนน": r.points,
                    "น้ำหนัก": r.kpi.weight,
                    "การรับรองข้อมูล": r.certification.text_th if r.has_data else NO_DATA_TH,
                }
            )
        frame = pd.DataFrame(rows)
        frame.index = pd.Index([r.kpi.id for r in self.results], name="kpi")
        return frame

    def _repr_html_(self) -> str:
        """JupyterLab shows a scorecard as a readable table."""
        head = (
            f"<p><b>{html.escape(self.unit.name_th)}</b> ปีงบประมาณ {self.fiscal_year} "
            f"ไตรมาส {self.quarter}: {fmt_number(self.total_points, decimals=2)} / "
            f"{fmt_number(self.counted_weight, grouping=True)} คะแนน</p>"
        )
        return head + self.to_frame().to_html(
            escape=True, na_rep=DASH, float_format="{:.2f}".format
        )


# --------------------------------------------------------------------------- the report


class Period(BaseModel):
    """The period a report covers (cumulative from the fiscal year's first day).

    Attributes:
        fiscal_year: Buddhist Era.
        quarter: 1–4; for a monthly report the quarter holding the month.
        month: Calendar month 1–12 of a monthly progress report (``None``: a quarterly
            report). Its year follows from the fiscal year (October–December: the year before).
        start: The fiscal year's first day.
        end: The quarter's (monthly: the month's) last day.
        as_of: The data's as-of date.
    """

    model_config = _MODEL

    fiscal_year: int
    quarter: int = Field(ge=1, le=4)
    month: int | None = Field(default=None, ge=1, le=12)
    start: dt.date
    end: dt.date
    as_of: dt.date

    @property
    def monthly(self) -> bool:
        """True for a monthly progress report."""
        return self.month is not None

    @property
    def report_no(self) -> int | None:
        """A monthly report's number in the fiscal year (รายงานครั้งที่: October = 1)."""
        return None if self.month is None else (self.month - 10) % 12 + 1


class RowSample(BaseModel):
    """One failing raw row of a finding, as a sample."""

    model_config = _MODEL

    source_row: int
    value: str | None = None
    reason: str | None = None


class FindingEntry(BaseModel):
    """A validation finding as the report shows it (Data Docs have the full detail)."""

    model_config = _MODEL

    check: str
    table: str
    severity: Literal["blocking", "warning"]
    column: str | None = None
    count: int = 0
    message: str
    source_file: str | None = None
    rows: tuple[RowSample, ...] = ()


class ValidationSummary(BaseModel):
    """The validation results a report used.

    Attributes:
        validated: False when the report was made without validation results.
        source: Which results (a path relative to the output folder, never a server path).
        blocking: Blocking findings that concern the unit.
        warnings: Warnings that concern the unit.
        findings: Those findings, blocking first.
    """

    model_config = _MODEL

    validated: bool
    source: str = ""
    blocking: int = 0
    warnings: int = 0
    findings: tuple[FindingEntry, ...] = ()


class QuarterFigure(BaseModel):
    """One KPI's figures in one quarter (the web form's quarterly table, the charts)."""

    model_config = _MODEL

    quarter: int
    value: float | None
    result: float | None = None
    plan: float | None = None
    level: int | None = None
    points: float | None = None


class KpiHistory(BaseModel):
    """One KPI's figures for quarters 1 … n of the fiscal year."""

    model_config = _MODEL

    kpi: str
    quarters: tuple[QuarterFigure, ...]


class AuditRow(BaseModel):
    """A complaint that missed a step-1/step-2 deadline (a district report's audit sample)."""

    model_config = _MODEL

    ticket_id: str
    step: int
    rule: str
    rule_th: str
    due: dt.date | None = None
    actual: dt.date | None = None
    late_business_days: int | None = None
    comment: str = ""


class Audit(BaseModel):
    """The audit sample: how many complaints missed a deadline, and the first of them."""

    model_config = _MODEL

    as_of: dt.date
    tickets: int
    rows: tuple[AuditRow, ...] = ()


class MonthCount(BaseModel):
    """Complaints received and finished in one month."""

    model_config = _MODEL

    year: int
    month: int
    received: int
    finished: int


class UnitValue(BaseModel):
    """One unit's value (the district comparison)."""

    model_config = _MODEL

    unit_code: str
    name_th: str
    value: float | None


class LabelCount(BaseModel):
    """A count under a label (complaint types, backlog ageing buckets)."""

    model_config = _MODEL

    label: str
    count: int


class ChartData(BaseModel):
    """The data behind the report's complaint charts (absent when there are no tickets).

    Attributes:
        scope_th: Whose complaints (the district, or "50 สำนักงานเขต").
        monthly: Received and finished per month (districts).
        ranking: Every district's Traffy resolution share at the quarter's end.
        ranking_target: The Traffy KPI's target, drawn on the ranking chart.
        by_type: Complaints per type tag; a ticket with several tags counts under each.
        by_type_tickets: Tickets behind ``by_type`` (fewer than the sum when tags overlap).
        ageing: Open complaints per age bucket at the as-of date.
    """

    model_config = _MODEL

    scope_th: str
    monthly: tuple[MonthCount, ...] = ()
    ranking: tuple[UnitValue, ...] = ()
    ranking_target: float | None = None
    by_type: tuple[LabelCount, ...] = ()
    by_type_tickets: int = 0
    ageing: tuple[LabelCount, ...] = ()


class Rank(BaseModel):
    """The unit's position among the units of its kind on the total percent (1 = best).

    Attributes:
        kind: ``district`` (the 50 district offices) or ``office``.
        position: 1-based position; ``None`` when the unit has no total (no KPI with data).
        of: How many units of the kind have a total.
        percent: The unit's total percent (points × 100 ÷ counted weight).
    """

    model_config = _MODEL

    kind: Literal["district", "office"]
    position: int | None
    of: int
    percent: float | None = None


NO_LAST_YEAR_TH = "ไม่มีข้อมูลปีก่อน"


class KpiChange(BaseModel):
    """One KPI's result beside its result a quarter and a year earlier (the summary's columns).

    Attributes:
        kpi: The KPI id.
        current: This quarter's result as displayed (ผลงาน; milestone KPIs: the progress).
        previous_label_th: Which quarter "previous" is (``ไตรมาสที่ 1`` or, for a first quarter,
            ``ไตรมาสที่ 4 ปี 2566``).
        previous: The previous quarter's result (``None``: no data then).
        year_ago_label_th: The same quarter of the previous fiscal year.
        year_ago: Its result (``None``: no data for it, :data:`NO_LAST_YEAR_TH`).
    """

    model_config = _MODEL

    kpi: str
    current: float | None = None
    previous_label_th: str
    previous: float | None = None
    year_ago_label_th: str
    year_ago: float | None = None

    @property
    def delta_previous(self) -> float | None:
        """Change since the previous quarter (``None`` when either side has no data)."""
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def delta_year_ago(self) -> float | None:
        """Change since the same quarter last year (``None`` when either side has no data)."""
        if self.current is None or self.year_ago is None:
            return None
        return self.current - self.year_ago


class Provenance(BaseModel):
    """What a report was made from and with.

    Attributes:
        kpilib_version: The package version.
        git_commit: The code's commit (``+dirty`` with local changes), if known.
        generated_at: When (Bangkok time).
        inputs: SHA-256 of each raw input file, by file name (relative to the data folder).
        data_label: The data folder's name (never its absolute path).
        sample_data: True when the data is the generated sample data set (synthetic).
        command: The command that reproduces the report.
    """

    model_config = _MODEL

    kpilib_version: str
    git_commit: str | None = None
    generated_at: dt.datetime
    inputs: dict[str, str] = Field(default_factory=dict)
    data_label: str = ""
    sample_data: bool = False
    command: str = ""


class ReportDocument(BaseModel):
    """One unit-period report: everything a reader sees, typed.

    Attributes:
        schema_version: :data:`SCHEMA_VERSION`.
        lang: ``th`` or ``en`` (labels).
        period: The period covered.
        scorecard: The period's scorecard.
        history: Each KPI's figures for quarters 1 … n.
        web_forms: Each KPI's web form (quarterly table, assessments, สยป. score).
        projects: Each project KPI's monthly progress reports, computed (seed 001).
        month_figures: A monthly report's complaint figures: the month's complaints and how
            many were finished as of the month's end (``None``: a quarterly report, or no
            tickets).
        validation: The validation results used.
        charts: Complaint chart data, when there are tickets.
        audit: The complaint audit sample (district reports).
        provenance: Inputs, code, time.
        numerals: ``arabic`` (default) or ``thai`` digits for every number shown.
        rank: The unit's position among units of its kind (``None``: not computed).
        changes: Each KPI's result a quarter and a year earlier.
        forms: What people entered on the unit's forms (:mod:`kpilib.forms`); ``None`` when
            the report was built without a data folder.
        signoff: The sign-off state against the report's input fingerprint
            (:mod:`kpilib.signoff`); ``None`` likewise.
    """

    model_config = _MODEL

    schema_version: int = SCHEMA_VERSION
    lang: Literal["th", "en"] = "th"
    numerals: Literal["arabic", "thai"] = "arabic"
    period: Period
    scorecard: Scorecard
    history: tuple[KpiHistory, ...] = ()
    web_forms: tuple[WebForm, ...] = ()
    projects: tuple[ProjectProgress, ...] = ()
    month_figures: MonthFigures | None = None
    validation: ValidationSummary
    charts: ChartData | None = None
    audit: Audit | None = None
    provenance: Provenance
    rank: Rank | None = None
    changes: tuple[KpiChange, ...] = ()
    forms: UnitForms | None = None
    signoff: SignoffState | None = None

    @property
    def unit(self) -> Unit:
        """The unit reported on."""
        return self.scorecard.unit

    def project_of(self, kpi_id: str) -> ProjectProgress | None:
        """One project KPI's computed monthly progress reports."""
        return next((p for p in self.projects if p.kpi == kpi_id), None)

    def web_form_of(self, kpi_id: str) -> WebForm | None:
        """One KPI's web form."""
        return next((w for w in self.web_forms if w.kpi == kpi_id), None)

    def history_of(self, kpi_id: str) -> KpiHistory | None:
        """One KPI's quarterly figures."""
        return next((h for h in self.history if h.kpi == kpi_id), None)

    def change_of(self, kpi_id: str) -> KpiChange | None:
        """One KPI's results a quarter and a year earlier."""
        return next((c for c in self.changes if c.kpi == kpi_id), None)


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``report.json`` (serialisation mode)."""
    return ReportDocument.model_json_schema(mode="serialization")


def read_report_json(text: str | bytes) -> ReportDocument:
    """Parse a ``report.json``.

    Raises:
        pydantic.ValidationError: When the text is not a report document of this version.
    """
    return ReportDocument.model_validate_json(text)


def write_json_schema(path: str | Path) -> Path:
    """Write :func:`report_json_schema` as indented JSON (``docs/report.schema.json``)."""
    from kpilib.fsio import atomic_write_text

    text = json.dumps(report_json_schema(), ensure_ascii=False, indent=1, sort_keys=True)
    return atomic_write_text(path, text + "\n")
