"""kpilib: reproducible KPI reporting for Bangkok Metropolitan Administration units.

The package is flat, one concern per module (``calendar``, ``catalog``, ``formulas``,
``rubric``, ``scoring``, ``complaints``, ``ingest``, ``sample``, ``validation``,
``charts``, ``render``, ``batch``, ``cli``, ``paths``, ``errors``). Importing the package
does no I/O and configures nothing.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kpilib")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
