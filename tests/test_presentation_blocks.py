"""The summary's content (rank, changes), numerals, validation findings for people, the
analyst's tables: fast checks on typed documents, no browser."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pandas as pd
import pytest
import yaml
from test_report import _document

from kpilib import assemble, explore, report
from kpilib.document import FindingEntry, RowSample
from kpilib.paths import package_dir, sample_data_dir


def test_rank_counts_better_units_of_the_kind_and_shares_ties():
    sc = _document(reported=9).scorecard  # GOVSEC: 90 % of council resolutions reported
    mine = sc.percent
    r = assemble.rank(sc, {"GOVSEC": mine, "PSEC": mine + 5, "X": mine, "Y": None})
    assert (r.kind, r.position, r.of) == ("office", 2, 3)
    assert assemble.rank(sc, {"GOVSEC": mine}).position == 1


def test_changes_compare_with_the_previous_quarter_and_last_year():
    q1 = _document(reported=8).scorecard
    q2 = _document(reported=9).scorecard.model_copy(update={"quarter": 2})
    out = {c.kpi: c for c in assemble.changes([q1, q2], previous_year=None, year_ago=None)}
    council = out["govsec_council_resolutions"]
    assert (council.previous, council.current) == (80.0, 90.0)
    assert council.delta_previous == pytest.approx(10.0)
    assert council.year_ago is None and council.delta_year_ago is None
    assert council.previous_label_th == "ไตรมาสที่ 1"
    first = assemble.changes([q1], previous_year=None, year_ago=None)[0]
    assert first.previous_label_th == "ไตรมาสที่ 4 ปี 2566" and first.previous is None


def test_summary_shows_rank_changes_and_last_year_missing():
    doc = _document(reported=9)
    q2 = doc.scorecard.model_copy(update={"quarter": 2})
    doc = doc.model_copy(
        update={
            "rank": assemble.rank(doc.scorecard, {"GOVSEC": doc.scorecard.percent, "PSEC": 1.0}),
            "changes": assemble.changes(
                [_document(reported=7).scorecard, q2], previous_year=None, year_ago=None
            ),
        }
    )
    out = report.summary_html(doc)
    assert "อันดับที่ 1 จาก 2" in out
    row = out.split('data-kpi="govsec_council_resolutions"')[1].split("</tr>")[0]
    assert "+20.00" in row and "ไม่มีข้อมูลปีก่อน" in row
    seen = re.sub(r"<[^>]+>", " ", row)
    assert "ติดตามมติสภา" in seen and "govsec_council" not in seen


def test_thai_numerals_everywhere_but_identifiers():
    doc = _document(reported=9).model_copy(update={"numerals": "thai"})
    out = report.summary_html(doc) + report.kpi_sections_html(doc, charts=False)
    text = html.unescape(re.sub(r"<[^>]+>", " ", out))  # what a reader sees
    text = re.sub(r"\(\d{4}-\d{4}\)|\d{8}-\d{4}", "", text)  # KPI codes stay as printed
    assert "๙๐.๐๐" in text
    assert re.findall(r"[0-9]", text) == []
    arabic = report.kpi_sections_html(_document(reported=9), charts=False)
    assert re.findall(r"[๐-๙]", re.sub(r"<[^>]+>", " ", arabic)) == []  # "ร้อยละ ๙๕" follows


def test_findings_grouped_in_plain_thai_with_every_row_in_the_csv(tmp_path):
    rows = tuple(RowSample(source_row=i, value=f"T{i}") for i in range(1, 9))
    findings = (
        FindingEntry(check="unique", table="tickets", severity="blocking", column="ticket_id",
                     count=5, message="x", source_file="traffy.csv", rows=rows[:5]),
        FindingEntry(check="unique", table="tickets", severity="blocking", column="ticket_id",
                     count=3, message="x", source_file="traffy.csv", rows=rows[5:]),
        FindingEntry(check="ingest_quarantine", table="events", severity="warning", count=1,
                     message="x"),
    )  # fmt: skip
    doc = _document(findings)
    groups = report.finding_groups(doc, max_rows=5)
    assert [g["check"] for g in groups] == ["unique", "ingest_quarantine"]
    assert groups[0]["count"] == "8" and len(groups[0]["samples"]) == 5
    assert groups[0]["what"].startswith("พบเลขที่รายการซ้ำ") and "เลขที่เรื่อง" in groups[0]["where"]
    html = report.validation_html(doc)
    assert "unique" not in re.sub(r"<[^>]+>", " ", html) and "source_row" not in html
    assert "findings.csv" in html
    path = report.write_findings_beside(doc, tmp_path / "report.json")
    data = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert len(data) == 1 + 8 + 1  # header, every failing row, the file-level finding


def test_every_validation_check_has_plain_thai_words():
    from kpilib.validation import CHECKS

    words = yaml.safe_load((package_dir() / "templates" / "findings_th.yaml").read_text())
    assert set(CHECKS) - set(words["checks"]) == set()


def test_report_data_dir_defaults_to_the_sample_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the repository root, not notebooks/
    if not sample_data_dir().is_dir():
        pytest.skip("no data/sample in this checkout")
    params = assemble.check_parameters(unit="1032", fy=2567, quarter=1)
    assert params.data_dir == sample_data_dir()


def test_finish_times_leave_out_negative_durations_and_count_them():
    t = pd.Timestamp("2024-01-10", tz="Asia/Bangkok")
    tickets = pd.DataFrame(
        {
            "ticket_id": ["a", "b", "c"],
            "unit_code": ["1001"] * 3,
            "created_at": [t, t, t],
            "finished_at": [t + pd.Timedelta(days=2), t - pd.Timedelta(days=2.7), pd.NaT],
        }
    )
    ft = explore.finish_times(tickets, start=dt.date(2023, 10, 1), end=dt.date(2024, 9, 30))
    assert ft.negative == 1 and list(ft.days["days"]) == [2.0]
    assert "1 เรื่อง" in ft.note_th
    described = explore.describe_days(ft.days["days"])
    assert described.loc["จำนวนเรื่อง", "วัน"] == 1


def _chart_document():
    from kpilib.document import ChartData, KpiHistory, LabelCount, QuarterFigure

    doc = _document(reported=9)
    history = tuple(
        KpiHistory(kpi=r.kpi.id, quarters=(QuarterFigure(quarter=1, value=r.value),))
        for r in doc.scorecard.results
    )
    charts_data = ChartData(
        scope_th="50 สำนักงานเขต",
        by_type=(LabelCount(label="ถนน", count=400), LabelCount(label="ทางเท้า", count=217)),
        by_type_tickets=520,
    )
    return doc.model_copy(update={"history": history, "charts": charts_data})


def test_kpi_chart_labels_its_bars_and_target_in_place():
    """Direct labels instead of a legend and a value scale: each bar says its value, the
    one mark on the value axis is the target, at the dashed line's height."""
    from kpilib import charts

    doc = _chart_document()
    figs = charts.kpi_figures(doc)
    kpi = "govsec_council_resolutions"
    ax = next(fig for k, _, fig in figs if k == kpi).axes[0]
    result = doc.scorecard.result(kpi)
    target = result.kpi.target.value
    assert ax.get_legend() is None
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"ค่าเป้าหมาย {target:g}"]
    assert list(ax.get_yticks()) == [target]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert dashed and all(set(line.get_ydata()) == {target} for line in dashed)
    values = [q.value for q in doc.history_of(kpi).quarters]
    assert [t.get_text() for t in ax.texts] == [f"{v:,.2f}" for v in values]
    assert f"\nหน่วย: {result.kpi.unit_th}" in ax.get_title()


