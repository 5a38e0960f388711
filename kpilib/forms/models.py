"""What people enter on the BMA forms, typed: per unit × KPI × quarter (and month, for projects).

The computed figures of a report come from the data (:mod:`kpilib.scoring`); these models hold
the rest of the seeds' forms, the parts a person writes: the unit's reported result and
quarterly narrative (รายงานผลฯ ไตรมาสที่ n), supporting factors, obstacles, suggestions,
evidence submitted, the unit's declared status flags and self-assessment (2.1), the
Strategy and Evaluation Department's (สยป.) assessment (2.2), audited score and comment, the
responsible person and the coordinator; per unit, the reporter and the unit head who sign
the report; for a project (seed 001), its facts and every monthly progress report.

A field that nobody filled in is ``None``: "ยังไม่รายงาน" (not reported), never 0 and never
an error. Models only: nothing here reads a file.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_MODEL = ConfigDict(extra="forbid", frozen=True)

NOT_REPORTED_TH = "ยังไม่รายงาน"
"""What a blank entry shows as."""

STATUS_ON_PLAN = "เป็นไปตามแผน"
STATUS_OFF_PLAN = "ไม่เป็นไปตามแผน"
STATUS_ON_TARGET = "เป็นไปตามเป้าหมาย"
STATUS_OFF_TARGET = "ไม่เป็นไปตามเป้าหมาย"

Severity = Literal["error", "warning"]
"""``error``: something in a workbook was not used (a file, a row or a value); ``warning``:
used, with a remark (e.g. a text cut to its stated length)."""

FindingCheck = Literal[
    "unreadable",  # not an .xlsx workbook openpyxl can open, or too large
    "not_a_form",  # a workbook without the form's sheets or headers
    "extra_file",  # a second workbook of the unit and quarter under another name
    "unknown_unit",  # the workbook names a unit the catalogue does not know
    "wrong_unit",  # the workbook is another unit's
    "wrong_period",  # another fiscal year or quarter, or a month outside the quarter
    "unknown_kpi",  # a KPI the catalogue does not know or the unit does not report
    "duplicate",  # the same KPI (or month) twice
    "out_of_range",  # a score outside 0-100, a negative count
    "too_long",  # text over its stated length
    "bad_value",  # not a number, not a date, not one of the drop-down values
    "locked_edited",  # a pre-filled (locked) cell changed
    "record_changed",  # the hidden record of pre-filled cells was altered
    "evidence_name",  # an evidence file name with a folder or odd characters
]


class FormFinding(BaseModel):
    """A problem in a filled workbook, named by file, sheet and cell.

    Attributes:
        check: What is wrong (:data:`FindingCheck`).
        severity: :data:`Severity`.
        file: The workbook, relative to the data folder (``forms/2567/Q1/1032.xlsx``).
        sheet: The sheet, if the problem is in one.
        cell: The cell (``F7``), if the problem is in one.
        message: One line in Thai saying what is wrong and what was done with it.
    """

    model_config = _MODEL

    check: FindingCheck
    severity: Severity
    file: str
    sheet: str | None = None
    cell: str | None = None
    message: str

    @property
    def where(self) -> str:
        """``file › sheet › cell`` (as much as is known)."""
        return " › ".join(p for p in (self.file, self.sheet, self.cell) if p)


class FormRef(BaseModel):
    """Where an entry was read: workbook (relative to the data folder), sheet, row."""

    model_config = _MODEL

    file: str
    sheet: str
    row: int


class Person(BaseModel):
    """A person named on a form (ผู้รับผิดชอบ, ผู้ประสานงาน สยป., ผู้รายงานข้อมูล, หัวหน้าหน่วยงาน)."""

    model_config = _MODEL

    name: str | None = None
    position: str | None = None
    phone: str | None = None

    @property
    def is_blank(self) -> bool:
        """True when nothing is filled in."""
        return self.name is None and self.position is None and self.phone is None


class Evidence(BaseModel):
    """One evidence document (หลักฐานอ้างอิง) of a KPI and quarter.

    Attributes:
        kpi: The KPI id.
        required_th: The catalogue's required evidence item this row answers (``None``: an
            additional document the unit listed).
        file_name: The document's file name as the unit wrote it (``None``: not submitted).
        submitted_on: When it was submitted.
        sha256: The file's SHA-256 when the file itself is in the data folder
            (``forms/<FY>/Q<q>/evidence/<unit>/<file_name>``).
        source: Where the row was read.
    """

    model_config = _MODEL

    kpi: str
    required_th: str | None = None
    file_name: str | None = None
    submitted_on: dt.date | None = None
    sha256: str | None = None
    source: FormRef | None = None

    @property
    def submitted(self) -> bool:
        """True when the unit named a document."""
        return self.file_name is not None


class KpiEntry(BaseModel):
    """What people entered for one KPI of one unit in one quarter.

    Attributes:
        unit: The unit code.
        kpi: The KPI id (catalogue id).
        kpi_code: The KPI's official code, if it has one.
        fiscal_year: Buddhist Era.
        quarter: 1-4.
        reported_result: The result the unit reported (ผลงาน), when it typed one.
        narrative: รายงานผลฯ ไตรมาสที่ n.
        factors: ปัจจัยสนับสนุน.
        obstacles: อุปสรรค.
        suggestions: ข้อเสนอแนะ.
        declared_on_plan: The unit's declaration เป็นไปตามแผน (True) / ไม่เป็นไปตามแผน (False).
        declared_on_target: The unit's declaration เป็นไปตามเป้าหมาย / ไม่เป็นไปตามเป้าหมาย.
        self_assessment: 2.1, the unit's own assessment, 0-100.
        assessment: 2.2, the assessment of the Strategy and Evaluation Department, 0-100.
        audit_score: สยป. ตรวจประเมินตัวชี้วัด, the department's audited score, 0-100.
        audit_comment: The department's comment.
        responsible: The person responsible for the KPI in the unit.
        coordinator: The department's coordinator (ผู้ประสานงาน สยป.).
        evidence: The evidence rows of this KPI and quarter.
        source: Where the row was read.
    """

    model_config = _MODEL

    unit: str
    kpi: str
    kpi_code: str | None = None
    fiscal_year: int
    quarter: int = Field(ge=1, le=4)
    reported_result: float | None = None
    narrative: str | None = None
    factors: str | None = None
    obstacles: str | None = None
    suggestions: str | None = None
    declared_on_plan: bool | None = None
    declared_on_target: bool | None = None
    self_assessment: float | None = Field(default=None, ge=0, le=100)
    assessment: float | None = Field(default=None, ge=0, le=100)
    audit_score: float | None = Field(default=None, ge=0, le=100)
    audit_comment: str | None = None
    responsible: Person = Field(default_factory=Person)
    coordinator: Person = Field(default_factory=Person)
    evidence: tuple[Evidence, ...] = ()
    source: FormRef | None = None

    def matches(self, kpi_id: str) -> bool:
        """True for this entry's KPI id or official code."""
        return kpi_id in (self.kpi, self.kpi_code)


