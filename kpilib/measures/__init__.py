"""The measure registry: every measure name a KPI in ``params/`` may use, listed statically.

A measure is a function ``(bundle, unit_code, fy, quarter, **args) -> number | None`` that
reads canonical tables from the data bundle; ``None`` means *no data*. KPI definitions refer
to measures by name only. Like python-holidays' registry, the names, the tables each reads
and a one-line Thai description are listed here as data, and the module holding a function is
imported the first time the measure is called: checking a catalogue never imports the
complaint engine, and the modules holding measures never import this registry.

Adding a measure: write the function in a module (``kpilib/measures/side_tables.py``, or
``kpilib/complaints/measures.py`` for complaint figures) and add one line to :data:`MEASURES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kpilib.errors import ConfigError
from kpilib.memo import freeze, memoized

if TYPE_CHECKING:
    import pandas as pd

MeasureValue = float | int | None
MeasureFn = Callable[..., MeasureValue]


class BundleLike(Protocol):
    """What a measure needs from a data bundle."""

    def table(self, name: str) -> pd.DataFrame:
        """Return a canonical table."""
        ...

    def has_table(self, name: str) -> bool:
        """True when the bundle holds the table."""
        ...


@dataclass(frozen=True)
class MeasureSpec:
    """One registered measure; calling it calls the function (imported on first use).

    Attributes:
        name: The name used in ``params/``.
        module: The module holding the function.
        function: The function's name in that module.
        tables: Canonical tables the measure reads.
        description_th: One line in Thai.
    """

    name: str
    module: str
    function: str
    tables: tuple[str, ...]
    description_th: str = ""

    @property
    def fn(self) -> MeasureFn:
        """The measure's function (its module is imported on first use)."""
        override = _OVERRIDES.get(self.name)
        if override is not None:
            return override
        return getattr(importlib.import_module(self.module), self.function)

    def __call__(
        self, bundle: BundleLike, unit_code: str, fy: int, quarter: int, **kwargs: Any
    ) -> MeasureValue:
        """Compute the measure, once per bundle and arguments (:mod:`kpilib.memo`).

        A bundle's tables never change, so a measure's value for a unit and quarter is
        kept as long as the bundle: the scorecards of earlier quarters (a report's history)
        and sums over every district (an office's KPI) then cost a look-up.
        """
        fn = self.fn
        try:
            key = ("measure", self.name, fn, str(unit_code), fy, quarter, freeze(kwargs))
            hash(key)
        except TypeError:  # arguments that cannot be a key: compute every time
            return fn(bundle, unit_code, fy, quarter, **kwargs)
        return memoized(bundle, key, lambda: fn(bundle, unit_code, fy, quarter, **kwargs))


_SIDE = "kpilib.measures.side_tables"
_COMPLAINTS = "kpilib.complaints.measures"


def _m(name: str, module: str, tables: tuple[str, ...], th: str, fn: str = "") -> MeasureSpec:
    return MeasureSpec(name, module, fn or name, tables, th)


