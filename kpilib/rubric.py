"""Five-level rubrics: step and linear scoring, inclusive/exclusive bounds, level 0, conditions.

A rubric lists levels 1–5, each with the lower bound of the KPI value that reaches it
(``min``) and whether the bound is inclusive (``ร้อยละ 95 ขึ้นไป``, ``ไม่น้อยกว่า``) or exclusive
(``มากกว่า ร้อยละ 80``). Higher values are better.

* Level 1 without ``min`` means "anything below level 2" (``น้อยกว่า ร้อยละ 80`` → level 1):
  there is no level 0. Level 1 *with* a ``min`` means a value below it gets level 0
  (KPI 2 of the FY 2567 Governor's Secretary table: fewer than 4 projects).
* A level may require named non-numeric conditions (``report_to_executives``). When a
  condition is not met (``False`` or not given), the level is capped below it; the result
  records which conditions did it (``capped_by``) and a Thai reason.
* Step scoring gives the table's level. Linear scoring interpolates between thresholds
  (Thai public-sector practice, e.g. 4.4): between the bound of level L and of L+1 the score is
  L + the fraction of the way. Above level 5's bound: 5. Below an explicit level-1 bound: 0.
  For a level 1 without a bound, the implied bound is one step below level 2 (level 2's bound
  minus the gap between levels 2 and 3); below that: 1. The level reported is the whole part
  of the score. Linear scoring is continuous, so an exclusive bound matters only to step
  scoring (exactly 80 against "more than 80" is step level 4, linear score 5.0; ``value_level``
  keeps the step level). Interpolation toward a level whose conditions are not met does not
  count (the score stays at the lower level).

Points at level L = weight × L / 5 (the seeds' "เกณฑ์ร้อยละความสำเร็จ" column, 20 % per level);
with linear scoring, weight × score / 5.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kpilib.errors import ParameterError

Scoring = Literal["step", "linear"]
SCORING_MODES: tuple[str, ...] = ("step", "linear")


class RubricLevel(BaseModel):
    """One level of a rubric.

    Attributes:
        level: 1–5.
        min: Lower bound of the KPI value for this level (``None`` only for level 1:
            "anything below level 2").
        inclusive: True for "at least" (≥), False for "more than" (>).
        text_th: The table's wording for this level (Thai).
        conditions: Names of non-numeric conditions this level also requires.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: int = Field(ge=1, le=5)
    min: float | None = None
    inclusive: bool = True
    text_th: str = ""
    conditions: tuple[str, ...] = ()


class Rubric(BaseModel):
    """A five-level rubric.

    Attributes:
        scoring: The declared scoring mode (``step`` as the tables read, or ``linear``).
        levels: Exactly one entry per level 1–5 (any order in the file).
        conditions: Thai text of each named condition used by a level.
        note: Where the rubric is an interpretation, why.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scoring: Scoring = "step"
    levels: tuple[RubricLevel, ...]
    conditions: dict[str, str] = Field(default_factory=dict)
    note: str | None = None

    def by_level(self) -> dict[int, RubricLevel]:
        """Return the levels keyed by level number."""
        return {lv.level: lv for lv in self.levels}

    def has_level_zero(self) -> bool:
        """True when a value below level 1's bound gets level 0."""
        lv1 = self.by_level().get(1)
        return lv1 is not None and lv1.min is not None


