"""Reading filled form workbooks back from the data folder, with every problem as a finding.

A unit-quarter report reads ``<data>/forms/<FY>/Q<q>/<unit>.xlsx`` for quarters 1 … Q and the
evidence documents in ``<data>/forms/<FY>/Q<q>/evidence/<unit>/``. Each workbook is checked
(unknown unit or KPI, another unit's or period's workbook, a score outside 0-100, a text over
its stated length, a value that is not a number/date/drop-down value, a pre-filled cell
edited) and every problem becomes a :class:`~kpilib.forms.models.FormFinding` naming the file,
sheet and cell; a problem drops only what it concerns (a value, a row, or the file), never
another unit. Workbooks are opened read-only and never written.

openpyxl is imported when a workbook is read, not on import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpilib import calendar as cal
from kpilib.catalog import Catalog, Kpi, load_catalog
from kpilib.errors import CalendarError
from kpilib.forms import layout as L
from kpilib.forms.models import (
    Evidence,
    FormFile,
    FormFinding,
    FormRef,
    KpiEntry,
    MonthlyReport,
    Person,
    Project,
    Severity,
    UnitForms,
)
from kpilib.forms.workbook import applicable_kpis, monthly_numbers
from kpilib.fsio import sha256_file

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LEADING_TOKEN = re.compile(r"[A-Za-z0-9]+")
_SAFE_FILE_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,255}$")


# --------------------------------------------------------------------------- where files are


def _is_temp(name: str) -> bool:
    return name.startswith(("~$", "."))


def _token(name: str) -> str | None:
    m = _LEADING_TOKEN.match(Path(name).stem)
    return m.group(0) if m else None


def workbook_path(data_dir: str | Path, unit: str, fy: int, quarter: int) -> Path:
    """Where a unit's filled workbook of a quarter is read from."""
    folder = L.quarter_folder(Path(data_dir) / L.FORMS_DIR, fy, quarter)
    return folder / L.workbook_name(unit)


def stray_files(data_dir: str | Path, unit: str, fy: int, quarter: int) -> tuple[Path, ...]:
    """Files of a quarter's forms folder that name the unit but are not ``<unit>.xlsx``
    (``1032 (1).xlsx``, ``1032.xls``): reported, not read."""
    folder = L.quarter_folder(Path(data_dir) / L.FORMS_DIR, fy, quarter)
    if not folder.is_dir():
        return ()
    expected = L.workbook_name(unit)
    return tuple(
        sorted(
            p
            for p in folder.iterdir()
            if p.is_file()
            and not _is_temp(p.name)
            and p.name != expected
            and _token(p.name) == unit
        )
    )


def evidence_files(data_dir: str | Path, unit: str, fy: int, quarter: int) -> tuple[Path, ...]:
    """The unit's evidence documents of a quarter in the data folder."""
    folder = L.evidence_folder(Path(data_dir), fy, quarter, unit)
    if not folder.is_dir():
        return ()
    return tuple(sorted(p for p in folder.iterdir() if p.is_file() and not _is_temp(p.name)))


def unit_form_files(data_dir: str | Path, unit: str, fy: int, quarter: int) -> tuple[Path, ...]:
    """Every file under ``<data>/forms`` a unit-quarter report reads: its workbooks of
    quarters 1 … ``quarter``, other files naming the unit there (reported as findings) and
    its evidence documents."""
    out: list[Path] = []
    for q in range(1, quarter + 1):
        path = workbook_path(data_dir, unit, fy, q)
        if path.is_file():
            out.append(path)
        out.extend(stray_files(data_dir, unit, fy, q))
        out.extend(evidence_files(data_dir, unit, fy, q))
    return tuple(out)


def _relative(path: Path, data_dir: Path) -> str:
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return path.name


# --------------------------------------------------------------------------- cell values


class _Bad(Exception):
    """A cell value that cannot be used; the message says why (in Thai)."""

    def __init__(self, check: str, message: str, severity: Severity = "error") -> None:
        super().__init__(message)
        self.check = check
        self.severity = severity


