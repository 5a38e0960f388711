"""The data bundle: one data folder's canonical tables, read lazily and once.

A data folder holds ``raw/`` (inputs, never modified) and ``processed/`` (canonical Parquet
tables written by :func:`kpilib.ingest.ingest`). :func:`load_bundle` ingests ``raw/`` first
when ``processed/`` is missing or older than ``raw/``.
"""

from __future__ import annotations

import fcntl
import json
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import paths
from kpilib.errors import InputError, ParameterError
from kpilib.fsio import sha256_file
from kpilib.ingest import REPORT_NAME, ingest, raw_files
from kpilib.tables import declarations_hash, table_names

__all__ = ["Bundle", "ensure_ingested", "is_stale", "load_bundle"]


class Bundle:
    """The canonical tables of one data folder.

    Tables are read from ``<path>/processed/<name>.parquet`` on first use and cached.
    ``table()`` returns a shallow copy (pandas copy-on-write), so callers cannot change the
    cached frame.
    """

    def __init__(self, path: str | Path, *, processed: str | Path | None = None) -> None:
        self._path = Path(path).resolve()
        self._processed = Path(processed).resolve() if processed else self._path / "processed"
        self._cache: dict[str, pd.DataFrame] = {}
        self._hashes: dict[str, str] | None = None
        self._names: frozenset[str] | None = None
        self._present: dict[str, bool] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Bundle({str(self._path)!r})"

    @property
    def path(self) -> Path:
        """The data folder."""
        return self._path

    @property
    def processed_dir(self) -> Path:
        """Where the canonical tables are."""
        return self._processed

    def _check_name(self, name: str) -> None:
        if self._names is None:  # the declarations of when the bundle was opened
            self._names = frozenset(table_names())
        if name not in self._names:
            names = table_names()
            raise ParameterError(f"unknown table {name!r}; tables are: {', '.join(names)}")

    def has_table(self, name: str) -> bool:
        """True if the canonical table exists in this bundle (looked up once per name: a
        bundle does not change once opened, a new ingest opens a new one)."""
        self._check_name(name)
        present = self._present.get(name)
        if present is None:
            present = name in self._cache or (self._processed / f"{name}.parquet").is_file()
            self._present[name] = present
        return present

    def tables(self) -> tuple[str, ...]:
        """The names of the tables present."""
        return tuple(t for t in table_names() if self.has_table(t))

    def table(self, name: str) -> pd.DataFrame:
        """Return a canonical table (see docs/architecture.md for its columns and dtypes).

        Raises:
            ParameterError: Unknown table name.
            InputError: The table is not in this bundle.
        """
        self._check_name(name)
        with self._lock:
            df = self._cache.get(name)
            if df is None:
                path = self._processed / f"{name}.parquet"
                if not path.is_file():
                    raise InputError(f"table {name!r} is not in this data folder", file=str(path))
                df = pd.read_parquet(path)
                self._cache[name] = df
        return df.copy(deep=False)

    def quarantine(self, name: str) -> pd.DataFrame:
        """The rows of a table's inputs that were not carried over (empty frame if none)."""
        self._check_name(name)
        path = self._processed / "quarantine" / f"{name}.csv"
        if not path.is_file():
            return pd.DataFrame(columns=["source_file", "source_row", "reason_code", "reason"])
        return pd.read_csv(path, dtype=str, keep_default_na=False)

    def ingest_report(self) -> dict[str, Any]:
        """The ingest report (``processed/ingest_report.json``), or ``{}``."""
        path = self._processed / REPORT_NAME
        if not path.is_file():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    def input_hashes(self) -> dict[str, str]:
        """sha256 of each raw input file, by file name (sorted); computed once."""
        if self._hashes is None:
            files = raw_files(self._path / "raw")
            if files:
                self._hashes = {p.name: sha256_file(p) for p in files}
            else:  # processed-only bundle: the hashes recorded at ingest time
                rep = self.ingest_report()
                self._hashes = {f["file"]: f["sha256"] for f in rep.get("files", [])}
        return dict(self._hashes)


def is_stale(path: str | Path) -> bool:
    """True when ``<path>/processed`` is missing or older than ``<path>/raw``.

    Stale means: no ingest report, other table declarations (``params/tables``), a
    different set of raw files, or a raw file newer than the report whose sha256 differs
    from the one recorded at ingest time (a file touched without a change in content does
    not force a new ingest).
    """
    data = Path(path)
    files = raw_files(data / "raw")
    report = data / "processed" / REPORT_NAME
    if not files:
        return False
    if not report.is_file():
        return True
    try:
        doc = json.loads(report.read_text(encoding="utf-8"))
        recorded = {f["file"]: f["sha256"] for f in doc.get("files", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return True
    if doc.get("declarations") != declarations_hash():
        return True
    if set(recorded) != {p.name for p in files}:
        return True
    mtime = report.stat().st_mtime
    return any(p.stat().st_mtime > mtime and sha256_file(p) != recorded[p.name] for p in files)


def ensure_ingested(path: str | Path) -> bool:
    """Ingest ``<path>/raw`` when ``processed/`` is missing or stale (:func:`is_stale`).

    Under a file lock in ``processed/``, so parallel processes ingest once. Returns True
    when an ingest ran.
    """
    data = Path(path)
    if not is_stale(data):
        return False
    processed = data / "processed"
    if processed.exists() and not processed.is_dir():
        raise InputError("processed is a file, not a folder", file=str(processed))
    processed.mkdir(parents=True, exist_ok=True)
    with open(processed / ".ingest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not is_stale(data):
                return False
            ingest(data_dir=data)
            return True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load_bundle(path: str | Path | None = None, *, refresh: bool = True) -> Bundle:
    """Open a data folder as a :class:`Bundle`.

    Args:
        path: The data folder (default ``data/sample``).
        refresh: Ingest ``raw/`` first when ``processed/`` is missing or stale
            (under a lock, so parallel workers ingest once).

    Raises:
        InputError: The folder has neither raw inputs nor processed tables.
    """
    data = Path(path) if path is not None else paths.sample_data_dir()
    if not data.is_dir():
        raise InputError("data folder not found", file=str(data))
    processed = data / "processed"
    if refresh:
        ensure_ingested(data)
    if not processed.is_dir() and not raw_files(data / "raw"):
        raise InputError("no raw/ inputs and no processed/ tables", file=str(data))
    return _open(data)


_OPEN: dict[str, tuple[int, Bundle]] = {}
_OPEN_LOCK = threading.Lock()


def _open(data: Path) -> Bundle:
    """One :class:`Bundle` per data folder and ingest: reports in one process share its
    tables and the complaint engine's per-bundle results; a new ingest (a new
    ``ingest_report.json``) opens a fresh one."""
    key = str(data.resolve())
    report = data / "processed" / REPORT_NAME
    try:
        stamp = report.stat().st_mtime_ns
    except OSError:
        return Bundle(data)  # nothing ingested to key on: do not cache
    with _OPEN_LOCK:
        hit = _OPEN.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        bundle = Bundle(data)
        _OPEN[key] = (stamp, bundle)
        return bundle
