"""A table's rows of one unit: the table split by unit once per bundle (:mod:`kpilib.memo`).

A batch worker renders every unit's reports on one bundle, and the measures over the side
tables, the audit table and the complaint charts each look up one unit's rows report after
report: the table is grouped once, and each look-up is a dictionary's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kpilib.memo import memoized

if TYPE_CHECKING:  # the measures' view of a bundle; importing it here would be a cycle
    from kpilib.measures import BundleLike


def unit_rows(bundle: BundleLike, table: str, unit_code: str) -> pd.DataFrame:
    """The rows of ``table`` whose ``unit_code`` is ``unit_code``, in table order with their
    index (none: an empty frame with the table's columns). Rows without a unit code belong
    to no unit.

    Raises:
        KeyError or InputError: As ``bundle.table`` does for a table the bundle lacks.
    """

    def split() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        df = bundle.table(table)
        codes = df["unit_code"].astype("string")
        groups = df.groupby(codes, sort=False, dropna=True)
        return df.iloc[:0], {str(code): rows for code, rows in groups}

    empty, by_unit = memoized(bundle, ("by_unit.unit_rows", table), split)
    return by_unit.get(str(unit_code), empty)
