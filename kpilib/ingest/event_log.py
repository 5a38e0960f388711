"""Source ``event-log``: the canonical complaint event log (``ticket_id,unit_code,event,timestamp``).

Event names are matched case-insensitively and written as a categorical in lifecycle order;
naive timestamps are Bangkok time (declared in ``params/tables/events.yaml``).
"""

from __future__ import annotations

from kpilib.ingest.base import Adapter


class EventLog(Adapter):
    """The event log needs nothing beyond its declaration."""

    name = "event-log"
