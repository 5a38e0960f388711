"""Sign-off bound to the data, and the sample data's filled-in forms, on a small sample.

A reviewer signs a unit-quarter report; the report shows "รับรองโดย …" while its inputs are
unchanged; after one input changes it says the sign-off no longer matches and shows what
changed (which file, which KPI value, old → new).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kpilib import calendar as cal
from kpilib import report, sample, signoff
from kpilib.assemble import build_document, check_parameters
from kpilib.catalog import load_catalog
from kpilib.cli import main
from kpilib.datasets import load_bundle
from kpilib.forms import layout as L
from kpilib.forms.reader import read_unit_forms, workbook_path
from kpilib.fsio import sha256_file
from kpilib.validation import ValidationReport

CAT = load_catalog()
UNIT = "1032"
NAME = "นายสมชาย ใจดี"
ROLE = "ผู้อำนวยการเขตประเวศ"
SIGNED_AT = dt.datetime(2024, 1, 15, 10, 30, tzinfo=cal.BANGKOK)


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("signoff")
    data = root / "data"
    sample.generate(data, fy=2567, scale=0.01)
    load_bundle(data)  # ingest once; copies keep processed/ and its timestamps
    validation = root / "validation.json"
    validation.write_text(
        ValidationReport(
            fy=2567, data_dir=str(data), created_at="2024-01-05T09:00:00+07:00"
        ).model_dump_json(),
        encoding="utf-8",
    )  # validated, no finding: every figure certified
    return data, validation


@pytest.fixture
def data(sample_data, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(sample_data[0], copy)
    return copy


def _doc(data: Path, validation: Path, quarter: int = 1):
    params = check_parameters(
        unit=UNIT, fy=2567, quarter=quarter, data_dir=data, validation_json=validation
    )
    return build_document(params)


# --------------------------------------------------------------------------- sample forms


def test_the_sample_has_filled_partly_filled_faulty_and_missing_forms(sample_data):
    data, _ = sample_data
    prawet = read_unit_forms(data, UNIT, 2567, 2, catalog=CAT)
    kpis = [k.id for k in CAT.kpis_for_unit(UNIT, 2567)]
    assert prawet.findings == ()
    for q in (1, 2):
        assert sorted(e.kpi for e in prawet.entries if e.quarter == q) == sorted(kpis)
    q1 = [prawet.entry(k, 1) for k in kpis]
    assert all(e.narrative and e.self_assessment is not None for e in q1)
    assert all(e.assessment is not None and e.audit_score is not None for e in q1)
    assert all(prawet.entry(k, 2).assessment is None for k in kpis)  # Q2 not yet assessed
    assert not prawet.reporter.is_blank and not prawet.head.is_blank
    assert any(ev.sha256 for e in q1 for ev in e.evidence)
    project = prawet.project("district_complaint_project_3453")
    assert [r.report_no for r in project.reports] == [1, 2, 3, 4, 5, 6]
    assert all(r.finished + r.in_progress == r.received for r in project.reports)

    govsec = read_unit_forms(data, "GOVSEC", 2567, 1, catalog=CAT)
    assert len(govsec.entries) == len(CAT.kpis_for_unit("GOVSEC", 2567)) and not govsec.findings
    unit_only = read_unit_forms(data, "1001", 2567, 1, catalog=CAT)
    assert unit_only.entries and all(e.assessment is None for e in unit_only.entries)
    [partial] = read_unit_forms(data, "1015", 2567, 1, catalog=CAT).entries
    assert partial.narrative and partial.self_assessment is None
    faulty = read_unit_forms(data, "1004", 2567, 1, catalog=CAT)
    assert {f.check for f in faulty.findings} == {
        "extra_file",
        "locked_edited",
        "out_of_range",
        "bad_value",
    }
    blank = read_unit_forms(data, "1050", 2567, 1, catalog=CAT)
    assert not blank.reported and blank.entries == ()


def test_a_unit_without_a_form_shows_not_reported(sample_data):
    data, validation = sample_data
    params = check_parameters(
        unit="1050", fy=2567, quarter=1, data_dir=data, validation_json=validation
    )
    doc = build_document(params)
    html = report.forms_html(doc) + report.signoff_html(doc)
    n = len(doc.scorecard.results)
    assert html.count("ยังไม่รายงาน") >= 10 * n  # every people's field of every KPI
    assert "ยังไม่มีการลงนามรับรอง" in html and "รับรองโดย" not in html


# --------------------------------------------------------------------------- sign-off


def test_a_signed_report_shows_who_signed_while_its_inputs_are_unchanged(data, sample_data):
    record, path = signoff.sign(data, UNIT, 2567, 1, name=NAME, role=ROLE, now=SIGNED_AT)
    assert path.parent == data / "signoffs" / "2567" / "Q1" / UNIT
    doc = _doc(data, sample_data[1])
    assert doc.signoff.fingerprint.digest == record.fingerprint.digest
    [s] = doc.signoff.signatures
    assert s.matches and (s.name, s.role, s.signed_at) == (NAME, ROLE, SIGNED_AT)
    assert s.inputs_changed == () and s.kpis_changed == ()
    # the fingerprint holds every raw input file, the unit's forms and each KPI's value
    inputs = record.fingerprint.inputs
    assert {f"raw/{n}": h for n, h in doc.provenance.inputs.items()}.items() <= inputs.items()
    assert inputs["forms/2567/Q1/1032.xlsx"] == sha256_file(workbook_path(data, UNIT, 2567, 1))
    assert [k.kpi for k in record.fingerprint.kpis] == [r.kpi.id for r in doc.scorecard.results]
    html = report.signoff_html(doc)
    assert f"รับรองโดย {NAME} ตำแหน่ง {ROLE} เมื่อ 15 มกราคม 2567 10:30 น." in html
    assert "ไม่ตรงกับข้อมูลปัจจุบัน" not in html


def _change_best_service(data: Path) -> None:
    path = data / "raw" / "manual_results.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = (
        (frame["unit_code"] == UNIT)
        & (frame["kpi_id"] == "district_best_service")
        & (frame["quarter"] == "1")
    )
    frame.loc[row, "value"] = str(float(frame.loc[row, "value"].iloc[0]) / 2)
    frame.to_csv(path, index=False)


def _edit_narrative(data: Path) -> None:
    import openpyxl

    path = workbook_path(data, UNIT, 2567, 1)
    wb = openpyxl.load_workbook(path)
    ws = wb[L.KPIS.name]
    cols = {ws.cell(row=L.HEADER_ROW, column=c).value: c for c in range(1, ws.max_column + 1)}
    ws.cell(row=L.FIRST_DATA_ROW, column=cols[L.KPIS.column("narrative").header_th], value="แก้ไข")
    wb.save(path)


def _add_evidence(data: Path) -> None:
    folder = L.evidence_folder(data, 2567, 1, UNIT)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ภาพถ่ายเพิ่มเติม.jpg").write_bytes(b"\xff\xd8 late evidence")


CHANGES = {
    "a_raw_figure": (_change_best_service, "raw/manual_results.csv", "changed"),
    "the_units_workbook": (_edit_narrative, "forms/2567/Q1/1032.xlsx", "changed"),
    "a_new_evidence_file": (
        _add_evidence,
        "forms/2567/Q1/evidence/1032/ภาพถ่ายเพิ่มเติม.jpg",
        "added",
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_changing_one_input_after_signing_says_the_signoff_no_longer_matches(
    data, sample_data, change
):
    edit, changed_path, how = CHANGES[change]
    record, _ = signoff.sign(data, UNIT, 2567, 1, name=NAME, role=ROLE, now=SIGNED_AT)
    signed_value = {k.kpi: k for k in record.fingerprint.kpis}
    edit(data)
    doc = _doc(data, sample_data[1])
    [s] = doc.signoff.signatures
    assert not s.matches and doc.signoff.valid == ()
    assert [(c.path, c.change) for c in s.inputs_changed] == [(changed_path, how)]
    c = s.inputs_changed[0]
    assert c.old_sha256 == record.fingerprint.inputs.get(changed_path)
    assert c.new_sha256 == doc.signoff.fingerprint.inputs[changed_path]
    html = report.signoff_html(doc)
    assert "การรับรองไม่ตรงกับข้อมูลปัจจุบันแล้ว" in html and changed_path in html
    assert "รับรองโดย" not in html
    if change != "a_raw_figure":
        assert s.kpis_changed == ()  # people's entries changed, no figure did
        return
    [k] = s.kpis_changed  # Best Service's progress was halved: its value and points moved
    now = doc.scorecard.result("district_best_service")
    assert k.kpi == "district_best_service"
    assert k.old_value == signed_value[k.kpi].value
    assert k.new_value == f"{now.value_text} {now.kpi.unit_th}"
    assert k.old_value != k.new_value
    assert f"{k.old_value} → {k.new_value}" in html


def test_touching_a_file_without_changing_it_keeps_the_signoff(data, sample_data):
    signoff.sign(data, UNIT, 2567, 1, name=NAME, role=ROLE, now=SIGNED_AT)
    raw = data / "raw" / "manual_results.csv"
    raw.write_bytes(raw.read_bytes())
    assert _doc(data, sample_data[1]).signoff.signatures[0].matches


def test_records_are_append_only_and_the_latest_per_signer_counts(data):
    first, p1 = signoff.sign(data, UNIT, 2567, 1, name=NAME, role=ROLE, now=SIGNED_AT)
    before = p1.read_bytes()
    later = SIGNED_AT + dt.timedelta(hours=2)
    _, p2 = signoff.sign(data, UNIT, 2567, 1, name=NAME, role=ROLE, now=later)
    _, p3 = signoff.sign(
        data, UNIT, 2567, 1, name="นางสาวสยป. ผู้ตรวจ", role="ผู้ตรวจประเมิน สยป.", now=later
    )
    assert len({p1, p2, p3}) == 3 and p1.read_bytes() == before
    state = signoff.signoff_state(data, first.fingerprint)
    assert [s.signed_at for s in state.signatures] == [later, later]
    assert state.superseded == 1 and len(state.valid) == 2
    files = signoff.report_input_files(data, UNIT, 2567, 1)
    assert {p1, p2, p3} <= set(files) and workbook_path(data, UNIT, 2567, 1) in files


def test_an_altered_record_is_reported_not_trusted(data):
    record, path = signoff.sign(data, UNIT, 2567, 1, name=NAME, role=ROLE, now=SIGNED_AT)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["fingerprint"]["kpis"][0]["value"] += " (แก้ไขด้วยมือ)"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    state = signoff.signoff_state(data, record.fingerprint)
    assert state.signatures == () and len(state.problems) == 1 and path.name in state.problems[0]


def test_kpi_sign_prints_the_record(data, capsys):
    argv = ["sign", "--unit", UNIT, "--fy", "2567", "--quarter", "1", "--data", str(data)]
    assert main([*argv, "--name", NAME, "--role", ROLE]) == 0
    out = capsys.readouterr().out
    [path] = signoff.signoff_files(data, UNIT, 2567, 1)
    assert str(path) in out and NAME in out
    record = signoff.SignoffRecord.model_validate_json(path.read_bytes())
    assert record.signed_at.utcoffset() == dt.timedelta(hours=7)  # Bangkok time
