"""Shared pytest fixtures: where the project's and the shared reference files are."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from kpilib.complaints.rules import FINISHED_STATE

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


BKK = "Asia/Bangkok"


def golden_tickets(rows: list[dict]) -> pd.DataFrame:
    """Synthetic tickets from the golden counts, with distractors the engine must ignore."""
    recs = []
    n = 0

    def add(unit: str, created: pd.Timestamp, finished: pd.Timestamp | None) -> None:
        nonlocal n
        n += 1
        recs.append((f"G{n}", unit, created, finished))

    for row in rows:
        as_of = pd.Timestamp(row["as_of"]).tz_localize(BKK)
        first = pd.Timestamp(f"{row['month']}-01").tz_localize(BKK)
        span_days = (as_of - first).days + 1
        for i in range(row["received"]):
            created = first + pd.Timedelta(days=i % span_days, hours=8 + i % 10)
            if i < row["finished"]:
                # finished at the latest on the as-of day, late in the evening
                finished = min(
                    created + pd.Timedelta(days=2), as_of + pd.Timedelta(hours=23, minutes=30)
                )
                finished = max(finished, created)
            elif i % 2:
                finished = as_of + pd.Timedelta(days=1, hours=1)  # finished after the as-of date
            else:
                finished = None
            add("1032", created, finished)
        # distractors: received after the as-of date in the same month, another district
        month_end = (first + pd.offsets.MonthEnd(0)).normalize()
        if as_of < month_end:
            add("1032", as_of + pd.Timedelta(days=1, hours=9), None)
        add("1032", first - pd.Timedelta(hours=2), first + pd.Timedelta(days=1))  # previous month
        for i in range(5):
            add("1031", first + pd.Timedelta(days=i), None)
    df = pd.DataFrame(recs, columns=["ticket_id", "unit_code", "created_at", "finished_at"])
    df["created_at"] = pd.to_datetime(df["created_at"]).dt.tz_convert(BKK)
    df["finished_at"] = pd.to_datetime(df["finished_at"]).dt.tz_convert(BKK)
    df["state"] = np.where(df["finished_at"].notna(), FINISHED_STATE, "กำลังดำเนินการ")
    df["state_is_export_time"] = False
    df["source"] = "event_log"
    return df
