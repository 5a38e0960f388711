"""The catalogue in params/: every seed indicator, units, plans, and clear errors for bad files."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from kpilib.catalog import load_catalog
from kpilib.cli import main
from kpilib.errors import ConfigError

CATALOG_FIXTURES = Path(__file__).parent / "fixtures" / "catalog"


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


# --------------------------------------------------------------------------- seeds


@pytest.mark.parametrize(
    ("number", "weight", "component", "target"),
    [
        ("1", 10, "1.1", 95),
        ("2", 10, "1.1", 12),
        ("3", 10, "1.1", 80),
        ("4", 20, "1.2", 75),
        ("5", 10, "1.3", 90),
        ("6", 10, "1.3", 90),
    ],
)
def test_seed_003_kpis_transcribed(cat, number, weight, component, target):
    k = cat.find(document="003", number=number, owner="GOVSEC")
    assert k.fiscal_year == 2567
    assert "GOVSEC" in k.owners
    assert (k.weight, k.component, k.target.value) == (weight, component, target)
    assert k.name_th and k.definition_th and k.formula_th and k.evidence_th
    assert k.strategy.strategy_th and k.strategy.objective_th
    assert [b.fiscal_year for b in k.baseline][-3:] == [2564, 2565, 2566]


@pytest.mark.parametrize("number", ["1", "2", "3", "4", "5", "6"])
def test_seed_003_baselines_as_published(cat, golden, number):
    """Seed 003's "ผลการดำเนินงานย้อนหลัง ๓ ปี" per KPI ("-" = no value), and the report shows
    them as the catalogue holds them."""
    from kpilib.calendar import from_thai_digits
    from kpilib.numbers import DASH
    from kpilib.report import baseline_rows

    k = cat.find(document="003", number=number, owner="GOVSEC")
    published = {int(y): v for y, v in golden["govsec_fy2567_baselines"][int(number)].items()}
    held = {b.fiscal_year: b.value for b in k.baseline if b.fiscal_year in published}
    assert held == published
    shown = {int(row["year"]): row["text"] for row in baseline_rows(k)}
    for fy, value in published.items():
        if value is None:
            assert shown[fy] in {"-", DASH}  # as printed, or the report's dash
        else:
            (number,) = re.findall(r"[\d.,]+", from_thai_digits(shown[fy]))
            assert float(number.replace(",", "")) == value  # "ร้อยละ ๙๐" as printed


def test_seed_003_rubric_features(cat):
    # KPI 2 has a level 0 below 4 projects; KPI 3 uses exclusive bounds; KPI 4-6 need a report.
    assert cat.find(document="003", number="2", owner="GOVSEC").rubric.has_level_zero()
    assert all(
        not lv.inclusive
        for lv in cat.find(document="003", number="3", owner="GOVSEC").rubric.levels
    )
    for n in ("4", "5", "6"):
        by = cat.find(document="003", number=n, owner="GOVSEC").rubric.by_level()
        assert by[5].conditions == ("report_to_executives",)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("5012-0892", "share_vs_target"),
        ("50340000-3453", "composite"),
        ("5016-0685", "milestone_progress"),
    ],
)
def test_district_seed_kpis_by_official_code(cat, code, kind):
    k = cat.kpi(code)
    assert k.code == code
    assert k.formula.kind == kind
    assert k.note  # every carried-forward KPI says why


def test_project_3453_parts(cat):
    k = cat.kpi("50340000-3453")
    assert [(p.id, p.weight) for p in k.formula.parts] == [("part1", 20), ("part2", 80)]
    assert k.target.value == 90


def test_best_service_milestones_match_golden(cat, golden):
    k = cat.kpi("5016-0685")
    plan = golden["best_service_milestones_5016_0685"]["plan"]
    assert k.milestones == {int(q): float(v) for q, v in plan.items()}


def test_line_kpi_has_four_sub_indicators(cat, golden):
    k = cat.kpi("govsec_line_tracking")
    parts = k.formula.parts
    assert [p.formula.kind for p in parts] == [
        "count_vs_target",
        "share_within_limit",
        "share_within_limit",
        "top_box_share",
    ]
    assert (
        parts[0].formula.params["target"] == golden["line_document_tracking_fy2563"]["target_users"]
    )


def test_every_kpi_has_rubric_and_json_fields(cat):
    for k in cat.kpis:
        d = k.to_dict()
        json.dumps(d, ensure_ascii=False)
        for key in (
            "id",
            "name_th",
            "name_en",
            "rubric",
            "formula",
            "target",
            "weight",
            "strategy",
        ):
            assert key in d
        assert len(k.rubric.levels) == 5


# --------------------------------------------------------------------------- units and plans


def test_units_match_district_csv(cat, shared_dir):
    with open(shared_dir / "data" / "bkk_districts.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    expected = {
        r["district_geocode"]: ("เขต" + r["district_name"], r["district_english_name"])
        for r in rows
    }
    districts = {u.code: (u.name_th, u.name_en) for u in cat.units if u.kind == "district"}
    assert districts == expected
    assert len(districts) == 50


def test_govsec_office_and_spelling_note(cat):
    u = cat.unit("GOVSEC")
    assert u.name_th == "สำนักงานเลขานุการผู้ว่าราชการกรุงเทพมหานคร"
    assert "สำนักงานเลขาธิการผู้ว่าราชการกรุงเทพมหานคร" in u.aliases_th


def test_fy2567_plan_gives_every_district_govsec_and_psec_a_scorecard(cat):
    codes = {u.code for u in cat.units_with_kpis(2567)}
    assert codes == set(cat.district_codes()) | {"GOVSEC", "PSEC"}
    # seed 003 KPI 4 is joint: its co-owner PSEC is scored on it too
    joint = cat.kpi("govsec_traffy_joint")
    for owner in joint.owners:
        assert joint in cat.kpis_for_unit(owner, 2567)
    assert {k.id for k in cat.kpis_for_unit("1032", 2567)} == {
        "district_complaints_3_1",
        "district_complaint_project_3453",
        "district_best_service",
        "district_traffy_joint",
    }
    govsec = cat.kpis_for_unit("GOVSEC", 2567)
    assert len(govsec) == 7
    assert sum(k.weight for k in govsec) == cat.plans[2567].assignments[0].total_weight
    assert cat.kpis_for_unit("GOVSEC", 2566) == ()


def test_unknown_lookups_raise_config_error(cat):
    with pytest.raises(ConfigError, match="unknown KPI"):
        cat.kpi("no-such-kpi")
    with pytest.raises(ConfigError, match="unknown unit"):
        cat.unit("9999")


# --------------------------------------------------------------------------- bad files


def _params_with(tmp_path: Path, bad: str) -> Path:
    dest = tmp_path / "params"
    shutil.copytree(CATALOG_FIXTURES / "minimal", dest)
    src = CATALOG_FIXTURES / "bad" / bad
    if bad.startswith("plan_"):
        shutil.copy(src, dest / "plans" / "fy2567.yaml")
    else:
        shutil.copy(src, dest / "kpis" / bad)
    return dest


@pytest.mark.parametrize(
    ("bad", "kpi", "field", "message"),
    [
        ("kpi_unknown_key.yaml", "bad_unknown_key", "colour", "unknown key 'colour'"),
        (
            "kpi_missing_threshold.yaml",
            "bad_missing_threshold",
            "rubric.levels[2].min",
            "missing threshold for level 3",
        ),
        (
            "kpi_missing_level.yaml",
            "bad_missing_level",
            "rubric.levels",
            "missing threshold for level 3",
        ),
        (
            "kpi_thresholds_out_of_order.yaml",
            "bad_out_of_order",
            "rubric.levels[0].min",
            "out of order",
        ),
        ("kpi_composite_weights.yaml", "bad_composite_weights", "formula.parts", "add up to 90"),
        ("kpi_unknown_formula.yaml", "bad_unknown_formula", "formula.kind", "unknown formula kind"),
        ("kpi_unknown_input.yaml", "bad_unknown_input", "formula.inputs.denominatr", "no input"),
        (
            "kpi_undeclared_condition.yaml",
            "bad_unknown_condition",
            "rubric.levels[0].conditions",
            "not declared",
        ),
        ("kpi_bad_weight_type.yaml", "bad_weight_type", "weight", "number"),
        ("plan_total_weight.yaml", "office_council", "assignments[0].total_weight", "add up to 10"),
        ("plan_unknown_kpi.yaml", "no_such_kpi", "assignments[0].kpis[1]", "unknown KPI"),
    ],
)
def test_bad_catalogue_file_gives_one_clear_error(tmp_path, bad, kpi, field, message):
    params = _params_with(tmp_path, bad)
    with pytest.raises(ConfigError) as info:
        load_catalog(params)
    err = info.value
    assert Path(err.file).name == (bad if not bad.startswith("plan_") else "fy2567.yaml")
    assert err.kpi == kpi
    assert err.field == field
    assert message in str(err)
    assert "\n" not in err.one_line()


def test_not_yaml_names_the_file_and_line(tmp_path):
    params = _params_with(tmp_path, "kpi_not_yaml.yaml")
    with pytest.raises(ConfigError, match=r"kpi_not_yaml\.yaml.*not valid YAML \(line \d+\)"):
        load_catalog(params)


def test_unknown_measure_is_an_error(tmp_path):
    params = _params_with(tmp_path, "kpi_unknown_measure.yaml")
    with pytest.raises(ConfigError) as info:
        load_catalog(params)
    assert info.value.kpi == "bad_unknown_measure"
    assert "council_resolutions_reportd" in str(info.value)


def test_cli_reports_bad_catalogue_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KPILIB_PARAMS", str(_params_with(tmp_path, "kpi_unknown_key.yaml")))
    assert main(["catalog"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "kpi_unknown_key.yaml" in err and "bad_unknown_key" in err and "colour" in err


# --------------------------------------------------------------------------- a KPI added by data only


def test_new_kpi_of_existing_kind_is_data_only():
    cat = load_catalog(CATALOG_FIXTURES / "minimal")
    k = cat.kpi("district_directives_done")  # not in params/, no Python written for it
    assert k.formula.kind == "ratio_percent"
    assert [x.id for x in cat.kpis_for_unit("1001", 2567)] == [
        "district_directives_done",
        "district_best",
    ]
    assert load_catalog(CATALOG_FIXTURES / "minimal") is cat  # cached per folder


# --------------------------------------------------------------------------- CLI


def test_cli_catalog_table_lists_every_kpi(cat, capsys):
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out
    for k in cat.kpis:
        assert k.id in out and k.name_th in out


def test_cli_catalog_json_one_object_per_kpi(cat, capsys):
    assert main(["catalog", "--json", "--fy", "2567"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["id"] for o in objs] == [k.id for k in cat.kpis_for_year(2567)]
    assert all({"rubric", "evidence_th", "baseline", "strategy", "formula"} <= set(o) for o in objs)


def test_cli_catalog_refuses_ce_year(capsys):
    assert main(["catalog", "--fy", "2024"]) == 2
    assert "Buddhist Era" in capsys.readouterr().err
