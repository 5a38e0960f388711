"""The people's part of the forms: the workbook round trip, the seeds' entries, the checks.

Workbooks are written by ``kpilib.forms.workbook`` and then filled in the way a person does
(openpyxl sets cells found by their header text, typed as text: "28/10/2562", "100",
"เป็นไปตามแผน"); the reader must give back exactly what was typed, attributed to the right
unit, KPI and period, and name every problem by file, sheet and cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import openpyxl
import pytest

from kpilib import calendar as cal
from kpilib.catalog import load_catalog
from kpilib.forms import layout as L
from kpilib.forms.models import (
    Evidence,
    KpiEntry,
    MonthlyReport,
    Person,
    Project,
    UnitForms,
)
from kpilib.forms.reader import (
    check_forms_folder,
    read_unit_forms,
    unit_form_files,
    workbook_path,
)
from kpilib.forms.workbook import blank_template, write_workbook

CAT = load_catalog()
KPI_3_1 = "district_complaints_3_1"
BEST = "district_best_service"
PROJECT = "district_complaint_project_3453"
ISSUED = dt.datetime(2024, 1, 2, 9, 0, tzinfo=cal.BANGKOK)


# --------------------------------------------------------------------------- helpers


def _issue(data: Path, unit: str, fy: int, quarter: int) -> Path:
    """A blank form where the unit drops it back: <data>/forms/<FY>/Q<q>/<unit>.xlsx."""
    template = blank_template(CAT, unit, fy, quarter, issued_at=ISSUED)
    return write_workbook(template, workbook_path(data, unit, fy, quarter))


def _header(ws) -> tuple[int, dict[str, int]]:
    for r in range(1, 11):
        texts = {ws.cell(row=r, column=c).value: c for c in range(1, ws.max_column + 1)}
        if "รหัสตัวชี้วัดในระบบ" in texts:
            return r, texts
    raise AssertionError(f"no header in {ws.title}")


def _type(path: Path, sheet: L.Sheet, match: dict[str, object], values: dict[str, object]):
    """Type ``values`` (column key -> what a person types) into the row whose cells equal
    ``match`` (column key -> value), as a person editing the workbook in Excel would."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet.name]
    head, cols = _header(ws)
    col = {k: cols[sheet.column(k).header_th] for k in (*match, *values)}
    for r in range(head + 1, ws.max_row + 1):
        if all(ws.cell(row=r, column=col[k]).value == v for k, v in match.items()):
            for k, v in values.items():
                ws.cell(row=r, column=col[k], value=v)
            break
    else:
        raise AssertionError(f"no row {match} in {sheet.name}")
    wb.save(path)


