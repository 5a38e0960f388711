"""The plan of one ``kpi run``: every parameter checked before anything runs or is written."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpilib.calendar import month_bounds, quarter_of, require_month, require_supported_fy
from kpilib.errors import DependencyMissing, KpilibError, ParameterError
from kpilib.paths import (
    check_path_option,
    input_folder,
    output_folder,
    outputs_dir,
    params_dir,
    report_notebook,
    safe_component,
    sample_data_dir,
)

ENGINES = ("inprocess", "kernel")

#: ``--scheduler local``: a Dask ``LocalCluster`` of ``--jobs`` worker processes on this machine.
SCHEDULER_LOCAL = "local"
_SCHEDULER_ADDRESS = re.compile(
    r"tcp://(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r":(?P<port>[0-9]{1,5})"
)


@dataclass(frozen=True)
class UnitInfo:
    """A unit to report on: its code, Thai name and kind (``district`` or ``office``)."""

    code: str
    name_th: str
    kind: str = "district"


@dataclass(frozen=True)
class RunPlan:
    """A checked ``kpi run`` (or ``kpi report``) invocation; build it with :func:`plan_run`."""

    fy: int
    quarters: tuple[int, ...]
    units: tuple[UnitInfo, ...]
    data_dir: Path
    out_dir: Path
    jobs: int
    pdf: bool = False
    force: bool = False
    engine: str = "inprocess"
    notebook: Path = field(default_factory=report_notebook)
    params_dir: Path = field(default_factory=params_dir)
    validate: bool = True
    ingest: bool = True
    lang: str = "th"
    cell_timeout: float | None = None
    units_explicit: bool = False
    command: str = "kpi run"
    scheduler: str | None = None
    jobs_explicit: bool = False
    month: int | None = None

    @property
    def monthly(self) -> bool:
        """A run of monthly progress reports (one month; ``quarters`` holds its quarter)."""
        return self.month is not None

    def month_dir(self, month: int) -> Path:
        """``<out>/<FY>/M<mm>`` (calendar month: ``M10`` is October)."""
        return self.out_dir / str(self.fy) / f"M{month:02d}"

    def quarter_dir(self, quarter: int) -> Path:
        """``<out>/<FY>/Q<q>``; in a monthly run the month's folder (:meth:`month_dir`)."""
        if self.month is not None:
            return self.month_dir(self.month)
        return self.out_dir / str(self.fy) / f"Q{quarter}"

    def unit_dir(self, quarter: int, unit: str) -> Path:
        """``<out>/<FY>/Q<q>/<unit>`` (a monthly run: ``<out>/<FY>/M<mm>/<unit>``)."""
        return self.quarter_dir(quarter) / unit

    def fy_dir(self) -> Path:
        """``<out>/<FY>``."""
        return self.out_dir / str(self.fy)

    def validation_dir(self) -> Path:
        """``<out>/<FY>/validation``."""
        return self.fy_dir() / "validation"

    def runs_dir(self) -> Path:
        """``<out>/<FY>/runs``: one record per run."""
        return self.fy_dir() / "runs"


def parse_quarters(value: str | int, *, allow_all: bool = True) -> tuple[int, ...]:
    """``"1"``-``"4"`` (Thai digits too) or, if allowed, ``"all"``.

    Raises:
        ParameterError: Naming the values accepted (``'all'`` only where it is).
    """
    from kpilib.calendar import from_thai_digits

    text = from_thai_digits(str(value)).strip().lower()
    if allow_all and text == "all":
        return (1, 2, 3, 4)
    if text in {"1", "2", "3", "4"}:
        return (int(text),)
    accepted = "1, 2, 3, 4 or 'all'" if allow_all else "1, 2, 3 or 4"
    raise ParameterError(f"invalid --quarter {value!r}: use {accepted}")


