"""Filled-in forms for the sample data set (called by ``kpi sample-data``).

Written under ``<data>/forms/<FY>/`` with the same writer ``kpi forms`` uses, then, for one
unit, edited the way a careless person would, so the report shows each kind of form:

- Prawet (1032) and the Governor's Secretary (GOVSEC): quarters 1 and 2 filled in by the unit
  and assessed by สยป. in quarter 1, with evidence (some documents present in the data folder)
  and, for Prawet, the project form's monthly reports (counts taken from the sample's raw
  complaint file, like seed 001's);
- Phra Nakhon (1001): quarter 1 filled in by the unit, not yet assessed by สยป.;
- Thon Buri (1015): quarter 1, one KPI's narrative only;
- Bang Rak (1004): quarter 1 with mistakes (a score of 120, a pre-filled figure overwritten,
  a date that is not a date) and a second copy under another name: findings in its report;
- every other unit: no form ("ยังไม่รายงาน").

The pre-filled figure columns stay empty: the generator writes raw data and does not compute
KPIs (``kpi forms`` pre-fills them from the data). Names are invented. Everything is drawn
from ``random.Random(seed)``, so the same seed gives the same entries.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

from kpilib import calendar as cal
from kpilib.catalog import Catalog, Kpi, load_catalog
from kpilib.forms import layout as L
from kpilib.forms.models import Evidence, KpiEntry, MonthlyReport, Person, Project, UnitForms
from kpilib.forms.workbook import blank_template, monthly_numbers, write_workbook
from kpilib.numbers import round_half_up

FULL = ("1032", "GOVSEC")
UNIT_ONLY = "1001"
PARTIAL = "1015"
FAULTY = "1004"
REPORTED_RESULTS = ("district_best_service",)
"""KPIs whose result the unit types (the sample's manual_results value); the others' results
are computed from the data."""

_FIRST = ("สมชาย", "สมหญิง", "วิมลรัตน์", "ประเสริฐ", "กาญจนา", "ธนพล", "พรทิพย์", "อนุชา", "ศิริพร", "วีระ")
_LAST = ("ใจดี", "รักษ์ไทย", "ศรีสุข", "บุญมา", "ทองคำ", "แสงทอง", "มั่นคง", "วงศ์ใหญ่", "สุขสวัสดิ์", "พูลผล")
_NARRATIVES: dict[str, str] = {
    "district_best_service": "โครงการ{name}: จัดประชุมคณะทำงานและติดตามการให้บริการตามแผน "
    "ความก้าวหน้าสะสมร้อยละ {result} ของแผนทั้งปี",
    "district_traffy_joint": "รับเรื่องร้องเรียนผ่านแพลตฟอร์ม Traffy Fondue และส่งต่อฝ่ายที่รับผิดชอบ "
    "ติดตามเรื่องค้างทุกสัปดาห์ในการประชุมผู้บริหารเขต",
    "district_complaint_project_3453": "ติดตามความคืบหน้าเรื่องที่ได้รับแจ้งทุกวันที่ 15 และ 30 "
    "ของเดือน และรายงานสรุปประจำเดือนต่อผู้อำนวยการเขตภายในวันที่ 10 ของเดือนถัดไป",
}
_FACTORS = (
    "ผู้บริหารให้ความสำคัญและติดตามผลอย่างต่อเนื่อง",
    "เจ้าหน้าที่มีประสบการณ์และประสานงานกับฝ่ายต่าง ๆ ได้ดี",
    "ระบบสารสนเทศช่วยให้ติดตามเรื่องได้สะดวก",
)
_OBSTACLES = (
    "เรื่องบางประเภทต้องประสานหน่วยงานภายนอก ใช้เวลานาน",
    "บุคลากรไม่เพียงพอในช่วงเทศกาล",
    None,
)
_SUGGESTIONS = ("ควรเพิ่มการอบรมการใช้ระบบให้เจ้าหน้าที่ใหม่", None)


def _name(rng: random.Random, title: str) -> str:
    return f"{title}{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _monthly_counts(data_dir: Path, fy: int) -> dict[str, dict[tuple[int, int], tuple]]:
    """Per district (Thai name without "เขต") and month: tickets received and, of those,
    finished by the report date (the 28th), from the sample's raw Traffy file."""
    import pyarrow.csv as pacsv

    path = data_dir / "raw" / "traffy_api_v2.csv"
    if not path.is_file():
        return {}
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            include_columns=["district", "timestamp", "timestamp_finished"],
            column_types={"timestamp": "string", "timestamp_finished": "string"},
        ),
    ).to_pandas()
    table["month"] = table["timestamp"].str.slice(0, 7)
    table["finished_on"] = table["timestamp_finished"].fillna("").str.slice(0, 10)
    out: dict[str, dict[tuple[int, int], tuple]] = {}
    for year, month in cal.fiscal_months(fy):
        report_day = dt.date(year, month, 28)
        got = table.loc[table["month"] == f"{year:04d}-{month:02d}"]
        done = (got["finished_on"] != "") & (got["finished_on"] <= report_day.isoformat())
        frame = got.assign(done=done).groupby("district")["done"].agg(["size", "sum"])
        for district, (n, d) in frame.iterrows():
            out.setdefault(str(district), {})[(year, month)] = (int(n), int(d), report_day)
    return out


