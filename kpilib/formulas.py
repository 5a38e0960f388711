"""Formula kinds: pure functions registered by name.

A KPI in ``params/`` names its formula kind (``kind: ratio_percent``) and the named inputs the
kind needs; the scoring engine resolves the inputs (measures) and calls the function. There is
no expression language and no ``eval``: a new kind is a new registered function.

Every formula returns a :class:`FormulaResult` carrying the value, the numerator and
denominator where the kind has them, and the Thai "formula filled with numbers" text the
reports print (e.g. ``131 × 100 / 217 = 60.37``). A missing input or a zero denominator gives
an explicit *no data* result (``value is None`` with a Thai reason), never a crash and never a
silent 0.

Kinds: ``ratio_percent``, ``count``, ``count_vs_target``, ``top_box_share``,
``share_within_limit``, ``milestone_progress``, ``composite``, ``complaint_compliance``,
``reported_value``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kpilib.errors import ConfigError, ParameterError
from kpilib.numbers import fmt_number, round_half_up

Number = float | int

FormulaFn = Callable[..., "FormulaResult"]


@dataclass(frozen=True)
class FormulaSpec:
    """A registered formula kind.

    Attributes:
        name: The kind's name, as written in ``params/``.
        fn: The pure function ``fn(inputs, *, params) -> FormulaResult``.
        inputs: The input names the kind requires.
        optional_inputs: Input names the kind accepts but does not require.
        params: Parameter names the kind requires.
        description_th: One line in Thai for ``kpi catalog``.
    """

    name: str
    fn: FormulaFn
    inputs: tuple[str, ...]
    optional_inputs: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    description_th: str = ""


@dataclass(frozen=True)
class FormulaResult:
    """The outcome of one formula evaluation.

    Attributes:
        value: The KPI value (unrounded), or ``None`` for no data.
        numerator: The numerator (or the count / result), if the kind has one.
        denominator: The denominator (or target / plan), if the kind has one.
        text_th: The formula filled with numbers, in Thai, e.g. ``131 × 100 / 217 = 60.37``.
        no_data_reason_th: Why there is no value (Thai), when ``value is None``.
        details: Extra named figures (e.g. ``plan``, ``evaluation``, part values).
    """

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    text_th: str = ""
    no_data_reason_th: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_value(self) -> bool:
        """True when the formula produced a value."""
        return self.value is not None

    @property
    def display(self) -> str:
        """The value rounded half-up to 2 decimals (``"—"`` for no data)."""
        return "—" if self.value is None else fmt_number(self.value, decimals=2)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "value": self.value,
            "value_display": None if self.value is None else round_half_up(self.value),
            "numerator": self.numerator,
            "denominator": self.denominator,
            "text_th": self.text_th,
            "no_data_reason_th": self.no_data_reason_th,
            "details": _jsonable(dict(self.details)),
        }


_REGISTRY: dict[str, FormulaSpec] = {}


def register_formula(
    name: str,
    *,
    inputs: tuple[str, ...],
    optional_inputs: tuple[str, ...] = (),
    params: tuple[str, ...] = (),
    description_th: str = "",
) -> Callable[[FormulaFn], FormulaFn]:
    """Register a formula kind under ``name`` (decorator).

    Args:
        name: The kind's name used in ``params/``.
        inputs: Required input names.
        optional_inputs: Accepted but optional input names.
        params: Required parameter names.
        description_th: One line in Thai describing the kind.

    Raises:
        ValueError: If the name is already registered.
    """

    def deco(fn: FormulaFn) -> FormulaFn:
        if name in _REGISTRY:
            raise ValueError(f"formula kind {name!r} is already registered")
        _REGISTRY[name] = FormulaSpec(
            name=name,
            fn=fn,
            inputs=tuple(inputs),
            optional_inputs=tuple(optional_inputs),
            params=tuple(params),
            description_th=description_th,
        )
        return fn

    return deco


def get_formula(name: str) -> FormulaSpec:
    """Return the registered formula kind ``name``.

    Raises:
        ConfigError: If no kind has that name (the message lists the known kinds).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown formula kind {name!r}; known kinds: {', '.join(formula_names())}",
            field="formula.kind",
        ) from None


def formula_names() -> tuple[str, ...]:
    """Return the names of all registered formula kinds, sorted."""
    return tuple(sorted(_REGISTRY))


def evaluate(
    name: str, inputs: Mapping[str, Number | None], *, params: Mapping[str, Any] | None = None
) -> FormulaResult:
    """Evaluate formula kind ``name`` for the given inputs.

    Args:
        name: The formula kind.
        inputs: Input values by name (``None`` = no data for that input).
        params: The kind's parameters (e.g. ``target``).

    Returns:
        The :class:`FormulaResult`.

    Raises:
        ConfigError: Unknown kind.
        ParameterError: A required input name is absent, or an input is negative / not finite.
    """
    spec = get_formula(name)
    missing = [n for n in spec.inputs if n not in inputs]
    if missing:
        raise ParameterError(f"formula {name}: missing input(s) {', '.join(missing)}")
    for key, val in inputs.items():
        if val is None:
            continue
        if isinstance(val, bool) or not isinstance(val, int | float):
            raise ParameterError(f"formula {name}: input {key} must be a number, got {val!r}")
        if not math.isfinite(float(val)):
            raise ParameterError(f"formula {name}: input {key} is not a finite number")
    return spec.fn(inputs, params=dict(params or {}))


