"""The certification rule (issue 13 items 2-4): a blocking finding withholds certification only
from KPIs whose counted rows it touches in the period; no data is not certified; no validation
results is unknown."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from kpilib.catalog import load_catalog
from kpilib.certify import blocking_in_period
from kpilib.document import read_report_json
from kpilib.scoring import unit_scorecard
from kpilib.validation import Finding

BKK = "Asia/Bangkok"


class _Bundle:
    """Canonical tables plus the rows the ingest set aside, as a data bundle gives them."""

    def __init__(self, tables: dict[str, pd.DataFrame], aside: dict[str, pd.DataFrame]) -> None:
        self._tables, self._aside = tables, aside

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str) -> pd.DataFrame:
        return self._tables[name]

    def quarantine(self, name: str) -> pd.DataFrame:
        return self._aside.get(name, pd.DataFrame(columns=["source_file", "source_row"]))


def _bundle() -> _Bundle:
    directives = pd.DataFrame(
        {
            "directive_id": ["d1", "d2", "d3"],
            "unit_code": ["GOVSEC"] * 3,
            "visit_type": ["district"] * 3,
            "issued_on": pd.to_datetime(["2023-10-15", "2023-11-02", "2024-05-20"]),
            "completed_on": pd.to_datetime(["2023-10-20", None, None]),
            "source_file": ["directives.csv"] * 3,
            "source_row": [1, 2, 3],
        }
    )
    aside = pd.DataFrame(  # row 4 was set aside: its date is a Buddhist-Era year, read as such
        {
            "source_file": ["directives.csv", "directives.csv"],
            "source_row": [4, 5],
            "issued_on": ["2567-01-05", "not a date"],
        }
    )
    return _Bundle({"directives": directives}, {"directives": aside})


def _finding(rows: tuple[int, ...]) -> Finding:
    return Finding(
        check="not_before",
        table="directives",
        severity="blocking",
        unit_code="GOVSEC",
        column="completed_on",
        count=len(rows),
        message="directives.csv: completed before issued",
        source_file="directives.csv",
        source_rows=rows,
    )


@pytest.mark.parametrize(
    ("rows", "quarter", "touched"),
    [
        ((3,), 1, ()),  # issued 20 May 2024: outside Q1 (and Q2)
        ((3,), 3, (3,)),  # inside Q3 (cumulative from 1 Oct)
        ((1, 3), 1, (1,)),  # only the row in the period is named
        ((4,), 1, ()),  # set aside, dated 5 Jan 2024 (BE 2567): Q2
        ((4,), 2, (4,)),
        ((5,), 1, (5,)),  # no readable date: it could be in any period
    ],
)
def test_a_blocking_finding_touches_only_its_period(rows, quarter, touched):
    got = blocking_in_period([_finding(rows)], _bundle(), fy=2567, quarter=quarter)
    if not touched:
        assert got == {}
    else:
        (reason,) = got["directives"].reasons_th
        assert f"แถวที่ {', '.join(map(str, touched))} ของ directives.csv" in reason


def test_a_finding_about_a_whole_file_touches_every_period():
    whole = _finding(()).model_copy(update={"source_rows": (), "count": 0})
    got = blocking_in_period([whole], _bundle(), fy=2567, quarter=1)
    assert "ทั้งแฟ้ม" in got["directives"].reasons_th[0]


def test_warnings_never_withhold_certification():
    warn = _finding((1,)).model_copy(update={"severity": "warning"})
    assert blocking_in_period([warn], _bundle(), fy=2567, quarter=1) == {}


def test_only_the_kpis_reading_a_touched_table_lose_certification():
    b = _bundle()
    blocked = {
        t: x.reasons_th
        for t, x in blocking_in_period([_finding((1,))], b, fy=2567, quarter=1).items()
    }
    sc = unit_scorecard("GOVSEC", 2567, 1, bundle=b, catalog=load_catalog(), blocked_tables=blocked)
    district = sc.result("govsec_directives_district")
    assert district.certification.state == "not_certified"
    assert "แถวที่ 1 ของ directives.csv" in district.certification.reasons_th[0]
    council = sc.result("govsec_council_resolutions")  # reads another table; it has no data
    assert council.certification.state == "no_data"
    assert sc.certification == "not_certified"


def test_reasons_are_words_for_people_not_ids():
    from kpilib.words import finding_words

    words = finding_words()
    (reason,) = blocking_in_period([_finding((1,))], _bundle(), fy=2567, quarter=1)[
        "directives"
    ].reasons_th
    assert words["tables"]["directives"] in reason
    assert words["checks"]["not_before"]["what_th"] in reason
    assert "not_before" not in reason and "directives " not in reason


def test_no_data_is_not_certified_and_no_validation_is_unknown():
    cat = load_catalog()
    empty = _Bundle({}, {})
    sc = unit_scorecard("1001", 2567, 1, bundle=empty, catalog=cat, blocked_tables={})
    assert {r.certification.state for r in sc.results} == {"no_data"}
    assert sc.certification == "not_certified" and sc.total_points == 0 and sc.counted_weight == 0
    unknown = unit_scorecard("GOVSEC", 2567, 1, bundle=_bundle(), catalog=cat)
    assert unknown.result("govsec_directives_district").certification.state == "unknown"
    assert unknown.certification == "unknown"


@pytest.mark.slow
def test_a_header_only_data_folder_is_not_certified_end_to_end(tmp_path):
    """Issue 13 item 2: empty inputs render, show no data (not 0 points, not 'certified') and
    the run's exit code says some KPIs are not certified."""
    from kpilib import sample

    data = tmp_path / "data"
    sample.generate(data, fy=2567, scale=0.01)
    for f in (data / "raw").glob("*.csv"):
        header = f.read_text(encoding="utf-8-sig").splitlines()[0]
        f.write_text(header + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "kpilib.cli", "report", "--unit", "1001", "--fy", "2567",
         "--quarter", "1", "--data", str(data), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    doc = read_report_json((out / "2567" / "Q1" / "1001" / "report.json").read_bytes())
    assert {r.certification.state for r in doc.scorecard.results} == {"no_data"}
    assert doc.scorecard.counted_weight == 0 and set(doc.scorecard.left_out) == {
        r.kpi.id for r in doc.scorecard.results if r.kpi.weight > 0
    }
    html = (out / "2567" / "Q1" / "1001" / "report.html").read_text(encoding="utf-8")
    assert "ไม่มีข้อมูล" in html and "รับรองแล้ว" not in html
