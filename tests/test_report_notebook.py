"""End to end: the report notebook through Papermill for one district on small sample data.

Asserts on the rendered HTML (scorecard figures equal kpilib's, Thai header, no code, no
markup from citizen text), takes a Chromium screenshot and prints a PDF whose text is Thai.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from kpilib import sample
from kpilib.document import read_report_json
from kpilib.numbers import fmt_number

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "report.ipynb"
UNIT = "1032"  # Prawet
EVIL = "<script>alert('xss')</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    import papermill

    from kpilib.render import notebook_to_html
    from kpilib.validation import run_validation

    root = tmp_path_factory.mktemp("e2e")
    data = root / "data"
    sample.generate(data, fy=2567, scale=0.03)
    # Citizens' free text for every Prawet ticket carries markup (the raw file is test data).
    raw = data / "raw" / "traffy_api_v2.csv"
    frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
    frame.loc[frame["district"].str.contains("ประเวศ"), "description"] = EVIL
    frame.to_csv(raw, index=False)
    vdir = root / "validation"
    run_validation(data, fy=2567, out_dir=vdir)
    out_nb = root / "report.ipynb"
    result_json = root / "report.json"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out_nb),
        parameters={
            "unit": UNIT,
            "fy": 2567,
            "quarter": 2,
            "data_dir": str(data),
            "validation_json": str(vdir / "validation.json"),
            "result_json": str(result_json),
        },
        kernel_name="python3",
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
    )
    html_path = notebook_to_html(out_nb, root / "report.html")
    return {
        "root": root,
        "data": data,
        "html": html_path.read_text(encoding="utf-8"),
        "html_path": html_path,
        "doc": read_report_json(result_json.read_bytes()),
        "json": json.loads(result_json.read_text(encoding="utf-8")),
    }


def test_scorecard_in_html_equals_kpilib(rendered):
    from kpilib.catalog import load_catalog
    from kpilib.datasets import load_bundle
    from kpilib.scoring import unit_scorecard
    from kpilib.validation import load_validation_report

    vrep = load_validation_report(rendered["root"] / "validation" / "validation.json")
    expected = unit_scorecard(
        UNIT,
        2567,
        2,
        bundle=load_bundle(rendered["data"]),
        catalog=load_catalog(),
        blocked_tables=vrep.blocking_tables(UNIT),
    )
    got = rendered["doc"].scorecard
    assert [r.kpi.id for r in got.results] == [r.kpi.id for r in expected.results]
    assert got.total_points == pytest.approx(expected.total_points)
    html = rendered["html"]
    assert fmt_number(expected.total_points, decimals=2) in html
    for r in expected.results:
        assert html_lib.escape(r.formula.text_th, quote=False) in html
        if r.points is not None:
            assert fmt_number(r.points, decimals=2) in html


def test_report_json_validates_against_the_schema_in_docs(rendered):
    import jsonschema

    schema = json.loads((NOTEBOOK.parent.parent / "docs" / "report.schema.json").read_text())
    jsonschema.validate(rendered["json"], schema)
    assert rendered["json"]["scorecard"]["total_points"] == rendered["doc"].scorecard.total_points
    # no server paths in what a reader sees
    assert str(rendered["data"]) not in json.dumps(rendered["json"], ensure_ascii=False)
    assert str(rendered["data"]) not in rendered["html"]


def test_thai_header_and_no_code(rendered):
    html = rendered["html"]
    assert "เขตประเวศ" in html and "ปีงบประมาณ" in html and "2567" in html
    code_cells = re.findall(r'class="jp-Cell jp-CodeCell[^"]*"', html)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells)
    assert 'class="jp-CodeMirrorEditor' not in html and '<div class="highlight' not in html
    assert "check_parameters(" not in html and "from kpilib" not in html
    assert "injected-parameters" not in html and "result_json =" not in html
    assert "@font-face" in html


def test_citizen_text_is_escaped(rendered):
    html = rendered["html"]
    assert "<script" not in html.lower()
    assert re.search(r"<img[^>]*onerror", html, re.I) is None
    assert "&lt;script&gt;alert(" in html


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Chromium not installed; CI installs it"
)
def test_screenshot_and_pdf(rendered):
    from kpilib.render import html_to_pdf, html_to_png

    png = html_to_png(rendered["html_path"], rendered["root"] / "report.png")
    assert png.stat().st_size > 20_000
    pdf = html_to_pdf(rendered["html_path"], rendered["root"] / "report.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert pages >= 2
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "เขตประเวศ" in text and "สรุปผลการประเมิน" in text


def test_exploration_notebook_runs_on_the_same_data(rendered):
    import nbformat
    import papermill

    explore = NOTEBOOK.parent / "explore.ipynb"
    out = rendered["root"] / "explore.ipynb"
    papermill.execute_notebook(
        str(explore),
        str(out),
        parameters={"fy": 2567, "data_dir": str(rendered["data"])},
        kernel_name="python3",
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    html_outputs = [
        o["data"]["text/html"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "data" in o and "text/html" in o["data"]
    ]
    assert sum('<figure class="kpi-chart"><svg' in h for h in html_outputs) == 3
    assert any("เขตประเวศ" in h for h in html_outputs)  # the district table
    assert not any(c.get("source", "").lstrip().startswith("def ") for c in nb.cells)


def test_same_inputs_give_the_same_html(rendered):
    import papermill

    from kpilib.render import notebook_to_html
    from kpilib.report import strip_generation_time

    root = rendered["root"]
    again = root / "again.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(again),
        parameters={
            "unit": UNIT,
            "fy": 2567,
            "quarter": 2,
            "data_dir": str(rendered["data"]),
            "validation_json": str(root / "validation" / "validation.json"),
            "result_json": str(root / "again.json"),
        },
        kernel_name="python3",
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
    )
    html = notebook_to_html(again, root / "again.html").read_text(encoding="utf-8")
    assert strip_generation_time(html) == strip_generation_time(rendered["html"])


def test_the_units_entries_and_the_signature_block_are_in_the_report(rendered):
    from kpilib.catalog import load_catalog
    from kpilib.forms.reader import read_unit_forms

    forms = read_unit_forms(rendered["data"], UNIT, 2567, 2, catalog=load_catalog())
    assert rendered["doc"].forms == forms  # report.json carries what the workbooks hold
    html = rendered["html"]
    assert "ผลการดำเนินงานที่หน่วยงานรายงาน" in html and "การลงนามรับรองรายงาน" in html
    for e in forms.entries:
        assert html_lib.escape(e.narrative, quote=False).split("\n")[0] in html
    assert html_lib.escape(forms.head.name) in html and "(หัวหน้าหน่วยงาน)" in html
    assert "ยังไม่มีการลงนามรับรอง" in html
