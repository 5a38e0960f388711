"""The BMA web form's quarterly table, reproduced from inputs (seeds 000 and 002)."""

from __future__ import annotations

import pandas as pd
import pytest

from kpilib.catalog import load_catalog
from kpilib.numbers import round_half_up
from kpilib.scoring import evaluate_kpi
from kpilib.webform import FormEntry, evaluation, web_form


class _Bundle:
    def __init__(self, **tables: pd.DataFrame) -> None:
        self._tables = tables

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str) -> pd.DataFrame:
        return self._tables[name]


@pytest.mark.parametrize(
    ("result", "comparator", "expected"),
    [(30, 8, 100.0), (0, 8, 0.0), (45, 60, 75.0), (None, 30, None), (60.004, 60, 100.0)],
)
def test_evaluation_is_capped_at_100(result, comparator, expected):
    assert evaluation(result, comparator) == expected


def test_best_service_web_form_seed_002(golden):
    """Results entered by the unit (manual_results) against the plan in params/: evaluation
    100 each quarter; 2.1/2.2 and the สยป. Q1 score are people's entries."""
    g = golden["best_service_web_form_5016_0685"]
    cat = load_catalog()
    kpi = cat.kpi("5016-0685")
    manual = pd.DataFrame(
        {
            "unit_code": ["1032"] * 4,
            "kpi_id": ["5016-0685"] * 4,
            "fiscal_year": [2567] * 4,
            "quarter": [row["quarter"] for row in g["quarters"]],
            "value": [float(row["result"]) for row in g["quarters"]],
            "note": [""] * 4,
        }
    )
    bundle = _Bundle(manual_results=manual)
    results = {
        q: evaluate_kpi(kpi, "1032", 2567, q, bundle=bundle, catalog=cat) for q in (1, 2, 3, 4)
    }
    audit = g["audit_by_strategy_department"]
    entries = {
        row["quarter"]: FormEntry(
            self_assessment=row["assessment_2_1"],
            reviewer_assessment=row["assessment_2_2"],
            audited_score=audit["score"] if row["quarter"] == audit["quarter"] else None,
        )
        for row in g["quarters"]
    }
    form = web_form(kpi, results, entries)
    assert (form.target, form.result) == (g["target"], g["result"])
    for row, want in zip(form.rows, g["quarters"], strict=True):
        assert row.result == want["result"] and row.result_source == "computed"
        assert row.comparator_kind == "plan" and row.comparator == kpi.milestones[row.quarter]
        assert round_half_up(row.evaluation) == want["evaluation"]
        assert (row.assessment_2_1, row.assessment_2_2) == (
            want["assessment_2_1"],
            want["assessment_2_2"],
        )
    assert (form.audit_quarter, form.audit_score) == (audit["quarter"], audit["score"])


def test_kpi_3_1_web_form_seed_000(golden):
    """KPI 3.1's web form: the unit typed its results (30, 0, 0, 0); the printed target 8 gives
    evaluations 100, 0, 0, 0; 2.1/2.2, narratives and the สยป. Q4 score are people's entries."""
    g = golden["kpi_3_1_web_form_fy2563"]
    kpi = load_catalog().kpi("5012-0892")
    assert kpi.target.value == g["target"]
    audit = g["audit_by_strategy_department"]
    entries = {
        row["quarter"]: FormEntry(
            reported_result=row["result"],
            self_assessment=row["assessment_2_1"],
            reviewer_assessment=row["assessment_2_2"],
            audited_score=audit["score"] if row["quarter"] == audit["quarter"] else None,
            narrative=None
            if g["narrative"][row["quarter"]] == "-"
            else g["narrative"][row["quarter"]],
        )
        for row in g["quarters"]
    }
    form = web_form(kpi, {}, entries)
    assert form.target == g["target"]
    assert form.rows[0].result == g["result"]
    for row, want in zip(form.rows, g["quarters"], strict=True):
        assert row.result == want["result"] and row.result_source == "reported"
        assert row.comparator == g["target"] and row.comparator_kind == "target"
        assert round_half_up(row.evaluation) == want["evaluation"]
        assert (row.assessment_2_1, row.assessment_2_2) == (
            want["assessment_2_1"],
            want["assessment_2_2"],
        )
    assert form.rows[0].narrative == g["narrative"][1]
    assert all(r.narrative is None for r in form.rows[1:])
    assert (form.audit_quarter, form.audit_score) == (audit["quarter"], audit["score"])