def test_complaint_type_chart_says_when_tickets_carry_several_types():
    from kpilib import charts

    (_alt, fig), *_ = charts.complaint_figures(_chart_document())
    title = fig.axes[0].get_title()
    assert "รวม 617 ครั้งจาก 520 เรื่อง" in title and "หลายประเภท" in title


def test_charts_follow_thai_numerals():
    from matplotlib.text import Text

    from kpilib import charts

    doc = _chart_document().model_copy(update={"numerals": "thai"})
    (_, fig), *_ = charts.complaint_figures(doc)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = charts.localised(doc, fig)
    (_, _, kpi_fig), *_ = charts.kpi_figures(doc)  # its one tick: the target, a number
    kpi_fig = charts.localised(doc, kpi_fig)
    for f in (fig, kpi_fig):
        FigureCanvasAgg(f).draw()  # tick labels are made when drawn
    texts = [t.get_text() for f in (fig, kpi_fig) for t in f.findobj(Text) if t.get_text()]
    ticks = [t.get_text() for t in kpi_fig.axes[0].get_yticklabels() if t.get_text()]
    assert any("๖๑๗" in t for t in texts)
    assert ticks and all(re.search(r"[๐-๙]", t) and not re.search(r"[0-9]", t) for t in ticks)
    assert not any(re.search(r"[0-9]", t) for t in texts)


