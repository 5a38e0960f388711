"""Source side-table: the other inputs, read exactly as their declarations say."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpilib.ingest import read_source

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "report_submissions_handmade.csv",
            {3: ("be_year", "era_confusion"), 5: ("duplicate_key", "unique"),
             6: ("bad_date", "unparseable")},
        ),
        (
            "key_projects_handmade.csv",
            {2: ("bad_boolean", "unparseable"), 3: ("bad_number", "unparseable")},
        ),
    ],
)  # fmt: skip
def test_rows_set_aside(name: str, expected: dict[int, tuple[str, str]]) -> None:
    pf = read_source(FIX / name)
    q = pf.quarantine
    got = {
        int(r): (c, k)
        for r, c, k in zip(q["source_row"], q["reason_code"], q["check"], strict=True)
    }
    assert got == expected
    assert pf.rows == pf.carried + len(q)


def test_report_submissions_dtypes_and_thai_dates() -> None:
    frame = read_source(FIX / "report_submissions_handmade.csv").frame
    assert str(frame["submitted_on"].dtype) == "datetime64[ns]"
    got = dict(zip(frame["month"], frame["submitted_on"], strict=True))
    assert got["2024-03"] == pd.Timestamp("2024-04-05")  # "5/4/2567"
    assert pd.isna(got["2024-01"])  # empty = not submitted


def test_key_projects_dtypes_and_boolean_words() -> None:
    frame = read_source(FIX / "key_projects_handmade.csv").frame
    assert frame["on_plan"].dtype == bool
    assert str(frame["fiscal_year"].dtype) == "Int64"
    assert frame.set_index("project_id")["on_plan"].to_dict() == {"KP01": True, "KP04": False}


def test_published_monthly_figures_are_a_table_too() -> None:
    pf = read_source(FIX / "monthly_figures.csv")
    assert (pf.source, pf.table, pf.carried) == ("monthly_figures", "monthly_figures", 1)
    assert pf.frame["finished_pct"].iloc[0] == pytest.approx(60.37)


@pytest.mark.parametrize(
    ("fy", "code", "reason"),
    [("2024", "ce_year", "2024 + 543 = 2567"), ("๒๕๖๗", None, None), ("3000", "bad_fiscal_year", "Buddhist-Era")],
)  # fmt: skip
def test_fiscal_years(tmp_path: Path, fy: str, code: str | None, reason: str | None) -> None:
    path = tmp_path / "kp.csv"
    path.write_text(f"project_id,unit_code,fiscal_year,quarter,on_plan\nP1,GOVSEC,{fy},1,ใช่\n",
                    encoding="utf-8")  # fmt: skip
    pf = read_source(path)
    if code is None:
        assert pf.frame["fiscal_year"].tolist() == [2567] and pf.frame["on_plan"].tolist() == [True]
        assert pf.notes["check"].tolist() == ["thai_digits"]
    else:
        assert pf.quarantine["reason_code"].tolist() == [code]
        assert reason in pf.quarantine["reason"].item()
