"""Where things live, and safe names for things that become paths.

Layout (relative to the project root)::

    params/            definitions: KPI catalogue, units, holidays, run plans (data, not code)
    data/raw/          raw inputs, never modified
    data/sample/       the generated sample data set (``kpi sample-data``)
    data/processed/    canonical Parquet tables written by ``kpi ingest``
    outputs/           rendered reports (git-ignored)

Every value that becomes part of a path (unit codes, fiscal years, quarters) goes through
:func:`safe_component` or a stricter validator first.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from kpilib.errors import ParameterError

_SAFE_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def project_root() -> Path:
    """Return the project root (the folder holding ``params/``).

    ``KPILIB_ROOT`` overrides the default, which is the parent of the ``kpilib`` package.
    """
    env = os.environ.get("KPILIB_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


def params_dir() -> Path:
    """Return the definitions folder (``KPILIB_PARAMS`` overrides ``<root>/params``)."""
    env = os.environ.get("KPILIB_PARAMS")
    return Path(env).resolve() if env else project_root() / "params"


def data_dir() -> Path:
    """Return ``<root>/data``."""
    return project_root() / "data"


def sample_data_dir() -> Path:
    """Return the default sample data set folder, ``<root>/data/sample``."""
    return data_dir() / "sample"


def outputs_dir() -> Path:
    """Return ``<root>/outputs``."""
    return project_root() / "outputs"


def notebooks_dir() -> Path:
    """Return ``<root>/notebooks``."""
    return project_root() / "notebooks"


def package_dir() -> Path:
    """Return the installed ``kpilib`` package folder (fonts and templates live there)."""
    return Path(__file__).resolve().parent


def safe_component(value: str, *, what: str = "value") -> str:
    """Check that ``value`` can be used as one path component.

    Args:
        value: The candidate (e.g. a unit code).
        what: A name for the value, used in the error message.

    Returns:
        The value unchanged.

    Raises:
        ParameterError: If the value is empty, contains a path separator, starts with a dot,
            or has characters outside ``[A-Za-z0-9_.-]``.
    """
    if not isinstance(value, str) or not _SAFE_COMPONENT.match(value) or ".." in value:
        raise ParameterError(
            f"invalid {what} {value!r}: use letters, digits, '_', '-' or '.', "
            "no path separators and no leading dot"
        )
    return value
