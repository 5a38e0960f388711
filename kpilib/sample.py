"""A deterministic, realistic sample data set for one fiscal year (``kpi sample-data``).

Everything is drawn from one ``numpy.random.Generator`` seeded with ``seed`` and is
vectorised, so the same seed, fiscal year and scale give byte-identical files. The design
(volumes, delays, shares, injected defects) is described in ``docs/data.md``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
import pyarrow.csv as pacsv

from kpilib import calendar as cal
from kpilib import paths
from kpilib.errors import ConfigError, ParameterError
from kpilib.tables import load_tables

#: Relative frequency of each Traffy Fondue type tag (as seen in the real extract); the tags
#: themselves are the declared values of ``tickets.type_tags`` (params/tables/tickets.yaml).
TRAFFY_TAGS: dict[str, int] = {
    "ถนน": 399, "ทางเท้า": 137, "ความปลอดภัย": 122, "ร้องเรียน": 117, "ความสะอาด": 94,
    "แสงสว่าง": 90, "ท่อระบายน้ำ": 80, "กีดขวาง": 73, "น้ำท่วม": 64, "เสียงรบกวน": 51,
    "ป้าย": 45, "จราจร": 43, "ต้นไม้": 39, "คลอง": 38, "สัตว์จรจัด": 33, "สายไฟ": 31,
    "สะพาน": 31, "คนจรจัด": 15, "PM2.5": 12, "สอบถาม": 12, "เสนอแนะ": 6, "ห้องน้ำ": 6,
    "ป้ายจราจร": 4, "การเดินทาง": 4,
}  # fmt: skip

STATE_WAITING = "รอรับเรื่อง"
STATE_ACCEPTED = "รับเรื่อง"
STATE_FINISHED = "เสร็จสิ้น"
#: Open states after the first progress report, with their shares.
OPEN_STATES: dict[str, float] = {
    "กำลังดำเนินการ": 0.70, "ศึกษาปัญหา": 0.06, "ของบประมาณ": 0.06, "จัดซื้อจัดจ้าง": 0.05,
    "ขั้นตอนทางกฎหมาย": 0.03, "จัดทำนโยบาย": 0.02, "ติดตามเรื่อง": 0.05, "ส่งต่อ(ใหม่)": 0.03,
}  # fmt: skip

GOVSEC = "GOVSEC"
#: KPI ids used in manual_results / conditions: the catalogue's ids (params/kpis/*.yaml),
#: whose official codes are 5016-0685 and 50340000-3453.
KPI_BEST_SERVICE = "district_best_service"
KPI_PRAWET_PROJECT = "district_complaint_project_3453"
#: Seed 003 (FY 2567) KPIs whose level 5 needs a report to executives: GOVSEC's three ...
CONDITION_KPIS: tuple[str, ...] = (
    "govsec_traffy_joint",
    "govsec_directives_district",
    "govsec_directives_community",
)
#: ... and every district's share of the Traffy joint KPI.
DISTRICT_CONDITION_KPI = "district_traffy_joint"

_COMMENTS: dict[str, tuple[str, ...]] = {
    "ถนน": ("ถนนเป็นหลุมเป็นบ่อ รถจักรยานยนต์ล้มบ่อยมาก", "ผิวถนนทรุดตัว น้ำขังทุกครั้งที่ฝนตก", "ฝาท่อบนถนนยุบ อันตรายต่อผู้ขับขี่"),
    "ทางเท้า": ("ทางเท้าชำรุด กระเบื้องแตกหลายแผ่น เดินลำบาก", "ทางเท้ายุบเป็นหลุม ผู้สูงอายุสะดุดล้ม"),
    "ความปลอดภัย": ("ซอยเปลี่ยว ไม่มีไฟส่องสว่าง กลัวโจรกรรม", "มีกลุ่มวัยรุ่นมั่วสุมยามวิกาล"),
    "ร้องเรียน": ("ร้านค้าตั้งวางของรุกล้ำทางสาธารณะ", "เจ้าหน้าที่ไม่มาตรวจสอบตามที่แจ้งไว้"),
    "ความสะอาด": ("ขยะล้นถังไม่มีรถมาเก็บหลายวันแล้ว ส่งกลิ่นเหม็น", "มีการลักลอบทิ้งขยะริมถนน"),
    "แสงสว่าง": ("ไฟฟ้าส่องสว่างดับทั้งซอย มืดมาก", "เสาไฟกะพริบ ไม่ติดตอนกลางคืน"),
    "ท่อระบายน้ำ": ("ท่อระบายน้ำอุดตัน น้ำเน่าส่งกลิ่น", "ฝาท่อระบายน้ำหาย อันตรายมาก"),
    "กีดขวาง": ("รถจอดกีดขวางทางเข้าออกซอย", "ตั้งรถเข็นขายของข้ามวันข้ามคืนกีดขวางทาง"),
    "น้ำท่วม": ("ฝนตกนิดเดียวน้ำท่วมขังสูง รถเล็กผ่านไม่ได้", "น้ำท่วมขังนานหลายชั่วโมงไม่ระบาย"),
    "เสียงรบกวน": ("เสียงก่อสร้างดังตลอดคืน นอนไม่ได้", "ร้านอาหารเปิดเพลงเสียงดังเกินเวลา"),
    "ป้าย": ("ป้ายโฆษณาติดตั้งไม่ได้รับอนุญาต บังทัศนวิสัย", "ป้ายหาเสียงเก่ายังไม่ถูกเก็บ"),
    "จราจร": ("สัญญาณไฟจราจรเสีย รถติดยาว", "รถจักรยานยนต์ขับย้อนศรเป็นประจำ"),
    "ต้นไม้": ("กิ่งไม้ใหญ่ห้อยลงมาใกล้สายไฟ เสี่ยงหักโค่น", "ต้นไม้ล้มขวางถนน"),
    "คลอง": ("ผักตบชวาเต็มคลอง น้ำไม่ไหล", "มีการปล่อยน้ำเสียลงคลอง"),
    "สัตว์จรจัด": ("สุนัขจรจัดไล่กัดคนเดินผ่าน", "แมวจรจัดจำนวนมากในชุมชน"),
    "สายไฟ": ("สายไฟระโยงระยาง ไม่เรียบร้อย", "สายสื่อสารห้อยต่ำ รถสูงเกี่ยว"),
    "สะพาน": ("ราวสะพานลอยชำรุด", "สะพานข้ามคลองไม้ผุ"),
    "คนจรจัด": ("มีคนไร้บ้านนอนบริเวณป้ายรถเมล์",),
    "PM2.5": ("ฝุ่น PM2.5 จากไซต์ก่อสร้างไม่มีผ้าคลุม", "รถบรรทุกดินทำฝุ่นฟุ้งกระจาย"),
    "สอบถาม": ("สอบถามความคืบหน้าเรื่องที่แจ้งไว้",),
    "เสนอแนะ": ("เสนอให้ติดตั้งกล้องวงจรปิดเพิ่ม",),
    "ห้องน้ำ": ("ห้องน้ำสาธารณะสกปรก ไม่มีน้ำใช้",),
    "ป้ายจราจร": ("ป้ายจราจรล้ม มองไม่เห็น",),
    "การเดินทาง": ("ป้ายรถเมล์ไม่มีหลังคา",),
    "": ("แจ้งปัญหาในพื้นที่ รบกวนตรวจสอบ", "มีปัญหาเรื้อรังมานาน ขอให้เข้ามาดู"),
}  # fmt: skip
_PLACES = (
    "ปากซอย",
    "หน้าตลาด",
    "ใกล้ป้ายรถเมล์",
    "หน้าโรงเรียน",
    "ในซอย",
    "ข้างวัด",
    "หน้าหมู่บ้าน",
    "ใต้ทางด่วน",
)
_ENDINGS = ("ช่วยแก้ไขด้วยครับ", "รบกวนตรวจสอบด้วยค่ะ", "ขอบคุณครับ", "ฝากด้วยนะคะ", "", "แจ้งหลายครั้งแล้ว")
#: Citizen comments carrying HTML: the report must show them escaped, never run them.
HTML_COMMENTS: tuple[str, ...] = (
    "ไฟดับทั้งซอย <script>alert(1)</script>",
    "ขยะล้น <img src=x onerror=alert(1)> ช่วยด้วย",
    "ถนนพัง <b>ด่วนมาก</b> & ไม่มีใครมาดู",
    '<a href="javascript:alert(1)">ดูรูป</a> น้ำท่วม',
    "ท่อแตก <iframe src=//evil.example></iframe>",
)

#: Injected defect rates (per ticket or per event), at least one of each kind.
DEFECT_RATES: dict[str, float] = {
    "duplicate_row": 1e-4,
    "be_year": 2e-5,
    "missing_district": 1e-5,
    "unknown_district": 1e-5,
    "finished_before_created": 2e-5,
    "event_be_year": 5e-6,
    "accepted_before_forwarded": 1e-5,
}

#: Bumped whenever the generator's output changes, so an old data folder is not reused.
GENERATOR_VERSION = 1

#: The sources the generator writes; their file names and columns are declared in
#: ``params/tables`` (the first of ``file_names``, the columns of ``header`` in order).
SOURCES: tuple[str, ...] = (
    "traffy-api-v2", "event-log", "report_submissions", "council_resolutions", "key_projects",
    "survey_responses", "directives", "line_requests", "manual_results", "conditions",
)  # fmt: skip


@dataclass
class SampleSummary:
    """What :func:`generate` wrote."""

    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    defects: int = 0
    skipped: bool = False
    params: Path | None = None

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        if self.skipped:
            return [
                f"{self.out_dir} already holds this sample data set (same fy, seed, scale); "
                "nothing to do (use --force to regenerate)"
            ]
        out = [f"raw/{name}: {n} rows" for name, n in self.rows.items()]
        out.append(f"raw/_injected_defects.json: {self.defects} injected defects")
        out.append(f"written to {self.out_dir}")
        if self.params is not None:
            out.append(
                f"synthetic organisation: definitions in {self.params}; render it with "
                f"KPILIB_PARAMS={self.params} kpi run --data {self.out_dir}"
            )
        return out


# --------------------------------------------------------------------------- helpers

_S = np.timedelta64(1, "s")


def _fmt(ts: np.ndarray, *, sep: str = " ", tz: str = "+07:00") -> pd.Series:
    """datetime64[s] Bangkok wall times → ``YYYY-MM-DD HH:MM:SS+07:00`` ("" for NaT)."""
    arr = pa.array(ts.astype("datetime64[s]"), type=pa.timestamp("s"))
    out = pac.fill_null(pac.strftime(arr, format=f"%Y-%m-%d{sep}%H:%M:%S{tz}"), "")
    return out.to_pandas()


def _fmt_date(d: np.ndarray) -> np.ndarray:
    s = pd.Series(np.datetime_as_string(d.astype("datetime64[D]"), unit="D"))
    return s.where(~np.isnat(d), "").to_numpy(dtype=object)


def _load_districts(params_dir: Path | None) -> pd.DataFrame:
    path = (params_dir or paths.params_dir()) / "districts.csv"
    if not path.is_file():
        raise ConfigError("the sample generator needs the district table", file=path)
    d = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    d = d.sort_values("district_geocode", ignore_index=True)
    if len(d) != 50:
        raise ConfigError(f"expected 50 districts, found {len(d)}", file=path)
    return d


#: ``kpi sample-data --units N``: the largest synthetic organisation (districts).
MAX_UNITS = 5000
SYNTHETIC_PREFIX = "S"
"""Synthetic district codes are ``S0051``, ``S0052``…; names ``เขตจำลอง0051``…"""


def synthetic_districts(real: pd.DataFrame, n: int) -> pd.DataFrame:
    """The real districts and ``n - len(real)`` synthetic ones modelled on them in turn.

    Synthetic districts take a real one's sub-districts, place and office address, with codes
    ``S0051``… and Thai names ``จำลอง0051``… (``เขตจำลอง0051`` in the catalogue), so that no
    synthetic unit can be mistaken for a real one.
    """
    extra = real.iloc[np.arange(n - len(real)) % len(real)].reset_index(drop=True).copy()
    numbers = [f"{i:04d}" for i in range(len(real) + 1, n + 1)]
    extra["district_geocode"] = [f"{SYNTHETIC_PREFIX}{k}" for k in numbers]
    extra["district_name"] = [f"จำลอง{k}" for k in numbers]
    extra["district_english_name"] = [f"Synthetic {k}" for k in numbers]
    return pd.concat([real, extra], ignore_index=True)


def write_synthetic_params(src: Path, dst: Path, districts: pd.DataFrame) -> Path:
    """Copy the definitions in ``src`` to ``dst`` with ``districts`` as the organisation's.

    ``units.yaml`` keeps every unit of ``src`` and adds the synthetic districts;
    ``districts.csv`` holds them all. Everything else (KPIs, plans, tables, validation) is
    copied as it is, so the plan's ``unit_kind: district`` assignments give every synthetic
    district the district KPIs.
    """
    import yaml

    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    doc = yaml.safe_load((src / "units.yaml").read_text(encoding="utf-8"))
    known = {str(u["code"]) for u in doc["units"]}
    synthetic = [
        {"code": code, "kind": "district", "name_th": f"เขต{name}", "name_en": english}
        for code, name, english in zip(
            districts["district_geocode"],
            districts["district_name"],
            districts["district_english_name"],
            strict=True,
        )
        if code not in known
    ]
    header = (
        f"# A synthetic organisation written by `kpi sample-data --units {len(districts)}`:\n"
        f"# the units of params/units.yaml and {len(synthetic)} synthetic districts (not real units).\n"
    )
    text = yaml.safe_dump(
        {"units": doc["units"] + synthetic}, allow_unicode=True, sort_keys=False, width=200
    )
    (dst / "units.yaml").write_text(header + text, encoding="utf-8")
    districts.to_csv(dst / "districts.csv", index=False, encoding="utf-8")
    return dst


def raw_file_names() -> dict[str, str]:
    """Source → the file name the generator writes it to (declared in ``params/tables``)."""
    tables = load_tables()
    out = {}
    for source in SOURCES:
        _, decl = tables.source(source)
        if not decl.file_names or any(ch in decl.file_names[0] for ch in "*?["):
            raise ConfigError(f"source {source!r} needs a plain file name (file_names[0])")
        out[source] = decl.file_names[0]
    return out


def _declared_tags() -> tuple[np.ndarray, np.ndarray]:
    """The declared Traffy tags, in declaration order, and their sample frequencies."""
    tags = load_tables().table("tickets").columns["type_tags"].values or ()
    missing = [t for t in tags if t not in TRAFFY_TAGS]
    if missing or len(tags) != len(TRAFFY_TAGS):
        raise ConfigError(
            f"the sample's tag frequencies do not match the declared tags (missing: {missing})"
        )
    return np.array(tags), np.array([TRAFFY_TAGS[t] for t in tags], float)


def _columns_as_declared(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """The frame's columns in the declared header order (the generator and the declaration
    must agree on the set)."""
    header = list(load_tables().source(source)[1].header)
    if set(df.columns) != set(header):
        raise ConfigError(
            f"the sample generator's columns for {source!r} differ from params/tables: "
            f"missing {sorted(set(header) - set(df.columns))}, "
            f"extra {sorted(set(df.columns) - set(header))}"
        )
    return df[header]


def _work_time(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A time during office hours (08:30–16:30) on each day."""
    secs = (8.5 * 3600 + rng.random(days.shape) * 8 * 3600).astype(np.int64)
    return days.astype("datetime64[s]") + secs * _S


