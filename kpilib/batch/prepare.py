"""Ingest, validation and fingerprints: the batch's heavy preparation, in a child process.

Validation imports great-expectations and reads every raw file (≈ 1.8 GB peak on the sample
data); fingerprints read the canonical tables. Run in the batch parent, both would stay in
its memory for the whole run; :func:`prepare` runs in a one-worker
:class:`~kpilib.batch.pool.WorkerPool` instead (it also dies with the parent), and returns a
small :class:`Prepared`.

Validation runs once per fiscal year and data set, cached by the hash of the data files,
``params/`` and kpilib's source. Its record, ``validation/run.json``, is removed before
validation starts and written last: results of an interrupted validation are never taken
for current, and the next run validates again (``validation.json`` itself is written
atomically, whole or not at all).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpilib.batch.state import (
    FingerprintRequest,
    ReadParts,
    report_fingerprints,
    report_read_parts,
    utc_now,
    validation_parts,
)
from kpilib.fsio import atomic_write_text

VALIDATION_RECORD = "run.json"


@dataclass(frozen=True)
class PrepareRequest:
    """What the child process should do."""

    data_dir: str
    fy: int
    validation_dir: str
    validation_key: str
    ingest: bool
    validate: bool
    fingerprints: FingerprintRequest | None = None


@dataclass
class ValidationRecord:
    """What a run's validation found (also kept in ``validation/run.json``)."""

    path: str
    key: str
    created_at: str
    seconds: float
    blocking: int
    warnings: int
    unusable: tuple[str, ...] = ()
    units: dict[str, list[int]] = field(default_factory=dict)
    cached: bool = False
    peak_rss_kb: int = 0

    def unit_status(self, unit: str) -> str:
        """What the index says about a unit's data (Thai)."""
        blocking, warnings = self.units.get(unit, (0, 0))
        if blocking:
            return f"ไม่ผ่าน ({blocking} รายการ)"
        if warnings:
            return f"ผ่าน มีข้อสังเกต {warnings} รายการ"
        return "ผ่าน"

    @classmethod
    def read(cls, vdir: Path) -> ValidationRecord | None:
        """The record of the last validation in ``vdir`` (None if absent or unreadable)."""
        try:
            data = json.loads((vdir / VALIDATION_RECORD).read_text(encoding="utf-8"))
            data["unusable"] = tuple(data.get("unusable") or ())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        data = dict(self.__dict__)
        data["unusable"] = list(self.unusable)
        return data