def _cover(path: Path, values: dict[str, object]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[L.COVER.name]
    labels = {ws.cell(row=r, column=1).value: r for r in range(1, ws.max_row + 1)}
    for key, v in values.items():
        ws.cell(row=labels[L.COVER.column(key).header_th], column=2, value=v)
    wb.save(path)


def _num(value: float) -> str:
    """A number as a person types it into a text cell."""
    return f"{value:g}"


# --------------------------------------------------------------------------- the seeds


@pytest.mark.parametrize(
    ("section", "unit", "fy", "kpi"),
    [
        ("kpi_3_1_web_form_fy2563", "1032", 2563, KPI_3_1),  # seed 000
        ("best_service_web_form_5016_0685", "1015", 2560, BEST),  # seed 002
    ],
)
def test_the_web_forms_entries_come_back_from_filled_workbooks(
    golden, tmp_path, section, unit, fy, kpi
):
    g = golden[section]
    audit = g["audit_by_strategy_department"]
    narratives = g.get("narrative", {})
    for row in g["quarters"]:
        q = row["quarter"]
        path = _issue(tmp_path, unit, fy, q)
        typed = {
            "reported_result": _num(row["result"]),
            "self_assessment": _num(row["assessment_2_1"]),
            "assessment": _num(row["assessment_2_2"]),
        }
        if q in narratives:
            typed["narrative"] = narratives[q]
        if q == audit["quarter"]:
            typed["audit_score"] = _num(audit["score"])
        _type(path, L.KPIS, {"kpi": kpi}, typed)

    forms = read_unit_forms(tmp_path, unit, fy, 4, catalog=CAT)
    assert forms.findings == ()
    for row in g["quarters"]:
        e = forms.entry(kpi, row["quarter"])
        assert e is not None and e.unit == unit and e.fiscal_year == fy
        assert e.reported_result == row["result"]
        assert e.self_assessment == row["assessment_2_1"]
        assert e.assessment == row["assessment_2_2"]
        text = narratives.get(row["quarter"])
        assert e.narrative == (None if text in (None, "-") else text)  # "-": nothing reported
        expected_audit = audit["score"] if row["quarter"] == audit["quarter"] else None
        assert e.audit_score == expected_audit
    code = CAT.kpi(kpi).code
    assert forms.entry(code, 1) == forms.entry(kpi, 1)  # looked up by official code too


def test_the_projects_monthly_reports_come_back_with_the_declared_flags(golden, tmp_path):
    reports = golden["project_3453_progress_reports_fy2563"]["reports"]
    counts = {m["month"]: m for m in golden["monthly_complaints_prawet_fy2563"]}
    fy = 2563
    months = cal.fiscal_months(fy)
    for q in (1, 2):
        _issue(tmp_path, "1032", fy, q)
    for rep in reports:
        year, month = months[rep["report_no"] - 1]
        q = cal.quarter_of(dt.date(year, month, 1))
        c = counts[f"{year:04d}-{month:02d}"]
        typed = {
            "reported_on": cal.format_thai_date(rep["reported_on"]),
            "period_start": cal.format_thai_date(dt.date(year, month, 1)),
            "period_end": cal.format_thai_date(c["as_of"]),
            "received": _num(c["received"]),
            "finished": _num(c["finished"]),
            "in_progress": _num(c["in_progress"]),
            "progress_pct": _num(rep["progress_pct"]),
            "budget_spent": _num(rep["budget_spent_baht"]),
        }
        if "on_plan" in rep:
            typed["declared_on_plan"] = "เป็นไปตามแผน" if rep["on_plan"] else "ไม่เป็นไปตามแผน"
        if "on_target" in rep:
            typed["declared_on_target"] = (
                "เป็นไปตามเป้าหมาย" if rep["on_target"] else "ไม่เป็นไปตามเป้าหมาย"
            )
        path = workbook_path(tmp_path, "1032", fy, q)
        _type(path, L.MONTHLY, {"kpi": PROJECT, "report_no": rep["report_no"]}, typed)

    forms = read_unit_forms(tmp_path, "1032", fy, 2, catalog=CAT)
    assert forms.findings == ()
    project = forms.project(PROJECT)
    assert project is not None and project.code == "50340000-3453"
    assert [r.report_no for r in project.reports] == [r["report_no"] for r in reports]
    for rep in reports:
        got = project.report(rep["report_no"])
        c = counts[f"{got.year:04d}-{got.month:02d}"]
        assert got.reported_on == rep["reported_on"]
        assert got.progress_pct == rep["progress_pct"]
        assert got.budget_spent == rep["budget_spent_baht"]
        assert got.declared_on_plan == rep.get("on_plan")
        assert got.declared_on_target == rep.get("on_target")  # report 2 declares no target flag
        assert (got.received, got.finished, got.in_progress) == (
            c["received"],
            c["finished"],
            c["in_progress"],
        )
        assert got.period_end == c["as_of"]  # December's report stops on the 24th


# --------------------------------------------------------------------------- round trip

EVIL = "<script>alert(1)</script> & <b>ตัวหนา</b>"


def _fill(unit: str, fy: int, q: int) -> UnitForms:
    """Entries for every KPI of the unit, with line breaks, markup, zeros and blanks."""
    kpis = CAT.kpis_for_unit(unit, fy)
    entries = []
    for i, k in enumerate(kpis):
        entries.append(
            KpiEntry(
                unit=unit,
                kpi=k.id,
                kpi_code=k.code,
                fiscal_year=fy,
                quarter=q,
                reported_result=[None, 0.0, 30.0, 66.67][i % 4],
                narrative=f"ไตรมาสที่ {q}\n1. ดำเนินการแล้ว {EVIL}",
                factors=None if i % 2 else "ผู้บริหารให้ความสำคัญ",
                obstacles="-ไม่มี-",
                declared_on_plan=[True, False, None][i % 3],
                declared_on_target=[None, True, False][i % 3],
                self_assessment=[100.0, 0.0, 87.5][i % 3],
                assessment=None if i % 2 else 90.0,
                audit_score=0.0 if i == 0 else None,
                audit_comment="ครบถ้วน" if i == 0 else None,
                responsible=Person(
                    name="นางสาวทดสอบ ระบบ", position="นักวิเคราะห์", phone="0812345678"
                ),
                coordinator=Person(name="นายประสาน งาน", phone="1549") if i == 0 else Person(),
                evidence=(
                    *(
                        Evidence(
                            kpi=k.id,
                            required_th=item,
                            file_name=f"{k.id}_{j}.pdf",
                            submitted_on=dt.date(2024, 1, 5 + j),
                        )
                        for j, item in enumerate(k.evidence_th[:2])
                    ),
                    Evidence(kpi=k.id, file_name="เพิ่มเติม.pdf"),
                ),
            )
        )
    projects = ()
    if unit != "GOVSEC":
        k = CAT.kpi(PROJECT)
        projects = (
            Project(
                kpi=k.id, code=k.code, name_th=k.name_th, fiscal_year=fy,
                start=dt.date(2023, 10, 1), end=dt.date(2024, 9, 30), budget_received=0.0,
                budget_used=1250.5, responsible_unit="สำนักงานเขตประเวศ / ฝ่ายปกครอง",
                responsible=Person(name="นางสาววิมลมาศ สุทธการ", phone="6358"),
                coordinator=Person(name="นายสมประสงค์ ทามณีวรรณ", phone="1549"),
                reports=(
                    MonthlyReport(
                        kpi=k.id, report_no=1, year=2023, month=10,
                        reported_on=dt.date(2023, 10, 28), received=217, finished=131,
                        in_progress=86, progress_pct=60.37, budget_spent=0.0,
                        declared_on_plan=True, declared_on_target=True, text="อยู่ระหว่างขั้นตอน",
                    ),
                    MonthlyReport(kpi=k.id, report_no=3, year=2023, month=12, text="ธันวาคม"),
                ),
            ),
        )  # fmt: skip
    return UnitForms(
        unit=unit,
        fiscal_year=fy,
        quarter=q,
        entries=tuple(entries),
        projects=projects,
        reporter=Person(name="นางสาวผู้รายงาน ข้อมูล", position="นักวิเคราะห์นโยบายและแผน", phone="1234"),
        head=Person(name="นายหัวหน้า หน่วยงาน", position="ผู้อำนวยการเขตประเวศ"),
        reported_on=dt.date(2024, 1, 10),
    )


def _strip(model):
    """A model without ``source`` fields (where it was read) and "-ไม่มี-"-style blanks."""
    data = model.model_dump(exclude={"source": True, "evidence": {"__all__": {"source"}}})
    data.pop("reports", None)
    return data


@pytest.mark.parametrize("unit", ["1032", "GOVSEC"])
def test_what_is_written_into_a_workbook_is_read_back(tmp_path, unit):
    fill = _fill(unit, 2567, 1)
    path = write_workbook(
        blank_template(CAT, unit, 2567, 1, issued_at=ISSUED),
        workbook_path(tmp_path, unit, 2567, 1),
        fill=fill,
    )
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    got = read_unit_forms(tmp_path, unit, 2567, 1, catalog=CAT)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # never written
    assert got.findings == ()
    assert (got.reporter, got.head, got.reported_on) == (fill.reporter, fill.head, fill.reported_on)
    assert len(got.entries) == len(fill.entries)
    for want in fill.entries:
        e = got.entry(want.kpi)
        assert e is not None and e.source is not None and e.source.sheet == L.KPIS.name
        assert _strip(e) == _strip(want)
    for want in fill.projects:
        p = got.project(want.kpi)
        assert _strip(p) == _strip(want)
        assert [r.model_dump(exclude={"source"}) for r in p.reports] == [
            r.model_dump(exclude={"source"}) for r in want.reports
        ]


def test_a_blank_form_reports_nothing_and_a_missing_one_is_not_reported(tmp_path):
    _issue(tmp_path, "1032", 2567, 1)
    blank = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    assert blank.reported and blank.entries == () and blank.projects == () and blank.findings == ()
    assert blank.reporter.is_blank and blank.entry(KPI_3_1) is None
    missing = read_unit_forms(tmp_path, "1033", 2567, 1, catalog=CAT)
    assert not missing.reported and missing.files == () and missing.entry(KPI_3_1) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("28/10/2566", dt.date(2023, 10, 28)),
        ("๒๘/๑๐/๒๕๖๖", dt.date(2023, 10, 28)),
        ("28 ต.ค. 2566", dt.date(2023, 10, 28)),
        (dt.datetime(2023, 10, 28), dt.date(2023, 10, 28)),  # an Excel date
        (dt.datetime(2566, 10, 28), dt.date(2023, 10, 28)),  # BE typed into a date cell
        ("-", None),
    ],
)
def test_dates_are_read_as_people_type_them(tmp_path, typed, expected):
    path = _issue(tmp_path, "1032", 2567, 1)
    _cover(path, {"reported_on": typed})
    forms = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    assert forms.findings == ()
    assert forms.reported_on == expected


