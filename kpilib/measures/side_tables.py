"""Measures over the side tables: council resolutions, key projects, surveys, directives,
LINE@ requests, hand-entered results and rubric conditions.

Plain functions ``(bundle, unit_code, fy, quarter, **args) -> number | None``; the registry
(:mod:`kpilib.measures`) names them, so this module never imports it back.

Period: unless a measure says otherwise, figures are **cumulative from the first day of the
fiscal year to the last day of the quarter** (Q2 = 1 Oct – 31 Mar). Dates are compared as
Bangkok calendar days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from kpilib import calendar as cal
from kpilib.by_unit import unit_rows
from kpilib.memo import memoized
from kpilib.tables import read_booleans

if TYPE_CHECKING:  # the registry names these functions; they never import it at run time
    from kpilib.measures import BundleLike

MeasureValue = float | int | None


# --------------------------------------------------------------------------- helpers


def period_bounds(fy: int, quarter: int) -> tuple[dt.date, dt.date]:
    """The cumulative window: first day of the fiscal year .. last day of the quarter."""
    start, _ = cal.fiscal_year_bounds(fy)
    _, end = cal.quarter_bounds(fy, quarter)
    return start, end


def _as_days(series: pd.Series) -> pd.Series:
    """Calendar days (naive, midnight) of a date or timestamp column (Bangkok for tz-aware)."""
    s = series
    if not (pd.api.types.is_datetime64_any_dtype(s)):
        s = pd.to_datetime(s, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert(cal.BANGKOK).dt.tz_localize(None)
    return s.dt.normalize()


def _in_window(series: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    days = _as_days(series)
    return (days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))


def _on_or_before(series: pd.Series, end: dt.date) -> pd.Series:
    days = _as_days(series)
    return days.notna() & (days <= pd.Timestamp(end))


def _ids(kpi_id: str | Sequence[str]) -> list[str]:
    return [kpi_id] if isinstance(kpi_id, str) else [str(x) for x in kpi_id]


def _unit_rows(bundle: BundleLike, table: str, unit_code: str) -> pd.DataFrame | None:
    """The table's rows of one unit (:func:`kpilib.by_unit.unit_rows`); None without the table."""
    if not bundle.has_table(table):
        return None
    return unit_rows(bundle, table, unit_code)


# --------------------------------------------------------------------------- council (KPI 1)


def council_resolutions_total(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int
) -> MeasureValue:
    """Resolutions passed (``resolved_on``) from the fiscal year's start to the quarter's end."""
    df = _unit_rows(bundle, "council_resolutions", unit_code)
    if df is None:
        return None
    start, end = period_bounds(fy, quarter)
    return int(_in_window(df["resolved_on"], start, end).sum())


def council_resolutions_reported(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int
) -> MeasureValue:
    """Of those resolutions, how many were reported on or before the quarter's last day."""
    df = _unit_rows(bundle, "council_resolutions", unit_code)
    if df is None:
        return None
    start, end = period_bounds(fy, quarter)
    in_year = _in_window(df["resolved_on"], start, end)
    reported = _on_or_before(df["reported_on"], end)
    return int((in_year & reported).sum())


# --------------------------------------------------------------------------- key projects (KPI 2)


def _key_project_rows(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int
) -> pd.DataFrame | None:
    df = _unit_rows(bundle, "key_projects", unit_code)
    if df is None:
        return None
    sel = (pd.to_numeric(df["fiscal_year"], errors="coerce") == fy) & (
        pd.to_numeric(df["quarter"], errors="coerce") == quarter
    )
    return df[sel]


