"""Running the ``gx`` checks with great-expectations, and its Data Docs.

One GX suite per canonical table, run on the typed table the ingest wrote (only the columns
the checks read, text HTML-escaped because GX's Data Docs do not escape values). GX is
imported here only, inside the functions: ``import great_expectations`` costs seconds.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilib.tables import TableDecl
from kpilib.validation.checks import CHECKS, RunContext
from kpilib.validation.findings import Failure
from kpilib.validation.suites import CheckSpec

_RUN_IDS = itertools.count(1)
_RISKY_CHARS = frozenset("<>&\"'")


@dataclass
class TableRun:
    """One canonical table being validated.

    Attributes:
        name: The table.
        decl: Its declaration.
        checks: The suite's checks, defaults filled from the declaration.
        frame: The canonical rows (as the ingest wrote them).
        failures: Failures found so far (``rows`` are positions in ``frame``).
    """

    name: str
    decl: TableDecl
    checks: tuple[CheckSpec, ...]
    frame: pd.DataFrame
    failures: list[Failure] = field(default_factory=list)


def import_gx() -> None:
    """Import great-expectations and what validation uses of it now (seconds), so that a
    process can do it while it waits for something else (:mod:`kpilib.batch.prepare`)."""
    from kpilib.imports import defer_iri_syntax

    defer_iri_syntax()  # before great-expectations imports jsonschema
    import great_expectations
    import great_expectations.expectations  # noqa: F401


def new_gx_context() -> Any:
    """An ephemeral great-expectations context with progress bars off (imports GX)."""
    import great_expectations as gx  # lazy: importing GX takes seconds
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    # GX makes an (empty) temporary folder for its default ephemeral docs site: drop both
    for name, cfg in list(ctx.list_data_docs_sites().items()):
        base = Path(str(cfg.get("store_backend", {}).get("base_directory", "")))
        ctx.delete_data_docs_site(name)
        tmp_root = Path(tempfile.gettempdir()).resolve()
        if base.name and base.resolve().parent == tmp_root and base.is_dir():
            with contextlib.suppress(OSError):
                base.rmdir()  # only if still empty
    return ctx


def _escape(s: pd.Series) -> np.ndarray:
    """Text as GX may show it: HTML-escaped where needed, empty → missing (per distinct value)."""
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    values = np.array(
        [
            None if v == "" else html.escape(v) if _RISKY_CHARS & set(v) else v
            for v in map(str, uniq)
        ]
        + [None],
        dtype=object,
    )
    return values[codes]  # code -1 (missing) picks the trailing None


def gx_frame(run: TableRun) -> pd.DataFrame:
    """The frame handed to GX: the columns the checks read, typed for comparison."""
    cols: list[str] = []
    for chk in run.checks:
        if CHECKS[chk.check].kind == "gx":
            cols += [c for c in chk.referenced_columns() if c not in cols]
    out = pd.DataFrame(index=pd.RangeIndex(len(run.frame)))
    for col in cols:
        ctype = run.decl.columns[col].type
        s = run.frame[col].reset_index(drop=True)
        if ctype == "month":  # compared as the month's first day
            s = pd.to_datetime(s.where(s != ""), format="%Y-%m", errors="coerce")
        elif ctype in ("str", "text", "unit", "category", "tags"):
            s = _escape(s)
        elif ctype in ("int", "fiscal_year", "float"):
            s = s.astype("Float64").astype(float)
        out[col] = s
    out["_pos"] = np.arange(len(out), dtype=np.int64)
    return out


def run_gx(
    runs: list[TableRun],
    ctx: RunContext,
    *,
    out_dir: Path,
    data_docs: bool,
    gx_context: Any = None,
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Run every table's ``gx`` checks; add failures to the runs.

    Returns:
        Per-table GX result summaries, and the Data Docs index (``None`` without Data Docs).
    """
    import great_expectations as gx  # lazy: importing GX takes seconds
    import great_expectations.expectations as gxe

    fresh = gx_context is None
    context = new_gx_context() if fresh else gx_context
    tag = "" if fresh else f"-r{next(_RUN_IDS)}"
    site = None
    if data_docs:
        for s in context.get_site_names():
            context.delete_data_docs_site(s)
        site = f"kpilib{tag}"
        docs_dir = out_dir / "data_docs"
        if (docs_dir / "index.html").is_file():
            shutil.rmtree(docs_dir)  # an earlier run's site: its pages would stay in the index
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name=site,
            site_config={
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    source = context.data_sources.add_pandas(f"kpilib{tag}")
    vdefs = []
    frames: dict[str, Any] = {}
    for run in runs:
        suite_name = f"{run.name}{tag}"
        gsuite = context.suites.add(gx.ExpectationSuite(name=suite_name))
        for chk in run.checks:
            cdef = CHECKS[chk.check]
            if cdef.kind != "gx":
                continue
            ctype = run.decl.columns[chk.column].type if chk.column else None
            e = cdef.build(gxe, chk, ctx, ctype)
            e.meta = {
                "check": chk.check,
                "severity": chk.severity,
                "column": chk.column,
                "detail": cdef.describe(chk, ctx),
            }
            gsuite.add_expectation(e)
        asset = source.add_dataframe_asset(suite_name)
        batch = asset.add_batch_definition_whole_dataframe("all")
        vdefs.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=suite_name, data=batch, suite=gsuite)
            )
        )
        frames[suite_name] = gx_frame(run)
    summaries: dict[str, dict[str, Any]] = {}
    for run, vdef in zip(runs, vdefs, strict=True):
        with warnings.catch_warnings():
            # GX 1.24 reads tz-aware columns through a pandas API that pandas 3.1 deprecates
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=DeprecationWarning)
            vres = vdef.run(
                batch_parameters={"dataframe": frames.pop(vdef.name)},
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": ["_pos"],
                },
            )
        summaries[run.name] = _collect(run, vres)
    # Data Docs are built once at the end (an action per table costs ~1 s)
    docs_index = None
    if site:
        urls = context.build_data_docs(site_names=[site])
        docs_index = str(out_dir / "data_docs" / "index.html") if urls else None
    return summaries, docs_index


