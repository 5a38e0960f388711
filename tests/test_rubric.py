"""Rubrics: boundaries (inclusive/exclusive), level 0, capped levels, linear scoring."""

from __future__ import annotations

import pytest

from kpilib.errors import ParameterError
from kpilib.rubric import Rubric, check_rubric, linear_score, points, score_value, step_level


def _rubric(bounds, *, inclusive=True, conditions=None, scoring="step"):
    """Levels 5..1 from a list of five bounds (None allowed for level 1)."""
    conds = conditions or {}
    levels = [
        {
            "level": 5 - i,
            "min": b,
            "inclusive": inclusive,
            "conditions": list(conds.get(5 - i, ())),
        }
        for i, b in enumerate(bounds)
    ]
    names = {n: f"เงื่อนไข {n}" for ns in conds.values() for n in ns}
    return Rubric.model_validate({"scoring": scoring, "levels": levels, "conditions": names})


PCT_FLOOR = _rubric([95, 90, 85, 80, None])  # seed 003 KPI 1: "< 80" is level 1
COUNT_ZERO = _rubric([12, 10, 8, 6, 4])  # seed 003 KPI 2: below 4 is level 0
EXCLUSIVE = _rubric([80, 70, 60, 50, 40], inclusive=False)  # seed 003 KPI 3: "มากกว่า"
WITH_REPORT = _rubric([75, 70, 65, 60, None], conditions={5: ("report",)})  # seed 003 KPI 4


@pytest.mark.parametrize(
    ("rubric", "value", "level"),
    [
        (PCT_FLOOR, 100.0, 5),
        (PCT_FLOOR, 95.0, 5),  # inclusive boundary
        (PCT_FLOOR, 94.999, 4),
        (PCT_FLOOR, 90.0, 4),
        (PCT_FLOOR, 85.0, 3),
        (PCT_FLOOR, 80.0, 2),
        (PCT_FLOOR, 79.99, 1),
        (PCT_FLOOR, 0.0, 1),  # floor: no level 0
        (COUNT_ZERO, 12, 5),
        (COUNT_ZERO, 11, 4),
        (COUNT_ZERO, 4, 1),
        (COUNT_ZERO, 3, 0),  # below the lowest threshold: level 0
        (COUNT_ZERO, 0, 0),
        (EXCLUSIVE, 80.0, 4),  # exclusive: the boundary value is NOT enough
        (EXCLUSIVE, 80.01, 5),
        (EXCLUSIVE, 70.0, 3),
        (EXCLUSIVE, 40.0, 0),
        (EXCLUSIVE, 40.5, 1),
    ],
)
def test_step_levels_at_boundaries(rubric, value, level):
    assert step_level(rubric, value) == level
    s = score_value(rubric, value)
    assert (s.level, s.score, s.scoring) == (level, float(level), "step")


@pytest.mark.parametrize(
    ("rubric", "value", "score"),
    [
        (PCT_FLOOR, 97.0, 5.0),  # above the top threshold
        (PCT_FLOOR, 92.5, 4.5),  # halfway between levels 4 and 5
        (PCT_FLOOR, 81.0, 2.2),
        (PCT_FLOOR, 77.5, 1.5),  # implied level-1 bound 75 (one step below 80)
        (PCT_FLOOR, 60.0, 1.0),  # below the implied bound: the floor
        (COUNT_ZERO, 9, 3.5),
        (COUNT_ZERO, 3, 0.0),  # level 0 stays 0
        (EXCLUSIVE, 75.0, 4.5),
        (EXCLUSIVE, 80.0, 5.0),  # continuous: the exclusive bound matters to step scoring only
        (EXCLUSIVE, 40.0, 0.0),
    ],
)
def test_linear_between_levels(rubric, value, score):
    s = score_value(rubric, value, scoring="linear")
    assert s.scoring == "linear"
    assert s.score == pytest.approx(score)
    assert s.level == int(score)  # the whole part of the score
    assert s.value_level == step_level(rubric, value)
    assert linear_score(rubric, value) == pytest.approx(score)


