"""The validation suites as data (``params/validation/suites.yaml``), checked on load.

A suite lists, per canonical table, the checks to run by name (:data:`~kpilib.validation.
checks.CHECKS`) with their parameters and severity; ``implicit`` gives the severities of the
checks every file and table gets from its declaration and the parse. Columns, types, keys
and allowed values are the table's declaration (``params/tables``), never repeated here: a
check naming a column the table does not declare is a load error.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from kpilib.errors import ConfigError
from kpilib.paths import params_dir
from kpilib.tables import TableDecl, TableSet, load_tables
from kpilib.validation.checks import CHECKS
from kpilib.validation.findings import Severity

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class CheckSpec(BaseModel):
    """One named check of a suite, with its parameters and severity.

    ``columns`` of ``unique`` default to the table's key; ``values`` of ``in_set`` default to
    the column's declared values.
    """

    model_config = _FROZEN

    check: str
    severity: Severity
    column: str | None = None
    columns: tuple[str, ...] | None = None
    other: str | None = None
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    first: str | None = None
    then: str | None = None
    numerator: str | None = None
    denominator: str | None = None

    @model_validator(mode="after")
    def _known_check(self) -> CheckSpec:
        spec = CHECKS.get(self.check)
        if spec is None:
            raise ValueError(f"unknown check {self.check!r}; known: {', '.join(sorted(CHECKS))}")
        missing = [p for p in spec.needs if getattr(self, p) is None]
        if missing:
            raise ValueError(f"check {self.check!r} needs {', '.join(missing)}")
        return self

    def referenced_columns(self) -> tuple[str, ...]:
        """Every column this check reads."""
        cols = [self.column, self.other, self.numerator, self.denominator, *(self.columns or ())]
        return tuple(c for c in cols if c)

    def resolved(self, table: TableDecl) -> CheckSpec:
        """This check with its defaults filled from the table declaration."""
        update: dict[str, object] = {}
        if self.check == "unique" and self.columns is None:
            update["columns"] = table.key
        if self.check == "in_set" and self.values is None and self.column:
            update["values"] = table.columns[self.column].values
        return self.model_copy(update=update) if update else self


class ImplicitSeverities(BaseModel):
    """Severities of the checks every file and table gets from its declaration and the parse."""

    model_config = _FROZEN

    unreadable_file: Severity
    unrecognised_file: Severity
    missing_column: Severity
    unexpected_column: Severity
    malformed_row: Severity
    missing_value: Severity
    unparseable: Severity
    era_confusion: Severity
    thai_digits: Severity
    duplicate_row: Severity
    outside_area: Severity
    unknown_tag: Severity
    source_overlap: Severity


class TableSuite(BaseModel):
    """The checks of one canonical table."""

    model_config = _FROZEN

    checks: tuple[CheckSpec, ...] = ()


class SuiteSet(BaseModel):
    """All suites (``params/validation/suites.yaml``)."""

    model_config = _FROZEN

    implicit: ImplicitSeverities
    tables: dict[str, TableSuite]

    def severity(self, table: str, check: str, column: str | None = None) -> Severity:
        """The severity of a check on a table: implicit, else the suite's named check (the
        one on ``column`` if there are several), else blocking (when in doubt, do not certify)."""
        implicit = getattr(self.implicit, check, None)
        if implicit is not None:
            return implicit  # type: ignore[no-any-return]
        suite = self.tables.get(table)
        named = [c for c in (suite.checks if suite else ()) if c.check == check]
        for c in named:
            if column is not None and column in c.referenced_columns():
                return c.severity
        return named[0].severity if named else "blocking"


def default_suites_path() -> Path:
    """Return ``params/validation/suites.yaml``."""
    return params_dir() / "validation" / "suites.yaml"


def _check_against(suites: SuiteSet, tables: TableSet, path: Path) -> None:
    for name, suite in suites.tables.items():
        if name not in tables.tables:
            raise ConfigError(
                f"no table {name!r} is declared in params/tables", file=path, field=f"tables.{name}"
            )
        decl = tables.tables[name]
        for i, chk in enumerate(suite.checks):
            unknown = [c for c in chk.referenced_columns() if c not in decl.columns]
            if unknown:
                raise ConfigError(
                    f"check {chk.check!r} names column(s) {unknown} that table {name} does "
                    "not declare",
                    file=path,
                    field=f"tables.{name}.checks[{i}]",
                )
            if chk.check == "in_set" and chk.values is None and chk.column:
                if decl.columns[chk.column].values is None:
                    raise ConfigError(
                        f"in_set on {chk.column!r} needs values: the declaration has none",
                        file=path,
                        field=f"tables.{name}.checks[{i}]",
                    )


def load_suites(path: str | Path | None = None, *, tables: TableSet | None = None) -> SuiteSet:
    """Load and check the validation suites against the table declarations.

    Args:
        path: The YAML file (default :func:`default_suites_path`).
        tables: The declarations (default :func:`kpilib.tables.load_tables`).

    Raises:
        ConfigError: Missing file, not YAML, unknown keys or checks, a table or column the
            declarations do not have.
    """
    path = Path(path) if path is not None else default_suites_path()
    try:
        raw = yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read validation suites: {exc}", file=path) from exc
    try:
        suites = SuiteSet.model_validate(raw)
    except ValidationError as exc:
        errs = exc.errors()
        where = ".".join(str(p) for p in errs[0]["loc"])
        more = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errs[1:5])
        msg = errs[0]["msg"] + (f" (also {more})" if more else "")
        raise ConfigError(msg, file=path, field=where or None) from exc
    _check_against(suites, tables or load_tables(), path)
    return suites


__all__ = [
    "CheckSpec",
    "ImplicitSeverities",
    "Severity",
    "SuiteSet",
    "TableSuite",
    "default_suites_path",
    "load_suites",
]
