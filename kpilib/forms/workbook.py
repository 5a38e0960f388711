"""Writing the form workbook of one unit and quarter (``kpi forms``).

The workbook has the sheets of :mod:`kpilib.forms.layout`: a cover (unit, period, reporter,
unit head), one row per KPI (computed figures pre-filled and locked, the people's columns
blank, with drop-down lists for the status flags and limits on scores and texts), the
evidence the KPIs require, and for a project KPI (seed 001) its facts and one row per month
of the quarter. Every visible sheet is protected with only the people's cells unlocked; a
very hidden sheet records each pre-filled cell's value, so an edit is detectable even after
someone removes the protection (there is no password: protection prevents accidents, the
record detects the rest).

openpyxl is imported when a workbook is written, not on import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from kpilib import __version__
from kpilib import calendar as cal
from kpilib.catalog import Catalog, Kpi, Unit
from kpilib.errors import ParameterError
from kpilib.forms import layout as L
from kpilib.forms.models import KpiEntry, MonthlyReport, Person, Project, UnitForms
from kpilib.fsio import atomic_write
from kpilib.numbers import round_half_up

_MODEL = ConfigDict(extra="forbid", frozen=True)

LOCKED_FILL = "E7E6E6"
WHO_FILL = {"kpilib": "D9D9D9", "unit": "DDEBF7", "spy": "FCE4D6"}


class TemplateRow(BaseModel):
    """One KPI row of a form: the KPI and its computed figures (``None``: not computed)."""

    model_config = _MODEL

    kpi: Kpi
    plan: float | None = None
    computed: float | None = None
    level: int | None = None
    points: float | None = None


class FormTemplate(BaseModel):
    """What a blank form of one unit and quarter holds before anyone fills it in."""

    model_config = _MODEL

    unit: Unit
    fiscal_year: int
    quarter: int
    rows: tuple[TemplateRow, ...]
    issued_at: dt.datetime

    @property
    def projects(self) -> tuple[Kpi, ...]:
        """The project KPIs (they get the project sheets)."""
        return tuple(r.kpi for r in self.rows if r.kpi.indicator_type == "project")


def applicable_kpis(catalog: Catalog, unit_code: str, fy: int) -> tuple[Kpi, ...]:
    """The KPIs a unit reports in a fiscal year: the year's plan, or (a year without a plan,
    e.g. the seeds' FY 2563) the catalogue's KPIs of that year the unit owns."""
    unit = catalog.unit(unit_code)
    if fy in catalog.plans:
        return catalog.kpis_for_unit(unit.code, fy)
    return tuple(
        k
        for k in catalog.kpis
        if k.fiscal_year == fy
        and (unit.code in k.owners or (not k.owners and k.owner_kind in (None, unit.kind)))
    )


def template_from_scorecard(
    scorecard: Any, *, issued_at: dt.datetime | None = None
) -> FormTemplate:
    """A form pre-filled with a scorecard's figures (plan, value as displayed, level, points).

    Args:
        scorecard: A :class:`~kpilib.document.Scorecard`.
        issued_at: When the form is issued (default: now, Bangkok time).
    """
    rows = tuple(
        TemplateRow(
            kpi=r.kpi,
            plan=r.plan_value,
            computed=round_half_up(r.value),
            level=r.level,
            points=round_half_up(r.points),
        )
        for r in scorecard.results
    )
    return FormTemplate(
        unit=scorecard.unit,
        fiscal_year=scorecard.fiscal_year,
        quarter=scorecard.quarter,
        rows=rows,
        issued_at=issued_at or _now(),
    )


def blank_template(
    catalog: Catalog,
    unit_code: str,
    fy: int,
    quarter: int,
    *,
    issued_at: dt.datetime | None = None,
) -> FormTemplate:
    """A form without computed figures (the KPIs of :func:`applicable_kpis`)."""
    fy = cal.require_be_year(fy)
    quarter = cal.require_quarter(quarter)
    return FormTemplate(
        unit=catalog.unit(unit_code),
        fiscal_year=fy,
        quarter=quarter,
        rows=tuple(TemplateRow(kpi=k) for k in applicable_kpis(catalog, unit_code, fy)),
        issued_at=issued_at or _now(),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(cal.BANGKOK).replace(microsecond=0)


# --------------------------------------------------------------------------- cell values


def typed_text(value: Any) -> Any:
    """A model value as a person types it into the form (dates as วว/ดด/ปปปป พ.ศ.)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return cal.format_thai_date(value)
    return value


