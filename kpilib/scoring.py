"""Scoring: one KPI for a value (:func:`score_kpi`), and a unit-quarter scorecard.

:func:`unit_scorecard` resolves each assigned KPI's inputs from the named measures, applies
its formula kind, scores the value with the KPI's rubric (conditions read from the
``conditions`` table), compares it with the target and the quarter's milestone plan, and
marks it *not certified* when validation blocked a table it reads (*unknown* when no
validation results were given). One KPI that cannot be computed gives a *no data* result
with a reason; it never stops the others.

A level is decided on the value **as displayed** (half-up to 2 decimals), so a printed 95.00
is never level 4 and a printed 80.00 never passes "มากกว่า 80".

Totals (:class:`~kpilib.document.Scorecard`): points summed over the KPIs with data; a KPI
without data earns no points and its weight is left out of the counted weight, by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from kpilib import calendar as cal
from kpilib import formulas
from kpilib import measures as _measures
from kpilib.catalog import Catalog, FormulaDef, InputSpec, Kpi, load_catalog
from kpilib.document import (
    Certification,
    FigureValue,
    KpiResult,
    KpiScore,
    PartResult,
    RequirementStatus,
    Scorecard,
    StatusFlag,
)
from kpilib.errors import KpilibError, ParameterError
from kpilib.measures.side_tables import condition_row
from kpilib.numbers import fmt_number, round_half_up
from kpilib.rubric import Rubric, Scoring, points, score_value


def score_kpi(
    kpi: Kpi,
    value: float,
    *,
    conditions: Mapping[str, bool | None] | None = None,
    scoring: Scoring | None = None,
    rubric: Rubric | None = None,
) -> KpiScore:
    """Score a KPI for a value, as displayed (half-up to 2 decimals).

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
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"value must be a finite number, got {value!r}")
    shown = round_half_up(value)
    rs = score_value(rub, shown, scoring=scoring, conditions=conds)
    return KpiScore(
        **rs.model_dump(),
        kpi=kpi.id,
        value=shown,
        points=points(kpi.weight, rs.score),
        weight=kpi.weight,
        conditions={n: conds.get(n) for n in rub.conditions},
    )


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
    f: FormulaDef, resolve: Callable[[InputSpec], float | None]
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
        labels = {p.id: p.name_th for p in f.parts}
        res = formulas.evaluate("composite", values, params=params, labels=labels)
        return res, values, tuple(parts)
    inputs = {name: resolve(spec) for name, spec in f.inputs.items()}
    labels = {name: spec.label_th for name, spec in f.inputs.items() if spec.label_th}
    res = formulas.evaluate(f.kind, inputs, params=f.params, labels=labels)
    return res, inputs, ()


def kpi_tables(kpi: Kpi) -> tuple[str, ...]:
    """The canonical tables a KPI reads (its measures', plus ``conditions`` if it has any)."""
    tables: list[str] = []
    for spec in kpi.measures_used():
        ts = _measures.get_measure(spec.measure or "").tables
        tables.extend(t for t in ts if t not in tables)
    if kpi.rubric.conditions:
        tables.extend(t for t in _measures.CONDITION_TABLES if t not in tables)
    return tuple(tables)


def status_flags(kpi: Kpi, res: formulas.FormulaResult, quarter: int) -> tuple[StatusFlag, ...]:
    """เป็นไปตามแผน (result vs the quarter's plan) and เป็นไปตามเป้าหมาย (result vs the year's
    target), on the result as displayed; none without a result."""
    result = res.result if res.result is not None else res.value
    if result is None:
        return ()
    shown = round_half_up(result)
    flags = []
    plan = kpi.milestones.get(quarter) if kpi.milestones else None
    if plan is not None:
        flags.append(StatusFlag(kind="plan", met=shown >= plan, result=shown, comparator=plan))
    t = kpi.target
    flags.append(
        StatusFlag(
            kind="target",
            met=bool(t.met(shown)),
            result=shown,
            comparator=t.value,
            strict=t.op == ">",
            year_to_date=bool(kpi.milestones) and quarter < max(kpi.milestones),
        )
    )
    return tuple(flags)


Blocked = Mapping[str, Sequence[str]] | frozenset[str] | None
"""Tables with blocking findings that touch the period: table → reasons naming the rows
(:func:`kpilib.certify.blocking_in_period`), or just the tables; ``None``: not validated."""


def certification_for(
    tables: tuple[str, ...], blocked: Blocked, *, has_data: bool = True
) -> Certification:
    """A KPI's certification from the blocking findings touching the tables it reads."""
    if not has_data:
        return Certification(state="no_data", reasons_th=("ไม่มีข้อมูลสำหรับคำนวณ จึงไม่มีตัวเลขให้รับรอง",))
    if blocked is None:
        return Certification(state="unknown")
    hit = tuple(t for t in tables if t in blocked)
    if not hit:
        return Certification(state="certified")
    reasons: list[str] = []
    for t in hit:
        given = blocked[t] if isinstance(blocked, Mapping) else ()
        reasons.extend(given or (f"ข้อมูล {t} มีข้อผิดพลาดร้ายแรงที่ยังไม่ได้แก้ไข",))
    return Certification(state="not_certified", blocked_tables=hit, reasons_th=tuple(reasons))


def _share_text(num: float | None, den: float | None) -> tuple[float | None, str]:
    if num is None or den is None:
        return None, "ไม่มีข้อมูล"
    if den == 0:
        return None, "ยังไม่มีรายการ"
    share = num * 100.0 / den
    return share, (
        f"{fmt_number(num, grouping=True)} × 100 ÷ {fmt_number(den, grouping=True)} = "
        f"{fmt_number(share, decimals=2)}"
    )


