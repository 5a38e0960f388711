"""Formula kinds: values, 'formula filled with numbers' texts, no-data results, rounding."""

from __future__ import annotations

import pytest

from kpilib import formulas
from kpilib.errors import ConfigError, ParameterError
from kpilib.formulas import evaluate
from kpilib.numbers import fmt_number, round_half_up


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (60.365, 2, 60.37),  # half-up, not banker's
        (2.675, 2, 2.68),  # the float is 2.67499..., the printed number rounds up
        (0.125, 2, 0.13),
        (39.634, 2, 39.63),
        (100.0, 2, 100.0),
        (4.45, 1, 4.5),
        (-1.005, 2, -1.01),
    ],
)
def test_round_half_up(value, places, expected):
    assert round_half_up(value, places) == expected


@pytest.mark.parametrize(
    ("kind", "inputs", "params", "value", "text"),
    [
        (
            "ratio_percent",
            {"numerator": 131, "denominator": 217},
            {},
            60.37,
            "ตัวตั้ง 131 × 100 ÷ ตัวหาร 217 = 60.37",
        ),
        (
            "ratio_percent",
            {"numerator": 0, "denominator": 5},
            {},
            0.0,
            "ตัวตั้ง 0 × 100 ÷ ตัวหาร 5 = 0.00",
        ),
        ("count", {"count": 8}, {"unit_th": "โครงการ"}, 8.0, "จำนวน 8 โครงการ"),
        (
            "count_vs_target",
            {"count": 56},
            {"target": 50},
            112.0,
            "จำนวน 56 × 100 ÷ เป้าหมาย 50 = 112.00",
        ),
        (
            "top_box_share",
            {"top": 28, "total": 29},
            {},
            96.55,
            "ผู้ตอบที่พึงพอใจระดับมากขึ้นไป 28 × 100 ÷ ผู้ตอบทั้งหมด 29 = 96.55",
        ),
        (
            "share_within_limit",
            {"within": 55, "total": 56},
            {},
            98.21,
            "จำนวนที่ดำเนินการภายในเวลา 55 × 100 ÷ จำนวนทั้งหมด 56 = 98.21",
        ),
        (
            "milestone_progress",
            {"result": 30, "plan": 30},
            {},
            100.0,
            "ผลงาน 30 × 100 ÷ แผนของไตรมาส 30 = 100.00",
        ),
        (
            "milestone_progress",
            {"result": 45, "plan": 60},
            {},
            75.0,
            "ผลงาน 45 × 100 ÷ แผนของไตรมาส 60 = 75.00",
        ),
        (
            "milestone_progress",
            {"result": 80, "plan": 75},
            {},
            100.0,
            "ผลงาน 80 × 100 ÷ แผนของไตรมาส 75 = 106.67 (ผลประเมินสูงสุด 100)",
        ),
        (
            "complaint_compliance",
            {"compliant": 176, "total": 225},
            {},
            78.22,
            "เรื่องที่ปฏิบัติถูกต้องตามขั้นตอน 176 × 100 ÷ เรื่องทั้งหมด 225 = 78.22",
        ),
        ("reported_value", {"value": 85}, {}, 85.0, "ค่าที่บันทึก = 85.00"),
    ],
)
def test_formula_kinds(kind, inputs, params, value, text):
    res = evaluate(kind, inputs, params=params)
    assert round_half_up(res.value) == value
    assert res.text_th == text
    assert res.no_data_reason_th is None


@pytest.mark.parametrize(
    ("kind", "inputs", "params"),
    [
        ("ratio_percent", {"numerator": 0, "denominator": 0}, {}),
        ("ratio_percent", {"numerator": None, "denominator": 10}, {}),
        ("count", {"count": None}, {}),
        ("count_vs_target", {"count": 5}, {"target": 0}),
        ("top_box_share", {"top": 0, "total": 0}, {}),
        ("share_within_limit", {"within": 0, "total": 0}, {}),
        ("milestone_progress", {"result": None, "plan": 30}, {}),
        ("milestone_progress", {"result": 10, "plan": 0}, {}),
        ("complaint_compliance", {"compliant": 0, "total": 0}, {}),
        ("reported_value", {"value": None}, {}),
    ],
)
def test_no_data_is_explicit_never_zero(kind, inputs, params):
    res = evaluate(kind, inputs, params=params)
    assert res.value is None
    assert res.no_data_reason_th
    assert res.text_th.startswith("ไม่มีข้อมูล")
    assert res.display == "—"


def test_ratio_keeps_counts_for_display():
    res = evaluate("ratio_percent", {"numerator": 131, "denominator": 217})
    assert (res.numerator, res.denominator) == (131, 217)
    assert res.value == pytest.approx(60.3686, abs=1e-4)  # unrounded for scoring
    assert res.display == "60.37"
    labelled = evaluate(
        "ratio_percent",
        {"numerator": 473, "denominator": 520},
        labels={"numerator": "เรื่องที่แก้ไขแล้ว", "denominator": "เรื่องทั้งหมด"},
    )
    assert labelled.text_th == "เรื่องที่แก้ไขแล้ว 473 × 100 ÷ เรื่องทั้งหมด 520 = 90.96"
    assert labelled.numerator_label_th == "เรื่องที่แก้ไขแล้ว"


