"""The report document: its JSON Schema in docs/, a JSON round trip, derived totals."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from kpilib.document import report_json_schema

SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "report.schema.json"


def test_the_schema_in_docs_is_the_models_schema():
    written = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(report_json_schema())), (
        "docs/report.schema.json is out of date: run "
        'python -c "from kpilib.document import write_json_schema; '
        "write_json_schema('docs/report.schema.json')\""
    )


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(report_json_schema())
