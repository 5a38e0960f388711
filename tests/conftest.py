"""Shared pytest fixtures: where the project's and the shared reference files are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_dir() -> Path:
    env = os.environ.get("KPILIB_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The project's root folder."""
    return ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/fixtures``."""
    return FIXTURES


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared reference folder beside the project (``../shared``; ``KPILIB_SHARED`` overrides)."""
    path = _shared_dir()
    if not path.is_dir():
        pytest.fail(f"shared reference folder not found at {path}; set KPILIB_SHARED")
    return path


@pytest.fixture(scope="session")
def golden(shared_dir: Path) -> dict:
    """The figures published in the seeds (``shared/golden/seed_figures.yaml``)."""
    with open(shared_dir / "golden" / "seed_figures.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _live_in_group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="session")
def process_group():
    """``process_group(pgid)``: the live processes of a process group (fault tests)."""
    return _live_in_group
