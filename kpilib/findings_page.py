"""The validation page for people: every finding of a validation run in plain Thai.

``<out>/<FY>/validation/index.html`` (beside ``validation.json``) takes the place of the
great-expectations Data Docs for reviewers: those load their styling from the internet and show
a blank page offline. This page is one self-contained file (the embedded font, no script, no
link outside the output folder): per check and table, what is wrong, where (data, column,
file), how many rows, which units, what it affects, what to do, and the first rows as samples;
every failing row is in ``findings.csv`` beside it. No server path appears (files are named
as in the data folder's ``raw/``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from kpilib import report
from kpilib.fsio import atomic_write_text

if TYPE_CHECKING:
    from kpilib.catalog import Catalog
    from kpilib.validation import ValidationReport

PAGE = "index.html"
CSV = "findings.csv"


def _affects(catalog: Catalog, fy: int) -> dict[str, list[str]]:
    """Short names of the fiscal year's KPIs by the tables they read."""
    from kpilib.scoring import kpi_tables

    out: dict[str, list[str]] = {}
    for k in catalog.kpis_for_year(fy):
        name = k.short_name_th or k.name_th
        for table in kpi_tables(k):
            if name not in out.setdefault(table, []):
                out[table].append(name)
    return out


def validation_page_html(vrep: ValidationReport, *, catalog: Catalog | None = None) -> str:
    """The page's HTML (every value escaped by the template's autoescape)."""
    from kpilib.assemble import SAMPLE_MARKER, finding_entry
    from kpilib.calendar import format_thai_date
    from kpilib.catalog import load_catalog
    from kpilib.render import font_face_css

    cat = catalog or load_catalog()
    names = {u.code: u.name_th for u in cat.units}
    by_table = _affects(cat, vrep.fy)
    pairs = [
        (finding_entry(f), names.get(f.unit_code, f.unit_code) if f.unit_code else None)
        for f in vrep.findings
    ]
    groups = report.group_findings(pairs, lambda t: by_table.get(t, []), max_rows=8)
    created = vrep.created_at[:10]
    try:
        when = format_thai_date(dt.date.fromisoformat(created), style="long")
    except ValueError:
        when = created
    return report._render(  # the blocks' Jinja environment (autoescape)
        "validation_page.html.j2",
        font_css=font_face_css(),
        css=(report.package_dir() / "templates" / "report.css").read_text(encoding="utf-8"),
        fy=vrep.fy,
        when=when,
        data=Path(vrep.data_dir).name,
        groups=groups,
        n_blocking=sum(g["severity"] == "blocking" for g in groups),
        n_warning=sum(g["severity"] != "blocking" for g in groups),
        csv_name=CSV,
        sample=(Path(vrep.data_dir) / "raw" / SAMPLE_MARKER).is_file(),
    )


def write_validation_page(vrep: ValidationReport, folder: str | Path) -> Path:
    """Write :data:`PAGE` and :data:`CSV` into ``folder`` (the run's validation folder)."""
    from kpilib.assemble import finding_entry

    folder = Path(folder)
    report.write_rows_csv(
        report.findings_rows(finding_entry(f) for f in vrep.findings), folder / CSV
    )
    return atomic_write_text(folder / PAGE, validation_page_html(vrep))