def _long_labels() -> pd.Series:
    names = ["ท่อระบายน้ำอุดตันและน้ำท่วมขังบนผิวจราจร", "ถนน", "ทางเท้าชำรุดเสียหายเป็นอันตราย"]
    return pd.Series(dict(zip(names, [1200, 35, 9], strict=True)))


def _ranking_frame(n: int = 50) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_code": [f"{1001 + i}" for i in range(n)],
            "name": [f"เขตทดสอบลำดับที่ {i + 1}" for i in range(n)],
            "value": [50.0 + (i * 37) % 45 for i in range(n)],
        }
    )


@pytest.mark.parametrize(
    "draw",
    [
        lambda c: c.complaints_by_type(_long_labels(), title="ประเภท " * 12),
        lambda c: c.result_by_quarter(
            [{"quarter": q, "value": 10.0**q, "plan": 9.0**q, "target": 95} for q in (1, 2, 3, 4)],
            title="ผลงานรายไตรมาส: ร้อยละของเรื่องร้องเรียนที่ได้รับการแก้ไขจนแล้วเสร็จ",
            unit_label="ร้อยละ",
        ),
        lambda c: c.district_position(
            _ranking_frame(), unit_code="1010", title="ร้อยละที่แก้ไขแล้ว", target=80.0
        ),
    ],
    ids=["long type names", "plan and target labelled in place", "50 districts"],
)
def test_every_text_of_a_chart_is_drawn_inside_the_figure(draw):
    """fit_layout replaced constrained layout: nothing may be cut at the figure's edges.

    Looks at the drawn picture: a label cut by the edge leaves ink in the outermost pixels."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kpilib import charts

    fig = charts.fit_layout(draw(charts))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:, :, :3]
    ink = (pixels < 200).any(axis=2)  # anything darker than a light grey
    edge = 3
    assert not ink[:edge].any() and not ink[-edge:].any()
    assert not ink[:, :edge].any() and not ink[:, -edge:].any()
    rows, cols = np.nonzero(ink)
    assert cols.min() < 0.1 * ink.shape[1] and rows.max() > 0.9 * ink.shape[0]  # margins are tight
    plot = fig.axes[0].get_window_extent(canvas.get_renderer())
    assert plot.width > 0.4 * fig.bbox.width and plot.height > 0.4 * fig.bbox.height


_DRAWINGS = {
    "long type names": lambda c: c.complaints_by_type(_long_labels(), title="ประเภท " * 12),
    "plan and target": lambda c: c.result_by_quarter(
        [{"quarter": q, "value": 10.0**q, "plan": 9.0**q, "target": 95} for q in (1, 2, 3, 4)],
        title="ผลงานรายไตรมาส: ร้อยละของเรื่องร้องเรียนที่ได้รับการแก้ไขจนแล้วเสร็จ",
        unit_label="ร้อยละ",
    ),
    "50 districts": lambda c: c.district_position(
        _ranking_frame(), unit_code="1010", title="ร้อยละที่แก้ไขแล้ว", target=80.0
    ),
    "monthly trend": lambda c: c.monthly_trend(
        pd.DataFrame(
            {
                "year": [2023] * 3,
                "month": [10, 11, 12],
                "received": [120, 95, 143],
                "finished": [80, 101, 99],
            }
        )
    ),
}


@pytest.mark.parametrize("kind", list(_DRAWINGS))
def test_charts_saved_with_labels_measured_once_are_matplotlibs_own_svg(kind):
    """figure_svg keeps each label's size for the process (kpilib.charts._svg_canvas): the
    same figure gives the same bytes as matplotlib's own SVG canvas, also when every label
    was measured before (a second figure of the same kind)."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    from kpilib import charts

    def own(fig) -> str:
        buf = io.StringIO()
        with matplotlib.rc_context({**charts._rc(), "svg.fonttype": "none"}):
            charts.fit_layout(fig)
            FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None})
        text = buf.getvalue()
        return text[text.index("<svg") :]

    draw = _DRAWINGS[kind]
    ours = [charts.figure_svg(draw(charts)) for _ in range(2)]  # the second: sizes kept
    reference = own(draw(charts))
    assert ours == [reference, reference]
    assert charts._svg_canvas() is not FigureCanvasSVG
    assert "<text" in reference  # the labels are text, measured to be placed