def test_linear_is_declared_per_rubric_and_overridable():
    declared = _rubric([95, 90, 85, 80, None], scoring="linear")
    assert score_value(declared, 92.5).score == pytest.approx(4.5)
    assert score_value(declared, 92.5, scoring="step").score == 4.0


@pytest.mark.parametrize(
    ("value", "conditions", "level", "capped"),
    [
        (80.0, {"report": True}, 5, ()),
        (80.0, {"report": False}, 4, ("report",)),
        (80.0, {}, 4, ("report",)),  # no evidence = not met
        (80.0, {"report": None}, 4, ("report",)),
        (72.0, {}, 4, ()),  # the condition does not matter below level 5
        (50.0, {}, 1, ()),
    ],
)
def test_conditions_cap_the_level(value, conditions, level, capped):
    s = score_value(WITH_REPORT, value, conditions=conditions)
    assert s.level == level
    assert s.capped_by == capped
    assert s.value_level == step_level(WITH_REPORT, value)
    if capped:
        assert "report" in s.capped_reason_th and "ระดับ 5" in s.capped_reason_th
        assert s.next_level_value is None  # only the condition is missing
        assert s.next_level_conditions == ("report",)
    else:
        assert s.capped_reason_th is None


def test_linear_score_does_not_climb_toward_a_level_whose_condition_is_missing():
    held = score_value(WITH_REPORT, 72.5, scoring="linear")
    assert held.score == 4.0
    assert held.capped_by == ("report",)
    free = score_value(WITH_REPORT, 72.5, scoring="linear", conditions={"report": True})
    assert free.score == pytest.approx(4.5)
    capped = score_value(WITH_REPORT, 90.0, scoring="linear")
    assert (capped.level, capped.score) == (4, 4.0)


@pytest.mark.parametrize(
    ("rubric", "value", "next_value", "inclusive"),
    [
        (PCT_FLOOR, 87.0, 90.0, True),
        (PCT_FLOOR, 99.0, None, True),
        (EXCLUSIVE, 80.0, 80.0, False),  # need MORE than 80
        (COUNT_ZERO, 2, 4.0, True),
    ],
)
def test_next_level_value(rubric, value, next_value, inclusive):
    s = score_value(rubric, value)
    assert s.next_level_value == next_value
    assert s.next_level_inclusive is inclusive


@pytest.mark.parametrize(
    ("weight", "level", "pts"), [(10, 5, 10), (10, 4, 8), (20, 3, 12), (20, 1, 4), (10, 0, 0)]
)
def test_points_are_weight_times_level_over_five(weight, level, pts):
    assert points(weight, level) == pts


def test_bad_values_are_parameter_errors():
    with pytest.raises(ParameterError):
        score_value(PCT_FLOOR, float("nan"))
    with pytest.raises(ParameterError):
        score_value(PCT_FLOOR, 50.0, scoring="curvy")  # type: ignore[arg-type]


def test_check_rubric_reports_structural_problems():
    ok = check_rubric(PCT_FLOOR)
    assert ok == []
    bad = Rubric.model_validate(
        {"levels": [{"level": 5, "min": 80}, {"level": 4, "min": 90}, {"level": 3}, {"level": 1}]}
    )
    problems = dict(check_rubric(bad))
    assert problems["rubric.levels"] == "missing threshold for level 2"
    assert problems["rubric.levels[2].min"] == "missing threshold for level 3"
    assert "out of order" in problems["rubric.levels[0].min"]


def test_bound_texts_read_like_the_tables():
    from kpilib.rubric import bound_texts

    assert bound_texts(PCT_FLOOR) == {5: "≥ 95", 4: "≥ 90", 3: "≥ 85", 2: "≥ 80", 1: "< 80"}
    assert bound_texts(EXCLUSIVE)[5] == "> 80"
    assert bound_texts(COUNT_ZERO)[1] == "≥ 4"