def _no_data(reason: str, **kw: Any) -> FormulaResult:
    return FormulaResult(value=None, no_data_reason_th=reason, text_th=f"ไม่มีข้อมูล: {reason}", **kw)


def _missing(inputs: Mapping[str, Number | None], names: tuple[str, ...]) -> str | None:
    absent = [n for n in names if inputs.get(n) is None]
    return f"ไม่มีข้อมูล {', '.join(absent)}" if absent else None


def _percent(
    num: Number | None, den: Number | None, *, zero_reason: str, label_num: str, label_den: str
) -> FormulaResult:
    if num is None or den is None:
        absent = [lab for lab, v in ((label_num, num), (label_den, den)) if v is None]
        return _no_data(f"ไม่มีข้อมูล{'และ'.join(absent)}", numerator=num, denominator=den)
    if den == 0:
        return _no_data(zero_reason, numerator=num, denominator=den)
    value = float(num) * 100.0 / float(den)
    text = f"{fmt_number(num)} × 100 / {fmt_number(den)} = {fmt_number(value, decimals=2)}"
    return FormulaResult(value=value, numerator=float(num), denominator=float(den), text_th=text)


# --------------------------------------------------------------------------- formula kinds


@register_formula(
    "ratio_percent",
    inputs=("numerator", "denominator"),
    description_th="ร้อยละ = ตัวตั้ง × 100 / ตัวหาร (ตัวหารเป็นศูนย์ = ไม่มีข้อมูล)",
)
def ratio_percent(
    inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]
) -> FormulaResult:
    """Numerator × 100 / denominator; a zero denominator is *no data*."""
    return _percent(
        inputs["numerator"],
        inputs["denominator"],
        zero_reason="ตัวหารเป็นศูนย์ (ยังไม่มีรายการในช่วงเวลานี้)",
        label_num="ตัวตั้ง",
        label_den="ตัวหาร",
    )


@register_formula("count", inputs=("count",), description_th="จำนวน (นับ)")
def count(inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]) -> FormulaResult:
    """A plain count (e.g. the number of key projects on plan)."""
    n = inputs["count"]
    if n is None:
        return _no_data("ไม่มีข้อมูลจำนวน")
    unit = str(params.get("unit_th", "")).strip()
    text = f"จำนวน {fmt_number(n)}{' ' + unit if unit else ''}"
    return FormulaResult(value=float(n), numerator=float(n), text_th=text)


@register_formula(
    "count_vs_target",
    inputs=("count",),
    params=("target",),
    description_th="จำนวนเทียบเป้าหมาย: จำนวน × 100 / เป้าหมาย (56 จาก 50 = ร้อยละ 112)",
)
def count_vs_target(
    inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]
) -> FormulaResult:
    """Count × 100 / target (56 of a target of 50 = 112 %)."""
    target = params["target"]
    res = _percent(
        inputs["count"],
        target,
        zero_reason="เป้าหมายเป็นศูนย์",
        label_num="จำนวน",
        label_den="เป้าหมาย",
    )
    return FormulaResult(
        value=res.value,
        numerator=res.numerator,
        denominator=float(target),
        text_th=res.text_th,
        no_data_reason_th=res.no_data_reason_th,
        details={"count": inputs["count"], "target": target},
    )


@register_formula(
    "top_box_share",
    inputs=("top", "total"),
    description_th="ร้อยละผู้ตอบที่ระดับความพึงพอใจตั้งแต่ระดับที่กำหนดขึ้นไป × 100 / ผู้ตอบทั้งหมด",
)
def top_box_share(
    inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]
) -> FormulaResult:
    """Respondents at or above a level × 100 / all respondents (no respondents = no data)."""
    return _percent(
        inputs["top"],
        inputs["total"],
        zero_reason="ยังไม่มีผู้ตอบแบบสอบถาม",
        label_num="ผู้ตอบระดับสูง",
        label_den="ผู้ตอบทั้งหมด",
    )


@register_formula(
    "share_within_limit",
    inputs=("within", "total"),
    description_th="ร้อยละที่ดำเนินการภายในเวลาที่กำหนด × 100 / ทั้งหมด",
)
def share_within_limit(
    inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]
) -> FormulaResult:
    """Items handled within a time limit × 100 / all items (none = no data)."""
    return _percent(
        inputs["within"],
        inputs["total"],
        zero_reason="ยังไม่มีรายการในช่วงเวลานี้",
        label_num="จำนวนภายในเวลา",
        label_den="จำนวนทั้งหมด",
    )


