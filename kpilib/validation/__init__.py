"""Validation of a data folder: great-expectations suites plus domain cross-checks.

Validation runs once per batch over the whole input (:func:`run_validation`), on the ingest's
one parse of every raw file, and writes every finding to ``<out>/validation.json`` (read back
cheaply with :func:`load_validation_report`, no great-expectations import) and the GX Data
Docs to ``<out>/data_docs/``. Each unit's report reads its own slice
(:meth:`ValidationReport.for_unit`); a blocking finding makes the KPIs that read the table
"not certified" (:meth:`ValidationReport.blocking_tables`).

Modules: :mod:`~kpilib.validation.suites` (the suites as data),
:mod:`~kpilib.validation.checks` (the checks by name), :mod:`~kpilib.validation.gx` (running
GX, Data Docs), :mod:`~kpilib.validation.findings` (findings and the saved report),
:mod:`~kpilib.validation.run` (one run). See ``docs/validation.md``.
"""

from __future__ import annotations

from kpilib.validation.checks import (
    CHECKS,
    CheckDef,
    RunContext,
    check_monthly_figures,
    monthly_figures_mismatch,
    percentages_sum_mismatch,
    register_check,
    reported_percentage_mismatch,
)
from kpilib.validation.findings import (
    CROSS_UNIT_TABLES,
    Finding,
    ValidationReport,
    format_summary,
    load_validation_report,
)
from kpilib.validation.gx import new_gx_context
from kpilib.validation.run import run_validation
from kpilib.validation.suites import (
    CheckSpec,
    SuiteSet,
    TableSuite,
    default_suites_path,
    load_suites,
)

__all__ = [
    "CHECKS",
    "CROSS_UNIT_TABLES",
    "CheckDef",
    "CheckSpec",
    "Finding",
    "RunContext",
    "SuiteSet",
    "TableSuite",
    "ValidationReport",
    "check_monthly_figures",
    "default_suites_path",
    "format_summary",
    "load_suites",
    "load_validation_report",
    "monthly_figures_mismatch",
    "new_gx_context",
    "percentages_sum_mismatch",
    "register_check",
    "reported_percentage_mismatch",
    "run_validation",
]