class MonthlyReport(BaseModel):
    """One monthly progress report of a project (seed 001, "รายงานครั้งที่ n").

    Attributes:
        kpi: The project's KPI id.
        report_no: รายงานครั้งที่: the month's number in the fiscal year (October = 1).
        year: Calendar year (CE) of the month reported on.
        month: Calendar month 1-12.
        reported_on: The report's date.
        period_start: The first day the figures cover.
        period_end: The last day they cover (December's report may stop on the 24th).
        received: Matters received in the period (จำนวน … เรื่อง).
        finished: Finished (ดำเนินการเสร็จสิ้น).
        in_progress: In progress (อยู่ระหว่างดำเนินการ).
        progress_pct: ความก้าวหน้าของงานฯ (%), as the unit declared it.
        budget_spent: งบประมาณที่เบิกใช้ (baht).
        declared_on_plan: The unit's declaration เป็นไปตามแผน.
        declared_on_target: The unit's declaration เป็นไปตามเป้าหมาย.
        text: The stage or remarks the unit wrote (อยู่ระหว่างขั้นตอน …).
        source: Where the row was read.
    """

    model_config = _MODEL

    kpi: str
    report_no: int = Field(ge=1, le=12)
    year: int
    month: int = Field(ge=1, le=12)
    reported_on: dt.date | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    received: int | None = Field(default=None, ge=0)
    finished: int | None = Field(default=None, ge=0)
    in_progress: int | None = Field(default=None, ge=0)
    progress_pct: float | None = Field(default=None, ge=0, le=100)
    budget_spent: float | None = Field(default=None, ge=0)
    declared_on_plan: bool | None = None
    declared_on_target: bool | None = None
    text: str | None = None
    source: FormRef | None = None


