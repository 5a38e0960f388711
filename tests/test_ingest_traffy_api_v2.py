"""Source traffy-api-v2: hand-made rows, one defect or quirk each."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpilib.ingest import ParsedFile, read_source

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"


@pytest.fixture(scope="module")
def parsed() -> ParsedFile:
    return read_source(FIX / "traffy_api_v2_handmade.csv")


def test_rows_set_aside_with_their_first_reason(parsed: ParsedFile) -> None:
    assert parsed.source == "traffy-api-v2" and parsed.rows == 12
    q = parsed.quarantine
    got = dict(zip(q["source_row"].astype(int), q["reason_code"], strict=True))
    assert got == {
        2: "be_year",
        5: "duplicate",
        6: "unknown_district",
        8: "duplicate_ticket_id",
        9: "bad_number",
        10: "bad_timestamp",
        11: "missing_district",
    }
    checks = dict(zip(q["source_row"].astype(int), q["check"], strict=True))
    assert checks[5] == "duplicate_row" and checks[8] == "unique" and checks[2] == "era_confusion"
    be = q.loc[q["reason_code"] == "be_year", "reason"].item()
    assert "2567" in be and "2567 - 543 = 2024" in be
    assert parsed.rows == parsed.carried + len(q)


def test_times_text_and_districts(parsed: ParsedFile) -> None:
    t = parsed.frame.set_index("ticket_id")
    assert not t["state_is_export_time"].any()
    assert t.at["2024-AAAA01", "finished_at"] == pd.Timestamp("2024-01-20 09:00", tz="Asia/Bangkok")
    # naive API v2 times are UTC+7; "Z" is converted
    assert t.at["2024-AAAA04", "created_at"] == pd.Timestamp("2024-01-31 23:30", tz="Asia/Bangkok")
    assert t.at["2024-AAAA12", "created_at"] == pd.Timestamp("2024-02-01 03:00", tz="Asia/Bangkok")
    # "เขต" prefix and the second province spelling; text kept verbatim (escaping is the report's job)
    assert t.at["2024-AAAA07", "unit_code"] == "1004"
    assert t.at["2024-AAAA07", "comment"] == 'รถจอดขวาง <script>alert(1)</script>, "ด่วน"'
    # a finished time before the created time is carried over for validation to find
    assert t.at["2024-AAAA03", "finished_at"] < t.at["2024-AAAA03", "created_at"]


def _one_row(tmp_path: Path, **changes: str) -> ParsedFile:
    src = pd.read_csv(FIX / "traffy_api_v2_handmade.csv", dtype=str, keep_default_na=False)
    row = src.iloc[[0]].copy()
    for k, v in changes.items():
        row[k] = v
    path = tmp_path / "one.csv"
    row.to_csv(path, index=False)
    return read_source(path)


@pytest.mark.parametrize(
    ("column", "text", "expected"),
    [("count_reopen", "๒", 2), ("star", "๔", 4.0), ("count_reopen", "๑๐", 10)],
)
def test_thai_digits_in_optional_numbers_are_read_and_noted(
    tmp_path: Path, column: str, text: str, expected: float
) -> None:
    pf = _one_row(tmp_path, **{column: text})
    assert pf.carried == 1 and len(pf.quarantine) == 0  # the ticket is not lost
    assert pf.frame[column].iloc[0] == expected
    [note] = pf.notes.to_dict("records")
    assert (note["check"], note["column"], note["value"]) == ("thai_digits", column, text)


def test_not_relevant_state_is_closed_not_finished(tmp_path: Path) -> None:
    pf = _one_row(tmp_path, status="ไม่เกี่ยวข้อง")
    row = pf.frame.iloc[0]
    assert row["state_class"] == "closed"
    assert pd.isna(row["finished_at"])  # not resolved by the unit
    assert row["closed_at"] == pd.Timestamp("2024-01-20 09:00", tz="Asia/Bangkok")


def test_a_type_that_is_not_a_tag_is_dropped_and_noted(tmp_path: Path) -> None:
    pf = _one_row(tmp_path, type="Point")
    assert pf.frame["type_tags"].iloc[0] == ""
    assert pf.notes["check"].tolist() == ["unknown_tag"]
    pf = _one_row(tmp_path, type="{ถนน,Point}")
    assert pf.frame["type_tags"].iloc[0] == "ถนน"


def test_a_ticket_closed_as_not_relevant_is_neither_finished_nor_in_progress(
    tmp_path: Path,
) -> None:
    from kpilib import complaints

    src = pd.read_csv(FIX / "traffy_api_v2_handmade.csv", dtype=str, keep_default_na=False)
    rows = src.iloc[[0, 0, 0]].reset_index(drop=True)
    rows["ticket_id"] = ["2024-NR0001", "2024-NR0002", "2024-NR0003"]
    rows["status"] = ["ไม่เกี่ยวข้อง", "เสร็จสิ้น", "กำลังดำเนินการ"]
    rows.loc[2, "timestamp_finished"] = ""
    path = tmp_path / "three.csv"
    rows.to_csv(path, index=False)
    tickets = read_source(path).frame
    fig = complaints.monthly_figures(tickets, month="2024-01", units=["1032"]).iloc[0]
    assert (fig["received"], fig["finished"], fig["in_progress"], fig["closed"]) == (3, 1, 1, 1)
    before = complaints.monthly_figures(
        tickets, month="2024-01", as_of="2024-01-16", units=["1032"]
    )
    assert before.iloc[0]["closed"] == 0  # closed on 20 Jan: still open on the 16th
    ageing = complaints.backlog_ageing(tickets, as_of="2024-01-31", unit_code="1032")
    assert int(ageing["open"].sum()) == 1
