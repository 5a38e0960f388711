"""The ingest run: raw files → canonical Parquet tables, quarantine, notes and a report.

Every raw file of ``raw/`` is recognised by its header (:mod:`kpilib.ingest.sources`), read
once by its source's adapter, and its rows carried over or set aside. A file that cannot be
read or matches no source does not stop the others: it is recorded in the report (with the
closest source) for validation to turn into a finding. Files named explicitly must be usable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kpilib.catalog import load_catalog
from kpilib.errors import InputError, ParameterError, SchemaError
from kpilib.fsio import TMP_PREFIX, atomic_write, atomic_write_text, sha256_file
from kpilib.ingest.base import ParsedFile
from kpilib.ingest.parse import NOTE_COLUMNS, QUARANTINE_HEAD, key_codes
from kpilib.ingest.reader import raw_files, read_header
from kpilib.ingest.registry import adapters
from kpilib.ingest.sources import closest_source, detect_source, match_source, source_by_name
from kpilib.tables import TableSet, declarations_hash, load_tables

REPORT_NAME = "ingest_report.json"

FileStatus = Literal["ingested", "unrecognised", "unreadable"]


# --------------------------------------------------------------------------- the report


class FileResult(BaseModel):
    """What happened to one raw file.

    Attributes:
        file: Its name.
        status: ``ingested``; ``unrecognised`` (its header matches no source);
            ``unreadable`` (not CSV text: empty, binary, HTML, not UTF-8, broken).
        source: The source it was read as (or the closest / the one its name suggests).
        table: The table it feeds (or would feed).
        rows: Data rows read; ``rows == carried + sum(quarantined)``.
        carried: Rows carried over.
        quarantined: Rows set aside, per reason code.
        notes: Values read in spite of a quirk, per check.
        sha256: Of the raw file.
        problem: Why the file was not ingested (one line).
        header: The file's columns (unrecognised files).
        missing: The closest source's columns the file lacks (unrecognised files).
        unexpected: The file's columns the closest source does not have.
        similarity: How close the closest source is (0..1).
        clear: The closest source is a clear match (its table is held to the file).
    """

    model_config = ConfigDict(extra="forbid")

    file: str
    status: FileStatus = "ingested"
    source: str = ""
    table: str = ""
    rows: int = 0
    carried: int = 0
    quarantined: dict[str, int] = {}
    notes: dict[str, int] = {}
    sha256: str = ""
    problem: str = ""
    header: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    similarity: float = 0.0
    clear: bool = False


class IngestReport(BaseModel):
    """Summary of one ingest run (also written as ``processed/ingest_report.json``).

    Attributes:
        out_dir: Where the canonical tables were written (not saved in the JSON).
        declarations: sha256 of the table declarations used (``params/tables``).
        files: One entry per raw file.
        tables: Rows written per canonical table.
        quarantine: Rows set aside per table and reason code.
    """

    model_config = ConfigDict(extra="forbid")

    out_dir: Path = Field(default=Path("."), exclude=True)
    declarations: str = ""
    files: list[FileResult] = []
    tables: dict[str, int] = {}
    quarantine: dict[str, dict[str, int]] = {}

    @property
    def quarantined_total(self) -> int:
        """All rows set aside."""
        return sum(sum(v.values()) for v in self.quarantine.values())

    @property
    def not_ingested(self) -> list[FileResult]:
        """Files that could not be read or recognised."""
        return [f for f in self.files if f.status != "ingested"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no time stamps, so reruns write identical bytes)."""
        return self.model_dump(mode="json")

    def lines(self) -> list[str]:
        """Human-readable summary lines (what ``kpi ingest`` prints)."""
        out = []
        for f in self.files:
            if f.status != "ingested":
                out.append(f"NOT INGESTED ({f.status}): {f.problem}")
                continue
            out.append(
                f"{f.file} [{f.source}] → {f.table}: {f.rows} rows, {f.carried} carried, "
                f"{sum(f.quarantined.values())} quarantined"
            )
        for table, n in self.tables.items():
            out.append(f"{table}: {n} rows")
        for table, counts in self.quarantine.items():
            for code, n in sorted(counts.items()):
                out.append(f"quarantine/{table}.csv: {n} × {code}")
        out.append(f"written to {self.out_dir}")
        return out