def _clean_text(value: Any, col: L.Column) -> tuple[str | None, str | None]:
    """Text of a cell (``None`` when blank or "-") and a warning when it was cut."""
    if value is None:
        return None, None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        value = cal.format_thai_date(value)
    text = _CONTROL.sub("", str(value)).replace("\r\n", "\n").replace("\r", "\n").strip()
    if col.kind != "long":
        text = " ".join(text.split())
    if not text or text in L.BLANK_TEXTS:
        return None, None
    if col.max_len and len(text) > col.max_len:
        return text[: col.max_len - 1] + "…", (
            f"{col.header_th}: ข้อความยาว {len(text):,} ตัวอักษร เกินกำหนด {col.max_len:,} "
            f"ตัวอักษร รายงานแสดง {col.max_len:,} ตัวอักษรแรก"
        )
    return text, None


def _number(value: Any, col: L.Column) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Bad("bad_value", f"{col.header_th}: {value!r} ไม่ใช่ตัวเลข")
    if isinstance(value, int | float):
        f = float(value)
    else:
        text = cal.from_thai_digits(str(value)).strip().replace(",", "").replace(" ", "")
        text = text.removesuffix("%").removesuffix("บาท")
        if not text or text in L.BLANK_TEXTS:
            return None
        try:
            f = float(text)
        except ValueError:
            raise _Bad("bad_value", f"{col.header_th}: {str(value)[:40]!r} ไม่ใช่ตัวเลข") from None
    if math.isnan(f) or math.isinf(f):
        raise _Bad("bad_value", f"{col.header_th}: {value!r} ไม่ใช่ตัวเลข")
    if col.kind in ("score", "pct") and not 0 <= f <= 100:
        raise _Bad("out_of_range", f"{col.header_th}: {f:g} อยู่นอกช่วง 0–100 จึงไม่นำมาใช้")
    if col.kind in ("count", "money") and f < 0:
        raise _Bad("out_of_range", f"{col.header_th}: {f:g} ติดลบ จึงไม่นำมาใช้")
    if col.kind == "count" and not f.is_integer():
        raise _Bad("bad_value", f"{col.header_th}: {f:g} ไม่ใช่จำนวนเต็ม")
    return f


def _date(value: Any, col: L.Column) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        # A Buddhist-Era year typed into an Excel date cell (e.g. 2566-10-28): convert.
        if value.year > cal.BE_OFFSET + 1900:
            try:
                return value.replace(year=value.year - cal.BE_OFFSET)
            except ValueError:
                raise _Bad("bad_value", f"{col.header_th}: {value} ไม่ใช่วันที่") from None
        return value
    text = str(value).strip()
    if not text or text in L.BLANK_TEXTS:
        return None
    try:
        return cal.parse_thai_date(text, assume_era="be")
    except CalendarError:
        raise _Bad(
            "bad_value",
            f"{col.header_th}: {text[:40]!r} ไม่ใช่วันที่แบบ วว/ดด/ปปปป (พ.ศ.) เช่น 28/10/2566",
        ) from None


def _flag(value: Any, col: L.Column) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = " ".join(str(value).split())
    if not text or text in L.BLANK_TEXTS:
        return None
    known = L.FLAG_VALUES[col.kind]
    if text in known:
        return known[text]
    if text.lower() in L.FLAG_SYNONYMS:
        return L.FLAG_SYNONYMS[text.lower()]
    raise _Bad(
        "bad_value",
        f"{col.header_th}: {text[:40]!r} ไม่ใช่ค่าในรายการ ({' / '.join(known)})",
    )


def convert(value: Any, col: L.Column) -> tuple[Any, str | None]:
    """A cell's value for its column's field, and a warning (or raise :class:`_Bad`)."""
    k = col.kind
    if k in ("text", "long", "key"):
        return _clean_text(value, col)
    if k in ("number", "score", "pct", "count", "money", "int"):
        f = _number(value, col)
        if f is not None and k in ("count", "int"):
            return int(f), None
        return f, None
    if k == "date":
        return _date(value, col), None
    if k in L.FLAG_VALUES:
        return _flag(value, col), None
    raise AssertionError(k)  # pragma: no cover - every Kind is handled above


# --------------------------------------------------------------------------- one workbook


