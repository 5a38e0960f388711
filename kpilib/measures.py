"""Named measures: functions ``(bundle, unit_code, fy, quarter) -> number | None``.

A measure reads canonical tables from the data bundle (``bundle.table(name)``) and returns a
number, or ``None`` for *no data*. KPI definitions in ``params/`` refer to measures by name;
a measure declares the tables it reads, so a KPI can be marked *not certified* when
validation blocks one of them. Measures with extra keyword arguments (``survey``,
``kpi_id``) get them from the KPI's input ``args``.

Period: unless a measure says otherwise, figures are **cumulative from the first day of the
fiscal year to the last day of the quarter** (Q2 = 1 Oct – 31 Mar). Dates are compared as
Bangkok calendar days.

The complaint measures (``complaints_step12_compliant``, ``traffy_resolved``, …) are
registered by :mod:`kpilib.complaints`; :func:`get_measure` imports it the first time a name
is not yet registered.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from kpilib import calendar as cal
from kpilib.errors import ConfigError

MeasureValue = float | int | None


class BundleLike(Protocol):
    """What a measure needs from a data bundle."""

    def table(self, name: str) -> pd.DataFrame:
        """Return a canonical table."""
        ...

    def has_table(self, name: str) -> bool:
        """True when the bundle holds the table."""
        ...


MeasureFn = Callable[..., MeasureValue]


@dataclass(frozen=True)
class MeasureSpec:
    """A registered measure (callable like its function).

    Attributes:
        name: The name used in ``params/``.
        fn: ``fn(bundle, unit_code, fy, quarter, **args) -> number | None``.
        tables: Canonical tables the measure reads.
        description_th: One line in Thai.
    """

    name: str
    fn: MeasureFn
    tables: tuple[str, ...]
    description_th: str = ""

    def __call__(
        self, bundle: BundleLike, unit_code: str, fy: int, quarter: int, **kwargs: Any
    ) -> MeasureValue:
        """Compute the measure."""
        return self.fn(bundle, unit_code, fy, quarter, **kwargs)


_REGISTRY: dict[str, MeasureSpec] = {}
_LAZY_MODULES = ("kpilib.complaints",)
_lazy_state: dict[str, bool] = {}


def register_measure(
    name: str,
    *,
    tables: tuple[str, ...] | list[str] = (),
    description_th: str = "",
    description: str = "",
) -> Callable[[MeasureFn], MeasureFn]:
    """Register a measure under ``name`` (decorator).

    Args:
        name: The measure's name.
        tables: The canonical tables it reads.
        description_th: One line in Thai.

    Raises:
        ValueError: If the name is already registered to another function.
    """

    def deco(fn: MeasureFn) -> MeasureFn:
        old = _REGISTRY.get(name)
        same = old is not None and (old.fn.__module__, old.fn.__qualname__) == (
            fn.__module__,
            fn.__qualname__,
        )
        if old is not None and not same:  # re-importing the same module is fine
            raise ValueError(f"measure {name!r} is already registered")
        _REGISTRY[name] = MeasureSpec(
            name=name, fn=fn, tables=tuple(tables), description_th=description_th or description
        )
        return fn

    return deco


def _import_lazy() -> bool:
    """Import the modules that register more measures; True if all imported."""
    ok = True
    for mod in _LAZY_MODULES:
        if mod not in _lazy_state:
            try:
                importlib.import_module(mod)
                _lazy_state[mod] = True
            except ModuleNotFoundError as exc:
                if exc.name != mod:
                    raise
                _lazy_state[mod] = False
        ok = ok and _lazy_state[mod]
    return ok


def get_measure(name: str) -> MeasureSpec:
    """Return the measure ``name`` (importing :mod:`kpilib.complaints` if needed).

    Raises:
        ConfigError: If no measure has that name.
    """
    if name not in _REGISTRY:
        _import_lazy()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown measure {name!r}; known measures: {', '.join(measure_names())}"
        ) from None


def measure_names() -> tuple[str, ...]:
    """Return every registered measure name, sorted (after importing the lazy modules)."""
    _import_lazy()
    return tuple(sorted(_REGISTRY))


def is_known_measure(name: str) -> bool | None:
    """True if registered; False if not; None if a measure module could not be imported."""
    if name in _REGISTRY:
        return True
    complete = _import_lazy()
    if name in _REGISTRY:
        return True
    return False if complete else None


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


def _truthy(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool)
    text = series.astype("string").str.strip().str.lower()
    return text.isin(["true", "1", "yes", "y", "t"]).fillna(False).astype(bool)


def _ids(kpi_id: str | Sequence[str]) -> list[str]:
    return [kpi_id] if isinstance(kpi_id, str) else [str(x) for x in kpi_id]


def _unit_rows(bundle: BundleLike, table: str, unit_code: str) -> pd.DataFrame | None:
    if not bundle.has_table(table):
        return None
    df = bundle.table(table)
    return df[df["unit_code"].astype("string") == str(unit_code)]


# --------------------------------------------------------------------------- council (KPI 1)


@register_measure(
    "council_resolutions_total",
    tables=("council_resolutions",),
    description_th="จำนวนญัตติ/มติที่ประชุมสภากรุงเทพมหานครที่มีมติเห็นชอบให้ ผว.กทม. พิจารณา (สะสม)",
)
def council_resolutions_total(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int
) -> MeasureValue:
    """Resolutions passed (``resolved_on``) from the fiscal year's start to the quarter's end."""
    df = _unit_rows(bundle, "council_resolutions", unit_code)
    if df is None:
        return None
    start, end = period_bounds(fy, quarter)
    return int(_in_window(df["resolved_on"], start, end).sum())


@register_measure(
    "council_resolutions_reported",
    tables=("council_resolutions",),
    description_th="จำนวนญัตติที่หน่วยงานรายงานผลการดำเนินการแล้ว ภายในวันสิ้นไตรมาส (สะสม)",
)
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


@register_measure(
    "key_projects_on_plan",
    tables=("key_projects",),
    description_th="จำนวนโครงการสำคัญที่ดำเนินการได้ตามแผน (สถานะ ณ ไตรมาสนั้น)",
)
def key_projects_on_plan(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> MeasureValue:
    """Distinct projects whose row for this quarter says ``on_plan`` (a status, not cumulative).

    No rows for the quarter: ``None`` (no data).
    """
    df = _key_project_rows(bundle, unit_code, fy, quarter)
    if df is None or df.empty:
        return None
    return int(df.loc[_truthy(df["on_plan"]), "project_id"].nunique())


@register_measure(
    "key_projects_total",
    tables=("key_projects",),
    description_th="จำนวนโครงการสำคัญที่ติดตาม (ไตรมาสนั้น)",
)
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


@register_measure(
    "survey_responses_total",
    tables=("survey_responses",),
    description_th="จำนวนผู้ตอบแบบสอบถามทั้งหมด (สะสม)",
)
def survey_responses_total(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, *, survey: str
) -> MeasureValue:
    """Respondents of ``survey`` from the fiscal year's start to the quarter's end."""
    df = _survey_rows(bundle, unit_code, fy, quarter, survey)
    return None if df is None else len(df)


@register_measure(
    "survey_high_or_above",
    tables=("survey_responses",),
    description_th="จำนวนผู้ตอบที่มีระดับความพึงพอใจตั้งแต่ระดับที่กำหนดขึ้นไป (4 = มาก) (สะสม)",
)
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


@register_measure(
    "directives_total",
    tables=("directives",),
    description_th="จำนวนข้อสั่งการทั้งหมดจากการลงพื้นที่ผู้ว่าฯ สัญจร ตามประเภทการลงพื้นที่ (สะสม)",
)
def directives_total(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, *, visit_type: str
) -> MeasureValue:
    """Directives of ``visit_type`` (district / community) issued from FY start to quarter end."""
    return _directives(bundle, unit_code, fy, quarter, visit_type, completed=False)


@register_measure(
    "directives_completed",
    tables=("directives",),
    description_th="จำนวนข้อสั่งการจากการลงพื้นที่ผู้ว่าฯ สัญจร ที่ดำเนินการแล้วเสร็จ ตามประเภทการลงพื้นที่ (สะสม)",
)
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


@register_measure(
    "line_users",
    tables=("line_requests",),
    description_th="จำนวนผู้ใช้บริการติดตามหนังสือราชการผ่าน LINE@ (คน, สะสม)",
)
def line_users(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> MeasureValue:
    """Distinct users with a tracking request from the fiscal year's start to the quarter's end."""
    df = _line_rows(bundle, unit_code, fy, quarter)
    return None if df is None else int(df["user_id"].astype("string").nunique())


@register_measure(
    "line_acknowledged_15min",
    tables=("line_requests",),
    description_th="จำนวนผู้ใช้บริการที่ได้รับการแจ้งรับทราบภายใน 15 นาที (ทุกคำขอของผู้ใช้, สะสม)",
)
def line_acknowledged_15min(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int
) -> MeasureValue:
    """Users all of whose requests were acknowledged within 15 minutes (wall-clock)."""
    df = _line_rows(bundle, unit_code, fy, quarter)
    return None if df is None else _users_within(df, "acknowledged_at", 15)


@register_measure(
    "line_progress_30min",
    tables=("line_requests",),
    description_th="จำนวนผู้ใช้บริการที่ได้รับแจ้งผล/ความคืบหน้าภายใน 30 นาที (ทุกคำขอของผู้ใช้, สะสม)",
)
def line_progress_30min(bundle: BundleLike, unit_code: str, fy: int, quarter: int) -> MeasureValue:
    """Users all of whose requests got a result/progress message within 30 minutes."""
    df = _line_rows(bundle, unit_code, fy, quarter)
    return None if df is None else _users_within(df, "progress_at", 30)


# --------------------------------------------------------------------------- manual results, conditions


@register_measure(
    "manual_result",
    tables=("manual_results",),
    description_th="ผลที่บันทึกด้วยมือ (manual_results) ของตัวชี้วัดในไตรมาสนั้น",
)
def manual_result(
    bundle: BundleLike, unit_code: str, fy: int, quarter: int, *, kpi_id: str | Sequence[str]
) -> MeasureValue:
    """The hand-entered value for (unit, KPI, fiscal year, quarter); the last row if repeated.

    ``kpi_id`` may list several identifiers of the KPI (its id and official code).
    """
    df = _unit_rows(bundle, "manual_results", unit_code)
    if df is None:
        return None
    sel = (
        df["kpi_id"].astype("string").isin(_ids(kpi_id))
        & (pd.to_numeric(df["fiscal_year"], errors="coerce") == fy)
        & (pd.to_numeric(df["quarter"], errors="coerce") == quarter)
    )
    values = pd.to_numeric(df.loc[sel, "value"], errors="coerce").dropna()
    return None if values.empty else float(values.iloc[-1])


def condition_met(
    bundle: BundleLike,
    unit_code: str,
    fy: int,
    quarter: int,
    *,
    kpi_id: str | Sequence[str],
    condition: str,
) -> bool | None:
    """Look up a non-numeric rubric condition (``conditions`` table).

    The latest row of the fiscal year with ``quarter <= quarter`` wins (a report to
    executives made in Q2 still counts in Q3). ``None`` when there is no row (the scoring
    engine treats it as not met and says so).
    """
    df = _unit_rows(bundle, "conditions", unit_code)
    if df is None:
        return None
    q = pd.to_numeric(df["quarter"], errors="coerce")
    sel = (
        df["kpi_id"].astype("string").isin(_ids(kpi_id))
        & (df["condition"].astype("string") == condition)
        & (pd.to_numeric(df["fiscal_year"], errors="coerce") == fy)
        & (q <= quarter)
    )
    rows = df[sel].assign(_q=q[sel]).sort_values("_q", kind="stable")
    if rows.empty:
        return None
    return bool(_truthy(rows["met"]).iloc[-1])


CONDITION_TABLES: tuple[str, ...] = ("conditions",)
