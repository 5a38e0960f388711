"""Numbers as the seeds print them: half-up rounding and display formatting.

One declaration of each rule used anywhere in kpilib (formulas, the complaint engine, the
report, the summaries): :func:`round_half_up` (60.365 -> 60.37, never banker's rounding) and
:func:`fmt_number` (grouping, fixed decimals, Arabic or Thai digits, ``—`` for no value).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DASH = "—"
"""What a missing value shows as."""

Number = float | int


def round_half_up(value: Number | None, places: int = 2) -> float | None:
    """Round half-up (as printed in the seeds), not banker's rounding.

    ``round_half_up(60.365) == 60.37``; ``round_half_up(2.675) == 2.68`` (the decimal
    reading of the float, as a person would round the printed number). ``None`` and NaN give
    ``None``.

    Args:
        value: The number.
        places: Decimal places (default 2).
    """
    if value is None:
        return None
    f = float(value)
    if math.isnan(f):
        return None
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(f)).quantize(quantum, rounding=ROUND_HALF_UP))


def fmt_number(
    value: Any,
    *,
    decimals: int | None = None,
    grouping: bool = False,
    thai_digits: bool = False,
) -> str:
    """Format a number for people.

    Args:
        value: The number (``None``, NaN and infinities show as ``—``; a string is returned
            unchanged, empty as ``—``).
        decimals: Exactly this many decimals (half-up). ``None``: whole numbers plainly,
            others with 2 decimals.
        grouping: Thousands separators (``5,249``).
        thai_digits: Thai digits (``๕,๒๔๙``).
    """
    if value is None:
        return DASH
    if isinstance(value, str):
        return value or DASH
    if isinstance(value, bool):
        return str(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(f) or math.isinf(f):
        return DASH
    sep = "," if grouping else ""
    if decimals is None and f.is_integer():
        text = f"{int(f):{sep}d}"
    else:
        places = 2 if decimals is None else decimals
        rounded = round_half_up(f, places)
        text = f"{rounded:{sep}.{places}f}"
    if thai_digits:
        from kpilib.calendar import to_thai_digits

        text = to_thai_digits(text)
    return text
