"""The BMA KPI web form's quarterly table (seeds 000 and 002), computed where the form computes.

For every KPI and quarter the web form prints ผลงาน (the result), ผลประเมินตัวชี้วัด (the
evaluation against that quarter's plan, or the year's target when the KPI has no plan, capped at
100), the two assessment columns "(2.1 / 2.2)" and, above the table, the line
"สยป. ตรวจประเมินตัวชี้วัด : ไตรมาสที่ n : score". The result and the evaluation are computed;
2.1 (the unit's self-assessment), 2.2 (the สยป. assessment) and the สยป. score are people's
entries. Where the unit typed its own result on the form (seed 000 prints 30.00 for KPI 3.1),
that figure is shown and the system's figure beside it.

Pure functions: the scorecards and the people's entries come in, the typed rows go out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kpilib.catalog import Kpi
from kpilib.document import KpiResult, WebForm, WebFormRow
from kpilib.numbers import round_half_up

QUARTERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class FormEntry:
    """What people wrote on the web form for one KPI and quarter (``None`` = nothing)."""

    reported_result: float | None = None
    self_assessment: float | None = None
    reviewer_assessment: float | None = None
    audited_score: float | None = None
    narrative: str | None = None


def evaluation(result: float | None, comparator: float | None) -> float | None:
    """ผลประเมินตัวชี้วัด = min(100, result × 100 ÷ comparator), on the result as displayed.

    ``None`` without a result or a comparator; a zero comparator evaluates any result as 100.
    """
    if result is None or comparator is None:
        return None
    shown = round_half_up(result)
    if comparator == 0:
        return 100.0
    return min(100.0, shown * 100.0 / comparator)  # type: ignore[operator]


def comparator(kpi: Kpi, quarter: int) -> tuple[float, str]:
    """The figure a quarter's result is evaluated against: its plan, else the year's target."""
    if kpi.milestones and quarter in kpi.milestones:
        return float(kpi.milestones[quarter]), "plan"
    return float(kpi.target.value), "target"


def web_form(
    kpi: Kpi,
    results: Mapping[int, KpiResult],
    entries: Mapping[int, FormEntry] | None = None,
) -> WebForm:
    """The web form of one KPI for the fiscal year.

    Args:
        kpi: The KPI.
        results: The computed result of each quarter reported so far (quarter → result).
        entries: People's entries per quarter (a quarter may have entries and no result).
    """
    entries = entries or {}
    rows = []
    for q in QUARTERS:
        r = results.get(q)
        e = entries.get(q, FormEntry())
        computed = None if r is None else r.result_value
        shown = e.reported_result if e.reported_result is not None else computed
        source = (
            "reported"
            if e.reported_result is not None
            else ("computed" if computed is not None else None)
        )
        comp, kind = comparator(kpi, q)
        rows.append(
            WebFormRow(
                quarter=q,
                result=None if shown is None else round_half_up(shown),
                result_source=source,  # type: ignore[arg-type]
                computed=None if computed is None else round_half_up(computed),
                reported=e.reported_result,
                comparator=comp,
                comparator_kind=kind,  # type: ignore[arg-type]
                evaluation=evaluation(shown, comp),
                assessment_2_1=e.self_assessment,
                assessment_2_2=e.reviewer_assessment,
                narrative=e.narrative,
            )
        )
    audited = [(q, entries[q].audited_score) for q in QUARTERS if q in entries]
    audited = [(q, s) for q, s in audited if s is not None]
    last = max(audited) if audited else None
    shown_rows = [row for row in rows if row.result is not None]
    return WebForm(
        kpi=kpi.id,
        target=float(kpi.target.value),
        result=shown_rows[-1].result if shown_rows else None,
        rows=tuple(rows),
        audit_quarter=None if last is None else last[0],
        audit_score=None if last is None else last[1],
    )
