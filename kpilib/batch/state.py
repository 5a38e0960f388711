"""What a report was made from, and whether it is still current.

Two levels, so that a rerun with nothing changed only hashes files:

* **inputs** (:func:`inputs_digest`): sha256 of every data file (relative to the data
  folder), ``params/``, the notebook, kpilib's source and version, and the report's own
  parameters (unit, FY, quarter, language; no absolute path). Unchanged → up to date.
* **fingerprint** (:func:`report_fingerprints`, computed in a child process because it reads
  the canonical tables): the same definitions and code, but of the data only what the
  report reads: its unit's rows of the tables its KPIs read (all districts' rows for an
  input summed over districts), its unit's tickets and events (an office: every
  district's tickets), every district's Traffy resolution in the quarter (the position
  chart), its filled forms and sign-off records, and the validation findings that concern
  the unit. Changing one cell of one unit
  therefore re-renders that unit's reports only; moving the checkout re-renders nothing.

The state of a unit folder is ``.report.state.json`` (:class:`ReportState`): written as
``running`` before a render starts and as ``ok``/``failed`` last, so a report is current
only if its state says ``ok``, with the same inputs or fingerprint, and every output it lists
exists. Outputs of one report always come from one render.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpilib import __version__
from kpilib.fsio import atomic_write_text, sha256_file

STATE_FILE = ".report.state.json"

#: Report states (``.report.state.json``) and what the index says for them.
STATUSES = ("ok", "up to date", "failed", "running", "interrupted", "missing")


def _digest(schema: str, rows: Any) -> str:
    """A table part's hash: its schema's (16 characters), then the sha256 of its rows'
    hashes (a numpy array, in table order)."""
    return schema + hashlib.sha256(rows.tobytes()).hexdigest()


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def hash_tree(root: Path, *, skip: Callable[[Path], bool] | None = None) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative POSIX path -> hex digest).

    Hidden files and folders, ``__pycache__``, ``*.pyc`` and ``*.tmp`` are left out.
    """
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


def _is_notebook(path: Path) -> bool:
    """The report notebook shipped in the package is hashed on its own."""
    return path.suffix == ".ipynb"


@dataclass(frozen=True)
class InputHashes:
    """Content hashes of everything reports depend on, apart from their own parameters."""

    data: dict[str, str]
    params: dict[str, str]
    notebook: str
    source: dict[str, str]
    version: str = __version__

    def code_digest(self) -> str:
        """Definitions and code: ``params/``, the notebook, kpilib's source and version."""
        return _sha(
            {
                "params": self.params,
                "notebook": self.notebook,
                "source": self.source,
                "version": self.version,
            }
        )

    def data_digest(self) -> str:
        """Every data file."""
        return _sha(self.data)

    def source_digest(self) -> str:
        """kpilib's source files only."""
        return _sha(self.source)


#: Folders of a data folder that reports read besides its raw inputs: the units' filled
#: forms and the sign-off records (``kpilib.signoff.report_input_files``).
REPORT_INPUT_FOLDERS = ("forms", "signoffs")


def hash_data(data_dir: Path) -> dict[str, str]:
    """sha256 of every raw input file, and of every file under ``forms/`` and ``signoffs/``."""
    data = hash_tree(input_files_root(data_dir))
    for folder in REPORT_INPUT_FOLDERS:
        data.update({f"{folder}/{k}": v for k, v in hash_tree(data_dir / folder).items()})
    return data


def hash_inputs(
    *, data_dir: Path, params_dir: Path, notebook: Path, source_dir: Path
) -> InputHashes:
    """Hash the data files (:func:`hash_data`), ``params/``, the notebook and kpilib's source."""
    return InputHashes(
        data=hash_data(data_dir),
        params=hash_tree(params_dir),
        notebook=sha256_file(notebook),
        source=hash_tree(source_dir, skip=_is_notebook),
    )


def report_identity(
    unit: str, fy: int, quarter: int, *, lang: str, validate: bool, month: int | None = None
) -> dict[str, Any]:
    """What makes two renders of the same inputs the same report (no paths); a monthly
    progress report adds its month."""
    out: dict[str, Any] = {
        "unit": unit,
        "fy": fy,
        "quarter": quarter,
        "lang": lang,
        "validate": validate,
    }
    if month is not None:
        out["month"] = month
    return out


def inputs_digest(hashes: InputHashes, identity: dict[str, Any]) -> str:
    """The coarse key: every data file + definitions + code + the report's identity."""
    return _sha({"code": hashes.code_digest(), "data": hashes.data_digest(), "report": identity})


def fingerprint_digest(code_digest: str, identity: dict[str, Any], parts: dict[str, str]) -> str:
    """The fine key: definitions + code + identity + what the report reads (``parts``)."""
    return _sha({"code": code_digest, "report": identity, "reads": parts})


