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
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class FormulaResult(BaseModel):
    """The outcome of one formula evaluation.

    Attributes:
        value: The KPI value (unrounded), or ``None`` for no data.
        numerator: The numerator (or the count / result), if the kind has one.
        denominator: The denominator (or target / plan), if the kind has one.
        numerator_label_th: What the numerator counts, in words (e.g. "เรื่องที่แก้ไขแล้ว").
        denominator_label_th: What the denominator counts, in words.
        text_th: The formula in words with its labelled numbers, e.g.
            ``เรื่องที่แก้ไขแล้ว 473 × 100 ÷ เรื่องทั้งหมด 520 = 90.96``.
        no_data_reason_th: Why there is no value (Thai), when ``value is None``.
        result: For a milestone KPI, the result (ผลงาน) compared with the plan.
        plan: For a milestone KPI, the quarter's plan.
        part_scores: For a composite, each part's score (0–100) by part id.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    numerator_label_th: str = ""
    denominator_label_th: str = ""
    text_th: str = ""
    no_data_reason_th: str | None = None
    result: float | None = None
    plan: float | None = None
    part_scores: dict[str, float] = Field(default_factory=dict)

    @property
    def has_value(self) -> bool:
        """True when the formula produced a value."""
        return self.value is not None

    @property
    def display(self) -> str:
        """The value rounded half-up to 2 decimals (``"—"`` for no data)."""
        return fmt_number(self.value, decimals=2)


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
    name: str,
    inputs: Mapping[str, Number | None],
    *,
    params: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> FormulaResult:
    """Evaluate formula kind ``name`` for the given inputs.

    Args:
        name: The formula kind.
        inputs: Input values by name (``None`` = no data for that input).
        params: The kind's parameters (e.g. ``target``).
        labels: What each input counts, in Thai words, for the formula text (default: the
            kind's generic words).

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
    return spec.fn(inputs, params=dict(params or {}), labels=dict(labels or {}))


def _no_data(reason: str, **kw: Any) -> FormulaResult:
    return FormulaResult(value=None, no_data_reason_th=reason, text_th=f"ไม่มีข้อมูล: {reason}", **kw)


def _num(value: Number) -> str:
    """A count or figure inside a formula text: whole numbers plainly, others 2 decimals."""
    return fmt_number(value, grouping=True)


def _pct(value: float) -> str:
    return fmt_number(value, decimals=2, grouping=True)


def _percent(
    num: Number | None,
    den: Number | None,
    *,
    zero_reason: str,
    label_num: str,
    label_den: str,
) -> FormulaResult:
    """``label_num n × 100 ÷ label_den d = v`` (a zero or missing denominator is no data)."""
    labels = {"numerator_label_th": label_num, "denominator_label_th": label_den}
    fnum = None if num is None else float(num)
    fden = None if den is None else float(den)
    if fnum is None or fden is None:
        absent = [lab for lab, v in ((label_num, num), (label_den, den)) if v is None]
        return _no_data(
            f"ไม่มีข้อมูล{' และ '.join(absent)}", numerator=fnum, denominator=fden, **labels
        )
    if fden == 0:
        return _no_data(zero_reason, numerator=fnum, denominator=fden, **labels)
    value = fnum * 100.0 / fden
    text = f"{label_num} {_num(fnum)} × 100 ÷ {label_den} {_num(fden)} = {_pct(value)}"
    return FormulaResult(value=value, numerator=fnum, denominator=fden, text_th=text, **labels)


# --------------------------------------------------------------------------- formula kinds

Inputs = Mapping[str, Number | None]
Params = Mapping[str, Any]
Labels = Mapping[str, str]


@register_formula(
    "ratio_percent",
    inputs=("numerator", "denominator"),
    description_th="ร้อยละ = ตัวตั้ง × 100 ÷ ตัวหาร (ตัวหารเป็นศูนย์ = ไม่มีข้อมูล)",
)
def ratio_percent(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """Numerator × 100 / denominator; a zero denominator is *no data*."""
    return _percent(
        inputs["numerator"],
        inputs["denominator"],
        zero_reason="ตัวหารเป็นศูนย์ (ยังไม่มีรายการในช่วงเวลานี้)",
        label_num=labels.get("numerator", "ตัวตั้ง"),
        label_den=labels.get("denominator", "ตัวหาร"),
    )


@register_formula("count", inputs=("count",), description_th="จำนวน (นับ)")
def count(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """A plain count (e.g. the number of key projects on plan)."""
    n = inputs["count"]
    label = labels.get("count", "จำนวน")
    if n is None:
        return _no_data(f"ไม่มีข้อมูล{label}", numerator_label_th=label)
    unit = str(params.get("unit_th", "")).strip()
    text = f"{label} {_num(n)}{' ' + unit if unit else ''}"
    return FormulaResult(value=float(n), numerator=float(n), numerator_label_th=label, text_th=text)


@register_formula(
    "count_vs_target",
    inputs=("count",),
    params=("target",),
    description_th="จำนวนเทียบเป้าหมาย: จำนวน × 100 ÷ เป้าหมาย (56 จาก 50 = ร้อยละ 112)",
)
def count_vs_target(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """Count × 100 / target (56 of a target of 50 = 112 %)."""
    return _percent(
        inputs["count"],
        params["target"],
        zero_reason="เป้าหมายเป็นศูนย์",
        label_num=labels.get("count", "จำนวน"),
        label_den="เป้าหมาย",
    )


@register_formula(
    "top_box_share",
    inputs=("top", "total"),
    description_th="ร้อยละผู้ตอบที่ระดับความพึงพอใจตั้งแต่ระดับที่กำหนดขึ้นไป × 100 ÷ ผู้ตอบทั้งหมด",
)
def top_box_share(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """Respondents at or above a level × 100 / all respondents (no respondents = no data)."""
    return _percent(
        inputs["top"],
        inputs["total"],
        zero_reason="ยังไม่มีผู้ตอบแบบสอบถาม",
        label_num=labels.get("top", "ผู้ตอบที่พึงพอใจระดับมากขึ้นไป"),
        label_den=labels.get("total", "ผู้ตอบทั้งหมด"),
    )


@register_formula(
    "share_within_limit",
    inputs=("within", "total"),
    description_th="ร้อยละที่ดำเนินการภายในเวลาที่กำหนด × 100 ÷ ทั้งหมด",
)
def share_within_limit(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """Items handled within a time limit × 100 / all items (none = no data)."""
    return _percent(
        inputs["within"],
        inputs["total"],
        zero_reason="ยังไม่มีรายการในช่วงเวลานี้",
        label_num=labels.get("within", "จำนวนที่ดำเนินการภายในเวลา"),
        label_den=labels.get("total", "จำนวนทั้งหมด"),
    )


@register_formula(
    "milestone_progress",
    inputs=("result", "plan"),
    description_th="ผลประเมินเทียบแผนรายไตรมาส = ผลงาน × 100 ÷ แผน ไม่เกิน 100 (การตีความ)",
)
def milestone_progress(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """Evaluation against the quarter's plan: min(100, result × 100 / plan).

    The value is the *evaluation* (ผลประเมิน); ``result`` (also ``numerator``) is the result
    (ผลงาน) and ``plan`` (also ``denominator``) the plan. This reading is an interpretation
    (the seeds print the evaluation without its formula).
    """
    result, plan = inputs["result"], inputs["plan"]
    label_r = labels.get("result", "ผลงาน")
    label_p = labels.get("plan", "แผนของไตรมาส")
    names = {"numerator_label_th": label_r, "denominator_label_th": label_p}
    fr = None if result is None else float(result)
    fp = None if plan is None else float(plan)
    if fr is None or fp is None:
        absent = [lab for lab, v in ((label_r, fr), (label_p, fp)) if v is None]
        return _no_data(
            f"ไม่มีข้อมูล{' และ '.join(absent)}",
            numerator=fr, denominator=fp, result=fr, plan=fp, **names,
        )  # fmt: skip
    if fp == 0:
        return _no_data(
            "แผนของไตรมาสนี้เป็นศูนย์", numerator=fr, denominator=fp, result=fr, plan=fp, **names
        )
    raw = fr * 100.0 / fp
    value = min(100.0, raw)
    text = f"{label_r} {_num(fr)} × 100 ÷ {label_p} {_num(fp)} = {_pct(raw)}"
    if raw > 100.0:
        text += " (ผลประเมินสูงสุด 100)"
    return FormulaResult(
        value=value, numerator=fr, denominator=fp, result=fr, plan=fp, text_th=text, **names
    )


@register_formula(
    "share_vs_target",
    inputs=("numerator", "denominator"),
    params=("target",),
    description_th="ผลงาน = ตัวตั้ง × 100 ÷ ตัวหาร; ผลประเมิน = ผลงาน × 100 ÷ ค่าเป้าหมาย ไม่เกิน 100",
)
def share_vs_target(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """A share (ผลงาน, %) evaluated against a target as the BMA web form does: the value is
    the evaluation (ผลประเมิน) = min(100, share × 100 / target); ``result`` is the share."""
    share = _percent(
        inputs["numerator"],
        inputs["denominator"],
        zero_reason="ยังไม่มีรายการในช่วงเวลานี้",
        label_num=labels.get("numerator", "ตัวตั้ง"),
        label_den=labels.get("denominator", "ตัวหาร"),
    )
    target = float(params["target"])
    if share.value is None:
        return share.model_copy(update={"plan": target})
    if target <= 0:
        raise ParameterError("share_vs_target: the target must be above 0")
    raw = share.value * 100.0 / target
    text = (
        f"{share.text_th}; ผลประเมิน = {_pct(share.value)} × 100 ÷ ค่าเป้าหมาย {_num(target)}"
        f" = {_pct(raw)}"
    )
    if raw > 100.0:
        text += " (ผลประเมินสูงสุด 100)"
    return share.model_copy(
        update={"value": min(100.0, raw), "result": share.value, "plan": target, "text_th": text}
    )


@register_formula(
    "reported_value",
    inputs=("value",),
    description_th="ค่าที่หน่วยงานรายงาน/ผู้ประเมินบันทึก (เช่น คะแนนคุณภาพ 0-100)",
)
def reported_value(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """A value entered as it is (e.g. a quality score out of 100 from ``manual_results``)."""
    v = inputs["value"]
    label = labels.get("value", "ค่าที่บันทึก")
    if v is None:
        return _no_data("ยังไม่มีผลที่บันทึก", numerator_label_th=label)
    return FormulaResult(
        value=float(v),
        numerator=float(v),
        numerator_label_th=label,
        text_th=f"{label} = {_pct(float(v))}",
    )


@register_formula(
    "complaint_compliance",
    inputs=("compliant", "total"),
    description_th="ร้อยละเรื่องร้องเรียนที่ปฏิบัติถูกต้องตามขั้นตอน × 100 ÷ เรื่องทั้งหมด",
)
def complaint_compliance(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """Complaints handled correctly in the required steps × 100 / all complaints.

    The counts come from the complaint engine's measures (``kpilib.complaints``).
    """
    return _percent(
        inputs["compliant"],
        inputs["total"],
        zero_reason="ยังไม่มีเรื่องร้องเรียนในช่วงเวลานี้",
        label_num=labels.get("compliant", "เรื่องที่ปฏิบัติถูกต้องตามขั้นตอน"),
        label_den=labels.get("total", "เรื่องทั้งหมด"),
    )


@register_formula(
    "composite",
    inputs=(),
    params=("parts",),
    description_th="ผลรวมถ่วงน้ำหนักของส่วนย่อย: Σ น้ำหนัก × ผลส่วนย่อย ÷ 100",
)
def composite(inputs: Inputs, *, params: Params, labels: Labels) -> FormulaResult:
    """Weighted parts: Σ weight × part score / 100, reported out of the total weight.

    ``params["parts"]`` is a list of ``{"id", "weight", "target", "full_marks"}`` (the last two
    optional); ``inputs`` holds each part's value by id; ``labels`` each part's name. A part's
    score (0–100) is: with ``full_marks``, ``value × 100 / full_marks`` (points out of the
    part's marks); with a ``target``, its achievement ``min(100, value × 100 / target)``;
    otherwise the value itself (a percentage), capped at 100. Any part without data makes the
    whole *no data* (the parts are still reported).

    With ``params["mode"] == "all_met"`` the value is instead the share of parts that meet their
    own target (value ≥ target): all parts met = 100 (seed 004's "ผลงานที่ทำได้ = 100"), 3 of 4 =
    75; a part that misses its target earns nothing however close it came.
    """
    parts = params["parts"]
    total_weight = float(sum(float(p["weight"]) for p in parts))
    absent = [labels.get(p["id"], p["id"]) for p in parts if inputs.get(p["id"]) is None]
    if absent:
        return _no_data(f"ไม่มีข้อมูลส่วนย่อย {', '.join(absent)}", denominator=total_weight)
    if total_weight == 0:
        return _no_data("น้ำหนักรวมของส่วนย่อยเป็นศูนย์")
    if params.get("mode", "weighted") == "all_met":
        return _all_met(parts, inputs, labels)
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
        terms.append(f"{_num(p['weight'])} × {_pct(score)} ÷ 100")
    value = points * 100.0 / total_weight
    text = " + ".join(terms) + f" = {_pct(points)} คะแนน"
    if total_weight != 100:
        text += f" (จาก {_num(total_weight)} คะแนน = ร้อยละ {_pct(value)})"
    return FormulaResult(
        value=value,
        numerator=points,
        denominator=total_weight,
        numerator_label_th="คะแนนที่ได้",
        denominator_label_th="คะแนนเต็ม",
        text_th=text,
        part_scores=scores,
    )


def _all_met(parts: list[dict[str, Any]], inputs: Inputs, labels: Labels) -> FormulaResult:
    """Share of parts meeting their own target (``composite`` with ``mode: all_met``)."""
    met: dict[str, float] = {}
    for p in parts:
        if p.get("target") is None:
            raise ParameterError(f"composite all_met: part {p['id']} has no target")
        v = float(inputs[p["id"]])  # type: ignore[arg-type]
        met[p["id"]] = 100.0 if round_half_up(v) >= float(p["target"]) else 0.0
    n_met = sum(1 for s in met.values() if s)
    value = n_met * 100.0 / len(parts)
    missed = [labels.get(pid, pid) for pid, s in met.items() if not s]
    text = f"ตัวชี้วัดย่อยที่ถึงเป้าหมาย {n_met} จาก {len(parts)} ข้อ = {_pct(value)}"
    if missed:
        text += " (ยังไม่ถึงเป้าหมาย: " + "; ".join(missed) + ")"
    return FormulaResult(
        value=value,
        numerator=float(n_met),
        denominator=float(len(parts)),
        numerator_label_th="ตัวชี้วัดย่อยที่ถึงเป้าหมาย",
        denominator_label_th="ตัวชี้วัดย่อยทั้งหมด",
        text_th=text,
        part_scores=met,
    )
