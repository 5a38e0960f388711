"""Tests for kpilib.validation: suites, the bad-input corpus, domain cross-checks, the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpilib import validation as v
from kpilib.errors import ConfigError, InputError

BAD = Path(__file__).resolve().parent / "fixtures" / "bad_inputs"
CASES = sorted(p.stem for p in BAD.glob("*.csv"))
FY = 2567


@pytest.fixture(scope="session")
def gx_context():
    """One great-expectations context for the whole session (importing GX costs seconds)."""
    return v.new_gx_context()


@pytest.fixture(scope="session")
def suites() -> v.SuiteSet:
    return v.load_suites()


def _data_with(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    for name, content in files.items():
        target = data / "raw" / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return data


KPI_IDS = ("govsec-2567-4", "5016-0685")  # local: tests do not depend on the catalogue


def _run(data: Path, out: Path, gx_context, **kw) -> v.ValidationReport:
    kw.setdefault("kpi_ids", KPI_IDS)
    return v.run_validation(data, fy=FY, out_dir=out, data_docs=False, gx_context=gx_context, **kw)


# --------------------------------------------------------------------------- the corpus


def test_corpus_has_every_defect_of_the_issue():
    needed = {
        "missing_column", "duplicate_keys", "be_year_in_ce_field", "thai_digits",
        "finished_before_created", "unknown_district", "numerator_gt_denominator",
        "empty_file", "wrong_encoding", "utf8_bom", "not_a_csv_html", "not_a_csv_binary",
    }  # fmt: skip
    assert needed <= set(CASES)
    for case in CASES:
        assert (BAD / f"{case}.yaml").is_file(), f"{case}.csv has no expected-finding sidecar"


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_exactly_the_expected_finding(case, tmp_path, gx_context, suites):
    spec = yaml.safe_load((BAD / f"{case}.yaml").read_text(encoding="utf-8"))
    table = spec["table"]
    raw_name = suites.tables[table].file
    data = _data_with(tmp_path, {raw_name: (BAD / f"{case}.csv").read_bytes()})
    before = (data / "raw" / raw_name).read_bytes()

    rep = _run(data, tmp_path / "out", gx_context)

    got = sorted(
        (f.check, f.severity, f.column, list(f.source_rows), f.unit_code, f.table)
        for f in rep.findings
    )
    want = sorted(
        (e["check"], e["severity"], e["column"], e["rows"], e["unit_code"], table)
        for e in spec["findings"]
    )
    assert got == want
    assert rep.exit_code == spec["exit_code"]
    messages = " | ".join(f.message for f in rep.findings)
    for text in spec["message_contains"]:
        assert text in messages
    assert (data / "raw" / raw_name).read_bytes() == before  # raw never modified


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("empty_file", "empty file"),
        ("wrong_encoding", "not UTF-8"),
        ("not_a_csv_html", "HTML"),
        ("not_a_csv_binary", "binary"),
    ],
)
def test_read_raw_csv_refuses_unusable_files_naming_the_file(case, words):
    with pytest.raises(InputError) as err:
        v.read_raw_csv(BAD / f"{case}.csv")
    assert words in str(err.value)
    assert f"{case}.csv" in str(err.value)


def test_read_raw_csv_strips_bom_and_numbers_rows_from_one():
    df = v.read_raw_csv(BAD / "utf8_bom.csv")
    assert df.columns[0] == "resolution_id"
    assert list(df.index) == [1, 2]
    assert df.at[2, "reported_on"] == ""  # empty stays empty text, never NaN


def test_read_raw_csv_names_the_row_of_a_broken_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        v.read_raw_csv(path)
    assert err.value.row == 2
    assert "x.csv" in str(err.value)


# --------------------------------------------------------------------------- the run


def test_blocking_rows_are_quarantined_with_reason(tmp_path, gx_context):
    data = _data_with(
        tmp_path, {"complaint_events.csv": (BAD / "accepted_before_forwarded.csv").read_text()}
    )
    out = tmp_path / "out"
    _run(data, out, gx_context)
    q = pd.read_csv(out / "quarantine" / "events.csv", dtype=str)
    assert list(q.columns[:3]) == ["source_file", "source_row", "reason"]
    assert q["source_row"].tolist() == ["4"]
    assert q.at[0, "ticket_id"] == "T2"
    assert "event_order" in q.at[0, "reason"]


def test_warnings_are_not_quarantined_and_thai_digits_are_read(tmp_path, gx_context):
    data = _data_with(tmp_path, {"survey_responses.csv": (BAD / "thai_digits.csv").read_text()})
    out = tmp_path / "out"
    rep = _run(data, out, gx_context)
    assert not (out / "quarantine" / "survey_responses.csv").exists()
    # ๔ read as 4: inside 1..5, so no range or parse finding
    assert {f.check for f in rep.findings} == {"thai_digits"}


def test_thai_digits_out_of_range_are_flagged_not_nan(tmp_path, gx_context):
    csv = "response_id,unit_code,survey,responded_on,level\nR1,GOVSEC,c,2023-11-01,๗\nR2,GOVSEC,c,2023-11-01,x\n"
    data = _data_with(tmp_path, {"survey_responses.csv": csv})
    rep = _run(data, tmp_path / "out", gx_context)
    got = {(f.check, f.source_rows) for f in rep.findings}
    assert got == {("thai_digits", (1,)), ("between", (1,)), ("unparseable", (2,))}


def test_timestamps_outside_fiscal_year_are_warnings(tmp_path, gx_context):
    csv = (
        "request_id,unit_code,user_id,requested_at,acknowledged_at,progress_at\n"
        "Q1,GOVSEC,u1,2023-09-30T23:59:00+07:00,2023-10-01T00:05:00+07:00,\n"
        "Q2,GOVSEC,u1,2023-09-30T17:30:00+00:00,,\n"  # 00:30 on 1 Oct in Bangkok: inside
    )
    data = _data_with(tmp_path, {"line_requests.csv": csv})
    rep = _run(data, tmp_path / "out", gx_context)
    [f] = rep.findings
    assert (f.check, f.severity, f.source_rows) == ("in_fiscal_year", "warning", (1,))


def test_missing_data_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        v.run_validation(tmp_path / "nope", fy=FY, out_dir=tmp_path / "out")


def test_ce_fiscal_year_argument_is_refused(tmp_path):
    data = _data_with(tmp_path, {})
    with pytest.raises(Exception, match="2567"):
        v.run_validation(data, fy=2024, out_dir=tmp_path / "out")


def test_ingest_quarantine_rows_become_findings_with_their_reason(tmp_path, gx_context):
    data = _data_with(tmp_path, {})
    qdir = data / "processed" / "quarantine"
    qdir.mkdir(parents=True)
    (qdir / "tickets.csv").write_text(
        "source_file,source_row,reason_code,reason,ticket_id,district\n"
        "traffy_api_v2.csv,7,unknown_district,not a district: X,A,X\n"
        "traffy_api_v2.csv,9,unknown_district,not a district: X,B,X\n"
        "traffy_api_v2.csv,12,be_year,timestamp: year 2567,C,ประเวศ\n",
        encoding="utf-8",
    )
    (qdir / "events.csv").write_text(
        "source_file,source_row,reason,ticket_id,unit_code\ncomplaint_events.csv,3,bad,T,1001\n",
        encoding="utf-8",
    )
    rep = _run(data, tmp_path / "out", gx_context)
    got = sorted((f.table, f.source_rows, f.unit_code, f.severity) for f in rep.findings)
    assert got == [
        ("events", (3,), "1001", "warning"),
        ("tickets", (7, 9), "X", "warning"),
        ("tickets", (12,), "1032", "warning"),  # district name mapped to its geocode
    ]
    assert {f.check for f in rep.findings} == {"ingest_quarantine"}
    assert any("unknown_district" in f.message and "rows 7, 9" in f.message for f in rep.findings)
    assert rep.blocking_tables("1032") == frozenset()  # a warning does not block


# --------------------------------------------------------------------------- the saved report


def _report_with_findings(tmp_path: Path, gx_context) -> v.ValidationReport:
    files = {
        "complaint_events.csv": (BAD / "unknown_district.csv").read_text(),
        "traffy_api_v2.csv": (BAD / "finished_before_created.csv").read_text(),
        "survey_responses.csv": (BAD / "thai_digits.csv").read_text(),
        "key_projects.csv": (BAD / "not_a_csv_html.csv").read_text(),
    }
    return _run(_data_with(tmp_path, files), tmp_path / "out", gx_context)


def test_report_round_trips_and_loads_without_gx(tmp_path, gx_context):
    rep = _report_with_findings(tmp_path, gx_context)
    path = tmp_path / "out" / "validation.json"
    loaded = v.load_validation_report(path)
    assert loaded == rep
    assert json.loads(path.read_text(encoding="utf-8"))["fy"] == FY
    code = (
        "import sys, kpilib.validation as v;"
        f"r = v.load_validation_report({str(path)!r});"
        "assert 'great_expectations' not in sys.modules, 'GX imported';"
        "print(len(r.findings))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == str(len(rep.findings))


def test_for_unit_and_blocking_tables(tmp_path, gx_context):
    rep = _report_with_findings(tmp_path, gx_context)
    # 1032: its own ticket row + the unreadable key_projects file (file-level: every unit)
    assert rep.blocking_tables("1032") == frozenset({"tickets", "key_projects"})
    # another district: only the file-level problem
    assert rep.blocking_tables("1001") == frozenset({"key_projects"})
    # an office reads tickets/events across districts: the unknown-unit event row counts too
    assert rep.blocking_tables("GOVSEC") == frozenset({"tickets", "events", "key_projects"})
    assert {f.check for f in rep.for_unit("GOVSEC")} >= {"thai_digits", "known_unit"}
    assert all(f.unit_code in (None, "1001") for f in rep.for_unit("1001"))


def test_summary_rows_and_exit_code(tmp_path, gx_context):
    rep = _report_with_findings(tmp_path, gx_context)
    rows = rep.summary_rows()
    assert rows[0]["severity"] == "blocking"
    assert rows[-1] == {"check": "thai_digits", "table": "survey_responses",
                        "severity": "warning", "count": 1, "findings": 1}  # fmt: skip
    assert rep.exit_code == 2  # an unreadable file wins over blocking findings
    text = v.format_summary(rep)
    assert text.splitlines()[0].split() == ["check", "table", "severity", "count"]


def test_load_validation_report_rejects_other_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(InputError, match="not a validation report"):
        v.load_validation_report(p)


# --------------------------------------------------------------------------- domain checks


def test_golden_monthly_figures_are_consistent(golden):
    df = pd.DataFrame(golden["monthly_complaints_prawet_fy2563"])
    df.index = range(1, len(df) + 1)
    df["unit_code"] = "1032"
    assert v.check_monthly_figures(df) == []


def test_monthly_figures_flag_printing_and_balance_errors(golden):
    df = pd.DataFrame(golden["monthly_complaints_prawet_fy2563"])
    df.index = range(1, len(df) + 1)
    df.loc[2, "finished_pct"] = df.loc[2, "finished_pct"] + 0.02  # two hundredths off
    df.loc[3, "in_progress"] = df.loc[3, "in_progress"] + 1  # no longer balances
    got = {(f.check, f.source_rows) for f in v.check_monthly_figures(df)}
    assert got == {
        ("reported_percentage", (2,)),
        ("percentages_sum", (2,)),
        ("monthly_balance", (3,)),
        ("reported_percentage", (3,)),
    }


@pytest.mark.parametrize(
    ("num", "den", "printed", "bad"),
    [
        (131, 217, "60.37", False),
        (131, 217, "60.4", False),  # one decimal printed: 60.3686 is within 0.05
        (131, 217, "60.36", True),
        (131, 217, "61", True),
        (55, 56, "98.21", False),
        (55, 56, "๙๘.๒๑", False),  # Thai digits read correctly
        (0, 0, "0.00", False),  # no denominator: nothing to compare
    ],
)
def test_reported_percentage_tolerance_follows_printed_decimals(num, den, printed, bad):
    rep = pd.Series([printed]).map(lambda s: s.translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")))
    mask = v.reported_percentage_mismatch(
        pd.Series([num]), pd.Series([den]), pd.to_numeric(rep), printed=pd.Series([printed])
    )
    assert bool(mask.iloc[0]) is bad


# --------------------------------------------------------------------------- suites as data


def test_suites_cover_every_input_table(suites):
    assert {
        "tickets", "events", "report_submissions", "council_resolutions", "key_projects",
        "survey_responses", "directives", "line_requests", "manual_results", "conditions",
    } <= set(suites.tables)  # fmt: skip


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("implicit: {}\ntables: {}\n", "implicit"),
        ("bogus: 1\n", "bogus"),
    ],
)
def test_suites_file_errors_name_the_field(tmp_path, yaml_text, field):
    p = tmp_path / "s.yaml"
    p.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        v.load_suites(p)
    assert field in str(err.value)


def test_unknown_check_name_is_a_config_error(tmp_path):
    base = yaml.safe_load(v.default_suites_path().read_text(encoding="utf-8"))
    base["tables"]["events"]["checks"].append({"check": "no_such_check", "severity": "warning"})
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="no_such_check"):
        v.load_suites(p)


def test_import_does_not_load_great_expectations():
    code = "import sys, kpilib.validation; print('great_expectations' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"


# --------------------------------------------------------------------------- data docs & CLI


def test_data_docs_render_and_escape_untrusted_values(tmp_path, gx_context):
    csv = (
        "ticket_id,unit_code,event,timestamp\n"
        "T1,<script>alert(1)</script>,forwarded,2023-10-02T09:00:00+07:00\n"
    )
    data = _data_with(tmp_path, {"complaint_events.csv": csv})
    out = tmp_path / "out"
    rep = v.run_validation(data, fy=FY, out_dir=out, gx_context=gx_context, data_docs=True)
    assert rep.data_docs == str(out / "data_docs" / "index.html")
    pages = list((out / "data_docs").rglob("*.html"))
    assert any("validations" in p.parts for p in pages)
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    [f] = rep.findings
    assert f.rows[0]["value"] == "<script>alert(1)</script>"  # JSON keeps the raw text


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"survey_responses.csv": "thai_digits.csv"}, 0),
        ({"complaint_events.csv": "unknown_district.csv"}, 1),
        ({"key_projects.csv": "not_a_csv_html.csv"}, 2),
    ],
)
def test_cli_validate_exit_codes(files, code, tmp_path, gx_context, capsys):
    from kpilib.cli import main

    data = _data_with(tmp_path, {k: (BAD / s).read_bytes() for k, s in files.items()})
    rc = main(["validate", "--data", str(data), "--out", str(tmp_path / "out"), "--fy", "2567"])
    assert rc == code
    out = capsys.readouterr()
    assert out.out.splitlines()[0].split() == ["check", "table", "severity", "count"]
    if code == 2:
        assert "key_projects.csv" in out.err


def test_cli_validate_missing_folder_is_exit_2(tmp_path, capsys):
    from kpilib.cli import main

    rc = main(["validate", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "data folder not found" in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- sample data


_KIND_TO_CHECKS = {
    "duplicate_row": {"unique"},
    "be_year": {"era_confusion"},
    "missing_district": {"missing_value"},
    "unknown_district": {"known_unit"},
    "finished_before_created": {"not_before"},
    "accepted_before_forwarded": {"event_order"},
}


@pytest.mark.slow
def test_sample_data_injected_defects_are_found_and_nothing_else(tmp_path):
    sample = pytest.importorskip("kpilib.sample")
    data = tmp_path / "sample"
    sample.generate(data, fy=FY, scale=0.03)
    manifest = json.loads((data / "raw" / "_injected_defects.json").read_text(encoding="utf-8"))
    injected = {(d["file"], int(d["row"])): d["kind"] for d in manifest["defects"]}
    assert injected, "the generator injected nothing"

    rep = v.run_validation(data, fy=FY, out_dir=tmp_path / "out")

    found: dict[tuple[str, int], set[str]] = {}
    for f in rep.findings:
        assert f.source_rows, f"file-level finding on clean parts: {f.message}"
        for r in f.source_rows:
            found.setdefault((f.source_file, r), set()).add(f.check)
    assert set(found) == set(injected)
    for key, kind in injected.items():
        assert found[key] & _KIND_TO_CHECKS[kind], (key, kind, found[key])
    assert rep.exit_code == 1
    assert (tmp_path / "out" / "data_docs" / "index.html").is_file()


def test_rerun_replaces_stale_quarantine_and_data_docs(tmp_path, gx_context):
    # a fresh context per run, as in production (a shared context keeps earlier results)
    bad = (BAD / "accepted_before_forwarded.csv").read_text()
    data = _data_with(tmp_path, {"complaint_events.csv": bad})
    out = tmp_path / "out"
    v.run_validation(data, fy=FY, out_dir=out, data_docs=True)
    assert (out / "quarantine" / "events.csv").is_file()
    first_pages = {p.name for p in (out / "data_docs").rglob("*.html")}
    # the file is fixed: the old quarantine file must go, and the old validation page too
    clean = "\n".join(bad.splitlines()[:3]) + "\n"
    (data / "raw" / "complaint_events.csv").write_text(clean, encoding="utf-8")
    rep = v.run_validation(data, fy=FY, out_dir=out, data_docs=True)
    assert rep.findings == ()
    assert not (out / "quarantine" / "events.csv").exists()
    second_pages = {p.name for p in (out / "data_docs").rglob("*.html")}
    assert "index.html" in second_pages
    assert second_pages == first_pages  # same names: one suite, one run, nothing left over


def test_era_message_names_each_units_own_value(tmp_path, gx_context):
    csv = (
        "directive_id,unit_code,visit_type,issued_on,completed_on\n"
        "D1,1001,district,2566-12-01,\nD2,1002,district,2567-01-15,\n"
    )
    data = _data_with(tmp_path, {"directives.csv": csv})
    rep = _run(data, tmp_path / "out", gx_context)
    by_unit = {f.unit_code: f.message for f in rep.findings}
    assert "2566 - 543 = 2023" in by_unit["1001"]
    assert "2567 - 543 = 2024" in by_unit["1002"]


@pytest.mark.parametrize(
    ("kpi_ids", "want"),
    [
        (KPI_IDS, {("known_kpi", "warning", (2,))}),
        (None, {("check_error", "warning", ())}),  # no catalogue: said once, not silently skipped
    ],
)
def test_manual_results_kpi_ids_are_checked(kpi_ids, want, tmp_path, gx_context, monkeypatch):
    monkeypatch.setattr(v, "catalog_kpi_ids", lambda: None)
    csv = (
        "unit_code,kpi_id,fiscal_year,quarter,value,note\n"
        "1032,5016-0685,2567,1,30,\n1032,5016-9999,2567,1,30,typo\n"
    )
    data = _data_with(tmp_path, {"manual_results.csv": csv})
    rep = v.run_validation(
        data,
        fy=FY,
        out_dir=tmp_path / "out",
        data_docs=False,
        gx_context=gx_context,
        kpi_ids=kpi_ids,
    )
    assert {(f.check, f.severity, f.source_rows) for f in rep.findings} == want
