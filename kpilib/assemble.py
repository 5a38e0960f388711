"""Assembly of one unit-period report document.

The report notebook (``notebooks/report.ipynb``) stays thin: it calls
:func:`check_parameters` and :func:`build_document`, writes ``report.json`` with
:func:`write_report_json` and displays the HTML blocks of :mod:`kpilib.report`. Everything a
reviewer sees is computed here, from the data bundle, the catalogue, the complaint engine and
the saved validation results, into one typed :class:`~kpilib.document.ReportDocument`, so the
same content can be produced outside a notebook (tests, other tools).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpilib import __version__, by_unit, complaints
from kpilib import calendar as cal
from kpilib.catalog import Catalog, Unit, load_catalog
from kpilib.certify import blocking_in_period
from kpilib.datasets import Bundle, load_bundle
from kpilib.document import (
    Audit,
    AuditRow,
    ChartData,
    FindingEntry,
    KpiChange,
    KpiHistory,
    LabelCount,
    MonthCount,
    MonthFigures,
    Period,
    ProjectProgress,
    Provenance,
    QuarterFigure,
    Rank,
    ReportDocument,
    RowSample,
    Scorecard,
    UnitValue,
    ValidationSummary,
    WebForm,
)
from kpilib.errors import ParameterError
from kpilib.forms.models import UnitForms
from kpilib.forms.reader import read_unit_forms
from kpilib.fsio import atomic_write_text
from kpilib.memo import memoized
from kpilib.numbers import round_half_up
from kpilib.paths import outputs_dir, safe_component, sample_data_dir
from kpilib.provenance import git_commit
from kpilib.scoring import unit_scorecard
from kpilib.signoff import build_fingerprint, signoff_state
from kpilib.validation import (
    Finding,
    ValidationReport,
    load_validation_report,
    run_validation,
)
from kpilib.webform import FormEntry, web_form

LANGS = ("th", "en")
NUMERALS = ("arabic", "thai")
AUDIT_ROWS = 10
"""Non-compliant tickets listed in a district report (the full list is in the audit CSV)."""

SAMPLE_MARKER = "_injected_defects.json"
"""A file in ``raw/`` that only the sample-data generator writes: the data is synthetic."""

RULES_TH = {
    "accept_late": "ขั้นตอนที่ 1: ตอบรับเรื่องเกิน 1 วันทำการ",
    "accept_missing": "ขั้นตอนที่ 1: ไม่มีการตอบรับเรื่อง",
    "first_progress_late": "ขั้นตอนที่ 1: รายงานความก้าวหน้าครั้งที่ 1 เกิน 3 วันทำการ",
    "first_progress_missing": "ขั้นตอนที่ 1: ไม่มีรายงานความก้าวหน้าครั้งที่ 1",
    "checkpoint_missed": "ขั้นตอนที่ 2: ไม่ได้ติดตามความคืบหน้าตามรอบวันที่ 15/30",
}


@dataclass(frozen=True)
class ReportParameters:
    """The report notebook's parameters, checked.

    Attributes:
        unit: Unit code (district geocode or office code), path-safe.
        fy: Fiscal year, Buddhist Era.
        quarter: 1–4.
        data_dir: The data folder (raw/ and processed/), resolved to an absolute path.
            (The CLI refuses ``..`` in path options before they reach here; a notebook
            run from ``notebooks/`` legitimately uses ``../data/sample``.)
        validation_json: Saved validation results, or None to use/run the default.
        as_of: The as-of date (default: the quarter's last day).
        lang: ``th`` or ``en``.
        result_json: Where to write ``report.json``, or None.
        numerals: ``arabic`` (default) or ``thai`` digits in the report.
        month: Calendar month 1–12 of a monthly progress report (``quarter`` is then the
            month's quarter); ``None``: a quarterly report.
    """

    unit: str
    fy: int
    quarter: int
    data_dir: Path
    validation_json: Path | None
    as_of: dt.date
    lang: str
    result_json: Path | None
    numerals: str = "arabic"
    month: int | None = None


def check_parameters(
    *,
    unit: str,
    fy: int | str,
    quarter: int | str,
    data_dir: str | Path = "",
    validation_json: str | Path = "",
    as_of: str = "",
    lang: str = "th",
    result_json: str | Path = "",
    numerals: str = "arabic",
    month: int | str | None = "",
) -> ReportParameters:
    """Check the report parameters before anything reads a file.

    With a ``month`` (calendar month 1–12 or a Thai month name, see
    :func:`kpilib.calendar.require_month`) the report is the month's progress report and
    ``quarter`` is the month's quarter (the value given is not used).

    Raises:
        ParameterError: A bad unit code, CE year, quarter, month, language, numeral style,
            date or path.
    """
    safe_component(str(unit), what="unit code")
    year = cal.require_be_year(fy)
    m = None if month in ("", None, 0, "0") else cal.require_month(month)  # type: ignore[arg-type]
    if m is not None:
        q = cal.quarter_of(cal.month_bounds(year, m)[0])
        start, end = cal.month_bounds(year, m)
        what = f"FY {year} month {m}"
    else:
        q = cal.require_quarter(quarter)
        start, end = cal.quarter_bounds(year, q)
        what = f"FY {year} Q{q}"
    if lang not in LANGS:
        raise ParameterError(f"lang must be 'th' or 'en', got {lang!r}")
    if numerals not in NUMERALS:
        raise ParameterError(f"numerals must be 'arabic' or 'thai', got {numerals!r}")
    if as_of:
        day = cal.parse_thai_date(str(as_of), assume_era="be")
        if not start <= day <= end:
            raise ParameterError(
                f"as_of {day.isoformat()} is outside {what} "
                f"({start.isoformat()}..{end.isoformat()})"
            )
    else:
        day = end

    def _path(value: str | Path, name: str) -> Path | None:
        if value in ("", None):
            return None
        text = str(value)
        if "\x00" in text:
            raise ParameterError(f"{name} {text!r}: NUL characters are not allowed")
        return Path(text).resolve()

    data = _path(data_dir, "data_dir") or sample_data_dir()
    if not data.is_dir():
        raise ParameterError(f"data_dir {str(data_dir)!r} is not a folder")
    return ReportParameters(
        unit=str(unit),
        fy=year,
        quarter=q,
        data_dir=data,
        validation_json=_path(validation_json, "validation_json"),
        as_of=day,
        lang=lang,
        result_json=_path(result_json, "result_json"),
        numerals=numerals,
        month=m,
    )


# --------------------------------------------------------------------------- parts


def _validation(params: ReportParameters) -> tuple[ValidationReport, Path]:
    """The saved validation results to use, running validation once if there are none."""
    if params.validation_json is not None:
        return load_validation_report(params.validation_json), params.validation_json
    default = outputs_dir() / str(params.fy) / "validation" / "validation.json"
    if default.is_file():
        return load_validation_report(default), default
    return run_validation(params.data_dir, fy=params.fy, out_dir=default.parent), default


def _relative_source(path: Path) -> str:
    """A validation-results path as a reader may see it (no server paths)."""
    for base in (outputs_dir(),):
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return f"{path.parent.name}/{path.name}"


def finding_entry(f: Finding) -> FindingEntry:
    """A validation finding as the report document holds it."""
    rows = tuple(
        RowSample(
            source_row=int(r["source_row"]),
            value=None if r.get("value") is None else str(r["value"]),
            reason=None if r.get("reason") is None else str(r["reason"]),
        )
        for r in f.rows
        if "source_row" in r
    )
    return FindingEntry(
        check=f.check,
        table=f.table,
        severity=f.severity,
        column=f.column,
        count=f.count,
        message=f.message,
        source_file=f.source_file,
        rows=rows,
    )


def validation_summary(findings: list[Finding], source: str) -> ValidationSummary:
    """The unit's findings, blocking first."""
    entries = sorted(
        (finding_entry(f) for f in findings),
        key=lambda e: (e.severity != "blocking", e.table, e.check),
    )
    return ValidationSummary(
        validated=True,
        source=source,
        blocking=sum(e.severity == "blocking" for e in entries),
        warnings=sum(e.severity != "blocking" for e in entries),
        findings=tuple(entries),
    )


def history(scorecards: list[Scorecard]) -> tuple[KpiHistory, ...]:
    """Each KPI's figures per quarter, from the scorecards of quarters 1 … n."""
    if not scorecards:
        return ()
    out = []
    for r in scorecards[-1].results:
        figures = []
        for sc in scorecards:
            q = sc.result(r.kpi.id)
            figures.append(
                QuarterFigure(
                    quarter=sc.quarter,
                    value=q.value,
                    result=q.formula.result,
                    plan=q.plan_value,
                    level=q.level,
                    points=q.points,
                )
            )
        out.append(KpiHistory(kpi=r.kpi.id, quarters=tuple(figures)))
    return tuple(out)


def form_entries(forms: UnitForms | None, kpi_id: str) -> dict[int, FormEntry]:
    """The web form's people's entries of one KPI, per quarter, from the unit's workbooks."""
    if forms is None:
        return {}
    return {
        e.quarter: FormEntry(
            reported_result=e.reported_result,
            self_assessment=e.self_assessment,
            reviewer_assessment=e.assessment,
            audited_score=e.audit_score,
            narrative=e.narrative,
        )
        for e in forms.entries_of(kpi_id)
    }


def web_forms(scorecards: list[Scorecard], forms: UnitForms | None = None) -> tuple[WebForm, ...]:
    """Each KPI's web form from the scorecards of quarters 1 … n and the people's entries."""
    if not scorecards:
        return ()
    out = []
    for r in scorecards[-1].results:
        results = {sc.quarter: sc.result(r.kpi.id) for sc in scorecards}
        out.append(web_form(r.kpi, results, form_entries(forms, r.kpi.id)))
    return tuple(out)


def peer_percents(
    bundle: Bundle, *, catalog: Catalog, fy: int, quarter: int, kind: str
) -> dict[str, float | None]:
    """Every unit of ``kind``'s total percent for one quarter.

    Computed once per data bundle and quarter (a batch's worker process reuses it for every
    report it renders: about 0.1 s for the 50 districts once the measures' tables are
    indexed, see ``docs/benchmarks.md``).
    """
    return memoized(
        bundle,
        ("assemble.peers", id(catalog), fy, quarter, kind),
        lambda: {
            u.code: unit_scorecard(u.code, fy, quarter, bundle=bundle, catalog=catalog).percent
            for u in catalog.units
            if u.kind == kind and catalog.kpis_for_unit(u.code, fy)
        },
    )


def rank(scorecard: Scorecard, percents: dict[str, float | None]) -> Rank:
    """The unit's position on total percent among ``percents`` (ties share a position)."""
    unit = scorecard.unit
    mine = scorecard.percent
    counted = [p for p in percents.values() if p is not None]
    position = None if mine is None else 1 + sum(p > mine + 1e-9 for p in counted)
    return Rank(kind=unit.kind, position=position, of=len(counted), percent=mine)


def _result(sc: Scorecard | None, kpi_id: str) -> float | None:
    if sc is None:
        return None
    try:
        r = sc.result(kpi_id)
    except KeyError:
        return None
    v = r.result_value
    return None if v is None else round_half_up(v, 2)


def changes(
    scorecards: list[Scorecard], *, previous_year: Scorecard | None, year_ago: Scorecard | None
) -> tuple[KpiChange, ...]:
    """Each KPI's result beside the previous quarter's and the same quarter last year's.

    Args:
        scorecards: This fiscal year's scorecards, quarters 1 … n.
        previous_year: Quarter 4 of the previous fiscal year (the previous quarter of a Q1).
        year_ago: Quarter n of the previous fiscal year.
    """
    if not scorecards:
        return ()
    current = scorecards[-1]
    q, fy = current.quarter, current.fiscal_year
    if q > 1:
        prev, prev_label = scorecards[-2], f"ไตรมาสที่ {q - 1}"
    else:
        prev, prev_label = previous_year, f"ไตรมาสที่ 4 ปี {fy - 1}"
    return tuple(
        KpiChange(
            kpi=r.kpi.id,
            current=_result(current, r.kpi.id),
            previous_label_th=prev_label,
            previous=_result(prev, r.kpi.id),
            year_ago_label_th=f"ไตรมาสที่ {q} ปี {fy - 1}",
            year_ago=_result(year_ago, r.kpi.id),
        )
        for r in current.results
    )


def _earlier(unit: str, fy: int, quarter: int, bundle: Bundle, cat: Catalog) -> Scorecard | None:
    """A scorecard of an earlier fiscal year, or ``None`` when that year has no plan."""
    if not cat.kpis_for_unit(unit, fy):
        return None
    return unit_scorecard(unit, fy, quarter, bundle=bundle, catalog=cat)


def project_progress(
    bundle: Bundle,
    unit: Unit,
    kpi_id: str,
    fy: int,
    last_report: int,
    forms: UnitForms | None = None,
) -> ProjectProgress | None:
    """A project's monthly progress reports 1 … ``last_report`` from the complaint data: each
    month's complaints received from its first day to the unit's report date (else the month's
    end), and how many were finished by then (seed 001's figures). ``None`` without tickets."""
    if not bundle.has_table("tickets"):
        return None
    tickets = unit_tickets(bundle, unit.code)
    declared = forms.project(kpi_id) if forms is not None else None
    months = []
    for no, (y, m) in enumerate(cal.fiscal_months(fy)[:last_report], start=1):
        rep = declared.report(no) if declared is not None else None
        month_end = cal.last_day_of_month(y, m)
        as_of = rep.reported_on if rep is not None and rep.reported_on else month_end
        as_of = min(max(as_of, dt.date(y, m, 1)), month_end)
        months.append(month_figures(tickets, unit, fy, m, as_of))
    return ProjectProgress(kpi=kpi_id, months=tuple(months))


def month_figures(
    tickets: pd.DataFrame | complaints.TicketArrays,
    unit: Unit,
    fy: int,
    month: int,
    as_of: dt.date,
) -> MonthFigures:
    """One month's complaints of the unit (received from the month's first day to ``as_of``)
    and how many of them were finished, in progress, as of ``as_of``."""
    y, m = cal.fiscal_month(fy, month)
    arr = complaints.TicketArrays.coerce(tickets)
    fig = arr.unit_month(f"{y:04d}-{m:02d}", as_of, unit.code)
    return MonthFigures(
        report_no=cal.fiscal_month_number(m),
        year=y,
        month=m,
        as_of=as_of,
        received=fig.received,
        finished=fig.finished,
        in_progress=fig.in_progress,
        state_basis=fig.state_basis,
    )


def unit_rows(bundle: Bundle, table: str, unit_code: str | None) -> pd.DataFrame:
    """A table's rows of one unit (:func:`kpilib.by_unit.unit_rows`; ``None``: every row)."""
    if unit_code is None:
        return bundle.table(table)
    return by_unit.unit_rows(bundle, table, unit_code)


def unit_tickets(bundle: Bundle, unit_code: str | None) -> complaints.TicketArrays:
    """A unit's tickets (every ticket: ``None``) decoded for the complaint figures, once per
    bundle: a report's project form counts up to twelve months and its trend chart the same
    months again, and each count would otherwise decode the unit's rows anew."""
    return memoized(
        bundle,
        ("assemble.unit_tickets", unit_code),
        lambda: complaints.TicketArrays.of(unit_rows(bundle, "tickets", unit_code)),
    )


def district_ranking(
    bundle: Bundle, *, catalog: Catalog, fy: int, quarter: int
) -> tuple[UnitValue, ...]:
    """Every district's Traffy resolution in the quarter, ranked (once per bundle and quarter:
    the same chart data in every report of the quarter)."""

    def compute() -> tuple[UnitValue, ...]:
        names = {u.code: u.name_th for u in catalog.units}
        frame = complaints.traffy_ranking(
            bundle.table("tickets"), fy=fy, quarter=quarter, units=catalog.district_codes()
        )
        return tuple(
            UnitValue(
                unit_code=str(code),
                name_th=names.get(str(code), str(code)),
                value=None if pd.isna(v) else float(v),
            )
            for code, v in zip(frame["unit_code"], frame["resolved_pct"], strict=True)
        )

    key = ("assemble.ranking", fy, quarter, tuple(catalog.district_codes()))
    return memoized(bundle, key, compute)


def _type_tags(bundle: Bundle) -> complaints.TypeTags:
    """Every ticket's complaint types, read once per bundle."""
    return memoized(
        bundle, ("assemble.type_tags",), lambda: complaints.TypeTags.of(bundle.table("tickets"))
    )


def prime(data_dir: str | Path, *, fy: int, quarters: Sequence[int], units: Sequence[str]) -> None:
    """Compute in this process, before its first report, what the reports of ``units`` in
    ``quarters`` share: the bundle's tables, the complaint engine's per-unit tables, every
    unit's scorecard of each quarter (the ranks), the district ranking, the complaint types,
    the tables split by unit. A batch worker calls it while the run's validation goes on
    (nothing here reads validation results); its reports then find it all computed.

    Raises:
        KpilibError: Unknown unit or unreadable data (the reports would say the same).
    """
    cat = load_catalog()
    bundle = load_bundle(data_dir)
    kinds = sorted({cat.unit(u).kind for u in units})
    for q in quarters:
        for kind in kinds:
            peer_percents(bundle, catalog=cat, fy=fy, quarter=q, kind=kind)
        if bundle.has_table("tickets"):
            district_ranking(bundle, catalog=cat, fy=fy, quarter=q)
    for table in ("tickets", "events"):
        if bundle.has_table(table) and units:
            unit_rows(bundle, table, units[0])  # splits the table by unit
    if bundle.has_table("tickets"):
        _type_tags(bundle)


def chart_data(
    bundle: Bundle, unit: Unit, scorecard: Scorecard, *, catalog: Catalog, as_of: dt.date
) -> ChartData | None:
    """The complaint charts' data (``None`` without tickets)."""
    if not bundle.has_table("tickets"):
        return None
    fy, quarter = scorecard.fiscal_year, scorecard.quarter
    district = unit.kind == "district"
    scope = unit.code if district else None
    monthly: tuple[MonthCount, ...] = ()
    if district:
        trend = complaints.monthly_trend(
            unit_tickets(bundle, unit.code), unit.code, fy, as_of=as_of
        )
        if not trend.empty:
            ym = trend["month"].str.split("-", expand=True).astype(int)
            monthly = tuple(
                MonthCount(year=int(y), month=int(m), received=int(r), finished=int(f))
                for y, m, r, f in zip(
                    ym[0], ym[1], trend["received"], trend["finished"], strict=True
                )
            )
    ranked = [r for r in scorecard.results if "district_ranking" in r.kpi.charts]
    ranking: tuple[UnitValue, ...] = ()
    if ranked:
        ranking = district_ranking(bundle, catalog=catalog, fy=fy, quarter=quarter)
    ranking_target = ranked[0].kpi.target.value if ranked else None
    fy_start, _ = cal.fiscal_year_bounds(fy)
    tags = _type_tags(bundle)
    by_type = tags.counts(unit_code=scope, start=fy_start, end=as_of)
    n_tickets = tags.tickets(unit_code=scope, start=fy_start, end=as_of)
    ageing = complaints.backlog_ageing(unit_tickets(bundle, scope), as_of=as_of)
    return ChartData(
        scope_th=unit.name_th if district else "50 สำนักงานเขต",
        monthly=monthly,
        ranking=ranking,
        ranking_target=ranking_target,
        by_type=tuple(
            LabelCount(label=str(t), count=int(n))
            for t, n in zip(by_type["type_tag"], by_type["received"], strict=True)
        ),
        by_type_tickets=n_tickets,
        ageing=tuple(
            LabelCount(label=str(b), count=int(n))
            for b, n in zip(ageing["bucket"], ageing["open"], strict=True)
        ),
    )


def audit_frame(bundle: Bundle, unit: Unit, *, fy: int, as_of: dt.date) -> pd.DataFrame:
    """Non-compliant tickets of a district (steps 1 and 2), one row per failed rule, in the
    audit's order (earliest due first); the citizen's comments: :func:`_comments`."""
    if unit.kind != "district" or not bundle.has_table("events"):
        return pd.DataFrame()
    events = unit_rows(bundle, "events", unit.code)
    tickets = unit_rows(bundle, "tickets", unit.code) if bundle.has_table("tickets") else None
    res = complaints.evaluate_compliance(events, tickets=tickets, fy=fy, as_of=as_of)
    reasons = complaints.noncompliance_reasons(res)
    if reasons.empty:
        return reasons
    return reasons.sort_values(["due", "ticket_id"], ignore_index=True)


def _comments(bundle: Bundle, unit: Unit, ticket_ids: Iterable[str]) -> dict[str, str]:
    """The citizen's comment on each of ``ticket_ids`` (of the unit's tickets; "" if none)."""
    if not bundle.has_table("tickets"):
        return {}
    tickets = unit_rows(bundle, "tickets", unit.code)
    if "comment" not in tickets:
        return {}
    rows = tickets[tickets["ticket_id"].isin(list(ticket_ids))]
    return {
        str(t): "" if c is None or pd.isna(c) else str(c)
        for t, c in zip(rows["ticket_id"], rows["comment"], strict=True)
    }


def _day(value: object) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()  # type: ignore[arg-type]


def audit(
    bundle: Bundle, unit: Unit, *, fy: int, as_of: dt.date, rows: int = AUDIT_ROWS
) -> Audit | None:
    """The audit sample of a district report (``None`` for other units)."""
    if unit.kind != "district":
        return None
    frame = audit_frame(bundle, unit, fy=fy, as_of=as_of)
    if frame.empty:
        return Audit(as_of=as_of, tickets=0)
    head = frame.head(rows)
    comments = _comments(bundle, unit, head["ticket_id"])
    sample = []
    for rec in head.itertuples(index=False):
        late = rec.late_business_days
        sample.append(
            AuditRow(
                ticket_id=str(rec.ticket_id),
                step=int(rec.step),
                rule=str(rec.rule),
                rule_th=RULES_TH.get(str(rec.rule), str(rec.rule)),
                due=_day(rec.due),
                actual=_day(rec.actual),
                late_business_days=None if pd.isna(late) else int(late),
                comment=comments.get(str(rec.ticket_id), ""),
            )
        )
    return Audit(as_of=as_of, tickets=int(frame["ticket_id"].nunique()), rows=tuple(sample))


def provenance(params: ReportParameters, bundle: Bundle) -> Provenance:
    """Inputs (by file name), code version and time; never an absolute server path."""
    label = params.data_dir.name
    period = f"--quarter {params.quarter}" if params.month is None else f"--month {params.month}"
    command = f"kpi report --unit {params.unit} --fy {params.fy} {period} --data {label}"
    return Provenance(
        kpilib_version=__version__,
        git_commit=git_commit(),
        generated_at=dt.datetime.now(cal.BANGKOK).replace(microsecond=0),
        inputs=bundle.input_hashes(),
        data_label=label,
        sample_data=(params.data_dir / "raw" / SAMPLE_MARKER).is_file(),
        command=command,
    )


# --------------------------------------------------------------------------- the document


def build_document(params: ReportParameters) -> ReportDocument:
    """Assemble one unit-quarter report document.

    Args:
        params: Checked parameters (:func:`check_parameters`).

    Raises:
        KpilibError: Unknown unit, unreadable data or validation results.
    """
    if params.month is not None:
        return build_monthly_document(params)
    cat = load_catalog()
    unit = cat.unit(params.unit)
    bundle = load_bundle(params.data_dir)
    validation, source = _validation(params)
    findings = validation.for_unit(unit.code)
    scorecards = []
    for q in range(1, params.quarter + 1):
        as_of = params.as_of if q == params.quarter else cal.quarter_bounds(params.fy, q)[1]
        touching = blocking_in_period(findings, bundle, fy=params.fy, quarter=q, as_of=as_of)
        blocked = {t: b.reasons_th for t, b in touching.items()}
        scorecards.append(
            unit_scorecard(
                unit.code, params.fy, q, bundle=bundle, catalog=cat, blocked_tables=blocked
            )
        )
    scorecard = scorecards[-1]
    fy_start, _ = cal.fiscal_year_bounds(params.fy)
    prov = provenance(params, bundle)
    forms = read_unit_forms(params.data_dir, unit.code, params.fy, params.quarter, catalog=cat)
    fingerprint = build_fingerprint(scorecard, prov.inputs, forms)
    last_year = params.fy - 1
    percents = peer_percents(
        bundle, catalog=cat, fy=params.fy, quarter=params.quarter, kind=unit.kind
    )
    return ReportDocument(
        lang=params.lang,  # type: ignore[arg-type]
        numerals=params.numerals,  # type: ignore[arg-type]
        period=Period(
            fiscal_year=params.fy,
            quarter=params.quarter,
            start=fy_start,
            end=cal.quarter_bounds(params.fy, params.quarter)[1],
            as_of=params.as_of,
        ),
        scorecard=scorecard,
        history=history(scorecards),
        web_forms=web_forms(scorecards, forms),
        projects=tuple(
            p
            for r in scorecard.results
            if r.kpi.indicator_type == "project"
            and (
                p := project_progress(bundle, unit, r.kpi.id, params.fy, 3 * params.quarter, forms)
            )
            is not None
        ),
        validation=validation_summary(findings, _relative_source(source)),
        charts=chart_data(bundle, unit, scorecard, catalog=cat, as_of=params.as_of),
        audit=audit(bundle, unit, fy=params.fy, as_of=params.as_of),
        provenance=prov,
        forms=forms,
        signoff=signoff_state(params.data_dir, fingerprint),
        rank=rank(scorecard, percents),
        changes=changes(
            scorecards,
            previous_year=_earlier(unit.code, last_year, 4, bundle, cat),
            year_ago=_earlier(unit.code, last_year, params.quarter, bundle, cat),
        ),
    )


def write_report_json(doc: ReportDocument, path: Path | None) -> Path | None:
    """Write ``report.json`` (atomically; nothing when ``path`` is None)."""
    if path is None:
        return None
    return atomic_write_text(path, doc.model_dump_json(indent=1) + "\n")


# --------------------------------------------------------------------------- monthly


def project_kpis(cat: Catalog, unit: str, fy: int) -> list[str]:
    """Ids of the unit's project KPIs in ``fy`` (those with a monthly progress form)."""
    return [k.id for k in cat.kpis_for_unit(unit, fy) if k.indicator_type == "project"]


def _forms_up_to(forms: UnitForms, report_no: int) -> UnitForms:
    """The unit's forms without the project reports of months after ``report_no``."""
    projects = tuple(
        p.model_copy(update={"reports": tuple(r for r in p.reports if r.report_no <= report_no)})
        for p in forms.projects
    )
    return forms.model_copy(update={"projects": projects})


def build_monthly_document(params: ReportParameters) -> ReportDocument:
    """Assemble one unit's monthly progress report (seed 001's project progress form).

    The document holds the unit's project KPIs only: each project's progress reports 1 … n
    (n = the month's number in the fiscal year) computed from the complaint data as of each
    report's date, beside what the unit declared; the month's complaint figures as of
    ``params.as_of`` (the month's end by default); the validation findings. The scorecard is
    the month's quarter's, restricted to the project KPIs: it carries their certification
    (blocking findings in the rows counted up to ``as_of``); the monthly report does not
    score.

    Raises:
        ParameterError: The unit has no project KPI in the fiscal year.
        KpilibError: Unknown unit, unreadable data or validation results.
    """
    if params.month is None:
        raise ParameterError("build_monthly_document needs a month")
    cat = load_catalog()
    unit = cat.unit(params.unit)
    kpis = project_kpis(cat, unit.code, params.fy)
    if not kpis:
        raise ParameterError(
            f"unit {unit.code} has no project KPI in FY {params.fy}: monthly progress "
            "reports are for project KPIs (the project progress form)"
        )
    bundle = load_bundle(params.data_dir)
    validation, source = _validation(params)
    findings = validation.for_unit(unit.code)
    q = params.quarter
    touching = blocking_in_period(findings, bundle, fy=params.fy, quarter=q, as_of=params.as_of)
    full = unit_scorecard(
        unit.code,
        params.fy,
        q,
        bundle=bundle,
        catalog=cat,
        blocked_tables={t: b.reasons_th for t, b in touching.items()},
    )
    scorecard = full.model_copy(
        update={"results": tuple(r for r in full.results if r.kpi.id in kpis)}
    )
    report_no = cal.fiscal_month_number(params.month)
    forms = _forms_up_to(
        read_unit_forms(params.data_dir, unit.code, params.fy, q, catalog=cat), report_no
    )
    projects = tuple(
        p
        for kpi in kpis
        if (p := project_progress(bundle, unit, kpi, params.fy, report_no, forms)) is not None
    )
    figures = None
    if bundle.has_table("tickets"):
        tickets = unit_tickets(bundle, unit.code)
        figures = month_figures(tickets, unit, params.fy, params.month, params.as_of)
    fy_start, _ = cal.fiscal_year_bounds(params.fy)
    return ReportDocument(
        lang=params.lang,  # type: ignore[arg-type]
        numerals=params.numerals,  # type: ignore[arg-type]
        period=Period(
            fiscal_year=params.fy,
            quarter=q,
            month=params.month,
            start=fy_start,
            end=cal.month_bounds(params.fy, params.month)[1],
            as_of=params.as_of,
        ),
        scorecard=scorecard,
        projects=projects,
        month_figures=figures,
        validation=validation_summary(findings, _relative_source(source)),
        provenance=provenance(params, bundle),
        forms=forms,
    )