@pytest.mark.parametrize("kind", list(_DRAWINGS))
def test_charts_fitted_with_font_heights_kept_get_matplotlibs_own_margins(kind, monkeypatch):
    """fit_layout measures with a renderer that reads each font's heights once per process
    (kpilib.charts._FontHeightsOnce): the same margins as measured by matplotlib's own
    renderer, also when the heights were read before (a second figure of the same kind)."""
    from matplotlib.backends.backend_agg import RendererAgg

    from kpilib import charts

    def margins() -> tuple[float, ...]:
        p = charts.fit_layout(_DRAWINGS[kind](charts)).subplotpars
        return (p.left, p.right, p.bottom, p.top)

    ours = [margins() for _ in range(2)]
    assert charts._FONT_HEIGHTS  # matplotlib asked the renderer for them
    monkeypatch.setattr(charts, "_measuring_renderer", lambda dpi: RendererAgg(1, 1, dpi))
    reference = margins()
    assert ours == [reference, reference]


_LABELLED = {
    "values, a gap and a zero": lambda c: c.result_by_quarter(
        [
            {"quarter": 1, "value": 55.2, "plan": 20.0, "target": 80},
            {"quarter": 2, "value": None, "plan": 40.0, "target": 80},
            {"quarter": 3, "value": 0.0, "plan": 60.0, "target": 80},
        ],
        title="ร้อยละที่แก้ไขแล้ว",
    ),
    "a negative value and plan": lambda c: c.result_by_quarter(
        [{"quarter": 1, "value": -5.0, "plan": -3.0}, {"quarter": 2, "value": 10.0, "plan": 8.0}],
        title="ผลต่าง",
    ),
    "a negative last plan": lambda c: c.result_by_quarter(
        [{"quarter": 1, "value": 4.0, "plan": 2.0}, {"quarter": 2, "value": 6.0, "plan": -1.0}],
        title="ผลต่าง",
    ),
    "counts by type": lambda c: c.complaints_by_type(_long_labels(), title="ประเภท"),
    "an empty ageing bucket": lambda c: c.backlog_ageing(
        pd.Series({"0–7 วัน": 5, "8–14 วัน": 0, "15–30 วัน": 3, "31+ วัน": 0})
    ),
}


@pytest.mark.parametrize("kind", list(_LABELLED))
def test_value_labels_drawn_without_the_anchor_check_are_drawn_as_with_it(kind):
    """Value labels anchored on the plot skip matplotlib's anchor-inside-the-axes check
    (kpilib.charts._label_clip): the same SVG as with matplotlib's default check on every
    label, also for negative values (whose labels the check hides below the plot)."""
    from kpilib import charts

    fig = _LABELLED[kind](charts)
    assert any(t.get_annotation_clip() is False for t in fig.axes[0].texts)  # skipped somewhere
    checked = _LABELLED[kind](charts)
    for text in checked.axes[0].texts:
        text.set_annotation_clip(None)  # matplotlib's default: checked at every draw
    assert charts.figure_svg(fig) == charts.figure_svg(checked)