def _not_before(
    rng: np.random.Generator, bc: Any, days: np.ndarray, earliest: np.ndarray
) -> np.ndarray:
    """Office-hours time on ``days``, but not before ``earliest``.

    When ``earliest`` is later that same day the action happens then (after hours); when it
    falls on a later day, the action moves to office hours of the next business day.
    """
    t = _work_time(rng, days)
    e_day = earliest.astype("datetime64[D]")
    later_day = e_day > days
    nxt = _work_time(rng, bc.add_business_days_array(e_day, 0))
    t = np.where(later_day, np.maximum(nxt, earliest), t)
    return np.maximum(t, earliest)


def _half_month(ts: np.ndarray) -> np.ndarray:
    """Half-month window number of each time: 2 × month index + (day > 15)."""
    d = ts.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    day = (d - m).astype(np.int64) + 1
    return m.astype(np.int64) * 2 + (day > 15)


def _half_month_bounds(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last day of half-month windows (the 1st–15th and 16th–last day)."""
    m = (w // 2).astype("datetime64[M]")
    first = m.astype("datetime64[D]") + np.where(w % 2 == 1, 15, 0)
    last_of_month = (m + 1).astype("datetime64[D]") - 1
    last = np.where(w % 2 == 1, last_of_month, m.astype("datetime64[D]") + 14)
    return first, last


def _ticket_codes(n: int, offset: int) -> np.ndarray:
    """Unique Traffy-like 6-character codes (an affine permutation of 32**6)."""
    alphabet = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
    v = (np.arange(n, dtype=np.int64) * 387_420_489 + offset) % (32**6)
    digits = (v[:, None] // (32 ** np.arange(5, -1, -1))) % 32
    return alphabet[digits].view("<U6").ravel()


# --------------------------------------------------------------------------- tickets + events


def monthly_volumes(rng: np.random.Generator, n_districts: int, scale: float) -> np.ndarray:
    """Tickets per district (rows) and fiscal month (columns, Oct..Sep).

    Each district has its own level; a rainy-season bump (Jun-Sep) and noise vary it by
    month; at scale 1.0 every count lies in 150..800.
    """
    level = rng.uniform(170, 760, n_districts)
    season = np.array([1.0, 0.95, 0.9, 0.95, 0.9, 0.95, 1.0, 1.05, 1.1, 1.12, 1.1, 1.08])
    noise = rng.normal(1.0, 0.06, (n_districts, 12))
    counts = np.clip(np.rint(level[:, None] * season[None, :] * noise), 150, 800)
    return np.rint(counts * scale).astype(np.int64)


def _tickets_and_events(
    rng: np.random.Generator, fy: int, scale: float, districts: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    bc = cal.business_calendar()
    start, end = cal.fiscal_year_bounds(fy)
    export = np.datetime64(end, "s") + np.timedelta64(15, "D") + np.timedelta64(10, "h")
    n_d = len(districts)
    counts = monthly_volumes(rng, n_d, scale)
    d_idx = np.repeat(np.repeat(np.arange(n_d), 12), counts.ravel())
    m_idx = np.repeat(np.tile(np.arange(12), n_d), counts.ravel())
    n = len(d_idx)
    # -- creation day: fewer complaints on weekends and holidays
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    w = np.where(bc.is_business_day_array(days), 1.0, 0.65)
    cumw = np.concatenate([[0.0], np.cumsum(w)])
    month_of_day = (days.astype("datetime64[M]") - np.datetime64(start, "M")).astype(np.int64)
    lo = cumw[np.searchsorted(month_of_day, np.arange(12), side="left")]
    hi = cumw[np.searchsorted(month_of_day, np.arange(12), side="right")]
    u = lo[m_idx] + rng.random(n) * (hi[m_idx] - lo[m_idx])
    day = days[np.clip(np.searchsorted(cumw, u, side="right") - 1, 0, len(days) - 1)]
    hour_w = np.array(
        [1, 1, 1, 1, 1, 2, 4, 7, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8, 7, 6, 5, 4, 3, 2], float
    )
    hour = rng.choice(24, n, p=hour_w / hour_w.sum())
    created = day.astype("datetime64[s]") + (hour * 3600 + rng.integers(0, 3600, n)) * _S
    order = np.argsort(created, kind="stable")
    d_idx, created = d_idx[order], created[order]
    # -- per-district behaviour
    p_late_acc = rng.uniform(0.02, 0.12, n_d)[d_idx]
    p_late_prog = rng.uniform(0.03, 0.12, n_d)[d_idx]
    p_miss_follow = rng.uniform(0.02, 0.10, n_d)[d_idx]
    # -- lifecycle (Bangkok wall-clock datetime64[s])
    fwd = created + np.minimum(rng.exponential(2.5 * 3600, n), 36 * 3600).astype(np.int64) * _S
    late = rng.random(n) < p_late_acc
    k_acc = np.where(late, rng.integers(2, 5, n), rng.choice([0, 1], n, p=[0.55, 0.45]))
    acc = _not_before(
        rng,
        bc,
        bc.add_business_days_array(fwd.astype("datetime64[D]"), k_acc),
        fwd + rng.integers(300, 3600, n) * _S,
    )
    late2 = rng.random(n) < p_late_prog
    k_prog = np.where(late2, rng.integers(4, 8, n), rng.integers(1, 4, n))
    prog1 = _not_before(
        rng, bc, bc.add_business_days_array(acc.astype("datetime64[D]"), k_prog), acc + 1800 * _S
    )
    dur = np.minimum(rng.lognormal(np.log(6.0), 1.1, n), 400.0)
    fin = acc + (dur * 86400).astype(np.int64) * _S
    fin = np.maximum(fin, prog1 + rng.integers(1800, 2 * 86400, n) * _S)
    never = rng.random(n) < 0.003  # never accepted by the unit
    reopen = (rng.random(n) < 0.03) & ~never
    reo = fin + rng.integers(86400, 10 * 86400, n) * _S
    fin2 = reo + rng.integers(43200, 6 * 86400, n) * _S
    nat = np.datetime64("NaT", "s")
    acc_ok = ~never & (acc <= export)
    prog_ok = acc_ok & (prog1 <= export)
    fin_ok = prog_ok & (fin <= export)
    reo_ok = reopen & fin_ok & (reo <= export)
    fin2_ok = reo_ok & (fin2 <= export)
    finished_final = np.where(reo_ok, np.where(fin2_ok, fin2, nat), np.where(fin_ok, fin, nat))
    open_end = np.where(np.isnat(finished_final), export, finished_final)
    # -- half-month follow-ups while open (between the first progress report and the end)
    w0 = _half_month(prog1) + 1
    w1 = _half_month(np.where(reo_ok, reo, open_end)) - 1
    nwin = np.where(prog_ok, np.maximum(w1 - w0 + 1, 0), 0)
    t_rep = np.repeat(np.arange(n), nwin)
    within = np.arange(nwin.sum()) - np.repeat(np.cumsum(nwin) - nwin, nwin)
    win = w0[t_rep] + within
    wfirst, wlast = _half_month_bounds(win)
    span = (wlast - wfirst).astype(np.int64) + 1
    fday = wfirst + np.floor(rng.random(len(win)) * span).astype(np.int64)
    fup = _work_time(rng, fday)
    keep = rng.random(len(win)) >= p_miss_follow[t_rep]
    t_rep, fup = t_rep[keep], fup[keep]
    # -- event log
    ev_t = [np.arange(n), np.flatnonzero(acc_ok), np.flatnonzero(prog_ok), t_rep,
            np.flatnonzero(fin_ok), np.flatnonzero(reo_ok), np.flatnonzero(fin2_ok)]  # fmt: skip
    ev_ts = [fwd, acc[acc_ok], prog1[prog_ok], fup, fin[fin_ok], reo[reo_ok], fin2[fin2_ok]]
    ev_k = ["forwarded", "accepted", "progress", "progress", "finished", "reopened", "finished"]
    kinds = np.concatenate([np.full(len(t), i, dtype=np.int8) for i, t in enumerate(ev_t)])
    ev_ticket = np.concatenate(ev_t)
    ev_time = np.concatenate(ev_ts)
    ev_keep = ev_time <= export
    ev_ticket, ev_time, kinds = ev_ticket[ev_keep], ev_time[ev_keep], kinds[ev_keep]
    eo = np.lexsort((kinds, ev_ticket, ev_time))
    ev_ticket, ev_time, kinds = ev_ticket[eo], ev_time[eo], kinds[eo]
    last_activity = pd.Series(ev_time).groupby(ev_ticket).max().reindex(range(n)).to_numpy()
    # -- ticket attributes
    tags, p = _declared_tags()
    t1 = rng.choice(len(tags), n, p=p / p.sum())
    t2 = (t1 + rng.integers(1, len(tags), n)) % len(tags)
    n_tags = rng.choice([0, 1, 2], n, p=[0.1, 0.75, 0.15])
    tag1 = pd.Series(tags[t1])
    type_ = np.where(
        n_tags == 0,
        "{}",
        np.where(n_tags == 1, "{" + tag1 + "}", "{" + tag1 + "," + tags[t2] + "}"),
    )
    keys = list(_COMMENTS)
    flat = np.array([c for k in keys for c in _COMMENTS[k]], dtype=object)
    sizes = np.array([len(_COMMENTS[k]) for k in keys])
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    key_idx = np.where(n_tags == 0, keys.index(""), np.array([keys.index(t) for t in tags])[t1])
    pick = offs[key_idx] + np.floor(rng.random(n) * sizes[key_idx]).astype(np.int64)
    places = np.array(_PLACES, dtype=object)[rng.integers(0, len(_PLACES), n)]
    ends = np.array(_ENDINGS, dtype=object)[rng.integers(0, len(_ENDINGS), n)]
    comment = (pd.Series(flat[pick]) + " " + pd.Series(places) + " " + pd.Series(ends)).str.strip()
    state = np.full(n, STATE_FINISHED, dtype=object)
    open_names = np.array(list(OPEN_STATES), dtype=object)
    open_p = np.array(list(OPEN_STATES.values()))
    state[np.isnat(finished_final)] = open_names[
        rng.choice(len(open_names), n, p=open_p / open_p.sum())
    ][np.isnat(finished_final)]
    state[acc_ok & ~prog_ok] = STATE_ACCEPTED
    state[~acc_ok] = STATE_WAITING
    star = np.where(
        ~np.isnat(finished_final) & (rng.random(n) < 0.25),
        rng.choice([1, 2, 3, 4, 5], n, p=[0.08, 0.05, 0.12, 0.25, 0.5]),
        0,
    )
    dist = districts.iloc[d_idx].reset_index(drop=True)
    subs = dist["subdistricts"].str.split("|")
    n_sub = subs.str.len().to_numpy()
    sub_pick = np.floor(rng.random(n) * n_sub).astype(np.int64)
    subdistrict = np.array([s[i] for s, i in zip(subs, sub_pick, strict=True)], dtype=object)
    lat = dist["latitude"].astype(float).to_numpy() + rng.normal(0, 0.012, n)
    lon = dist["longitude"].astype(float).to_numpy() + rng.normal(0, 0.012, n)
    province = np.where(rng.random(n) < 0.15, "จังหวัดกรุงเทพมหานคร", "กรุงเทพมหานคร")
    year = created.astype("datetime64[Y]").astype(np.int64) + 1970
    tid = (
        pd.Series(year.astype(str)) + "-" + pd.Series(_ticket_codes(n, int(rng.integers(0, 32**6))))
    )
    photo_hash = pd.Series(np.char.mod("%016x", rng.integers(0, 2**62, n)))
    month_str = pd.Series(np.datetime_as_string(created.astype("datetime64[M]"), unit="M"))
    photo = (
        "https://storage.googleapis.com/traffy_public_bucket/attachment/"
        + month_str
        + "/"
        + photo_hash
        + ".jpg"
    )
    has_fin = ~np.isnat(finished_final)
    org = ("เขต" + dist["district_name"]).to_numpy(dtype=object)
    tickets = pd.DataFrame(
        {
            "ticket_id": tid,
            "type": type_,
            "organization": org,
            "description": comment,
            "photo": photo,
            "latitude": np.round(lat, 5),
            "longitude": np.round(lon, 5),
            "address": (
                "แขวง"
                + pd.Series(subdistrict)
                + " เขต"
                + dist["district_name"]
                + " กรุงเทพมหานคร "
                + dist["district_postal_code"]
            ),
            "subdistrict": subdistrict,
            "district": dist["district_name"],
            "province": province,
            "timestamp": _fmt(created),
            "photo_after": np.where(
                has_fin, photo.str.replace(".jpg", "_after.jpg", regex=False), ""
            ),
            "timestamp_inprogress": _fmt(np.where(acc_ok, acc, nat)),
            "timestamp_finished": _fmt(finished_final),
            "org_finished": np.where(has_fin, org, ""),
            "status": state,
            "confirmed": np.where(has_fin, "true", "false"),
            "star": np.where(star > 0, star.astype(str), ""),
            "count_reopen": reo_ok.astype(np.int64),
            "last_activity": _fmt(last_activity.astype("datetime64[s]")),
        }
    )
    events = pd.DataFrame(
        {
            "ticket_id": tid.to_numpy()[ev_ticket],
            "unit_code": districts["district_geocode"].to_numpy()[d_idx][ev_ticket],
            "event": np.array(ev_k, dtype=object)[kinds],
            "timestamp": _fmt(ev_time, sep="T"),
        }
    )
    facts = {"export": str(export), "n": n, "per_district_month": counts}
    return tickets, events, facts


def _inject_defects(
    rng: np.random.Generator,
    tickets: pd.DataFrame,
    events: pd.DataFrame,
    tickets_file: str,
    events_file: str,
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]], list[dict[str, Any]]]:
    """Plant the known defects; return the files' final frames and the manifests."""
    n = len(tickets)
    k = {name: max(1, round(rate * n)) for name, rate in DEFECT_RATES.items()}
    kinds_t = [
        "duplicate_row",
        "be_year",
        "missing_district",
        "unknown_district",
        "finished_before_created",
    ]
    need = sum(k[x] for x in kinds_t) + len(HTML_COMMENTS)
    chosen = rng.choice(n, need, replace=False)
    pos = 0
    sel: dict[str, np.ndarray] = {}
    for name in [*kinds_t, "html"]:
        m = len(HTML_COMMENTS) if name == "html" else k[name]
        sel[name] = np.sort(chosen[pos : pos + m])
        pos += m
    t = tickets.copy()
    # (kind, ticket index, column, stage, expected reason)
    records: list[tuple[str, int, str, str, str]] = []
    for i in sel["be_year"]:
        old = t.at[i, "timestamp"]
        y = int(old[:4])
        t.at[i, "timestamp"] = f"{y + 543}{old[4:]}"
        records.append(("be_year", int(i), "timestamp", "ingest", "be_year"))
    for i in sel["missing_district"]:
        t.at[i, "district"] = ""
        records.append(("missing_district", int(i), "district", "ingest", "missing_district"))
    for i in sel["unknown_district"]:
        t.at[i, "district"] = t.at[i, "district"] + "ใหม่"
        records.append(("unknown_district", int(i), "district", "ingest", "unknown_district"))
    for i in sel["finished_before_created"]:
        created = pd.Timestamp(t.at[i, "timestamp"][:19])
        bad = created - pd.Timedelta(hours=int(rng.integers(2, 72)))
        t.at[i, "timestamp_finished"] = bad.strftime("%Y-%m-%d %H:%M:%S") + "+07:00"
        records.append(("finished_before_created", int(i), "timestamp_finished", "validation", ""))
    html = []
    for j, i in enumerate(sel["html"]):
        t.at[i, "description"] = HTML_COMMENTS[j]
    # duplicates: an identical copy right after the original row
    dup_src = sel["duplicate_row"]
    order = np.sort(np.concatenate([np.arange(n), dup_src]), kind="stable")
    t = t.iloc[order].reset_index(drop=True)
    row_of = np.searchsorted(order, np.arange(n), side="left") + 1  # 1-based row of each original
    manifest = [
        {"file": tickets_file, "row": int(row_of[src] + 1), "column": "", "kind": "duplicate_row",
         "ticket_id": str(tickets.at[src, "ticket_id"]), "stage": "ingest", "expected_reason": "duplicate",
         "detail": f"exact copy of data row {int(row_of[src])}"}
        for src in dup_src
    ]  # fmt: skip
    for kind, i, col, stage, exp in records:
        manifest.append(
            {"file": tickets_file, "row": int(row_of[i]), "column": col, "kind": kind,
             "ticket_id": str(tickets.at[i, "ticket_id"]), "stage": stage, "expected_reason": exp,
             "detail": f"{col}={t.at[row_of[i] - 1, col]!r}"}
        )  # fmt: skip
    for j, i in enumerate(sel["html"]):
        html.append({"file": tickets_file, "row": int(row_of[i]), "column": "description",
                     "ticket_id": str(tickets.at[i, "ticket_id"]), "text": HTML_COMMENTS[j]})  # fmt: skip
    # events of tickets that ingest will quarantine are left out of the log (no orphans)
    dropped = set(
        tickets["ticket_id"].to_numpy()[
            np.concatenate([sel["be_year"], sel["missing_district"], sel["unknown_district"]])
        ]
    )
    e = events.loc[~events["ticket_id"].isin(dropped)].reset_index(drop=True)
    acc_rows = np.flatnonzero((e["event"] == "accepted").to_numpy())
    fwd_time = e.loc[e["event"] == "forwarded"].set_index("ticket_id")["timestamp"]
    pick = np.sort(
        rng.choice(acc_rows, k["accepted_before_forwarded"] + k["event_be_year"], replace=False)
    )
    a_rows, b_rows = pick[: k["accepted_before_forwarded"]], pick[k["accepted_before_forwarded"] :]
    for r in a_rows:
        tid = e.at[r, "ticket_id"]
        f = pd.Timestamp(fwd_time[tid][:19]) - pd.Timedelta(minutes=int(rng.integers(30, 600)))
        e.at[r, "timestamp"] = f.strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"
        manifest.append({"file": events_file, "row": int(r + 1), "column": "timestamp",
                         "kind": "accepted_before_forwarded", "ticket_id": str(tid), "stage": "validation",
                         "expected_reason": "", "detail": f"accepted {e.at[r, 'timestamp']} < forwarded {fwd_time[tid]}"})  # fmt: skip
    for r in b_rows:
        old = e.at[r, "timestamp"]
        e.at[r, "timestamp"] = f"{int(old[:4]) + 543}{old[4:]}"
        manifest.append({"file": events_file, "row": int(r + 1), "column": "timestamp",
                         "kind": "be_year", "ticket_id": str(e.at[r, "ticket_id"]), "stage": "ingest",
                         "expected_reason": "be_year", "detail": f"timestamp={e.at[r, 'timestamp']!r}"})  # fmt: skip
    manifest.sort(key=lambda m: (m["file"], m["row"]))
    return t, e, manifest, html


# --------------------------------------------------------------------------- other inputs


def _other_tables(
    rng: np.random.Generator, fy: int, districts: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    bc = cal.business_calendar()
    start, end = cal.fiscal_year_bounds(fy)
    d0 = np.datetime64(start, "D")
    ndays = (np.datetime64(end, "D") - d0).astype(int) + 1
    codes = districts["district_geocode"].to_numpy()
    months = cal.fiscal_months(fy)
    out: dict[str, pd.DataFrame] = {}
    # report_submissions: due by the 10th of the next month; some late, a few never sent
    u = np.repeat(codes, 12)
    mi = np.tile(np.arange(12), len(codes))
    month = np.array([f"{y:04d}-{m:02d}" for y, m in months], dtype=object)[mi]
    nxt = np.array([np.datetime64(f"{y:04d}-{m:02d}", "M") + 1 for y, m in months])[mi].astype(
        "datetime64[D]"
    )
    r = rng.random(len(u))
    day = np.where(r < 0.88, rng.integers(1, 10, len(u)), rng.integers(10, 25, len(u)))
    sub = bc.add_business_days_array(nxt + day - 1, 0)
    sub = np.where(r > 0.985, np.datetime64("NaT", "D"), sub)
    out["report_submissions"] = pd.DataFrame(
        {"unit_code": u, "month": month, "submitted_on": _fmt_date(sub)}
    )
    # council_resolutions (GOVSEC): reported within weeks; some never reported
    n = 48
    res = d0 + np.sort(rng.integers(0, ndays - 20, n))
    rep = res + rng.integers(3, 45, n)
    rep = np.where(
        (rng.random(n) < 0.08) | (rep > np.datetime64(end, "D")), np.datetime64("NaT", "D"), rep
    )
    out["council_resolutions"] = pd.DataFrame(
        {"resolution_id": [f"CR{fy}-{i:03d}" for i in range(1, n + 1)], "unit_code": GOVSEC,
         "resolved_on": _fmt_date(res), "reported_on": _fmt_date(rep)}
    )  # fmt: skip
    # key_projects: the 12 key projects, on plan or not each quarter
    q = np.repeat(np.arange(1, 5), 12)
    on = rng.random(48) < np.array([0.80, 0.85, 0.88, 0.92])[q - 1]
    out["key_projects"] = pd.DataFrame(
        {"project_id": [f"KP{i:02d}" for i in np.tile(np.arange(1, 13), 4)], "unit_code": GOVSEC,
         "fiscal_year": fy, "quarter": q, "on_plan": np.where(on, "true", "false")}
    )  # fmt: skip
    # survey_responses: governor's calendar system and LINE@ tracking (levels 1-5)
    n_cal, n_line = 260, 56
    survey = np.array(["governor_calendar"] * n_cal + ["line_tracking"] * n_line, dtype=object)
    lvl = np.concatenate([rng.choice([1, 2, 3, 4, 5], n_cal, p=[0.02, 0.04, 0.14, 0.42, 0.38]),
                          rng.choice([3, 4, 5], n_line, p=[0.03, 0.37, 0.60])])  # fmt: skip
    when = d0 + np.concatenate(
        [rng.integers(0, ndays, n_cal), rng.integers(ndays // 4, ndays, n_line)]
    )
    when = bc.add_business_days_array(when, 0)
    so = np.lexsort((np.arange(len(when)), when))
    out["survey_responses"] = pd.DataFrame(
        {"response_id": [f"SR{fy}-{i:04d}" for i in range(1, len(so) + 1)], "unit_code": GOVSEC,
         "survey": survey[so], "responded_on": _fmt_date(when[so]), "level": lvl[so]}
    )  # fmt: skip
    # directives from the governor's district and community visits
    n_dir = 320
    vt = np.where(rng.random(n_dir) < 0.6, "district", "community")
    iss = bc.add_business_days_array(d0 + np.sort(rng.integers(0, ndays, n_dir)), 0)
    comp = iss + np.minimum(rng.lognormal(np.log(35), 0.8, n_dir), 400).astype(np.int64)
    comp = np.where(
        (comp > np.datetime64(end, "D")) | (rng.random(n_dir) < 0.05),
        np.datetime64("NaT", "D"),
        comp,
    )
    out["directives"] = pd.DataFrame(
        {"directive_id": [f"DR{fy}-{i:03d}" for i in range(1, n_dir + 1)], "unit_code": GOVSEC,
         "visit_type": vt, "issued_on": _fmt_date(iss), "completed_on": _fmt_date(comp)}
    )  # fmt: skip
    # line_requests: LINE@ document tracking; users join during the year
    n_users = 56
    join = d0 + np.sort(rng.integers(30, ndays - 10, n_users))
    per_user = rng.integers(1, 6, n_users)
    usr = np.repeat(np.arange(n_users), per_user)
    rd = join[usr] + np.floor(
        rng.random(len(usr)) * ((np.datetime64(end, "D") - join[usr]).astype(int) + 1)
    ).astype(np.int64)
    rd = np.where(
        np.arange(len(usr)) == np.searchsorted(usr, usr), join[usr], rd
    )  # first request on joining
    req = _work_time(rng, bc.add_business_days_array(rd, 0))
    ack = (
        req
        + np.where(
            rng.random(len(req)) < 0.97,
            rng.integers(60, 14 * 60, len(req)),
            rng.integers(16 * 60, 240 * 60, len(req)),
        )
        * _S
    )
    prg = (
        ack
        + np.where(
            rng.random(len(req)) < 0.97,
            rng.integers(60, 14 * 60, len(req)),
            rng.integers(31 * 60, 300 * 60, len(req)),
        )
        * _S
    )
    ro = np.argsort(req, kind="stable")
    out["line_requests"] = pd.DataFrame(
        {"request_id": [f"LR{fy}-{i:04d}" for i in range(1, len(ro) + 1)], "unit_code": GOVSEC,
         "user_id": np.array([f"U{i + 1:03d}" for i in range(n_users)])[usr[ro]],
         "requested_at": _fmt(req[ro], sep="T"), "acknowledged_at": _fmt(ack[ro], sep="T"),
         "progress_at": _fmt(prg[ro], sep="T")}
    )  # fmt: skip
    # manual_results: Best Service milestones and Part 2 quality, per district and quarter
    plan = np.array([30.0, 60.0, 75.0, 100.0])
    uq = np.repeat(codes, 4)
    qq = np.tile(np.arange(1, 5), len(codes))
    behind = rng.random(len(uq)) < 0.1
    best = np.where(behind, plan[qq - 1] - rng.choice([5.0, 10.0, 15.0], len(uq)), plan[qq - 1])
    part2 = np.round(rng.uniform(55, 80, len(uq)), 2)
    out["manual_results"] = pd.DataFrame(
        {"unit_code": np.concatenate([uq, uq]),
         "kpi_id": [KPI_BEST_SERVICE] * len(uq) + [KPI_PRAWET_PROJECT] * len(uq),
         "fiscal_year": fy, "quarter": np.concatenate([qq, qq]), "value": np.concatenate([best, part2]),
         "note": ["cumulative progress % (plan 30/60/75/100)"] * len(uq)
         + ["part2: quality of resolution, points out of 80"] * len(uq)}
    )  # fmt: skip
    # conditions: reports to executives (GOVSEC KPIs 4, 5, 6 of seed 003; districts' Traffy share)
    cu = np.concatenate(
        [np.full(4 * len(CONDITION_KPIS), GOVSEC, dtype=object), np.repeat(codes, 4)]
    )
    ck = np.concatenate(
        [np.repeat(np.array(CONDITION_KPIS), 4), np.full(4 * len(codes), DISTRICT_CONDITION_KPI)]
    )
    cq = np.tile(np.arange(1, 5), len(CONDITION_KPIS) + len(codes))
    met = rng.random(len(ck)) < 0.85
    out["conditions"] = pd.DataFrame(
        {
            "unit_code": cu,
            "kpi_id": ck,
            "fiscal_year": fy,
            "quarter": cq,
            "condition": "report_to_executives",
            "met": np.where(met, "true", "false"),
            "evidence": np.where(met, [f"บันทึกรายงานผู้บริหาร ไตรมาส {x}" for x in cq], ""),
        }
    )
    return out


# --------------------------------------------------------------------------- entry point


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write CSV with pyarrow (fast; text fields quoted, numbers not)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


README = """SYNTHETIC SAMPLE DATA - NOT REAL COMPLAINTS
ข้อมูลตัวอย่างสังเคราะห์ ไม่ใช่ข้อมูลเรื่องร้องเรียนจริง

Generated by `kpi sample-data --fy {fy} --seed {seed} --scale {scale}` (kpilib.sample).
Every ticket, event, name and date here is drawn from a seeded random generator; the same
command gives byte-identical files. Type tags, state names, district names and geocodes are
the real Traffy Fondue / BMA ones; everything else is invented.

raw/                      the raw inputs (see docs/data.md and docs/architecture.md)
raw/_injected_defects.json  defects planted on purpose (file, 1-based data row, column, kind)
processed/                canonical tables written by `kpi ingest` (re-creatable)
"""


README_UNITS = """
With --units {units}: a synthetic organisation of {units} districts (the 50 real ones and
S0051…, เขตจำลอง0051…, not real units, modelled in turn on the real districts) and the
offices; its definitions are in params/ here: run
`KPILIB_PARAMS=<this folder>/params kpi run --data <this folder>`.
"""


def _same_sample(raw: Path, *, fy: int, seed: int, scale: float, units: int | None) -> bool:
    try:
        doc = json.loads((raw / "_injected_defects.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    same = (
        doc.get("generator_version") == GENERATOR_VERSION
        and doc.get("fiscal_year") == fy
        and doc.get("seed") == seed
        and doc.get("scale") == scale
        and doc.get("units") == units
    )
    return same and all((raw / name).is_file() for name in raw_file_names().values())


def generate(
    out_dir: str | Path,
    *,
    fy: int | str = 2567,
    seed: int = 2567,
    scale: float = 1.0,
    force: bool = False,
    params_dir: str | Path | None = None,
    units: int | None = None,
) -> SampleSummary:
    """Write the sample data set's raw files under ``out_dir/raw``.

    Args:
        out_dir: The data folder to create.
        fy: Fiscal year, Buddhist Era.
        seed: Random seed.
        scale: Volume multiplier for tickets and events (1.0 = 150-800 a district-month).
        force: Replace ``out_dir/raw`` if it already exists.
        params_dir: Where ``districts.csv`` is (default ``params/``).
        units: A synthetic organisation of this many districts (>= 50: the 50 real ones and
            synthetic ones, :func:`synthetic_districts`) and the offices; its definitions are
            written to ``out_dir/params`` (:func:`write_synthetic_params`; use them with
            ``KPILIB_PARAMS``). None (default): the sample of the 50 districts, unchanged.

    Returns:
        What was written; ``skipped`` is True when ``out_dir`` already holds the same data
        set (same fiscal year, seed, scale and generator version) and ``force`` is False.

    Raises:
        ParameterError: Bad fy/scale/units, or ``out_dir/raw`` holds other data and ``force``
            is False.
    """
    from kpilib.forms.sample import write_sample_forms  # the people's part of the forms

    fy_be = cal.require_be_year(fy)
    if not (0 < scale <= 10):
        raise ParameterError(f"scale must be in (0, 10], got {scale}")
    if units is not None and not (isinstance(units, int) and 50 <= units <= MAX_UNITS):
        raise ParameterError(
            f"--units must be a whole number of districts from 50 to {MAX_UNITS}, got {units}"
        )
    out = Path(out_dir)
    raw = out / "raw"
    if raw.exists() and any(raw.iterdir()) and not force:
        if _same_sample(raw, fy=fy_be, seed=seed, scale=scale, units=units):
            if units is None:  # an older sample folder gets its forms
                write_sample_forms(out, fy=fy_be, seed=seed)
            return SampleSummary(out_dir=out, skipped=True)
        raise ParameterError(
            f"{raw} already holds other data (not this fy/seed/scale/units); use --force to "
            "regenerate it"
        )
    src_params = Path(params_dir) if params_dir else paths.params_dir()
    districts = _load_districts(src_params)
    if units is not None:
        districts = synthetic_districts(districts, units)
    rng = np.random.default_rng(seed)
    tickets, events, _facts = _tickets_and_events(rng, fy_be, scale, districts)
    names = raw_file_names()
    tickets, events, manifest, html = _inject_defects(
        rng, tickets, events, names["traffy-api-v2"], names["event-log"]
    )
    frames = {
        "traffy-api-v2": tickets,
        "event-log": events,
        **_other_tables(rng, fy_be, districts),
    }
    if raw.exists():
        shutil.rmtree(raw)
    processed = out / "processed"
    if processed.exists():
        shutil.rmtree(processed)
    raw.mkdir(parents=True)
    summary = SampleSummary(out_dir=out)
    for source in SOURCES:
        df = _columns_as_declared(frames[source], source)
        _write_csv(df, raw / names[source])
        summary.rows[names[source]] = len(df)
    doc = {
        "generator": "kpilib.sample",
        "generator_version": GENERATOR_VERSION,
        "fiscal_year": fy_be,
        "seed": seed,
        "scale": scale,
        "note": "row = 1-based data row (the header is row 0); stage = which step must catch it "
        "(ingest: quarantined with expected_reason; validation: carried over, found by validation)",
        "defects": manifest,
        "html_comments": html,
    }
    if units is not None:  # the default sample's file stays as it was
        doc["units"] = units
    (raw / "_injected_defects.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / "README.txt").write_text(
        README.format(fy=fy_be, seed=seed, scale=scale)
        + (README_UNITS.format(units=units) if units is not None else ""),
        encoding="utf-8",
    )
    summary.defects = len(manifest)
    catalog = None
    if units is not None:
        from kpilib.catalog import load_catalog

        summary.params = write_synthetic_params(src_params, out / "params", districts)
        catalog = load_catalog(summary.params)
    write_sample_forms(out, fy=fy_be, seed=seed, replace=True, catalog=catalog)
    return summary