def key_projects_on_plan(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> MeasureValue:
    """Distinct projects whose row for this quarter says ``on_plan`` (a status, not cumulative).

    No rows for the quarter: ``None`` (no data).
    """
    df = _key_project_rows(bundle, unit_code, fy, quarter)
    if df is None or df.empty:
        return None
    return int(df.loc[read_booleans(df["on_plan"]), "project_id"].nunique())


def key_projects_total(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> MeasureValue:
    """Distinct projects reported for this quarter (``None`` when there are none)."""
    df = _key_project_rows(bundle, unit_code, fy, quarter)
    if df is None or df.empty:
        return None
    return int(df["project_id"].nunique())


# --------------------------------------------------------------------------- surveys (KPI 3, LINE@ 4)


def _survey_rows(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, survey: str
) -> pd.DataFrame | None:
    df = _unit_rows(bundle, "survey_responses", unit_code)
    if df is None:
        return None
    start, end = period_bounds(fy, quarter)
    sel = (df["survey"].astype("string") == survey) & _in_window(df["responded_on"], start, end)
    return df[sel]


def survey_responses_total(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, *, survey: str
) -> MeasureValue:
    """Respondents of ``survey`` from the fiscal year's start to the quarter's end."""
    df = _survey_rows(bundle, unit_code, fy, quarter, survey)
    return None if df is None else len(df)


def survey_high_or_above(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, *, survey: str, min_level: int = 4
) -> MeasureValue:
    """Respondents of ``survey`` at level ``min_level`` or above (5 = มากที่สุด, 4 = มาก)."""
    df = _survey_rows(bundle, unit_code, fy, quarter, survey)
    if df is None:
        return None
    levels = pd.to_numeric(df["level"], errors="coerce")
    return int((levels >= min_level).sum())


# --------------------------------------------------------------------------- directives (KPI 5, 6)


def _directives(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, visit_type: str, *, completed: bool
) -> MeasureValue:
    df = _unit_rows(bundle, "directives", unit_code)
    if df is None:
        return None
    start, end = period_bounds(fy, quarter)
    sel = (df["visit_type"].astype("string") == visit_type) & _in_window(
        df["issued_on"], start, end
    )
    if completed:
        sel &= _on_or_before(df["completed_on"], end)
    return int(sel.sum())


def directives_total(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, *, visit_type: str
) -> MeasureValue:
    """Directives of ``visit_type`` (district / community) issued from FY start to quarter end."""
    return _directives(bundle, unit_code, fy, quarter, visit_type, completed=False)


def directives_completed(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, *, visit_type: str
) -> MeasureValue:
    """Of those, completed on or before the quarter's last day."""
    return _directives(bundle, unit_code, fy, quarter, visit_type, completed=True)


# --------------------------------------------------------------------------- LINE@ (seed 004)


def _line_rows(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> pd.DataFrame | None:
    df = _unit_rows(bundle, "line_requests", unit_code)
    if df is None:
        return None
    start, end = period_bounds(fy, quarter)
    return df[_in_window(df["requested_at"], start, end)]


def _users_within(df: pd.DataFrame, column: str, minutes: int) -> int:
    req = pd.to_datetime(df["requested_at"], errors="coerce")
    done = pd.to_datetime(df[column], errors="coerce")
    delay = done - req
    ok = delay.notna() & (delay >= pd.Timedelta(0)) & (delay <= pd.Timedelta(minutes=minutes))
    per_user = ok.groupby(df["user_id"].astype("string")).all()
    return int(per_user.sum())


def line_users(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> MeasureValue:
    """Distinct users with a tracking request from the fiscal year's start to the quarter's end."""
    df = _line_rows(bundle, unit_code, fy, quarter)
    return None if df is None else int(df["user_id"].astype("string").nunique())


def line_acknowledged_15min(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int
) -> MeasureValue:
    """Users all of whose requests were acknowledged within 15 minutes (wall-clock)."""
    df = _line_rows(bundle, unit_code, fy, quarter)
    return None if df is None else _users_within(df, "acknowledged_at", 15)


def line_progress_30min(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> MeasureValue:
    """Users all of whose requests got a result/progress message within 30 minutes."""
    df = _line_rows(bundle, unit_code, fy, quarter)
    return None if df is None else _users_within(df, "progress_at", 30)


# --------------------------------------------------------------------------- manual results, conditions


def manual_result(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, *, kpi_id: str | Sequence[str]
) -> MeasureValue:
    """The hand-entered value for (unit, KPI, fiscal year, quarter); the last row if repeated.

    ``kpi_id`` may list several identifiers of the KPI (its id and official code).
    """
    index = _manual_index(bundle)
    if index is None:
        return None
    found = [index.get((str(unit_code), i, fy, quarter)) for i in _ids(kpi_id)]
    last = max((f for f in found if f is not None), default=None)  # the last row wins
    return None if last is None else last[1]


def _manual_index(
    bundle: BundleLike,
) -> dict[tuple[str, str, float, float], tuple[int, float]] | None:
    """``manual_results`` by (unit, KPI id, fiscal year, quarter): the last row with a
    number, as ``(row position, value)`` (built once per bundle; a scorecard asks per KPI)."""
    if not bundle.has_table("manual_results"):
        return None

    def build() -> dict[tuple[str, str, float, float], tuple[int, float]]:
        df = bundle.table("manual_results")
        columns = (
            df["unit_code"].astype("string"),
            df["kpi_id"].astype("string"),
            pd.to_numeric(df["fiscal_year"], errors="coerce"),
            pd.to_numeric(df["quarter"], errors="coerce"),
            pd.to_numeric(df["value"], errors="coerce"),
        )
        keep = pd.concat(columns, axis=1).notna().all(axis=1).to_numpy()
        index: dict[tuple[str, str, float, float], tuple[int, float]] = {}
        for pos, (unit, kpi, year, q, value) in enumerate(zip(*columns, strict=True)):
            if keep[pos]:
                index[(str(unit), str(kpi), float(year), float(q))] = (pos, float(value))
        return index

    return memoized(bundle, ("manual_index",), build)


def condition_row(
    bundle: BundleLike,
    unit_code: str,
    fy: int,
    quarter: int,
    *,
    kpi_id: str | Sequence[str],
    condition: str,
) -> tuple[bool, str, int] | None:
    """The ``conditions`` row that decides a requirement: ``(met, evidence, quarter)``.

    The latest row of the fiscal year with ``quarter <= quarter`` wins (a report to
    executives made in Q2 still counts in Q3; of two rows of one quarter, the later row).
    ``None`` when there is no row. The table is indexed once per bundle.
    """
    index = _condition_index(bundle)
    if index is None:
        return None
    rows = [
        row
        for i in _ids(kpi_id)
        for row in index.get((str(unit_code), i, condition, fy), ())
        if row[0] <= quarter
    ]
    if not rows:
        return None
    q, _, met, evidence = max(rows)  # the latest quarter, then the later row
    return met, evidence, int(q)


def _condition_index(
    bundle: BundleLike,
) -> dict[tuple[str, str, str, float], list[tuple[float, int, bool, str]]] | None:
    """``conditions`` by (unit, KPI id, condition, fiscal year): ``(quarter, row position,
    met, evidence)`` per row with a quarter (built once per bundle)."""
    if not bundle.has_table("conditions"):
        return None

    def build() -> dict[tuple[str, str, str, float], list[tuple[float, int, bool, str]]]:
        df = bundle.table("conditions")
        units = df["unit_code"].astype("string")
        kpis = df["kpi_id"].astype("string")
        names = df["condition"].astype("string")
        years = pd.to_numeric(df["fiscal_year"], errors="coerce")
        quarters = pd.to_numeric(df["quarter"], errors="coerce")
        met = read_booleans(df["met"]).tolist()
        evidence = df["evidence"].tolist() if "evidence" in df.columns else [None] * len(df)
        index: dict[tuple[str, str, str, float], list[tuple[float, int, bool, str]]] = {}
        rows = zip(units, kpis, names, years, quarters, met, evidence, strict=True)
        for pos, (unit, kpi, name, year, q, ok, ev) in enumerate(rows):
            if pd.isna(unit) or pd.isna(kpi) or pd.isna(name) or pd.isna(year) or pd.isna(q):
                continue
            text = "" if ev is None or pd.isna(ev) else str(ev)
            key = (str(unit), str(kpi), str(name), float(year))
            index.setdefault(key, []).append((float(q), pos, bool(ok), text))
        return index

    return memoized(bundle, ("condition_index",), build)


def condition_met(
    bundle: BundleLike,
    unit_code: str,
    fy: int,
    quarter: int,
    *,
    kpi_id: str | Sequence[str],
    condition: str,
) -> bool | None:
    """Whether a requirement is met (:func:`condition_row`); ``None`` when nobody reported it
    (the scoring engine treats it as not met and says so)."""
    row = condition_row(bundle, unit_code, fy, quarter, kpi_id=kpi_id, condition=condition)
    return None if row is None else row[0]


def line_new_users_in_month(
    bundle: BundleLike, unit_code: str, year: int, month: int
) -> MeasureValue:
    """Users whose first LINE@ tracking request falls in a calendar month (year in CE).

    Seed 004's monthly figure ("เดือนมีนาคม 2563 มีผู้ใช้บริการ … จำนวน 7 คน").
    """
    df = _unit_rows(bundle, "line_requests", unit_code)
    if df is None:
        return None
    first = _as_days(df["requested_at"]).groupby(df["user_id"].astype("string")).min()
    return int(((first.dt.year == year) & (first.dt.month == month)).sum())
