"""The form workbook's layout, declared once: sheets, headers, who fills what, limits.

The writer (:mod:`kpilib.forms.workbook`) lays a workbook out from these declarations and
the reader (:mod:`kpilib.forms.reader`) finds columns by their header text, checks each value
against its kind and stated limit, and maps it to the field of the same ``key`` in
:mod:`kpilib.forms.models` (``responsible.name`` is the ``name`` of the ``responsible`` person).

Where the data folder keeps the forms (``docs/forms.md``)::

    <data>/forms/<FY>/Q<q>/<unit>.xlsx              one filled workbook per unit and quarter
    <data>/forms/<FY>/Q<q>/evidence/<unit>/<file>   evidence documents named in the workbooks
    <data>/signoffs/<FY>/Q<q>/<unit>/*.json         sign-off records (kpilib.signoff)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kpilib.forms.models import STATUS_OFF_PLAN, STATUS_OFF_TARGET, STATUS_ON_PLAN, STATUS_ON_TARGET

FORMAT_NAME = "kpilib-forms"
FORMAT_VERSION = 1
"""Written into every workbook's hidden sheet; bumped when the layout changes incompatibly."""

FORMS_DIR = "forms"
EVIDENCE_DIR = "evidence"
SIGNOFFS_DIR = "signoffs"

MAX_FILE_BYTES = 10 * 1024 * 1024
"""A filled workbook larger than this is not opened (a form is a few tens of kilobytes)."""

LONG_TEXT = 2000
"""Characters a narrative, factor, obstacle, suggestion, comment or stage text may have."""
NAME_TEXT = 120
POSITION_TEXT = 200
PHONE_TEXT = 40
FILE_NAME_TEXT = 255

Kind = Literal[
    "key",  # a KPI id (pre-filled, or picked from the KPI sheet's ids)
    "text",  # one line of text
    "long",  # free text (may have line breaks)
    "int",  # a whole number (pre-filled figures)
    "number",  # any number
    "score",  # 0-100
    "pct",  # 0-100
    "count",  # a whole number >= 0
    "money",  # baht >= 0
    "date",  # วว/ดด/ปปปป (พ.ศ.) or an Excel date
    "plan_flag",  # เป็นไปตามแผน / ไม่เป็นไปตามแผน
    "target_flag",  # เป็นไปตามเป้าหมาย / ไม่เป็นไปตามเป้าหมาย
]
Who = Literal["kpilib", "unit", "spy"]
"""Who fills a column: ``kpilib`` pre-fills it (locked), ``unit`` the reporting unit,
``spy`` the Strategy and Evaluation Department (สยป.)."""

WHO_TH: dict[str, str] = {
    "kpilib": "กรอกโดยระบบ (ล็อกไว้)",
    "unit": "หน่วยงานกรอก",
    "spy": "สยป. กรอก",
}

FLAG_VALUES: dict[str, dict[str, bool]] = {
    "plan_flag": {STATUS_ON_PLAN: True, STATUS_OFF_PLAN: False},
    "target_flag": {STATUS_ON_TARGET: True, STATUS_OFF_TARGET: False},
}
"""The drop-down values of the two status flags and what they mean."""
FLAG_SYNONYMS: dict[str, bool] = {"ใช่": True, "ไม่ใช่": False, "yes": True, "no": False}
"""Also accepted when typed (case-insensitive)."""

BLANK_TEXTS = frozenset({"-", "–", "—", "n/a", "N/A"})
"""Cell texts read as blank: the web form prints "-" for nothing reported."""