# --------------------------------------------------------------------------- state file


@dataclass
class ReportState:
    """``.report.state.json``: what the last render of a unit folder did.

    Attributes:
        status: ``running`` (a render started and has not finished), ``ok`` or ``failed``.
        unit, quarter: The report.
        inputs: :func:`inputs_digest` of the inputs it was rendered from.
        fingerprint: :func:`fingerprint_digest` (None when not computed).
        outputs: The files of this render (``report.html``...); only these are linked.
        error: One line, for a failed render.
        timings: Seconds per step.
        pid: The process that rendered it.
        started_at, finished_at: UTC, ISO 8601.
        run: The id of the run that rendered it.
    """

    status: str
    unit: str
    quarter: int
    inputs: str | None = None
    fingerprint: str | None = None
    outputs: tuple[str, ...] = ()
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    engine: str = "inprocess"
    pid: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    run: str | None = None

    def write(self, unit_dir: Path) -> Path:
        """Write atomically into ``unit_dir``."""
        data = dataclasses.asdict(self)
        data["outputs"] = list(self.outputs)
        return atomic_write_text(
            unit_dir / STATE_FILE, json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        )


def read_state(unit_dir: Path) -> ReportState | None:
    """The state of a unit folder (None if absent or unreadable)."""
    try:
        with open(unit_dir / STATE_FILE, encoding="utf-8") as fh:
            data = json.load(fh)
        names = {f.name for f in dataclasses.fields(ReportState)}
        data = {k: v for k, v in data.items() if k in names}
        data["outputs"] = tuple(data.get("outputs") or ())
        return ReportState(**data)
    except (OSError, ValueError, TypeError):
        return None


def is_current(
    state: ReportState | None,
    unit_dir: Path,
    *,
    inputs: str | None = None,
    fingerprint: str | None = None,
    pdf: bool,
) -> bool:
    """True if the last render succeeded from the same inputs (or fingerprint) and its
    outputs (plus the PDF, ``<FY>_Q<q>_<unit>.pdf``, when asked for) all exist."""
    if state is None or state.status != "ok":
        return False
    same = (inputs is not None and state.inputs == inputs) or (
        fingerprint is not None and state.fingerprint == fingerprint
    )
    if not same:
        return False
    needed = list(state.outputs or ("report.ipynb", "report.html"))
    if pdf and not any(name.endswith(".pdf") for name in needed):
        return False
    return all((unit_dir / name).is_file() for name in needed)


