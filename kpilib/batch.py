"""``kpi run``: render every unit's report for a fiscal year, in parallel and incrementally.

The scheduled job after a quarter closes. One call:

1. checks every parameter (:func:`plan_run`) before anything runs;
2. hashes the inputs (raw data files, ``params/``, the report notebook, kpilib's source) and
   skips every report whose hash is unchanged (:func:`report_hash`; ``--force`` re-renders);
3. for the reports left: ingests/loads the data bundle and runs validation once in this
   process (validation is cached by input hash), then executes the report notebook per
   unit × quarter through Papermill in a pool of worker processes. Each worker imports
   kpilib/pandas/matplotlib once and runs notebooks with the in-process engine
   (:mod:`kpilib.engine`), so no report pays a kernel start;
4. writes per quarter ``index.html`` (sortable, escaped), ``summary.csv``, ``summary.xlsx``
   and ``manifest.json``.

Layout::

    <out>/<FY>/validation/validation.json        (+ Data Docs; shared by every report)
    <out>/<FY>/Q<q>/<unit>/report.ipynb|html|pdf|json
    <out>/<FY>/Q<q>/<unit>/.report.state.json    hash, status, timings of the last render
    <out>/<FY>/Q<q>/index.html, summary.csv, summary.xlsx, manifest.json

Every file is written to a temporary file in the same folder and moved into place with
:func:`os.replace`, so a crash or Ctrl-C never leaves a half-written report at its final
path. The state file is removed before a report is re-rendered and written last, so an
interrupted run is picked up by the next one. A failing unit is marked failed (its executed
notebook, with the traceback, is kept) and the others complete; the exit code is then 1.

Heavy modules (pandas, papermill, IPython, great_expectations) are imported only when some
report has to be rendered: a rerun with nothing changed only hashes files.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpilib import __version__
from kpilib.document import ReportDocument, read_report_json
from kpilib.errors import DependencyMissing, KpilibError, ParameterError
from kpilib.fsio import (
    TMP_PREFIX,
    atomic_write_bytes,
    atomic_write_text,
    remove_tmp_files,
    sha256_file,
)
from kpilib.paths import (
    notebooks_dir,
    outputs_dir,
    package_dir,
    params_dir,
    safe_component,
    sample_data_dir,
)
from kpilib.provenance import git_commit

STATE_FILE = ".report.state.json"
VALIDATION_HASH_FILE = ".validation.hash"
ENGINES = ("inprocess", "kernel")

# Imported once per worker before the first report (missing modules are skipped).
WARM_MODULES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "matplotlib.pyplot",
    "nbformat",
    "nbconvert",
    "papermill",
    "kpilib.calendar",
    "kpilib.catalog",
    "kpilib.formulas",
    "kpilib.measures",
    "kpilib.rubric",
    "kpilib.scoring",
    "kpilib.complaints",
    "kpilib.datasets",
    "kpilib.validation",
    "kpilib.charts",
    "kpilib.render",
)

# Thai headers of summary.csv / summary.xlsx (and of the index table).
H_CODE = "รหัสหน่วยงาน"
H_NAME = "หน่วยงาน"
H_FY = "ปีงบประมาณ"
H_QUARTER = "ไตรมาส"
H_POINTS = "คะแนนรวม"
H_WEIGHT = "น้ำหนักรวม"
H_PERCENT = "ร้อยละของคะแนนเต็ม"
H_VALIDATION = "ผลการตรวจสอบข้อมูล"
H_STATUS = "สถานะรายงาน"
H_LEVEL = "ระดับ"

STATUS_TH = {
    "ok": "สำเร็จ",
    "up to date": "สำเร็จ (ไม่เปลี่ยนแปลง)",
    "failed": "ล้มเหลว",
    "missing": "ยังไม่ได้จัดทำ",
}


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class UnitInfo:
    """A unit to report on: its code and Thai name."""

    code: str
    name_th: str


@dataclass(frozen=True)
class RunPlan:
    """A checked ``kpi run`` invocation (build it with :func:`plan_run`)."""

    fy: int
    quarters: tuple[int, ...]
    units: tuple[UnitInfo, ...]
    data_dir: Path
    out_dir: Path
    jobs: int
    pdf: bool = False
    force: bool = False
    engine: str = "inprocess"
    notebook: Path = field(default_factory=lambda: notebooks_dir() / "report.ipynb")
    params_dir: Path = field(default_factory=params_dir)
    validate: bool = True
    ingest: bool = True
    lang: str = "th"
    cell_timeout: float | None = None
    units_explicit: bool = False

    def quarter_dir(self, quarter: int) -> Path:
        """``<out>/<FY>/Q<q>``."""
        return self.out_dir / str(self.fy) / f"Q{quarter}"

    def unit_dir(self, quarter: int, unit: str) -> Path:
        """``<out>/<FY>/Q<q>/<unit>``."""
        return self.quarter_dir(quarter) / unit

    def validation_dir(self) -> Path:
        """``<out>/<FY>/validation``."""
        return self.out_dir / str(self.fy) / "validation"


def check_path_value(value: str | os.PathLike[str], *, option: str) -> Path:
    """Refuse a path option with ``..`` components or NUL characters.

    Args:
        value: The path as given on the command line.
        option: The option name for the message (e.g. ``--data``).

    Returns:
        The path, absolute.

    Raises:
        ParameterError: If the value is empty, contains NUL or a ``..`` component.
    """
    text = os.fspath(value)
    if not text or "\x00" in text:
        raise ParameterError(f"invalid {option} {text!r}: empty or contains a NUL character")
    parts = text.replace("\\", "/").split("/")
    if ".." in parts:
        raise ParameterError(
            f"invalid {option} {text!r}: '..' path components are not allowed; "
            "give the folder directly"
        )
    return Path(text).absolute()


def _parse_quarters(value: str | int) -> tuple[int, ...]:
    text = str(value).strip().lower()
    if text == "all":
        return (1, 2, 3, 4)
    if text in {"1", "2", "3", "4"}:
        return (int(text),)
    raise ParameterError(f"invalid --quarter {value!r}: use 1, 2, 3, 4 or 'all'")


def _load_catalog(params: Path) -> Any:
    """Load the KPI catalogue (a separate function so tests can replace it)."""
    from kpilib.catalog import load_catalog

    return load_catalog(params)


def plan_run(
    *,
    fy: str | int,
    quarter: str | int = "1",
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
) -> RunPlan:
    """Check every ``kpi run`` parameter and return the plan; nothing is run or written.

    Args:
        fy: Fiscal year in the Buddhist Era (a CE year such as 2024 is refused).
        quarter: 1-4 or ``"all"``.
        units: Unit codes; None: every unit the catalogue assigns KPIs to in ``fy``.
        data: Data folder (default ``data/sample``).
        out: Output folder (default ``outputs``).
        jobs: Worker processes (default: the CPU count).
        pdf: Also print PDFs with Chromium.
        force: Re-render reports whose hash is unchanged.
        engine: ``inprocess`` (default) or ``kernel`` (one Jupyter kernel per report).
        notebook: The report notebook (default ``notebooks/report.ipynb``).
        validate: Run validation once and pass ``validation_json`` to every report.
        ingest: Load the data bundle once first (ingesting ``raw/`` if stale).
        catalog: A catalogue object (default: :func:`kpilib.catalog.load_catalog`).
        cell_timeout: Seconds allowed per notebook cell (None: no limit).

    Returns:
        The checked plan.

    Raises:
        ParameterError: With a one-line message naming the bad value.
    """
    from kpilib.calendar import require_be_year

    fy_value = require_be_year(fy, what="fiscal year (--fy)")
    quarters = _parse_quarters(quarter)
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
    data_dir = check_path_value(data if data is not None else sample_data_dir(), option="--data")
    out_dir = check_path_value(out if out is not None else outputs_dir(), option="--out")
    nb_path = check_path_value(
        notebook if notebook is not None else notebooks_dir() / "report.ipynb",
        option="--notebook",
    )
    codes = list(units or [])
    for code in codes:
        safe_component(code, what="unit code")
    if not data_dir.is_dir():
        raise ParameterError(
            f"data folder not found: {data_dir} (create it with 'kpi sample-data')"
        )
    if not nb_path.is_file():
        raise ParameterError(f"report notebook not found: {nb_path}")
    params = params_dir()
    cat = catalog if catalog is not None else _load_catalog(params)
    if codes:
        infos = []
        for code in sorted(dict.fromkeys(codes)):
            try:
                unit = cat.unit(code)
            except (KpilibError, LookupError, ValueError):
                unit = None
            if unit is None:
                raise ParameterError(
                    f"unknown unit code {code!r}: not in the catalogue (params/units.yaml)"
                )
            infos.append(UnitInfo(code, str(getattr(unit, "name_th", "") or code)))
    else:
        infos = [
            UnitInfo(str(u.code), str(getattr(u, "name_th", "") or u.code))
            for u in cat.units_with_kpis(fy_value)
        ]
        infos.sort(key=lambda u: u.code)
        if not infos:
            raise ParameterError(f"the catalogue assigns no KPIs to any unit in FY {fy_value}")
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
        cell_timeout=cell_timeout,
        units_explicit=bool(codes),
    )


# --------------------------------------------------------------------------- hashing


def _hash_tree(root: Path, *, skip: Callable[[Path], bool] | None = None) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative POSIX path -> hex digest)."""
    if root.is_file():
        return {root.name: sha256_file(root)}
    if not root.is_dir():
        return {}
    result: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or name.endswith((".pyc", ".tmp")):
                continue
            if skip is not None and skip(path):
                continue
            result[path.relative_to(root).as_posix()] = sha256_file(path)
    return result


