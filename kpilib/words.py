"""Words for people: validation checks, tables and columns in plain Thai.

The words are data (``kpilib/templates/findings_th.yaml``); the report's validation section,
the validation page and the certification reasons all read them here.
"""

from __future__ import annotations

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
