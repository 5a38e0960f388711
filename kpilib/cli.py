"""The ``kpi`` command: one entry point with subcommands.

Every subcommand validates its parameters before touching a path or a notebook. A
:class:`~kpilib.errors.KpilibError` becomes a one-line message on stderr and its exit code;
never a traceback.

Each handler imports its module lazily so that ``kpi --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kpilib import __version__
from kpilib.errors import KpilibError, ParameterError

_EXIT_CODES = """exit codes:
  0    every report rendered or up to date, every KPI certified
  1    at least one report failed (the others are complete), or the output folder is full
  2    bad parameters, unusable input or a Dask cluster that cannot render (nothing rendered)
  3    every report rendered or up to date, but some KPIs are not certified
  130  interrupted by Ctrl-C (SIGINT); 143: stopped by SIGTERM (rerun to finish)"""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpi",
        description=(
            "Reproducible KPI reporting for Bangkok Metropolitan Administration units: "
            "KPI catalogue and scoring, complaint data, validation and per-unit reports."
        ),
        epilog="Run 'kpi COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"kpilib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "catalog",
        help="list the KPI catalogue",
        description="List every KPI of the catalogue in params/ with its target, weight and rubric.",
    )
    p.add_argument("--json", action="store_true", help="print every field, one JSON object per KPI")
    p.add_argument(
        "--fy", help="only KPIs that apply in this fiscal year (Buddhist Era, e.g. 2567)"
    )
    p.set_defaults(handler=_cmd_catalog)

    p = sub.add_parser(
        "score",
        help="score one KPI for a value",
        description="Score one KPI for a value with its rubric and print the result as JSON.",
    )
    p.add_argument("--kpi", required=True, help="KPI id or official code (see 'kpi catalog')")
    p.add_argument("--value", required=True, help="the KPI's value (e.g. 87.5)")
    p.add_argument(
        "--scoring",
        choices=["step", "linear"],
        help="override the KPI's declared scoring mode",
    )
    p.add_argument(
        "--condition",
        action="append",
        default=None,
        metavar="NAME=true|false",
        help="a non-numeric rubric condition (repeatable), e.g. report_to_executives=true",
    )
    p.set_defaults(handler=_cmd_score)

    p = sub.add_parser(
        "calendar",
        help="Thai fiscal calendar look-ups",
        description="Show the fiscal year, quarter and business-day facts for a date.",
    )
    p.add_argument("date", help="a date: ISO (2019-12-06) or Thai (6/12/2562, 6 ธ.ค. 2562)")
    p.add_argument("--add-business-days", type=int, metavar="N", help="also add N business days")
    p.set_defaults(handler=_cmd_calendar)

    p = sub.add_parser(
        "sample-data",
        help="generate the deterministic sample data set",
        description=(
            "Generate a realistic, seeded sample data set for one fiscal year and all 50 "
            "districts (raw CSV inputs under OUT/raw), with a small known rate of injected defects."
        ),
    )
    p.add_argument("--fy", default="2567", help="fiscal year, Buddhist Era (default 2567)")
    p.add_argument("--out", default=None, help="output folder (default data/sample)")
    p.add_argument("--seed", type=int, default=2567, help="random seed (default 2567)")
    p.add_argument("--scale", type=float, default=1.0, help="volume multiplier (default 1.0)")
    p.add_argument(
        "--units",
        type=int,
        default=None,
        metavar="N",
        help="a synthetic organisation of N >= 50 districts (the 50 real ones and synthetic "
        "S0051…) and the offices, for scale tests; writes its definitions to OUT/params (use "
        "them with KPILIB_PARAMS=OUT/params kpi run --data OUT)",
    )
    p.add_argument("--force", action="store_true", help="regenerate even if the folder exists")
    p.set_defaults(handler=_cmd_sample_data)

    p = sub.add_parser(
        "ingest",
        help="turn raw complaint exports into canonical tables",
        description=(
            "Read raw exports (Traffy open-data dump, Traffy API v2, canonical event log, "
            "and the other input tables), write canonical Parquet tables and a quarantine "
            "file for every row not carried over. Raw files are never modified. Exit code 0: "
            "every file ingested; 1: some files of DATA/raw could not be read or recognised "
            "(listed; 'kpi validate' reports them); 2: a named file is unusable."
        ),
    )
    p.add_argument("files", nargs="*", help="raw files to ingest (default: every file in DATA/raw)")
    p.add_argument("--data", default=None, help="data folder (default data/sample)")
    p.add_argument(
        "--source",
        default="auto",
        help="the source of FILES, as declared in params/tables (traffy-dump, traffy-api-v2, "
        "event-log, or a table name; default: recognise each file by its header)",
    )
    p.add_argument("--out", default=None, help="output folder (default DATA/processed)")
    p.set_defaults(handler=_cmd_ingest)

    p = sub.add_parser(
        "figures",
        help="print complaint figures per district",
        description="Print received / finished / in-progress figures per district and month.",
    )
    p.add_argument("--data", default=None, help="data folder (default data/sample)")
    p.add_argument("--unit", action="append", default=None, help="unit code (repeatable)")
    p.add_argument("--fy", default=None, help="fiscal year, Buddhist Era")
    p.set_defaults(handler=_cmd_figures)

    p = sub.add_parser(
        "validate",
        help="run the validation suites on a data folder",
        description=(
            "Run every expectation suite and domain cross-check on a data folder and print a "
            "summary. Exit code 0: clean; 1: blocking findings; 2: unusable input."
        ),
    )
    p.add_argument("--data", default=None, help="data folder (default data/sample)")
    p.add_argument("--fy", default=None, help="fiscal year being reported, Buddhist Era")
    p.add_argument(
        "--out", default=None, help="where to write results (default outputs/validation)"
    )
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser(
        "report",
        help="render one unit's report",
        description=(
            "Execute the report notebook for one unit and quarter (or, with --month, the "
            "unit's monthly project progress report); write HTML (and PDF)."
        ),
    )
    p.add_argument("--unit", required=True, help="unit code (district geocode, e.g. 1032)")
    p.add_argument("--fy", required=True, help="fiscal year, Buddhist Era (e.g. 2567)")
    p.add_argument("--quarter", default=None, help="quarter 1-4 (or give --month)")
    p.add_argument(
        "--month",
        default=None,
        help="a monthly progress report instead: calendar month 1-12 (10 = October, in the "
        "fiscal year's first calendar year) or a Thai month such as ต.ค.",
    )
    p.add_argument("--data", default=None, help="data folder (default data/sample)")
    p.add_argument("--out", default=None, help="output folder (default outputs)")
    p.add_argument("--lang", choices=["th", "en"], default="th", help="report language")
    p.add_argument("--pdf", action="store_true", help="also print a PDF with Chromium")
    p.epilog = _EXIT_CODES
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.set_defaults(handler=_cmd_report)

    p = sub.add_parser(
        "forms",
        help="write the form workbooks units fill in (or check the filled ones)",
        description=(
            "Write one Excel workbook per unit for a quarter: the unit's KPIs with the "
            "computed figures pre-filled and locked, and blank cells for what people enter "
            "(narratives, supporting factors, obstacles, evidence, declared status, the "
            "self-assessment 2.1, the สยป. assessment 2.2 and audited score, the responsible "
            "people). Filled workbooks go back into DATA/forms/FY/Q<q>/<unit>.xlsx, where the "
            "reports read them. With --check, read those filled workbooks and list every "
            "problem (file, sheet, cell). See docs/forms.md."
        ),
        epilog="Example: kpi forms --fy 2567 --quarter 1 --unit 1032",
    )
    p.add_argument("--fy", required=True, help="fiscal year, Buddhist Era (e.g. 2567)")
    p.add_argument("--quarter", required=True, help="quarter 1-4")
    p.add_argument(
        "--unit", action="append", default=None, help="unit code (repeatable; default: every unit)"
    )
    p.add_argument("--data", default=None, help="data folder (default data/sample)")
    p.add_argument("--out", default=None, help="output folder (default outputs/forms)")
    p.add_argument("--force", action="store_true", help="replace workbooks that already exist")
    p.add_argument(
        "--check",
        action="store_true",
        help="check the filled workbooks in DATA/forms/FY/Q<q>/ instead of writing; exit 1 on errors",
    )
    p.set_defaults(handler=_cmd_forms)

    p = sub.add_parser(
        "sign",
        help="sign a unit's quarterly report as it stands (bound to its data)",
        description=(
            "Record that a reviewer signs a unit-quarter report: who, role, when (Bangkok "
            "time) and the report's input fingerprint (SHA-256 of every input file and each "
            "KPI's displayed value). The record is added to DATA/signoffs/FY/Q<q>/<unit>/ and "
            "never rewritten. The report shows 'รับรองโดย … ตำแหน่ง … เมื่อ …' while its "
            "inputs are unchanged, and what changed once they are not."
        ),
        epilog='Example: kpi sign --unit 1032 --fy 2567 --quarter 1 --name "นายสมชาย ใจดี" '
        '--role "ผู้อำนวยการเขตประเวศ"',
    )
    p.add_argument("--unit", required=True, help="unit code (e.g. 1032 or GOVSEC)")
    p.add_argument("--fy", required=True, help="fiscal year, Buddhist Era (e.g. 2567)")
    p.add_argument("--quarter", required=True, help="quarter 1-4")
    p.add_argument(
        "--name", required=True, help="the signer's name (one line, at most 120 characters)"
    )
    p.add_argument(
        "--role",
        required=True,
        help="the signer's position (ตำแหน่ง; one line, at most 200 characters)",
    )
    p.add_argument("--data", default=None, help="data folder (default data/sample)")
    p.set_defaults(handler=_cmd_sign)

    p = sub.add_parser(
        "run",
        help="render every unit's report for a quarter (the scheduled batch)",
        description=(
            "Ingest and validate once, then render the report of every unit the catalogue "
            "assigns KPIs to, in parallel and incrementally, with an index and a summary."
        ),
    )
    p.add_argument("--fy", default="2567", help="fiscal year, Buddhist Era (default 2567)")
    p.add_argument("--quarter", default=None, help="quarter 1-4 or 'all' (default 1)")
    p.add_argument(
        "--month",
        default=None,
        help="monthly progress reports instead, for the units with a project KPI: calendar "
        "month 1-12 or a Thai month such as ต.ค. (not with --quarter)",
    )
    p.add_argument("--unit", action="append", default=None, help="unit code (repeatable)")
    p.add_argument("--data", default=None, help="data folder (default data/sample)")
    p.add_argument("--out", default=None, help="output folder (default outputs)")
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="parallel workers (default: CPU count); with --scheduler local, the local Dask "
        "workers; with tcp://, at most this many reports at a time (default: every worker thread)",
    )
    p.add_argument("--pdf", action="store_true", help="also print PDFs with Chromium")
    p.add_argument("--force", action="store_true", help="re-render even unchanged reports")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="local|tcp://HOST:PORT",
        help="render on Dask distributed (pip install 'kpilib[dask]') instead of the local "
        "process pool: 'local' starts a cluster of --jobs worker processes on this machine; "
        "tcp://HOST:8786 uses a running 'dask scheduler' whose workers ('dask worker "
        "tcp://HOST:8786 --nthreads 1') have kpilib installed and see --data and --out at the "
        "same paths (a shared filesystem; checked before anything renders). A worker that "
        "dies fails only the report it was running (a remote scheduler first re-runs it "
        "elsewhere, as its allowed-failures says). See docs/batch.md",
    )
    # hidden: for comparison, benchmarks and tests
    p.add_argument(
        "--engine", choices=["inprocess", "kernel"], default="inprocess", help=argparse.SUPPRESS
    )
    p.add_argument("--notebook", default=None, help=argparse.SUPPRESS)
    p.add_argument("--no-validate", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-ingest", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--cell-timeout", type=float, default=None, help=argparse.SUPPRESS)
    p.epilog = _EXIT_CODES
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.set_defaults(handler=_cmd_run)
    return parser


def _cmd_catalog(args: argparse.Namespace) -> int:
    import json

    from kpilib import calendar as cal
    from kpilib.catalog import kpi_table_text, load_catalog

    fy = cal.require_be_year(args.fy) if args.fy else None
    cat = load_catalog()
    if args.json:
        kpis = cat.kpis if fy is None else cat.kpis_for_year(fy)
        text = "".join(json.dumps(k.to_dict(), ensure_ascii=False) + "\n" for k in kpis)
    else:
        text = kpi_table_text(cat, fy=fy) + "\n"
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `kpi catalog | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    import json

    from kpilib.catalog import load_catalog
    from kpilib.scoring import parse_conditions, parse_value, score_kpi

    value = parse_value(args.value)
    conditions = parse_conditions(args.condition)
    kpi = load_catalog().kpi(args.kpi)
    result = score_kpi(kpi, value, conditions=conditions, scoring=args.scoring)
    print(
        json.dumps(
            {"code": kpi.code, **result.model_dump(mode="json")}, ensure_ascii=False, indent=2
        )
    )
    return 0


def _cmd_calendar(args: argparse.Namespace) -> int:
    from kpilib import calendar as cal

    day = cal.parse_thai_date(args.date, assume_era="be")
    bc = cal.business_calendar()
    fy, q = cal.fiscal_quarter(day)
    q_start, q_end = cal.quarter_bounds(fy, q)
    holiday = bc.holiday_name(day)
    lines = [
        f"วันที่ (date)            {cal.format_thai_date(day, style='long')}  ({day.isoformat()})",
        f"ปีงบประมาณ (FY)         {fy}  ไตรมาส (quarter) {q}",
        f"ไตรมาส (quarter range)  {cal.format_thai_date(q_start, style='short')} – "
        f"{cal.format_thai_date(q_end, style='short')}",
        f"วันทำการ (business day) {'ใช่ (yes)' if bc.is_business_day(day) else 'ไม่ใช่ (no)'}"
        + (f"  – {holiday}" if holiday else ""),
    ]
    if args.add_business_days is not None:
        if args.add_business_days < 0:
            raise ParameterError("--add-business-days must be >= 0")
        later = bc.add_business_days(day, args.add_business_days)
        lines.append(
            f"+{args.add_business_days} วันทำการ (nth business day from the day after) "
            f"{cal.format_thai_date(later, style='long')}  ({later.isoformat()})"
        )
    print("\n".join(lines))
    return 0


def _cmd_sample_data(args: argparse.Namespace) -> int:
    import time

    from kpilib import paths
    from kpilib.sample import generate

    out = paths.output_folder(args.out or paths.sample_data_dir(), option="--out")
    started = time.perf_counter()
    summary = generate(
        out, fy=args.fy, seed=args.seed, scale=args.scale, force=args.force, units=args.units
    )
    for line in summary.lines():
        print(line)
    if not summary.skipped:
        took = time.perf_counter() - started
        print(f"generated in {took:.1f} s (synthetic data; see {out / 'README.txt'})")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    import time

    from kpilib import paths
    from kpilib.ingest import ingest

    data = paths.input_folder(args.data or paths.sample_data_dir(), option="--data")
    out = paths.output_folder(args.out, option="--out") if args.out else None
    if not args.files and args.source != "auto":
        raise ParameterError("--source needs FILES (a data folder's raw/ mixes schemas)")
    started = time.perf_counter()
    report = ingest(args.files or None, data_dir=data, source=args.source, out_dir=out)
    for line in report.lines():
        print(line)
    print(
        f"ingested in {time.perf_counter() - started:.1f} s; {report.quarantined_total} rows quarantined"
    )
    return 1 if report.not_ingested else 0


def _cmd_figures(args: argparse.Namespace) -> int:
    from kpilib import calendar as cal
    from kpilib import complaints, paths
    from kpilib.batch.plan import unknown_unit
    from kpilib.catalog import load_catalog
    from kpilib.datasets import load_bundle
    from kpilib.numbers import round_half_up

    fy = cal.require_supported_fy(args.fy) if args.fy is not None else None
    data = paths.input_folder(args.data or paths.sample_data_dir(), option="--data")
    cat = load_catalog()
    known = {u.code for u in cat.units}
    for code in args.unit or []:  # refuses paths and markup before they reach anything
        if code not in known:
            raise unknown_unit(code)
        if code not in cat.district_codes():
            raise ParameterError(
                f"unit {code!r} is not a district: complaint figures are per district"
            )
    bundle = load_bundle(data)
    if not bundle.has_table("tickets"):
        raise ParameterError(f"{bundle.path}: no tickets table; run 'kpi ingest' first")
    tickets = bundle.table("tickets")
    if fy is None:
        created = tickets["created_at"].dropna()
        if created.empty:
            raise ParameterError(f"{bundle.path}: the tickets table is empty")
        fy = cal.fiscal_year(created.max().tz_convert(cal.BANGKOK))
    units = [str(u) for u in args.unit] if args.unit else None
    table = complaints.monthly_figures_fy(tickets, fy, units=units)
    if units is None:
        table = table.loc[table["received"] > 0]
    if table.empty:
        print(f"ปีงบประมาณ {fy}: no tickets")
        return 0
    print(f"ปีงบประมาณ {fy}: tickets received per district and month, state as of each month's end")
    header = f"{'unit':<8}{'month':<16}{'received':>9}{'finished':>9}{'in progress':>12}{'% fin.':>8}{'% in pr.':>9}  basis"
    print(header)
    for r in table.sort_values(["unit_code", "month"], kind="stable").itertuples():
        y, m = (int(x) for x in r.month.split("-"))
        fin = round_half_up(r.finished_pct)
        inp = round_half_up(r.in_progress_pct)
        print(
            f"{r.unit_code:<8}{cal.format_thai_month(y, m, long=False):<16}{r.received:>9}"
            f"{r.finished:>9}{r.in_progress:>12}"
            f"{'-' if fin is None else f'{fin:.2f}':>8}{'-' if inp is None else f'{inp:.2f}':>9}"
            f"  {r.state_basis if isinstance(r.state_basis, str) else '-'}"
        )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:

    from kpilib import paths
    from kpilib.calendar import require_supported_fy
    from kpilib.findings_page import write_validation_page
    from kpilib.validation import format_summary, run_validation

    fy = require_supported_fy(args.fy if args.fy is not None else 2567)
    data = paths.input_folder(args.data or paths.sample_data_dir(), option="--data")
    out = paths.output_folder(args.out or paths.outputs_dir() / "validation", option="--out")
    report = run_validation(data, fy=fy, out_dir=out)
    page = write_validation_page(report, out)
    print(format_summary(report))
    for line in report.unusable:
        print(f"kpi validate: unusable input: {line}", file=sys.stderr)
    n_block = sum(1 for f in report.findings if f.severity == "blocking")
    n_warn = len(report.findings) - n_block
    print(f"{n_block} blocking and {n_warn} warning finding(s); results: {out / 'validation.json'}")
    print(f"for people: {page}")
    if report.data_docs:
        print(f"data docs: {report.data_docs}")
    return report.exit_code


def _cmd_report(args: argparse.Namespace) -> int:
    from kpilib import batch

    if args.quarter is None and args.month is None:
        raise ParameterError("give --quarter 1-4 or --month (1-12 or a Thai month such as ต.ค.)")
    plan = batch.plan_run(
        fy=args.fy,
        quarter=args.quarter,
        month=args.month,
        units=[args.unit],
        data=args.data,
        out=args.out,
        jobs=1,
        pdf=args.pdf,
        force=True,
        lang=args.lang,
        command="kpi report",
    )
    result = batch.run_batch(plan)
    unit_dir = plan.unit_dir(plan.quarters[0], plan.units[0].code)
    for row in result.rows.get(plan.quarters[0], []):
        if row.code == plan.units[0].code:
            for ext in ("html", "pdf", "json", "ipynb"):
                if ext in row.links:
                    print(f"kpi report: {ext.upper():5} {unit_dir.parent / row.links[ext]}")
    return result.exit_code


def _unit_codes(values: list[str] | None) -> tuple[str, ...] | None:
    from kpilib.paths import safe_component

    if not values:
        return None
    return tuple(safe_component(str(v), what="unit code") for v in values)


def _cmd_forms(args: argparse.Namespace) -> int:
    from kpilib import calendar as cal
    from kpilib import paths
    from kpilib.catalog import load_catalog

    fy = cal.require_be_year(args.fy)
    quarter = cal.require_quarter(args.quarter)
    units = _unit_codes(args.unit)
    data = paths.check_path_option(args.data or paths.sample_data_dir(), option="--data")
    out = paths.check_path_option(args.out or paths.outputs_dir() / "forms", option="--out")
    cat = load_catalog()
    for code in units or ():
        cat.unit(code)
    if not data.is_dir():
        raise ParameterError(f"--data {str(data)!r} is not a folder")
    if args.check:
        from kpilib.forms.reader import check_forms_folder

        checked, orphans = check_forms_folder(data, fy, quarter, catalog=cat)
        if units:
            checked = [f for f in checked if f.unit in units]
        findings = [f for forms in checked for f in forms.findings] + orphans
        for forms in checked:
            print(
                f"{forms.unit}: {len(forms.entries)} KPI entries, "
                f"{forms.errors} error(s), {forms.warnings} warning(s)"
            )
        for f in findings:
            print(f"{f.severity}: {f.where}: {f.message}")
        if not checked and not orphans:
            print(f"no filled workbook in {data / 'forms' / str(fy) / f'Q{quarter}'}")
        return 1 if any(f.severity == "error" for f in findings) else 0
    from kpilib.forms.workbook import issue_forms

    results = issue_forms(data, out, fy, quarter, units=units, overwrite=args.force, catalog=cat)
    for r in results:
        if r.path is not None:
            print(f"kpi forms: {r.unit}: {r.path}")
        else:
            print(f"kpi forms: {r.unit}: error: {r.error}", file=sys.stderr)
    failed = sum(r.path is None for r in results)
    print(f"{len(results) - failed} workbook(s) written, {failed} failed")
    return 1 if failed else 0


def _cmd_sign(args: argparse.Namespace) -> int:
    from kpilib import calendar as cal
    from kpilib import paths, signoff
    from kpilib.forms import layout

    unit = _unit_codes([args.unit])[0]  # type: ignore[index]
    fy = cal.require_be_year(args.fy)
    quarter = cal.require_quarter(args.quarter)
    name = signoff.check_signer(args.name, what="--name", limit=layout.NAME_TEXT)
    role = signoff.check_signer(args.role, what="--role", limit=layout.POSITION_TEXT)
    data = paths.check_path_option(args.data or paths.sample_data_dir(), option="--data")
    if not data.is_dir():
        raise ParameterError(f"--data {str(data)!r} is not a folder")
    record, path = signoff.sign(data, unit, fy, quarter, name=name, role=role)
    fp = record.fingerprint
    print(
        f"kpi sign: {unit} FY {fy} Q{quarter} signed by {record.name} ({record.role}) "
        f"at {record.signed_at.isoformat()}"
    )
    print(f"fingerprint {fp.digest} over {len(fp.inputs)} input file(s) and {len(fp.kpis)} KPI(s)")
    print(f"record: {path}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from kpilib import batch

    plan = batch.plan_run(
        fy=args.fy,
        quarter=args.quarter,
        month=args.month,
        units=args.unit,
        data=args.data,
        out=args.out,
        jobs=args.jobs,
        pdf=args.pdf,
        force=args.force,
        engine=args.engine,
        notebook=args.notebook,
        validate=not args.no_validate,
        ingest=not args.no_ingest,
        cell_timeout=args.cell_timeout,
        scheduler=args.scheduler,
    )
    return batch.run_batch(plan).exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kpi`` command line and return its exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from kpilib.imports import defer_iri_syntax

    defer_iri_syntax()  # nbformat, papermill and GX import jsonschema: 2-3 s saved
    try:
        return int(args.handler(args) or 0)
    except KpilibError as exc:
        print(f"kpi {args.command}: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # kpi run/report say what is left and use 128 + signal
        code = getattr(exc, "exit_code", 130)
        if code == 130 and not hasattr(exc, "signum"):
            print(f"kpi {args.command}: interrupted", file=sys.stderr)
        return code
    except BrokenPipeError:  # e.g. `kpi catalog | head`: the reader left, nothing to report
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