def _flag_text(kind: str, value: bool | None) -> str | None:
    if value is None:
        return None
    return next(t for t, v in L.FLAG_VALUES[kind].items() if v is value)


def _get(obj: Any, key: str) -> Any:
    """``obj.key`` with dotted keys (``responsible.name``); ``None`` when absent."""
    for part in key.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj


def monthly_numbers(fy: int, quarter: int) -> list[tuple[int, int, int]]:
    """``(report number, CE year, month)`` of a quarter's months (October = report 1)."""
    months = cal.fiscal_months(fy)
    return [(months.index(m) + 1, m[0], m[1]) for m in cal.quarter_months(fy, quarter)]


# --------------------------------------------------------------------------- writer


class _Writer:
    """Lays one workbook out and keeps the record of pre-filled cells."""

    def __init__(self, template: FormTemplate, fill: UnitForms | None) -> None:
        from openpyxl import Workbook

        self.t = template
        self.fill = fill
        self.wb = Workbook()
        self.record: list[list[str]] = []

    # -- styles
    def _styles(self) -> dict[str, Any]:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="A6A6A6")
        return {
            "border": Border(left=thin, right=thin, top=thin, bottom=thin),
            "wrap": Alignment(wrap_text=True, vertical="top"),
            "bold": Font(bold=True),
            "title": Font(bold=True, size=13),
            "small": Font(size=9, italic=True, color="595959"),
            "locked": PatternFill("solid", fgColor=LOCKED_FILL),
            "who": {k: PatternFill("solid", fgColor=v) for k, v in WHO_FILL.items()},
        }

    def _put(self, ws: Any, row: int, col: int, value: Any, *, locked: bool, kind: str = "") -> Any:
        from openpyxl.styles import Protection

        st = self.styles
        cell = ws.cell(row=row, column=col, value=value)
        cell.border = st["border"]
        cell.alignment = st["wrap"]
        if kind in ("text", "long", "date", "key") and not locked:
            cell.number_format = "@"
        if locked:
            cell.fill = st["locked"]
            self.record.append([ws.title, cell.coordinate, L.cell_text(value)])
        else:
            cell.protection = Protection(locked=False)
        return cell

    def _protect(self, ws: Any) -> None:
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False

    def _validation(self, ws: Any, column: L.Column, ref: str, kpi_list: str | None) -> None:
        from openpyxl.worksheet.datavalidation import DataValidation

        k = column.kind
        if k in L.FLAG_VALUES:
            dv = DataValidation(type="list", formula1='"' + ",".join(L.FLAG_VALUES[k]) + '"')
        elif k in ("score", "pct"):
            dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100")
        elif k == "count":
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
        elif k == "money":
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        elif k == "number":
            dv = DataValidation(
                type="decimal", operator="between", formula1="-1E12", formula2="1E12"
            )
        elif k == "key" and kpi_list:
            dv = DataValidation(type="list", formula1=kpi_list)
        elif column.max_len:
            dv = DataValidation(
                type="textLength", operator="lessThanOrEqual", formula1=str(column.max_len)
            )
        else:
            return
        dv.allow_blank = True
        dv.showErrorMessage = True
        dv.errorTitle = column.header_th
        dv.error = f"{column.header_th}: {column.limit_th or 'ค่าไม่ถูกต้อง'}"
        dv.add(ref)
        ws.add_data_validation(dv)

    # -- sheets
    def _table(self, sheet: L.Sheet, rows: list[dict[str, Any]], *, extra_rows: int = 0) -> Any:
        """A table sheet. Each row maps keys to values; ``_open`` lists keys unlocked in it."""
        from openpyxl.utils import get_column_letter

        st = self.styles
        ws = self.wb.create_sheet(sheet.name)
        ws.cell(row=L.TITLE_ROW, column=1, value=sheet.title_th).font = st["title"]
        for j, col in enumerate(sheet.columns, start=1):
            who = ws.cell(row=L.WHO_ROW, column=j, value=L.WHO_TH[col.who])
            who.fill = st["who"][col.who]
            who.font = st["small"]
            head = self._put(ws, L.HEADER_ROW, j, col.header_th, locked=True)
            head.font = st["bold"]
            head.fill = st["who"][col.who]
            limit = ws.cell(row=L.LIMIT_ROW, column=j, value=col.limit_th or None)
            limit.font = st["small"]
            ws.column_dimensions[get_column_letter(j)].width = col.width
        last = L.FIRST_DATA_ROW + len(rows) + extra_rows - 1
        for i, values in enumerate(rows):
            r = L.FIRST_DATA_ROW + i
            opened = values.get("_open", ())
            for j, col in enumerate(sheet.columns, start=1):
                locked = col.locked and col.key not in opened
                self._put(ws, r, j, values.get(col.key), locked=locked, kind=col.kind)
        for r in range(L.FIRST_DATA_ROW + len(rows), last + 1):
            for j, col in enumerate(sheet.columns, start=1):
                self._put(ws, r, j, None, locked=col.locked and col.kind != "key", kind=col.kind)
        if last >= L.FIRST_DATA_ROW:
            n_kpis = max(len(self.t.rows), 1)
            kpi_list = f"'{L.KPIS.name}'!$A${L.FIRST_DATA_ROW}:$A${L.FIRST_DATA_ROW + n_kpis - 1}"
            open_keys = [i for i, v in enumerate(rows) if "kpi" in v.get("_open", ())]
            first_open_key = L.FIRST_DATA_ROW + (open_keys[0] if open_keys else len(rows))
            for j, col in enumerate(sheet.columns, start=1):
                if col.locked and col.kind != "key":
                    continue
                first = first_open_key if col.kind == "key" else L.FIRST_DATA_ROW
                if first <= last and not (col.kind == "key" and sheet is L.KPIS):
                    letter = get_column_letter(j)
                    self._validation(ws, col, f"{letter}{first}:{letter}{last}", kpi_list)
        ws.freeze_panes = ws.cell(row=L.FIRST_DATA_ROW, column=4)
        self._protect(ws)
        return ws

    def cover(self) -> None:
        st = self.styles
        ws = self.wb.active
        ws.title = L.COVER.name
        t = self.t
        ws.cell(row=1, column=1, value=L.COVER.title_th).font = st["title"]
        q0, q1 = cal.quarter_bounds(t.fiscal_year, t.quarter)
        values = {
            "unit_code": t.unit.code,
            "unit_name": t.unit.name_th,
            "fiscal_year": t.fiscal_year,
            "quarter": t.quarter,
            "period": f"{cal.format_thai_date(q0, style='short')} – "
            f"{cal.format_thai_date(q1, style='short')}",
            "issued_at": f"{cal.format_thai_date(t.issued_at.date(), style='short')} "
            f"{t.issued_at:%H:%M} น.",
        }
        if self.fill is not None:
            for who in ("reporter", "head"):
                for part in ("name", "position", "phone"):
                    values[f"{who}.{part}"] = _get(getattr(self.fill, who), part)
            values["reported_on"] = typed_text(self.fill.reported_on)
        for i, col in enumerate(L.COVER.columns):
            r = L.COVER_FIRST_ROW + i
            label = self._put(ws, r, 1, col.header_th, locked=True)
            label.font = st["bold"]
            label.fill = st["who"][col.who]
            self._put(ws, r, 2, values.get(col.key), locked=col.locked, kind=col.kind)
            if not col.locked and col.limit_th:
                ws.cell(row=r, column=3, value=col.limit_th).font = st["small"]
        r = L.COVER_FIRST_ROW + len(L.COVER.columns) + 1
        for line in L.INSTRUCTIONS_TH:
            ws.cell(row=r, column=1, value=line).font = st["small"]
            r += 1
        ws.column_dimensions["A"].width = 30
        ws.column_dimensions["B"].width = 60
        ws.column_dimensions["C"].width = 22
        self._protect(ws)

    def kpis(self) -> None:
        rows = []
        for tr in self.t.rows:
            k = tr.kpi
            values: dict[str, Any] = {
                "kpi": k.id,
                "kpi_code": k.code,
                "kpi_name": k.name_th,
                "quarter": self.t.quarter,
                "target": k.target.text_th,
                "plan": tr.plan,
                "computed": tr.computed,
                "unit_th": k.unit_th,
                "level": tr.level,
                "points": tr.points,
            }
            entry = self.fill.entry(k.id, self.t.quarter) if self.fill else None
            values.update(_people_values(L.KPIS, entry))
            rows.append(values)
        self._table(L.KPIS, rows)

    def evidence(self) -> None:
        rows: list[dict[str, Any]] = []
        extra: list[dict[str, Any]] = []
        for tr in self.t.rows:
            entry = self.fill.entry(tr.kpi.id, self.t.quarter) if self.fill else None
            given = list(entry.evidence) if entry else []
            for item in tr.kpi.evidence_th:
                ev = next((e for e in given if e.required_th == item), None)
                if ev is not None:
                    given.remove(ev)
                rows.append(
                    {"kpi": tr.kpi.id, "required_th": item, **_people_values(L.EVIDENCE, ev)}
                )
            for ev in given:
                extra.append(
                    {"kpi": tr.kpi.id, "_open": ("kpi",), **_people_values(L.EVIDENCE, ev)}
                )
        self._table(L.EVIDENCE, rows + extra, extra_rows=max(L.EVIDENCE_EXTRA_ROWS - len(extra), 2))

    def projects(self) -> None:
        if not self.t.projects:
            return
        rows = []
        monthly = []
        for k in self.t.projects:
            p = self.fill.project(k.id) if self.fill else None
            rows.append(
                {
                    "kpi": k.id,
                    "code": k.code,
                    "name_th": k.name_th,
                    "fiscal_year": self.t.fiscal_year,
                    **_people_values(L.PROJECTS, p),
                }
            )
            for no, year, month in monthly_numbers(self.t.fiscal_year, self.t.quarter):
                rep = p.report(no) if p else None
                monthly.append(
                    {
                        "kpi": k.id,
                        "report_no": no,
                        "month_th": cal.format_thai_month(year, month),
                        **_people_values(L.MONTHLY, rep),
                    }
                )
        self._table(L.PROJECTS, rows)
        self._table(L.MONTHLY, monthly)

    def meta(self) -> None:
        from openpyxl.workbook.protection import WorkbookProtection

        ws = self.wb.create_sheet(L.META_SHEET)
        record_json = json.dumps(self.record, ensure_ascii=False, separators=(",", ":"))
        values = {
            "format": L.FORMAT_NAME,
            "version": L.FORMAT_VERSION,
            "unit": self.t.unit.code,
            "fiscal_year": self.t.fiscal_year,
            "quarter": self.t.quarter,
            "issued_at": self.t.issued_at.isoformat(),
            "kpilib_version": __version__,
            "record_sha256": hashlib.sha256(record_json.encode("utf-8")).hexdigest(),
        }
        for i, key in enumerate(L.META_KEYS, start=1):
            ws.cell(row=i, column=1, value=key)
            ws.cell(row=i, column=2, value=values[key])
        for i, (sheet, cell, value) in enumerate(self.record, start=L.META_RECORD_ROW):
            ws.cell(row=i, column=1, value=sheet)
            ws.cell(row=i, column=2, value=cell)
            ws.cell(row=i, column=3, value=value)
        ws.sheet_state = "veryHidden"
        ws.protection.sheet = True
        self.wb.security = WorkbookProtection(lockStructure=True)

    def build(self) -> Any:
        self.styles = self._styles()
        self.cover()
        self.kpis()
        self.evidence()
        self.projects()
        self.meta()
        return self.wb


