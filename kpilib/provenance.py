"""Where a result comes from: the code's version and git commit.

One answer for every output (report footer, manifest, cache keys): the commit hash, with
``+dirty`` when tracked files differ from it, or ``None`` outside a git checkout (an
installed wheel).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from kpilib import __version__
from kpilib.paths import package_dir


@cache
def git_commit(root: str | Path | None = None) -> str | None:
    """The git commit of the checkout holding kpilib (``+dirty`` if changed), or None.

    Cached per process: a batch asks once, not once per report.
    """
    cwd = Path(root) if root is not None else package_dir().parent
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
        # an installed copy inside some other repository (a venv in a checkout) is not it
        if top.returncode != 0 or (
            root is None and Path(top.stdout.strip()).resolve() != cwd.resolve()
        ):
            return None
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    if not commit:
        return None
    return f"{commit}+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else commit


def code_version() -> str:
    """``kpilib <version>`` plus the commit when known (what a report says it was made with)."""
    commit = git_commit()
    return f"kpilib {__version__}" + (f" ({commit})" if commit else "")
