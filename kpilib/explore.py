"""The analyst's tables for the exploration notebook: every unit's scorecard, the ranking per
KPI, the change between quarters, and times to finish without impossible (negative) ones.

Every function returns a pandas DataFrame with Thai column labels and numbers rounded as the
reports show them, built on :func:`kpilib.scoring.unit_scorecard` and
:meth:`kpilib.document.Scorecard.to_frame` (so the figures are the reports' figures).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kpilib.catalog import Catalog, load_catalog
from kpilib.document import Scorecard
from kpilib.numbers import round_half_up
from kpilib.scoring import unit_scorecard


def all_scorecards(
    bundle: Any, *, fy: int, quarter: int, catalog: Catalog | None = None
) -> list[Scorecard]:
    """Every unit's scorecard for one quarter (units the plan gives KPIs)."""
    cat = catalog or load_catalog()
    return [
        unit_scorecard(u.code, fy, quarter, bundle=bundle, catalog=cat)
        for u in cat.units_with_kpis(fy)
    ]


def scorecards_frame(scorecards: list[Scorecard]) -> pd.DataFrame:
    """One row per unit and KPI (``Scorecard.to_frame`` of each unit, the unit in front)."""
    frames = []
    for sc in scorecards:
        f = sc.to_frame().reset_index()
        f.insert(0, "หน่วยงาน", sc.unit.name_th)
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def totals_frame(scorecards: list[Scorecard]) -> pd.DataFrame:
    """One row per unit: points, counted weight, percent and rank among units of its kind."""
    rows = [
        {
            "หน่วยงาน": sc.unit.name_th,
            "ประเภท": "สำนักงานเขต" if sc.unit.kind == "district" else "สำนัก/สำนักงาน",
            "คะแนน": round_half_up(sc.total_points, 2),
            "น้ำหนักที่นับ": sc.counted_weight,
            "ร้อยละ": round_half_up(sc.percent, 2),
        }
        for sc in scorecards
    ]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["อันดับ"] = (
        frame.groupby("ประเภท")["ร้อยละ"].rank(ascending=False, method="min").astype("Int64")
    )
    return frame.sort_values(["ประเภท", "อันดับ"], ignore_index=True)


def ranking_per_kpi(scorecards: list[Scorecard]) -> pd.DataFrame:
    """Per KPI, every unit's result and its rank among the units with that KPI (1 = best)."""
    frame = scorecards_frame(scorecards)
    if frame.empty:
        return frame
    frame["อันดับในตัวชี้วัด"] = (
        frame.groupby("kpi")["ผลงาน"].rank(ascending=False, method="min").astype("Int64")
    )
    cols = ["ตัวชี้วัด", "อันดับในตัวชี้วัด", "หน่วยงาน", "ผลงาน", "หน่วย", "ระดับ", "คะแนน"]
    return frame.sort_values(["kpi", "อันดับในตัวชี้วัด"], ignore_index=True)[cols]


def quarter_changes(earlier: list[Scorecard], later: list[Scorecard]) -> pd.DataFrame:
    """Per unit and KPI, the result of two quarters and the change (later − earlier)."""
    a = scorecards_frame(earlier)
    b = scorecards_frame(later)
    if a.empty or b.empty:
        return pd.DataFrame()
    qa, qb = earlier[0].quarter, later[0].quarter
    keys = ["หน่วยงาน", "kpi", "ตัวชี้วัด"]
    merged = a[[*keys, "ผลงาน"]].merge(
        b[[*keys, "ผลงาน"]], on=keys, suffixes=(f" ไตรมาส {qa}", f" ไตรมาส {qb}")
    )
    merged["เปลี่ยนแปลง"] = (merged[f"ผลงาน ไตรมาส {qb}"] - merged[f"ผลงาน ไตรมาส {qa}"]).round(2)
    return merged.drop(columns="kpi")


@dataclass(frozen=True)
class FinishTimes:
    """Days from receipt to finish, without the impossible (negative) durations.

    Attributes:
        days: One row per finished ticket with ``finish_at >= created_at`` (``days`` column).
        negative: How many finished tickets were left out because they finish before they
            start (rows validation blocks, e.g. a year typed in the wrong era).
    """

    days: pd.DataFrame
    negative: int

    @property
    def note_th(self) -> str:
        """A sentence saying what was left out."""
        return f"ไม่นับ {self.negative:,} เรื่องที่วันเสร็จสิ้นมาก่อนวันรับเรื่อง (ข้อมูลที่การตรวจสอบข้อมูลระงับไว้)"


def finish_times(
    tickets: pd.DataFrame,
    *,
    unit_code: str | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> FinishTimes:
    """:func:`kpilib.complaints.time_to_finish` without negative durations, counted."""
    from kpilib import complaints

    ttf = complaints.time_to_finish(tickets, unit_code=unit_code, start=start, end=end)
    ok = ttf["days"] >= 0
    return FinishTimes(days=ttf.loc[ok].reset_index(drop=True), negative=int((~ok).sum()))


def describe_days(days: pd.Series) -> pd.DataFrame:
    """Count, mean and percentiles of days, rounded to 1 decimal, with Thai labels."""
    d = days.describe(percentiles=[0.5, 0.75, 0.9, 0.95])
    labels = {
        "count": "จำนวนเรื่อง",
        "mean": "เฉลี่ย",
        "std": "ส่วนเบี่ยงเบนมาตรฐาน",
        "min": "น้อยที่สุด",
        "50%": "มัธยฐาน",
        "75%": "เปอร์เซ็นไทล์ที่ 75",
        "90%": "เปอร์เซ็นไทล์ที่ 90",
        "95%": "เปอร์เซ็นไทล์ที่ 95",
        "max": "มากที่สุด",
    }
    out = d.rename(index=labels).round(1).to_frame("วัน")
    out.loc["จำนวนเรื่อง", "วัน"] = int(d["count"])
    return out


THAI_COLUMNS = {
    "type_tag": "ประเภท",
    "received": "รับเรื่อง",
    "share_pct": "ร้อยละ",
    "unit_code": "รหัส",
    "district": "เขต",
    "fiscal_year": "ปีงบประมาณ",
    "quarter": "ไตรมาส",
    "as_of": "ข้อมูล ณ",
    "resolved": "แก้ไขแล้ว",
    "resolved_pct": "ร้อยละที่แก้ไขแล้ว",
    "rank": "อันดับ",
    "bucket": "อายุเรื่อง (วัน)",
    "open": "ค้างดำเนินการ",
}
"""Thai labels for the complaint engine's column names (the notebook's tables)."""


def for_people(frame: pd.DataFrame, *, decimals: int = 2) -> pd.DataFrame:
    """The frame with Thai column labels, floats rounded, bookkeeping columns left out."""
    out = frame.drop(columns=[c for c in ("state_basis",) if c in frame.columns])
    floats = out.select_dtypes("float").columns
    out[floats] = out[floats].round(decimals)
    out = out.rename(columns=THAI_COLUMNS)
    out.columns.name = THAI_COLUMNS.get(str(out.columns.name), out.columns.name)
    return out