def utc_now() -> str:
    """Now, UTC, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- fingerprints


@dataclass(frozen=True)
class FingerprintRequest:
    """The reports whose fingerprints to compute (sent to a child process)."""

    data_dir: str
    fy: int
    code_digest: str
    reports: tuple[tuple[str, int], ...]
    lang: str
    validate: bool
    validation_json: str | None = None
    month: int | None = None


ReadParts = dict[tuple[str, int], dict[str, str]]
"""Per report, the hashes of what it reads (:func:`report_read_parts`)."""


def report_fingerprints(req: FingerprintRequest) -> dict[tuple[str, int], str]:
    """The fingerprint of each report in ``req`` (see the module docstring for what it covers).

    Reads the canonical tables of the data folder and the validation results; meant to run
    in a child process, like validation, to keep the batch parent small.
    """
    findings = validation_parts(req.validation_json, req.reports) if req.validate else None
    return fingerprints_of(req, report_read_parts(req), findings)


def fingerprints_of(
    req: FingerprintRequest, parts: ReadParts, findings: dict[str, str] | None
) -> dict[tuple[str, int], str]:
    """Each report's fingerprint from the hashes of the data it reads (:func:`report_read_parts`)
    and of the validation findings of its unit (:func:`validation_parts`; None: not validated)."""
    out: dict[tuple[str, int], str] = {}
    for unit_code, quarter in req.reports:
        reads = dict(parts[(unit_code, quarter)])
        if findings is not None:
            reads["validation"] = findings[unit_code]
        identity = report_identity(
            unit_code, req.fy, quarter, lang=req.lang, validate=req.validate, month=req.month
        )
        out[(unit_code, quarter)] = fingerprint_digest(req.code_digest, identity, reads)
    return out


def validation_parts(path: str | None, reports: Iterable[tuple[str, int]]) -> dict[str, str]:
    """The hash of the validation findings that concern each unit of ``reports``."""
    for_unit = _validation_findings(path)
    return {unit: for_unit(unit) for unit in dict.fromkeys(u for u, _ in reports)}


def report_read_parts(req: FingerprintRequest) -> ReadParts:
    """Per report of ``req``, the hashes of the data it reads, validation left out: its
    tables' rows, the quarter's Traffy ranking, its forms and sign-off records. Reads the
    canonical tables (a child process's work, like validation)."""
    # pandas, the catalogue and the complaint engine: only in the process that fingerprints
    import numpy as np
    import pandas as pd

    from kpilib.catalog import load_catalog
    from kpilib.complaints import traffy_ranking
    from kpilib.datasets import load_bundle
    from kpilib.scoring import kpi_tables
    from kpilib.signoff import report_input_files

    data_dir = Path(req.data_dir)
    bundle = load_bundle(req.data_dir, refresh=False)
    cat = load_catalog()
    hashes: dict[str, tuple[str, dict[str | None, str]] | None] = {}

    def table_hashes(table: str) -> tuple[str, dict[str | None, str]] | None:
        """The table's schema hash, and the hash of its rows (key None) and of each unit's
        rows (in table order); None if the bundle has no such table."""
        if table not in hashes:
            if not bundle.has_table(table):
                hashes[table] = None
            else:
                df = bundle.table(table)
                rows = pd.util.hash_pandas_object(df, index=False).to_numpy()
                schema = _sha([(str(c), str(t)) for c, t in df.dtypes.items()])[:16]
                out: dict[str | None, str] = {None: _digest(schema, rows)}
                # every unit's rows at once, grouped by one stable sort (not a mask per unit)
                codes, units = pd.factorize(df["unit_code"].astype(str))
                ends = np.cumsum(np.bincount(codes[codes >= 0], minlength=len(units)))
                grouped = rows[np.argsort(codes, kind="stable")][(codes < 0).sum() :]
                for unit, end, size in zip(units, ends, np.diff(ends, prepend=0), strict=True):
                    out[str(unit)] = _digest(schema, grouped[end - size : end])
                hashes[table] = (schema, out)
        return hashes[table]

    def table_hash(table: str, unit: str | None) -> str:
        got = table_hashes(table)
        if got is None:
            return "absent"
        schema, out = got
        return out.get(unit) or _digest(schema, rows=np.empty(0, dtype=np.uint64))

    rankings: dict[int, str] = {}

    def ranking(quarter: int) -> str:
        if quarter not in rankings:
            if not bundle.has_table("tickets"):
                rankings[quarter] = "absent"
            else:
                r = traffy_ranking(bundle.table("tickets"), fy=req.fy, quarter=quarter)
                cols = [c for c in ("unit_code", "received", "resolved", "state_basis") if c in r]
                rankings[quarter] = _sha(r[cols].astype(str).to_numpy().tolist())
        return rankings[quarter]

    out: ReadParts = {}
    for unit_code, quarter in req.reports:
        unit = cat.unit(unit_code)
        parts = {
            f"{table}:{scope}": table_hash(table, None if scope == "all" else unit_code)
            for table, scope in report_reads(cat, unit, req.fy, kpi_tables).items()
        }
        parts["traffy_ranking"] = ranking(quarter)
        parts["forms_and_signoffs"] = _sha(
            [
                (p.relative_to(data_dir).as_posix(), sha256_file(p))
                for p in report_input_files(data_dir, unit_code, req.fy, quarter)
            ]
        )
        out[(unit_code, quarter)] = parts
    return out


def report_reads(
    cat: Any, unit: Any, fy: int, kpi_tables: Callable[[Any], Iterable[str]]
) -> dict[str, str]:
    """The canonical tables a unit's report reads, each ``unit`` (its rows) or ``all``.

    Its KPIs' tables (``all`` when an input is summed over every district), plus what the
    report shows beyond its KPIs (:mod:`kpilib.assemble`): the unit's tickets (an office's
    charts cover every district) and, for a district, its events (the audit table).
    """
    reads: dict[str, str] = {}

    def need(table: str, scope: str) -> None:
        if reads.get(table) != "all":
            reads[table] = scope

    for kpi in cat.kpis_for_unit(unit.code, fy):
        everyone = any(s.scope == "all_districts" for s in kpi.measures_used())
        for table in kpi_tables(kpi):
            need(table, "all" if everyone else "unit")
    district = unit.kind == "district"
    need("tickets", "unit" if district else "all")
    if district:
        need("events", "unit")
    return dict(sorted(reads.items()))


def _validation_findings(path: str | None) -> Callable[[str], str]:
    """A function giving the hash of the validation findings that concern a unit."""
    from kpilib.validation import load_validation_report

    if not path or not Path(path).is_file():
        return lambda unit: "none"
    report = load_validation_report(path)
    unusable = _sha(list(report.unusable))

    def for_unit(unit: str) -> str:
        found = [f.model_dump(mode="json") for f in report.for_unit(unit)]
        return _sha({"findings": found, "unusable": unusable})

    return for_unit
