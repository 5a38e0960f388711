"""Report building blocks, charts and rendering (fast; Chromium tests skip only without it)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import warnings

import pandas as pd
import pytest

from kpilib import assemble, charts, render, report
from kpilib.catalog import load_catalog
from kpilib.document import (
    FindingEntry,
    Period,
    Provenance,
    ReportDocument,
    RowSample,
    ValidationSummary,
)
from kpilib.errors import DependencyMissing, ParameterError
from kpilib.scoring import unit_scorecard

EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


class _Bundle:
    def __init__(self, **tables: pd.DataFrame) -> None:
        self._tables = tables

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str) -> pd.DataFrame:
        return self._tables[name]


def _document(findings: tuple[FindingEntry, ...] = (), reported: int = 9) -> ReportDocument:
    """A GOVSEC report whose council KPI is ``reported`` of 10 resolutions (others: no data)."""
    cat = load_catalog()
    council = pd.DataFrame(
        {
            "resolution_id": [f"r{i}" for i in range(10)],
            "unit_code": ["GOVSEC"] * 10,
            "resolved_on": pd.to_datetime(["2023-10-02"] * 10),
            "reported_on": pd.to_datetime(["2023-10-05"] * reported + [None] * (10 - reported)),
        }
    )
    sc = unit_scorecard(
        "GOVSEC", 2567, 1, bundle=_Bundle(council_resolutions=council), catalog=cat,
        blocked_tables=frozenset(),
    )  # fmt: skip
    return ReportDocument(
        period=Period(
            fiscal_year=2567,
            quarter=1,
            start=dt.date(2023, 10, 1),
            end=dt.date(2023, 12, 31),
            as_of=dt.date(2023, 12, 31),
        ),
        scorecard=sc,
        validation=ValidationSummary(
            validated=True,
            blocking=sum(f.severity == "blocking" for f in findings),
            findings=findings,
        ),
        provenance=Provenance(kpilib_version="0", generated_at=dt.datetime(2024, 1, 5, 9, 0)),
    )


@pytest.mark.parametrize("text", EVIL)
def test_validation_block_escapes_citizen_text(text):
    finding = FindingEntry(
        check="unknown_district",
        table="tickets",
        severity="blocking",
        message=text,
        count=1,
        rows=(RowSample(source_row=3, value=text),),
    )
    out = report.validation_html(_document((finding,)))
    assert "<script" not in out and "<img" not in out
    assert "&lt;" in out and ("alert(1)" in out)


def test_rubric_highlights_reached_level():
    out = report.kpi_sections_html(_document(reported=9))  # 90 % reported: level 4
    section = out.split('id="kpi-govsec_key_projects"')[0]
    reached = [line for line in section.splitlines() if 'class="reached"' in line]
    assert len(reached) == 1 and ">4<" in reached[0]
    assert "มติที่รายงานผลแล้ว 9 × 100 ÷ มติทั้งหมด 10 = 90.00" in section


def test_scorecard_block_shows_no_data_not_zero_and_the_weights_left_out():
    out = report.scorecard_html(_document())
    row = out.split('data-kpi="govsec_directives_district"')[1].split("</tr>")[0]
    assert "ไม่มีข้อมูล" in row and "0.00" not in row
    assert "ไม่รวมน้ำหนักของตัวชี้วัดที่ไม่มีข้อมูล" in out


def test_charts_have_thai_font_and_no_missing_glyph_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = charts.complaints_by_type(
            pd.Series({"ถนน": 12, "ทางเท้า": 7, "น้ำท่วม": 3}), title="เรื่องร้องเรียนแยกตามประเภท"
        )
        png = charts.figure_png(fig)
    glyph = [
        w for w in caught if "Glyph" in str(w.message) or "missing from font" in str(w.message)
    ]
    assert glyph == []
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert charts.FONT_FAMILY in fig.axes[0].title.get_fontname()


def test_chart_png_is_deterministic():
    counts = pd.Series({"0–7": 5, "8–14": 2, "15–30": 1, "31+": 0})
    a = charts.figure_png(charts.backlog_ageing(counts))
    b = charts.figure_png(charts.backlog_ageing(counts))
    assert a == b


def test_font_is_embedded_in_css():
    css = render.font_face_css()
    assert "@font-face" in css and "data:font/ttf;base64," in css and "Sarabun" in css


def test_find_chromium_missing_gives_install_advice(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("KPILIB_CHROMIUM", raising=False)
    with pytest.raises(DependencyMissing, match="apt-get install chromium"):
        render.find_chromium()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unit": "../etc"}, "invalid unit code"),
        ({"fy": 2024}, "did you mean 2567"),
        ({"quarter": 5}, "quarter"),
        ({"lang": "fr"}, "lang"),
        ({"as_of": "2024-05-01"}, "outside FY 2567 Q1"),
        ({"data_dir": "/nonexistent/folder"}, "is not a folder"),
    ],
)
def test_report_parameters_are_checked(tmp_path, kwargs, match):
    base = {"unit": "1032", "fy": 2567, "quarter": 1, "data_dir": str(tmp_path)}
    with pytest.raises(ParameterError, match=match):
        assemble.check_parameters(**{**base, **kwargs})


def test_report_parameters_defaults(tmp_path):
    p = assemble.check_parameters(unit="1032", fy="2567", quarter="1", data_dir=str(tmp_path))
    assert p.as_of == dt.date(2023, 12, 31) and p.validation_json is None and p.lang == "th"


def test_strip_generation_time():
    a = 'x<span class="generated-at">21 พ.ย. 2569 10:00</span>y'
    b = 'x<span class="generated-at">22 พ.ย. 2569 11:30</span>y'
    assert report.strip_generation_time(a) == report.strip_generation_time(b)


needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="Chromium is not installed (apt-get install chromium); CI installs it",
)


@needs_chromium
@pytest.mark.slow
def test_pdf_and_screenshot_of_thai_html(tmp_path):
    page = tmp_path / "t.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><style>"
        + render.font_face_css()
        + "body{font-family:Sarabun}</style></head><body><h1>รายงานผลการประเมินตัวชี้วัด</h1>"
        "<p>ปีงบประมาณ พ.ศ. 2567</p></body></html>",
        encoding="utf-8",
    )
    pdf = render.html_to_pdf(page, tmp_path / "t.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "รายงานผลการประเมินตัวชี้วัด" in text
    png = render.html_to_png(page, tmp_path / "t.png", width=800, height=400)
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000


def test_kpi_section_follows_the_indicator_report_form(golden):
    """Seed 004's form: its section headings, in its order, in every KPI section."""
    sections = golden["line_document_tracking_more_fy2563"]["form_sections"]
    out = report.kpi_sections_html(_document())
    for section in out.split('<section class="kpi-report kpi-section"')[1:]:
        headings = re.findall(r"<h4>(.*?)</h4>", section)
        assert headings == sections