def test_composite_weighted_parts():
    parts = [{"id": "part1", "weight": 20}, {"id": "part2", "weight": 80}]
    res = evaluate("composite", {"part1": 60.37, "part2": 85}, params={"parts": parts})
    assert round_half_up(res.value) == round_half_up(20 * 60.37 / 100 + 80 * 85 / 100)
    assert res.text_th == "20 × 60.37 ÷ 100 + 80 × 85.00 ÷ 100 = 80.07 คะแนน"
    assert res.denominator == 100


def test_composite_against_targets_caps_each_part():
    parts = [
        {"id": "users", "weight": 25, "target": 100},
        {"id": "ack", "weight": 25, "target": 80},
    ]
    res = evaluate("composite", {"users": 112.0, "ack": 60.0}, params={"parts": parts})
    assert res.part_scores == {"users": 100.0, "ack": 75.0}
    assert res.value == pytest.approx(87.5)


def test_composite_missing_part_is_no_data():
    parts = [{"id": "a", "weight": 50}, {"id": "b", "weight": 50}]
    res = evaluate("composite", {"a": 90.0, "b": None}, params={"parts": parts})
    assert res.value is None
    assert "b" in res.no_data_reason_th


def test_unknown_kind_and_bad_inputs():
    with pytest.raises(ConfigError, match="unknown formula kind"):
        evaluate("nope", {})
    with pytest.raises(ParameterError, match="missing input"):
        evaluate("ratio_percent", {"numerator": 1})
    with pytest.raises(ParameterError, match="must be a number"):
        evaluate("ratio_percent", {"numerator": "1", "denominator": 2})
    with pytest.raises(ParameterError, match="finite"):
        evaluate("ratio_percent", {"numerator": float("nan"), "denominator": 2})


def test_registry_names_and_duplicate_registration():
    names = formulas.formula_names()
    for kind in (
        "ratio_percent",
        "count",
        "count_vs_target",
        "top_box_share",
        "share_within_limit",
        "milestone_progress",
        "composite",
        "complaint_compliance",
    ):
        assert kind in names
    with pytest.raises(ValueError, match="already registered"):
        formulas.register_formula("count", inputs=("count",))(lambda inputs, *, params: None)


@pytest.mark.parametrize(
    ("value", "text"), [(8, "8"), (8.0, "8"), (60.365, "60.37"), (0.5, "0.50")]
)
def test_fmt_number(value, text):
    assert fmt_number(value) == text


# --------------------------------------------------------------------------- golden figures


def test_golden_line_figures_through_formulas(golden):
    g = golden["line_document_tracking_fy2563"]
    for q in g["quarters"]:
        if "users_pct_of_target" in q:
            res = evaluate(
                "count_vs_target", {"count": q["users"]}, params={"target": g["target_users"]}
            )
            assert round_half_up(res.value) == q["users_pct_of_target"]
        res = evaluate(
            "share_within_limit", {"within": q["acknowledged_in_15min"], "total": q["users"]}
        )
        assert round_half_up(res.value) == q["acknowledged_pct"]
        if "progress_in_30min" in q:
            res = evaluate(
                "share_within_limit", {"within": q["progress_in_30min"], "total": q["users"]}
            )
            assert round_half_up(res.value) == q["progress_pct"]
        if "satisfied_high_or_highest" in q:
            res = evaluate(
                "top_box_share", {"top": q["satisfied_high_or_highest"], "total": q["users"]}
            )
            assert round_half_up(res.value) == q["satisfied_pct"]


def test_golden_best_service_evaluation_through_formula(golden):
    g = golden["best_service_milestones_5016_0685"]
    for q, plan in g["plan"].items():
        res = evaluate("milestone_progress", {"result": g["results"][q], "plan": plan})
        assert round_half_up(res.value) == g["evaluation"][q]


def test_golden_prawet_monthly_percentages_through_formula(golden):
    for row in golden["monthly_complaints_prawet_fy2563"]:
        fin = evaluate(
            "ratio_percent", {"numerator": row["finished"], "denominator": row["received"]}
        )
        prog = evaluate(
            "ratio_percent", {"numerator": row["in_progress"], "denominator": row["received"]}
        )
        assert round_half_up(fin.value) == row["finished_pct"]
        assert round_half_up(prog.value) == row["in_progress_pct"]


def test_composite_part_with_full_marks():
    parts = [{"id": "part1", "weight": 20}, {"id": "part2", "weight": 80, "full_marks": 80}]
    res = evaluate("composite", {"part1": 50.0, "part2": 70.0}, params={"parts": parts})
    assert res.part_scores == {"part1": 50.0, "part2": 87.5}
    assert res.value == pytest.approx(10 + 70)
    assert res.text_th == "20 × 50.00 ÷ 100 + 80 × 87.50 ÷ 100 = 80.00 คะแนน"
