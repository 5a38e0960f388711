"""The checks a suite may name: great-expectations expectations and domain cross-checks.

A ``gx`` check builds one GX expectation for the canonical (typed) table; a ``domain`` check
is a pandas function over the same table (cross-row and arithmetic checks GX has no
expectation for). ``enforced`` checks are applied by the ingest while it parses (a row
breaking them is set aside); validation reports those rows with the suite's severity.

The arithmetic functions (:func:`reported_percentage_mismatch`, ...) are public and usable
on any frame, e.g. published monthly figures (:func:`check_monthly_figures`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kpilib import calendar as cal
from kpilib.validation.findings import Failure, Finding, group_failures

if TYPE_CHECKING:
    from kpilib.validation.suites import CheckSpec


@dataclass(frozen=True)
class RunContext:
    """What checks need to know about the run.

    Attributes:
        fy: The fiscal year being reported (Buddhist Era).
        unit_codes: Every unit code of the catalogue.
        fy_first: The fiscal year's first day.
        fy_last: Its last day.
        kpi_ids: Every identifier the catalogue accepts for a KPI (id, code, aliases).
    """

    fy: int
    unit_codes: frozenset[str]
    fy_first: dt.date
    fy_last: dt.date
    kpi_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CheckDef:
    """A registered check: its kind, required parameters and how to run or describe it.

    Attributes:
        name: The name suites use.
        kind: ``gx`` (an expectation), ``domain`` (a pandas function) or ``enforced``
            (applied by the ingest; nothing to run here).
        needs: Parameters the check requires.
        describe: ``(spec, ctx) -> str``: the problem, for messages.
        build: ``gx``: ``(gxe, spec, ctx, column_type) -> Expectation``; ``domain``:
            ``(spec, frame, ctx, printed) -> failing positions``.
        printed: A domain check that also needs the raw text of its columns (as printed).
    """

    name: str
    kind: Literal["gx", "domain", "enforced"]
    needs: tuple[str, ...]
    describe: Callable[[CheckSpec, RunContext], str]
    build: Callable[..., Any]
    printed: bool = False


#: Every check a suite may name.
CHECKS: dict[str, CheckDef] = {}


def register_check(
    name: str,
    *,
    kind: Literal["gx", "domain", "enforced"],
    needs: tuple[str, ...] = (),
    describe: Callable[[CheckSpec, RunContext], str],
    printed: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a check by name (see :class:`CheckDef` for the function's signature)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = CheckDef(name, kind, needs, describe, fn, printed)
        return fn

    return deco


def _fy_text(ctx: RunContext) -> str:
    return f"fiscal year {ctx.fy} ({ctx.fy_first.isoformat()}..{ctx.fy_last.isoformat()})"


# --------------------------------------------------------------------------- applied by the ingest


@register_check(
    "unique",
    kind="enforced",
    describe=lambda s, c: f"duplicate key ({', '.join(s.columns or ())}); the first row is kept",
)
def _unique(*_: Any) -> None:
    """Rows repeating the table's key with other content are set aside by the ingest."""


# --------------------------------------------------------------------------- GX expectations


