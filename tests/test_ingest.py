"""The ingest run: recognising files, the registry, outputs, reruns, files that cannot be used."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kpilib.errors import ConfigError, ParameterError, SchemaError
from kpilib.ingest import (
    adapters,
    closest_source,
    detect_source,
    ingest,
    load_ingest_report,
    read_source,
    source_by_name,
)
from kpilib.tables import load_tables

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- recognising files


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("traffy_dump_slice.csv", "traffy-dump"),
        ("traffy_api_v2_handmade.csv", "traffy-api-v2"),
        ("complaint_events_handmade.csv", "event-log"),
        ("report_submissions_handmade.csv", "report_submissions"),
        ("key_projects_handmade.csv", "key_projects"),
        ("monthly_figures.csv", "monthly_figures"),
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


@pytest.mark.parametrize(
    ("header", "source", "clear"),
    [
        (["ticket_id", "unit_code", "timestamp"], "event-log", True),  # one column short
        (["a", "b", "ticket_id"], "event-log", False),
        (["unit_code", "note"], "manual_results", False),  # too little in common
    ],
)
def test_closest_source_and_whether_it_is_clear(
    header: list[str], source: str, clear: bool
) -> None:
    m = closest_source(header)
    assert (m.source, m.clear) == (source, clear)


def test_stated_source_that_does_not_match_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"missing \[type, organization"):
        read_source(FIX / "complaint_events_handmade.csv", source="traffy-dump")
    with pytest.raises(ParameterError, match="unknown source"):
        read_source(FIX / "complaint_events_handmade.csv", source="nope")


def test_file_names_recognise_a_source_when_the_content_cannot() -> None:
    assert source_by_name("traffy_api_v2.csv.gz") == "traffy-api-v2"
    assert source_by_name("traffy_opendata_extract_2023-05.csv") == "traffy-dump"
    assert source_by_name("conditions.csv") == "conditions"
    assert source_by_name("export.csv") is None


def test_every_declared_adapter_is_registered() -> None:
    for name, _, src in load_tables().sources():
        assert adapters.for_source(name).name == src.adapter
    with pytest.raises(ConfigError, match="unknown adapter"):
        adapters.get("nope")


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
    assert load_ingest_report(out / "ingest_report.json").tables == rep.tables


def test_ingest_is_idempotent_and_never_touches_raw(data_dir: Path) -> None:
    raw_before = {p.name: _sha(p) for p in (data_dir / "raw").iterdir()}
    ingest(data_dir=data_dir)
    out = data_dir / "processed"
    first = {p.relative_to(out): _sha(p) for p in out.rglob("*") if p.is_file()}
    ingest(data_dir=data_dir)
    second = {p.relative_to(out): _sha(p) for p in out.rglob("*") if p.is_file()}
    assert first == second
    assert not [p for p in out.rglob("*") if p.name.startswith(".tmp-")]
    assert {p.name: _sha(p) for p in (data_dir / "raw").iterdir()} == raw_before


def test_a_named_unusable_file_leaves_the_previous_output(data_dir: Path) -> None:
    ingest(data_dir=data_dir)
    before = _sha(data_dir / "processed" / "tickets.parquet")
    with pytest.raises(SchemaError):
        ingest([FIX / "unknown_schema.csv"], data_dir=data_dir)
    assert _sha(data_dir / "processed" / "tickets.parquet") == before


@pytest.mark.parametrize(
    ("content", "status", "table"),
    [
        ((FIX / "unknown_schema.csv").read_bytes(), "unrecognised", "events"),
        (b"ticket_id,unit_code,timestamp\nT1,1032,2024-01-15T10:00:00+07:00\n", "unrecognised", "events"),
        (b"\x00\x01\x02 binary", "unreadable", ""),
    ],
)  # fmt: skip
def test_a_file_in_raw_that_cannot_be_used_is_recorded_and_the_rest_ingested(
    data_dir: Path, content: bytes, status: str, table: str
) -> None:
    (data_dir / "raw" / "zz.csv").write_bytes(content)
    rep = ingest(data_dir=data_dir)
    [bad] = rep.not_ingested
    assert (bad.file, bad.status, bad.table) == ("zz.csv", status, table)
    assert bad.sha256 == _sha(data_dir / "raw" / "zz.csv")
    assert "zz.csv" in bad.problem
    assert rep.tables["tickets"] > 0  # the other files were ingested


def test_gzipped_file_of_any_name_is_ingested(data_dir: Path) -> None:
    src = data_dir / "raw" / "traffy_api_v2_handmade.csv"
    (data_dir / "raw" / "export_2024.csv.gz").write_bytes(gzip.compress(src.read_bytes()))
    src.unlink()
    rep = ingest(data_dir=data_dir)
    f = next(f for f in rep.files if f.file == "export_2024.csv.gz")
    assert (f.source, f.rows, f.carried) == ("traffy-api-v2", 12, 5)


def test_cli_ingest_prints_counts_and_exit_codes(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kpilib.cli import main

    assert main(["ingest", "--data", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "4 × outside_bangkok" in out and "12 × missing_ticket_id" in out
    assert main(["ingest", str(FIX / "unknown_schema.csv"), "--data", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert "unknown schema" in err and "\n" not in err.strip()
    shutil.copy(FIX / "unknown_schema.csv", data_dir / "raw" / "zz.csv")
    assert main(["ingest", "--data", str(data_dir)]) == 1  # ingested, but one file was not
    assert "NOT INGESTED (unrecognised)" in capsys.readouterr().out


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
    assert rep.tables["tickets"] == len(t)
    q = pd.read_csv(
        tmp_path / "processed" / "quarantine" / "tickets.csv", dtype=str, keep_default_na=False
    )
    dup = q.loc[(q["reason_code"] == "duplicate_ticket_id") & (q["source_file"] == "dump.csv")]
    assert dup["source_row"].tolist() == ["1"]
    assert dup["check"].tolist() == ["source_overlap"]  # expected overlap: a warning
    assert "api.csv data row 7" in dup["reason"].item()
    for f in rep.files:
        assert f.rows == f.carried + sum(f.quarantined.values())


def test_the_same_rows_in_two_files_of_one_source_are_exact_duplicates(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(FIX / "complaint_events_handmade.csv", raw / "a.csv")
    shutil.copy(FIX / "complaint_events_handmade.csv", raw / "b.csv")
    rep = ingest(data_dir=tmp_path)
    a, b = (next(f for f in rep.files if f.file == n) for n in ("a.csv", "b.csv"))
    assert b.carried == 0  # its 6 carried rows repeat a.csv's exactly
    assert b.quarantined == {**a.quarantined, "duplicate": a.quarantined["duplicate"] + 6}
    assert rep.tables["events"] == 6
