"""Ingest: raw exports → canonical Parquet tables + quarantine, one adapter per source.

Sources are declared with their tables in ``params/tables/`` (:mod:`kpilib.tables`) and read
by the adapter their declaration names (:mod:`kpilib.ingest.registry`):

- ``traffy-dump`` (:mod:`~kpilib.ingest.traffy_dump`): the Traffy Fondue open-data dump;
- ``traffy-api-v2`` (:mod:`~kpilib.ingest.traffy_api_v2`): Traffy's download API v2;
- ``event-log`` (:mod:`~kpilib.ingest.event_log`): the canonical complaint event log;
- ``side-table`` (:mod:`~kpilib.ingest.side_tables`): report submissions … conditions, and
  published monthly figures.

A file is recognised by its header (any name, ``.csv`` or ``.csv.gz``). Every raw row that
is not carried over goes to ``processed/quarantine/<table>.csv`` with ``source_file``,
``source_row`` (1-based data row), ``reason_code``, ``reason``, the validation ``check`` it
amounts to, the ``column`` and ``unit_code``, then the raw fields read; values read in spite
of a quirk are listed in ``processed/notes/<table>.csv``. Raw files are only ever opened for
reading. Validation reads the same parse (:mod:`kpilib.validation`). See ``docs/data.md``.
"""

from __future__ import annotations

from typing import Any

from kpilib.ingest.base import Adapter, ParsedFile
from kpilib.ingest.parse import NOTE_COLUMNS, QUARANTINE_HEAD
from kpilib.ingest.reader import is_raw_file, raw_files, read_header
from kpilib.ingest.registry import AdapterRegistry, adapters
from kpilib.ingest.run import (
    REPORT_NAME,
    FileResult,
    IngestReport,
    district_lookup,
    ingest,
    load_ingest_report,
    read_source,
)
from kpilib.ingest.sources import SourceMatch, closest_source, detect_source, source_by_name
from kpilib.tables import table_names


def __getattr__(name: str) -> Any:
    # TABLES: the declared canonical tables, read from params/tables on first use (not on import)
    if name == "TABLES":
        return table_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "NOTE_COLUMNS",
    "QUARANTINE_HEAD",
    "REPORT_NAME",
    "TABLES",
    "Adapter",
    "AdapterRegistry",
    "FileResult",
    "IngestReport",
    "ParsedFile",
    "SourceMatch",
    "adapters",
    "closest_source",
    "detect_source",
    "district_lookup",
    "ingest",
    "is_raw_file",
    "load_ingest_report",
    "raw_files",
    "read_header",
    "read_source",
    "source_by_name",
]
