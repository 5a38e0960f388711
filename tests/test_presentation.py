"""What a reader sees, checked in headless Chromium on a machine without Thai system fonts.

One district report (Prawet, 4 KPIs) and GOVSEC's report are rendered once for the module
through the real path (Papermill → nbconvert → Chromium). Then, per page: every element with
text is drawn in the embedded Sarabun (``CSS.getPlatformFontsForNode``), the PDF is A4 with a
bounded page count, a running header, page numbers and its title, nothing is printed past the
page's right margin, and at 400 px no two table cells overlap and the page does not scroll
sideways. Screenshots at 1400 and 400 px and the PDF's pages are written to
``$KPILIB_SCREENSHOTS`` (default: the test's temporary folder) for people to look at.

Each check is also run on a broken page (the report CSS before issue 12, or a hash forced onto
one line) to show that it fails there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kpilib import sample

pagecheck = pytest.importorskip("pagecheck")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium not installed"),
]

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "report.ipynb"
OLD_CSS = Path(__file__).resolve().parent / "fixtures" / "report_css_before_issue12.css"
OLD_REPORT = Path(__file__).resolve().parent / "fixtures" / "report_before_issue12.html"
"""A district report as rendered before issue 12 (charts and the embedded font cut out; the
font is put back by :func:`_old_report`)."""
PAGE_BOUND = {"1032": 15, "GOVSEC": 24}
"""Most PDF pages in all (before: 19 for the district, 31 for GOVSEC, without the people's
entries that the report has since gained: about 5 pages on the sample's filled forms)."""
REPORT_PAGES = {"1032": 9, "GOVSEC": 14}
"""The page on which the certification (section 6) starts: the report proper, summary to
certification — a 4-KPI district report in about 8 pages (the issue), GOVSEC's 7 KPIs."""


def _execute(unit: str, root: Path, data: Path, vjson: Path, **extra) -> Path:
    import papermill

    from kpilib.render import notebook_to_html

    out = root / f"{unit}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "unit": unit,
            "fy": 2567,
            "quarter": 2,
            "data_dir": str(data),
            "validation_json": str(vjson),
            "result_json": str(root / unit / "report.json"),
            **extra,
        },
        kernel_name="python3",
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
    )
    return notebook_to_html(out, root / unit / "report.html")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The rendered district and GOVSEC reports (HTML and PDF) and where screenshots go."""
    from kpilib.render import html_to_pdf, pdf_name
    from kpilib.validation import run_validation

    root = tmp_path_factory.mktemp("presentation")
    data = root / "data"
    sample.generate(data, fy=2567, scale=0.03)
    vdir = root / "validation"
    run_validation(data, fy=2567, out_dir=vdir)
    shots = Path(os.environ.get("KPILIB_SCREENSHOTS") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    out = {"root": root, "shots": shots, "data": data, "vjson": vdir / "validation.json"}
    for unit in ("1032", "GOVSEC"):
        html = _execute(unit, root, data, vdir / "validation.json")
        pdf = html_to_pdf(html, html.parent / pdf_name(2567, 2, unit))
        out[unit] = {"html": html, "pdf": pdf}
    return out


@pytest.fixture(scope="module")
def browser():
    from kpilib.browser import Browser

    with Browser() as b:
        yield b


def _open(browser, path: Path, width: int):
    page = browser.new_page(width=width)
    page.open(path)
    return page


def _with_old_css(html: Path, dest: Path) -> Path:
    """The same report with the report CSS of before issue 12 (the embedded font kept)."""
    from kpilib.render import font_face_css

    text = html.read_text(encoding="utf-8")
    start = text.index("/* kpilib report styles")
    end = text.index("</style>", start)
    old = font_face_css() + "\n" + OLD_CSS.read_text(encoding="utf-8")
    dest.write_text(text[:start] + old + text[end:], encoding="utf-8")
    return dest


def _old_report(dest: Path) -> Path:
    from kpilib.render import font_face_css

    text = OLD_REPORT.read_text(encoding="utf-8").replace("/*FONT-FACE*/", font_face_css(), 1)
    dest.write_text(text.replace("/*FONT-FACE*/", ""), encoding="utf-8")
    return dest


# ------------------------------------------------------------------ one font


@pytest.mark.parametrize("unit", ["1032", "GOVSEC"])
@pytest.mark.parametrize("width", [1400, 400])
def test_every_text_is_drawn_in_the_embedded_font(pages, browser, unit, width):
    page = _open(browser, pages[unit]["html"], width)
    assert subprocess.run(["fc-list", ":lang=th"], capture_output=True, text=True).stdout == ""
    drawn = page.text_fonts()
    assert len(drawn) > 200  # the check saw the page's text
    assert pagecheck.fallback_fonts(page) == []
    page.screenshot(pages["shots"] / f"report_{unit}_{width}.png")


def test_font_check_catches_the_boxed_headings_of_before(pages, browser, tmp_path):
    """Jupyter headings with the CSS of before issue 12 fell back to a system font (□□□)."""
    import nbformat

    from kpilib import report
    from kpilib.render import notebook_to_html

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## 1. สรุปผลคะแนน (Scorecard)"),
        nbformat.v4.new_markdown_cell("ผลการตรวจสอบข้อมูลจาก validation.json"),
    ]
    html = notebook_to_html(nb, tmp_path / "headings.html")
    assert pagecheck.fallback_fonts(_open(browser, html, 1400)) == []
    old = _with_old_css(html, tmp_path / "headings_old.html")
    bad = pagecheck.fallback_fonts(_open(browser, old, 1400))
    assert {e["tag"] for e in bad} >= {"h2", "p"}
    assert any("สรุปผลคะแนน" in e["text"] for e in bad)
    assert report  # the blocks module is importable beside the notebook path


def test_font_check_fails_on_the_report_of_before(browser, tmp_path):
    """The report of before drew its ☑/☐ boxes in a system font."""
    bad = pagecheck.fallback_fonts(_open(browser, _old_report(tmp_path / "old.html"), 1400))
    assert any(e["text"] in ("☑", "☐") for e in bad)


# ------------------------------------------------------------------ validation page


@pytest.fixture(scope="module")
def validation_page(pages):
    from kpilib.findings_page import write_validation_page
    from kpilib.validation import load_validation_report

    return write_validation_page(load_validation_report(pages["vjson"]), pages["vjson"].parent)


@pytest.mark.parametrize("width", [1400, 400])
def test_validation_page_for_people_offline(validation_page, pages, browser, width):
    html = validation_page.read_text(encoding="utf-8")
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")
    assert str(pages["data"]) not in html  # no server path
    page = _open(browser, validation_page, width)
    assert pagecheck.fallback_fonts(page) == []
    assert pagecheck.sideways_scroll(page) == 0
    assert pagecheck.overlapping_cells(page) == []
    text = page.evaluate("document.body.innerText")
    assert "สิ่งที่ควรทำ" in text and "จำนวนแถว" in text and "ข้อมูลตัวอย่าง" in text
    assert (validation_page.parent / "findings.csv").is_file()
    page.screenshot(pages["shots"] / f"validation_{width}.png")


# ------------------------------------------------------------------ index pages


@pytest.fixture(scope="module")
def index_pages(pages):
    """The quarter index and the fiscal-year index over the two rendered reports."""
    from kpilib.batch import plan_run
    from kpilib.batch.outputs import IndexRow, render_fy_index, render_index, summary_row

    out = pages["root"] / "out"
    plan = plan_run(fy=2567, quarter=2, units=["1032", "GOVSEC"], data=pages["data"], out=out)
    rows = [
        IndexRow(
            code=u.code,
            name_th=u.name_th,
            quarter=2,
            status="ok",
            error=None,
            validation="พบปัญหาที่ต้องแก้ไข 3 เรื่อง",
            links={"html": f"{u.code}/report.html", "pdf": f"{u.code}/2567_Q2_{u.code}.pdf"},
            summary=summary_row(pages[u.code]["html"].parent / "report.json"),
        )
        for u in plan.units
    ]
    qdir = plan.quarter_dir(2)
    qdir.mkdir(parents=True)
    quarter = qdir / "index.html"
    quarter.write_text(render_index(plan, 2, rows), encoding="utf-8")
    fy = plan.fy_dir() / "index.html"
    fy.write_text(render_fy_index(plan, {2: rows}), encoding="utf-8")
    return {"quarter": quarter, "fy": fy}


@pytest.mark.parametrize("which", ["quarter", "fy"])
@pytest.mark.parametrize("width", [1400, 400])
def test_index_pages_embedded_font_no_overlap_no_sideways_scroll(
    index_pages, pages, browser, which, width
):
    page = _open(browser, index_pages[which], width)
    assert pagecheck.fallback_fonts(page) == []
    assert pagecheck.sideways_scroll(page) == 0
    assert pagecheck.overlapping_cells(page) == []
    text = page.evaluate("document.body.innerText")
    assert "ข้อมูลตัวอย่าง" in text  # the sample-data banner
    if which == "quarter":
        # KPI short names head the columns (not ids), with rank and links to the summaries
        assert "ระดับ ติดตามมติสภากรุงเทพมหานคร" in text and "district_" not in text
        assert "อันดับ" in text and "summary.xlsx" in page.evaluate(
            "Array.from(document.links).map(a => a.getAttribute('href')).join(' ')"
        )
    page.screenshot(pages["shots"] / f"index_{which}_{width}.png")


# ------------------------------------------------------------------ the monthly report


@pytest.fixture(scope="module")
def monthly_page(pages):
    """Prawet's monthly progress report for November (the sample's filled project form),
    through the same notebook."""
    root = pages["root"] / "monthly"
    (root / "1032").mkdir(parents=True)
    return _execute("1032", root, pages["data"], pages["vjson"], month="พ.ย.")


@pytest.mark.parametrize("width", [1400, 400])
def test_monthly_report_embedded_font_no_overlap_no_sideways_scroll(
    monthly_page, pages, browser, width
):
    page = _open(browser, monthly_page, width)
    page.screenshot(pages["shots"] / f"monthly_1032_{width}.png")
    text = page.evaluate("document.body.innerText")
    assert "รายงานความก้าวหน้าโครงการประจำเดือน" in text and "พฤศจิกายน 2566" in text
    assert "ข้อมูลจากระบบ" in text  # computed figures beside the declared ones
    assert "1. สรุปผลการประเมิน" not in text  # not the quarterly report
    assert len(page.text_fonts()) > 50  # the check saw the page's text
    assert pagecheck.fallback_fonts(page) == []
    assert pagecheck.sideways_scroll(page) == 0
    assert pagecheck.overlapping_cells(page) == []
    assert pagecheck.cramped_lines(page) == []


# ------------------------------------------------------------------ print


@pytest.mark.parametrize("unit", ["1032", "GOVSEC"])
def test_pdf_is_a4_with_header_page_numbers_title_and_bounded_pages(pages, unit):
    pdf = pages[unit]["pdf"]
    assert re.fullmatch(r"2567_Q2_[A-Z0-9]+\.pdf", pdf.name)
    n = pagecheck.pdf_pages(pdf)
    assert 2 <= n <= PAGE_BOUND[unit]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    title = pagecheck.pdf_title(pdf)
    assert "2567" in title and "ไตรมาสที่ 2" in title
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    per_page = text.split("\f")[:n]
    name = "เขตประเวศ" if unit == "1032" else "สำนักงานเลขานุการผู้ว่าราชการกรุงเทพมหานคร"
    cert = next(i for i, t in enumerate(per_page, 1) if "การรับรองและการทำซ้ำรายงาน" in t)
    assert cert <= REPORT_PAGES[unit]
    for i, page_text in enumerate(per_page, start=1):
        assert f"หน้า {i} / {n}" in page_text
        assert name in page_text and "ไตรมาสที่ 2" in page_text
        assert "ข้อมูลตัวอย่าง" in page_text  # the sample-data mark on every page
    assert pagecheck.words_off_the_page(pdf) == []
    _pdf_pages_png(pdf, pages["shots"] / f"pdf_{unit}")


def _pdf_pages_png(pdf: Path, prefix: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(prefix)], check=True)


def test_page_bound_and_overflow_checks_fail_on_the_css_of_before(pages, tmp_path):
    """With the report CSS of before, the same district report prints on more pages than the
    bound and prints its certification's hashes past the right margin."""
    from kpilib.render import html_to_pdf

    old = _with_old_css(pages["1032"]["html"], tmp_path / "old.html")
    pdf = html_to_pdf(old, tmp_path / "old.pdf")
    assert pagecheck.pdf_pages(pdf) > PAGE_BOUND["1032"]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    old_pages = text.split("\f")
    cert = next(i for i, t in enumerate(old_pages, 1) if "การรับรองและการทำซ้ำรายงาน" in t)
    assert cert > REPORT_PAGES["1032"]
    broken = tmp_path / "nowrap.html"
    text = pages["1032"]["html"].read_text(encoding="utf-8")
    broken.write_text(
        text.replace(
            "</style>",
            ".kpi-report code.hash { white-space: nowrap !important;"
            " word-break: normal !important; overflow-wrap: normal !important;"
            " font-size: 2em !important; }</style>",
            1,
        ),
        encoding="utf-8",
    )
    assert pagecheck.words_off_the_page(html_to_pdf(broken, tmp_path / "nowrap.pdf"))