@dataclass(frozen=True)
class Column:
    """One column of a table sheet (or one row of the cover sheet).

    Attributes:
        key: The model field it fills (dotted for a person's field).
        header_th: The header text (the reader finds the column by it).
        kind: What a cell may hold (:data:`Kind`).
        who: Who fills it (:data:`Who`); ``kpilib`` columns are locked.
        width: Column width in characters.
        max_len: The longest text accepted (text kinds).
    """

    key: str
    header_th: str
    kind: Kind
    who: Who = "unit"
    width: int = 14
    max_len: int | None = None

    @property
    def locked(self) -> bool:
        """True for pre-filled columns."""
        return self.who == "kpilib"

    @property
    def limit_th(self) -> str:
        """The stated limit, in words (shown under the header)."""
        if self.kind in ("score", "pct"):
            return "0–100"
        if self.kind in ("count", "money"):
            return "ตั้งแต่ 0"
        if self.kind == "date":
            return "วว/ดด/ปปปป (พ.ศ.)"
        if self.kind in FLAG_VALUES:
            return "เลือกจากรายการ"
        if self.max_len:
            return f"ไม่เกิน {self.max_len:,} ตัวอักษร"
        return ""


@dataclass(frozen=True)
class Sheet:
    """A table sheet: a title row, a who-fills row, a header row, a limits row, then data.

    Attributes:
        name: The sheet's name.
        title_th: Its title (row 1).
        columns: Its columns, in order.
    """

    name: str
    title_th: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        """The column of a key."""
        return next(c for c in self.columns if c.key == key)


TITLE_ROW, WHO_ROW, HEADER_ROW, LIMIT_ROW, FIRST_DATA_ROW = 1, 2, 3, 4, 5
"""Rows of a table sheet. The reader finds the header row by its text (rows 1-10)."""

COVER = Sheet(
    name="หน่วยงาน",
    title_th="แบบรายงานผลการดำเนินงานตามตัวชี้วัด",
    columns=(
        Column("unit_code", "รหัสหน่วยงาน", "text", "kpilib"),
        Column("unit_name", "ชื่อหน่วยงาน", "text", "kpilib"),
        Column("fiscal_year", "ปีงบประมาณ พ.ศ.", "int", "kpilib"),
        Column("quarter", "ไตรมาสที่", "int", "kpilib"),
        Column("period", "ช่วงเวลารายงาน", "text", "kpilib"),
        Column("issued_at", "ออกแบบฟอร์มเมื่อ", "text", "kpilib"),
        Column("reporter.name", "ผู้รายงานข้อมูล: ชื่อ-สกุล", "text", max_len=NAME_TEXT),
        Column("reporter.position", "ผู้รายงานข้อมูล: ตำแหน่ง", "text", max_len=POSITION_TEXT),
        Column("reporter.phone", "ผู้รายงานข้อมูล: โทรศัพท์", "text", max_len=PHONE_TEXT),
        Column("head.name", "หัวหน้าหน่วยงาน: ชื่อ-สกุล", "text", max_len=NAME_TEXT),
        Column("head.position", "หัวหน้าหน่วยงาน: ตำแหน่ง", "text", max_len=POSITION_TEXT),
        Column("reported_on", "วันที่รายงาน", "date"),
    ),
)
"""The cover sheet: label in column A, value in column B, one row per column declared here
(from row 3)."""
COVER_FIRST_ROW = 3

