"""Keys as integer codes and counts per unit: the small helpers every complaint table uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd


def pct(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num × 100 / den`` (unrounded), NaN where ``den`` is 0."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(num.shape, np.nan)
    ok = den > 0
    out[ok] = num[ok] * 100.0 / den[ok]
    return out


def codes(series: pd.Series, *, as_object: bool = True) -> tuple[np.ndarray, Any]:
    """Factorize a key column: (int codes, unique values); -1 for missing; fast for categoricals.

    With ``as_object=False`` the unique values stay a pandas array (no Python strings made).
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        c = series.cat.codes.to_numpy().astype(np.int64)
        cats = series.cat.categories
        return c, np.asarray(cats, dtype=object) if as_object else cats
    c, uniques = pd.factorize(series, use_na_sentinel=True)
    return c.astype(np.int64), np.asarray(uniques, dtype=object) if as_object else uniques


def key_maker(series: pd.Series, values: Any) -> Callable[[np.ndarray], Any]:
    """A function turning codes of ``series`` back into a column (categorical when it was)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        dtype = series.dtype
        return lambda c: pd.Categorical.from_codes(c, dtype=dtype)
    return lambda c: values.take(c)


def unit_index(units: Sequence[str] | None, present: Any) -> list[str]:
    """The units to report: those given, in order, or every unit present (sorted)."""
    if units is not None:
        return [str(u) for u in units]
    return sorted({str(u) for u in present})


class UnitIndex:
    """Rows' unit codes mapped once to positions in a report's unit list, for counting.

    ``count(mask)`` counts the rows where ``mask`` holds, per unit, in the list's order
    (one ``bincount``; rows of units not in the list are not counted).
    """

    def __init__(self, unit_codes: np.ndarray, unit_values: Any, units: Sequence[str]) -> None:
        pos = {str(u): i + 1 for i, u in enumerate(units)}  # 0: not reported
        lut = np.array([pos.get(str(v), 0) for v in unit_values] + [0], dtype=np.intp)
        self.idx = lut[unit_codes]  # a code -1 (missing) picks the trailing 0
        self.n = len(pos)

    def count(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Rows per unit (where ``mask`` holds)."""
        c = np.bincount(self.idx, weights=mask, minlength=self.n + 1)
        return c[1:].astype(np.int64)


def state_basis(n_export: np.ndarray, n_rows: np.ndarray) -> list[str | None]:
    """Per row: ``as_of`` (no export-time state), ``export_time`` (all), ``mixed``; None if empty."""
    out: list[str | None] = []
    for e, n in zip(n_export.tolist(), n_rows.tolist(), strict=True):
        if n == 0:
            out.append(None)
        elif e == 0:
            out.append("as_of")
        elif e == n:
            out.append("export_time")
        else:
            out.append("mixed")
    return out