def test_the_ranking_chart_drawn_once_serves_every_district():
    """One drawing per quarter, the unit's bar recoloured: exactly that bar is red, and its
    bar has the same place as when drawn for the unit."""
    from kpilib import charts

    frame = _ranking_frame()
    plain = charts.figure_svg(charts.district_position(frame, unit_code=None, title="t"))
    red, grey = charts._COLOURS["highlight"], charts._COLOURS["muted"]
    assert f"fill: {red}" not in plain and plain.count(f"fill: {grey}") == 50
    for code in ("1001", "1033"):
        svg = charts.highlight_unit(plain, code)
        groups = re.findall(r'<g id="unit-(\w+)">(.*?)</g>', svg, flags=re.S)
        assert len(groups) == 50
        assert [c for c, body in groups if f"fill: {red}" in body] == [code]
        assert svg.count(f"fill: {grey}") == 49
    drawn = charts.figure_svg(charts.district_position(frame, unit_code="1033", title="t"))
    bar = re.search(r'<g id="unit-1033">\s*<path d="([^"]+)"', drawn).group(1)
    assert f"fill: {red}" in drawn.split('<g id="unit-1033">')[1].split("</g>")[0]
    assert len(bar.split()) == len(
        re.search(r'<g id="unit-1033">\s*<path d="([^"]+)"', plain).group(1).split()
    )


def test_ranking_caption_counts_from_the_highest_value():
    from kpilib import charts

    frame = _ranking_frame(5)  # values 50, 87, 79, 71, 63 for 1001..1005
    order = frame.sort_values("value", ascending=False)["unit_code"].tolist()
    for code in frame["unit_code"]:
        assert charts.district_rank(frame, code) == (order.index(code) + 1, 5)
    with_gap = frame.assign(value=[50.0, None, 79.0, 71.0, 63.0])
    assert charts.district_rank(with_gap, "1002") is None
    assert charts.district_rank(with_gap, "1003") == (1, 4)


@pytest.mark.parametrize(
    ("reason", "thai"),
    [
        ("exact duplicate of data row 192448", "ซ้ำกับแถวข้อมูลที่ 192448 ทุกช่อง"),
        ("district is empty", "ไม่ได้กรอกเขต"),
        (
            "district is not one of the 50 Bangkok districts: บางรักใหม่",
            'เขต "บางรักใหม่" ไม่ใช่ 1 ใน 50 เขตของกรุงเทพมหานคร',
        ),
        (
            "timestamp: year 2567 looks like Buddhist Era in a Common-Era field; 2567 - 543 = 2024",
            "วันเวลา: ปี 2567 น่าจะเป็นพุทธศักราชในช่องที่ต้องเป็นคริสต์ศักราช (2567 − 543 = 2024)",
        ),
        (
            "duplicate key (ticket_id) of data row 5 with other content; the first row is kept",
            "เลขที่เรื่อง ซ้ำกับแถวข้อมูลที่ 5 แต่ข้อมูลช่องอื่นต่างกัน (เก็บแถวแรกไว้)",
        ),
        ("province is outside bangkok: นนทบุรี", 'จังหวัด "นนทบุรี" อยู่นอกกรุงเทพมหานคร'),
        ("star: not a whole number: 4.5", 'คะแนนความพึงพอใจ "4.5" ไม่ใช่จำนวนเต็ม'),
        ("a reason nobody wrote words for", "a reason nobody wrote words for"),
    ],
)
def test_why_a_row_was_set_aside_reads_in_thai(reason, thai):
    from kpilib.words import reason_th

    assert reason_th(reason) == thai


def test_the_validation_section_and_csv_give_the_reason_in_thai(tmp_path):
    rows = (
        RowSample(source_row=7, value="บางรักใหม่",
                  reason="district is not one of the 50 Bangkok districts: บางรักใหม่"),
        RowSample(source_row=9, reason="exact duplicate of data row 3"),
    )  # fmt: skip
    finding = FindingEntry(check="ingest_quarantine", table="tickets", severity="warning",
                           count=2, message="x", source_file="traffy.csv", rows=rows)  # fmt: skip
    doc = _document((finding,))
    seen = html.unescape(re.sub(r"<[^>]+>", " ", report.validation_html(doc)))
    assert "ไม่ใช่ 1 ใน 50 เขตของกรุงเทพมหานคร" in seen and "ซ้ำกับแถวข้อมูลที่ 3 ทุกช่อง" in seen
    assert "exact duplicate" not in seen and "Bangkok districts" not in seen
    path = report.write_findings_beside(doc, tmp_path / "report.json")
    data = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    reasons = [row[data[0].index("เหตุผล")] for row in data[1:]]
    assert reasons == ['เขต "บางรักใหม่" ไม่ใช่ 1 ใน 50 เขตของกรุงเทพมหานคร', "ซ้ำกับแถวข้อมูลที่ 3 ทุกช่อง"]