def _collect(run: TableRun, vres: Any) -> dict[str, Any]:
    """Turn one suite's GX results into failures on ``run``; return its summary."""
    expectations = []
    for r in vres.results:
        cfg = r.expectation_config
        meta = dict(cfg.meta or {})
        check = meta.get("check", cfg.type)
        column = meta.get("column")
        res = dict(r.result or {})
        raised = bool(r.exception_info and r.exception_info.get("raised_exception"))
        expectations.append(
            {
                "expectation": cfg.type,
                "check": check,
                "column": column,
                "success": bool(r.success),
                "unexpected_count": res.get("unexpected_count", 0),
            }
        )
        if r.success:
            continue
        if raised:  # a check GX cannot evaluate is said, never passed silently
            msg = str(r.exception_info.get("exception_message", "error"))
            run.failures.append(
                Failure(
                    "check_error",
                    "warning",
                    column,
                    [],
                    f"{check} could not run: {' '.join(msg.split())[:200]}",
                )
            )
            continue
        rows = sorted({int(d["_pos"]) for d in res.get("unexpected_index_list") or []})
        if rows:
            run.failures.append(
                Failure(check, meta["severity"], column, rows, meta.get("detail", check))
            )
    stats = vres.statistics or {}
    return {
        "rows": len(run.frame),
        "success": bool(vres.success),
        "evaluated": int(stats.get("evaluated_expectations", 0)),
        "successful": int(stats.get("successful_expectations", 0)),
        "unsuccessful": int(stats.get("unsuccessful_expectations", 0)),
        "expectations": expectations,
    }


__all__ = ["TableRun", "gx_frame", "new_gx_context", "run_gx"]