# --------------------------------------------------------------------------- the workbook


def test_the_workbook_locks_computed_cells_and_offers_drop_downs(tmp_path):
    path = _issue(tmp_path, "1032", 2567, 1)
    wb = openpyxl.load_workbook(path)
    assert wb[L.META_SHEET].sheet_state == "veryHidden"
    assert wb.security.lockStructure
    ws = wb[L.KPIS.name]
    assert ws.protection.sheet
    head, cols = _header(ws)
    first = head + 2  # the limits row sits under the header
    for col in L.KPIS.columns:
        cell = ws.cell(row=first, column=cols[col.header_th])
        assert cell.protection.locked is col.locked, col.key
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    plan_col = openpyxl.utils.get_column_letter(cols[L.KPIS.column("declared_on_plan").header_th])
    plan_list = next(f for ref, f in lists.items() if ref.startswith(plan_col))
    assert "เป็นไปตามแผน" in plan_list and "ไม่เป็นไปตามแผน" in plan_list
    scores = [dv for dv in ws.data_validations.dataValidation if dv.type == "decimal"]
    assert any(dv.formula1 == "0" and dv.formula2 == "100" for dv in scores)
    assert [ws.cell(row=r, column=1).value for r in range(first, first + 4)] == [
        k.id for k in CAT.kpis_for_unit("1032", 2567)
    ]
    monthly = wb[L.MONTHLY.name]
    _, mcols = _header(monthly)
    nos = [monthly.cell(row=r, column=mcols["รายงานครั้งที่"]).value for r in range(first, first + 3)]
    assert nos == [1, 2, 3]  # Q1 = October, November, December


