"""Recognising a raw file's source: by its header, or failing that by its name.

A file's source is the declared source whose header has exactly the file's set of column
names (order free). A file matching none is *unrecognised*; :func:`closest_source` names the
declared source it resembles most (Jaccard similarity of the column-name sets) and whether
the resemblance is clear enough to hold the file to that source's table.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kpilib.errors import SchemaError
from kpilib.ingest.reader import read_header
from kpilib.tables import TableSet, load_tables

#: A resemblance counts as clear from this similarity on, when no other source comes as close.
CLEAR_MATCH = 0.5


@dataclass(frozen=True)
class SourceMatch:
    """How a header compares with one declared source.

    Attributes:
        source: The source's name.
        table: The table it feeds.
        similarity: Shared column names / all column names (1.0 = the same set).
        expected: The source's header.
        missing: Its columns the file lacks.
        unexpected: The file's columns it does not have.
        clear: The closest source by a clear margin (see :data:`CLEAR_MATCH`).
    """

    source: str
    table: str
    similarity: float
    expected: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    clear: bool = False

    def describe(self, found: Sequence[str]) -> str:
        """One sentence: expected, found, missing and unexpected columns."""
        return (
            f"expected columns [{', '.join(self.expected)}]; found [{', '.join(found)}]; "
            f"missing [{', '.join(self.missing)}]; unexpected [{', '.join(self.unexpected)}]"
        )


def _match(source: str, table: str, expected: Sequence[str], found: Sequence[str]) -> SourceMatch:
    exp, got = set(expected), set(found)
    return SourceMatch(
        source=source,
        table=table,
        similarity=len(exp & got) / len(exp | got) if exp | got else 0.0,
        expected=tuple(expected),
        missing=tuple(c for c in expected if c not in got),
        unexpected=tuple(c for c in found if c not in exp),
    )


def match_source(source: str, header: Sequence[str], tables: TableSet | None = None) -> SourceMatch:
    """How ``header`` compares with the declared source ``source``."""
    table, decl = (tables or load_tables()).source(source)
    return _match(source, table.table, decl.header, header)


def closest_source(header: Sequence[str], tables: TableSet | None = None) -> SourceMatch:
    """The declared source whose header resembles ``header`` most."""
    tables = tables or load_tables()
    matches = sorted(
        (_match(name, t.table, src.header, header) for name, t, src in tables.sources()),
        key=lambda m: -m.similarity,
    )
    best = matches[0]
    runner_up = matches[1].similarity if len(matches) > 1 else 0.0
    clear = best.similarity >= CLEAR_MATCH and best.similarity > runner_up
    return SourceMatch(**{**best.__dict__, "clear": clear})


def detect_source(
    path: str | Path, *, header: Sequence[str] | None = None, tables: TableSet | None = None
) -> str:
    """Name the source of a raw CSV from its header.

    Raises:
        SchemaError: The columns match no declared source; the message names the closest
            source and lists the columns expected, found, missing and unexpected.
    """
    tables = tables or load_tables()
    cols = list(header) if header is not None else read_header(path)
    found = set(cols)
    for name, _, src in tables.sources():
        if src.matches(found):
            return name
    m = closest_source(cols, tables)
    known = ", ".join(name for name, _, _ in tables.sources())
    raise SchemaError(
        f"unknown schema; closest is {m.source!r} (table {m.table}): {m.describe(cols)}. "
        f"Known schemas: {known}",
        file=Path(path).name,
    )


def source_by_name(file_name: str, tables: TableSet | None = None) -> str | None:
    """The source whose conventional file names match ``file_name`` (``.gz`` ignored), if any."""
    tables = tables or load_tables()
    name = file_name[:-3] if file_name.lower().endswith(".gz") else file_name
    for source, _, src in tables.sources():
        if any(fnmatch.fnmatch(name, pat) for pat in src.file_names):
            return source
    return None


__all__ = [
    "CLEAR_MATCH",
    "SourceMatch",
    "closest_source",
    "detect_source",
    "match_source",
    "source_by_name",
]
