"""Scoring: one KPI for a value (:func:`score_kpi`), and a unit-quarter scorecard.

:func:`unit_scorecard` resolves each assigned KPI's inputs from the named measures, applies
its formula kind, scores the value with the KPI's rubric (conditions read from the
``conditions`` table), compares it with the target and the quarter's milestone plan, and
marks it *not certified* when validation blocked a table it reads. One KPI that cannot be
computed gives a *no data* result with a reason; it never stops the others.

Totals: points summed over the unit's KPIs against the sum of their weights, by component
(1.1 Function Base, 1.2 Joint KPIs, 1.3 Agenda Base). A KPI without data earns 0 points but
its weight still counts (the reviewer sees it as missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from kpilib import formulas
from kpilib import measures as _measures
from kpilib.catalog import COMPONENTS, Catalog, FormulaDef, InputSpec, Kpi, load_catalog
from kpilib.errors import KpilibError, ParameterError
from kpilib.measures.side_tables import condition_met
from kpilib.rubric import Rubric, RubricScore, Scoring, points, rubric_summary, score_value


@dataclass(frozen=True, kw_only=True)
class KpiScore(RubricScore):
    """A KPI value scored with its rubric: the :class:`~kpilib.rubric.RubricScore` fields
    (level, score, scoring, value_level, capped_by, capped_reason_th, next_level_*) plus:

    Attributes:
        kpi: The KPI id.
        value: The value scored (unrounded).
        points: weight × level / 5 (step) or weight × score / 5 (linear).
        weight: The KPI's weight.
        conditions: The conditions used (name → met; ``None`` = no evidence).
    """

    kpi: str
    value: float
    points: float
    weight: float
    conditions: Mapping[str, bool | None] = field(default_factory=dict)

    _DICT_KEYS = (
        "kpi", "value", "level", "points", "weight", "scoring", "score", "value_level",
        "capped_by", "capped_reason_th", "next_level_value", "next_level_inclusive",
        "next_level_conditions", "conditions",
    )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out: dict[str, Any] = {}
        for key in self._DICT_KEYS:
            v = getattr(self, key)
            out[key] = list(v) if isinstance(v, tuple) else dict(v) if key == "conditions" else v
        return out


def score_kpi(
    kpi: Kpi,
    value: float,
    *,
    conditions: Mapping[str, bool | None] | None = None,
    scoring: Scoring | None = None,
    rubric: Rubric | None = None,
) -> KpiScore:
    """Score a KPI for a value.

    Args:
        kpi: The KPI (from the catalogue).
        value: The KPI's value (for a milestone KPI: the evaluation, 0–100).
        conditions: Non-numeric rubric conditions by name (absent = not met).
        scoring: Override the KPI's declared scoring mode (``step`` / ``linear``).
        rubric: Override the KPI's rubric for this call.

    Returns:
        The :class:`KpiScore`.

    Raises:
        ParameterError: For a non-finite value, an unknown scoring mode or an unknown
            condition name.
    """
    rub = rubric or kpi.rubric
    conds = dict(conditions or {})
    unknown = sorted(set(conds) - set(rub.conditions))
    if unknown:
        known = ", ".join(rub.conditions) or "none"
        raise ParameterError(
            f"KPI {kpi.id} has no condition {', '.join(unknown)} (its conditions: {known})"
        )
    rs: RubricScore = score_value(rub, value, scoring=scoring, conditions=conds)
    return KpiScore(
        **{f.name: getattr(rs, f.name) for f in fields(RubricScore)},
        kpi=kpi.id,
        value=float(value),
        points=points(kpi.weight, rs.score),
        weight=kpi.weight,
        conditions={n: conds.get(n) for n in rub.conditions},
    )


@dataclass(frozen=True)
class PartResult:
    """One part of a composite KPI."""

    id: str
    name_th: str
    weight: float
    target: float | None
    formula: formulas.FormulaResult
    inputs: Mapping[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "name_th": self.name_th,
            "weight": self.weight,
            "target": self.target,
            "inputs": dict(self.inputs),
            **self.formula.to_dict(),
        }


@dataclass(frozen=True)
class KpiResult:
    """One KPI of a unit-quarter scorecard.

    Attributes:
        kpi: The KPI definition.
        formula: The formula result (value, numerator, denominator, Thai text).
        inputs: The resolved inputs by name.
        parts: Composite parts, if any.
        score: The rubric score (``None`` without a value).
        target_met: Whether the value meets the target (เป็นไปตามเป้าหมาย).
        plan_value: The quarter's milestone plan, if the KPI has one.
        on_plan: Whether the result meets the plan (เป็นไปตามแผน).
        certified: False when validation blocked a table this KPI reads.
        uncertified_tables: Those tables.
        tables: Every table this KPI reads.
        error_th: Why the KPI could not be computed (a bad input), if so.
    """

    kpi: Kpi
    formula: formulas.FormulaResult
    inputs: Mapping[str, float | None]
    parts: tuple[PartResult, ...]
    score: KpiScore | None
    target_met: bool | None
    plan_value: float | None
    on_plan: bool | None
    certified: bool
    uncertified_tables: tuple[str, ...]
    tables: tuple[str, ...]
    error_th: str | None = None

    @property
    def value(self) -> float | None:
        """The KPI value (unrounded)."""
        return self.formula.value

    @property
    def numerator(self) -> float | None:
        """The numerator (or count / result)."""
        return self.formula.numerator

    @property
    def denominator(self) -> float | None:
        """The denominator (or target / plan)."""
        return self.formula.denominator

    @property
    def formula_text_th(self) -> str:
        """The formula filled with numbers (Thai)."""
        return self.formula.text_th

    @property
    def points(self) -> float:
        """Points earned (0 without a value)."""
        return 0.0 if self.score is None else self.score.points

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        k = self.kpi
        return {
            "kpi": k.id,
            "kpi_id": k.id,
            "code": k.code,
            "name_th": k.name_th,
            "name_en": k.name_en,
            "component": k.component,
            "component_name_th": k.component_name_th,
            "indicator_type": k.indicator_type,
            "weight": k.weight,
            "unit_th": k.unit_th,
            "target": k.target.model_dump(mode="json"),
            "target_text": k.target.text_th,
            "target_value": k.target.value,
            "formula_kind": k.formula.kind,
            "formula_th": k.formula_th,
            "definition_th": k.definition_th,
            "period_th": k.period_th,
            "data_source_th": k.data_source_th,
            "strategy": k.strategy.model_dump(mode="json", exclude_none=True),
            "baseline": [b.model_dump(mode="json") for b in k.baseline],
            "milestones": {str(q): v for q, v in (k.milestones or {}).items()},
            "evidence": list(k.evidence_th),
            "rubric": rubric_summary(k.rubric),
            "rubric_conditions": dict(k.rubric.conditions),
            "rubric_note": k.rubric.note,
            **self.formula.to_dict(),
            "formula_text": self.formula.text_th,
            "inputs": dict(self.inputs),
            "parts": [p.to_dict() for p in self.parts],
            "score": None if self.score is None else self.score.to_dict(),
            "level": None if self.score is None else self.score.level,
            "points": self.points,
            "scoring": None if self.score is None else self.score.scoring,
            "capped_by": [] if self.score is None else list(self.score.capped_by),
            "capped_reason_th": None if self.score is None else self.score.capped_reason_th,
            "next_level_value": None if self.score is None else self.score.next_level_value,
            "target_met": self.target_met,
            "plan_value": self.plan_value,
            "on_plan": self.on_plan,
            "certified": self.certified,
            "uncertified_tables": list(self.uncertified_tables),
            "tables": list(self.tables),
            "error_th": self.error_th,
            "note": k.note,
        }


@dataclass(frozen=True)
class Scorecard:
    """A unit's KPIs for one quarter, scored, with totals by component."""

    unit_code: str
    unit_name_th: str
    unit_name_en: str
    fiscal_year: int
    quarter: int
    results: tuple[KpiResult, ...]

    @property
    def total_points(self) -> float:
        """Points over all KPIs."""
        return sum(r.points for r in self.results)

    @property
    def total_weight(self) -> float:
        """Sum of the KPIs' weights."""
        return sum(r.kpi.weight for r in self.results)

    @property
    def totals_by_component(self) -> dict[str, dict[str, Any]]:
        """``{component: {name_th, name_en, weight, points, kpis}}`` in component order."""
        out: dict[str, dict[str, Any]] = {}
        for comp, (name_th, name_en) in COMPONENTS.items():
            rs = [r for r in self.results if r.kpi.component == comp]
            if not rs:
                continue
            out[comp] = {
                "name_th": name_th,
                "name_en": name_en,
                "weight": sum(r.kpi.weight for r in rs),
                "points": sum(r.points for r in rs),
                "kpis": [r.kpi.id for r in rs],
            }
        return out

    @property
    def certified(self) -> bool:
        """True when every KPI is certified."""
        return all(r.certified for r in self.results)

    def result(self, kpi_id: str) -> KpiResult:
        """The result of one KPI (by id or code)."""
        for r in self.results:
            if kpi_id in r.kpi.data_ids:
                return r
        raise KeyError(kpi_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the batch writes it as ``report.json``)."""
        return {
            "unit_code": self.unit_code,
            "unit_name_th": self.unit_name_th,
            "unit_name_en": self.unit_name_en,
            "fiscal_year": self.fiscal_year,
            "quarter": self.quarter,
            "results": [r.to_dict() for r in self.results],
            "totals_by_component": self.totals_by_component,
            "total_points": self.total_points,
            "total_weight": self.total_weight,
            "certified": self.certified,
        }


# --------------------------------------------------------------------------- evaluation


def _resolve_input(
    spec: InputSpec,
    *,
    kpi: Kpi,
    unit_code: str,
    fy: int,
    quarter: int,
    bundle: _measures.BundleLike,
    catalog: Catalog,
) -> float | None:
    if spec.const is not None:
        return float(spec.const)
    if spec.plan:
        return None if not kpi.milestones else kpi.milestones.get(quarter)
    m = _measures.get_measure(spec.measure or "")
    if spec.scope == "all_districts":
        values = [m(bundle, code, fy, quarter, **spec.args) for code in catalog.district_codes()]
        present = [v for v in values if v is not None]
        return None if not present else float(sum(present))
    v = m(bundle, unit_code, fy, quarter, **spec.args)
    return None if v is None else float(v)


def _evaluate_formula(
    f: FormulaDef, resolve: Any
) -> tuple[formulas.FormulaResult, dict[str, float | None], tuple[PartResult, ...]]:
    if f.kind == "composite":
        parts: list[PartResult] = []
        for p in f.parts:
            res, ins, _ = _evaluate_formula(p.formula, resolve)
            parts.append(
                PartResult(
                    id=p.id,
                    name_th=p.name_th,
                    weight=p.weight,
                    target=p.target,
                    formula=res,
                    inputs=ins,
                )
            )
        params = {
            **f.params,
            "parts": [
                {"id": p.id, "weight": p.weight, "target": p.target, "full_marks": p.full_marks}
                for p in f.parts
            ],
        }
        values = {p.id: p.formula.value for p in parts}
        return formulas.evaluate("composite", values, params=params), values, tuple(parts)
    inputs = {name: resolve(spec) for name, spec in f.inputs.items()}
    return formulas.evaluate(f.kind, inputs, params=f.params), inputs, ()


def kpi_tables(kpi: Kpi) -> tuple[str, ...]:
    """The canonical tables a KPI reads (its measures', plus ``conditions`` if it has any)."""
    tables: list[str] = []
    for spec in kpi.measures_used():
        ts = _measures.get_measure(spec.measure or "").tables
        tables.extend(t for t in ts if t not in tables)
    if kpi.rubric.conditions:
        tables.extend(t for t in _measures.CONDITION_TABLES if t not in tables)
    return tuple(tables)


def evaluate_kpi(
    kpi: Kpi,
    unit_code: str,
    fy: int,
    quarter: int,
    *,
    bundle: _measures.BundleLike,
    catalog: Catalog,
    uncertified_tables: frozenset[str] = frozenset(),
    scoring: Scoring | None = None,
) -> KpiResult:
    """Compute, score and check one KPI for a unit and quarter.

    A bad input (an error raised by a measure) gives a *no data* result with the reason in
    ``error_th``; it does not raise.
    """
    tables = kpi_tables(kpi)
    blocked = tuple(t for t in tables if t in uncertified_tables)

    def resolve(spec: InputSpec) -> float | None:
        return _resolve_input(
            spec,
            kpi=kpi,
            unit_code=unit_code,
            fy=fy,
            quarter=quarter,
            bundle=bundle,
            catalog=catalog,
        )

    error = None
    try:
        res, inputs, parts = _evaluate_formula(kpi.formula, resolve)
    except (KpilibError, KeyError, ValueError) as exc:  # bad input data, not a bug in kpilib
        error = f"คำนวณไม่ได้ ({type(exc).__name__}): {exc}"
        res = formulas.FormulaResult(value=None, no_data_reason_th=error, text_th=error)
        inputs, parts = {}, ()

    conds: dict[str, bool | None] = {}
    for name in kpi.rubric.conditions:
        try:
            conds[name] = condition_met(
                bundle, unit_code, fy, quarter, kpi_id=kpi.data_ids, condition=name
            )
        except (KpilibError, KeyError):
            conds[name] = None
    score = (
        None if res.value is None else score_kpi(kpi, res.value, conditions=conds, scoring=scoring)
    )

    result_value = res.details.get("result", res.value) if res.value is not None else None
    plan_value = kpi.milestones.get(quarter) if kpi.milestones else None
    on_plan = None
    if plan_value is not None and result_value is not None:
        on_plan = float(result_value) >= float(plan_value)
    return KpiResult(
        kpi=kpi,
        formula=res,
        inputs=inputs,
        parts=parts,
        score=score,
        target_met=kpi.target.met(result_value),
        plan_value=plan_value,
        on_plan=on_plan,
        certified=not blocked,
        uncertified_tables=blocked,
        tables=tables,
        error_th=error,
    )


def unit_scorecard(
    unit_code: str,
    fy: int,
    quarter: int,
    *,
    bundle: _measures.BundleLike,
    catalog: Catalog | None = None,
    uncertified_tables: frozenset[str] = frozenset(),
    scoring: Scoring | None = None,
) -> Scorecard:
    """Compute a unit's scorecard for one quarter.

    Args:
        unit_code: District geocode or office code.
        fy: Fiscal year (Buddhist Era).
        quarter: 1–4.
        bundle: The data bundle (anything with ``table()`` and ``has_table()``).
        catalog: The catalogue (default: :func:`~kpilib.catalog.load_catalog`).
        uncertified_tables: Tables validation blocked for this unit; KPIs reading them are
            marked not certified.
        scoring: Override every KPI's scoring mode.

    Raises:
        CalendarError / ParameterError: Bad fiscal year or quarter.
        ConfigError: Unknown unit.
    """
    from kpilib import calendar as cal

    fy = cal.require_be_year(fy)
    quarter = cal.require_quarter(quarter)
    cat = catalog or load_catalog()
    unit = cat.unit(unit_code)
    results = tuple(
        evaluate_kpi(
            k,
            unit.code,
            fy,
            quarter,
            bundle=bundle,
            catalog=cat,
            uncertified_tables=frozenset(uncertified_tables),
            scoring=scoring,
        )
        for k in cat.kpis_for_unit(unit.code, fy)
    )
    return Scorecard(
        unit_code=unit.code,
        unit_name_th=unit.name_th,
        unit_name_en=unit.name_en,
        fiscal_year=fy,
        quarter=quarter,
        results=results,
    )


# --------------------------------------------------------------------------- CLI helpers


def parse_value(text: str) -> float:
    """Parse a KPI value from the command line (Thai digits and a trailing % accepted).

    Raises:
        ParameterError: If it is not a finite number.
    """
    import math

    from kpilib import calendar as cal

    raw = cal.from_thai_digits(str(text)).strip().rstrip("%").replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        raise ParameterError(f"--value must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ParameterError(f"--value must be a finite number, got {text!r}")
    return value


def parse_conditions(items: list[str] | None) -> dict[str, bool]:
    """Parse ``NAME=true|false`` items.

    Raises:
        ParameterError: For an item without ``=`` or a value other than true/false.
    """
    out: dict[str, bool] = {}
    for item in items or []:
        name, sep, val = item.partition("=")
        flag = val.strip().lower()
        if not sep or not name.strip() or flag not in ("true", "false"):
            raise ParameterError(f"--condition must be NAME=true or NAME=false, got {item!r}")
        out[name.strip()] = flag == "true"
    return out