def _people_values(
    sheet: L.Sheet, obj: KpiEntry | Project | MonthlyReport | Person | Any | None
) -> dict[str, Any]:
    """The people's cells of a row, as a person would type them."""
    if obj is None:
        return {}
    out: dict[str, Any] = {}
    for col in sheet.columns:
        if col.locked:
            continue
        value = _get(obj, col.key)
        if col.kind in L.FLAG_VALUES:
            value = _flag_text(col.kind, value)
        out[col.key] = typed_text(value)
    return out


def write_workbook(
    template: FormTemplate,
    path: str | Path,
    *,
    fill: UnitForms | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the form workbook of one unit and quarter (atomically).

    Args:
        template: The unit, period, KPIs and computed figures.
        path: The ``.xlsx`` file to write.
        fill: People's entries to write into the people's cells (sample data, tests);
            ``None``: a blank form.
        overwrite: Replace an existing file (default: refuse, so a filled workbook is never
            overwritten by a blank one).

    Raises:
        ParameterError: The file exists and ``overwrite`` is False.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise ParameterError(f"{target} already exists; use --force to replace it")
    wb = _Writer(template, fill).build()
    return atomic_write(target, lambda p: wb.save(p))


class IssuedForm(BaseModel):
    """One unit's outcome of :func:`issue_forms`: the workbook written, or why not."""

    model_config = _MODEL

    unit: str
    path: Path | None = None
    error: str | None = None


def issue_forms(
    data_dir: str | Path,
    out_dir: str | Path,
    fy: int,
    quarter: int,
    *,
    units: tuple[str, ...] | None = None,
    overwrite: bool = False,
    catalog: Catalog | None = None,
) -> list[IssuedForm]:
    """Write the form workbook of each unit, pre-filled from the data (``kpi forms``).

    Written to ``<out>/<FY>/Q<q>/<unit>.xlsx``; a unit that fails (an existing file, a bad
    input) is reported in the result and does not stop the others.

    Args:
        data_dir: The data folder the figures are computed from.
        out_dir: The output folder.
        fy: Fiscal year (Buddhist Era).
        quarter: 1-4.
        units: Unit codes (default: every unit with KPIs in the fiscal year's plan).
        overwrite: Replace existing workbooks.
        catalog: The catalogue (default: :func:`~kpilib.catalog.load_catalog`).

    Raises:
        ParameterError / ConfigError: A bad fiscal year, quarter or unit (before any file
            is read).
    """
    from kpilib.catalog import load_catalog
    from kpilib.datasets import load_bundle
    from kpilib.errors import KpilibError
    from kpilib.scoring import unit_scorecard

    fy = cal.require_be_year(fy)
    quarter = cal.require_quarter(quarter)
    cat = catalog or load_catalog()
    codes = units or tuple(u.code for u in cat.units_with_kpis(fy))
    for code in codes:
        cat.unit(code)  # unknown unit: one clear error before any work
    if not codes:
        raise ParameterError(f"no unit has KPIs in the FY {fy} plan; give --unit")
    bundle = load_bundle(data_dir)
    issued_at = _now()
    folder = L.quarter_folder(Path(out_dir), fy, quarter)
    out = []
    for code in codes:
        target = folder / L.workbook_name(code)
        if target.exists() and not overwrite:
            out.append(
                IssuedForm(unit=code, error=f"{target} already exists; use --force to replace it")
            )
            continue
        try:
            sc = unit_scorecard(code, fy, quarter, bundle=bundle, catalog=cat)
            if sc.results:
                template = template_from_scorecard(sc, issued_at=issued_at)
            else:  # a year without a plan: the catalogue's KPIs of that year, no figures
                template = blank_template(cat, code, fy, quarter, issued_at=issued_at)
            path = write_workbook(template, target, overwrite=overwrite)
            out.append(IssuedForm(unit=code, path=path))
        except KpilibError as exc:
            out.append(IssuedForm(unit=code, error=exc.one_line()))
    return out
