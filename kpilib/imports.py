"""Third-party import costs that kpilib's processes need not pay.

``jsonschema`` (imported by nbformat, papermill and great-expectations) loads every format
checker it can find when it is imported. In an environment with JupyterLab,
``jupyter-events`` brings ``rfc3987-syntax``, which builds about 35 Earley parsers at import
time: 2–3 s of CPU in every process that imports jsonschema (a batch worker, the validation
child, ``kpi report``), for an ``iri`` string format that no schema kpilib validates uses
(upstream: python-jsonschema/jsonschema#1428; measured in ``docs/benchmarks.md``).

:func:`defer_iri_syntax` puts a stand-in in its place before jsonschema is imported. The
stand-in imports the real module the first time an ``iri`` is checked, so validation results
do not change; only the cost moves to the rare process that needs it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_MODULE = "rfc3987_syntax"


def defer_iri_syntax() -> bool:
    """Install the stand-in for ``rfc3987_syntax`` (once); True if it is in place.

    Does nothing if jsonschema's format checkers are already loaded, or if the module is not
    installed.
    """
    current = sys.modules.get(_MODULE)
    if getattr(current, "__kpilib_deferred__", False):
        return True
    if current is not None or "jsonschema._format" in sys.modules:
        return False
    if importlib.util.find_spec(_MODULE) is None:
        return False

    def is_valid_syntax(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get(_MODULE) is stand_in:
            del sys.modules[_MODULE]
        return importlib.import_module(_MODULE).is_valid_syntax(*args, **kwargs)

    stand_in = types.ModuleType(_MODULE, "kpilib: rfc3987_syntax, imported on first use")
    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stand_in.__kpilib_deferred__ = True  # type: ignore[attr-defined]
    sys.modules[_MODULE] = stand_in
    return True