def check_rubric(rubric: Rubric) -> list[tuple[str, str]]:
    """Check a rubric's structure.

    Returns:
        A list of ``(field, message)`` problems (empty when the rubric is sound): a missing
        level or threshold, thresholds not increasing with the level, duplicate levels, and
        conditions used by a level but not declared.
    """
    problems: list[tuple[str, str]] = []
    seen: dict[int, int] = {}
    for i, lv in enumerate(rubric.levels):
        if lv.level in seen:
            problems.append((f"rubric.levels[{i}].level", f"level {lv.level} appears twice"))
        seen[lv.level] = i
    for level in range(1, 6):
        if level not in seen:
            problems.append(("rubric.levels", f"missing threshold for level {level}"))
    by = rubric.by_level()
    for level in range(2, 6):
        lv = by.get(level)
        if lv is not None and lv.min is None:
            problems.append(
                (f"rubric.levels[{seen[level]}].min", f"missing threshold for level {level}")
            )
    for level in range(1, 5):
        lo, hi = by.get(level), by.get(level + 1)
        if lo is None or hi is None or lo.min is None or hi.min is None:
            continue
        if not hi.min > lo.min:
            problems.append(
                (
                    f"rubric.levels[{seen[level + 1]}].min",
                    f"thresholds out of order: level {level + 1} ({hi.min:g}) must be above "
                    f"level {level} ({lo.min:g})",
                )
            )
    for i, lv in enumerate(rubric.levels):
        for name in lv.conditions:
            if name not in rubric.conditions:
                problems.append(
                    (
                        f"rubric.levels[{i}].conditions",
                        f"condition {name!r} is not declared under rubric.conditions",
                    )
                )
    return problems


