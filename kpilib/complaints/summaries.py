"""KPI 3.1 per unit and quarter, the year-end resolution, and the audit's reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints.compliance import ComplianceResult
from kpilib.complaints.days import as_dates, day_number
from kpilib.complaints.grouping import UnitIndex, pct, unit_index
from kpilib.complaints.rules import REPORT_DUE_DAY, YEAR_END_TARGET_PCT
from kpilib.errors import ParameterError


def compliance_by_quarter(
    result: ComplianceResult, *, units: Sequence[str] | None = None
) -> pd.DataFrame:
    """KPI 3.1 / project 50340000-3453 Part 1 per unit and quarter, cumulative from the FY start.

    For quarter q the figures are as of ``min(quarter end, cut-off)``: tickets received from
    the fiscal year's first day to that day, compliant if no step-1 deadline or step-2
    checkpoint up to that day was missed. ``resolved`` counts those finished as of that day.

    Returns:
        ``unit_code, fiscal_year, quarter, as_of, received, step1_ok, step2_ok, compliant,
        compliant_pct, resolved, resolved_pct``.
    """
    if result.fy is None:
        raise ParameterError("compliance_by_quarter needs a result evaluated with fy=")
    f = result.flags
    unit_list = unit_index(units, f.unit_values)
    by_unit = UnitIndex(f.unit, f.unit_values, unit_list)
    frames = []
    for q in range(1, 5):
        q_start, q_end = cal.quarter_bounds(result.fy, q)
        if q > 1 and q_start > result.cutoff:
            break
        q_end = min(q_end, result.cutoff)
        x = day_number(q_end)
        m = f.received <= x
        received = by_unit.count(m)
        ok1 = by_unit.count(m & (f.step1_fail > x))
        ok2 = by_unit.count(m & (f.step2_fail > x))
        ok = by_unit.count(m & (f.fail > x))
        res = by_unit.count(m & result.finished_as_of(q_end))
        frames.append(
            pd.DataFrame(
                {
                    "unit_code": unit_list,
                    "fiscal_year": result.fy,
                    "quarter": q,
                    "as_of": q_end,
                    "received": received,
                    "step1_ok": ok1,
                    "step2_ok": ok2,
                    "compliant": ok,
                    "compliant_pct": pct(ok, received),
                    "resolved": res,
                    "resolved_pct": pct(res, received),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def year_end_resolution(
    result: ComplianceResult, *, units: Sequence[str] | None = None
) -> pd.DataFrame:
    """Year-end check of KPI 3.1: complaints resolved as of the FY's last day ≥ 95 % of all.

    Returns:
        ``unit_code, as_of, received, resolved, resolved_pct, target_pct, met`` (``met`` is
        None when the cut-off is before the fiscal year's end: the year is not over).
    """
    if result.fy is None:
        raise ParameterError("year_end_resolution needs a result evaluated with fy=")
    fy_end = cal.fiscal_year_bounds(result.fy)[1]
    last = min(fy_end, result.cutoff)
    f = result.flags
    unit_list = unit_index(units, f.unit_values)
    by_unit = UnitIndex(f.unit, f.unit_values, unit_list)
    received, res = by_unit.count(), by_unit.count(result.finished_as_of(last))
    share = pct(res, received)
    year_over = result.cutoff >= fy_end
    met = [
        None if (not year_over or np.isnan(p)) else bool(p >= YEAR_END_TARGET_PCT) for p in share
    ]
    return pd.DataFrame(
        {
            "unit_code": unit_list,
            "as_of": last,
            "received": received,
            "resolved": res,
            "resolved_pct": share,
            "target_pct": YEAR_END_TARGET_PCT,
            "met": met,
        }
    )


def noncompliance_reasons(result: ComplianceResult) -> pd.DataFrame:
    """Why each non-compliant ticket failed, one row per failed rule, for audit.

    Returns:
        ``ticket_id, unit_code, step, rule, due, actual, late_business_days`` where ``rule``
        is ``accept_late``, ``accept_missing``, ``first_progress_late``,
        ``first_progress_missing`` (step 1) or ``checkpoint_missed`` (step 2; ``due`` is the
        checkpoint, ``actual`` the next progress update, if any). Only failures due by the
        cut-off are listed.
    """
    t = result.tickets
    cut = pd.Timestamp(result.cutoff)
    acc_due = t["accept_due"]
    acc = t["accepted_on"]
    due_passed = acc_due <= cut
    frames = []

    def add(
        mask: pd.Series, step: int, rule: str, due: pd.Series, actual: pd.Series, late: Any
    ) -> None:
        m = mask.to_numpy(dtype=bool)
        if not m.any():
            return
        frames.append(
            pd.DataFrame(
                {
                    "ticket_id": t["ticket_id"].array[m],  # the arrays themselves: no strings
                    "unit_code": t["unit_code"].array[m],
                    "step": step,
                    "rule": rule,
                    "due": due.to_numpy()[m],
                    "actual": actual.to_numpy()[m],
                    "late_business_days": late.array[m]
                    if isinstance(late, pd.Series)
                    else pd.array([pd.NA] * int(m.sum()), dtype="Int64"),
                }
            )
        )

    add(due_passed & acc.isna(), 1, "accept_missing", acc_due, acc, None)
    add(
        due_passed & acc.notna() & (acc > acc_due),
        1,
        "accept_late",
        acc_due,
        acc,
        t["accept_late_business_days"],
    )
    p_due = t["first_progress_due"]
    p = t["first_progress_on"]
    p_passed = p_due.notna() & (p_due <= cut)
    add(p_passed & p.isna(), 1, "first_progress_missing", p_due, p, None)
    add(
        p_passed & p.notna() & (p > p_due),
        1,
        "first_progress_late",
        p_due,
        p,
        t["first_progress_late_business_days"],
    )
    cp = result.missed_checkpoints()
    if len(cp):
        frames.append(
            pd.DataFrame(
                {
                    "ticket_id": cp["ticket_id"].array,
                    "unit_code": cp["unit_code"].array,
                    "step": 2,
                    "rule": "checkpoint_missed",
                    "due": cp["checkpoint"].to_numpy(),
                    "actual": cp["next_update"].to_numpy(),
                    "late_business_days": cp["late_business_days"].array,
                }
            )
        )
    cols = ["ticket_id", "unit_code", "step", "rule", "due", "actual", "late_business_days"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["ticket_id", "step", "due"], kind="stable", ignore_index=True)[cols]


def all_steps_by_quarter(result: ComplianceResult, step3: pd.DataFrame) -> pd.DataFrame:
    """Complaints handled through all three steps, per unit and quarter (KPI 3.1, seed 000's
    "ดำเนินการครบถ้วน 3 ขั้นตอน").

    A complaint counts when it passed steps 1 and 2 as of the quarter's end (as in
    :func:`compliance_by_quarter`) and the monthly summary of the month it was received
    (step 3) reached the Central Division by the 10th of the following month. A summary not
    yet due at the quarter's end cannot have been missed: its complaints count on steps 1–2
    alone until it falls due.

    Args:
        result: The step 1–2 evaluation (``fy=`` given).
        step3: :func:`kpilib.complaints.step3.step3_table` of the fiscal year (a unit-month
            missing from it counts as not submitted).

    Returns:
        ``unit_code, quarter, received, all_steps_ok``.
    """
    if result.fy is None:
        raise ParameterError("all_steps_by_quarter needs a result evaluated with fy=")
    f = result.flags
    received_dates = pd.DatetimeIndex(as_dates(f.received))
    month_index = received_dates.year.to_numpy() * 12 + received_dates.month.to_numpy() - 1
    # the summary of a ticket's month is due on the 10th of the following month
    months, inverse = np.unique(month_index, return_inverse=True)
    due_of = np.array(
        [
            day_number(dt.date(int(i + 1) // 12, int(i + 1) % 12 + 1, REPORT_DUE_DAY))
            for i in months
        ],
        dtype=np.int64,
    )
    due_day = due_of[inverse] if len(months) else np.zeros(0, dtype=np.int64)
    label_of = np.array([f"{int(i) // 12:04d}-{int(i) % 12 + 1:02d}" for i in months], dtype=object)
    ticket_month = label_of[inverse] if len(months) else np.zeros(0, dtype=object)
    on_time = {
        (str(u), str(m)): bool(ok)
        for u, m, ok in zip(step3["unit_code"], step3["month"], step3["on_time"], strict=True)
    }
    units = np.asarray(f.unit_values, dtype=object)[f.unit]
    step3_ok = np.fromiter(
        (on_time.get((u, m), False) for u, m in zip(units, ticket_month, strict=True)),
        dtype=bool,
        count=len(units),
    )
    unit_list = unit_index(None, f.unit_values)
    by_unit = UnitIndex(f.unit, f.unit_values, unit_list)
    frames = []
    for q in range(1, 5):
        q_start, q_end = cal.quarter_bounds(result.fy, q)
        if q > 1 and q_start > result.cutoff:
            break
        x = day_number(min(q_end, result.cutoff))
        m = f.received <= x
        ok = m & (f.fail > x) & ((due_day > x) | step3_ok)
        frames.append(
            pd.DataFrame(
                {
                    "unit_code": unit_list,
                    "quarter": q,
                    "received": by_unit.count(m),
                    "all_steps_ok": by_unit.count(ok),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
