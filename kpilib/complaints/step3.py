"""Step 3: the monthly summary to the unit head, sent by the 10th of the following month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints.days import require_columns, to_date
from kpilib.complaints.grouping import unit_index
from kpilib.complaints.rules import REPORT_DUE_DAY


def step3_table(
    report_submissions: pd.DataFrame,
    *,
    fy: int,
    units: Sequence[str] | None = None,
    through_quarter: int = 4,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """Step 3 per unit-month: the monthly summary submitted by the 10th of the following month.

    Months from October of the fiscal year through the last month of ``through_quarter``;
    with ``as_of``, months whose due date is after it are left out (not yet due). A missing
    submission counts as not on time; of several submissions the earliest counts.

    Returns:
        ``unit_code, month, due, submitted_on, on_time, days_late`` (calendar days).
    """
    require_columns(
        report_submissions, "report_submissions", ("unit_code", "month", "submitted_on")
    )
    fy = cal.require_be_year(fy)
    q = cal.require_quarter(through_quarter)
    months = [m for qq in range(1, q + 1) for m in cal.quarter_months(fy, qq)]
    due = [dt.date(y + (m == 12), m % 12 + 1, REPORT_DUE_DAY) for y, m in months]
    labels = [f"{y:04d}-{m:02d}" for y, m in months]
    if as_of is not None:
        a = to_date(as_of, "as_of")
        keep = [i for i, d in enumerate(due) if d <= a]
        labels, due = [labels[i] for i in keep], [due[i] for i in keep]
    rs = report_submissions.copy()
    rs["unit_code"] = rs["unit_code"].astype(str)
    rs["month"] = rs["month"].astype(str)
    sub = pd.to_datetime(rs["submitted_on"]).dt.normalize()
    if isinstance(sub.dtype, pd.DatetimeTZDtype):
        sub = sub.dt.tz_convert(cal.BANGKOK).dt.tz_localize(None).dt.normalize()
    rs["submitted_on"] = sub
    earliest = rs.groupby(["unit_code", "month"], sort=False)["submitted_on"].min()
    unit_list = unit_index(units, rs["unit_code"].unique())
    grid = pd.MultiIndex.from_product([unit_list, labels], names=["unit_code", "month"])
    out = grid.to_frame(index=False)
    out["due"] = np.tile(np.array(due, dtype="datetime64[D]"), len(unit_list)).astype(
        "datetime64[ns]"
    )
    out["submitted_on"] = earliest.reindex(grid).to_numpy()
    out["on_time"] = (out["submitted_on"].notna() & (out["submitted_on"] <= out["due"])).to_numpy()
    out["days_late"] = pd.array(
        np.where(
            out["on_time"] | out["submitted_on"].isna(),
            np.nan,
            (out["submitted_on"] - out["due"]).dt.days,
        ),
        dtype="Int64",
    )
    return out