def parse_scheduler(value: str) -> str:
    """``local`` or ``tcp://HOST:PORT`` (a Dask scheduler); checks that Dask is installed.

    Raises:
        ParameterError: Naming the forms accepted.
        DependencyMissing: ``distributed`` is not installed (``pip install 'kpilib[dask]'``).
    """
    text = str(value).strip()
    if text.lower() == SCHEDULER_LOCAL:
        text = SCHEDULER_LOCAL
    else:
        match = _SCHEDULER_ADDRESS.fullmatch(text)
        if match is None or not 1 <= int(match["port"]) <= 65535:
            shown = text if len(text) <= 80 else text[:79] + "…"
            raise ParameterError(
                f"invalid --scheduler {shown!r}: use 'local' or a Dask scheduler's address "
                "tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"
            )
    if importlib.util.find_spec("distributed") is None:
        raise DependencyMissing(
            "--scheduler needs Dask distributed: pip install 'kpilib[dask]'; "
            "or run without --scheduler (the local process pool)"
        )
    return text


def load_plan_catalog(params: Path) -> Any:
    """Load the KPI catalogue (a separate function so tests can give a stand-in)."""
    from kpilib.catalog import load_catalog

    return load_catalog(params)


def plan_run(
    *,
    fy: str | int,
    quarter: str | int | None = None,
    units: Sequence[str] | None = None,
    data: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    pdf: bool = False,
    force: bool = False,
    engine: str = "inprocess",
    notebook: str | os.PathLike[str] | None = None,
    validate: bool = True,
    ingest: bool = True,
    catalog: Any = None,
    cell_timeout: float | None = None,
    lang: str = "th",
    command: str = "kpi run",
    month: str | int | None = None,
    scheduler: str | None = None,
) -> RunPlan:
    """Check every parameter and return the plan; nothing is run or written.

    Args:
        fy: Fiscal year in the Buddhist Era, within the business calendar's range.
        quarter: 1-4 or ``"all"`` (``kpi report``: 1-4 only); ``None`` with a month.
        month: A monthly progress-report run: calendar month 1-12 or a Thai month name
            (:func:`kpilib.calendar.require_month`); not together with a quarter. Its units
            (default: every unit with a project KPI in ``fy``) must have a project KPI.
        units: Unit codes; None: every unit the catalogue assigns KPIs to in ``fy``.
        data: Data folder (default ``data/sample``); must be an existing folder.
        out: Output folder (default ``outputs``); must be, or be creatable as, a folder.
        jobs: Worker processes (default: the CPU count); with a ``tcp://`` scheduler, at
            most this many reports in flight (default: every worker thread of the cluster).
        pdf: Also print PDFs with Chromium.
        force: Re-render reports whose fingerprint is unchanged.
        engine: ``inprocess`` (default) or ``kernel`` (one Jupyter kernel per report).
        notebook: The report notebook (default: :func:`kpilib.paths.report_notebook`).
        validate: Run validation once and pass ``validation_json`` to every report.
        ingest: Ingest/load the data bundle first (also what per-report fingerprints need).
        catalog: A catalogue object (default: :func:`kpilib.catalog.load_catalog`).
        cell_timeout: Seconds allowed per notebook cell (None: no limit).
        lang: Report language.
        command: ``kpi run`` or ``kpi report`` (labels progress lines and messages).
        scheduler: Render on Dask: ``local`` (a ``LocalCluster`` of ``jobs`` workers) or
            ``tcp://HOST:PORT``; None: the process pool (see :func:`parse_scheduler`).

    Raises:
        ParameterError: With a one-line message naming the bad value.
    """
    fy_value = require_supported_fy(fy, what="fiscal year (--fy)")
    month_value = None
    if month is not None and quarter is not None:
        raise ParameterError("--month and --quarter cannot be used together: give one of them")
    if month is not None:
        try:
            month_value = require_month(month)
        except ParameterError:
            raise ParameterError(
                f"invalid --month {month!r}: use a calendar month 1-12 (10 = October) "
                "or a Thai month such as ต.ค."
            ) from None
        quarters: tuple[int, ...] = (quarter_of(month_bounds(fy_value, month_value)[0]),)
    else:
        quarters = parse_quarters(
            "1" if quarter is None else quarter, allow_all=command == "kpi run"
        )
    jobs_explicit = jobs is not None
    if jobs is None:
        jobs = os.cpu_count() or 1
    if not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(f"invalid --jobs {jobs!r}: use a whole number of workers >= 1")
    if cell_timeout is not None and not cell_timeout > 0:
        raise ParameterError(
            f"invalid --cell-timeout {cell_timeout!r}: use a number of seconds > 0"
        )
    if engine not in ENGINES:
        raise ParameterError(f"invalid engine {engine!r}: use one of {', '.join(ENGINES)}")
    scheduler_value = parse_scheduler(scheduler) if scheduler is not None else None
    data_value = data if data is not None else sample_data_dir()
    check_path_option(data_value, option="--data")
    out_dir = output_folder(out if out is not None else outputs_dir(), option="--out")
    nb_path = check_path_option(
        notebook if notebook is not None else report_notebook(), option="--notebook"
    )
    codes = list(units or [])
    for code in codes:
        safe_component(code, what="unit code")
    data_dir = input_folder(data_value, option="--data", hint="create it with 'kpi sample-data'")
    if not nb_path.is_file():
        raise ParameterError(f"report notebook not found: {nb_path}")
    params = params_dir()
    cat = catalog if catalog is not None else load_plan_catalog(params)
    if codes:
        infos = [_unit_info(cat, code) for code in sorted(dict.fromkeys(codes))]
    else:
        infos = sorted((_info(u) for u in cat.units_with_kpis(fy_value)), key=lambda u: u.code)
        if not infos:
            raise ParameterError(f"the catalogue assigns no KPIs to any unit in FY {fy_value}")
    if month_value is not None:
        with_projects = [u for u in infos if _has_project(cat, u.code, fy_value)]
        if codes and len(with_projects) < len(infos):
            lacking = ", ".join(u.code for u in infos if u not in with_projects)
            raise ParameterError(
                f"no project KPI for unit {lacking} in FY {fy_value}: monthly progress reports "
                "are for units with a project KPI (the project progress form)"
            )
        if not with_projects:
            raise ParameterError(
                f"the catalogue assigns no project KPI to any unit in FY {fy_value}"
            )
        infos = with_projects
    for info in infos:
        safe_component(info.code, what="unit code")
    return RunPlan(
        fy=fy_value,
        quarters=quarters,
        units=tuple(infos),
        data_dir=data_dir,
        out_dir=out_dir,
        jobs=jobs,
        pdf=pdf,
        force=force,
        engine=engine,
        notebook=nb_path,
        params_dir=params,
        validate=validate,
        ingest=ingest,
        lang=lang,
        cell_timeout=cell_timeout,
        units_explicit=bool(codes),
        command=command,
        month=month_value,
        scheduler=scheduler_value,
        jobs_explicit=jobs_explicit,
    )


def _has_project(cat: Any, code: str, fy: int) -> bool:
    """The unit has a project KPI in ``fy`` (a project progress form, filed monthly)."""
    return any(k.indicator_type == "project" for k in cat.kpis_for_unit(code, fy))


def _info(unit: Any) -> UnitInfo:
    return UnitInfo(str(unit.code), str(unit.name_th or unit.code), str(unit.kind))


def unknown_unit(code: str) -> ParameterError:
    """The error for a unit code the catalogue does not know."""
    return ParameterError(f"unknown unit code {code!r}: not in the catalogue (params/units.yaml)")


def _unit_info(cat: Any, code: str) -> UnitInfo:
    try:
        return _info(cat.unit(code))
    except (KpilibError, LookupError):
        raise unknown_unit(code) from None
