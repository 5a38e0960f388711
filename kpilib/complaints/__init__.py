"""The complaint engine: monthly and as-of figures, the 3-step handling rules, Traffy resolution.

Computes from the canonical ``tickets`` and ``events`` tables (``docs/architecture.md``) and
the ``report_submissions`` table, vectorised with numpy: per-ticket flags are computed once
(:func:`evaluate_compliance`) and then grouped by unit and quarter. The rules as
implemented, and every reading of the seeds, are in ``docs/complaints.md``.

Modules (dependencies flow downwards; none imports the measure registry):

- ``rules`` — the rules' constants; ``days`` — day numbers, the business-day table,
  checkpoints; ``grouping`` — key codes and counts per unit;
- ``ticket_ids``, ``events``, ``parquet`` — the event log as arrays, one set per kind;
  ``step2`` — checkpoint masks and rows; ``stages`` — the stages of steps 1 and 2;
  ``compliance`` — :func:`evaluate_compliance` (runs the stages) and its result;
- ``summaries`` — KPI 3.1 per unit-quarter, year-end resolution, audit reasons;
- ``step3`` — the monthly summary; ``figures`` — monthly figures and the charts' data;
  ``traffy`` — KPI 4;
- ``year`` — every table of a fiscal year in one call (events and tickets on two threads);
- ``measures`` — the measure functions (per-bundle cache), named by ``kpilib.measures``.
"""

from kpilib.complaints.compliance import ComplianceResult, TicketFlags, evaluate_compliance
from kpilib.complaints.days import bangkok_days, checkpoint_days
from kpilib.complaints.events import EventLog
from kpilib.complaints.figures import (
    MonthCounts,
    TicketArrays,
    TypeTags,
    backlog_ageing,
    complaints_by_type,
    monthly_figures,
    monthly_figures_fy,
    monthly_trend,
    time_to_finish,
)
from kpilib.complaints.measures import (
    bundle_compliance,
    bundle_step3,
    bundle_traffy,
    m_all_steps_compliant,
    m_received,
    m_resolved,
    m_step1_compliant,
    m_step2_compliant,
    m_step3_months,
    m_step3_on_time,
    m_step12_compliant,
    m_step12_total,
    m_traffy_received,
    m_traffy_resolved,
    step3_counts,
    step12_counts,
    traffy_kpi,
)
from kpilib.complaints.rules import (
    ACCEPT_BUSINESS_DAYS,
    AGEING_BUCKETS,
    EVENT_TYPES,
    FINISHED_STATE,
    FIRST_PROGRESS_BUSINESS_DAYS,
    NO_TAG,
    REPORT_DUE_DAY,
    YEAR_END_TARGET_PCT,
    FebruaryRule,
    StateBasis,
)
from kpilib.complaints.step3 import step3_table
from kpilib.complaints.summaries import (
    compliance_by_quarter,
    noncompliance_reasons,
    year_end_resolution,
)
from kpilib.complaints.traffy import traffy_ranking, traffy_resolution, traffy_tickets
from kpilib.complaints.year import YearTables, year_tables

__all__ = [
    "ACCEPT_BUSINESS_DAYS",
    "AGEING_BUCKETS",
    "EVENT_TYPES",
    "FINISHED_STATE",
    "FIRST_PROGRESS_BUSINESS_DAYS",
    "NO_TAG",
    "REPORT_DUE_DAY",
    "YEAR_END_TARGET_PCT",
    "ComplianceResult",
    "EventLog",
    "FebruaryRule",
    "MonthCounts",
    "StateBasis",
    "TicketArrays",
    "TicketFlags",
    "TypeTags",
    "YearTables",
    "backlog_ageing",
    "bangkok_days",
    "bundle_compliance",
    "bundle_step3",
    "bundle_traffy",
    "checkpoint_days",
    "complaints_by_type",
    "compliance_by_quarter",
    "evaluate_compliance",
    "m_all_steps_compliant",
    "m_received",
    "m_resolved",
    "m_step1_compliant",
    "m_step2_compliant",
    "m_step3_months",
    "m_step3_on_time",
    "m_step12_compliant",
    "m_step12_total",
    "m_traffy_received",
    "m_traffy_resolved",
    "monthly_figures",
    "monthly_figures_fy",
    "monthly_trend",
    "noncompliance_reasons",
    "step3_counts",
    "step3_table",
    "step12_counts",
    "time_to_finish",
    "traffy_kpi",
    "traffy_ranking",
    "traffy_resolution",
    "traffy_tickets",
    "year_end_resolution",
    "year_tables",
]
