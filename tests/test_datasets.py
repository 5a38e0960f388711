"""The data bundle: lazy, cached tables; ingest when stale; raw file hashes."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from kpilib.datasets import Bundle, is_stale, load_bundle
from kpilib.errors import InputError, ParameterError

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in (
        "traffy_api_v2_handmade.csv",
        "complaint_events_handmade.csv",
        "key_projects_handmade.csv",
    ):
        shutil.copy(FIX / name, raw / name)
    return tmp_path


def test_load_bundle_ingests_when_processed_missing(data_dir: Path) -> None:
    assert is_stale(data_dir)
    bundle = load_bundle(data_dir)
    assert isinstance(bundle, Bundle)
    assert bundle.path == data_dir.resolve()
    assert (data_dir / "processed" / "tickets.parquet").is_file()
    assert not is_stale(data_dir)
    assert bundle.tables() == ("tickets", "events", "key_projects")
    assert bundle.has_table("events") and not bundle.has_table("conditions")
    t = bundle.table("tickets")
    assert str(t["created_at"].dtype) == "datetime64[ns, Asia/Bangkok]"
    assert len(t) == 5


def test_table_is_cached_and_protected(data_dir: Path) -> None:
    bundle = load_bundle(data_dir)
    a = bundle.table("events")
    a["ticket_id"] = "changed"
    b = bundle.table("events")
    assert (b["ticket_id"] != "changed").all()
    assert b is not a


def test_unknown_and_missing_tables(data_dir: Path) -> None:
    bundle = load_bundle(data_dir)
    with pytest.raises(ParameterError, match="unknown table"):
        bundle.table("nope")
    with pytest.raises(InputError, match="conditions"):
        bundle.table("conditions")


def test_input_hashes_are_sha256_of_raw_files(data_dir: Path) -> None:
    bundle = load_bundle(data_dir)
    expected = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((data_dir / "raw").iterdir())
    }
    assert bundle.input_hashes() == expected


def test_stale_when_raw_is_newer_or_files_change(data_dir: Path) -> None:
    load_bundle(data_dir)
    report = data_dir / "processed" / "ingest_report.json"
    raw = data_dir / "raw" / "key_projects_handmade.csv"
    later = report.stat().st_mtime + 10
    os.utime(raw, (later, later))
    assert not is_stale(data_dir)  # touched, same content
    raw.write_text(raw.read_text(encoding="utf-8") + "KP05,GOVSEC,2567,2,true\n", encoding="utf-8")
    os.utime(raw, (later, later))
    assert is_stale(data_dir)
    assert len(load_bundle(data_dir).table("key_projects")) == 3
    assert not is_stale(data_dir)
    (data_dir / "raw" / "key_projects_handmade.csv").unlink()
    assert is_stale(data_dir)
    bundle = load_bundle(data_dir)
    assert not bundle.has_table("key_projects")  # its table went with its input


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_bundle(tmp_path / "nope")
    with pytest.raises(InputError, match="no raw"):
        load_bundle(tmp_path)


def test_quarantine_frame(data_dir: Path) -> None:
    bundle = load_bundle(data_dir)
    q = bundle.quarantine("tickets")
    assert q["reason_code"].value_counts().to_dict()["duplicate"] == 1
    assert len(bundle.quarantine("key_projects")) == 2


def test_one_bundle_per_folder_until_the_next_ingest(tmp_path):
    import os

    from kpilib import sample
    from kpilib.datasets import load_bundle

    data = tmp_path / "data"
    sample.generate(data, fy=2567, scale=0.01)
    first = load_bundle(data)
    assert load_bundle(str(data)) is first
    report = data / "processed" / "ingest_report.json"
    st = report.stat()
    os.utime(report, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert load_bundle(data) is not first


def test_stale_when_the_table_declarations_changed(data_dir: Path) -> None:
    import json

    from kpilib.datasets import ensure_ingested

    assert ensure_ingested(data_dir) is True  # nothing processed yet: ingested
    assert ensure_ingested(data_dir) is False  # up to date: nothing to do
    report = data_dir / "processed" / "ingest_report.json"
    doc = json.loads(report.read_text(encoding="utf-8"))
    doc["declarations"] = "0" * 64  # an ingest made with other declarations
    report.write_text(json.dumps(doc), encoding="utf-8")
    assert is_stale(data_dir)
    assert ensure_ingested(data_dir) is True
    assert not is_stale(data_dir)
