"""The report's forms and sign-off blocks: escaped free text, blanks as "ยังไม่รายงาน",
declared flags the figures contradict marked, what changed since a sign-off."""

from __future__ import annotations

import datetime as dt

import markupsafe
import pandas as pd
import pytest

from kpilib import report
from kpilib.catalog import load_catalog
from kpilib.document import Period, Provenance, ReportDocument, ValidationSummary
from kpilib.forms.models import (
    Evidence,
    FormFinding,
    KpiEntry,
    MonthlyReport,
    Person,
    Project,
    UnitForms,
)
from kpilib.scoring import unit_scorecard
from kpilib.signoff import SignoffState, build_fingerprint, compare, signoff_state

CAT = load_catalog()
EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><a href="javascript:x">']
COUNCIL = "govsec_council_resolutions"


class _Bundle:
    def __init__(self, **tables: pd.DataFrame) -> None:
        self._tables = tables

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str) -> pd.DataFrame:
        return self._tables[name]


def _scorecard(unit: str = "GOVSEC", reported: int = 9):
    council = pd.DataFrame(
        {
            "resolution_id": [f"r{i}" for i in range(10)],
            "unit_code": ["GOVSEC"] * 10,
            "resolved_on": pd.to_datetime(["2023-10-02"] * 10),
            "reported_on": pd.to_datetime(["2023-10-05"] * reported + [None] * (10 - reported)),
        }
    )
    return unit_scorecard(
        unit, 2567, 1, bundle=_Bundle(council_resolutions=council), catalog=CAT,
        blocked_tables=frozenset(),
    )  # fmt: skip


def _doc(forms: UnitForms | None, signoff: SignoffState | None = None, *, unit="GOVSEC"):
    return ReportDocument(
        period=Period(
            fiscal_year=2567,
            quarter=1,
            start=dt.date(2023, 10, 1),
            end=dt.date(2023, 12, 31),
            as_of=dt.date(2023, 12, 31),
        ),
        scorecard=_scorecard(unit),
        validation=ValidationSummary(validated=True),
        provenance=Provenance(kpilib_version="0", generated_at=dt.datetime(2024, 1, 5, 9, 0)),
        forms=forms,
        signoff=signoff,
    )


def _entry(kpi: str = COUNCIL, **fields) -> KpiEntry:
    return KpiEntry(unit="GOVSEC", kpi=kpi, fiscal_year=2567, quarter=1, **fields)


@pytest.mark.parametrize("text", EVIL)
def test_free_text_is_escaped_everywhere(text):
    forms = UnitForms(
        unit="GOVSEC",
        fiscal_year=2567,
        quarter=1,
        entries=(
            _entry(
                narrative=text, factors=text, obstacles=text, suggestions=text,
                audit_comment=text, responsible=Person(name=text, position=text, phone=text),
                evidence=(Evidence(kpi=COUNCIL, file_name=text),),
            ),
        ),
        reporter=Person(name=text, position=text),
        head=Person(name=text, position=text),
        findings=(
            FormFinding(check="bad_value", severity="error", file=text, sheet=text, message=text),
        ),
    )  # fmt: skip
    html = report.forms_html(_doc(forms)) + report.signoff_html(_doc(forms))
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert html.count(str(markupsafe.escape(text))) >= 10  # shown, as text


def test_blank_entries_show_not_reported_never_zero():
    forms = UnitForms(unit="GOVSEC", fiscal_year=2567, quarter=1)
    doc = _doc(forms)
    html = report.forms_html(doc)
    assert "ไม่พบแบบรายงานที่กรอกแล้ว" in html
    for r in doc.scorecard.results:
        assert r.kpi.name_th in html
    assert html.count("ยังไม่รายงาน") >= 10 * len(doc.scorecard.results)
    assert ">0<" not in html.replace(" ", "")


def test_a_zero_is_a_score_not_a_blank():
    doc = _doc(
        UnitForms(
            unit="GOVSEC", fiscal_year=2567, quarter=1,
            entries=(_entry(self_assessment=0.0, assessment=0.0, audit_score=0.0),),
        )
    )  # fmt: skip
    html = report.forms_html(doc)
    section = html.split(CAT.kpi(COUNCIL).name_th)[1].split('class="form-kpi"')[0]
    assert section.count('<dd class="entry ">0</dd>') == 3