@register_check(
    "known_unit",
    kind="gx",
    needs=("column",),
    describe=lambda s, c: "unknown unit (not one of the 50 districts or the offices in params)",
)
def _gx_known_unit(gxe: Any, spec: CheckSpec, ctx: RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnValuesToBeInSet(column=spec.column, value_set=sorted(ctx.unit_codes))


@register_check(
    "known_kpi",
    kind="gx",
    needs=("column",),
    describe=lambda s, c: "KPI id not in the catalogue (id, official code or alias)",
)
def _gx_known_kpi(gxe: Any, spec: CheckSpec, ctx: RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnValuesToBeInSet(
        column=spec.column, value_set=sorted(html.escape(k) for k in ctx.kpi_ids)
    )


@register_check(
    "in_set",
    kind="gx",
    needs=("column",),
    describe=lambda s, c: f"value not allowed (allowed: {', '.join(s.values or ())})",
)
def _gx_in_set(gxe: Any, spec: CheckSpec, ctx: RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnValuesToBeInSet(
        column=spec.column, value_set=[html.escape(v) for v in spec.values or ()]
    )


def _bounds_text(spec: CheckSpec) -> str:
    lo = "-inf" if spec.min is None else f"{spec.min:g}"
    hi = "inf" if spec.max is None else f"{spec.max:g}"
    return f"value outside [{lo}, {hi}]"


@register_check("between", kind="gx", needs=("column",), describe=lambda s, c: _bounds_text(s))
def _gx_between(gxe: Any, spec: CheckSpec, ctx: RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnValuesToBeBetween(
        column=spec.column, min_value=spec.min, max_value=spec.max
    )


@register_check(
    "in_fiscal_year",
    kind="gx",
    needs=("column",),
    describe=lambda s, c: f"outside {_fy_text(c)}",
)
def _gx_in_fiscal_year(gxe: Any, spec: CheckSpec, ctx: RunContext, ctype: str | None) -> Any:
    if ctype == "fiscal_year":
        return gxe.ExpectColumnValuesToBeInSet(column=spec.column, value_set=[ctx.fy])
    lo = pd.Timestamp(ctx.fy_first)
    hi = pd.Timestamp(ctx.fy_last) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    if ctype == "timestamp":
        lo, hi = lo.tz_localize(cal.BANGKOK), hi.tz_localize(cal.BANGKOK)
    return gxe.ExpectColumnValuesToBeBetween(column=spec.column, min_value=lo, max_value=hi)


@register_check(
    "not_before",
    kind="gx",
    needs=("column", "other"),
    describe=lambda s, c: f"{s.column} is before {s.other}",
)
def _gx_not_before(gxe: Any, spec: CheckSpec, ctx: RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=spec.column,
        column_B=spec.other,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


@register_check(
    "not_greater",
    kind="gx",
    needs=("column", "other"),
    describe=lambda s, c: f"{s.column} (numerator) is greater than {s.other} (denominator)",
)
def _gx_not_greater(gxe: Any, spec: CheckSpec, ctx: RunContext, ctype: str | None) -> Any:
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=spec.other,
        column_B=spec.column,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


# --------------------------------------------------------------------------- domain checks


def _positions(mask: pd.Series | np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool))]


@register_check(
    "event_order",
    kind="domain",
    needs=("column", "first", "then"),
    describe=lambda s, c: f"'{s.then}' is before the ticket's first '{s.first}'",
)
def _dom_event_order(
    spec: CheckSpec, frame: pd.DataFrame, ctx: RunContext, printed: Mapping[str, pd.Series]
) -> list[int]:
    col = spec.column or "timestamp"
    event = frame["event"]
    if isinstance(event.dtype, pd.CategoricalDtype):  # compare codes, not 1 M strings
        cats = list(event.cat.categories)
        ev = event.cat.codes.to_numpy()
        want_first = cats.index(spec.first) if spec.first in cats else -2
        want_then = cats.index(spec.then) if spec.then in cats else -2
    else:
        ev = event.astype(str).to_numpy()
        want_first, want_then = spec.first, spec.then
    ticket, _ = pd.factorize(frame["ticket_id"])
    ts = frame[col].to_numpy(dtype="datetime64[ns]")  # UTC instants: order is what matters
    first = np.flatnonzero(ev == want_first)
    earliest = (
        pd.Series(ts[first]).groupby(ticket[first]).min()
        if len(first)
        else pd.Series([], dtype="datetime64[ns]")
    )
    then = np.flatnonzero(ev == want_then)
    start = earliest.reindex(ticket[then]).to_numpy(dtype="datetime64[ns]")
    bad = ~np.isnat(start) & ~np.isnat(ts[then]) & (ts[then] < start)
    return [int(i) for i in then[bad]]


def _decimals(text: str) -> int:
    text = cal.from_thai_digits(text).strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


def reported_percentage_mismatch(
    numerator: pd.Series,
    denominator: pd.Series,
    reported: pd.Series,
    *,
    printed: pd.Series | None = None,
    decimals: int = 2,
) -> pd.Series:
    """A boolean mask of rows whose reported percentage disagrees with num×100/den.

    A printed value is accepted when it is within half a unit of its last printed decimal
    (131 of 217 = 60.3686…: "60.37" and "60.4" pass, "60.36" and "61" fail).

    Args:
        numerator: Counts (e.g. finished).
        denominator: Counts (e.g. received).
        reported: The published percentage, as numbers.
        printed: The published percentage as printed (text), to read its decimals from;
            when absent, ``decimals`` is used.
        decimals: Printed decimals when ``printed`` is absent.
    """
    num = pd.to_numeric(numerator, errors="coerce").astype(float)
    den = pd.to_numeric(denominator, errors="coerce").astype(float)
    rep = pd.to_numeric(reported, errors="coerce").astype(float)
    if printed is not None:
        dec = printed.astype(str).map(_decimals).astype(float)
        dec.index = rep.index
    else:
        dec = pd.Series(float(decimals), index=rep.index)
    tol = 0.5 * 10.0 ** (-dec) + 1e-9
    usable = num.notna() & den.notna() & rep.notna() & (den > 0)
    exact = num.where(usable) * 100.0 / den.where(usable)
    return (usable & ((rep - exact).abs() > tol)).fillna(False).astype(bool)


def monthly_figures_mismatch(
    received: pd.Series, finished: pd.Series, in_progress: pd.Series
) -> pd.Series:
    """A boolean mask of rows where finished + in progress ≠ received."""
    r = pd.to_numeric(received, errors="coerce")
    f = pd.to_numeric(finished, errors="coerce")
    p = pd.to_numeric(in_progress, errors="coerce")
    usable = r.notna() & f.notna() & p.notna()
    return (usable & ((f + p) != r)).fillna(False).astype(bool)


def percentages_sum_mismatch(
    a: pd.Series,
    b: pd.Series,
    *,
    printed_a: pd.Series | None = None,
    printed_b: pd.Series | None = None,
    decimals: int = 2,
) -> pd.Series:
    """A boolean mask of rows whose two percentages do not add up to 100 within rounding."""
    x = pd.to_numeric(a, errors="coerce").astype(float)
    y = pd.to_numeric(b, errors="coerce").astype(float)

    def tol(printed: pd.Series | None, idx: pd.Index) -> pd.Series:
        if printed is None:
            return pd.Series(0.5 * 10.0**-decimals, index=idx)
        out = 0.5 * 10.0 ** (-printed.astype(str).map(_decimals).astype(float))
        out.index = idx
        return out

    limit = tol(printed_a, x.index) + tol(printed_b, y.index) + 1e-9
    usable = x.notna() & y.notna()
    return (usable & ((x + y - 100.0).abs() > limit)).fillna(False).astype(bool)


_MONTHLY_BALANCE_TEXT = "finished + in_progress is not equal to received"


@register_check("monthly_balance", kind="domain", describe=lambda s, c: _MONTHLY_BALANCE_TEXT)
def _dom_monthly_balance(
    spec: CheckSpec, frame: pd.DataFrame, ctx: RunContext, printed: Mapping[str, pd.Series]
) -> list[int]:
    return _positions(
        monthly_figures_mismatch(frame["received"], frame["finished"], frame["in_progress"])
    )


@register_check(
    "reported_percentage",
    kind="domain",
    needs=("column", "numerator", "denominator"),
    describe=lambda s, c: (
        f"{s.column} differs from {s.numerator} × 100 / {s.denominator} beyond its printed rounding"
    ),
    printed=True,
)
def _dom_reported_percentage(
    spec: CheckSpec, frame: pd.DataFrame, ctx: RunContext, printed: Mapping[str, pd.Series]
) -> list[int]:
    assert spec.column and spec.numerator and spec.denominator
    return _positions(
        reported_percentage_mismatch(
            frame[spec.numerator],
            frame[spec.denominator],
            frame[spec.column],
            printed=printed.get(spec.column),
        )
    )


@register_check(
    "percentages_sum",
    kind="domain",
    needs=("columns",),
    describe=lambda s, c: f"{' + '.join(s.columns or ())} is not 100 within rounding",
    printed=True,
)
def _dom_percentages_sum(
    spec: CheckSpec, frame: pd.DataFrame, ctx: RunContext, printed: Mapping[str, pd.Series]
) -> list[int]:
    a, b = (spec.columns or ())[:2]
    return _positions(
        percentages_sum_mismatch(
            frame[a], frame[b], printed_a=printed.get(a), printed_b=printed.get(b)
        )
    )


def _numeric_text(s: pd.Series) -> pd.Series:
    return pd.to_numeric(
        s.astype(str).map(cal.from_thai_digits).str.replace(",", ""), errors="coerce"
    )


def check_monthly_figures(
    df: pd.DataFrame,
    *,
    table: str = "monthly_figures",
    source_file: str | None = None,
    decimals: int = 2,
) -> list[Finding]:
    """Cross-check any monthly-figures table: balance, reported percentages, percentage sum.

    ``df`` needs ``received``, ``finished``, ``in_progress`` and optionally ``finished_pct``,
    ``in_progress_pct`` (numbers or printed text) and ``unit_code``. Row numbers are the
    frame's index. All three checks are blocking except the percentage sum (warning), as in
    the suites file.

    Returns:
        One finding per failing check and unit (empty when the table is consistent).
    """
    out: list[Failure] = []
    bal = monthly_figures_mismatch(df["received"], df["finished"], df["in_progress"])
    if bal.any():
        out.append(Failure("monthly_balance", "blocking", "received", _positions(bal),
                           _MONTHLY_BALANCE_TEXT))  # fmt: skip
    for pct, num in (("finished_pct", "finished"), ("in_progress_pct", "in_progress")):
        if pct in df.columns:
            is_text = df[pct].dtype == object or str(df[pct].dtype) == "str"
            bad = reported_percentage_mismatch(
                df[num],
                df["received"],
                _numeric_text(df[pct]),
                printed=df[pct] if is_text else None,
                decimals=decimals,
            )
            if bad.any():
                out.append(
                    Failure(
                        "reported_percentage",
                        "blocking",
                        pct,
                        _positions(bad),
                        f"{pct} differs from {num} × 100 / received beyond its printed rounding",
                    )
                )
    if {"finished_pct", "in_progress_pct"} <= set(df.columns):
        bad = percentages_sum_mismatch(
            _numeric_text(df["finished_pct"]),
            _numeric_text(df["in_progress_pct"]),
            decimals=decimals,
        )
        if bad.any():
            out.append(
                Failure(
                    "percentages_sum",
                    "warning",
                    "finished_pct",
                    _positions(bad),
                    "finished_pct + in_progress_pct is not 100 within rounding",
                )
            )
    units = df["unit_code"].astype(str) if "unit_code" in df.columns else None
    return group_failures(
        out,
        table=table,
        files=source_file,
        source_rows=pd.Series(df.index, dtype="int64"),
        units=units,
    )


__all__ = [
    "CHECKS",
    "CheckDef",
    "RunContext",
    "check_monthly_figures",
    "monthly_figures_mismatch",
    "percentages_sum_mismatch",
    "register_check",
    "reported_percentage_mismatch",
]