class RubricScore(BaseModel):
    """A value scored against a rubric.

    Attributes:
        level: The level (0–5) after conditions.
        score: The fractional level (equals ``level`` for step scoring).
        scoring: ``step`` or ``linear``.
        value_level: The level the value alone reaches (before conditions).
        capped_by: Conditions that lowered the level (or held a linear score down).
        capped_reason_th: Why, in Thai (``None`` when nothing was capped).
        next_level_value: The threshold of the next level (``None`` at level 5, or when only a
            condition is missing).
        next_level_inclusive: Whether that threshold is inclusive.
        next_level_conditions: Conditions the next level also needs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: int
    score: float
    scoring: Scoring
    value_level: int
    capped_by: tuple[str, ...] = ()
    capped_reason_th: str | None = None
    next_level_value: float | None = None
    next_level_inclusive: bool = True
    next_level_conditions: tuple[str, ...] = ()


def _reaches(value: float, lv: RubricLevel) -> bool:
    if lv.min is None:
        return True
    return value >= lv.min if lv.inclusive else value > lv.min


def step_level(rubric: Rubric, value: float) -> int:
    """Return the level the value reaches as the table reads (no conditions)."""
    by = rubric.by_level()
    for level in range(5, 0, -1):
        if _reaches(value, by[level]):
            return level
    return 0


def _bounds(rubric: Rubric) -> dict[int, float]:
    by = rubric.by_level()
    t = {level: by[level].min for level in range(1, 6)}
    if t[1] is None:
        t[1] = float(t[2]) - (float(t[3]) - float(t[2]))  # type: ignore[arg-type]
    return {k: float(v) for k, v in t.items()}  # type: ignore[arg-type]


def linear_score(rubric: Rubric, value: float) -> float:
    """Return the linear (interpolated) score 0–5 of a value, without conditions."""
    t = _bounds(rubric)
    if rubric.has_level_zero() and not _reaches(value, rubric.by_level()[1]):
        return 0.0  # level 0 is a jump, so an exclusive level-1 bound counts here too
    if value >= t[5]:
        return 5.0
    if value < t[1]:
        return 1.0
    for level in range(4, 0, -1):
        if value >= t[level]:
            return level + (value - t[level]) / (t[level + 1] - t[level])
    return 1.0  # pragma: no cover - unreachable


def _condition_text(rubric: Rubric, names: tuple[str, ...]) -> str:
    """The conditions in words (the rubric's text; the name only when it has none)."""
    return "; ".join(rubric.conditions.get(n, n) for n in names)


def score_value(
    rubric: Rubric,
    value: float,
    *,
    scoring: Scoring | None = None,
    conditions: Mapping[str, bool | None] | None = None,
) -> RubricScore:
    """Score a value against a rubric.

    Args:
        rubric: The rubric.
        value: The KPI value (unrounded).
        scoring: ``step`` or ``linear``; default: the rubric's declared mode.
        conditions: Named non-numeric conditions; a name absent or ``None`` counts as not met.

    Returns:
        The :class:`RubricScore`.

    Raises:
        ParameterError: For a non-finite value or an unknown scoring mode.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"value must be a finite number, got {value!r}")
    mode = scoring or rubric.scoring
    if mode not in SCORING_MODES:
        raise ParameterError(f"scoring must be 'step' or 'linear', got {mode!r}")
    conds = dict(conditions or {})
    by = rubric.by_level()

    def unmet(level: int) -> tuple[str, ...]:
        if level < 1:
            return ()
        return tuple(n for n in by[level].conditions if conds.get(n) is not True)

    value_level = step_level(rubric, float(value))
    level = value_level
    capped: list[str] = []
    while level > 0 and unmet(level):
        capped.extend(n for n in unmet(level) if n not in capped)
        level -= 1
    reason = None
    if level < value_level:
        reason = (
            f"ผลงานถึงเกณฑ์ระดับ {value_level} แต่ได้ระดับ {level} เพราะยังไม่ผ่านเงื่อนไข (ไม่มีรายงานหรือไม่ถึงเกณฑ์): "
            f"{_condition_text(rubric, tuple(capped))}"
        )

    if mode == "step":
        score = float(level)
    else:
        score = linear_score(rubric, float(value))
        score = min(max(score, float(value_level)), float(value_level + 1))
        if level < value_level:
            score = float(level)
        elif level < 5 and unmet(level + 1) and score > level:
            held = unmet(level + 1)
            capped.extend(n for n in held if n not in capped)
            score = float(level)
            reason = (
                f"คะแนนแบบเส้นตรงไม่เกินระดับ {level} เพราะระดับ {level + 1} ต้องมีเงื่อนไข: "
                f"{_condition_text(rubric, held)}"
            )
        # The level shown with linear scoring is the whole part of the score; it differs from
        # the step level only exactly on an exclusive bound (linear scoring is continuous).
        level = min(5, math.floor(score + 1e-9))

    next_value: float | None = None
    next_incl = True
    next_conds: tuple[str, ...] = ()
    if level < 5:
        nxt = by[level + 1]
        next_conds = nxt.conditions
        if not _reaches(float(value), nxt):
            next_value = nxt.min
            next_incl = nxt.inclusive
    return RubricScore(
        level=level,
        score=score,
        scoring=mode,  # type: ignore[arg-type]
        value_level=value_level,
        capped_by=tuple(capped),
        capped_reason_th=reason,
        next_level_value=next_value,
        next_level_inclusive=next_incl,
        next_level_conditions=next_conds,
    )


def points(weight: float, score: float) -> float:
    """Points for a (fractional) level: weight × score / 5."""
    return float(weight) * float(score) / 5.0


def describe_threshold(lv: RubricLevel, *, unit_th: str = "") -> str:
    """A short Thai reading of one level's bound, e.g. ``≥ 95``, ``> 80``, ``< 80``."""
    if lv.min is None:
        return "ต่ำกว่าระดับ 2"
    op = "≥" if lv.inclusive else ">"
    num = f"{lv.min:g}"
    return f"{op} {num}{(' ' + unit_th) if unit_th else ''}"


def bound_texts(rubric: Rubric) -> dict[int, str]:
    """Each level's bound as text; a level 1 without bound reads ``< 80`` (below level 2)."""
    by = rubric.by_level()
    out = {level: describe_threshold(by[level]) for level in range(1, 6)}
    if by[1].min is None and by[2].min is not None:
        out[1] = f"{'<' if by[2].inclusive else '≤'} {by[2].min:g}"
    return out


def rubric_summary(rubric: Rubric) -> list[dict[str, Any]]:
    """Return the rubric as rows (level 5 first) for tables and JSON."""
    by = rubric.by_level()
    bounds = bound_texts(rubric)
    return [
        {
            "level": level,
            "min": by[level].min,
            "inclusive": by[level].inclusive,
            "bound": bounds[level],
            "points_pct": level * 20,
            "conditions": list(by[level].conditions),
            "text_th": by[level].text_th,
            "text": by[level].text_th or bounds[level],
        }
        for level in range(5, 0, -1)
    ]