#: Every measure, by name.
MEASURES: dict[str, MeasureSpec] = {
    m.name: m
    for m in (
        # complaints: the 3-step rules and Traffy resolution (kpilib.complaints.measures)
        _m("complaints_step12_compliant", _COMPLAINTS, ("events",),
           "จำนวนเรื่องที่ปฏิบัติถูกต้องทั้งขั้นตอนที่ 1 และ 2 (สะสมตั้งแต่ต้นปีงบประมาณ)",
           "m_step12_compliant"),
        _m("complaints_step12_total", _COMPLAINTS, ("events",),
           "จำนวนเรื่องที่ได้รับแจ้งทั้งหมด (สะสมตั้งแต่ต้นปีงบประมาณ)", "m_received"),
        _m("complaints_step1_compliant", _COMPLAINTS, ("events",),
           "จำนวนเรื่องที่ปฏิบัติถูกต้องตามขั้นตอนที่ 1 การรับเรื่อง: ตอบรับภายใน 1 วันทำการ "
           "และรายงานความก้าวหน้าครั้งที่ 1 ภายใน 3 วันทำการ (สะสมตั้งแต่ต้นปีงบประมาณ)",
           "m_step1_compliant"),
        _m("complaints_step2_compliant", _COMPLAINTS, ("events",),
           "จำนวนเรื่องที่ปฏิบัติถูกต้องตามขั้นตอนที่ 2 การดำเนินการแก้ไข: ติดตามความคืบหน้า"
           "ทุกวันที่ 15 และวันที่ 30 จนแล้วเสร็จ (สะสมตั้งแต่ต้นปีงบประมาณ)",
           "m_step2_compliant"),
        _m("complaints_all_steps_compliant", _COMPLAINTS, ("events", "report_submissions"),
           "จำนวนเรื่องที่ดำเนินการครบถ้วนทั้ง 3 ขั้นตอน: ขั้นตอนที่ 1 และ 2 ถูกต้อง และรายงานสรุป"
           "ประจำเดือนของเดือนที่รับเรื่องส่งภายในวันที่ 10 ของเดือนถัดไป (สะสมตั้งแต่ต้นปีงบประมาณ)",
           "m_all_steps_compliant"),
        _m("complaints_received", _COMPLAINTS, ("events",),
           "จำนวนเรื่องร้องเรียนที่ได้รับทั้งหมด ตั้งแต่ต้นปีงบประมาณถึงวันสิ้นไตรมาส",
           "m_received"),
        _m("complaints_resolved", _COMPLAINTS, ("events",),
           "จำนวนเรื่องร้องเรียนที่ได้รับการแก้ไขแล้วเสร็จ ณ วันสิ้นไตรมาส (ของเรื่องที่ได้รับ"
           "ตั้งแต่ต้นปีงบประมาณ; ไตรมาสที่ 4 = ณ วันสิ้นปีงบประมาณ)", "m_resolved"),
        _m("traffy_resolved", _COMPLAINTS, ("tickets",),
           "จำนวนเรื่องร้องเรียนผ่าน Traffy Fondue ที่แก้ไขเสร็จสิ้น ณ วันสิ้นไตรมาส",
           "m_traffy_resolved"),
        _m("traffy_received", _COMPLAINTS, ("tickets",),
           "จำนวนเรื่องร้องเรียนผ่าน Traffy Fondue ที่ได้รับ (สะสมตั้งแต่ต้นปีงบประมาณ)",
           "m_traffy_received"),
        _m("complaints_step3_on_time", _COMPLAINTS, ("report_submissions",),
           "จำนวนเดือนที่ส่งรายงานสรุปภายในวันที่ 10 ของเดือนถัดไป", "m_step3_on_time"),
        _m("complaints_step3_months", _COMPLAINTS, ("report_submissions",),
           "จำนวนเดือนที่ต้องส่งรายงานสรุป", "m_step3_months"),
        # side tables (kpilib.measures.side_tables)
        _m("council_resolutions_total", _SIDE, ("council_resolutions",),
           "จำนวนญัตติ/มติที่ประชุมสภากรุงเทพมหานครที่มีมติเห็นชอบให้ ผว.กทม. พิจารณา (สะสม)"),
        _m("council_resolutions_reported", _SIDE, ("council_resolutions",),
           "จำนวนญัตติที่หน่วยงานรายงานผลการดำเนินการแล้ว ภายในวันสิ้นไตรมาส (สะสม)"),
        _m("key_projects_on_plan", _SIDE, ("key_projects",),
           "จำนวนโครงการสำคัญที่ดำเนินการได้ตามแผน (สถานะ ณ ไตรมาสนั้น)"),
        _m("key_projects_total", _SIDE, ("key_projects",),
           "จำนวนโครงการสำคัญที่ติดตาม (ไตรมาสนั้น)"),
        _m("survey_responses_total", _SIDE, ("survey_responses",),
           "จำนวนผู้ตอบแบบสอบถามทั้งหมด (สะสม)"),
        _m("survey_high_or_above", _SIDE, ("survey_responses",),
           "จำนวนผู้ตอบที่มีระดับความพึงพอใจตั้งแต่ระดับที่กำหนดขึ้นไป (4 = มาก) (สะสม)"),
        _m("directives_total", _SIDE, ("directives",),
           "จำนวนข้อสั่งการทั้งหมดจากการลงพื้นที่ผู้ว่าฯ สัญจร ตามประเภทการลงพื้นที่ (สะสม)"),
        _m("directives_completed", _SIDE, ("directives",),
           "จำนวนข้อสั่งการจากการลงพื้นที่ผู้ว่าฯ สัญจร ที่ดำเนินการแล้วเสร็จ ตามประเภทการลงพื้นที่ (สะสม)"),
        _m("line_users", _SIDE, ("line_requests",),
           "จำนวนผู้ใช้บริการติดตามหนังสือราชการผ่าน LINE@ (คน, สะสม)"),
        _m("line_acknowledged_15min", _SIDE, ("line_requests",),
           "จำนวนผู้ใช้บริการที่ได้รับการแจ้งรับทราบภายใน 15 นาที (ทุกคำขอของผู้ใช้, สะสม)"),
        _m("line_progress_30min", _SIDE, ("line_requests",),
           "จำนวนผู้ใช้บริการที่ได้รับแจ้งผล/ความคืบหน้าภายใน 30 นาที (ทุกคำขอของผู้ใช้, สะสม)"),
        _m("manual_result", _SIDE, ("manual_results",),
           "ผลที่บันทึกด้วยมือ (manual_results) ของตัวชี้วัดในไตรมาสนั้น"),
    )
}  # fmt: skip

#: Tables read by the rubric-condition look-up (:func:`condition_met`).
CONDITION_TABLES: tuple[str, ...] = ("conditions",)

# Functions standing in for registered ones (tests: ``override_measure``).
_OVERRIDES: dict[str, MeasureFn] = {}


def get_measure(name: str) -> MeasureSpec:
    """Return the measure ``name``.

    Raises:
        ConfigError: If no measure has that name (the message lists the known names).
    """
    try:
        return MEASURES[name]
    except KeyError:
        raise ConfigError(
            f"unknown measure {name!r}; known measures: {', '.join(measure_names())}"
        ) from None


def measure_names() -> tuple[str, ...]:
    """Every measure name, sorted (imports nothing)."""
    return tuple(sorted(MEASURES))


def is_known_measure(name: str) -> bool:
    """True when ``name`` is a registered measure (imports nothing)."""
    return name in MEASURES


def override_measure(name: str, fn: MeasureFn | None) -> None:
    """Make measure ``name`` call ``fn`` instead (``None`` restores it); for tests and what-ifs.

    Raises:
        ConfigError: If ``name`` is not a registered measure.
    """
    get_measure(name)
    if fn is None:
        _OVERRIDES.pop(name, None)
    else:
        _OVERRIDES[name] = fn
