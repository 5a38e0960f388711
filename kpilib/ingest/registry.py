"""The adapter registry: which class reads which source, in the style of papermill's ``iorw``.

Papermill keeps its I/O handlers in one registry object and registers each handler class by
name at the bottom of one module; kpilib does the same for ingest adapters. A source
declaration (``params/tables/<table>.yaml``) names its adapter; :data:`adapters` gives the
class. Adapters never import this module.

Adding a data source: write ``kpilib/ingest/<source>.py`` (a subclass of
:class:`~kpilib.ingest.base.Adapter`, usually a few lines), register it below, and declare
the source under its table in ``params/tables/``.
"""

from __future__ import annotations

from kpilib.errors import ConfigError
from kpilib.ingest.base import Adapter
from kpilib.ingest.event_log import EventLog
from kpilib.ingest.side_tables import SideTable
from kpilib.ingest.traffy_api_v2 import TraffyApiV2
from kpilib.ingest.traffy_dump import TraffyDump
from kpilib.tables import TableSet, load_tables


class AdapterRegistry:
    """Adapter classes by registered name."""

    def __init__(self) -> None:
        self._adapters: dict[str, type[Adapter]] = {}

    def register(self, name: str, adapter: type[Adapter]) -> None:
        """Register ``adapter`` under ``name`` (a later registration replaces an earlier one)."""
        self._adapters[name] = adapter

    def names(self) -> tuple[str, ...]:
        """The registered names, sorted."""
        return tuple(sorted(self._adapters))

    def get(self, name: str) -> type[Adapter]:
        """The adapter class registered as ``name``.

        Raises:
            ConfigError: No adapter has that name.
        """
        try:
            return self._adapters[name]
        except KeyError:
            raise ConfigError(
                f"unknown adapter {name!r}; registered adapters: {', '.join(self.names())}"
            ) from None

    def for_source(self, source: str, tables: TableSet | None = None) -> Adapter:
        """An adapter instance for a declared source.

        Raises:
            ConfigError: Unknown source, or its declaration names an unknown adapter.
        """
        tables = tables or load_tables()
        table, decl = tables.source(source)
        try:
            cls = self.get(decl.adapter)
        except ConfigError as exc:
            raise ConfigError(
                str(exc),
                file=f"params/tables/{table.table}.yaml",
                field=f"sources.{source}.adapter",
            ) from None
        return cls(source, table, decl, tables.reading)


#: The registry every part of kpilib uses.
adapters = AdapterRegistry()
adapters.register(TraffyDump.name, TraffyDump)
adapters.register(TraffyApiV2.name, TraffyApiV2)
adapters.register(EventLog.name, EventLog)
adapters.register(SideTable.name, SideTable)

__all__ = ["AdapterRegistry", "adapters"]
