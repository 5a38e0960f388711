"""Source ``traffy-dump``: the Traffy Fondue open-data dump CSV.

Quirks (declared in ``params/tables/tickets.yaml``, see docs/data.md): UTF-8 with a BOM,
UTC ``+00`` timestamps, a set-literal ``type``, district without "เขต", two province
spellings, rows outside Bangkok, empty ticket ids, and only the state at export time (no
in-progress or finished times; ``last_activity`` is not a completion time and is not read).
"""

from __future__ import annotations

from kpilib.ingest.traffy import TraffyAdapter


class TraffyDump(TraffyAdapter):
    """The open-data dump: ``state_is_export_time`` is True for every row."""

    name = "traffy-dump"