def _evidence(
    kpi: Kpi, unit: str, fy: int, q: int, rng: random.Random, folder: Path
) -> tuple[Evidence, ...]:
    out = []
    _, q_end = cal.quarter_bounds(fy, q)
    for i, item in enumerate(kpi.evidence_th, start=1):
        present = rng.random() < 0.6
        name = f"{unit}_{kpi.code or kpi.id}_Q{q}_{i}.{'txt' if present else 'pdf'}"
        if present:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(
                f"SYNTHETIC SAMPLE EVIDENCE - เอกสารหลักฐานตัวอย่าง (สังเคราะห์)\n{item}\n",
                encoding="utf-8",
            )
        out.append(
            Evidence(
                kpi=kpi.id,
                required_th=item,
                file_name=name,
                submitted_on=q_end + dt.timedelta(days=rng.randint(3, 12)),
            )
        )
    return tuple(out)


def _entry(
    kpi: Kpi,
    unit: str,
    fy: int,
    q: int,
    rng: random.Random,
    *,
    assessed: bool,
    manual: dict[tuple[str, str, int], float],
    counts: dict[tuple[int, int], tuple],
    evidence_dir: Path | None,
    coordinator: Person,
) -> KpiEntry:
    result = manual.get((unit, kpi.id, q)) if kpi.id in REPORTED_RESULTS else None
    text = _NARRATIVES.get(kpi.id, "ดำเนินการตาม{name} ตามแผนปฏิบัติราชการของไตรมาสที่ {q}")
    if kpi.id == "district_complaints_3_1" and counts:
        months = cal.quarter_months(fy, q)
        parts = [
            f"{i}.เดือน{cal.format_thai_month(y, m)} จำนวน {counts[(y, m)][0]:,} เรื่อง"
            for i, (y, m) in enumerate(months, start=1)
        ]
        text = f"ดำเนินการแก้ไขเรื่องร้องเรียนประจำไตรมาสที่ {q} " + " ".join(parts)
    narrative = text.format(
        name=kpi.short_name_th or kpi.name_th,
        q=q,
        result="-" if result is None else f"{result:g}",
    )
    self_score = rng.choice((100.0, 100.0, 90.0, 80.0))
    return KpiEntry(
        unit=unit,
        kpi=kpi.id,
        kpi_code=kpi.code,
        fiscal_year=fy,
        quarter=q,
        reported_result=result,
        narrative=narrative,
        factors=rng.choice(_FACTORS),
        obstacles=rng.choice(_OBSTACLES),
        suggestions=rng.choice(_SUGGESTIONS),
        declared_on_plan=True,
        declared_on_target=rng.random() < 0.8,
        self_assessment=self_score,
        assessment=min(self_score, rng.choice((100.0, 90.0, 80.0))) if assessed else None,
        audit_score=self_score if assessed else None,
        audit_comment="ผลการดำเนินงานสอดคล้องกับหลักฐานที่ส่ง" if assessed else None,
        responsible=Person(
            name=_name(rng, rng.choice(("นาย", "นาง", "นางสาว"))),
            position=rng.choice(("นักจัดการงานทั่วไปชำนาญการ", "เจ้าพนักงานธุรการ", "หัวหน้าฝ่ายปกครอง")),
            phone=f"02-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        ),
        coordinator=coordinator if assessed else Person(),
        evidence=() if evidence_dir is None else _evidence(kpi, unit, fy, q, rng, evidence_dir),
    )


def _project(
    kpi: Kpi, fy: int, quarters: int, counts: dict[tuple[int, int], tuple], unit_name: str
) -> Project:
    reports = []
    for q in range(1, quarters + 1):
        for no, year, month in monthly_numbers(fy, q):
            received, done, day = counts.get((year, month), (0, 0, dt.date(year, month, 28)))
            reports.append(
                MonthlyReport(
                    kpi=kpi.id,
                    report_no=no,
                    year=year,
                    month=month,
                    reported_on=day,
                    period_start=dt.date(year, month, 1),
                    period_end=day,
                    received=received,
                    finished=done,
                    in_progress=received - done,
                    progress_pct=round_half_up(done * 100 / received) if received else None,
                    budget_spent=0,
                    declared_on_plan=True,
                    declared_on_target=True,
                    text="อยู่ระหว่างขั้นตอนติดตามเรื่องร้องทุกข์ของเดือน",
                )
            )
    start, end = cal.fiscal_year_bounds(fy)
    return Project(
        kpi=kpi.id,
        code=kpi.code,
        name_th=kpi.name_th,
        fiscal_year=fy,
        start=start,
        end=end,
        budget_received=0,
        budget_used=0,
        responsible_unit=f"{unit_name} / ฝ่ายปกครอง",
        responsible=Person(name="นางสาววิมลรัตน์ ศรีสุข", phone="6358"),
        coordinator=Person(name="นายประเสริฐ ทองคำ", phone="1549"),
        reports=tuple(reports),
    )


def _manual_results(data_dir: Path) -> dict[tuple[str, str, int], float]:
    import pandas as pd

    path = data_dir / "raw" / "manual_results.csv"
    if not path.is_file():
        return {}
    frame = pd.read_csv(path, dtype={"unit_code": str, "kpi_id": str})
    return {
        (str(r.unit_code), str(r.kpi_id), int(r.quarter)): float(r.value)
        for r in frame.itertuples(index=False)
    }


def _unit_forms(
    cat: Catalog,
    data_dir: Path,
    unit: str,
    fy: int,
    q: int,
    rng: random.Random,
    *,
    kpis: tuple[Kpi, ...],
    assessed: bool,
    with_evidence: bool,
    manual: dict[tuple[str, str, int], float],
    counts_by_district: dict[str, dict[tuple[int, int], tuple]],
) -> UnitForms:
    u = cat.unit(unit)
    counts = (
        counts_by_district.get(u.name_th.removeprefix("เขต"), {}) if u.kind == "district" else {}
    )
    coordinator = Person(name="นายประเสริฐ ทองคำ", position="นักวิเคราะห์นโยบายและแผน", phone="1549")
    ev_dir = L.evidence_folder(data_dir, fy, q, unit) if with_evidence else None
    entries = tuple(
        _entry(
            k,
            unit,
            fy,
            q,
            rng,
            assessed=assessed,
            manual=manual,
            counts=counts,
            evidence_dir=ev_dir,
            coordinator=coordinator,
        )
        for k in kpis
    )
    projects = tuple(
        _project(k, fy, q, counts, u.name_th)
        for k in kpis
        if k.indicator_type == "project" and counts
    )
    _, q_end = cal.quarter_bounds(fy, q)
    head_title = (
        "ผู้อำนวยการเขต" + u.name_th.removeprefix("เขต")
        if u.kind == "district"
        else ("เลขานุการผู้ว่าราชการกรุงเทพมหานคร")
    )
    return UnitForms(
        unit=unit,
        fiscal_year=fy,
        quarter=q,
        entries=entries,
        projects=projects,
        reporter=Person(
            name=_name(rng, "นางสาว"), position="นักวิเคราะห์นโยบายและแผนปฏิบัติการ", phone="1234"
        ),
        head=Person(name=_name(rng, "นาย"), position=head_title),
        reported_on=q_end + dt.timedelta(days=10),
    )


def _spoil(path: Path) -> None:
    """Edit a written workbook the way a careless person would (for the findings)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb[L.KPIS.name]
    cols = {ws.cell(row=L.HEADER_ROW, column=c).value: c for c in range(1, ws.max_column + 1)}
    row = L.FIRST_DATA_ROW
    ws.cell(row=row, column=cols[L.KPIS.column("self_assessment").header_th], value=120)
    ws.cell(row=row, column=cols[L.KPIS.column("computed").header_th], value=100)
    ws.cell(row=row + 1, column=cols[L.KPIS.column("narrative").header_th], value="ดำเนินการแล้ว")
    ws = wb[L.EVIDENCE.name]
    ws.cell(row=L.FIRST_DATA_ROW, column=3, value="สรุปผล.pdf")
    ws.cell(row=L.FIRST_DATA_ROW, column=4, value="ภายในเดือนมกราคม")
    wb.save(path)


def write_sample_forms(
    data_dir: str | Path,
    *,
    fy: int,
    seed: int,
    replace: bool = False,
    catalog: Catalog | None = None,
) -> list[Path]:
    """Write the sample data set's filled-in forms under ``<data>/forms/<FY>/``.

    Args:
        data_dir: The sample data folder (its ``raw/`` is read for plausible counts).
        fy: Fiscal year (Buddhist Era).
        seed: Random seed.
        replace: Replace existing sample forms; otherwise an existing ``forms/<FY>`` folder
            is left as it is.
        catalog: The catalogue (default: :func:`~kpilib.catalog.load_catalog`).

    Returns:
        The files written (none when the forms were already there).
    """
    data = Path(data_dir)
    root = data / L.FORMS_DIR / str(fy)
    if root.exists():
        if not replace:
            return []
        shutil.rmtree(root)
    cat = catalog or load_catalog()
    if fy not in cat.plans:
        return []
    rng = random.Random(seed)
    manual = _manual_results(data)
    counts = _monthly_counts(data, fy)
    issued = dt.datetime.combine(cal.quarter_bounds(fy, 1)[1], dt.time(9), tzinfo=cal.BANGKOK)
    written: list[Path] = []

    def write(unit: str, q: int, forms: UnitForms | None) -> Path:
        template = blank_template(cat, unit, fy, q, issued_at=issued)
        path = L.quarter_folder(data / L.FORMS_DIR, fy, q) / L.workbook_name(unit)
        written.append(write_workbook(template, path, fill=forms, overwrite=True))
        return path

    for unit in FULL:
        kpis = cat.kpis_for_unit(unit, fy)
        for q, assessed in ((1, True), (2, False)):
            forms = _unit_forms(
                cat,
                data,
                unit,
                fy,
                q,
                rng,
                kpis=kpis,
                assessed=assessed,
                with_evidence=True,
                manual=manual,
                counts_by_district=counts,
            )
            write(unit, q, forms)
    kpis = cat.kpis_for_unit(UNIT_ONLY, fy)
    write(
        UNIT_ONLY,
        1,
        _unit_forms(
            cat,
            data,
            UNIT_ONLY,
            fy,
            1,
            rng,
            kpis=kpis,
            assessed=False,
            with_evidence=False,
            manual=manual,
            counts_by_district=counts,
        ),
    )
    best = cat.kpi("district_best_service")
    partial = _unit_forms(
        cat,
        data,
        PARTIAL,
        fy,
        1,
        rng,
        kpis=(best,),
        assessed=False,
        with_evidence=False,
        manual=manual,
        counts_by_district=counts,
    )
    only_text = tuple(
        KpiEntry(
            unit=e.unit,
            kpi=e.kpi,
            kpi_code=e.kpi_code,
            fiscal_year=fy,
            quarter=1,
            narrative=e.narrative,
        )
        for e in partial.entries
    )
    write(PARTIAL, 1, partial.model_copy(update={"entries": only_text, "projects": ()}))
    faulty = _unit_forms(
        cat,
        data,
        FAULTY,
        fy,
        1,
        rng,
        kpis=cat.kpis_for_unit(FAULTY, fy),
        assessed=False,
        with_evidence=False,
        manual=manual,
        counts_by_district=counts,
    )
    path = write(FAULTY, 1, faulty.model_copy(update={"projects": ()}))
    _spoil(path)
    copy = path.with_name(f"{FAULTY} (1).xlsx")
    shutil.copyfile(path, copy)
    written.append(copy)
    return written