KPIS = Sheet(
    name="ตัวชี้วัด",
    title_th="ผลการดำเนินงานรายตัวชี้วัด (หนึ่งแถวต่อหนึ่งตัวชี้วัด)",
    columns=(
        Column("kpi", "รหัสตัวชี้วัดในระบบ", "key", "kpilib", width=22),
        Column("kpi_code", "รหัสตัวชี้วัด", "text", "kpilib", width=14),
        Column("kpi_name", "ชื่อตัวชี้วัด", "text", "kpilib", width=40),
        Column("quarter", "ไตรมาส", "int", "kpilib", width=8),
        Column("target", "ค่าเป้าหมาย", "text", "kpilib", width=24),
        Column("plan", "แผนสะสมของไตรมาส", "number", "kpilib", width=12),
        Column("computed", "ผลงานที่คำนวณจากข้อมูล", "number", "kpilib", width=14),
        Column("unit_th", "หน่วยนับ", "text", "kpilib", width=10),
        Column("level", "ระดับ", "int", "kpilib", width=8),
        Column("points", "คะแนน", "number", "kpilib", width=8),
        Column("reported_result", "ผลงานที่หน่วยงานรายงาน", "number", width=14),
        Column("narrative", "รายงานผลการดำเนินงานรายไตรมาส", "long", width=50, max_len=LONG_TEXT),
        Column("factors", "ปัจจัยสนับสนุนการดำเนินงาน", "long", width=36, max_len=LONG_TEXT),
        Column("obstacles", "อุปสรรคต่อการดำเนินงาน", "long", width=36, max_len=LONG_TEXT),
        Column("suggestions", "ข้อเสนอแนะ", "long", width=36, max_len=LONG_TEXT),
        Column("declared_on_plan", "สถานะตามแผน", "plan_flag", width=18),
        Column("declared_on_target", "สถานะตามเป้าหมาย", "target_flag", width=20),
        Column("self_assessment", "ผลประเมินของหน่วยงาน (2.1)", "score", width=14),
        Column("responsible.name", "ผู้รับผิดชอบ: ชื่อ-สกุล", "text", width=24, max_len=NAME_TEXT),
        Column("responsible.position", "ผู้รับผิดชอบ: ตำแหน่ง", "text", width=24, max_len=POSITION_TEXT),
        Column("responsible.phone", "ผู้รับผิดชอบ: โทรศัพท์", "text", width=14, max_len=PHONE_TEXT),
        Column("coordinator.name", "ผู้ประสานงาน สยป.: ชื่อ-สกุล", "text", "spy", 24, NAME_TEXT),
        Column("coordinator.phone", "ผู้ประสานงาน สยป.: โทรศัพท์", "text", "spy", 14, PHONE_TEXT),
        Column("assessment", "ผลประเมินของ สยป. (2.2)", "score", "spy", width=14),
        Column("audit_score", "สยป. ตรวจประเมินตัวชี้วัด", "score", "spy", width=14),
        Column("audit_comment", "ความเห็นของ สยป.", "long", "spy", width=36, max_len=LONG_TEXT),
    ),
)

EVIDENCE_EXTRA_ROWS = 10
"""Blank rows for documents beyond the required ones (their KPI is picked from a list)."""

EVIDENCE = Sheet(
    name="หลักฐานอ้างอิง",
    title_th="หลักฐานอ้างอิง (ชื่อแฟ้มที่ส่ง และวันที่ส่ง)",
    columns=(
        Column("kpi", "รหัสตัวชี้วัดในระบบ", "key", "kpilib", width=22),
        Column("required_th", "หลักฐานที่ตัวชี้วัดกำหนด", "text", "kpilib", width=60),
        Column("file_name", "ชื่อแฟ้มหลักฐานที่ส่ง", "text", width=36, max_len=FILE_NAME_TEXT),
        Column("submitted_on", "วันที่ส่ง", "date", width=16),
    ),
)

PROJECTS = Sheet(
    name="โครงการ",
    title_th="แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ: ข้อมูลโครงการ",
    columns=(
        Column("kpi", "รหัสตัวชี้วัดในระบบ", "key", "kpilib", width=22),
        Column("code", "รหัสโครงการ", "text", "kpilib", width=16),
        Column("name_th", "ชื่อโครงการ", "text", "kpilib", width=40),
        Column("fiscal_year", "ปีงบประมาณ พ.ศ.", "int", "kpilib", width=10),
        Column("start", "เริ่มต้นโครงการ", "date", width=14),
        Column("end", "สิ้นสุดโครงการ", "date", width=14),
        Column("budget_received", "งบประมาณที่ได้รับ (บาท)", "money", width=14),
        Column("budget_used", "งบประมาณที่ใช้ไป (บาท)", "money", width=14),
        Column("responsible_unit", "หน่วยงานที่รับผิดชอบ", "text", width=30, max_len=POSITION_TEXT),
        Column("responsible.name", "ชื่อผู้รับผิดชอบ", "text", width=24, max_len=NAME_TEXT),
        Column("responsible.phone", "ผู้รับผิดชอบ: โทรศัพท์", "text", width=14, max_len=PHONE_TEXT),
        Column("coordinator.name", "ผู้ประสานงาน สยป.", "text", "spy", 24, NAME_TEXT),
        Column("coordinator.phone", "ผู้ประสานงาน สยป.: โทรศัพท์", "text", "spy", 14, PHONE_TEXT),
    ),
)

