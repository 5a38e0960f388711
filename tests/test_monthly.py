"""The monthly progress report (seed 001's project progress form, filed monthly).

A data folder for FY 2563 is made from the golden file: Prawet's tickets reproducing seed
001's monthly counts (``conftest.golden_tickets``, with distractors), the unit's declared
monthly reports (report dates, progress, flags) in its filled quarterly workbooks, and a
plan assigning the project KPI to Prawet in FY 2563 (``KPILIB_PARAMS``). Every expected
number is read from ``shared/golden/seed_figures.yaml``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, golden_tickets

from kpilib import calendar as cal
from kpilib.assemble import build_document, check_parameters
from kpilib.batch.outputs import month_summary
from kpilib.catalog import load_catalog
from kpilib.cli import main
from kpilib.errors import CalendarError, ParameterError
from kpilib.forms.models import MonthlyReport, Person, Project, UnitForms
from kpilib.forms.reader import workbook_path
from kpilib.forms.view import monthly_context
from kpilib.forms.workbook import blank_template, write_workbook
from kpilib.numbers import round_half_up
from kpilib.validation.findings import ValidationReport

PROJECT = "district_complaint_project_3453"
UNIT = "1032"
FY = 2563
CITIZEN_TEXT = '<script>alert("x")</script> อยู่ระหว่างขั้นตอน & ติดตาม'

PLAN = """fiscal_year: 2563
note: Seed 001 (project 50340000-3453, Prawet, FY 2563), for the monthly report tests
assignments:
  - units: ["1032"]
    total_weight: 0
    kpis: [district_complaint_project_3453]
"""


def _declared(golden: dict) -> tuple[MonthlyReport, ...]:
    """Seed 001's monthly reports as the unit declared them (golden file)."""
    reports = golden["project_3453_progress_reports_fy2563"]["reports"]
    rows = golden["monthly_complaints_prawet_fy2563"]
    out = []
    for rep, row in zip(reports, rows, strict=True):
        y, m = (int(x) for x in str(row["month"]).split("-"))
        out.append(
            MonthlyReport(
                kpi=PROJECT,
                report_no=rep["report_no"],
                year=y,
                month=m,
                reported_on=rep["reported_on"],
                period_start=dt.date(y, m, 1),
                period_end=rep["reported_on"],
                received=row["received"],
                finished=row["finished"],
                in_progress=row["in_progress"],
                progress_pct=rep["progress_pct"],
                budget_spent=rep["budget_spent_baht"],
                declared_on_plan=rep.get("on_plan"),
                declared_on_target=rep.get("on_target"),
                text=CITIZEN_TEXT,
            )
        )
    return tuple(out)


