"""Sign-off bound to the data: who signed which version of a unit-quarter report.

``kpi sign`` records that a reviewer (a unit head, the Strategy and Evaluation Department)
signs a report as it stands: who, in what role, when (Bangkok time), and the report's input
fingerprint: the SHA-256 of every input file of the report (the raw data files and the
unit's forms and evidence documents) and each KPI's value and points as displayed. Records
are append-only files, one per signature::

    <data>/signoffs/<FY>/Q<q>/<unit>/<signed at>-<digest>.json

No record is ever rewritten. When a report is built, the current fingerprint is compared with
each signer's latest record: a matching record shows as "รับรองโดย … ตำแหน่ง … เมื่อ …"; a
record whose fingerprint differs says the sign-off no longer matches and lists what changed
(input files added, removed or changed; KPI values old → new).

The records are JSON (:class:`SignoffRecord`); a record that cannot be read, or whose
fingerprint digest does not match its content, is reported, never trusted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kpilib import __version__
from kpilib import calendar as cal
from kpilib.errors import ParameterError
from kpilib.forms import layout as L
from kpilib.forms.models import UnitForms
from kpilib.numbers import fmt_number

if TYPE_CHECKING:
    from kpilib.catalog import Catalog
    from kpilib.document import Scorecard

_MODEL = ConfigDict(extra="forbid", frozen=True)

FORMAT_NAME = "kpilib-signoff"
FORMAT_VERSION = 1
NO_VALUE_TH = "ไม่มีข้อมูล"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class KpiStamp(BaseModel):
    """One KPI's figures as the report displays them at signing time."""

    model_config = _MODEL

    kpi: str
    name_th: str
    value: str
    points: str


class Fingerprint(BaseModel):
    """What a unit-quarter report shows, as a hash.

    Attributes:
        unit: The unit code.
        fiscal_year: Buddhist Era.
        quarter: 1-4.
        inputs: SHA-256 of each input file by path relative to the data folder
            (``raw/traffy_api_v2.csv``, ``forms/2567/Q1/1032.xlsx``).
        kpis: Each KPI's displayed value and points.
        digest: SHA-256 of ``inputs`` and ``kpis`` (see :func:`fingerprint_digest`).
    """

    model_config = _MODEL

    unit: str
    fiscal_year: int
    quarter: int
    inputs: dict[str, str]
    kpis: tuple[KpiStamp, ...]
    digest: str

    @property
    def is_consistent(self) -> bool:
        """True when ``digest`` is the digest of the content."""
        return self.digest == fingerprint_digest(self.inputs, self.kpis)