@register_formula(
    "milestone_progress",
    inputs=("result", "plan"),
    description_th="ผลประเมินเทียบแผนรายไตรมาส = min(100, ผลงาน × 100 / แผน) (การตีความ)",
)
def milestone_progress(
    inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]
) -> FormulaResult:
    """Evaluation against the quarter's plan: min(100, result × 100 / plan).

    The value is the *evaluation* (ผลประเมิน); ``numerator`` is the result (ผลงาน) and
    ``denominator`` the plan. This reading is an interpretation (the seeds print the
    evaluation without its formula).
    """
    result, plan = inputs["result"], inputs["plan"]
    if result is None or plan is None:
        reason = _missing(inputs, ("result", "plan")) or ""
        return _no_data(reason, numerator=result, denominator=plan)
    if plan == 0:
        return _no_data("แผนของไตรมาสนี้เป็นศูนย์", numerator=result, denominator=plan)
    raw = float(result) * 100.0 / float(plan)
    value = min(100.0, raw)
    text = (
        f"min(100, {fmt_number(result)} × 100 / {fmt_number(plan)}) = "
        f"{fmt_number(value, decimals=2)}"
    )
    return FormulaResult(
        value=value,
        numerator=float(result),
        denominator=float(plan),
        text_th=text,
        details={"result": float(result), "plan": float(plan), "evaluation": value},
    )


@register_formula(
    "reported_value",
    inputs=("value",),
    description_th="ค่าที่หน่วยงานรายงาน/ผู้ประเมินบันทึก (เช่น คะแนนคุณภาพ 0-100)",
)
def reported_value(
    inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]
) -> FormulaResult:
    """A value entered as it is (e.g. a quality score out of 100 from ``manual_results``)."""
    v = inputs["value"]
    if v is None:
        return _no_data("ยังไม่มีผลที่บันทึก")
    return FormulaResult(
        value=float(v), numerator=float(v), text_th=f"ค่าที่บันทึก = {fmt_number(v, decimals=2)}"
    )


@register_formula(
    "complaint_compliance",
    inputs=("compliant", "total"),
    description_th="ร้อยละเรื่องร้องเรียนที่ปฏิบัติถูกต้องตามขั้นตอน × 100 / เรื่องทั้งหมด",
)
def complaint_compliance(
    inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]
) -> FormulaResult:
    """Complaints handled correctly in the required steps × 100 / all complaints.

    The counts come from the complaint engine's measures (``kpilib.complaints``).
    """
    return _percent(
        inputs["compliant"],
        inputs["total"],
        zero_reason="ยังไม่มีเรื่องร้องเรียนในช่วงเวลานี้",
        label_num="จำนวนเรื่องที่ปฏิบัติถูกต้อง",
        label_den="จำนวนเรื่องทั้งหมด",
    )


@register_formula(
    "composite",
    inputs=(),
    params=("parts",),
    description_th="ผลรวมถ่วงน้ำหนักของส่วนย่อย: Σ น้ำหนัก × ผลส่วนย่อย / 100",
)
def composite(inputs: Mapping[str, Number | None], *, params: Mapping[str, Any]) -> FormulaResult:
    """Weighted parts: Σ weight × part score / 100, reported out of the total weight.

    ``params["parts"]`` is a list of ``{"id", "weight", "target", "full_marks"}`` (the last two
    optional); ``inputs`` holds each part's value by id. A part's score (0–100) is: with
    ``full_marks``, ``value × 100 / full_marks`` (points out of the part's marks); with a
    ``target``, its achievement ``min(100, value × 100 / target)``; otherwise the value itself (a
    percentage), capped at 100. Any part without data
    makes the whole *no data* (the parts are still reported).
    """
    parts = params["parts"]
    total_weight = float(sum(float(p["weight"]) for p in parts))
    absent = [p["id"] for p in parts if inputs.get(p["id"]) is None]
    if absent:
        return _no_data(f"ไม่มีข้อมูลส่วนย่อย {', '.join(absent)}", denominator=total_weight)
    if total_weight == 0:
        return _no_data("น้ำหนักรวมของส่วนย่อยเป็นศูนย์")
    points = 0.0
    terms = []
    scores: dict[str, float] = {}
    for p in parts:
        v = float(inputs[p["id"]])  # type: ignore[arg-type]
        target = p.get("target")
        full = p.get("full_marks")
        if full:
            score = min(100.0, v * 100.0 / float(full))
        elif target:
            score = min(100.0, v * 100.0 / float(target))
        else:
            score = min(100.0, v)
        scores[p["id"]] = score
        points += float(p["weight"]) * score / 100.0
        terms.append(f"{fmt_number(p['weight'])} × {fmt_number(score, decimals=2)} / 100")
    value = points * 100.0 / total_weight
    text = " + ".join(terms) + f" = {fmt_number(points, decimals=2)}"
    if total_weight != 100:
        text += f" (จาก {fmt_number(total_weight)} คะแนน = ร้อยละ {fmt_number(value, decimals=2)})"
    return FormulaResult(
        value=value,
        numerator=points,
        denominator=total_weight,
        text_th=text,
        details={"part_scores": scores},
    )


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj
