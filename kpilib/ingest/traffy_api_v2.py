"""Source ``traffy-api-v2``: Traffy Fondue's download API v2 CSV.

UTC+7 timestamps written without an offset, true in-progress and finished times
(``timestamp_inprogress``, ``timestamp_finished``); ``description`` is the citizen's text and
``status`` the state (declared in ``params/tables/tickets.yaml``).
"""

from __future__ import annotations

from kpilib.ingest.traffy import TraffyAdapter


class TraffyApiV2(TraffyAdapter):
    """API v2 rows: as-of figures are possible (``state_is_export_time`` is False)."""

    name = "traffy-api-v2"
