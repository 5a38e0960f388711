"""The bad-input corpus: each case is a raw file and its expected outcome.

``tests/fixtures/bad_inputs/<case>.csv`` goes, alone, into a data folder's ``raw/`` (under
the name ``file`` of ``<case>.yaml``, gzipped if ``gzip``), and is ingested and validated.
The sidecar states the outcome — ``finding`` (named findings), ``read`` (read correctly,
rows and values checked) or ``error`` (the file is unusable: ``kpi ingest FILE`` refuses it
with a one-line message) — and the exact findings. Every case also checks that nothing is
lost: rows read = carried + quarantined, every row set aside is named by a finding, no
traceback, and the raw file is unchanged.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpilib.ingest import load_ingest_report
from kpilib.validation import run_validation
from kpilib.words import reason_th

BAD = Path(__file__).resolve().parent / "fixtures" / "bad_inputs"
CASES = sorted(p.stem for p in BAD.glob("*.yaml"))
FY = 2567
OUTCOMES = {"finding", "read", "error"}


def _spec(case: str) -> dict:
    return yaml.safe_load((BAD / f"{case}.yaml").read_text(encoding="utf-8"))


def test_corpus_covers_the_issues() -> None:
    needed = {
        # issue 13 item 1: files found by any name, gzipped, the dump, unknown files
        "gzipped_api_v2", "renamed_api_v2", "dump_outside_bangkok", "unknown_schema",
        "unreadable_unknown_name",
        # issue 13 item 7
        "thai_digits_optional_numbers", "state_not_relevant", "type_not_a_tag",
        "finished_before_created", "finished_before_forwarded",
        # issue 13 item 3: a duplicate already dropped is one warning
        "exact_duplicate_row", "same_id_other_content",
        # the defects of the first corpus
        "missing_column", "duplicate_keys", "be_year_in_ce_field", "thai_digits",
        "unknown_district", "numerator_gt_denominator", "empty_file", "wrong_encoding",
        "utf8_bom", "not_a_csv_html", "not_a_csv_binary", "malformed_record",
    }  # fmt: skip
    assert needed <= set(CASES)
    for case in CASES:
        assert (BAD / f"{case}.csv").is_file(), f"{case}.yaml has no {case}.csv"
        assert _spec(case)["outcome"] in OUTCOMES


@pytest.fixture(scope="module")
def gx_context():  # type: ignore[no-untyped-def]
    from kpilib.validation import new_gx_context

    return new_gx_context()


def _as_text(v: object) -> str:
    if v is None or v is pd.NaT or (not isinstance(v, str) and pd.isna(v)):  # type: ignore[arg-type]
        return ""
    return v.isoformat() if isinstance(v, pd.Timestamp) else str(v)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_has_exactly_its_expected_outcome(case, tmp_path, gx_context, capsys):  # type: ignore[no-untyped-def]
    spec = _spec(case)
    name = spec.get("file", f"{case}.csv")
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    content = (BAD / f"{case}.csv").read_bytes()
    path = data / "raw" / name
    path.write_bytes(gzip.compress(content, mtime=0) if spec.get("gzip") else content)
    before = path.read_bytes()

    rep = run_validation(data, fy=FY, out_dir=tmp_path / "out", data_docs=False,
                         gx_context=gx_context)  # fmt: skip

    got = sorted(
        (f.check, f.severity, f.table, f.column, list(f.source_rows), f.unit_code)
        for f in rep.findings
    )
    want = sorted(
        (e["check"], e["severity"], e["table"], e["column"], e["rows"], e["unit_code"])
        for e in spec["findings"]
    )
    assert got == want
    assert rep.exit_code == spec["exit_code"]
    messages = " | ".join(f.message for f in rep.findings)
    for text in spec["message_contains"]:
        assert text in messages
    assert path.read_bytes() == before  # raw never modified

    # nothing lost: rows read = carried + set aside, and every row set aside is named
    ingest = load_ingest_report(data / "processed" / "ingest_report.json")
    [f] = ingest.files
    assert f.file == name
    if f.status == "ingested":
        assert f.rows == f.carried + sum(f.quarantined.values())
        q = data / "processed" / "quarantine" / f"{f.table}.csv"
        set_aside = (
            set(pd.read_csv(q, dtype=str)["source_row"].astype(int)) if q.is_file() else set()
        )
        named = {r for x in rep.findings if x.source_file == name for r in x.source_rows}
        assert set_aside <= named
        # and people read why in Thai: every reason the ingest wrote has its Thai words
        reasons = set(pd.read_csv(q, dtype=str)["reason"]) if q.is_file() else set()
        assert {r for r in reasons if reason_th(r) == r} == set()
    else:  # a file that was not read is itself named by a finding
        assert any(x.source_file == name and not x.source_rows for x in rep.findings)

    read = spec.get("read")
    if read:
        table = pd.read_parquet(data / "processed" / f"{read['table']}.parquet")
        if read.get("rows") is not None:
            assert len(table) == read["rows"]
        for col, values in (read.get("columns") or {}).items():
            assert [_as_text(v) for v in table[col]] == values, col

    if spec.get("ingest_error"):  # named on the command line, the file is refused clearly
        from kpilib.cli import main

        capsys.readouterr()
        rc = main(["ingest", str(path), "--data", str(data), "--out", str(tmp_path / "p2")])
        err = capsys.readouterr().err.strip()
        assert rc == 2
        assert spec["ingest_error"] in err and name in err and len(err.splitlines()) == 1