def fingerprint_digest(inputs: Mapping[str, str], kpis: tuple[KpiStamp, ...]) -> str:
    """SHA-256 of the inputs and KPI stamps (canonical JSON, sorted keys)."""
    blob = json.dumps(
        {"inputs": dict(sorted(inputs.items())), "kpis": [k.model_dump() for k in kpis]},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class SignoffRecord(BaseModel):
    """One signature (one JSON file under ``<data>/signoffs``)."""

    model_config = _MODEL

    format: Literal["kpilib-signoff"] = FORMAT_NAME
    version: int = FORMAT_VERSION
    unit: str
    fiscal_year: int
    quarter: int
    name: str
    role: str
    signed_at: dt.datetime
    fingerprint: Fingerprint
    kpilib_version: str = ""


class InputChange(BaseModel):
    """An input file that differs from the one signed."""

    model_config = _MODEL

    path: str
    change: Literal["added", "removed", "changed"]
    old_sha256: str | None = None
    new_sha256: str | None = None


class KpiChange(BaseModel):
    """A KPI whose displayed figures differ from the ones signed."""

    model_config = _MODEL

    kpi: str
    name_th: str
    old_value: str | None
    new_value: str | None
    old_points: str | None
    new_points: str | None


class SignoffCheck(BaseModel):
    """One signer's latest signature, compared with the report as it is now.

    Attributes:
        name: Who signed.
        role: In what role (ตำแหน่ง).
        signed_at: When (Bangkok time).
        file: The record, relative to the data folder.
        digest: The fingerprint signed.
        matches: True while the report's fingerprint is the one signed.
        inputs_changed: Input files added, removed or changed since.
        kpis_changed: KPI figures changed since (old → new).
    """

    model_config = _MODEL

    name: str
    role: str
    signed_at: dt.datetime
    file: str
    digest: str
    matches: bool
    inputs_changed: tuple[InputChange, ...] = ()
    kpis_changed: tuple[KpiChange, ...] = ()


class SignoffState(BaseModel):
    """The sign-off state of a report.

    Attributes:
        fingerprint: The report's fingerprint now.
        signatures: Each signer's latest signature (name and role), newest first.
        superseded: Older signatures of the same signers (kept in the data folder, not shown).
        problems: Records that could not be used, one line each.
    """

    model_config = _MODEL

    fingerprint: Fingerprint
    signatures: tuple[SignoffCheck, ...] = ()
    superseded: int = 0
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> tuple[SignoffCheck, ...]:
        """Signatures that match the report as it is."""
        return tuple(s for s in self.signatures if s.matches)

    @property
    def stale(self) -> tuple[SignoffCheck, ...]:
        """Signatures made on other inputs or figures."""
        return tuple(s for s in self.signatures if not s.matches)


# --------------------------------------------------------------------------- fingerprints


def kpi_stamps(scorecard: Scorecard) -> tuple[KpiStamp, ...]:
    """Each KPI's value (with its unit) and points as the report displays them."""
    out = []
    for r in scorecard.results:
        value = f"{r.value_text} {r.kpi.unit_th}".strip() if r.has_data else NO_VALUE_TH
        points = NO_VALUE_TH if r.points is None else fmt_number(r.points, decimals=2)
        out.append(
            KpiStamp(
                kpi=r.kpi.id,
                name_th=r.kpi.short_name_th or r.kpi.name_th,
                value=value,
                points=points,
            )
        )
    return tuple(out)


def build_fingerprint(
    scorecard: Scorecard, raw_inputs: Mapping[str, str], forms: UnitForms | None
) -> Fingerprint:
    """The fingerprint of a report.

    Args:
        scorecard: The report's scorecard.
        raw_inputs: SHA-256 of each raw input file by name (``Provenance.inputs``).
        forms: The unit's forms (their files are inputs too).
    """
    inputs = {f"raw/{name}": digest for name, digest in raw_inputs.items()}
    if forms is not None:
        inputs.update({f.path: f.sha256 for f in forms.files})
    kpis = kpi_stamps(scorecard)
    return Fingerprint(
        unit=scorecard.unit.code,
        fiscal_year=scorecard.fiscal_year,
        quarter=scorecard.quarter,
        inputs=dict(sorted(inputs.items())),
        kpis=kpis,
        digest=fingerprint_digest(inputs, kpis),
    )


def current_fingerprint(
    data_dir: str | Path,
    unit: str,
    fy: int,
    quarter: int,
    *,
    catalog: Catalog | None = None,
) -> tuple[Fingerprint, UnitForms]:
    """The fingerprint of a report as it would be built now (no validation needed: it
    changes the certification of a figure, not the figure)."""
    from kpilib.catalog import load_catalog
    from kpilib.datasets import load_bundle
    from kpilib.forms.reader import read_unit_forms
    from kpilib.scoring import unit_scorecard

    cat = catalog or load_catalog()
    bundle = load_bundle(data_dir)
    scorecard = unit_scorecard(unit, fy, quarter, bundle=bundle, catalog=cat)
    forms = read_unit_forms(data_dir, unit, fy, quarter, catalog=cat)
    return build_fingerprint(scorecard, bundle.input_hashes(), forms), forms


def compare(
    signed: Fingerprint, now: Fingerprint
) -> tuple[tuple[InputChange, ...], tuple[KpiChange, ...]]:
    """What differs between a signed fingerprint and the current one."""
    inputs = []
    for path in sorted(set(signed.inputs) | set(now.inputs)):
        old, new = signed.inputs.get(path), now.inputs.get(path)
        if old == new:
            continue
        change = "added" if old is None else "removed" if new is None else "changed"
        inputs.append(InputChange(path=path, change=change, old_sha256=old, new_sha256=new))
    old_k = {k.kpi: k for k in signed.kpis}
    new_k = {k.kpi: k for k in now.kpis}
    kpis = []
    for kpi in [*new_k, *(k for k in old_k if k not in new_k)]:
        a, b = old_k.get(kpi), new_k.get(kpi)
        if a == b:
            continue
        kpis.append(
            KpiChange(
                kpi=kpi,
                name_th=(b or a).name_th,  # type: ignore[union-attr]
                old_value=a.value if a else None,
                new_value=b.value if b else None,
                old_points=a.points if a else None,
                new_points=b.points if b else None,
            )
        )
    return tuple(inputs), tuple(kpis)


# --------------------------------------------------------------------------- records


def signoff_folder(data_dir: str | Path, unit: str, fy: int, quarter: int) -> Path:
    """``<data>/signoffs/<FY>/Q<q>/<unit>``."""
    return L.quarter_folder(Path(data_dir) / L.SIGNOFFS_DIR, fy, quarter) / unit


def signoff_files(data_dir: str | Path, unit: str, fy: int, quarter: int) -> tuple[Path, ...]:
    """A unit-quarter's sign-off records, by name (= by time)."""
    folder = signoff_folder(data_dir, unit, fy, quarter)
    if not folder.is_dir():
        return ()
    return tuple(
        sorted(p for p in folder.glob("*.json") if p.is_file() and not p.name.startswith("."))
    )


def report_input_files(data_dir: str | Path, unit: str, fy: int, quarter: int) -> tuple[Path, ...]:
    """Every file under ``<data>/forms`` and ``<data>/signoffs`` a unit-quarter report reads
    (for the batch's fingerprint of a report; the raw data files are not included)."""
    from kpilib.forms.reader import unit_form_files

    return (
        *unit_form_files(data_dir, unit, fy, quarter),
        *signoff_files(data_dir, unit, fy, quarter),
    )


def _relative(path: Path, data_dir: Path) -> str:
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def read_signoffs(
    data_dir: str | Path, unit: str, fy: int, quarter: int
) -> tuple[list[tuple[SignoffRecord, str]], list[str]]:
    """The unit-quarter's records (with their paths) and a line per unusable record."""
    data = Path(data_dir)
    records: list[tuple[SignoffRecord, str]] = []
    problems: list[str] = []
    for path in signoff_files(data, unit, fy, quarter):
        rel = _relative(path, data)
        try:
            rec = SignoffRecord.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            problems.append(f"{rel}: อ่านบันทึกการรับรองไม่ได้ ({type(exc).__name__})")
            continue
        if not rec.fingerprint.is_consistent:
            problems.append(f"{rel}: ลายนิ้วมือข้อมูลในบันทึกไม่ตรงกับเนื้อหา (บันทึกถูกแก้ไข) จึงไม่นำมาใช้")
            continue
        if (rec.unit, rec.fiscal_year, rec.quarter) != (unit, fy, quarter):
            problems.append(
                f"{rel}: บันทึกนี้เป็นของ {rec.unit} ปี {rec.fiscal_year} ไตรมาส {rec.quarter}"
            )
            continue
        records.append((rec, rel))
    return records, problems


def signoff_state(data_dir: str | Path, fingerprint: Fingerprint) -> SignoffState:
    """Compare each signer's latest record with the report's fingerprint."""
    records, problems = read_signoffs(
        data_dir, fingerprint.unit, fingerprint.fiscal_year, fingerprint.quarter
    )
    latest: dict[tuple[str, str], tuple[SignoffRecord, str]] = {}
    for rec, rel in sorted(records, key=lambda x: (x[0].signed_at, x[1])):
        latest[(rec.name, rec.role)] = (rec, rel)
    checks = []
    for rec, rel in sorted(latest.values(), key=lambda x: (x[0].signed_at, x[1]), reverse=True):
        inputs, kpis = compare(rec.fingerprint, fingerprint)
        checks.append(
            SignoffCheck(
                name=rec.name,
                role=rec.role,
                signed_at=rec.signed_at,
                file=rel,
                digest=rec.fingerprint.digest,
                matches=rec.fingerprint.digest == fingerprint.digest,
                inputs_changed=inputs,
                kpis_changed=kpis,
            )
        )
    return SignoffState(
        fingerprint=fingerprint,
        signatures=tuple(checks),
        superseded=len(records) - len(latest),
        problems=tuple(problems),
    )


def check_signer(text: str, *, what: str, limit: int) -> str:
    """A signer's name or role, checked: one line, not empty, at most ``limit`` characters.

    Raises:
        ParameterError: Empty, too long, or with control characters.
    """
    value = " ".join(str(text).split())
    if not value:
        raise ParameterError(f"{what} must not be empty")
    if _CONTROL.search(str(text)):
        raise ParameterError(f"{what} must be one line of text without control characters")
    if len(value) > limit:
        raise ParameterError(f"{what} is {len(value)} characters long; at most {limit} are allowed")
    return value


def sign(
    data_dir: str | Path,
    unit: str,
    fy: int,
    quarter: int,
    *,
    name: str,
    role: str,
    now: dt.datetime | None = None,
    catalog: Catalog | None = None,
) -> tuple[SignoffRecord, Path]:
    """Sign a unit-quarter report as it stands: append a record to the data folder.

    Args:
        data_dir: The data folder.
        unit: The unit code.
        fy: Fiscal year (Buddhist Era).
        quarter: 1-4.
        name: Who signs.
        role: In what role (ตำแหน่ง).
        now: The signing time (default: now); stored in Bangkok time.
        catalog: The catalogue (default: :func:`~kpilib.catalog.load_catalog`).

    Returns:
        The record and the file written (never an existing file).

    Raises:
        ParameterError: A bad name or role, fiscal year or quarter.
        KpilibError: Unknown unit, unreadable data.
    """
    from kpilib.catalog import load_catalog

    name = check_signer(name, what="--name", limit=L.NAME_TEXT)
    role = check_signer(role, what="--role", limit=L.POSITION_TEXT)
    fy = cal.require_be_year(fy)
    quarter = cal.require_quarter(quarter)
    cat = catalog or load_catalog()
    unit = cat.unit(unit).code
    fingerprint, _forms = current_fingerprint(data_dir, unit, fy, quarter, catalog=cat)
    when = (now or dt.datetime.now(cal.BANGKOK)).astimezone(cal.BANGKOK).replace(microsecond=0)
    record = SignoffRecord(
        unit=unit,
        fiscal_year=fy,
        quarter=quarter,
        name=name,
        role=role,
        signed_at=when,
        fingerprint=fingerprint,
        kpilib_version=__version__,
    )
    folder = signoff_folder(data_dir, unit, fy, quarter)
    folder.mkdir(parents=True, exist_ok=True)
    signer = hashlib.sha256(f"{name}\x00{role}".encode()).hexdigest()[:8]
    stem = f"{when:%Y%m%dT%H%M%S}-{fingerprint.digest[:12]}-{signer}"
    payload = record.model_dump_json(indent=1).encode("utf-8") + b"\n"
    return record, _write_new(folder, stem, payload)


def _write_new(folder: Path, stem: str, payload: bytes) -> Path:
    """Write ``payload`` to a new file ``<stem>[-n].json``: complete or absent, never over
    another record (written to a temporary file, fsynced, then hard-linked into place)."""
    tmp = folder / f".tmp-{stem}-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        for n in range(100):
            target = folder / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            return target
        raise ParameterError(f"{folder}: too many sign-off records named {stem}")
    finally:
        tmp.unlink(missing_ok=True)