# ------------------------------------------------------------------ phone


@pytest.mark.parametrize("unit", ["1032", "GOVSEC"])
def test_phone_width_no_overlap_no_sideways_scroll(pages, browser, unit):
    page = _open(browser, pages[unit]["html"], 400)
    assert pagecheck.sideways_scroll(page) == 0
    assert pagecheck.overlapping_cells(page) == []
    assert pagecheck.cramped_lines(page) == []


def test_cramped_line_check_fails_on_a_wrapped_heading_set_solid(browser, tmp_path):
    """A heading that wraps at 400 px with Jupyter's line-height 1 (the monthly report before
    its fix): the Thai marks of one line touch the next."""
    from kpilib.render import font_face_css

    html = tmp_path / "solid.html"
    html.write_text(
        f"<html><head><style>{font_face_css()} body {{ font-family: Sarabun; }}"
        " h2 { line-height: 1; }</style></head><body><h2>"
        + "รายงานความก้าวหน้าของโครงการประจำเดือนกุมภาพันธ์ " * 3
        + "</h2></body></html>",
        encoding="utf-8",
    )
    assert pagecheck.cramped_lines(_open(browser, html, 400))


def test_overlap_check_fails_on_the_report_of_before(browser, tmp_path):
    """The scorecard of before squeezed at 400 px: cells overlap ("90.96" + "4" = "90.964")."""
    page = _open(browser, _old_report(tmp_path / "old.html"), 400)
    overlaps = pagecheck.overlapping_cells(page)
    assert any(kind == "overlaps" for kind, _ in overlaps)