@dataclass
class _Read:
    """What one workbook gave."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: list[MonthlyReport] = field(default_factory=list)
    people: dict[str, Any] = field(default_factory=dict)
    findings: list[FormFinding] = field(default_factory=list)
    read: bool = True


class _WorkbookReader:
    """Reads one workbook of a unit and quarter."""

    def __init__(
        self,
        path: Path,
        *,
        rel: str,
        unit: str,
        fy: int,
        quarter: int,
        catalog: Catalog,
        kpis: Mapping[str, Kpi],
        evidence_dir: Path,
    ) -> None:
        self.path = path
        self.rel = rel
        self.unit = unit
        self.fy = fy
        self.quarter = quarter
        self.catalog = catalog
        self.kpis = kpis
        self.evidence_dir = evidence_dir
        self.out = _Read()
        self.recorded: dict[tuple[str, str], str] = {}

    def finding(
        self,
        check: str,
        message: str,
        *,
        sheet: str | None = None,
        cell: str | None = None,
        severity: Severity = "error",
    ) -> None:
        self.out.findings.append(
            FormFinding(
                check=check,  # type: ignore[arg-type]
                severity=severity,
                file=self.rel,
                sheet=sheet,
                cell=cell,
                message=message,
            )
        )

    def refuse(self, check: str, message: str, **where: Any) -> _Read:
        self.finding(check, message + " แฟ้มนี้จึงไม่ถูกนำมาใช้", **where)
        self.out.read = False
        return self.out

    # -- values
    def value(self, ws: Any, row: int, column: int, col: L.Column) -> Any:
        """A cell's value for its field; a problem becomes a finding and ``None``."""
        cell = ws.cell(row=row, column=column)
        raw = cell.value
        recorded = self.recorded.get((ws.title, cell.coordinate))
        if col.locked and recorded is not None:
            raw = _typed_record(recorded, col)  # a pre-filled cell: trust the record
        try:
            value, warning = convert(raw, col)
        except _Bad as bad:
            self.finding(bad.check, str(bad), sheet=ws.title, cell=cell.coordinate)
            return None
        if warning:
            self.finding(
                "too_long", warning, sheet=ws.title, cell=cell.coordinate, severity="warning"
            )
        return value

    # -- structure
    def header(self, ws: Any, sheet: L.Sheet) -> tuple[int, dict[str, int]] | None:
        """The header row and each key's column, found by the headers' text."""
        wanted = {c.header_th: c.key for c in sheet.columns}
        for r in range(1, min(ws.max_row, 10) + 1):
            found = {}
            for c in range(1, ws.max_column + 1):
                text = ws.cell(row=r, column=c).value
                if isinstance(text, str) and " ".join(text.split()) in wanted:
                    found[wanted[" ".join(text.split())]] = c
            if "kpi" in found and len(found) >= len(sheet.columns) // 2:
                return r, found
        return None

    def rows(self, ws: Any, sheet: L.Sheet) -> Iterable[tuple[int, dict[str, int]]]:
        """Data rows (row number, key → column) after the header and the limits row."""
        found = self.header(ws, sheet)
        if found is None:
            self.finding(
                "not_a_form",
                f"ไม่พบหัวตารางของแผ่นงาน {sheet.name} (เช่น {sheet.columns[0].header_th}) "
                "จึงไม่ได้อ่านแผ่นงานนี้",
                sheet=ws.title,
            )
            return
        head, cols = found
        limits = {c.limit_th for c in sheet.columns if c.limit_th}
        for r in range(head + 1, ws.max_row + 1):
            cells = [ws.cell(row=r, column=c).value for c in cols.values()]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
                continue
            if r == head + 1 and all(v is None or v in limits for v in cells):
                continue
            yield r, cols

    def kpi_of(self, ws: Any, row: int, cols: Mapping[str, int], sheet: L.Sheet) -> Kpi | None:
        key_col = sheet.column("kpi")
        text = self.value(ws, row, cols["kpi"], key_col)
        cell = ws.cell(row=row, column=cols["kpi"]).coordinate
        if text is None:
            self.finding(
                "unknown_kpi",
                "ไม่ได้ระบุรหัสตัวชี้วัด แถวนี้จึงไม่ถูกนำมาใช้",
                sheet=ws.title,
                cell=cell,
            )
            return None
        token = text.split()[0]
        for k in self.catalog.kpis:
            if token in k.data_ids:
                if k.id in self.kpis:
                    return k
                self.finding(
                    "unknown_kpi",
                    f"ตัวชี้วัด {token} ไม่อยู่ในแผนของหน่วยงาน {self.unit} ปีงบประมาณ {self.fy} "
                    "แถวนี้จึงไม่ถูกนำมาใช้",
                    sheet=ws.title,
                    cell=cell,
                )
                return None
        self.finding(
            "unknown_kpi",
            f"ไม่รู้จักตัวชี้วัด {token[:40]!r} แถวนี้จึงไม่ถูกนำมาใช้",
            sheet=ws.title,
            cell=cell,
        )
        return None

    def people_fields(
        self, ws: Any, row: int, cols: Mapping[str, int], sheet: L.Sheet
    ) -> dict[str, Any]:
        """The non-blank people's fields of a row (dotted keys nested)."""
        out: dict[str, Any] = {}
        for col in sheet.columns:
            if col.locked or col.key not in cols:
                continue
            v = self.value(ws, row, cols[col.key], col)
            if v is None:
                continue
            if "." in col.key:
                who, part = col.key.split(".", 1)
                out.setdefault(who, {})[part] = v
            else:
                out[col.key] = v
        return out

    # -- sheets
    def meta(self, wb: Any) -> dict[str, Any] | None:
        if L.META_SHEET not in wb.sheetnames:
            self.finding(
                "record_changed",
                "แฟ้มนี้ไม่มีบันทึกช่องที่ระบบกรอกไว้ (ไม่ได้ออกด้วยคำสั่ง kpi forms) จึงตรวจการแก้ไขช่องที่ล็อกไม่ได้",
                severity="warning",
            )
            return None
        ws = wb[L.META_SHEET]
        meta = {
            str(ws.cell(row=i, column=1).value): ws.cell(row=i, column=2).value
            for i in range(1, len(L.META_KEYS) + 1)
        }
        record = []
        for r in range(L.META_RECORD_ROW, ws.max_row + 1):
            sheet, cell, value = (ws.cell(row=r, column=c).value for c in (1, 2, 3))
            if sheet is None:
                continue
            record.append([str(sheet), str(cell), "" if value is None else str(value)])
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != meta.get("record_sha256"):
            self.finding(
                "record_changed",
                "บันทึกช่องที่ระบบกรอกไว้ในแผ่นงานซ่อนถูกแก้ไข จึงตรวจการแก้ไขช่องที่ล็อกไม่ได้",
                sheet=L.META_SHEET,
            )
            return meta
        self.recorded = {(s, c): v for s, c, v in record}
        for (sheet, cell), expected in self.recorded.items():
            if sheet not in wb.sheetnames:
                self.finding("locked_edited", f"ไม่พบแผ่นงาน {sheet}", sheet=sheet)
                continue
            now = L.cell_text(wb[sheet][cell].value)
            if now != expected:
                self.finding(
                    "locked_edited",
                    f"ช่องที่ระบบกรอกและล็อกไว้ถูกแก้ไข จาก {_short(expected)} เป็น {_short(now)} "
                    "รายงานใช้ค่าเดิมของระบบ",
                    sheet=sheet,
                    cell=cell,
                )
        return meta

    def cover(self, wb: Any) -> dict[str, Any] | None:
        if L.COVER.name not in wb.sheetnames:
            return None
        ws = wb[L.COVER.name]
        labels = {c.header_th: c for c in L.COVER.columns}
        out: dict[str, Any] = {}
        for r in range(1, min(ws.max_row, 60) + 1):
            label = ws.cell(row=r, column=1).value
            if not isinstance(label, str) or " ".join(label.split()) not in labels:
                continue
            col = labels[" ".join(label.split())]
            v = self.value(ws, r, 2, col)
            if v is not None:
                out[col.key] = v
        return out

    def kpi_sheet(self, wb: Any) -> None:
        ws = wb[L.KPIS.name]
        for row, cols in self.rows(ws, L.KPIS):
            k = self.kpi_of(ws, row, cols, L.KPIS)
            if k is None:
                continue
            if "quarter" in cols:
                q = self.value(ws, row, cols["quarter"], L.KPIS.column("quarter"))
                if q is not None and q != self.quarter:
                    self.finding(
                        "wrong_period",
                        f"แถวนี้เป็นของไตรมาสที่ {q} แต่แฟ้มเป็นของไตรมาสที่ {self.quarter} จึงไม่ถูกนำมาใช้",
                        sheet=ws.title,
                        cell=ws.cell(row=row, column=cols["quarter"]).coordinate,
                    )
                    continue
            if k.id in self.out.entries:
                self.finding(
                    "duplicate",
                    f"ตัวชี้วัด {k.id} มีมากกว่าหนึ่งแถว ใช้แถวแรกเท่านั้น",
                    sheet=ws.title,
                    cell=ws.cell(row=row, column=cols["kpi"]).coordinate,
                )
                continue
            fields = self.people_fields(ws, row, cols, L.KPIS)
            fields["source"] = FormRef(file=self.rel, sheet=ws.title, row=row)
            self.out.entries[k.id] = fields

    def evidence_sheet(self, wb: Any) -> None:
        if L.EVIDENCE.name not in wb.sheetnames:
            return
        ws = wb[L.EVIDENCE.name]
        for row, cols in self.rows(ws, L.EVIDENCE):
            fields = self.people_fields(ws, row, cols, L.EVIDENCE)
            if not fields:
                continue  # a required document not submitted: the report says so
            k = self.kpi_of(ws, row, cols, L.EVIDENCE)
            if k is None:
                continue
            required = None
            if "required_th" in cols:
                required = self.value(
                    ws, row, cols["required_th"], L.EVIDENCE.column("required_th")
                )
            name = fields.get("file_name")
            digest = None
            if name is not None:
                cell = ws.cell(row=row, column=cols["file_name"]).coordinate
                if not _SAFE_FILE_NAME.match(name) or name in (".", ".."):
                    self.finding(
                        "evidence_name",
                        f"ชื่อแฟ้มหลักฐาน {name[:60]!r} ต้องเป็นชื่อแฟ้มเท่านั้น ไม่มีโฟลเดอร์ จึงไม่ได้ตรวจแฟ้ม",
                        sheet=ws.title,
                        cell=cell,
                    )
                else:
                    path = self.evidence_dir / name
                    if path.is_file():
                        digest = sha256_file(path)
            self.out.evidence.append(
                Evidence(
                    kpi=k.id,
                    required_th=required,
                    file_name=name,
                    submitted_on=fields.get("submitted_on"),
                    sha256=digest,
                    source=FormRef(file=self.rel, sheet=ws.title, row=row),
                )
            )

    def project_sheets(self, wb: Any) -> None:
        if L.PROJECTS.name in wb.sheetnames:
            ws = wb[L.PROJECTS.name]
            for row, cols in self.rows(ws, L.PROJECTS):
                k = self.kpi_of(ws, row, cols, L.PROJECTS)
                if k is None:
                    continue
                if k.id in self.out.projects:
                    self.finding(
                        "duplicate",
                        f"โครงการ {k.id} มีมากกว่าหนึ่งแถว ใช้แถวแรกเท่านั้น",
                        sheet=ws.title,
                        cell=ws.cell(row=row, column=cols["kpi"]).coordinate,
                    )
                    continue
                self.out.projects[k.id] = self.people_fields(ws, row, cols, L.PROJECTS)
        if L.MONTHLY.name not in wb.sheetnames:
            return
        ws = wb[L.MONTHLY.name]
        months = {no: (y, m) for no, y, m in monthly_numbers(self.fy, self.quarter)}
        seen: set[tuple[str, int]] = set()
        for row, cols in self.rows(ws, L.MONTHLY):
            k = self.kpi_of(ws, row, cols, L.MONTHLY)
            if k is None:
                continue
            no_cell = ws.cell(row=row, column=cols.get("report_no", 1)).coordinate
            no = None
            if "report_no" in cols:
                no = self.value(ws, row, cols["report_no"], L.MONTHLY.column("report_no"))
            if no not in months:
                self.finding(
                    "wrong_period",
                    f"รายงานครั้งที่ {no} ไม่ใช่เดือนของไตรมาสที่ {self.quarter} "
                    f"(ครั้งที่ {min(months)}–{max(months)}) จึงไม่ถูกนำมาใช้",
                    sheet=ws.title,
                    cell=no_cell,
                )
                continue
            if (k.id, no) in seen:
                self.finding(
                    "duplicate",
                    f"รายงานครั้งที่ {no} ของ {k.id} มีมากกว่าหนึ่งแถว ใช้แถวแรกเท่านั้น",
                    sheet=ws.title,
                    cell=no_cell,
                )
                continue
            seen.add((k.id, no))
            fields = self.people_fields(ws, row, cols, L.MONTHLY)
            if not fields:
                continue
            year, month = months[no]
            parts = [fields.get(x) for x in ("received", "finished", "in_progress")]
            if all(p is not None for p in parts) and parts[1] + parts[2] != parts[0]:
                self.finding(
                    "bad_value",
                    f"รายงานครั้งที่ {no}: เสร็จสิ้น {parts[1]} + อยู่ระหว่างดำเนินการ {parts[2]} "
                    f"ไม่เท่ากับจำนวนเรื่องที่ได้รับ {parts[0]}",
                    sheet=ws.title,
                    cell=ws.cell(row=row, column=cols["received"]).coordinate,
                    severity="warning",
                )
            self.out.reports.append(
                MonthlyReport(
                    kpi=k.id,
                    report_no=no,
                    year=year,
                    month=month,
                    source=FormRef(file=self.rel, sheet=ws.title, row=row),
                    **fields,
                )
            )

    # -- the whole workbook
    def read(self) -> _Read:
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            return self.refuse("unreadable", f"เปิดแฟ้มไม่ได้ ({exc.strerror})")
        if size > L.MAX_FILE_BYTES:
            return self.refuse(
                "unreadable",
                f"แฟ้มใหญ่ {size / 1e6:.1f} MB เกินกำหนด {L.MAX_FILE_BYTES / 1e6:.0f} MB",
            )
        try:
            import openpyxl

            wb = openpyxl.load_workbook(self.path, data_only=True)
        except Exception as exc:  # any reason a file is not a workbook: a finding, not a crash
            return self.refuse("unreadable", f"ไม่ใช่แฟ้ม Excel (.xlsx) ที่อ่านได้ ({type(exc).__name__})")
        try:
            return self._read(wb)
        finally:
            wb.close()

    def _read(self, wb: Any) -> _Read:
        meta = self.meta(wb)
        cover = self.cover(wb)
        if (meta is None and cover is None) or L.KPIS.name not in wb.sheetnames:
            return self.refuse(
                "not_a_form",
                f"ไม่ใช่แบบรายงานตัวชี้วัด (ต้องมีแผ่นงาน {L.COVER.name} และ {L.KPIS.name})",
            )
        ident = {
            "unit": (cover or {}).get("unit_code"),
            "fiscal_year": (cover or {}).get("fiscal_year"),
            "quarter": (cover or {}).get("quarter"),
        }
        if meta and meta.get("format") == L.FORMAT_NAME:
            for key in ident:
                if meta.get(key) is not None:
                    ident[key] = meta[key]
        unit = None if ident["unit"] is None else str(ident["unit"])
        if unit is None or unit not in {u.code for u in self.catalog.units}:
            return self.refuse(
                "unknown_unit", f"ไม่รู้จักหน่วยงาน {unit!r} ที่ระบุในแฟ้ม", sheet=L.COVER.name
            )
        if unit != self.unit:
            return self.refuse(
                "wrong_unit",
                f"แฟ้มนี้เป็นของหน่วยงาน {unit} แต่วางไว้ในชื่อของหน่วยงาน {self.unit}",
                sheet=L.COVER.name,
            )
        period = (_int(ident["fiscal_year"]), _int(ident["quarter"]))
        if period != (self.fy, self.quarter):
            return self.refuse(
                "wrong_period",
                f"แฟ้มนี้เป็นของปีงบประมาณ {period[0]} ไตรมาสที่ {period[1]} แต่วางไว้ในโฟลเดอร์ของ"
                f"ปีงบประมาณ {self.fy} ไตรมาสที่ {self.quarter}",
                sheet=L.COVER.name,
            )
        self.out.people = cover or {}
        self.kpi_sheet(wb)
        self.evidence_sheet(wb)
        self.project_sheets(wb)
        return self.out


