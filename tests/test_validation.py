"""Validation: every raw file through the ingest's one parse, GX suites, the saved report."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fresh_python import python_stdout

from kpilib import validation as v
from kpilib.errors import ConfigError, InputError

BAD = Path(__file__).resolve().parent / "fixtures" / "bad_inputs"
FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"
FY = 2567
KPI_IDS = ("govsec-2567-4", "5016-0685")  # local: these tests do not depend on the catalogue's KPIs


@pytest.fixture(scope="session")
def gx_context():  # type: ignore[no-untyped-def]
    """One great-expectations context for the whole session (importing GX costs seconds)."""
    return v.new_gx_context()


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


def _run(data: Path, out: Path, gx_context, **kw) -> v.ValidationReport:  # type: ignore[no-untyped-def]
    kw.setdefault("kpi_ids", KPI_IDS)
    return v.run_validation(data, fy=FY, out_dir=out, data_docs=False, gx_context=gx_context, **kw)


# --------------------------------------------------------------------------- the run


def test_blocking_rows_are_quarantined_with_reason(tmp_path, gx_context):
    data = _data_with(tmp_path, {"log.csv": (BAD / "accepted_before_forwarded.csv").read_text()})
    out = tmp_path / "out"
    _run(data, out, gx_context)
    q = pd.read_csv(out / "quarantine" / "events.csv", dtype=str)
    assert list(q.columns[:3]) == ["source_file", "source_row", "reason"]
    assert q["source_row"].tolist() == ["4"]
    assert q.at[0, "ticket_id"] == "T2"
    assert "event_order" in q.at[0, "reason"]


def test_warnings_are_not_quarantined_and_thai_digits_are_read(tmp_path, gx_context):
    data = _data_with(tmp_path, {"s.csv": (BAD / "thai_digits.csv").read_text()})
    out = tmp_path / "out"
    rep = _run(data, out, gx_context)
    assert not (out / "quarantine" / "survey_responses.csv").exists()
    # ๔ read as 4: inside 1..5, so no range or parse finding
    assert {f.check for f in rep.findings} == {"thai_digits"}


def test_thai_digits_out_of_range_are_flagged_not_nan(tmp_path, gx_context):
    csv = "response_id,unit_code,survey,responded_on,level\nR1,GOVSEC,c,2023-11-01,๗\nR2,GOVSEC,c,2023-11-01,x\n"
    rep = _run(_data_with(tmp_path, {"s.csv": csv}), tmp_path / "out", gx_context)
    got = {(f.check, f.source_rows) for f in rep.findings}
    assert got == {("thai_digits", (1,)), ("between", (1,)), ("unparseable", (2,))}


def test_timestamps_outside_fiscal_year_are_warnings(tmp_path, gx_context):
    csv = (
        "request_id,unit_code,user_id,requested_at,acknowledged_at,progress_at\n"
        "Q1,GOVSEC,u1,2023-09-30T23:59:00+07:00,2023-10-01T00:05:00+07:00,\n"
        "Q2,GOVSEC,u1,2023-09-30T17:30:00+00:00,,\n"  # 00:30 on 1 Oct in Bangkok: inside
    )
    rep = _run(_data_with(tmp_path, {"line.csv": csv}), tmp_path / "out", gx_context)
    [f] = rep.findings
    assert (f.check, f.severity, f.source_rows) == ("in_fiscal_year", "warning", (1,))


def test_missing_data_folder_and_file_as_output_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        v.run_validation(tmp_path / "nope", fy=FY, out_dir=tmp_path / "out")
    data = _data_with(tmp_path, {})
    (tmp_path / "file").write_text("x")
    with pytest.raises(Exception, match="is a file"):
        v.run_validation(data, fy=FY, out_dir=tmp_path / "file")


def test_ce_fiscal_year_argument_is_refused(tmp_path):
    data = _data_with(tmp_path, {})
    with pytest.raises(Exception, match="2567"):
        v.run_validation(data, fy=2024, out_dir=tmp_path / "out")


def test_rows_the_ingest_set_aside_are_findings_of_their_check(tmp_path, gx_context):
    data = _data_with(tmp_path, {"api.csv": (FIX / "traffy_api_v2_handmade.csv").read_bytes()})
    rep = _run(data, tmp_path / "out", gx_context)
    got = {(f.check, f.severity, f.source_rows, f.unit_code) for f in rep.findings}
    assert {
        ("era_confusion", "blocking", (2,), "1032"),  # district name mapped to its geocode
        ("duplicate_row", "warning", (5,), "1032"),  # an exact copy: nothing lost
        ("known_unit", "blocking", (6,), "บางพลี"),  # the raw value: no such district
        ("unique", "blocking", (8,), "1032"),  # same id, other content
        ("unparseable", "blocking", (9,), "1032"),
        ("unparseable", "blocking", (10,), "1032"),
        ("missing_value", "blocking", (11,), ""),  # no district: belongs to no unit
        ("not_before", "blocking", (3,), "1032"),  # carried over, found on the typed table
    } <= got
    assert "ingest_quarantine" not in {f.check for f in rep.findings}
    rows = [r for f in rep.findings for r in f.source_rows if f.check != "in_fiscal_year"]
    assert len(rows) == len(set(rows))  # no row listed twice
    assert rep.blocking_tables("1032") == frozenset({"tickets"})
    assert rep.blocking_tables("1001") == frozenset()


# --------------------------------------------------------------------------- every raw file


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kpilib import sample

    data = tmp_path_factory.mktemp("smp") / "data"
    sample.generate(data, fy=FY, scale=0.02)
    return data


def _tickets_findings(rep: v.ValidationReport) -> set[tuple[str, str, tuple[int, ...]]]:
    return {(f.check, f.severity, f.source_rows) for f in rep.findings if f.table == "tickets"}


def test_a_gzipped_traffy_file_is_validated_like_the_plain_one(small_sample, tmp_path, gx_context):
    plain = _run(small_sample, tmp_path / "plain", gx_context)
    data = tmp_path / "gz"
    shutil.copytree(small_sample / "raw", data / "raw")
    src = data / "raw" / "traffy_api_v2.csv"
    (data / "raw" / "traffy_api_v2.csv.gz").write_bytes(gzip.compress(src.read_bytes()))
    src.unlink()
    rep = _run(data, tmp_path / "out", gx_context)
    assert rep.tables["tickets"] == "validated"  # not "absent": it was found by its content
    assert _tickets_findings(rep) == _tickets_findings(plain)
    assert {f.source_file for f in rep.findings if f.table == "tickets"} == {"traffy_api_v2.csv.gz"}
    blocked = [
        f.unit_code for f in rep.findings if f.table == "tickets" and f.severity == "blocking"
    ]
    assert blocked and all("tickets" in rep.blocking_tables(u) for u in blocked if u)


def test_the_real_open_data_dump_is_validated(shared_dir, tmp_path, gx_context):
    real = shared_dir / "data" / "traffy" / "traffy_opendata_extract_2023-05.csv"
    data = _data_with(tmp_path, {"traffy_export.csv": real.read_bytes()})
    rep = v.run_validation(data, fy=2566, out_dir=tmp_path / "out", data_docs=False,
                           gx_context=gx_context, kpi_ids=KPI_IDS)  # fmt: skip
    assert rep.tables["tickets"] == "validated"
    by_check: dict[str, int] = {}
    for f in rep.findings:
        by_check[f.check] = by_check.get(f.check, 0) + f.count
    assert by_check == {"missing_value": 12, "outside_area": 4}  # SOURCES.md
    missing = [f for f in rep.findings if f.check == "missing_value"]
    assert all(f.severity == "blocking" and f.column == "ticket_id" for f in missing)
    # a district with an unusable row is not certified for its Traffy KPIs; another is
    unit = missing[0].unit_code
    assert "tickets" in rep.blocking_tables(unit)
    clean = next(
        u for u in (str(c) for c in range(1001, 1051)) if u not in {f.unit_code for f in missing}
    )
    assert rep.blocking_tables(clean) == frozenset()


# --------------------------------------------------------------------------- the saved report


def _report_with_findings(tmp_path: Path, gx_context) -> v.ValidationReport:  # type: ignore[no-untyped-def]
    files = {
        "events.csv": (BAD / "unknown_district.csv").read_text(),
        "tickets.csv": (BAD / "finished_before_created.csv").read_text(),
        "survey.csv": (BAD / "thai_digits.csv").read_text(),
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
    assert python_stdout(code).strip() == str(len(rep.findings))


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


def test_suites_cover_every_declared_table():
    from kpilib.tables import load_tables

    assert set(v.load_suites().tables) == set(load_tables().tables)


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


@pytest.mark.parametrize(
    ("table", "check", "words"),
    [
        ("events", {"check": "no_such_check", "severity": "warning"}, "no_such_check"),
        ("events", {"check": "between", "column": "nope", "severity": "warning"},
         "names column(s) ['nope'] that table events does not declare"),
        ("events", {"check": "in_set", "column": "ticket_id", "severity": "warning"},
         "needs values"),
    ],
)  # fmt: skip
def test_suites_refer_to_the_declarations(tmp_path, table, check, words):
    base = yaml.safe_load(v.default_suites_path().read_text(encoding="utf-8"))
    base["tables"][table]["checks"].append(check)
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(words)):
        v.load_suites(p)


def test_a_suite_for_an_undeclared_table_is_refused(tmp_path):
    base = yaml.safe_load(v.default_suites_path().read_text(encoding="utf-8"))
    base["tables"]["complaints"] = {"checks": []}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="no table 'complaints' is declared"):
        v.load_suites(p)


def test_import_does_not_load_great_expectations():
    code = "import sys, kpilib.validation; print('great_expectations' in sys.modules)"
    assert python_stdout(code).strip() == "False"


def test_a_broken_catalogue_stops_validation_loudly(tmp_path, project_root, monkeypatch):
    params = tmp_path / "params"
    shutil.copytree(project_root / "params", params)
    kpi = sorted((params / "kpis").glob("*.yaml"))[0]
    kpi.write_text(kpi.read_text(encoding="utf-8") + "\nbogus_key: 1\n", encoding="utf-8")
    monkeypatch.setenv("KPILIB_PARAMS", str(params))
    data = _data_with(
        tmp_path, {"m.csv": "unit_code,kpi_id,fiscal_year,quarter,value,note\n1032,x,2567,1,3,\n"}
    )
    with pytest.raises(ConfigError, match=kpi.name):
        v.run_validation(data, fy=FY, out_dir=tmp_path / "out", data_docs=False)


# --------------------------------------------------------------------------- data docs & CLI


def test_data_docs_render_and_escape_untrusted_values(tmp_path, gx_context):
    api = pd.read_csv(FIX / "traffy_api_v2_handmade.csv", dtype=str, keep_default_na=False)
    one = api.iloc[[0]].copy()
    one["status"] = "<script>alert(1)</script>"
    data = _data_with(tmp_path, {"api.csv": one.to_csv(index=False)})
    out = tmp_path / "out"
    rep = v.run_validation(data, fy=FY, out_dir=out, gx_context=gx_context, data_docs=True,
                           kpi_ids=KPI_IDS)  # fmt: skip
    assert rep.data_docs == str(out / "data_docs" / "index.html")
    pages = list((out / "data_docs").rglob("*.html"))
    assert any("validations" in p.parts for p in pages)
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    [f] = [f for f in rep.findings if f.check == "in_set"]
    assert f.rows[0]["value"] == "<script>alert(1)</script>"  # JSON keeps the raw text


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"a.csv": "thai_digits.csv"}, 0),
        ({"b.csv": "unknown_district.csv"}, 1),
        ({"key_projects.csv": "not_a_csv_html.csv"}, 2),
    ],
)
def test_cli_validate_exit_codes(files, code, tmp_path, capsys):
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
    "duplicate_row": {"duplicate_row"},
    "be_year": {"era_confusion"},
    "missing_district": {"missing_value"},
    "unknown_district": {"known_unit"},
    "finished_before_created": {"not_before"},
    "accepted_before_forwarded": {"event_order"},
}


@pytest.mark.slow
def test_sample_data_injected_defects_are_found_once_and_nothing_else(tmp_path):
    from kpilib import sample

    data = tmp_path / "sample"
    sample.generate(data, fy=FY, scale=0.03)
    manifest = json.loads((data / "raw" / "_injected_defects.json").read_text(encoding="utf-8"))
    injected = {(d["file"], int(d["row"])): d["kind"] for d in manifest["defects"]}
    assert injected, "the generator injected nothing"

    rep = v.run_validation(data, fy=FY, out_dir=tmp_path / "out")

    found: dict[tuple[str, int], list[str]] = {}
    for f in rep.findings:
        assert f.source_rows, f"file-level finding on clean parts: {f.message}"
        for r in f.source_rows:
            found.setdefault((f.source_file or "", r), []).append(f.check)
    assert set(found) == set(injected)
    for key, kind in injected.items():
        assert found[key] == sorted(_KIND_TO_CHECKS[kind]), (key, kind, found[key])
    assert rep.exit_code == 1
    assert (tmp_path / "out" / "data_docs" / "index.html").is_file()


def test_rerun_replaces_stale_quarantine_and_data_docs(tmp_path):
    # a fresh context per run, as in production (a shared context keeps earlier results)
    bad = (BAD / "accepted_before_forwarded.csv").read_text()
    data = _data_with(tmp_path, {"complaint_events.csv": bad})
    out = tmp_path / "out"
    v.run_validation(data, fy=FY, out_dir=out, data_docs=True, kpi_ids=KPI_IDS)
    assert (out / "quarantine" / "events.csv").is_file()
    first_pages = {p.name for p in (out / "data_docs").rglob("*.html")}
    # the file is fixed: the old quarantine file must go, and the old validation page too
    clean = "\n".join(bad.splitlines()[:3]) + "\n"
    (data / "raw" / "complaint_events.csv").write_text(clean, encoding="utf-8")
    rep = v.run_validation(data, fy=FY, out_dir=out, data_docs=True, kpi_ids=KPI_IDS)
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
    rep = _run(_data_with(tmp_path, {"d.csv": csv}), tmp_path / "out", gx_context)
    by_unit = {f.unit_code: f.message for f in rep.findings}
    assert "2566 - 543 = 2023" in by_unit["1001"]
    assert "2567 - 543 = 2024" in by_unit["1002"]


def test_manual_results_kpi_ids_are_checked(tmp_path, gx_context):
    csv = (
        "unit_code,kpi_id,fiscal_year,quarter,value,note\n"
        "1032,5016-0685,2567,1,30,\n1032,5016-9999,2567,1,30,typo\n"
    )
    rep = _run(_data_with(tmp_path, {"m.csv": csv}), tmp_path / "out", gx_context)
    assert {(f.check, f.severity, f.source_rows) for f in rep.findings} == {
        ("known_kpi", "warning", (2,))
    }
