"""The complaint measures: ``(bundle, unit_code, fy, quarter) -> number | None``.

The registry (:mod:`kpilib.measures`) names these functions; this module never imports it.
Each table is computed once per bundle and fiscal year (a per-bundle cache) and the measures
read one row of it. Periods are cumulative from the fiscal year's first day to the
quarter's last day, judged as of that day (docs/complaints.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints.compliance import evaluate_compliance
from kpilib.complaints.step3 import step3_table
from kpilib.complaints.summaries import all_steps_by_quarter, compliance_by_quarter
from kpilib.complaints.traffy import traffy_resolution
from kpilib.memo import memoized

if TYPE_CHECKING:  # the registry names these functions; they never import it at run time
    from kpilib.measures import BundleLike


def _cached(
    bundle: BundleLike, key: tuple[Any, ...], table: str, compute: Callable[[], Any]
) -> Any:
    """``compute()`` once per bundle and key; None when the bundle lacks ``table``."""
    return memoized(bundle, key, lambda: compute() if bundle.has_table(table) else None)


def _compliance(bundle: BundleLike, fy: int) -> Any:
    """Steps 1 and 2 of every ticket of the fiscal year (once per bundle: KPI 3.1 and the
    three-step KPI both read it); None without events."""

    def compute() -> Any:
        tickets = bundle.table("tickets") if bundle.has_table("tickets") else None
        return evaluate_compliance(bundle.table("events"), tickets=tickets, fy=fy)

    return _cached(bundle, ("compliance", fy), "events", compute)


def bundle_compliance(bundle: BundleLike, fy: int) -> pd.DataFrame | None:
    """KPI 3.1 per unit and quarter for a bundle (cached per bundle); None without events."""
    fy = cal.require_be_year(fy)

    def compute() -> pd.DataFrame:
        return compliance_by_quarter(_compliance(bundle, fy))

    return _cached(bundle, ("step12", fy), "events", compute)


def bundle_traffy(bundle: BundleLike, fy: int) -> pd.DataFrame | None:
    """KPI 4 per unit and quarter for a bundle (cached per bundle); None without tickets."""
    fy = cal.require_be_year(fy)
    return _cached(
        bundle, ("traffy", fy), "tickets", lambda: traffy_resolution(bundle.table("tickets"), fy=fy)
    )


def bundle_step3(bundle: BundleLike, fy: int) -> pd.DataFrame | None:
    """Step 3 per unit-month for the whole fiscal year (cached per bundle); None without data."""
    fy = cal.require_be_year(fy)
    return _cached(
        bundle,
        ("step3", fy),
        "report_submissions",
        lambda: step3_table(bundle.table("report_submissions"), fy=fy),
    )


def bundle_all_steps(bundle: BundleLike, fy: int) -> pd.DataFrame | None:
    """Complaints through all three steps per unit and quarter (cached); None without events
    or without the monthly-summary table (step 3 cannot be judged)."""
    fy = cal.require_be_year(fy)
    if not bundle.has_table("report_submissions"):
        return None

    def compute() -> pd.DataFrame:
        return all_steps_by_quarter(_compliance(bundle, fy), bundle_step3(bundle, fy))

    return _cached(bundle, ("all_steps", fy), "events", compute)


def _row(
    bundle: BundleLike,
    key: tuple[Any, ...],
    table: pd.DataFrame | None,
    unit_code: str,
    quarter: int,
) -> pd.Series | None:
    """The first row of ``table`` (the bundle's table cached under ``key``) for a unit and
    quarter; the table is indexed by (unit, quarter) once per bundle."""
    if table is None:
        return None

    def build() -> dict[tuple[str, int], pd.Series]:
        first: dict[tuple[str, int], int] = {}
        for pos, (unit, q) in enumerate(zip(table["unit_code"], table["quarter"], strict=True)):
            first.setdefault((str(unit), int(q)), pos)
        return {k: table.iloc[pos] for k, pos in first.items()}

    return memoized(bundle, ("row_index", *key), build).get((str(unit_code), quarter))


def step12_counts(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> pd.Series | None:
    """The unit's KPI 3.1 row for the quarter (``received, step1_ok, step2_ok, compliant,
    resolved``, cumulative from the FY start, as of the quarter's end); None without data."""
    fy = cal.require_be_year(fy)
    table = bundle_compliance(bundle, fy)
    row = _row(bundle, ("step12", fy), table, unit_code, cal.require_quarter(quarter))
    if row is None or int(row["received"]) == 0:
        return None
    return row


def traffy_kpi(
    bundle: BundleLike,
    unit_code: str,
    fy: int,
    quarter: int,
    *,
    districts: Sequence[str] | None = None,
) -> dict[str, Any] | None:
    """KPI 4 for a unit, or for all ``districts`` together for a unit not among them.

    Args:
        districts: The district offices (the catalogue's ``district_codes()``). For a unit
            that is not one of them (e.g. ``GOVSEC``, which reports the joint KPI) the
            figure covers all of them; without ``districts`` a unit's figure is its own.

    Returns:
        ``{"received", "resolved", "resolved_pct", "as_of", "state_basis"}`` or None
        without Traffy tickets. ``state_basis`` other than ``as_of`` means the figure was
        counted from the export-time state, not as of the quarter's end.
    """
    q = cal.require_quarter(quarter)
    index = _traffy_index(bundle, fy)
    if index is None:
        return None
    whole = districts is not None and str(unit_code) not in {str(d) for d in districts}
    codes = [str(d) for d in dict.fromkeys(districts)] if whole else [str(unit_code)]  # type: ignore[union-attr]
    rows = sorted(r for code in codes for r in index.get((code, q), ()))
    received = sum(r[1] for r in rows)
    if received == 0:
        return None
    resolved = sum(r[2] for r in rows)
    bases = {r[4] for r in rows if not pd.isna(r[4])}
    basis = bases.pop() if len(bases) == 1 else "mixed"
    return {
        "received": received,
        "resolved": resolved,
        "resolved_pct": resolved * 100.0 / received,
        "as_of": rows[0][3],
        "state_basis": basis,
    }


def _traffy_index(
    bundle: BundleLike, fy: int
) -> dict[tuple[str, int], list[tuple[int, int, int, Any, Any]]] | None:
    """:func:`bundle_traffy` by ``(unit_code, quarter)``: ``(position, received, resolved,
    as_of, state_basis)`` per row (built once per bundle; a measure reads a few rows)."""

    def compute() -> dict[tuple[str, int], list[tuple[int, int, int, Any, Any]]] | None:
        table = bundle_traffy(bundle, fy)
        if table is None:
            return None
        index: dict[tuple[str, int], list[tuple[int, int, int, Any, Any]]] = {}
        columns = ("unit_code", "quarter", "received", "resolved", "as_of", "state_basis")
        for pos, (unit, q, rec, res, as_of, basis) in enumerate(
            zip(*(table[c].tolist() for c in columns), strict=True)
        ):
            index.setdefault((str(unit), int(q)), []).append(
                (pos, int(rec), int(res), as_of, basis)
            )
        return index

    return memoized(bundle, ("traffy_index", cal.require_be_year(fy)), compute)


def step3_counts(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int
) -> tuple[int, int] | None:
    """(months on time, months due) for step 3, October through the quarter's last month."""
    q = cal.require_quarter(quarter)
    fy = cal.require_be_year(fy)
    table = bundle_step3(bundle, fy)
    if table is None:
        return None

    def split() -> dict[str, list[tuple[str, bool]]]:
        by_unit: dict[str, list[tuple[str, bool]]] = {}
        rows = zip(table["unit_code"].astype(str), table["month"], table["on_time"], strict=True)
        for unit, month, on_time in rows:  # on_time is boolean (step3_table)
            by_unit.setdefault(unit, []).append((str(month), bool(on_time)))
        return by_unit

    rows = memoized(bundle, ("step3_by_unit", fy), split).get(str(unit_code))
    if not rows:
        return None
    months = {f"{y:04d}-{m:02d}" for qq in range(1, q + 1) for y, m in cal.quarter_months(fy, qq)}
    due = [on_time for month, on_time in rows if month in months]
    return sum(due), len(due)


# --------------------------------------------------------------------------- measures


def _count(column: str, bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    row = step12_counts(bundle, unit_code, fy, quarter)
    return None if row is None else int(row[column])


def m_step12_compliant(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Tickets compliant with both step 1 and step 2 (cumulative from the FY start)."""
    return _count("compliant", bundle, unit_code, fy, quarter)


def m_step1_compliant(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Tickets compliant with step 1 (accepted in 1, first report in 3 business days)."""
    return _count("step1_ok", bundle, unit_code, fy, quarter)


def m_step2_compliant(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Tickets compliant with step 2 (an update in every required half-month window)."""
    return _count("step2_ok", bundle, unit_code, fy, quarter)


def m_received(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Tickets received from the FY start to the quarter's end (the event log); None if 0."""
    return _count("received", bundle, unit_code, fy, quarter)


#: The first name of :func:`m_received` (KPI 3.1's denominator), kept for callers.
m_step12_total = m_received


def m_resolved(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Of those, tickets finished as of the quarter's last day (Q4: the fiscal year's end)."""
    return _count("resolved", bundle, unit_code, fy, quarter)


def m_all_steps_compliant(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Tickets handled through all three steps (cumulative from the FY start)."""
    fy = cal.require_be_year(fy)
    table = bundle_all_steps(bundle, fy)
    row = _row(bundle, ("all_steps", fy), table, unit_code, cal.require_quarter(quarter))
    if row is None or int(row["received"]) == 0:
        return None
    return int(row["all_steps_ok"])


def m_traffy_resolved(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Traffy tickets resolved as of the quarter's end; None unless the figure is truly as-of."""
    k = traffy_kpi(bundle, unit_code, fy, quarter)
    return None if k is None or k["state_basis"] != "as_of" else k["resolved"]


def m_traffy_received(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Traffy tickets received from the FY start to the quarter's end; None as for resolved."""
    k = traffy_kpi(bundle, unit_code, fy, quarter)
    return None if k is None or k["state_basis"] != "as_of" else k["received"]


def m_step3_on_time(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Monthly summaries submitted by the 10th of the following month (FY start to quarter)."""
    c = step3_counts(bundle, unit_code, fy, quarter)
    return None if c is None else c[0]


def m_step3_months(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> int | None:
    """Months whose monthly summary was due (FY start to the quarter's last month)."""
    c = step3_counts(bundle, unit_code, fy, quarter)
    return None if c is None else c[1]
