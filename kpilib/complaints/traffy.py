"""KPI 4 (seed 003): Traffy Fondue complaints resolved by the district offices, per quarter.

"จำนวนเรื่องร้องเรียนที่ ๕๐ สำนักงานเขตแก้ไขสำเร็จ × ๑๐๐ / จำนวนเรื่องร้องเรียนที่ ๕๐ สำนักงานเขต ได้รับ
ทั้งหมด (๒๔ ประเภท)". The units (the 50 districts) come from the catalogue and are passed in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.complaints.days import NEVER, day_number, require_columns
from kpilib.complaints.figures import TicketArrays
from kpilib.complaints.grouping import pct, state_basis, unit_index


def traffy_tickets(tickets: pd.DataFrame) -> pd.DataFrame:
    """Tickets whose ``source`` names Traffy Fondue (case-insensitive ``traffy`` in it)."""
    require_columns(tickets, "tickets", ("source",))
    return tickets.loc[
        tickets["source"].astype(str).str.contains("traffy", case=False, regex=False)
    ]


def traffy_resolution(
    tickets: pd.DataFrame | TicketArrays,
    *,
    fy: int,
    cumulative: bool = True,
    units: Sequence[str] | None = None,
    traffy_only: bool = True,
) -> pd.DataFrame:
    """KPI 4: % of Traffy complaints resolved per unit and quarter, as of the quarter's end.

    Received: tickets created from the fiscal year's start (``cumulative=True``, default) or
    the quarter's start, to the quarter's last day. Resolved: ``finished_at`` on or before
    the quarter's last day. Tickets whose source only holds the state at export time
    (``state_is_export_time`` and no ``finished_at``) are counted by their export-time
    state, and the row's ``state_basis`` says so (``export_time`` or ``mixed``): such a
    figure is not an as-of figure.

    Args:
        tickets: The canonical tickets table (or its :class:`TicketArrays`).
        fy: Fiscal year (BE).
        cumulative: Count from the fiscal year's start (default) or the quarter's.
        units: The units to report, in order — for KPI 4 the catalogue's districts
            (``load_catalog().district_codes()``); default: every unit with tickets.
        traffy_only: Only tickets whose source names Traffy.

    Returns:
        One row per unit and quarter: ``unit_code, fiscal_year, quarter, as_of, received,
        resolved, resolved_pct, state_basis``.
    """
    fy = cal.require_be_year(fy)
    arr = TicketArrays.coerce(tickets)
    keep = arr.traffy if traffy_only else np.ones(arr.created.size, dtype=bool)
    created = np.where(keep, arr.created, NEVER)  # other rows fall outside every window
    unit_list = unit_index(units, arr.present(keep) if units is None else None)
    fy_start = day_number(cal.fiscal_year_bounds(fy)[0])
    by_unit = arr.by_unit(unit_list)
    frames = []
    for q in range(1, 5):
        q_start, q_end = cal.quarter_bounds(fy, q)
        x = day_number(q_end)
        start = fy_start if cumulative else day_number(q_start)
        m = (created >= start) & (created <= x)
        received = by_unit.count(m)
        res = by_unit.count(m & ((arr.finished <= x) | arr.export_finished))
        n_exp = by_unit.count(m & arr.export_only)
        frames.append(
            pd.DataFrame(
                {
                    "unit_code": unit_list,
                    "fiscal_year": fy,
                    "quarter": q,
                    "as_of": q_end,
                    "received": received,
                    "resolved": res,
                    "resolved_pct": pct(res, received),
                    "state_basis": state_basis(n_exp, received),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def traffy_ranking(
    tickets: pd.DataFrame,
    *,
    fy: int,
    quarter: int,
    units: Sequence[str] | None = None,
    cumulative: bool = True,
) -> pd.DataFrame:
    """Units ranked by KPI 4 (highest % resolved first; no tickets: last, no rank).

    Pass the catalogue's districts as ``units`` to rank all 50 of them.
    """
    q = cal.require_quarter(quarter)
    t = traffy_resolution(tickets, fy=fy, cumulative=cumulative, units=units)
    t = t.loc[t["quarter"] == q].copy()
    t["rank"] = t["resolved_pct"].rank(method="min", ascending=False).astype("Int64")
    return t.sort_values(["rank", "unit_code"], na_position="last", ignore_index=True)
