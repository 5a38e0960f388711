"""Ingest adapters: the real Traffy extract, hand-made API v2 / event log / table files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kpilib.errors import SchemaError
from kpilib.ingest import (
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    detect_source,
    ingest,
    read_source,
)

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"


@pytest.fixture(scope="module")
def real_extract(shared_dir: Path) -> Path:
    return shared_dir / "data" / "traffy" / "traffy_opendata_extract_2023-05.csv"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reasons(q: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in q["reason_code"].value_counts().items()}


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("traffy_dump_slice.csv", "traffy-dump"),
        ("traffy_api_v2_handmade.csv", "traffy-api-v2"),
        ("complaint_events_handmade.csv", "event-log"),
        ("report_submissions_handmade.csv", "report_submissions"),
        ("key_projects_handmade.csv", "key_projects"),
    ],
)
def test_detect_source_from_header(name: str, source: str) -> None:
    assert detect_source(FIX / name) == source


def test_unknown_schema_lists_expected_and_found_columns() -> None:
    with pytest.raises(SchemaError) as exc:
        detect_source(FIX / "unknown_schema.csv")
    msg = str(exc.value)
    assert "unknown_schema.csv" in msg
    assert "found [a, b, ticket_id]" in msg
    assert "expected columns [" in msg
    assert "missing [" in msg and "unexpected [a, b]" in msg


def test_stated_source_that_does_not_match_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"missing \[type, organization"):
        read_source(FIX / "complaint_events_handmade.csv", source="traffy-dump")


# --------------------------------------------------------------------------- the real dump


def test_real_extract_quarantine_counts(real_extract: Path) -> None:
    src, frame, q, rows = read_source(real_extract)
    assert src == "traffy-dump"
    assert rows == 1000
    assert _reasons(q) == {"outside_bangkok": 4, "missing_ticket_id": 12}
    assert len(frame) == 1000 - 16
    assert not frame["ticket_id"].duplicated().any()
    assert set(frame["unit_code"]) <= {str(c) for c in range(1001, 1051)}
    assert frame["unit_code"].nunique() == 50


def test_real_extract_bom_and_dtypes(real_extract: Path) -> None:
    _, frame, _, _ = read_source(real_extract)
    assert list(frame.columns) == list(TICKET_COLUMNS)
    assert frame["ticket_id"].iloc[0] == "2023-FCX4QQ"  # first column read despite the BOM
    for col in ("created_at", "inprogress_at", "finished_at"):
        assert str(frame[col].dtype) == "datetime64[ns, Asia/Bangkok]"
    assert frame["finished_at"].isna().all()
    assert frame["state_is_export_time"].all()
    assert str(frame["count_reopen"].dtype) == "Int64"
    assert str(frame["star"].dtype) == "Float64"


def test_real_extract_day_shift_lands_on_bangkok_day(real_extract: Path) -> None:
    raw = pd.read_csv(real_extract, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    utc = pd.to_datetime(raw["timestamp"], format="ISO8601", utc=True)
    shifted = raw.loc[utc.dt.date != utc.dt.tz_convert("Asia/Bangkok").dt.date, "ticket_id"]
    assert len(shifted) == 43  # SOURCES.md
    _, frame, _, _ = read_source(real_extract)
    mine = frame.set_index("ticket_id")
    raw_day = pd.Series(utc.dt.date.to_numpy(), index=raw["ticket_id"])
    kept = [t for t in shifted if t in mine.index]
    assert kept
    for t in kept:
        assert mine.at[t, "created_at"].date() == raw_day[t] + pd.Timedelta(days=1)
        assert mine.at[t, "created_at"].hour < 7


def test_real_extract_type_tags(real_extract: Path) -> None:
    _, frame, _, _ = read_source(real_extract)
    assert (frame["type_tags"] == "").sum() > 0
    assert not frame["type_tags"].str.contains(r"[{}]").any()
    tags = {t for v in frame["type_tags"] if v for t in v.split(",")}
    assert len(tags) == 24
    row = frame.loc[frame["ticket_id"] == "2023-HA44MD", "type_tags"].item()
    assert row == "กีดขวาง,ถนน"


# --------------------------------------------------------------------------- API v2 (hand-made)


def test_api_v2_handmade() -> None:
    src, frame, q, rows = read_source(FIX / "traffy_api_v2_handmade.csv")
    assert src == "traffy-api-v2" and rows == 12
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
    be = q.loc[q["reason_code"] == "be_year", "reason"].item()
    assert "2567" in be and "2567 - 543 = 2024" in be
    t = frame.set_index("ticket_id")
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


# --------------------------------------------------------------------------- event log


def test_event_log_handmade() -> None:
    src, frame, q, _ = read_source(FIX / "complaint_events_handmade.csv")
    assert src == "event-log"
    assert list(frame.columns) == list(EVENT_COLUMNS)
    assert list(frame["event"].cat.categories) == [
        "forwarded",
        "accepted",
        "progress",
        "finished",
        "reopened",
    ]
    got = dict(zip(q["source_row"].astype(int), q["reason_code"], strict=True))
    assert got == {
        5: "duplicate",
        7: "unknown_event",
        8: "missing_unit_code",
        9: "be_year",
        10: "missing_ticket_id",
        11: "bad_unit_code",
    }
    t2 = frame.loc[frame["ticket_id"] == "T2"].iloc[0]
    assert t2["event"] == "accepted"
    assert t2["timestamp"] == pd.Timestamp("2024-01-16 09:00", tz="Asia/Bangkok")
    t5 = frame.loc[frame["ticket_id"] == "T5"].iloc[0]
    assert t5["timestamp"] == pd.Timestamp("2024-01-20 09:00", tz="Asia/Bangkok")


# --------------------------------------------------------------------------- other tables


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report_submissions_handmade.csv", {3: "be_year", 5: "duplicate", 6: "bad_date"}),
        ("key_projects_handmade.csv", {2: "bad_boolean", 3: "bad_number"}),
    ],
)
def test_other_tables_quarantine(name: str, expected: dict[int, str]) -> None:
    _, _, q, _ = read_source(FIX / name)
    assert dict(zip(q["source_row"].astype(int), q["reason_code"], strict=True)) == expected


def test_report_submissions_dtypes_and_thai_dates() -> None:
    _, frame, _, _ = read_source(FIX / "report_submissions_handmade.csv")
    assert str(frame["submitted_on"].dtype) == "datetime64[ns]"
    got = dict(zip(frame["month"], frame["submitted_on"], strict=True))
    assert got["2024-03"] == pd.Timestamp("2024-04-05")  # "5/4/2567"
    assert pd.isna(got["2024-01"])  # empty = not submitted


def test_key_projects_dtypes() -> None:
    _, frame, _, _ = read_source(FIX / "key_projects_handmade.csv")
    assert frame["on_plan"].dtype == bool
    assert str(frame["fiscal_year"].dtype) == "Int64"
    assert frame.set_index("project_id")["on_plan"].to_dict() == {"KP01": True, "KP04": False}


# --------------------------------------------------------------------------- the whole run


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in (
        "traffy_dump_slice.csv",
        "traffy_api_v2_handmade.csv",
        "complaint_events_handmade.csv",
        "report_submissions_handmade.csv",
        "key_projects_handmade.csv",
    ):
        shutil.copy(FIX / name, raw / name)
    return tmp_path


def test_ingest_writes_tables_quarantine_and_report(data_dir: Path) -> None:
    rep = ingest(data_dir=data_dir)
    out = data_dir / "processed"
    assert rep.tables["tickets"] == len(pd.read_parquet(out / "tickets.parquet"))
    assert {p.name for p in out.glob("*.parquet")} == {
        "tickets.parquet",
        "events.parquet",
        "report_submissions.parquet",
        "key_projects.parquet",
    }
    q = pd.read_csv(out / "quarantine" / "tickets.csv", dtype=str, keep_default_na=False)
    assert list(q.columns[:4]) == ["source_file", "source_row", "reason_code", "reason"]
    assert "ticket_id" in q.columns and "comment" in q.columns  # original fields kept
    assert set(q["source_file"]) == {"traffy_dump_slice.csv", "traffy_api_v2_handmade.csv"}
    report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["quarantine"]["tickets"]["outside_bangkok"] == 4
    assert report["quarantine"]["tickets"]["missing_ticket_id"] == 12
    assert sum(report["quarantine"]["tickets"].values()) == len(q)
    # nothing silently dropped: rows read = carried + quarantined, per file
    for f in report["files"]:
        assert f["rows"] == f["carried"] + sum(f["quarantined"].values())


def test_ingest_is_idempotent_and_never_touches_raw(data_dir: Path) -> None:
    raw_before = {p.name: _sha(p) for p in (data_dir / "raw").iterdir()}
    ingest(data_dir=data_dir)
    out = data_dir / "processed"
    first = {p.relative_to(out): _sha(p) for p in out.rglob("*") if p.is_file()}
    ingest(data_dir=data_dir)
    second = {p.relative_to(out): _sha(p) for p in out.rglob("*") if p.is_file()}
    assert first == second
    assert {p.name: _sha(p) for p in (data_dir / "raw").iterdir()} == raw_before


def test_schema_error_leaves_previous_output(data_dir: Path) -> None:
    ingest(data_dir=data_dir)
    before = _sha(data_dir / "processed" / "tickets.parquet")
    shutil.copy(FIX / "unknown_schema.csv", data_dir / "raw" / "zz.csv")
    with pytest.raises(SchemaError):
        ingest(data_dir=data_dir)
    assert _sha(data_dir / "processed" / "tickets.parquet") == before


def test_gzip_input_reads_like_plain(tmp_path: Path) -> None:
    import gzip

    src = FIX / "complaint_events_handmade.csv"
    gz = tmp_path / "complaint_events.csv.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    _, a, qa, _ = read_source(src)
    _, b, qb, _ = read_source(gz)
    pd.testing.assert_frame_equal(a.drop(columns="source_file"), b.drop(columns="source_file"))
    assert len(qa) == len(qb)


def test_cli_ingest_prints_counts(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kpilib.cli import main

    assert main(["ingest", "--data", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "4 × outside_bangkok" in out and "12 × missing_ticket_id" in out
    assert main(["ingest", str(FIX / "unknown_schema.csv"), "--data", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert "unknown schema" in err and "\n" not in err.strip()


def test_side_input_is_recognised_but_not_ingested(data_dir: Path) -> None:
    shutil.copy(FIX / "monthly_figures.csv", data_dir / "raw" / "monthly_figures.csv")
    rep = ingest(data_dir=data_dir)
    side = [f for f in rep.files if f.file == "monthly_figures.csv"]
    assert len(side) == 1 and side[0].source == "monthly_figures" and side[0].table == ""
    assert "monthly_figures" not in rep.tables


def test_same_ticket_in_two_sources_keeps_the_api_v2_row(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(FIX / "traffy_api_v2_handmade.csv", raw / "api.csv")
    dump = pd.read_csv(
        FIX / "traffy_dump_slice.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    dump.loc[0, "ticket_id"] = "2024-AAAA07"  # also in the API v2 file
    dump.to_csv(raw / "dump.csv", index=False)
    rep = ingest(data_dir=tmp_path)
    t = pd.read_parquet(tmp_path / "processed" / "tickets.parquet")
    row = t.loc[t["ticket_id"] == "2024-AAAA07"]
    assert len(row) == 1 and row["source"].item() == "traffy-api-v2"
    q = pd.read_csv(
        tmp_path / "processed" / "quarantine" / "tickets.csv", dtype=str, keep_default_na=False
    )
    dup = q.loc[(q["reason_code"] == "duplicate_ticket_id") & (q["source_file"] == "dump.csv")]
    assert dup["source_row"].tolist() == ["1"]
    assert "api.csv data row 7" in dup["reason"].item()
    for f in rep.files:
        assert f.rows == f.carried + sum(f.quarantined.values())


def test_district_table_from_units_yaml_and_csv_agree(project_root: Path, tmp_path: Path) -> None:
    from kpilib.ingest import district_table

    shutil.copy(project_root / "params" / "districts.csv", tmp_path / "districts.csv")
    from_csv = district_table(tmp_path)
    default = district_table(project_root / "params")
    assert len(from_csv) == 50
    assert not from_csv["name"].str.startswith("เขต").any()
    assert dict(zip(default["name"], default["unit_code"], strict=True)) == dict(
        zip(from_csv["name"], from_csv["unit_code"], strict=True)
    )


def test_malformed_record_is_quarantined_with_its_row_and_later_rows_keep_theirs() -> None:
    _, frame, q, rows = read_source(FIX / "complaint_events_bad_shape.csv")
    assert rows == 3
    assert frame["source_row"].tolist() == [1, 3]
    bad = q.loc[q["reason_code"] == "bad_row_shape"]
    assert bad["source_row"].tolist() == [2]
    assert bad["raw_text"].item().endswith(",extra")
