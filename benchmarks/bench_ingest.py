"""Benchmark: ingest a 1,000,000-row Traffy open-data dump CSV.

The input is made from the real extract (``../shared/data/traffy/``) replicated 1,000 times
with unique ticket ids and dates shifted by whole days, written to a temporary folder (UTF-8
with a BOM, like the real file). Each measured run is a fresh Python process; the runs
alternate between:

- ``kpilib``: ``kpilib.ingest.ingest`` (read, check, map districts, convert to Bangkok time,
  quarantine, write ``tickets.parquet``, the quarantine CSV and the report);
- ``floor``: the same file converted to Parquet as it is, with no checks
  (``pyarrow.csv.read_csv`` of every column as text, multi-threaded, then one
  ``pyarrow.parquet.write_table``): what a plain CSV-to-Parquet copy costs on this machine;
- ``baseline`` (with ``--baseline PATH``): ``ingest`` of another checkout of kpilib (e.g. the
  main branch), for a before/after ratio measured in the same run.

Reported per kind: median wall time, CPU time (user + system, all threads) and peak RSS of
the process, with the load average before and after. A script, not a test.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--repeat 3]
        [--baseline ../main] [--extract PATH] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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

_USAGE = """
import json, resource, sys, time
def done(t0, **extra):
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": r.ru_utime + r.ru_stime,
                      "peak_mb": r.ru_maxrss / 1024, **extra}))
"""
CHILD = {
    "kpilib": _USAGE
    + """
t0 = time.perf_counter()
from kpilib.ingest import ingest
rep = ingest([sys.argv[1]], data_dir=sys.argv[2], out_dir=sys.argv[3])
done(t0, tables=dict(rep.tables), quarantined=rep.quarantined_total)
""",
    "floor": _USAGE
    + """
t0 = time.perf_counter()
import csv
import pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq
with open(sys.argv[1], encoding="utf-8-sig", newline="") as fh:
    names = next(csv.reader(fh))
table = pacsv.read_csv(
    sys.argv[1],
    read_options=pacsv.ReadOptions(block_size=1 << 22),
    parse_options=pacsv.ParseOptions(newlines_in_values=True),
    convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names}),
)
pq.write_table(table, sys.argv[3] + "/floor.parquet", compression="zstd")
done(t0, rows=table.num_rows)
""",
}


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


def run_child(kind: str, src: Path, work: Path, baseline: Path | None) -> dict:
    """One measured run in a fresh process."""
    out = work / f"out-{kind}"
    out.mkdir(parents=True, exist_ok=True)
    code = CHILD["kpilib" if kind == "baseline" else kind]
    path = str(baseline if kind == "baseline" else ROOT)
    env = {**os.environ, "PYTHONPATH": path}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, str(src), str(work), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,  # not the checkout: "" on sys.path must not shadow PYTHONPATH
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_wall"] = wall
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each kind (alternating)")
    ap.add_argument("--baseline", type=Path, default=None, help="another kpilib checkout")
    ap.add_argument("--extract", type=Path, default=EXTRACT)
    ap.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    args = ap.parse_args()
    kinds = ["kpilib", "floor"] + (["baseline"] if args.baseline else [])
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        src = work / "traffy_dump_1m.csv"
        t0 = time.perf_counter()
        if not src.is_file() or args.keep is None:
            make_dump(args.extract, args.rows, src)
        made = time.perf_counter() - t0
        runs: dict[str, list[dict]] = {k: [] for k in kinds}
        load_before = os.getloadavg()
        for _ in range(args.repeat):
            for kind in kinds:
                runs[kind].append(run_child(kind, src, work, args.baseline))
        load_after = os.getloadavg()

        def med(kind: str, key: str) -> float:
            return round(statistics.median(r[key] for r in runs[kind]), 2)

        result = {
            "rows": args.rows,
            "input_mb": round(src.stat().st_size / 1e6, 1),
            "make_input_s": round(made, 1),
            "cpus": os.cpu_count(),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in load_after],
            "kinds": {
                k: {
                    "median_s": med(k, "seconds"),
                    "median_cpu_s": med(k, "cpu"),
                    "median_peak_mb": round(med(k, "peak_mb")),
                    "runs_s": [round(r["seconds"], 2) for r in runs[k]],
                }
                for k in kinds
            },
            "kpilib_tables": runs["kpilib"][-1]["tables"],
            "kpilib_quarantined": runs["kpilib"][-1]["quarantined"],
        }
        result["ratio_kpilib_to_floor"] = round(
            med("kpilib", "seconds") / med("floor", "seconds"), 2
        )
        if args.baseline:
            result["speedup_vs_baseline"] = round(
                med("baseline", "seconds") / med("kpilib", "seconds"), 2
            )
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
