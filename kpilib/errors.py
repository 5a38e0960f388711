"""The exception hierarchy: every error kpilib raises on purpose derives from KpilibError.

The CLI turns a ``KpilibError`` into a one-line message and the error's ``exit_code``;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class KpilibError(Exception):
    """Root of all deliberate kpilib errors."""

    exit_code: int = 2

    def one_line(self) -> str:
        """Return the message on a single line, as the CLI prints it."""
        return " ".join(str(self).split())


class ParameterError(KpilibError, ValueError):
    """A parameter (CLI option, notebook parameter, function argument) is invalid."""


class CalendarError(ParameterError):
    """A date, fiscal year or quarter is invalid (e.g. a CE year where BE is expected)."""


class ConfigError(KpilibError):
    """A definition file under ``params/`` is invalid.

    Args:
        message: What is wrong.
        file: The file that holds the problem.
        kpi: The KPI id concerned, if any.
        field: The field (dotted path) concerned, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        kpi: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.kpi = kpi
        self.field = field
        where = [
            p
            for p in (
                self.file,
                f"kpi {kpi}" if kpi else None,
                f"field {field}" if field else None,
            )
            if p
        ]
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class InputError(KpilibError):
    """An input data file cannot be used as it is.

    Args:
        message: What is wrong.
        file: The input file.
        row: 1-based data row number (the header is row 0), if the problem is in one row.
        column: The column concerned, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        where = [
            p
            for p in (
                self.file,
                f"row {row}" if row is not None else None,
                f"column {column!r}" if column else None,
            )
            if p
        ]
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class SchemaError(InputError):
    """An input file does not have the columns of any known schema."""


class RenderError(KpilibError):
    """A report could not be executed or rendered."""


class DependencyMissing(KpilibError):
    """An external program (e.g. Chromium for PDF) is missing; the message says how to install it."""


class ClusterError(KpilibError):
    """A Dask cluster (``kpi run --scheduler``) cannot be reached or its workers cannot render.

    E.g. the scheduler does not answer, it has no workers, or a worker does not see the data
    or output folder at the same path (they must be on a shared filesystem).
    """
