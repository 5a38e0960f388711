"""The sample data generator: deterministic, realistic, with a known list of defects."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpilib import calendar as cal
from kpilib.errors import ParameterError
from kpilib.ingest import ingest
from kpilib.sample import HTML_COMMENTS, TRAFFY_TAGS, generate, monthly_volumes, raw_file_names
from kpilib.tables import load_tables

SCALE = 0.03


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, fy=2567, seed=2567, scale=SCALE)
    ingest(data_dir=out)
    return out


def _raw(sample: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(sample / "raw" / name, dtype=str, keep_default_na=False)


def test_same_seed_same_bytes(sample: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", fy=2567, seed=2567, scale=SCALE)
    assert _hashes(tmp_path / "again" / "raw") == _hashes(sample / "raw")
    generate(tmp_path / "other", fy=2567, seed=1, scale=SCALE)
    other = _hashes(tmp_path / "other" / "raw")
    assert other["traffy_api_v2.csv"] != _hashes(sample / "raw")["traffy_api_v2.csv"]


def test_rerun_is_a_no_op_and_other_data_needs_force(sample: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in (sample / "raw").iterdir()}
    summary = generate(sample, fy=2567, seed=2567, scale=SCALE)
    assert summary.skipped
    assert {p.name: p.stat().st_mtime_ns for p in (sample / "raw").iterdir()} == before
    with pytest.raises(ParameterError, match="--force"):
        generate(sample, fy=2567, seed=99, scale=SCALE)


@pytest.mark.parametrize("fy", ["2024", "abc"])
def test_fiscal_year_must_be_buddhist_era(tmp_path: Path, fy: str) -> None:
    with pytest.raises(ParameterError):
        generate(tmp_path, fy=fy, scale=SCALE)


def test_volumes_at_full_scale() -> None:
    counts = monthly_volumes(np.random.default_rng(2567), 50, 1.0)
    assert counts.shape == (50, 12)
    assert counts.min() >= 150 and counts.max() <= 800
    assert 240_000 <= counts.sum() <= 320_000
    assert counts.mean(axis=1).std() > 100  # districts differ


def test_files_and_schemas(sample: Path) -> None:
    from kpilib.ingest import detect_source

    tables = load_tables()
    for source, name in raw_file_names().items():
        # every file is written with its source's declared columns, in the declared order
        assert detect_source(sample / "raw" / name) == source
        assert tuple(_raw(sample, name).columns) == tables.source(source)[1].header
    assert "synthetic" in (sample / "README.txt").read_text(encoding="utf-8").lower()


def test_tickets_are_realistic(sample: Path) -> None:
    t = pd.read_parquet(sample / "processed" / "tickets.parquet")
    assert t["unit_code"].nunique() == 50
    first, last = cal.fiscal_year_bounds(2567)
    days = t["created_at"].dt.date
    assert days.min() >= first and days.max() <= last
    tags = {x for v in t["type_tags"] if v for x in v.split(",")}
    assert tags == set(TRAFFY_TAGS)
    assert set(t["state"]) <= {
        "รอรับเรื่อง", "รับเรื่อง", "กำลังดำเนินการ", "ศึกษาปัญหา", "ของบประมาณ", "จัดซื้อจัดจ้าง",
        "ขั้นตอนทางกฎหมาย", "จัดทำนโยบาย", "ติดตามเรื่อง", "ส่งต่อ(ใหม่)", "ไม่เกี่ยวข้อง", "เสร็จสิ้น",
    }  # fmt: skip
    assert (t["state"] == "เสร็จสิ้น").mean() > 0.7
    assert (t.loc[t["state"] == "เสร็จสิ้น", "finished_at"].notna()).all()
    # weekends are quieter than weekdays
    wd = t["created_at"].dt.day_of_week
    assert (wd >= 5).mean() < 2 / 7


def test_html_comments_are_present_verbatim(sample: Path) -> None:
    manifest = json.loads((sample / "raw" / "_injected_defects.json").read_text(encoding="utf-8"))
    assert {h["text"] for h in manifest["html_comments"]} == set(HTML_COMMENTS)
    t = pd.read_parquet(sample / "processed" / "tickets.parquet")
    assert t["comment"].str.contains("<script>alert(1)</script>", regex=False).any()
    assert t["comment"].str.contains("<img src=x onerror=alert(1)>", regex=False).any()


def test_lifecycle_has_late_acceptances_and_holiday_delays(sample: Path) -> None:
    e = pd.read_parquet(sample / "processed" / "events.parquet")
    assert set(e["event"].astype(str)) == {
        "forwarded",
        "accepted",
        "progress",
        "finished",
        "reopened",
    }
    first = e.pivot_table(
        index="ticket_id", columns="event", values="timestamp", aggfunc="min", observed=True
    )
    both = first[["forwarded", "accepted"]].dropna()
    bc = cal.business_calendar()
    bd = bc.business_days_between_array(
        both["forwarded"].dt.tz_localize(None), both["accepted"].dt.tz_localize(None)
    )
    late = (bd > 1).mean()
    assert 0.01 < late < 0.2
    # nobody accepts on a weekend or holiday unless the complaint came that same day
    acc_day = both["accepted"].dt.tz_localize(None).dt.normalize()
    fwd_day = both["forwarded"].dt.tz_localize(None).dt.normalize()
    off = ~bc.is_business_day_array(acc_day) & (acc_day != fwd_day)
    assert off.sum() == 0


def test_other_inputs_cover_every_kpi_unit(sample: Path) -> None:
    rs = pd.read_parquet(sample / "processed" / "report_submissions.parquet")
    assert len(rs) == 50 * 12
    assert (rs["submitted_on"].dt.day > 10).any()  # some late
    assert (rs["submitted_on"].dt.day <= 10).mean() > 0.7
    kp = pd.read_parquet(sample / "processed" / "key_projects.parquet")
    assert kp.groupby("quarter")["project_id"].nunique().tolist() == [12, 12, 12, 12]
    mr = pd.read_parquet(sample / "processed" / "manual_results.parquet")
    assert mr.groupby("kpi_id")["unit_code"].nunique().to_dict() == {
        "district_best_service": 50,
        "district_complaint_project_3453": 50,
    }
    sv = pd.read_parquet(sample / "processed" / "survey_responses.parquet")
    assert set(sv["survey"]) == {"governor_calendar", "line_tracking"}
    dr = pd.read_parquet(sample / "processed" / "directives.parquet")
    assert set(dr["visit_type"]) == {"district", "community"}
    lr = pd.read_parquet(sample / "processed" / "line_requests.parquet")
    assert (lr["unit_code"] == "GOVSEC").all() and lr["user_id"].nunique() == 56
    co = pd.read_parquet(sample / "processed" / "conditions.parquet")
    assert set(co["condition"]) == {"report_to_executives"}
    assert co.loc[co["kpi_id"] == "district_traffy_joint", "unit_code"].nunique() == 50
    assert set(co.loc[co["unit_code"] == "GOVSEC", "kpi_id"]) == {
        "govsec_traffy_joint",
        "govsec_directives_district",
        "govsec_directives_community",
    }


def test_manifest_matches_what_ingest_quarantined(sample: Path) -> None:
    manifest = json.loads((sample / "raw" / "_injected_defects.json").read_text(encoding="utf-8"))
    defects = manifest["defects"]
    kinds = {d["kind"] for d in defects}
    assert kinds == {
        "duplicate_row",
        "be_year",
        "missing_district",
        "unknown_district",
        "finished_before_created",
        "accepted_before_forwarded",
    }
    expected = {
        (d["file"], d["row"], d["expected_reason"]) for d in defects if d["stage"] == "ingest"
    }
    found = set()
    for table in ("tickets", "events"):
        q = pd.read_csv(
            sample / "processed" / "quarantine" / f"{table}.csv", dtype=str, keep_default_na=False
        )
        found |= set(
            zip(q["source_file"], q["source_row"].astype(int), q["reason_code"], strict=True)
        )
    assert found == expected
    # the raw cell named by the manifest holds the defect
    raw = _raw(sample, "traffy_api_v2.csv")
    for d in defects:
        if d["file"] == "traffy_api_v2.csv" and d["column"]:
            assert raw.at[d["row"] - 1, "ticket_id"] == d["ticket_id"]
    # validation-stage defects are carried over where validation can find them
    t = pd.read_parquet(sample / "processed" / "tickets.parquet").set_index("ticket_id")
    for d in defects:
        if d["kind"] == "finished_before_created":
            assert t.at[d["ticket_id"], "finished_at"] < t.at[d["ticket_id"], "created_at"]
    e = pd.read_parquet(sample / "processed" / "events.parquet")
    for d in defects:
        if d["kind"] == "accepted_before_forwarded":
            ev = (
                e.loc[e["ticket_id"] == d["ticket_id"]]
                .groupby("event", observed=True)["timestamp"]
                .min()
            )
            assert ev["accepted"] < ev["forwarded"]
            assert (
                int(
                    e.loc[
                        (e["ticket_id"] == d["ticket_id"]) & (e["event"] == "accepted"),
                        "source_row",
                    ].item()
                )
                == d["row"]
            )


def test_cli_sample_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kpilib.cli import main

    out = tmp_path / "s"
    assert main(["sample-data", "--out", str(out), "--scale", "0.01", "--seed", "7"]) == 0
    assert "traffy_api_v2.csv" in capsys.readouterr().out
    assert main(["sample-data", "--out", str(out), "--scale", "0.01", "--seed", "7"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["sample-data", "--out", str(out), "--scale", "0.01"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["sample-data", "--out", str(out), "--scale", "0.01", "--force"]) == 0


def test_a_synthetic_organisation_of_n_districts(tmp_path: Path, monkeypatch) -> None:
    from kpilib.catalog import load_catalog

    org = tmp_path / "org"
    summary = generate(org, fy=2567, seed=2567, scale=0.01, units=53)
    params = org / "params"
    assert summary.params == params and any("KPILIB_PARAMS=" in line for line in summary.lines())
    cat, real = load_catalog(params), load_catalog()
    districts = cat.district_codes()
    assert len(districts) == 53 and districts[-3:] == ("S0051", "S0052", "S0053")
    assert set(real.district_codes()) < set(districts)
    assert {u.code for u in cat.units if u.kind != "district"} == {
        u.code for u in real.units if u.kind != "district"
    }
    with_kpis = {u.code for u in cat.units_with_kpis(2567)}
    assert set(districts) <= with_kpis
    assert len(with_kpis) == len(real.units_with_kpis(2567)) + 3
    assert json.loads((org / "raw" / "_injected_defects.json").read_text())["units"] == 53
    monkeypatch.setenv("KPILIB_PARAMS", str(params))  # as kpi run reads the definitions
    ingest(data_dir=org)
    tickets = pd.read_parquet(org / "processed" / "tickets.parquet")
    assert {"S0051", "S0052", "S0053"} <= set(tickets["unit_code"])
    assert tickets["unit_code"].isin(districts).mean() > 0.99
    assert generate(org, fy=2567, seed=2567, scale=0.01, units=53).skipped
    with pytest.raises(ParameterError, match="other data"):
        generate(org, fy=2567, seed=2567, scale=0.01)  # the default sample is not this one
    with pytest.raises(ParameterError, match="from 50 to"):
        generate(tmp_path / "small", fy=2567, units=49)


@pytest.mark.parametrize("units", ["10", "5001"])
def test_cli_refuses_a_bad_unit_count(tmp_path: Path, capsys: pytest.CaptureFixture[str], units):
    from kpilib import cli

    code = cli.main(["sample-data", "--units", units, "--out", str(tmp_path / "org")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (
        f"kpi sample-data: error: --units must be a whole number of districts from 50 to 5000, "
        f"got {units}"
    )
    assert not (tmp_path / "org").exists()
