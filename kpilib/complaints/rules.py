"""The complaint rules' constants, declared once (docs/complaints.md gives the seed text)."""

from __future__ import annotations

from typing import Literal

from kpilib.errors import ParameterError

#: Thai state name of a finished Traffy / BMA ticket.
FINISHED_STATE = "เสร็จสิ้น"
#: Lifecycle events of the canonical event log, in the order the engine numbers them.
EVENT_TYPES: tuple[str, ...] = ("forwarded", "accepted", "progress", "finished", "reopened")
FORWARDED, ACCEPTED, PROGRESS, FINISHED, REOPENED = range(5)
#: Step 1: business days to accept, counted from the day after forwarding.
ACCEPT_BUSINESS_DAYS = 1
#: Step 1: business days to file the first progress report, counted from the day after acceptance.
FIRST_PROGRESS_BUSINESS_DAYS = 3
#: Step 3: the monthly summary is due on this day of the following month.
REPORT_DUE_DAY = 10
#: Year-end: at least this % of the year's complaints resolved.
YEAR_END_TARGET_PCT = 95.0
#: Backlog ageing buckets (days open, inclusive bounds; None = no upper bound).
AGEING_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (0, 7, "0–7"),
    (8, 14, "8–14"),
    (15, 30, "15–30"),
    (31, None, "31+"),
)
#: Label of a ticket without a type tag.
NO_TAG = "(ไม่ระบุประเภท)"

FebruaryRule = Literal["last_day", "last_business_day"]
StateBasis = Literal["as_of", "export_time", "mixed"]


def check_february(february: str) -> None:
    """Refuse a February checkpoint rule other than the two the seeds give.

    Raises:
        ParameterError: For any other value.
    """
    if february not in ("last_day", "last_business_day"):
        raise ParameterError(
            f"february must be 'last_day' or 'last_business_day', got {february!r}"
        )
