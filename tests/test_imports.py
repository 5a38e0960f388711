"""The stand-in for rfc3987_syntax: jsonschema imports without building its parsers, and an
``iri`` is still checked by the real module (in a fresh interpreter: imports are global)."""

from __future__ import annotations

import importlib.util
import json

import pytest
from fresh_python import python_stdout

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("rfc3987_syntax") is None,
    reason="rfc3987-syntax is not installed here (nothing to defer)",
)

PROBE = """
import json, sys
from kpilib.imports import defer_iri_syntax
placed = defer_iri_syntax() if sys.argv[1] == "defer" else False
import jsonschema
before = "lark" in sys.modules
checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
v = jsonschema.Draft202012Validator({"format": "iri"}, format_checker=checker)
verdicts = [not list(v.iter_errors(s)) for s in ("https://example.org/เขต", "not an iri", "http://[bad")]
print(json.dumps({"placed": placed, "lark_on_import": before, "verdicts": verdicts,
                  "lark_after_check": "lark" in sys.modules}))
"""


def _probe(mode: str) -> dict:
    return json.loads(python_stdout(PROBE, mode).strip().splitlines()[-1])


def test_jsonschema_imports_without_the_iri_parsers_and_checks_iris_the_same():
    deferred, plain = _probe("defer"), _probe("plain")
    assert plain["lark_on_import"] is True  # what the stand-in avoids
    assert deferred["placed"] is True and deferred["lark_on_import"] is False
    assert deferred["verdicts"] == plain["verdicts"] == [True, False, False]
    assert deferred["lark_after_check"] is True  # the real module did the checking


def test_the_stand_in_is_not_placed_once_jsonschema_has_loaded_its_checkers():
    probe = (
        "import jsonschema, sys\n"
        "from kpilib.imports import defer_iri_syntax\n"
        "print(defer_iri_syntax(), hasattr(sys.modules['rfc3987_syntax'], '__kpilib_deferred__'))"
    )
    assert python_stdout(probe).split() == ["False", "False"]
