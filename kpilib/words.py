"""Words for people: validation checks, tables and columns in plain Thai.

The words are data (``kpilib/templates/findings_th.yaml``); the report's validation section,
the validation page and the certification reasons all read them here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from kpilib.paths import package_dir


@cache
def finding_words() -> dict[str, Any]:
    """The plain-Thai words for validation checks, tables and columns (``findings_th.yaml``)."""
    import yaml

    path = package_dir() / "templates" / "findings_th.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def table_th(table: str) -> str:
    """A table's name as people know it (the id when it has no words)."""
    return str(finding_words()["tables"].get(table, table))


def check_th(check: str) -> str:
    """What a failed check means, in a sentence (a generic one when it has no words)."""
    words = finding_words()
    return str(words["checks"].get(check, words["generic"])["what_th"])


def column_th(column: str) -> str:
    """A column's name as people know it (the column's own name when it has no words)."""
    return str(finding_words()["columns"].get(column, column))


@cache
def _reason_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(r["pattern"]), r["th"]) for r in finding_words()["reasons"])


def reason_th(reason: str) -> str:
    """Why the ingest set a row aside, in Thai (``reasons:`` in ``findings_th.yaml``).

    The ingest's reasons are English sentences with the row's values in them (they stay so in
    the quarantine CSV and the Data Docs); a reason no pattern matches is returned as it is.
    """
    words = finding_words()
    for pattern, th in _reason_patterns():
        m = pattern.match(reason)
        if m is None:
            continue
        parts = dict(m.groupdict())
        if "col" in parts:
            parts["col"] = column_th(parts["col"])
        if "key" in parts:
            parts["key"] = ", ".join(column_th(k.strip()) for k in parts["key"].split(","))
        if "area" in parts:
            parts["area"] = str(words.get("areas", {}).get(parts["area"], parts["area"]))
        return th.format(**parts)
    return reason
