"""Source ``side-table``: the other input tables (report submissions, council resolutions,
key projects, surveys, directives, LINE@ requests, manual results, conditions, published
monthly figures). Each is read exactly as its declaration in ``params/tables/`` says:
raw columns = canonical columns, parsed by type, rows repeating the key set aside.
"""

from __future__ import annotations

from kpilib.ingest.base import Adapter


class SideTable(Adapter):
    """A table whose raw file already has the canonical columns."""

    name = "side-table"