class Project(BaseModel):
    """A project's form (seed 001): its facts and its monthly progress reports.

    Attributes:
        kpi: The project's KPI id.
        code: รหัสโครงการ.
        name_th: ชื่อโครงการ.
        fiscal_year: ปีงบประมาณ (Buddhist Era).
        start: เริ่มต้นโครงการ.
        end: สิ้นสุดโครงการ.
        budget_received: งบประมาณที่ได้รับ (baht).
        budget_used: งบประมาณที่ใช้ไป (baht).
        responsible_unit: หน่วยงานที่รับผิดชอบ (e.g. "สำนักงานเขตประเวศ / ฝ่ายปกครอง").
        responsible: ชื่อผู้รับผิดชอบ and phone.
        coordinator: ผู้ประสานงาน สยป. and phone.
        reports: Every monthly progress report read so far, by report number.
    """

    model_config = _MODEL

    kpi: str
    code: str | None = None
    name_th: str
    fiscal_year: int
    start: dt.date | None = None
    end: dt.date | None = None
    budget_received: float | None = Field(default=None, ge=0)
    budget_used: float | None = Field(default=None, ge=0)
    responsible_unit: str | None = None
    responsible: Person = Field(default_factory=Person)
    coordinator: Person = Field(default_factory=Person)
    reports: tuple[MonthlyReport, ...] = ()

    def report(self, report_no: int) -> MonthlyReport | None:
        """The monthly report with this number, if any."""
        return next((r for r in self.reports if r.report_no == report_no), None)


class FormFile(BaseModel):
    """A file of the unit's forms that the report read (or refused).

    Attributes:
        path: Relative to the data folder (``forms/2567/Q1/1032.xlsx``).
        sha256: Its content hash.
        kind: ``workbook`` or ``evidence``.
        quarter: The quarter it belongs to.
        read: False when the file was refused (a finding says why).
    """

    model_config = _MODEL

    path: str
    sha256: str
    kind: Literal["workbook", "evidence"] = "workbook"
    quarter: int | None = None
    read: bool = True


class UnitForms(BaseModel):
    """Everything people entered for one unit, fiscal year and quarters 1 … ``quarter``.

    Attributes:
        unit: The unit code.
        fiscal_year: Buddhist Era.
        quarter: The report's quarter (entries of quarters 1 … quarter are here).
        files: The workbooks and evidence files read (or refused).
        entries: One per KPI and quarter that someone filled in.
        projects: The project forms (seed 001).
        reporter: ผู้รายงานข้อมูล, from the latest quarter's workbook that names one.
        head: หัวหน้าหน่วยงาน, likewise.
        reported_on: The date the latest workbook was reported.
        findings: Every problem found in the workbooks, none dropped.
    """

    model_config = _MODEL

    unit: str
    fiscal_year: int
    quarter: int = Field(ge=1, le=4)
    files: tuple[FormFile, ...] = ()
    entries: tuple[KpiEntry, ...] = ()
    projects: tuple[Project, ...] = ()
    reporter: Person = Field(default_factory=Person)
    head: Person = Field(default_factory=Person)
    reported_on: dt.date | None = None
    findings: tuple[FormFinding, ...] = ()

    def entry(self, kpi_id: str, quarter: int | None = None) -> KpiEntry | None:
        """The entry of a KPI (id or code) in a quarter (default: the report's); ``None``: not
        reported."""
        q = self.quarter if quarter is None else quarter
        return next((e for e in self.entries if e.quarter == q and e.matches(kpi_id)), None)

    def entries_of(self, kpi_id: str) -> tuple[KpiEntry, ...]:
        """A KPI's entries, by quarter."""
        return tuple(
            sorted((e for e in self.entries if e.matches(kpi_id)), key=lambda e: e.quarter)
        )

    def project(self, kpi_id: str) -> Project | None:
        """The project form of a KPI (id or code), if any was filled in."""
        return next((p for p in self.projects if kpi_id in (p.kpi, p.code)), None)

    @property
    def reported(self) -> bool:
        """True when at least one workbook of the unit was read."""
        return any(f.read and f.kind == "workbook" for f in self.files)

    @property
    def errors(self) -> int:
        """Findings whose subject was not used."""
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        """Findings with a remark only."""
        return sum(f.severity == "warning" for f in self.findings)