def _int(value: Any) -> int | None:
    try:
        return int(float(cal.from_thai_digits(str(value))))
    except (TypeError, ValueError):
        return None


def _short(text: str) -> str:
    text = text or "(ว่าง)"
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _typed_record(recorded: str, col: L.Column) -> Any:
    """A recorded pre-filled value back as the writer wrote it."""
    if recorded == "":
        return None
    if col.kind in ("int", "number"):
        try:
            return float(recorded)
        except ValueError:
            return recorded
    return recorded


# --------------------------------------------------------------------------- a unit's forms


def _person(d: Mapping[str, Any] | None) -> Person:
    return Person(**(d or {}))


_READ_CACHE: dict[tuple[Any, ...], _Read] = {}
_READ_CACHE_SIZE = 256


def _file_stamp(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (path.name, st.st_mtime_ns, st.st_size)


def _read_workbook(
    path: Path,
    *,
    rel: str,
    unit: str,
    fy: int,
    quarter: int,
    catalog: Catalog,
    kpis: Mapping[str, Kpi],
    evidence_dir: Path,
) -> _Read:
    """Read one workbook, once per process while it and its evidence folder are unchanged.

    A unit's report of quarter q reads the workbooks of quarters 1 … q; a batch worker
    rendering several quarters reads each workbook once. The key holds the file's and the
    evidence files' modification times and sizes, and the catalogue object.
    """
    evidence = (
        tuple(sorted(filter(None, map(_file_stamp, evidence_dir.iterdir()))))
        if evidence_dir.is_dir()
        else ()
    )
    key = (str(path), _file_stamp(path), rel, unit, fy, quarter, id(catalog), evidence)
    hit = _READ_CACHE.get(key)
    if hit is not None:
        return hit
    got = _WorkbookReader(
        path,
        rel=rel,
        unit=unit,
        fy=fy,
        quarter=quarter,
        catalog=catalog,
        kpis=kpis,
        evidence_dir=evidence_dir,
    ).read()
    if len(_READ_CACHE) >= _READ_CACHE_SIZE:
        _READ_CACHE.pop(next(iter(_READ_CACHE)))
    _READ_CACHE[key] = got
    return got


def read_unit_forms(
    data_dir: str | Path,
    unit: str,
    fy: int,
    quarter: int,
    *,
    catalog: Catalog | None = None,
    first_quarter: int = 1,
) -> UnitForms:
    """Read and check a unit's filled workbooks of quarters 1 … ``quarter``.

    Never raises for a bad workbook: each problem is a finding in the result (a unit
    without workbooks gets an empty :class:`UnitForms`, every field "ยังไม่รายงาน").

    Args:
        data_dir: The data folder (``<data>/forms/<FY>/Q<q>/<unit>.xlsx``).
        unit: The unit code.
        fy: Fiscal year (Buddhist Era).
        quarter: The report's quarter.
        catalog: The catalogue (default: :func:`~kpilib.catalog.load_catalog`).
        first_quarter: Read quarters ``first_quarter`` … ``quarter`` only.
    """
    data = Path(data_dir)
    fy = cal.require_be_year(fy)
    quarter = cal.require_quarter(quarter)
    cat = catalog or load_catalog()
    kpis = {k.id: k for k in applicable_kpis(cat, unit, fy)}
    files: list[FormFile] = []
    findings: list[FormFinding] = []
    entries: list[KpiEntry] = []
    project_info: dict[str, dict[str, Any]] = {}
    reports: dict[str, dict[int, MonthlyReport]] = {}
    people: dict[str, Any] = {}
    for q in range(first_quarter, quarter + 1):
        for stray in stray_files(data, unit, fy, q):
            rel = _relative(stray, data)
            files.append(FormFile(path=rel, sha256=sha256_file(stray), quarter=q, read=False))
            findings.append(
                FormFinding(
                    check="extra_file",
                    severity="error",
                    file=rel,
                    message=f"แฟ้มของหน่วยงาน {unit} ไตรมาสที่ {q} ต้องชื่อ "
                    f"{L.workbook_name(unit)} (แฟ้ม Excel .xlsx) แฟ้มนี้จึงไม่ถูกนำมาใช้",
                )
            )
        for ev_path in evidence_files(data, unit, fy, q):
            files.append(
                FormFile(
                    path=_relative(ev_path, data),
                    sha256=sha256_file(ev_path),
                    kind="evidence",
                    quarter=q,
                )
            )
        path = workbook_path(data, unit, fy, q)
        if not path.is_file():
            continue
        rel = _relative(path, data)
        got = _read_workbook(
            path,
            rel=rel,
            unit=unit,
            fy=fy,
            quarter=q,
            catalog=cat,
            kpis=kpis,
            evidence_dir=L.evidence_folder(data, fy, q, unit),
        )
        files.append(FormFile(path=rel, sha256=sha256_file(path), quarter=q, read=got.read))
        findings.extend(got.findings)
        if not got.read:
            continue
        for key, value in got.people.items():
            if "." in key:
                who, part = key.split(".", 1)
                people.setdefault(q, {}).setdefault(who, {})[part] = value
            elif key == "reported_on":
                people.setdefault(q, {})["reported_on"] = value
        evidence: dict[str, list[Evidence]] = {}
        for ev in got.evidence:
            evidence.setdefault(ev.kpi, []).append(ev)
        for kpi_id in list(got.entries) + [k for k in evidence if k not in got.entries]:
            fields = dict(got.entries.get(kpi_id, {}))
            source = fields.pop("source", None)
            if not fields and kpi_id not in evidence:
                continue  # a row nobody filled in: not reported
            responsible = _person(fields.pop("responsible", None))
            coordinator = _person(fields.pop("coordinator", None))
            entries.append(
                KpiEntry(
                    unit=unit,
                    kpi=kpi_id,
                    kpi_code=kpis[kpi_id].code,
                    fiscal_year=fy,
                    quarter=q,
                    responsible=responsible,
                    coordinator=coordinator,
                    evidence=tuple(evidence.get(kpi_id, ())),
                    source=source,
                    **fields,
                )
            )
        for kpi_id, fields in got.projects.items():
            if not fields:
                continue
            merged = project_info.setdefault(kpi_id, {})
            for key, value in fields.items():  # a later quarter's value replaces an earlier one
                if isinstance(value, dict):
                    merged.setdefault(key, {}).update(value)
                else:
                    merged[key] = value
        for rep in got.reports:
            reports.setdefault(rep.kpi, {})[rep.report_no] = rep
            project_info.setdefault(rep.kpi, {})
    projects = []
    for kpi_id, info in project_info.items():
        k = kpis[kpi_id]
        projects.append(
            Project(
                kpi=kpi_id,
                code=k.code,
                name_th=k.name_th,
                fiscal_year=fy,
                responsible=_person(info.pop("responsible", None)),
                coordinator=_person(info.pop("coordinator", None)),
                reports=tuple(v for _, v in sorted(reports.get(kpi_id, {}).items())),
                **info,
            )
        )
    latest = [people[q] for q in sorted(people)]

    def last(key: str) -> Any:
        return next((p[key] for p in reversed(latest) if p.get(key)), None)

    return UnitForms(
        unit=unit,
        fiscal_year=fy,
        quarter=quarter,
        files=tuple(files),
        entries=tuple(entries),
        projects=tuple(projects),
        reporter=_person(last("reporter")),
        head=_person(last("head")),
        reported_on=last("reported_on"),
        findings=tuple(findings),
    )


def check_forms_folder(
    data_dir: str | Path, fy: int, quarter: int, *, catalog: Catalog | None = None
) -> tuple[list[UnitForms], list[FormFinding]]:
    """Check every file of ``<data>/forms/<FY>/Q<q>/`` (``kpi forms --check``).

    Returns:
        The forms of each unit with a file there (this quarter only), and findings for files
        that name no known unit.
    """
    data = Path(data_dir)
    cat = catalog or load_catalog()
    known = {u.code for u in cat.units}
    folder = L.quarter_folder(data / L.FORMS_DIR, fy, quarter)
    if not folder.is_dir():
        return [], []
    units: set[str] = set()
    orphans: list[FormFinding] = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or _is_temp(p.name):
            continue
        token = _token(p.name)
        if token in known:
            units.add(token)  # type: ignore[arg-type]
        else:
            orphans.append(
                FormFinding(
                    check="unknown_unit",
                    severity="error",
                    file=_relative(p, data),
                    message="ชื่อแฟ้มไม่ได้ขึ้นต้นด้วยรหัสหน่วยงานที่รู้จัก (ต้องชื่อ <รหัสหน่วยงาน>.xlsx) "
                    "แฟ้มนี้จึงไม่ถูกนำมาใช้",
                )
            )
    out = [
        read_unit_forms(data, unit, fy, quarter, catalog=cat, first_quarter=quarter)
        for unit in sorted(units)
    ]
    return out, orphans