@dataclass
class Prepared:
    """What :func:`prepare` returns to the batch parent."""

    validation: ValidationRecord | None
    bundle_hashes: dict[str, str] = field(default_factory=dict)
    fingerprints: dict[tuple[str, int], str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss_kb: int = 0
    read_parts: ReadParts = field(default_factory=dict)  # prepare_data: fingerprints' data half


def cached_validation(vdir: Path, key: str) -> ValidationRecord | None:
    """The validation record if it was made from the same inputs (``key``) and is whole."""
    record = ValidationRecord.read(vdir)
    if record is None or record.key != key or not (vdir / "validation.json").is_file():
        return None
    return record


def prepare(req: PrepareRequest) -> Prepared:
    """Ingest (if stale), validate (unless cached), fingerprint the reports asked for."""
    from kpilib.batch.worker import peak_rss_kb

    timings: dict[str, float] = {}
    hashes: dict[str, str] = {}
    if req.ingest:
        from kpilib.datasets import load_bundle

        t0 = time.perf_counter()
        hashes = load_bundle(req.data_dir).input_hashes()
        timings["ingest"] = time.perf_counter() - t0
    summary = None
    if req.validate:
        t0 = time.perf_counter()
        summary = validate(Path(req.data_dir), req.fy, Path(req.validation_dir), req.validation_key)
        timings["validation"] = time.perf_counter() - t0
    fingerprints: dict[tuple[str, int], str] = {}
    if req.fingerprints is not None:
        t0 = time.perf_counter()
        fp_req = req.fingerprints
        if summary is not None:
            fp_req = FingerprintRequest(**{**fp_req.__dict__, "validation_json": summary.path})
        fingerprints = report_fingerprints(fp_req)
        timings["fingerprints"] = time.perf_counter() - t0
    return Prepared(summary, hashes, fingerprints, timings, peak_rss_kb())


@dataclass
class Validated:
    """What :func:`prepare_validation` returns: the record and, per unit of the reports asked
    for, the hash of its findings (:func:`kpilib.batch.state.validation_parts`)."""

    validation: ValidationRecord
    findings: dict[str, str]
    timings: dict[str, float]
    peak_rss_kb: int = 0


DATA_CHILD_NICENESS = 5
"""How much :func:`prepare_data` lowers its priority once the ingest is done: hashing what
the reports read is not on the run's critical path, validation is."""


def prepare_data(req: PrepareRequest) -> Prepared:
    """The data half of :func:`prepare`, beside :func:`prepare_validation` in another process:
    ingest (if stale), then the hashes of what each report reads. ``Prepared.fingerprints``
    stays empty: the parent joins the halves (:func:`kpilib.batch.state.fingerprints_of`)."""
    from kpilib.batch.worker import lower_priority, peak_rss_kb
    from kpilib.datasets import load_bundle

    t0 = time.perf_counter()
    hashes = load_bundle(req.data_dir).input_hashes()
    timings = {"ingest": time.perf_counter() - t0}
    parts: ReadParts = {}
    if req.fingerprints is not None:
        lower_priority(DATA_CHILD_NICENESS)
        t0 = time.perf_counter()
        parts = report_read_parts(req.fingerprints)
        timings["fingerprints"] = time.perf_counter() - t0
    return Prepared(None, hashes, {}, timings, peak_rss_kb(), read_parts=parts)


def prepare_validation(req: PrepareRequest) -> Validated:
    """The validation half of :func:`prepare`: imports great-expectations first (seconds of
    work that overlap the ingest of :func:`prepare_data` in the other process), then
    validates as soon as the ingest is done (it waits on the ingest's lock,
    :func:`kpilib.datasets.ensure_ingested`)."""
    from kpilib.batch.worker import peak_rss_kb
    from kpilib.validation.gx import import_gx

    t0 = time.perf_counter()
    import_gx()
    timings = {"validation_import": time.perf_counter() - t0}
    t0 = time.perf_counter()
    record = validate(Path(req.data_dir), req.fy, Path(req.validation_dir), req.validation_key)
    timings["validation_run"] = time.perf_counter() - t0
    reports = req.fingerprints.reports if req.fingerprints is not None else ()
    return Validated(record, validation_parts(record.path, reports), timings, peak_rss_kb())


def validate(data_dir: Path, fy: int, vdir: Path, key: str) -> ValidationRecord:
    """Validate the data folder into ``vdir`` unless a whole result from ``key`` is there."""
    cached = cached_validation(vdir, key)
    if cached is not None:
        cached.cached = True
        cached.path = str(vdir / "validation.json")  # the output folder may have moved
        return cached
    from kpilib.batch.worker import peak_rss_kb
    from kpilib.validation import run_validation

    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / VALIDATION_RECORD).unlink(missing_ok=True)
    t0 = time.perf_counter()
    report = run_validation(data_dir, fy=fy, out_dir=vdir)
    from kpilib.catalog import load_catalog

    n_block = sum(1 for f in report.findings if f.severity == "blocking")
    units: dict[str, list[int]] = {}
    for unit in load_catalog().units:
        found = report.for_unit(unit.code)
        blocking = sum(1 for f in found if f.severity == "blocking")
        units[unit.code] = [blocking, len(found) - blocking]
    summary = ValidationRecord(
        path=str(vdir / "validation.json"),
        key=key,
        created_at=utc_now(),
        seconds=round(time.perf_counter() - t0, 3),
        blocking=n_block,
        warnings=len(report.findings) - n_block,
        unusable=tuple(report.unusable),
        units=units,
        peak_rss_kb=peak_rss_kb(),
    )
    atomic_write_text(vdir / VALIDATION_RECORD, json.dumps(summary.as_dict(), indent=1) + "\n")
    return summary