@pytest.fixture(scope="module")
def seed001(tmp_path_factory, golden):
    """The FY 2563 data folder, its validation results and the plan (env for the module)."""
    root = tmp_path_factory.mktemp("seed001")
    params = root / "params"
    shutil.copytree(ROOT / "params", params)
    (params / "plans" / "fy2563.yaml").write_text(PLAN, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPILIB_PARAMS", str(params))
        cat = load_catalog()
        data = root / "data"
        (data / "processed").mkdir(parents=True)
        rows = golden["monthly_complaints_prawet_fy2563"]
        golden_tickets(rows).to_parquet(data / "processed" / "tickets.parquet")
        reports = _declared(golden)
        start, end = cal.fiscal_year_bounds(FY)
        project = Project(
            kpi=PROJECT,
            code="50340000-3453",
            name_th=cat.kpi(PROJECT).name_th,
            fiscal_year=FY,
            start=start,
            end=end,
            budget_received=0,
            budget_used=0,
            responsible_unit="สำนักงานเขตประเวศ / ฝ่ายปกครอง",
            responsible=Person(name="ผู้รับผิดชอบ <b>ทดสอบ</b>", phone="6358"),
            reports=reports,
        )
        for q in sorted({cal.quarter_of(dt.date(r.year, r.month, 1)) for r in reports}):
            fill = UnitForms(unit=UNIT, fiscal_year=FY, quarter=q, projects=(project,))
            write_workbook(
                blank_template(cat, UNIT, FY, q),
                workbook_path(data, UNIT, FY, q),
                fill=fill,
            )
        vjson = root / "validation.json"
        report = ValidationReport(fy=FY, data_dir="data", created_at="2020-02-01T00:00:00")
        vjson.write_text(report.model_dump_json(), encoding="utf-8")
        yield {"root": root, "data": data, "vjson": vjson, "params": params}


def _monthly(seed001: dict, month: int | str):
    params = check_parameters(
        unit=UNIT,
        fy=FY,
        quarter="",
        month=month,
        data_dir=seed001["data"],
        validation_json=seed001["vjson"],
    )
    return build_document(params)


@pytest.fixture
def env(seed001, monkeypatch):
    monkeypatch.setenv("KPILIB_PARAMS", str(seed001["params"]))
    return seed001


# --------------------------------------------------------------------------- the month


@pytest.mark.parametrize(
    ("text", "month"),
    [("10", 10), ("๑๐", 10), ("ต.ค.", 10), ("ตค", 10), ("ตุลาคม", 10), ("1", 1), ("ก.ย.", 9)],
)
def test_a_month_is_a_calendar_month_or_a_thai_month_name(text, month):
    assert cal.require_month(text) == month


@pytest.mark.parametrize("text", ["0", "13", "Oct", "", "2019-10", "ต.ค.2562"])
def test_anything_else_is_refused(text):
    with pytest.raises(CalendarError):
        cal.require_month(text)


def test_the_calendar_month_falls_in_its_fiscal_years_calendar_year():
    assert cal.fiscal_month(2563, 10) == (2019, 10)
    assert cal.fiscal_month(2563, 1) == (2020, 1)
    assert cal.fiscal_month_number(10) == 1 and cal.fiscal_month_number(9) == 12
    assert cal.month_bounds(2563, 2) == (dt.date(2020, 2, 1), dt.date(2020, 2, 29))


# --------------------------------------------------------------------------- golden


def test_monthly_reports_reproduce_seed_001(env, golden):
    """Each month of seed 001 through the public API: the month's report and the history up
    to it, computed as of the unit's report dates, beside what the unit declared."""
    rows = golden["monthly_complaints_prawet_fy2563"]
    declared = golden["project_3453_progress_reports_fy2563"]["reports"]
    target = golden["project_3453_progress_reports_fy2563"]["target_pct"]
    for no, (row, rep) in enumerate(zip(rows, declared, strict=True), start=1):
        y, m = (int(x) for x in str(row["month"]).split("-"))
        doc = _monthly(env, cal.MONTHS_SHORT[m - 1])  # the Thai month name
        assert (doc.period.month, doc.period.report_no, doc.period.fiscal_year) == (m, no, FY)
        assert doc.period.end == cal.last_day_of_month(y, m) == doc.period.as_of
        (progress,) = doc.projects
        assert [f.report_no for f in progress.months] == list(range(1, no + 1))
        pairs = list(zip(rows, declared, strict=True))[:no]
        for earlier, (erow, erep) in zip(progress.months, pairs, strict=True):
            assert earlier.as_of == dt.date.fromisoformat(str(erow["as_of"]))
            assert earlier.as_of == erep["reported_on"]
            assert (earlier.received, earlier.finished, earlier.in_progress) == (
                erow["received"],
                erow["finished"],
                erow["in_progress"],
            )
            assert round_half_up(earlier.finished_pct) == erow["finished_pct"]
            assert round_half_up(earlier.in_progress_pct) == erow["in_progress_pct"]
        # what the unit declared for the month is in the document, as declared
        filed = doc.forms.project(PROJECT).report(no)
        assert filed.progress_pct == rep["progress_pct"]
        assert filed.budget_spent == rep["budget_spent_baht"]
        assert doc.forms.project(PROJECT).report(no + 1) is None  # no later month
        # the view: counts match; a declared "on target" the figures contradict is marked
        ctx = monthly_context(doc)
        (block,) = ctx["projects"]
        assert block["current"]["mismatch"] == []
        contradicted = [f for f in block["current"]["flags"] if f["css"] == "bad"]
        on_target = rep.get("on_target")
        should_contradict = on_target is not None and on_target != (row["finished_pct"] >= target)
        assert bool(contradicted) == should_contradict
        assert block["mismatches"] == len(contradicted)
        # the month's index says the same
        line = month_summary(doc)
        assert line.reported and line.mismatches == block["mismatches"]
        assert line.declared_pct == rep["progress_pct"]
        assert round_half_up(line.computed_pct) == row["finished_pct"]


def test_the_months_complaint_figures_are_as_of_its_end(env, golden):
    """The month's complaints to its last day and their state on that day, whatever the
    unit's report date: counted here from the tickets table directly."""
    rows = golden["monthly_complaints_prawet_fy2563"]
    tickets = golden_tickets(rows)
    tickets = tickets.loc[tickets["unit_code"] == UNIT]
    created = tickets["created_at"].dt.date
    done = tickets["finished_at"].dt.date
    for row in rows:
        y, m = (int(x) for x in str(row["month"]).split("-"))
        first, last = dt.date(y, m, 1), cal.last_day_of_month(y, m)
        doc = _monthly(env, m)
        fig = doc.month_figures
        assert fig.as_of == last
        in_month = (created >= first) & (created <= last)
        finished = in_month & done.notna() & (done <= last)
        assert (fig.received, fig.finished) == (int(in_month.sum()), int(finished.sum()))
        assert fig.finished + fig.in_progress == fig.received
        assert fig.received > row["received"]  # more than to the report date


def test_a_unit_without_a_project_kpi_has_no_monthly_report(env):
    params = check_parameters(
        unit="1031", fy=FY, quarter="", month=10, data_dir=env["data"], validation_json=env["vjson"]
    )
    with pytest.raises(ParameterError, match="no project KPI"):
        build_document(params)


def test_as_of_must_lie_in_the_month(env):
    with pytest.raises(ParameterError, match="outside FY 2563 month 11"):
        check_parameters(unit=UNIT, fy=FY, quarter="", month=11, as_of="2019-12-01")


# --------------------------------------------------------------------------- rendered


def test_monthly_html_in_thai_with_buddhist_era_dates_and_escaped_text(env, golden):
    from kpilib import report as blocks

    doc = _monthly(env, "ม.ค.")
    html = blocks.header_html(doc) + blocks.monthly_html(doc) + blocks.validation_html(doc)
    assert "รายงานความก้าวหน้าโครงการประจำเดือน" in html
    assert "ประจำเดือน มกราคม 2563" in html  # January 2020 = 2563 BE
    first = golden["project_3453_progress_reports_fy2563"]["reports"][0]["reported_on"]
    assert cal.format_thai_date(first, style="short") in html  # 28 ต.ค. 2562
    assert "ขัดกับตัวเลข" in html  # a declared flag the figures contradict
    assert "ข้อมูลจากระบบ" in html
    assert "3. ผลการตรวจสอบคุณภาพข้อมูล" in html  # numbered after the two monthly sections
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>ทดสอบ</b>" not in html and "&lt;b&gt;ทดสอบ&lt;/b&gt;" in html
    assert blocks.monthly_html(doc.model_copy(update={"period": _quarterly(doc)})) == ""


def _quarterly(doc):
    return doc.period.model_copy(update={"month": None})


def test_the_report_json_round_trips_with_the_month(env):
    from kpilib.document import read_report_json

    doc = _monthly(env, 12)
    again = read_report_json(doc.model_dump_json())
    assert again.period.month == 12 and again.period.report_no == 3
    assert again.month_figures == doc.month_figures


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--month", "13"], "invalid --month '13'"),
        (["--month", "October"], "invalid --month"),
        (["--month", "ต.ค.", "--quarter", "1"], "cannot be used together"),
        ([], "give --quarter 1-4 or --month"),
    ],
)
def test_kpi_report_refuses_a_bad_month_in_one_line(args, words, capsys, tmp_path):
    code = main(["report", "--unit", UNIT, "--fy", "2567", "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing ran, nothing written


def test_kpi_run_refuses_a_unit_without_a_project_kpi(capsys, tmp_path):
    args = ["--month", "10", "--unit", "GOVSEC", "--data", str(tmp_path), "--out", str(tmp_path)]
    code = main(["run", "--fy", "2567", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no project KPI for unit GOVSEC" in err


def test_monthly_output_names_differ_from_the_quarterly_ones(tmp_path):
    from kpilib.batch import plan_run
    from kpilib.render import pdf_name

    data = tmp_path / "data"
    data.mkdir()
    monthly = plan_run(fy=2567, month="พ.ย.", units=[UNIT], data=data, out=tmp_path / "out")
    quarterly = plan_run(fy=2567, quarter=1, units=[UNIT], data=data, out=tmp_path / "out")
    assert monthly.quarters == (1,) and monthly.month == 11
    assert monthly.unit_dir(1, UNIT) == tmp_path / "out" / "2567" / "M11" / UNIT
    assert quarterly.unit_dir(1, UNIT) == tmp_path / "out" / "2567" / "Q1" / UNIT
    assert pdf_name(2567, 1, UNIT, month=11) == "2567_M11_1032.pdf" != pdf_name(2567, 1, UNIT)
    everyone = plan_run(fy=2567, month=10, data=data, out=tmp_path / "out")
    cat = load_catalog()
    assert everyone.units and all(
        any(k.indicator_type == "project" for k in cat.kpis_for_unit(u.code, 2567))
        for u in everyone.units
    )
    assert "GOVSEC" not in {u.code for u in everyone.units}


def test_the_notebook_declares_the_month_parameter():
    text = (Path(ROOT) / "notebooks" / "report.py").read_text(encoding="utf-8")
    assert 'month: str = ""' in text


def test_the_months_index_page_and_summary(tmp_path):
    from kpilib.batch import plan_run
    from kpilib.batch.outputs import (
        IndexRow,
        MonthSummary,
        SummaryRow,
        render_month_index,
        summary_table,
    )

    data = tmp_path / "data"
    data.mkdir()
    plan = plan_run(fy=2567, month="ต.ค.", units=[UNIT], data=data, out=tmp_path / "out")
    (plan.month_dir(11)).mkdir(parents=True)
    (plan.month_dir(11) / "index.html").write_text("", encoding="utf-8")  # November rendered
    line = MonthSummary(
        received=7, finished=4, in_progress=3, finished_pct=57.14, reported=True, mismatches=2
    )
    rows = [
        IndexRow(
            code=UNIT,
            name_th="เขต<b>ประเวศ</b>",
            quarter=1,
            status="ok",
            error=None,
            validation="ผ่าน",
            links={"html": f"{UNIT}/report.html"},
            summary=SummaryRow(None, None, None, (), True, month=line),
        ),
        IndexRow("1031", "เขตบางคอแหลม", 1, "failed", "<script>x</script>", "ผ่าน", {}),
    ]
    html = render_month_index(plan, rows)
    assert "ประจำเดือนตุลาคม 2566" in html  # October of FY 2567 is October 2566 BE
    assert "<b>ประเวศ</b>" not in html and "&lt;b&gt;" in html
    assert "<script>x" not in html
    assert "ไม่ตรง 2 รายการ" in html and 'href="../M11/index.html"' in html
    assert "ทุกไตรมาสของปีงบประมาณ" not in html  # no fiscal-year index written yet
    table = summary_table(rows, monthly=True)
    assert table[0][2:4] == ["เรื่องที่ได้รับ", "ดำเนินการเสร็จสิ้น"]
    assert table[1][2:6] == [7, 4, 3, 57.14] and table[2][2] is None
