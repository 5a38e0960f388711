"""Seed 001's project progress reports: the monthly figures computed from complaint data,
beside what the unit declared."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from conftest import golden_tickets

from kpilib.assemble import project_progress
from kpilib.catalog import load_catalog
from kpilib.forms.models import MonthlyReport, Project, UnitForms
from kpilib.numbers import round_half_up


class _Bundle:
    def __init__(self, **tables: pd.DataFrame) -> None:
        self._tables = tables

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str) -> pd.DataFrame:
        return self._tables[name]


def _forms(golden: dict) -> UnitForms:
    """The unit's monthly reports as declared in seed 001 (report dates from the golden file)."""
    reports = golden["project_3453_progress_reports_fy2563"]["reports"]
    months = {r["month"]: r for r in golden["monthly_complaints_prawet_fy2563"]}
    declared = []
    for rep, (month, row) in zip(reports, months.items(), strict=True):
        y, m = (int(x) for x in month.split("-"))
        declared.append(
            MonthlyReport(
                kpi="district_complaint_project_3453",
                report_no=rep["report_no"],
                year=y,
                month=m,
                reported_on=rep["reported_on"],
                received=row["received"],
                finished=row["finished"],
                in_progress=row["in_progress"],
                progress_pct=rep["progress_pct"],
            )
        )
    project = Project(
        kpi="district_complaint_project_3453",
        name_th="ระดับความสำเร็จในการจัดการเรื่องที่ได้รับแจ้ง",
        fiscal_year=2563,
        reports=tuple(declared),
    )
    return UnitForms(unit="1032", fiscal_year=2563, quarter=2, projects=(project,))


def test_monthly_reports_computed_as_of_the_units_report_dates(golden):
    rows = golden["monthly_complaints_prawet_fy2563"]
    bundle = _Bundle(tickets=golden_tickets(rows))
    unit = load_catalog().unit("1032")
    progress = project_progress(
        bundle, unit, "district_complaint_project_3453", 2563, len(rows), _forms(golden)
    )
    assert [m.report_no for m in progress.months] == [1, 2, 3, 4]
    for fig, row in zip(progress.months, rows, strict=True):
        assert fig.as_of == dt.date.fromisoformat(str(row["as_of"]))  # the report's date
        assert (fig.received, fig.finished, fig.in_progress) == (
            row["received"],
            row["finished"],
            row["in_progress"],
        )
        assert round_half_up(fig.finished_pct) == row["finished_pct"]


def test_without_the_units_report_the_month_is_counted_to_its_end(golden):
    rows = golden["monthly_complaints_prawet_fy2563"]
    bundle = _Bundle(tickets=golden_tickets(rows))
    unit = load_catalog().unit("1032")
    progress = project_progress(bundle, unit, "district_complaint_project_3453", 2563, 3)
    december = progress.month(3)
    assert december.as_of == dt.date(2019, 12, 31)
    assert december.received > rows[2]["received"]  # the distractor after the 24th counts now