MONTHLY = Sheet(
    name="รายงานความก้าวหน้า",
    title_th="รายงานความก้าวหน้าของโครงการรายเดือน (รายงานครั้งที่ n = เดือนที่ n ของปีงบประมาณ)",
    columns=(
        Column("kpi", "รหัสตัวชี้วัดในระบบ", "key", "kpilib", width=22),
        Column("report_no", "รายงานครั้งที่", "int", "kpilib", width=8),
        Column("month_th", "เดือน", "text", "kpilib", width=16),
        Column("reported_on", "วันที่รายงาน", "date", width=14),
        Column("period_start", "ข้อมูลตั้งแต่วันที่", "date", width=14),
        Column("period_end", "ถึงวันที่", "date", width=14),
        Column("received", "จำนวนเรื่องที่ได้รับ", "count", width=12),
        Column("finished", "ดำเนินการเสร็จสิ้น", "count", width=12),
        Column("in_progress", "อยู่ระหว่างดำเนินการ", "count", width=12),
        Column("progress_pct", "ความก้าวหน้าของงาน (%)", "pct", width=12),
        Column("budget_spent", "งบประมาณที่เบิกใช้ (บาท)", "money", width=14),
        Column("declared_on_plan", "สถานะตามแผน", "plan_flag", width=18),
        Column("declared_on_target", "สถานะตามเป้าหมาย", "target_flag", width=20),
        Column("text", "ขั้นตอน/รายละเอียด", "long", width=40, max_len=LONG_TEXT),
    ),
)

META_SHEET = "_kpilib"
"""The very hidden sheet: the form's identity and the record of every pre-filled cell."""
META_KEYS = (
    "format",
    "version",
    "unit",
    "fiscal_year",
    "quarter",
    "issued_at",
    "kpilib_version",
    "record_sha256",
)
META_RECORD_ROW = 20
"""The record of pre-filled cells starts here (columns sheet, cell, value)."""

TABLE_SHEETS = (KPIS, EVIDENCE, PROJECTS, MONTHLY)

INSTRUCTIONS_TH = (
    "วิธีกรอก: กรอกเฉพาะช่องสีขาว (ช่องสีเทากรอกโดยระบบและล็อกไว้ การแก้ไขช่องที่ล็อกจะถูกตรวจพบ)",
    "ช่องที่มีรายการให้เลือก ให้เลือกจากรายการ; คะแนน 0–100; วันที่เขียนแบบ วว/ดด/ปปปป (พ.ศ.) เช่น 28/10/2566",
    "ช่องที่ไม่มีข้อมูลให้เว้นว่างไว้ (รายงานจะแสดงว่า ยังไม่รายงาน) ไม่ต้องใส่ 0",
    "คอลัมน์ สยป. กรอก สำหรับสำนักยุทธศาสตร์และประเมินผล",
    "ส่งแฟ้มนี้คืนโดยไม่เปลี่ยนชื่อแฟ้ม แฟ้มหลักฐานให้ส่งแยกตามชื่อที่ระบุในแผ่นงาน หลักฐานอ้างอิง",
)


def workbook_name(unit: str) -> str:
    """The workbook's file name: ``<unit>.xlsx``."""
    return f"{unit}.xlsx"


def quarter_folder(root: Path, fy: int, quarter: int) -> Path:
    """``<root>/<FY>/Q<q>``: where the workbooks of a quarter are (``root`` = ``<data>/forms``
    or the output folder of ``kpi forms``)."""
    return root / str(fy) / f"Q{quarter}"


def evidence_folder(data_dir: Path, fy: int, quarter: int, unit: str) -> Path:
    """``<data>/forms/<FY>/Q<q>/evidence/<unit>``: a unit's evidence documents of a quarter."""
    return quarter_folder(data_dir / FORMS_DIR, fy, quarter) / EVIDENCE_DIR / unit


def cell_text(value: object) -> str:
    """A cell's value as the record of pre-filled cells keeps it (and compares it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
