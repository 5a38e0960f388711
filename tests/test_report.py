"""Report building blocks, charts and rendering (fast; Chromium tests skip only without it)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import warnings

import pytest

from kpilib import assemble, charts, render, report
from kpilib.errors import DependencyMissing, ParameterError

EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


def _result(level: int) -> dict:
    return {
        "kpi_id": "k1",
        "code": "5012-0892",
        "name_th": "ระดับความสำเร็จในการแก้ไขเรื่องร้องเรียน",
        "value": 60.37,
        "level": level,
        "points": 6.4,
        "weight": 8,
        "certified": True,
        "formula_text": "131 × 100 / 217 = 60.37",
        "rubric": [
            {"level": lv, "text_th": f"ร้อยละ {50 + 10 * lv} ขึ้นไป", "points": 8 * lv / 5}
            for lv in range(5, 0, -1)
        ],
    }


@pytest.mark.parametrize("text", EVIL)
def test_validation_block_escapes_citizen_text(text):
    finding = {
        "check": "unknown_district",
        "table": "tickets",
        "severity": "blocking",
        "message": text,
        "count": 1,
        "rows": [{"ticket_id": "T1", "comment": text}],
    }
    out = report.validation_html([finding])
    assert "<script" not in out and "<img" not in out
    assert "&lt;" in out and ("alert(1)" in out)


def test_rubric_highlights_reached_level():
    out = report.kpi_section_html(_result(4))
    reached = [line for line in out.splitlines() if 'class="reached"' in line]
    assert len(reached) == 1 and "ร้อยละ 90 ขึ้นไป" in reached[0]
    assert "131 × 100 / 217 = 60.37" in out


def test_charts_have_thai_font_and_no_missing_glyph_warnings():
    import pandas as pd

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
    import pandas as pd

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
    assert assemble.strip_generation_time(a) == assemble.strip_generation_time(b)


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