def load_ingest_report(path: str | Path) -> IngestReport:
    """Read a saved ``ingest_report.json``.

    Raises:
        InputError: Missing, or not an ingest report.
    """
    p = Path(path)
    try:
        rep = IngestReport.model_validate_json(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the ingest report: {exc.strerror}", file=p) from exc
    except ValidationError as exc:
        raise InputError(f"not an ingest report: {exc.errors()[0]['msg']}", file=p) from exc
    rep.out_dir = p.parent
    return rep


# --------------------------------------------------------------------------- reading


def district_lookup() -> dict[str, str]:
    """District name (no "เขต", no spaces) → geocode, from the catalogue's units.

    The catalogue's Thai names carry the "เขต" prefix; Traffy writes the name without it,
    sometimes with it or with spaces. The units' other spellings (``aliases_th``) count too.
    """
    out: dict[str, str] = {}
    for u in load_catalog().units:
        if u.kind != "district":
            continue
        for name in (u.name_th, *u.aliases_th):
            key = "".join(name.strip().removeprefix("เขต").split())
            out[key] = u.code
    return out


def read_source(
    path: str | Path,
    *,
    source: str = "auto",
    file_name: str | None = None,
    tables: TableSet | None = None,
    districts: dict[str, str] | None = None,
    sink: Path | None = None,
) -> ParsedFile:
    """Read one raw file with its source's adapter (nothing is written).

    Args:
        path: The raw CSV (``.csv`` or ``.csv.gz``).
        source: ``auto`` (recognise it from the header) or a declared source name.
        file_name: The name recorded in ``source_file`` (default: the file's name).
        tables: The declarations (default :func:`kpilib.tables.load_tables`).
        districts: District name → geocode (default :func:`district_lookup`, when needed).
        sink: Stream the carried rows to this Parquet file (default: keep them in memory).

    Raises:
        SchemaError: The header matches no source, or not the one stated.
        InputError: The file is not CSV text.
        ParameterError: ``source`` is not a declared source.
    """
    p = Path(path)
    name = file_name or p.name
    tables = tables or load_tables()
    header = read_header(p)
    if source == "auto":
        source = detect_source(p, header=header, tables=tables)
    else:
        known = [s for s, _, _ in tables.sources()]
        if source not in known:
            raise ParameterError(
                f"unknown source {source!r}; choose auto or one of {', '.join(known)}"
            )
        _, decl = tables.source(source)
        if not decl.matches(set(header)):
            m = match_source(source, header, tables)
            raise SchemaError(
                f"columns do not match source {source!r}: {m.describe(header)}", file=name
            )
    adapter = adapters.for_source(source, tables)
    if adapter.source.units_by == "district_name" and districts is None:
        districts = district_lookup()
    return adapter.read(p, header=header, file_name=name, districts=districts, sink=sink)


def _not_ingested(path: Path, exc: Exception, tables: TableSet) -> FileResult:
    """The record of a raw file that could not be read or recognised."""
    sha = sha256_file(path)
    problem = exc.one_line() if isinstance(exc, InputError) else str(exc)
    if isinstance(exc, SchemaError):
        try:
            header = read_header(path)
        except InputError:
            header = []
        if header:
            m = closest_source(header, tables)
            return FileResult(
                file=path.name,
                status="unrecognised",
                source=m.source,
                table=m.table,
                sha256=sha,
                problem=problem,
                header=tuple(header),
                missing=m.missing,
                unexpected=m.unexpected,
                similarity=round(m.similarity, 4),
                clear=m.clear,
            )
    by_name = source_by_name(path.name, tables)
    table = tables.source(by_name)[0].table if by_name else ""
    return FileResult(
        file=path.name,
        status="unreadable",
        source=by_name or "",
        table=table,
        sha256=sha,
        problem=problem,
    )


# --------------------------------------------------------------------------- combining


def _combine(parts: list[ParsedFile], tables: TableSet, target: Path) -> pd.DataFrame | None:
    """Write one table from several files; a key already given by an earlier file is set aside.

    Files are taken in the order of their sources' declaration (e.g. Traffy API v2 before
    the dump, so its true finish times win), then by file name. A repeat from another source
    is ``source_overlap`` (expected: the same ticket in two exports); from the same source it
    is a ``duplicate`` when every canonical field is equal, else a clash of keys.
    Returns the quarantine rows of the repeats (``None`` if there are none).
    """
    table = tables.table(parts[0].table)
    order = list(table.sources)
    parts = sorted(parts, key=lambda pf: (order.index(pf.source), pf.file))
    paths = [pf.sink.path for pf in parts]
    assert all(p is not None for p in paths)
    key = list(table.key)
    keys = pd.concat(
        [
            pd.read_parquet(p, columns=[*key, "source_row"]).assign(_part=i)
            for i, p in enumerate(paths)
        ],  # type: ignore[arg-type]
        ignore_index=True,
    )
    kh = key_codes(keys[key])
    dup = pd.Series(kh).duplicated(keep="first").to_numpy()
    q = None
    drop: dict[int, np.ndarray] = {}
    if dup.any():
        first = pd.Series(np.arange(len(kh))).groupby(kh, sort=False).transform("first").to_numpy()
        rows = np.flatnonzero(dup)
        f = first[rows]
        part = keys["_part"].to_numpy()
        srow = keys["source_row"].to_numpy()
        fetched = []
        for i, pf in enumerate(parts):
            want = np.union1d(srow[rows][part[rows] == i], srow[f][part[f] == i])
            if len(want):
                fetched.append(pf.sink.take(want).assign(_part=i))
        both = pd.concat(fetched, ignore_index=True).set_index(["_part", "source_row"])
        content = [c for c in table.columns if c not in ("source", "source_file")]
        codes = pd.Series(key_codes(both[content].reset_index(drop=True)), index=both.index)
        later = list(zip(part[rows], srow[rows], strict=True))
        firsts = list(zip(part[f], srow[f], strict=True))
        equal = codes.loc[later].to_numpy() == codes.loc[firsts].to_numpy()
        same_source = np.array(
            [parts[a].source == parts[b].source for a, b in zip(part[rows], part[f], strict=True)]
        )
        one = len(key) == 1
        clash = f"duplicate_{key[0]}" if one else "duplicate_key"
        code = np.where(same_source & equal, "duplicate", clash)
        check = np.where(~same_source, "source_overlap", np.where(equal, "duplicate_row", "unique"))
        d = both.loc[later].reset_index()
        ffile = both.loc[firsts, "source_file"].to_numpy(dtype=object)
        head = pd.DataFrame(
            {
                "source_file": d["source_file"].to_numpy(dtype=object),
                "source_row": d["source_row"].to_numpy(),
                "reason_code": code,
                "reason": [
                    f"{', '.join(key)} already given by {a} data row {int(b)}"
                    for a, b in zip(ffile, srow[f], strict=True)
                ],
                "check": check,
                "column": "",
                "unit_code": d[table.unit_column].astype(str).to_numpy()
                if table.unit_column
                else "",
            }
        )
        # the raw fields are gone at this point: keep the row's canonical fields instead
        rest = d.drop(columns=[c for c in d.columns if c in QUARANTINE_HEAD or c == "_part"])
        q = pd.concat([head, rest], axis=1)
        for i in range(len(parts)):
            drop[i] = srow[rows][part[rows] == i]
    tmp = target.with_name(f".tmp-{target.name}.combine")
    schema = pq.ParquetFile(paths[0]).schema_arrow
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for i, p in enumerate(paths):
            gone = pa.array(drop.get(i, np.empty(0, dtype=np.int64)))
            for batch in pq.ParquetFile(p).iter_batches():  # type: ignore[arg-type]
                t = pa.Table.from_batches([batch])
                if len(gone):
                    t = t.filter(pac.invert(pac.is_in(t.column("source_row"), gone)))
                writer.write_table(t.cast(schema))
    os.replace(tmp, target)
    return q


# --------------------------------------------------------------------------- writing


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda p: df.to_csv(p, index=False, encoding="utf-8", lineterminator="\n"))


