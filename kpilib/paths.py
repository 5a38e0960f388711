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

    ``KPILIB_ROOT`` overrides the default. In a source checkout the default is the parent of
    the ``kpilib`` package; an installed kpilib (a wheel in site-packages, whose parent holds
    no ``params/``) uses the current working folder, the deployment's project folder.
    """
    env = os.environ.get("KPILIB_ROOT")
    if env:
        return Path(env).resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "params").is_dir():
        return checkout
    return Path.cwd()


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


def report_notebook() -> Path:
    """Return the report notebook executed for every unit and quarter.

    It ships inside the package (``kpilib/notebooks/report.ipynb``), so an installed kpilib
    finds it; in a checkout that file is a link to ``notebooks/report.ipynb``, the copy
    analysts open in JupyterLab (one file, two ways in).
    """
    return package_dir() / "notebooks" / "report.ipynb"


def package_dir() -> Path:
    """Return the installed ``kpilib`` package folder (fonts and templates live there)."""
    return Path(__file__).resolve().parent


def check_path_option(value: str | os.PathLike[str], *, option: str) -> Path:
    """Refuse a path option that is empty, holds a NUL character or a ``..`` component.

    Args:
        value: The path as given on the command line.
        option: The option's name for the message (e.g. ``--data``).

    Returns:
        The path, absolute (not resolved: symbolic links are kept).

    Raises:
        ParameterError: With a one-line message naming the option and the value.
    """
    text = os.fspath(value)
    if not text or "\x00" in text:
        raise ParameterError(f"invalid {option} {text!r}: empty or contains a NUL character")
    if ".." in text.replace("\\", "/").split("/"):
        raise ParameterError(
            f"invalid {option} {text!r}: '..' path components are not allowed; "
            "give the folder directly"
        )
    return Path(text).absolute()


def input_folder(
    value: str | os.PathLike[str], *, option: str, what: str = "data folder", hint: str = ""
) -> Path:
    """Check a path option that must name an existing folder (e.g. ``--data``).

    Raises:
        ParameterError: The value is malformed, missing, or names a file.
    """
    path = check_path_option(value, option=option)
    if path.exists() and not path.is_dir():
        raise ParameterError(
            f"invalid {option} {os.fspath(value)!r}: {path} is a file, not a folder"
        )
    if not path.is_dir():
        raise ParameterError(f"{what} not found: {path}" + (f" ({hint})" if hint else ""))
    return path


def output_folder(value: str | os.PathLike[str], *, option: str) -> Path:
    """Check a path option naming a folder to write into (created later if missing).

    The folder, or its nearest existing parent, must be a writable folder: ``--out`` naming
    a file (or a path under a file) is refused before anything runs.

    Raises:
        ParameterError: The value is malformed, names a file, or cannot be written.
    """
    path = check_path_option(value, option=option)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        where = "is a file" if probe == path else f"is under {probe}, which is a file"
        raise ParameterError(f"invalid {option} {os.fspath(value)!r}: {path} {where}, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ParameterError(f"invalid {option} {os.fspath(value)!r}: {probe} is not writable")
    return path


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