# --------------------------------------------------------------------------- the checks


def _spoil_kpi(path: Path, key: str, value: object) -> str:
    """Type ``value`` into the first KPI row's ``key`` column; return the cell."""
    wb = openpyxl.load_workbook(path)
    ws = wb[L.KPIS.name]
    head, cols = _header(ws)
    cell = ws.cell(row=head + 2, column=cols[L.KPIS.column(key).header_th])
    cell.value = value
    wb.save(path)
    return cell.coordinate


def _drop_record(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    del wb[L.META_SHEET]
    wb.save(path)


CASES = {
    "score_above_100": ("self_assessment", "120", "out_of_range", "error"),
    "negative_assessment": ("assessment", -1, "out_of_range", "error"),
    "audit_not_a_number": ("audit_score", "ดีมาก", "bad_value", "error"),
    "flag_not_in_list": ("declared_on_plan", "น่าจะตามแผน", "bad_value", "error"),
    "narrative_too_long": ("narrative", "ก" * (L.LONG_TEXT + 5), "too_long", "warning"),
    "name_too_long": ("responsible.name", "ช" * (L.NAME_TEXT + 1), "too_long", "warning"),
    "computed_figure_edited": ("computed", 100, "locked_edited", "error"),
    "target_edited": ("target", "ร้อยละ 1", "locked_edited", "error"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_cell_is_a_finding_naming_file_sheet_and_cell(tmp_path, case):
    key, value, check, severity = CASES[case]
    path = _issue(tmp_path, "1032", 2567, 1)
    _type(path, L.KPIS, {"kpi": KPI_3_1}, {"narrative": "รายงานผล", "factors": "ปัจจัย"})
    cell = _spoil_kpi(path, key, value)
    before = path.read_bytes()
    forms = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    assert path.read_bytes() == before
    [f] = forms.findings
    assert (f.check, f.severity, f.file, f.sheet, f.cell) == (
        check,
        severity,
        "forms/2567/Q1/1032.xlsx",
        L.KPIS.name,
        cell,
    )
    e = forms.entry(KPI_3_1)
    assert e is not None and e.factors == "ปัจจัย"  # the rest of the row is kept
    if L.KPIS.column(key).locked:
        return  # the report shows computed figures from the data, never the edited cell
    field = key.split(".")
    got = getattr(e, field[0]) if len(field) == 1 else getattr(getattr(e, field[0]), field[1])
    if severity == "error":
        assert got is None  # a bad value is not used ...
    else:
        limit = L.KPIS.column(key).max_len
        assert len(got) == limit and got.endswith("…")  # ... a long text is cut, and said so


def test_without_the_hidden_record_rows_are_checked_by_their_content(tmp_path):
    path = _issue(tmp_path, "1032", 2567, 1)
    _type(path, L.KPIS, {"kpi": KPI_3_1}, {"narrative": "x"})
    _type(path, L.KPIS, {"kpi": BEST}, {"kpi": "no_such_kpi", "narrative": "y"})
    _type(path, L.KPIS, {"kpi": PROJECT}, {"kpi": "govsec_key_projects", "narrative": "z"})
    _type(path, L.KPIS, {"kpi": "district_traffy_joint"}, {"quarter": 2, "narrative": "w"})
    _type(path, L.MONTHLY, {"report_no": 2}, {"report_no": 7, "text": "เดือนเมษายน"})
    _drop_record(path)
    forms = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    checks = sorted((f.check, f.sheet or "") for f in forms.findings)
    assert checks == sorted(
        [
            ("record_changed", ""),  # a warning: edits of locked cells cannot be checked
            ("unknown_kpi", L.KPIS.name),  # not in the catalogue
            ("unknown_kpi", L.KPIS.name),  # not the unit's
            ("wrong_period", L.KPIS.name),  # a Q2 row in a Q1 workbook
            ("wrong_period", L.MONTHLY.name),  # report 7 (April) is not in Q1
        ]
    )
    assert [e.kpi for e in forms.entries] == [KPI_3_1]


def test_with_the_record_an_edited_kpi_id_keeps_the_row_on_its_kpi(tmp_path):
    path = _issue(tmp_path, "1032", 2567, 1)
    _type(path, L.KPIS, {"kpi": BEST}, {"kpi": KPI_3_1, "narrative": "Best Service"})
    forms = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    assert [f.check for f in forms.findings] == ["locked_edited"]
    assert forms.entry(BEST).narrative == "Best Service" and forms.entry(KPI_3_1) is None


def test_an_altered_record_is_reported(tmp_path):
    path = _issue(tmp_path, "1032", 2567, 1)
    wb = openpyxl.load_workbook(path)
    ws = wb[L.META_SHEET]
    ws.cell(row=L.META_RECORD_ROW, column=3, value="แก้แล้ว")
    wb.save(path)
    forms = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    assert [(f.check, f.sheet) for f in forms.findings] == [("record_changed", L.META_SHEET)]


@pytest.mark.parametrize(
    ("setup", "check"),
    [
        ("other_units_workbook", "wrong_unit"),
        ("other_quarters_workbook", "wrong_period"),
        ("other_years_workbook", "wrong_period"),
        ("unknown_unit", "unknown_unit"),
        ("not_a_workbook", "unreadable"),
        ("a_word_file", "unreadable"),
        ("no_kpi_sheet", "not_a_form"),
    ],
)
def test_a_workbook_that_cannot_be_used_is_refused_and_the_others_are_read(tmp_path, setup, check):
    good = _issue(tmp_path, "1001", 2567, 1)
    _type(good, L.KPIS, {"kpi": KPI_3_1}, {"narrative": "พระนคร"})
    target = workbook_path(tmp_path, "1032", 2567, 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    if setup == "other_units_workbook":
        shutil.copyfile(good, target)
    elif setup == "other_quarters_workbook":
        shutil.copyfile(_issue(tmp_path / "q2", "1032", 2567, 2), target)
    elif setup == "other_years_workbook":
        shutil.copyfile(_issue(tmp_path / "y", "1032", 2566, 1), target)
    elif setup == "unknown_unit":
        _issue(tmp_path, "1032", 2567, 1)
        _drop_record(target)
        _cover(target, {"unit_code": "9999"})
    elif setup == "not_a_workbook":
        target.write_bytes(b"PK\x03\x04 not really a zip")
    elif setup == "a_word_file":
        target.write_text("รายงานผล", encoding="utf-8")
    elif setup == "no_kpi_sheet":
        _issue(tmp_path, "1032", 2567, 1)
        wb = openpyxl.load_workbook(target)
        wb.security.lockStructure = False
        del wb[L.KPIS.name]
        wb.save(target)
    forms = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    assert check in [f.check for f in forms.findings]
    assert all(f.file == "forms/2567/Q1/1032.xlsx" for f in forms.findings)
    assert forms.entries == () and [f.read for f in forms.files] == [False]
    checked, orphans = check_forms_folder(tmp_path, 2567, 1, catalog=CAT)
    by_unit = {f.unit: f for f in checked}
    assert by_unit["1001"].entry(KPI_3_1).narrative == "พระนคร"  # one bad file stops nothing
    assert by_unit["1001"].findings == () and orphans == []


def test_other_files_naming_the_unit_are_reported_and_unknown_names_listed(tmp_path):
    path = _issue(tmp_path, "1032", 2567, 1)
    shutil.copyfile(path, path.with_name("1032 (1).xlsx"))
    path.with_name("1032.xls").write_bytes(b"old excel")
    path.with_name("~$1032.xlsx").write_bytes(b"excel lock file")
    path.with_name("prawet.xlsx").write_bytes(b"?")
    forms = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    assert sorted(f.file for f in forms.findings if f.check == "extra_file") == [
        "forms/2567/Q1/1032 (1).xlsx",
        "forms/2567/Q1/1032.xls",
    ]
    _, orphans = check_forms_folder(tmp_path, 2567, 1, catalog=CAT)
    assert [(f.check, f.file) for f in orphans] == [("unknown_unit", "forms/2567/Q1/prawet.xlsx")]


def test_evidence_is_hashed_when_the_document_is_in_the_data_folder(tmp_path):
    path = _issue(tmp_path, "1032", 2567, 1)
    required = CAT.kpi(KPI_3_1).evidence_th[0]
    _type(
        path,
        L.EVIDENCE,
        {"kpi": KPI_3_1, "required_th": required},
        {"file_name": "สรุปเรื่องร้องเรียน ต.ค.pdf", "submitted_on": "5/1/2567"},
    )
    _type(path, L.EVIDENCE, {"kpi": BEST}, {"file_name": "../../etc/passwd"})
    folder = L.evidence_folder(tmp_path, 2567, 1, "1032")
    folder.mkdir(parents=True)
    (folder / "สรุปเรื่องร้องเรียน ต.ค.pdf").write_bytes(b"%PDF-1.4 evidence")
    forms = read_unit_forms(tmp_path, "1032", 2567, 1, catalog=CAT)
    [ev] = forms.entry(KPI_3_1).evidence
    assert ev.required_th == required and ev.submitted_on == dt.date(2024, 1, 5)
    assert ev.sha256 == hashlib.sha256(b"%PDF-1.4 evidence").hexdigest()
    [bad] = forms.entry(BEST).evidence
    assert bad.sha256 is None
    assert [f.check for f in forms.findings] == ["evidence_name"]
    listed = {
        p.relative_to(tmp_path).as_posix() for p in unit_form_files(tmp_path, "1032", 2567, 1)
    }
    assert listed == {
        "forms/2567/Q1/1032.xlsx",
        "forms/2567/Q1/evidence/1032/สรุปเรื่องร้องเรียน ต.ค.pdf",
    }
    assert {f.path for f in forms.files} == listed
