"""Benchmark: ingest a 1,000,000-row Traffy open-data dump CSV.

The input is made from the real extract (``../shared/data/traffy/``) replicated 1,000 times
with unique ticket ids and dates shifted by whole days, written to a temporary folder (UTF-8
with a BOM, like the real file). The ingest runs in a fresh Python process so its wall time and
peak memory (max RSS) are its own.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--extract PATH] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
EXTRACT = ROOT.parent / "shared" / "data" / "traffy" / "traffy_opendata_extract_2023-05.csv"

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from kpilib.ingest import ingest
rep = ingest([sys.argv[1]], data_dir=sys.argv[2], out_dir=sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - t0, "tables": rep.tables, "quarantine": rep.quarantine}))
"""


def make_dump(extract: Path, rows: int, path: Path, *, seed: int = 1) -> None:
    """Write a ``rows``-row dump CSV built from the real extract."""
    base = pd.read_csv(extract, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    reps = -(-rows // len(base))
    df = pd.concat([base] * reps, ignore_index=True).iloc[:rows].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    i = np.arange(rows)
    ids = pd.Series(np.char.mod("%07X", i))
    df["ticket_id"] = ("2023-" + ids).where(df["ticket_id"] != "", "")
    shift = pd.to_timedelta(rng.integers(-120, 120, rows), unit="D")
    for col in ("timestamp", "last_activity"):
        day = pd.to_datetime(df[col].str.slice(0, 10), format="%Y-%m-%d") + shift
        head = pac.strftime(pa.array(day.to_numpy(dtype="datetime64[s]")), format="%Y-%m-%d")
        df[col] = pd.Series(head.to_pandas()) + df[col].str.slice(10)
    table = pa.Table.from_pandas(df, preserve_index=False)
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        pacsv.write_csv(table, fh, pacsv.WriteOptions(quoting_style="needed"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--extract", type=Path, default=EXTRACT)
    ap.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        src = work / "traffy_dump_1m.csv"
        t0 = time.perf_counter()
        make_dump(args.extract, args.rows, src)
        made = time.perf_counter() - t0
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(src), str(work), str(work / "processed")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        wall = time.perf_counter() - t0
        child = json.loads(proc.stdout.strip().splitlines()[-1])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result = {
            "rows": args.rows,
            "input_mb": round(src.stat().st_size / 1e6, 1),
            "make_input_s": round(made, 1),
            "ingest_s": round(child["seconds"], 2),
            "process_wall_s": round(wall, 2),
            "peak_rss_mb": round(peak_mb),
            "cpus": os.cpu_count(),
            "tickets": child["tables"].get("tickets"),
            "quarantine": child["quarantine"],
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
