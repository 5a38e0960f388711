"""Source traffy-dump: the real Traffy Fondue open-data extract (../shared/data/traffy)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpilib.ingest import ParsedFile, read_source
from kpilib.tables import load_tables


@pytest.fixture(scope="module")
def real_extract(shared_dir: Path) -> Path:
    return shared_dir / "data" / "traffy" / "traffy_opendata_extract_2023-05.csv"


@pytest.fixture(scope="module")
def parsed(real_extract: Path) -> ParsedFile:
    return read_source(real_extract)


def test_quarantine_counts_and_rows_accounted(parsed: ParsedFile) -> None:
    assert parsed.source == "traffy-dump"
    assert parsed.rows == 1000
    assert parsed.reason_counts() == {"missing_ticket_id": 12, "outside_bangkok": 4}
    assert parsed.rows == parsed.carried + len(parsed.quarantine)
    frame = parsed.frame
    assert not frame["ticket_id"].duplicated().any()
    assert set(frame["unit_code"]) <= {str(c) for c in range(1001, 1051)}
    assert frame["unit_code"].nunique() == 50


def test_columns_and_dtypes_are_the_declared_ones(parsed: ParsedFile) -> None:
    decl = load_tables().table("tickets")
    frame = parsed.frame
    assert list(frame.columns) == list(decl.output_columns())
    assert frame["ticket_id"].iloc[0] == "2023-FCX4QQ"  # first column read despite the BOM
    for col in ("created_at", "inprogress_at", "finished_at", "closed_at"):
        assert str(frame[col].dtype) == "datetime64[ns, Asia/Bangkok]"
    assert frame["finished_at"].isna().all()  # the dump holds no completion times
    assert frame["state_is_export_time"].all()
    assert str(frame["count_reopen"].dtype) == "Int64"
    assert str(frame["star"].dtype) == "Float64"


def test_utc_day_shift_lands_on_bangkok_day(real_extract: Path, parsed: ParsedFile) -> None:
    raw = pd.read_csv(real_extract, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    utc = pd.to_datetime(raw["timestamp"], format="ISO8601", utc=True)
    shifted = raw.loc[utc.dt.date != utc.dt.tz_convert("Asia/Bangkok").dt.date, "ticket_id"]
    assert len(shifted) == 43  # SOURCES.md
    mine = parsed.frame.set_index("ticket_id")
    raw_day = pd.Series(utc.dt.date.to_numpy(), index=raw["ticket_id"])
    kept = [t for t in shifted if t in mine.index]
    assert kept
    for t in kept:
        assert mine.at[t, "created_at"].date() == raw_day[t] + pd.Timedelta(days=1)
        assert mine.at[t, "created_at"].hour < 7


def test_type_literals_become_the_24_tags(parsed: ParsedFile) -> None:
    frame = parsed.frame
    assert (frame["type_tags"] == "").sum() > 0
    assert not frame["type_tags"].str.contains(r"[{}]").any()
    tags = {t for v in frame["type_tags"] if v for t in v.split(",")}
    assert tags == set(load_tables().table("tickets").columns["type_tags"].values or ())
    row = frame.loc[frame["ticket_id"] == "2023-HA44MD", "type_tags"].item()
    assert row == "กีดขวาง,ถนน"
    assert len(parsed.notes) == 0  # every type in the real extract is a known tag


def test_quarantine_names_file_row_reason_check_and_unit(parsed: ParsedFile) -> None:
    q = parsed.quarantine
    assert list(q.columns[:7]) == [
        "source_file", "source_row", "reason_code", "reason", "check", "column", "unit_code",
    ]  # fmt: skip
    outside = q.loc[q["reason_code"] == "outside_bangkok"]
    assert set(outside["check"]) == {"outside_area"}
    assert set(outside["province"]) == {"พะเยา", "สมุทรปราการ", "ยโสธร"}
    missing = q.loc[q["reason_code"] == "missing_ticket_id"]
    assert set(missing["check"]) == {"missing_value"} and set(missing["column"]) == {"ticket_id"}
    assert (missing["unit_code"].str.fullmatch(r"10\d\d")).all()  # still attributed to a district
