"""Every complaint KPI table of a fiscal year in one call, on both cores.

The event log (steps 1 and 2) and the tickets table (KPI 4, the monthly figures) are
independent; :func:`year_tables` works on the tickets in a second thread while the main
thread works on the events. Arrow's Parquet decoding and numpy's array operations release
Python's lock, so the two really run at once on a 2-core machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints.compliance import evaluate_compliance
from kpilib.complaints.events import EventLog
from kpilib.complaints.figures import TicketArrays, monthly_figures_fy
from kpilib.complaints.rules import FebruaryRule
from kpilib.complaints.step3 import step3_table
from kpilib.complaints.summaries import compliance_by_quarter, year_end_resolution
from kpilib.complaints.traffy import traffy_resolution


@dataclass(frozen=True)
class YearTables:
    """The complaint KPI tables of one fiscal year (see each function for the columns).

    Attributes:
        compliance: :func:`compliance_by_quarter` (KPI 3.1 steps 1 and 2, resolution).
        year_end: :func:`year_end_resolution`.
        traffy: :func:`traffy_resolution` (KPI 4).
        monthly: :func:`monthly_figures_fy`.
        step3: :func:`step3_table`, or None without report submissions.
    """

    compliance: pd.DataFrame
    year_end: pd.DataFrame
    traffy: pd.DataFrame
    monthly: pd.DataFrame
    step3: pd.DataFrame | None


def year_tables(
    events: pd.DataFrame | EventLog | str | Path,
    tickets: pd.DataFrame | TicketArrays | str | Path,
    report_submissions: pd.DataFrame | None,
    *,
    fy: int,
    units: Sequence[str],
    february: FebruaryRule = "last_day",
) -> YearTables:
    """Every complaint KPI table of fiscal year ``fy`` for ``units``.

    Args:
        events: The events table, its :class:`EventLog`, or the path of its Parquet file.
        tickets: The tickets table, its :class:`TicketArrays`, or its Parquet file's path.
        report_submissions: The step-3 table, or None.
        fy: Fiscal year (BE).
        units: The units to report, in order (e.g. the catalogue's districts).
        february: The February checkpoint rule (see :func:`evaluate_compliance`).
    """
    fy = cal.require_be_year(fy)
    units = [str(u) for u in units]

    def ticket_side() -> tuple[pd.DataFrame, pd.DataFrame]:
        arr = (
            TicketArrays.from_parquet(tickets)
            if isinstance(tickets, str | Path)
            else TicketArrays.coerce(tickets)
        )
        return traffy_resolution(arr, fy=fy, units=units), monthly_figures_fy(arr, fy, units=units)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpilib-tickets") as pool:
        other = pool.submit(ticket_side)
        log = EventLog.from_parquet(events) if isinstance(events, str | Path) else events
        result = evaluate_compliance(log, fy=fy, february=february)
        compliance = compliance_by_quarter(result, units=units)
        year_end = year_end_resolution(result, units=units)
        step3 = (
            step3_table(report_submissions, fy=fy, units=units)
            if report_submissions is not None
            else None
        )
        traffy, monthly = other.result()
    return YearTables(compliance, year_end, traffy, monthly, step3)