def requirement_statuses(
    kpi: Kpi,
    unit_code: str,
    fy: int,
    quarter: int,
    bundle: _measures.BundleLike,
    resolve: Callable[[InputSpec], float | None],
) -> tuple[RequirementStatus, ...]:
    """Every requirement of the KPI (its ``requirements`` and its rubric's conditions): a
    computed one from its figures, the others as reported in the ``conditions`` table."""
    reqs = {r.name: r for r in kpi.requirements}
    texts = {r.name: r.text_th for r in kpi.requirements}
    for name, text in kpi.rubric.conditions.items():
        texts.setdefault(name, text)
    capping = {c for lv in kpi.rubric.levels for c in lv.conditions}
    out = []
    for name, text in texts.items():
        check = reqs[name].computed if name in reqs else None
        if check is not None:
            try:
                num, den = resolve(check.numerator), resolve(check.denominator)
            except (KpilibError, KeyError, ValueError):
                num = den = None
            share, shown = _share_text(num, den)
            met = None if share is None else round_half_up(share) >= check.min_percent
            evidence = f"{shown} (เกณฑ์ ≥ {fmt_number(check.min_percent)}){' ' + check.when_th if check.when_th else ''}"
            out.append(
                RequirementStatus(
                    name=name, text_th=text, met=met, evidence=evidence, quarter=quarter,
                    caps_level=name in capping, computed=True,
                )
            )  # fmt: skip
            continue
        try:
            row = condition_row(bundle, unit_code, fy, quarter, kpi_id=kpi.data_ids, condition=name)
        except (KpilibError, KeyError):
            row = None
        met, evidence, q = row if row is not None else (None, "", None)
        out.append(
            RequirementStatus(
                name=name,
                text_th=text,
                met=met,
                evidence=evidence,
                quarter=q,
                caps_level=name in capping,
            )
        )
    return tuple(out)


def kpi_figures(kpi: Kpi, resolve: Callable[[InputSpec], float | None]) -> tuple[FigureValue, ...]:
    """The figures a KPI shows beside its value."""
    out = []
    for fig in kpi.figures:
        try:
            num = resolve(fig.numerator)
            den = None if fig.denominator is None else resolve(fig.denominator)
        except (KpilibError, KeyError, ValueError):
            num = den = None
        out.append(FigureValue(id=fig.id, label_th=fig.label_th, numerator=num, denominator=den))
    return tuple(out)


def evaluate_kpi(
    kpi: Kpi,
    unit_code: str,
    fy: int,
    quarter: int,
    *,
    bundle: _measures.BundleLike,
    catalog: Catalog,
    blocked_tables: Blocked = None,
    scoring: Scoring | None = None,
) -> KpiResult:
    """Compute, score and check one KPI for a unit and quarter.

    Args:
        blocked_tables: Tables whose blocking findings touch this unit's period (with the
            reasons); ``None`` when no validation results are at hand (certification is then
            *unknown*).

    A bad input (an error raised by a measure) gives a *no data* result with the reason in
    ``error_th``; it does not raise.
    """
    tables = kpi_tables(kpi)

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

    requirements = requirement_statuses(kpi, unit_code, fy, quarter, bundle, resolve)
    score = None
    if res.value is not None:
        conds = {r.name: r.met for r in requirements if r.name in kpi.rubric.conditions}
        score = score_kpi(kpi, res.value, conditions=conds, scoring=scoring)

    plan_value = kpi.milestones.get(quarter) if kpi.milestones else None
    flags = status_flags(kpi, res, quarter)
    by_kind = {f.kind: f.met for f in flags}
    return KpiResult(
        kpi=kpi,
        formula=res,
        inputs=inputs,
        parts=parts,
        score=score,
        target_met=by_kind.get("target"),
        plan_value=plan_value,
        on_plan=by_kind.get("plan"),
        flags=flags,
        requirements=requirements,
        figures=kpi_figures(kpi, resolve),
        certification=certification_for(tables, blocked_tables, has_data=res.value is not None),
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
    blocked_tables: Blocked = None,
    scoring: Scoring | None = None,
) -> Scorecard:
    """Compute a unit's scorecard for one quarter.

    Args:
        unit_code: District geocode or office code.
        fy: Fiscal year (Buddhist Era).
        quarter: 1–4.
        bundle: The data bundle (anything with ``table()`` and ``has_table()``).
        catalog: The catalogue (default: :func:`~kpilib.catalog.load_catalog`).
        blocked_tables: Tables whose blocking findings touch the unit's period (KPIs reading
            them are not certified): a mapping to the reasons (:mod:`kpilib.certify`) or a set
            of tables; ``None`` (default): no validation results, certification *unknown*.
        scoring: Override every KPI's scoring mode.

    Raises:
        CalendarError / ParameterError: Bad fiscal year or quarter.
        ConfigError: Unknown unit.
    """
    fy = cal.require_be_year(fy)
    quarter = cal.require_quarter(quarter)
    cat = catalog or load_catalog()
    unit = cat.unit(unit_code)
    blocked = blocked_tables
    results = tuple(
        evaluate_kpi(
            k,
            unit.code,
            fy,
            quarter,
            bundle=bundle,
            catalog=cat,
            blocked_tables=blocked,
            scoring=scoring,
        )
        for k in cat.kpis_for_unit(unit.code, fy)
    )
    return Scorecard(unit=unit, fiscal_year=fy, quarter=quarter, results=results)


# --------------------------------------------------------------------------- CLI helpers


def parse_value(text: str) -> float:
    """Parse a KPI value from the command line (Thai digits and a trailing % accepted).

    Raises:
        ParameterError: If it is not a finite number.
    """
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
