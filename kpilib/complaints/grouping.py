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


def group_counts(
    unit_codes: np.ndarray, unit_values: Any, units: list[str], *flags: np.ndarray
) -> list[np.ndarray]:
    """Count rows (and rows where each flag is True) per unit in ``units`` order."""
    pos = {u: i for i, u in enumerate(units)}
    lut = np.array([pos.get(str(v), -1) for v in unit_values] + [-1], dtype=np.int64)
    idx = lut[unit_codes] if unit_codes.size else unit_codes.astype(np.int64)
    keep = idx >= 0
    idx = idx[keep]
    n = len(units)
    out = [np.bincount(idx, minlength=n)]
    for f in flags:
        out.append(np.bincount(idx[f[keep]], minlength=n))
    return out


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