def input_files_root(data_dir: Path) -> Path:
    """The folder whose files identify a data set: ``raw/`` if present, else ``processed/``."""
    raw = data_dir / "raw"
    if raw.is_dir():
        return raw
    processed = data_dir / "processed"
    return processed if processed.is_dir() else data_dir


@dataclass(frozen=True)
class InputHashes:
    """Content hashes of everything a report depends on (apart from its own parameters)."""

    inputs: dict[str, str]
    params: dict[str, str]
    notebook: str
    source: dict[str, str]

    def digest(self) -> str:
        """One hash of all of it."""
        blob = json.dumps(
            {
                "inputs": self.inputs,
                "params": self.params,
                "notebook": self.notebook,
                "source": self.source,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def hash_inputs(plan: RunPlan) -> InputHashes:
    """Hash the data files, ``params/``, the notebook and kpilib's source files."""
    return InputHashes(
        inputs=_hash_tree(input_files_root(plan.data_dir)),
        params=_hash_tree(plan.params_dir),
        notebook=sha256_file(plan.notebook),
        source=_hash_tree(package_dir()),
    )


def report_parameters(plan: RunPlan, unit: str, quarter: int) -> dict[str, Any]:
    """The notebook parameters of one report (``validation_json``/``result_json`` added later)."""
    return {
        "unit": unit,
        "fy": plan.fy,
        "quarter": quarter,
        "data_dir": str(plan.data_dir),
        "as_of": "",
        "lang": plan.lang,
    }


def report_hash(common: str, params: dict[str, Any], *, validate: bool) -> str:
    """The content hash of one report: shared input hash + its own parameters."""
    blob = json.dumps(
        {"common": common, "params": params, "validate": validate}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- atomic files


def _tmp_path(final: Path) -> Path:
    return final.with_name(f"{TMP_PREFIX}{final.stem}.{os.getpid()}{final.suffix}")


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _clean_tmp(folder: Path) -> None:
    """Remove temporary files left by an interrupted render."""
    remove_tmp_files(folder)


def read_state(unit_dir: Path) -> dict[str, Any] | None:
    """The state file of a unit folder (None if absent or unreadable)."""
    try:
        with open(unit_dir / STATE_FILE, encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def is_up_to_date(unit_dir: Path, digest: str, *, pdf: bool) -> bool:
    """True if the last render of this folder succeeded with the same hash and files exist."""
    state = read_state(unit_dir)
    if not state or state.get("status") != "ok" or state.get("hash") != digest:
        return False
    needed = list(state.get("outputs") or ["report.ipynb", "report.html"])
    if pdf:
        needed.append("report.pdf")
    return all((unit_dir / name).is_file() for name in needed)


# --------------------------------------------------------------------------- one report


@dataclass
class Task:
    """One report to render (sent to a worker process)."""

    unit: str
    quarter: int
    unit_dir: str
    notebook: str
    parameters: dict[str, Any]
    digest: str
    engine: str
    pdf: bool
    cell_timeout: float | None = None


_WORKER: dict[str, Any] = {}


def _worker_init(engine: str, env: dict[str, str]) -> None:
    """Pool initializer: ignore Ctrl-C (the parent handles it), import everything once."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(env)
    _WORKER["warm_up"] = _warm_up(engine)
    _WORKER["first"] = True


def _warm_up(engine: str) -> dict[str, float]:
    """Register the engine and import everything once; seconds per step."""
    t0 = time.perf_counter()
    from kpilib import engine as inprocess

    inprocess.register()  # imports papermill (and nbformat, jsonschema: about 2 s)
    timings = {"papermill": time.perf_counter() - t0}
    if engine == "inprocess":
        timings.update(inprocess.warm_up(WARM_MODULES))
    return timings


@contextlib.contextmanager
def _quiet_nbconvert() -> Iterator[None]:
    """nbconvert logs a warning per image without alt text: 200 reports would flood cron."""
    logger = logging.getLogger("traitlets")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _notebook_to_html(nb: Any, path: Path) -> None:
    try:
        from kpilib.render import notebook_to_html
    except ModuleNotFoundError as exc:  # render.py not present: plain nbconvert, no input
        if exc.name != "kpilib.render":
            raise
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter(exclude_input=True).from_notebook_node(nb)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(body)
        return
    notebook_to_html(nb, path)


def _html_to_pdf(html: Path, pdf: Path) -> None:
    from kpilib.render import html_to_pdf

    html_to_pdf(html, pdf)


def _peak_rss_kb() -> int:
    """This process's peak resident memory in KiB.

    Linux's ``ru_maxrss`` survives ``exec``: a spawned worker would report its parent's peak
    (e.g. great_expectations in the parent). ``VmHWM`` is the process's own high-water mark.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _one_line(text: str, *, limit: int = 500) -> str:
    """An error message on one line (ANSI colours removed), at most ``limit`` characters."""
    import re

    flat = " ".join(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_report(task: Task) -> dict[str, Any]:
    """Execute one report notebook and export it; never raises for a notebook failure.

    Returns:
        ``unit``, ``quarter``, ``status`` (``ok``/``failed``), ``error``, ``timings`` (seconds
        per step), ``outputs``, ``pid``, ``maxrss_kb`` and, for a worker's first report, its
        ``warm_up`` timings.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    unit_dir = Path(task.unit_dir)
    unit_dir.mkdir(parents=True, exist_ok=True)
    _clean_tmp(unit_dir)
    _unlink(unit_dir / STATE_FILE)  # from here on the folder is "not rendered" until done
    timings: dict[str, float] = {}
    final = {ext: unit_dir / f"report.{ext}" for ext in ("ipynb", "html", "pdf", "json")}
    tmp = {ext: _tmp_path(path) for ext, path in final.items()}
    params = dict(task.parameters, result_json=str(tmp["json"]))
    engine_name = "kpilib-inprocess" if task.engine == "inprocess" else None
    error: str | None = None
    outputs: list[str] = []
    nb = None
    t0 = time.perf_counter()
    try:
        nb = papermill.execute_notebook(
            task.notebook,
            str(tmp["ipynb"]),
            parameters=params,
            engine_name=engine_name,
            progress_bar=False,
            request_save_on_cell_execute=False,
            cwd=str(Path(task.notebook).parent),
            execution_timeout=task.cell_timeout,
        )
    except PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}".strip()
    except Exception as exc:  # papermill could not even start the notebook
        error = f"{type(exc).__name__}: {exc}"
    timings["execute"] = time.perf_counter() - t0
    try:
        if tmp["ipynb"].exists():
            os.replace(tmp["ipynb"], final["ipynb"])
            outputs.append("report.ipynb")
        if error is None:
            t1 = time.perf_counter()
            if tmp["json"].exists():
                os.replace(tmp["json"], final["json"])
                outputs.append("report.json")
            else:
                _unlink(final["json"])
            with _quiet_nbconvert():
                _notebook_to_html(nb, tmp["html"])
            os.replace(tmp["html"], final["html"])
            outputs.append("report.html")
            timings["html"] = time.perf_counter() - t1
            if task.pdf:
                t2 = time.perf_counter()
                _html_to_pdf(final["html"], tmp["pdf"])
                os.replace(tmp["pdf"], final["pdf"])
                outputs.append("report.pdf")
                timings["pdf"] = time.perf_counter() - t2
    except KpilibError as exc:
        error = f"{type(exc).__name__}: {exc.one_line()}"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        for path in tmp.values():
            _unlink(path)
    if error is not None:
        error = _one_line(error)
        # a failed report keeps only its executed notebook (with the traceback)
        for ext in ("html", "pdf", "json"):
            _unlink(final[ext])
        outputs = [o for o in outputs if o == "report.ipynb"]
    status = "ok" if error is None else "failed"
    timings["total"] = time.perf_counter() - t0
    state = {
        "status": status,
        "hash": task.digest if status == "ok" else None,
        "unit": task.unit,
        "quarter": task.quarter,
        "error": error,
        "outputs": outputs,
        "timings": timings,
        "engine": task.engine,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    atomic_write_text(unit_dir / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1))
    result = dict(state, pid=os.getpid())
    result["maxrss_kb"] = _peak_rss_kb()
    if _WORKER.pop("first", False):
        result["warm_up"] = _WORKER.get("warm_up", {})
    return result


# --------------------------------------------------------------------------- the run


@dataclass
class BatchResult:
    """What a run did."""

    reports: list[dict[str, Any]]
    timings: dict[str, float]
    index_paths: list[Path]
    manifest_paths: list[Path]

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Reports that failed."""
        return [r for r in self.reports if r["status"] == "failed"]

    @property
    def exit_code(self) -> int:
        """0 if every report is rendered or up to date, else 1."""
        return 1 if self.failed else 0


class _Progress:
    """A tqdm bar on a terminal, plain log lines otherwise (cron)."""

    def __init__(self, total: int, *, stream: Any) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.bar = None
        if total and hasattr(stream, "isatty") and stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="report", file=stream)

    def log(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def update(self, result: dict[str, Any]) -> None:
        self.done += 1
        label = f"{result['unit']} Q{result['quarter']}"
        seconds = result.get("timings", {}).get("total", 0.0)
        if self.bar is not None:
            self.bar.set_postfix_str(label)
            self.bar.update(1)
            if result["status"] == "failed":
                self.bar.write(f"FAILED {label}: {result.get('error')}", file=self.stream)
        else:
            line = f"[{self.done}/{self.total}] {label} {result['status']} {seconds:.2f} s"
            if result["status"] == "failed":
                line += f": {result.get('error')}"
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _prepare_data(plan: RunPlan) -> dict[str, Any]:
    """Ingest (if needed) and load the bundle once; returns its input hashes if available."""
    try:
        from kpilib.datasets import load_bundle
    except ModuleNotFoundError as exc:
        if exc.name != "kpilib.datasets":
            raise
        return {}
    bundle = load_bundle(plan.data_dir)
    try:
        return dict(bundle.input_hashes())
    except AttributeError:
        return {}


def _validation(plan: RunPlan, common: InputHashes) -> tuple[str, bool, float]:
    """Run validation once for the FY (cached by input hash); return (json path, cached, s)."""
    vdir = plan.validation_dir()
    key = hashlib.sha256(
        json.dumps(
            {
                "inputs": common.inputs,
                "params": common.params,
                "source": common.source,
                "fy": plan.fy,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    vjson = vdir / "validation.json"
    key_file = vdir / VALIDATION_HASH_FILE
    try:
        cached = vjson.is_file() and key_file.read_text(encoding="utf-8").strip() == key
    except OSError:
        cached = False
    if cached:
        return str(vjson), True, 0.0
    t0 = time.perf_counter()
    from kpilib.validation import run_validation

    vdir.mkdir(parents=True, exist_ok=True)
    run_validation(plan.data_dir, fy=plan.fy, out_dir=vdir)
    atomic_write_text(key_file, key + "\n")
    return str(vjson), False, time.perf_counter() - t0


def _check_pdf() -> None:
    try:
        from kpilib.render import find_chromium
    except ModuleNotFoundError as exc:
        raise DependencyMissing(
            "--pdf needs kpilib.render, which is not available in this build"
        ) from exc
    if not find_chromium():
        raise DependencyMissing(
            "--pdf needs Chromium: install it (Debian: apt-get install chromium) "
            "or run without --pdf"
        )


def _child_env() -> dict[str, str]:
    keys = [k for k in os.environ if k.startswith("KPILIB_")]
    env = {k: os.environ[k] for k in keys}
    # one BLAS thread per worker: the pool already uses every core
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(key, os.environ.get(key, "1"))
    return env


def _run_serial(
    tasks: list[Task], plan: RunPlan, progress: _Progress, results: list[dict[str, Any]]
) -> dict[str, Any]:
    """Render in this process (``--jobs 1``): no pool start, same isolation of state."""
    t0 = time.perf_counter()
    warm = _warm_up(plan.engine)
    info = {"warm_up": warm, "start": time.perf_counter() - t0}
    for task in tasks:
        result = render_report(task)
        results.append(result)
        progress.update(result)
    return info


def _run_pool(
    tasks: list[Task], plan: RunPlan, progress: _Progress, results: list[dict[str, Any]]
) -> dict[str, Any]:
    """Render in a pool of worker processes (each warmed up once)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    workers = min(plan.jobs, len(tasks))
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(plan.engine, _child_env()),
    )
    futures = {}
    try:
        # longest-first is unknowable; submit in order so Q1 finishes first
        futures = {pool.submit(render_report, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool as exc:
                result = _failed(task, f"worker process died: {exc}")
            except Exception as exc:
                result = _failed(task, f"{type(exc).__name__}: {exc}")
            results.append(result)
            progress.update(result)
    except BaseException:  # Ctrl-C: stop now; finished reports are kept, a rerun resumes
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()
        raise
    pool.shutdown(wait=True)
    return {"workers": workers}


def _failed(task: Task, error: str) -> dict[str, Any]:
    return {
        "status": "failed",
        "hash": None,
        "unit": task.unit,
        "quarter": task.quarter,
        "error": error,
        "outputs": [],
        "timings": {},
        "engine": task.engine,
    }


def run_batch(
    plan: RunPlan,
    *,
    stream: Any = None,
    out: Any = None,
) -> BatchResult:
    """Render every report of ``plan``; write index, summaries and manifest per quarter.

    Args:
        plan: A plan from :func:`plan_run`.
        stream: Where progress goes (default ``sys.stderr``).
        out: Where the final one-line summary goes (default ``sys.stdout``).

    Returns:
        What happened to each report, and timings.
    """
    stream = stream if stream is not None else sys.stderr
    out = out if out is not None else sys.stdout
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    if plan.pdf:
        _check_pdf()

    t0 = time.perf_counter()
    common = hash_inputs(plan)
    common_digest = common.digest()
    tasks: list[Task] = []
    skipped: list[dict[str, Any]] = []
    for quarter in plan.quarters:
        for unit in plan.units:
            params = report_parameters(plan, unit.code, quarter)
            digest = report_hash(common_digest, params, validate=plan.validate)
            unit_dir = plan.unit_dir(quarter, unit.code)
            if not plan.force and is_up_to_date(unit_dir, digest, pdf=plan.pdf):
                skipped.append(
                    {
                        "unit": unit.code,
                        "quarter": quarter,
                        "status": "up to date",
                        "hash": digest,
                        "timings": {},
                        "error": None,
                        "outputs": (read_state(unit_dir) or {}).get("outputs", []),
                    }
                )
                continue
            tasks.append(
                Task(
                    unit=unit.code,
                    quarter=quarter,
                    unit_dir=str(unit_dir),
                    notebook=str(plan.notebook),
                    parameters=params,
                    digest=digest,
                    engine=plan.engine,
                    pdf=plan.pdf,
                    cell_timeout=plan.cell_timeout,
                )
            )
    timings["hash"] = time.perf_counter() - t0

    progress = _Progress(len(tasks), stream=stream)
    validation_json = ""
    validation_info: dict[str, Any] = {}
    bundle_hashes: dict[str, Any] = {}
    pool_info: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    if plan.validate:
        vjson = plan.validation_dir() / "validation.json"
        validation_json = str(vjson) if vjson.is_file() else ""
    if tasks:
        progress.log(
            f"kpi run: FY {plan.fy} Q{','.join(map(str, plan.quarters))}: "
            f"{len(tasks)} to render, {len(skipped)} up to date, "
            f"{min(plan.jobs, len(tasks))} worker(s), engine {plan.engine}"
        )
        if plan.ingest:
            t0 = time.perf_counter()
            bundle_hashes = _prepare_data(plan)
            timings["ingest"] = time.perf_counter() - t0
        if plan.validate:
            validation_json, cached, seconds = _validation(plan, common)
            validation_info = {"path": validation_json, "cached": cached, "seconds": seconds}
            timings["validation"] = seconds
        for task in tasks:
            task.parameters["validation_json"] = validation_json
        t0 = time.perf_counter()
        try:
            if min(plan.jobs, len(tasks)) == 1:
                pool_info = _run_serial(tasks, plan, progress, results)
            else:
                pool_info = _run_pool(tasks, plan, progress, results)
        finally:
            progress.close()
        timings["render"] = time.perf_counter() - t0

    all_reports = skipped + results
    t0 = time.perf_counter()
    index_paths, manifest_paths = [], []
    validation = _load_validation(validation_json)
    for quarter in plan.quarters:
        reports_q = [r for r in all_reports if r["quarter"] == quarter]
        rows = collect_rows(plan, quarter, reports_q, validation)
        qdir = plan.quarter_dir(quarter)
        index_paths.append(write_index(qdir / "index.html", plan, quarter, rows))
        write_summary_csv(qdir / "summary.csv", rows)
        write_summary_xlsx(qdir / "summary.xlsx", rows)
        timings["total"] = time.perf_counter() - t_start
        manifest_paths.append(
            write_manifest(
                qdir / "manifest.json",
                plan=plan,
                quarter=quarter,
                reports=reports_q,
                common=common,
                bundle_hashes=bundle_hashes,
                validation=validation_info,
                timings=timings,
                pool=pool_info,
                results=results,
            )
        )
    timings["index"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    result = BatchResult(all_reports, timings, index_paths, manifest_paths)
    n_ok = sum(1 for r in results if r["status"] == "ok")
    line = (
        f"kpi run: {len(all_reports)} reports: {n_ok} rendered, {len(skipped)} up to date, "
        f"{len(result.failed)} failed in {timings['total']:.1f} s; index: "
        + ", ".join(str(p) for p in index_paths)
    )
    print(line, file=out, flush=True)
    for failed in result.failed:
        print(
            f"kpi run: FAILED {failed['unit']} Q{failed['quarter']}: {failed.get('error')}",
            file=stream,
        )
    return result


# --------------------------------------------------------------------------- index & summary


def _load_validation(path: str) -> Any:
    if not path or not Path(path).is_file():
        return None
    try:
        from kpilib.validation import load_validation_report
    except ModuleNotFoundError:
        return None
    try:
        return load_validation_report(Path(path))
    except (KpilibError, OSError, ValueError):
        return None


def _validation_status(validation: Any, unit: str) -> str:
    if validation is None:
        return "—"
    try:
        findings = list(validation.for_unit(unit))
    except Exception:
        return "—"
    blocking = sum(1 for f in findings if getattr(f, "severity", "") == "blocking")
    warnings = len(findings) - blocking
    if blocking:
        return f"ไม่ผ่าน ({blocking} รายการ)"
    if warnings:
        return f"ผ่าน มีข้อสังเกต {warnings} รายการ"
    return "ผ่าน"


def scorecard_summary(doc: ReportDocument) -> dict[str, Any]:
    """Total points (over the KPIs with data), counted weight, and level and name per KPI."""
    sc = doc.scorecard
    return {
        "points": sc.total_points,
        "weight": sc.counted_weight,
        "levels": {r.kpi.id: r.level for r in sc.results},
        "names": {r.kpi.id: r.kpi.short_name_th or r.kpi.name_th for r in sc.results},
    }


@dataclass
class Row:
    """One unit's line in the index and summaries."""

    code: str
    name_th: str
    quarter: int
    status: str
    error: str | None
    points: Any
    weight: Any
    levels: dict[str, Any]
    validation: str
    links: dict[str, str]
    kpi_names: dict[str, str] = field(default_factory=dict)


def collect_rows(
    plan: RunPlan, quarter: int, reports: Iterable[dict[str, Any]], validation: Any
) -> list[Row]:
    """Index rows: every unit of this run, plus units already rendered in this quarter."""
    by_unit = {r["unit"]: r for r in reports}
    names = {u.code: u.name_th for u in plan.units}
    qdir = plan.quarter_dir(quarter)
    codes = list(names)
    if qdir.is_dir():
        for child in sorted(qdir.iterdir()):
            if child.is_dir() and (child / STATE_FILE).is_file() and child.name not in names:
                codes.append(child.name)
    rows = []
    for code in sorted(codes):
        unit_dir = qdir / code
        state = read_state(unit_dir) or {}
        report = by_unit.get(code)
        status = report["status"] if report else state.get("status", "missing")
        error = (report or state).get("error")
        summary: dict[str, Any] = {"points": None, "weight": None, "levels": {}, "names": {}}
        if status in ("ok", "up to date"):
            try:
                text = (unit_dir / "report.json").read_bytes()
                summary = scorecard_summary(read_report_json(text))
            except (OSError, ValueError):  # pydantic's ValidationError is a ValueError
                pass
        links = {
            ext: f"{code}/report.{ext}"
            for ext in ("html", "pdf", "ipynb", "json")
            if (unit_dir / f"report.{ext}").is_file()
        }
        rows.append(
            Row(
                code=code,
                name_th=names.get(code, code),
                quarter=quarter,
                status=status,
                error=error,
                points=summary["points"],
                weight=summary["weight"],
                levels=summary["levels"],
                validation=_validation_status(validation, code),
                links=links,
                kpi_names=summary["names"],
            )
        )
    return rows


def _kpi_columns(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r.levels))


def _percent(row: Row) -> float | None:
    try:
        return round(float(row.points) * 100 / float(row.weight), 2)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def summary_table(rows: Sequence[Row], *, fy: int | None = None) -> list[list[Any]]:
    """Header + one row per unit, Thai headers (used for the CSV and the workbook)."""
    kpis = _kpi_columns(rows)
    header = [H_CODE, H_NAME, H_QUARTER, H_POINTS, H_WEIGHT, H_PERCENT]
    header += [f"{H_LEVEL} {k}" for k in kpis] + [H_VALIDATION, H_STATUS]
    table: list[list[Any]] = [header]
    for r in rows:
        line = [r.code, r.name_th, r.quarter, r.points, r.weight, _percent(r)]
        line += [r.levels.get(k) for k in kpis]
        line += [r.validation, STATUS_TH.get(r.status, r.status)]
        table.append(line)
    return table


def write_summary_csv(path: Path, rows: Sequence[Row]) -> Path:
    """``summary.csv``: UTF-8 with BOM (Excel shows Thai correctly), one row per unit."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for line in summary_table(rows):
        writer.writerow(["" if v is None else v for v in line])
    return atomic_write_bytes(path, buf.getvalue().encode("utf-8-sig"))


def write_summary_xlsx(path: Path, rows: Sequence[Row]) -> Path:
    """``summary.xlsx`` (openpyxl), one row per unit, Thai headers, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "สรุปผล"
    for line in summary_table(rows):
        ws.append(line)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.column_dimensions["B"].width = 28
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


_INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="th">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
{{ font_css | safe }}
body { font-family: "Sarabun", "Noto Sans Thai", Tahoma, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f3f7; cursor: pointer; user-select: none; position: sticky; top: 0; }
th[aria-sort="ascending"]::after { content: " ▲"; }
th[aria-sort="descending"]::after { content: " ▼"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fdecea; }
tr.missing td { color: #888; }
h2 { font-size: 1.1rem; margin-top: 1.5rem; }
table.legend { width: auto; font-size: .85rem; }
table.legend th { cursor: default; position: static; }
.status-failed { color: #b00020; font-weight: bold; }
.error { display: block; font-size: .8rem; color: #b00020; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="meta">{{ meta }}</p>
<table id="units">
<thead><tr>
{%- for h in headers %}<th data-type="{{ h.type }}"{% if h.get("title") %} title="{{ h.title }}"{% endif %}>{{ h.label }}</th>{% endfor -%}
</tr></thead>
<tbody>
{%- for r in rows %}
<tr class="{{ r.css }}">
{%- for c in r.cells %}<td{% if c.num %} class="num"{% endif %} data-sort="{{ c.sort }}">{{ c.text }}</td>{% endfor -%}
<td data-sort="{{ r.status_sort }}"><span class="status-{{ r.status_css }}">{{ r.status }}</span>
{%- if r.error %}<span class="error">{{ r.error }}</span>{% endif %}</td>
<td>{% for name, href in r.links %}<a href="{{ href }}">{{ name }}</a> {% endfor %}</td>
</tr>
{%- endfor %}
</tbody>
</table>
{%- if legend %}
<h2>ตัวชี้วัด</h2>
<table class="legend">
<thead><tr><th>คอลัมน์</th><th>รหัสตัวชี้วัด</th><th>ชื่อตัวชี้วัด</th></tr></thead>
<tbody>
{%- for k in legend %}
<tr><td>{{ H_LEVEL }} {{ k.short }}</td><td>{{ k.id }}</td><td>{{ k.name }}</td></tr>
{%- endfor %}
</tbody>
</table>
{%- endif %}
<script>
(function () {
  var table = document.getElementById("units");
  var heads = table.tHead.rows[0].cells;
  function key(cell, type) {
    var v = cell.getAttribute("data-sort");
    if (type === "num") { var n = parseFloat(v); return isNaN(n) ? -Infinity : n; }
    return v || "";
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var type = th.getAttribute("data-type");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[col], type), y = key(b.cells[col], type);
        var c = type === "num" ? x - y : String(x).localeCompare(String(y), "th");
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
</script>
</body>
</html>
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render_index(plan: RunPlan, quarter: int, rows: Sequence[Row]) -> str:
    """The index page of one quarter (every value escaped by Jinja2's autoescape)."""
    import jinja2

    kpis = _kpi_columns(rows)
    headers = [
        {"label": H_CODE, "type": "text"},
        {"label": H_NAME, "type": "text"},
        {"label": H_POINTS, "type": "num"},
        {"label": H_PERCENT, "type": "num"},
    ]
    names = {k: n for r in rows for k, n in r.kpi_names.items()}
    legend = [{"short": f"K{i}", "id": k, "name": names.get(k, "")} for i, k in enumerate(kpis, 1)]
    headers += [
        {"label": f"{H_LEVEL} {item['short']}", "type": "num", "title": item["id"]}
        for item in legend
    ]
    headers += [
        {"label": H_VALIDATION, "type": "text"},
        {"label": H_STATUS, "type": "text"},
        {"label": "ลิงก์", "type": "text"},
    ]
    view = []
    for r in rows:
        pct = _percent(r)
        points = r.points if isinstance(r.points, int | float) else None
        cells = [
            {"text": r.code, "sort": r.code, "num": False},
            {"text": r.name_th, "sort": r.name_th, "num": False},
            {
                "text": _fmt(points),
                "sort": "" if points is None else points,
                "num": True,
            },
            {"text": _fmt(pct), "sort": "" if pct is None else pct, "num": True},
        ]
        for k in kpis:
            level = r.levels.get(k)
            cells.append({"text": _fmt(level), "sort": "" if level is None else level, "num": True})
        cells.append({"text": r.validation, "sort": r.validation, "num": False})
        view.append(
            {
                "css": r.status.replace(" ", "-"),
                "cells": cells,
                "status": STATUS_TH.get(r.status, r.status),
                "status_css": r.status.replace(" ", "-"),
                "status_sort": r.status,
                "error": r.error if r.status == "failed" else None,
                "links": [
                    (name.upper() if name != "ipynb" else "notebook", href)
                    for name, href in r.links.items()
                ],
            }
        )
    n_failed = sum(1 for r in rows if r.status == "failed")
    from kpilib.calendar import format_thai_date  # light module

    today = format_thai_date(dt.date.today(), style="long")
    meta = (
        f"ปีงบประมาณ {plan.fy} ไตรมาสที่ {quarter} · {len(rows)} หน่วยงาน · "
        f"ล้มเหลว {n_failed} · จัดทำเมื่อ {today} · kpilib {__version__} · "
        "คลิกหัวตารางเพื่อเรียงลำดับ"
    )
    from kpilib.render import font_face_css

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_INDEX_TEMPLATE).render(
        font_css=font_face_css(),
        title=f"รายงานผลตัวชี้วัด ปีงบประมาณ {plan.fy} ไตรมาสที่ {quarter}",
        meta=meta,
        headers=headers,
        rows=view,
        legend=legend,
        H_LEVEL=H_LEVEL,
    )


def write_index(path: Path, plan: RunPlan, quarter: int, rows: Sequence[Row]) -> Path:
    """Write ``index.html`` atomically."""
    return atomic_write_text(path, render_index(plan, quarter, rows))


def write_manifest(
    path: Path,
    *,
    plan: RunPlan,
    quarter: int,
    reports: Sequence[dict[str, Any]],
    common: InputHashes,
    bundle_hashes: dict[str, Any],
    validation: dict[str, Any],
    timings: dict[str, float],
    pool: dict[str, Any],
    results: Sequence[dict[str, Any]],
) -> Path:
    """``manifest.json``: parameters, input hashes, versions, timings and status per report."""
    workers: dict[str, dict[str, Any]] = {}
    for r in results:
        pid = str(r.get("pid", "?"))
        w = workers.setdefault(pid, {"reports": 0, "maxrss_mb": 0.0})
        w["reports"] += 1
        w["maxrss_mb"] = max(w["maxrss_mb"], round(r.get("maxrss_kb", 0) / 1024, 1))
        if "warm_up" in r:
            w["warm_up"] = r["warm_up"]
    if "warm_up" in pool:
        workers.setdefault(str(os.getpid()), {"reports": 0})["warm_up"] = pool["warm_up"]
    manifest = {
        "kpilib_version": __version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "parameters": {
            "fy": plan.fy,
            "quarter": quarter,
            "quarters_in_run": list(plan.quarters),
            "units": [u.code for u in plan.units] if plan.units_explicit else "catalogue",
            "data": str(plan.data_dir),
            "out": str(plan.out_dir),
            "jobs": plan.jobs,
            "pdf": plan.pdf,
            "force": plan.force,
            "engine": plan.engine,
            "notebook": str(plan.notebook),
            "lang": plan.lang,
        },
        "input_hashes": {
            "data_files": common.inputs,
            "bundle": bundle_hashes,
            "params": common.params,
            "notebook": common.notebook,
            "kpilib_source": hashlib.sha256(
                json.dumps(common.source, sort_keys=True).encode()
            ).hexdigest(),
        },
        "validation": validation,
        "timings_run": {k: round(v, 3) for k, v in timings.items()},
        "workers": workers,
        "counts": {
            s: sum(1 for r in reports if r["status"] == s) for s in ("ok", "up to date", "failed")
        },
        "reports": [
            {
                "unit": r["unit"],
                "quarter": r["quarter"],
                "status": r["status"],
                "error": r.get("error"),
                "hash": r.get("hash"),
                "outputs": r.get("outputs", []),
                "timings": {k: round(v, 3) for k, v in (r.get("timings") or {}).items()},
            }
            for r in sorted(reports, key=lambda r: r["unit"])
        ],
    }
    return atomic_write_text(path, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")


__all__ = [
    "BatchResult",
    "RunPlan",
    "Task",
    "UnitInfo",
    "check_path_value",
    "hash_inputs",
    "is_up_to_date",
    "plan_run",
    "render_index",
    "render_report",
    "report_hash",
    "run_batch",
    "scorecard_summary",
]