def ingest(
    files: Iterable[str | Path] | None = None,
    *,
    data_dir: str | Path,
    source: str = "auto",
    out_dir: str | Path | None = None,
) -> IngestReport:
    """Ingest raw files into canonical Parquet tables under ``out_dir``.

    Args:
        files: Raw files to read (default: every ``*.csv``/``*.csv.gz`` in ``data_dir/raw``;
            then tables with no input left are removed from ``out_dir``).
        data_dir: The data folder.
        source: ``auto`` or the source of every file in ``files``.
        out_dir: Output folder (default ``data_dir/processed``).

    Returns:
        The :class:`IngestReport` (also written to ``out_dir/ingest_report.json``). In a run
        over ``raw/``, a file that cannot be read or recognised is recorded there and the
        other files are ingested.

    Raises:
        SchemaError: A file named in ``files`` has an unknown schema (nothing is written).
        InputError: A file named in ``files`` is missing or unreadable (nothing is written),
            or ``raw/`` holds no raw file.
    """
    data = Path(data_dir)
    out = Path(out_dir) if out_dir else data / "processed"
    full_run = files is None
    paths = raw_files(data / "raw") if full_run else [Path(f) for f in files]  # type: ignore[union-attr]
    if full_run and not paths:
        raise InputError("no raw files (*.csv, *.csv.gz) to ingest", file=str(data / "raw"))
    for p in paths:
        if not p.is_file():
            raise InputError("file not found", file=str(p))
    if out.exists() and not out.is_dir():
        raise ParameterError(f"the output folder is a file: {out}")
    if out.resolve() in {p.parent.resolve() for p in paths}:
        raise ParameterError("the output folder must not be the folder of the raw files")
    tables = load_tables()
    report = IngestReport(out_dir=out, declarations=declarations_hash())
    out.mkdir(parents=True, exist_ok=True)
    per_table: dict[str, list[ParsedFile]] = {}
    temps: list[Path] = []
    try:
        # read everything first: an error in a named file leaves the previous output untouched
        for i, p in enumerate(paths):
            sink = out / f"{TMP_PREFIX}ingest-{i}.parquet"
            temps.append(sink)
            try:
                pf = read_source(p, source=source, tables=tables, sink=sink)
            except (SchemaError, InputError) as exc:
                if not full_run:
                    raise
                report.files.append(_not_ingested(p, exc, tables))
                continue
            per_table.setdefault(pf.table, []).append(pf)
            report.files.append(
                FileResult(
                    file=pf.file,
                    source=pf.source,
                    table=pf.table,
                    rows=pf.rows,
                    carried=pf.carried,
                    quarantined=pf.reason_counts(),
                    notes={str(k): int(v) for k, v in pf.notes["check"].value_counts().items()},
                    sha256=pf.sha256,
                )
            )
        quarantine: dict[str, list[pd.DataFrame]] = {}
        notes: dict[str, list[pd.DataFrame]] = {}
        for table, parts in per_table.items():
            target = out / f"{table}.parquet"
            qs = [pf.quarantine for pf in parts if len(pf.quarantine)]
            if len(parts) == 1:
                os.replace(parts[0].sink.path, target)  # type: ignore[arg-type]
                report.tables[table] = parts[0].carried
            else:
                cross = _combine(parts, tables, target)
                report.tables[table] = sum(pf.carried for pf in parts)
                if cross is not None:
                    qs.append(cross)
                    report.tables[table] -= len(cross)
                    for f in report.files:  # keep rows = carried + quarantined per file
                        hit = cross.loc[cross["source_file"] == f.file, "reason_code"]
                        for code, n in hit.value_counts().items():
                            f.carried -= int(n)
                            f.quarantined[str(code)] = f.quarantined.get(str(code), 0) + int(n)
            if qs:
                quarantine[table] = qs
            ns = [pf.notes for pf in parts if len(pf.notes)]
            if ns:
                notes[table] = ns
    finally:
        for t in temps:
            t.unlink(missing_ok=True)
    report.tables = {t: report.tables[t] for t in tables.tables if t in report.tables}
    for table in tables.tables:
        for folder, found in (("quarantine", quarantine), ("notes", notes)):
            path = out / folder / f"{table}.csv"
            parts_ = found.get(table)
            if parts_:
                qdf = pd.concat(parts_, ignore_index=True)
                _write_csv(qdf, path)
                if folder == "quarantine":
                    counts = qdf["reason_code"].value_counts()
                    report.quarantine[table] = {str(k): int(v) for k, v in sorted(counts.items())}
            elif table in per_table or full_run:
                path.unlink(missing_ok=True)
        if full_run and table not in per_table:
            (out / f"{table}.parquet").unlink(missing_ok=True)
    text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    atomic_write_text(out / REPORT_NAME, text)
    return report


__all__ = [
    "NOTE_COLUMNS",
    "REPORT_NAME",
    "FileResult",
    "IngestReport",
    "district_lookup",
    "ingest",
    "load_ingest_report",
    "read_source",
]