def test_a_declared_flag_the_figures_contradict_is_marked():
    sc = _scorecard()
    council = sc.result(COUNCIL)
    assert council.target_met is False  # 90 % reported against a 95 % target
    forms = UnitForms(
        unit="GOVSEC",
        fiscal_year=2567,
        quarter=1,
        entries=(_entry(declared_on_target=True, declared_on_plan=True),),
    )
    html = report.forms_html(_doc(forms))
    assert "เป็นไปตามเป้าหมาย (หน่วยงานแจ้ง)" in html
    assert "ขัดกับตัวเลข: ผลที่คำนวณได้ ไม่เป็นไปตามเป้าหมาย" in html


def test_the_project_form_marks_a_monthly_declaration_below_target(golden):
    rep = golden["project_3453_progress_reports_fy2563"]["reports"][0]  # 60.37 % "on target"
    k = CAT.kpi("district_complaint_project_3453")
    project = Project(
        kpi=k.id,
        code=k.code,
        name_th=k.name_th,
        fiscal_year=2567,
        reports=(
            MonthlyReport(
                kpi=k.id,
                report_no=1,
                year=2023,
                month=10,
                progress_pct=rep["progress_pct"],
                declared_on_plan=rep["on_plan"],
                declared_on_target=rep["on_target"],
            ),
        ),
    )
    forms = UnitForms(unit="1032", fiscal_year=2567, quarter=1, projects=(project,))
    html = report.forms_html(_doc(forms, unit="1032"))
    row = html.split('<td class="num">1</td>')[1].split("</tr>")[0]
    assert f"{rep['progress_pct']:.2f} %" in row
    assert "เป็นไปตามแผน (หน่วยงานแจ้ง)" in row and "ขัดกับตัวเลข" in row
    assert html.count("ยังไม่รายงาน") >= 2  # November and December: no report


def test_the_signoff_block_lists_what_changed():
    before = build_fingerprint(_scorecard(reported=9), {"council.csv": "a" * 64}, None)
    after = build_fingerprint(_scorecard(reported=10), {"council.csv": "b" * 64}, None)
    inputs, kpis = compare(before, after)
    assert [(c.path, c.change) for c in inputs] == [("raw/council.csv", "changed")]
    [k] = kpis
    assert (k.old_value, k.new_value) == ("90.00 ร้อยละ", "100.00 ร้อยละ")
    assert k.old_points != k.new_points


def test_no_signature_says_how_to_sign(tmp_path):
    fp = build_fingerprint(_scorecard(), {}, None)
    state = signoff_state(tmp_path, fp)
    html = report.signoff_html(_doc(None, state))
    assert "ยังไม่มีการลงนามรับรอง" in html and "kpi sign --unit GOVSEC" in html
    assert fp.digest in html


def test_a_milestone_kpi_before_year_end_does_not_contradict_an_on_target_declaration():
    manual = pd.DataFrame(
        {
            "unit_code": ["1032"],
            "kpi_id": ["district_best_service"],
            "fiscal_year": [2567],
            "quarter": [1],
            "value": [30.0],
        }
    )
    sc = unit_scorecard(
        "1032", 2567, 1, bundle=_Bundle(manual_results=manual), catalog=CAT,
        blocked_tables=frozenset(),
    )  # fmt: skip
    best = sc.result("district_best_service")
    [target] = [f for f in best.flags if f.kind == "target"]
    assert target.year_to_date and not target.met  # 30 % of a 100 % year: "not yet"
    doc = _doc(None, unit="1032").model_copy(
        update={
            "scorecard": sc,
            "forms": UnitForms(
                unit="1032",
                fiscal_year=2567,
                quarter=1,
                entries=(
                    KpiEntry(
                        unit="1032", kpi="district_best_service", fiscal_year=2567, quarter=1,
                        declared_on_plan=False, declared_on_target=True,
                    ),
                ),
            ),
        }
    )  # fmt: skip
    html = report.forms_html(doc)
    section = html.split('id="form-district_best_service"')[1].split('class="form-kpi"')[0]
    assert "เป็นไปตามเป้าหมาย (หน่วยงานแจ้ง)" in section
    assert "ขัดกับตัวเลข: ผลที่คำนวณได้ เป็นไปตามแผน" in section  # 30 against a plan of 30
    assert "ขัดกับตัวเลข: ผลที่คำนวณได้ ไม่เป็นไปตามเป้าหมาย" not in section
