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


def test_kpi_chart_draws_the_target_line_with_a_legend():
    from kpilib import charts

    figs = charts.kpi_figures(_chart_document())
    council = next(fig for kpi, _, fig in figs if kpi == "govsec_council_resolutions")
    ax = council.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("ค่าเป้าหมาย 95") for label in labels) and "ผลงาน" in labels
    assert any(line.get_linestyle() == "--" for line in ax.get_lines())


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
    FigureCanvasAgg(fig).draw()  # tick labels are made when drawn
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert any("๖๑๗" in t for t in texts)
    assert ticks and all(not re.search(r"[0-9]", t) for t in ticks)
    assert not any(re.search(r"[0-9]", t) for t in texts)
