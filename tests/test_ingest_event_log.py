"""Source event-log: the canonical complaint event log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpilib.ingest import read_source
from kpilib.tables import load_tables

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"


def test_event_log_handmade() -> None:
    pf = read_source(FIX / "complaint_events_handmade.csv")
    assert pf.source == "event-log"
    frame = pf.frame
    decl = load_tables().table("events")
    assert list(frame.columns) == list(decl.output_columns())
    assert list(frame["event"].cat.categories) == list(decl.columns["event"].values or ())
    q = pf.quarantine
    got = dict(zip(q["source_row"].astype(int), q["reason_code"], strict=True))
    assert got == {
        5: "duplicate",
        7: "unknown_event",
        8: "missing_unit_code",
        9: "be_year",
        10: "missing_ticket_id",
        11: "bad_unit_code",
    }
    assert pf.rows == pf.carried + len(q)
    t2 = frame.loc[frame["ticket_id"] == "T2"].iloc[0]
    assert t2["event"] == "accepted"  # "Accepted": names are matched case-insensitively
    assert t2["timestamp"] == pd.Timestamp("2024-01-16 09:00", tz="Asia/Bangkok")
    t5 = frame.loc[frame["ticket_id"] == "T5"].iloc[0]
    assert t5["timestamp"] == pd.Timestamp("2024-01-20 09:00", tz="Asia/Bangkok")


def test_malformed_record_is_set_aside_with_its_row_and_later_rows_keep_theirs() -> None:
    pf = read_source(FIX / "complaint_events_bad_shape.csv")
    assert pf.rows == 3
    assert pf.frame["source_row"].tolist() == [1, 3]
    bad = pf.quarantine.loc[pf.quarantine["reason_code"] == "bad_row_shape"]
    assert bad["source_row"].tolist() == [2]
    assert bad["check"].tolist() == ["malformed_row"]
    assert bad["raw_text"].item().endswith(",extra")


def test_gzip_input_reads_like_plain(tmp_path: Path) -> None:
    import gzip

    src = FIX / "complaint_events_handmade.csv"
    gz = tmp_path / "anything.csv.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    a, b = read_source(src), read_source(gz)
    pd.testing.assert_frame_equal(
        a.frame.drop(columns="source_file"), b.frame.drop(columns="source_file")
    )
    assert len(a.quarantine) == len(b.quarantine)
    import hashlib

    assert b.sha256 == hashlib.sha256(gz.read_bytes()).hexdigest()  # of the file as stored
