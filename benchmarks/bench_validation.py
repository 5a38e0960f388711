"""Benchmark: validate the full sample data set (``kpi sample-data`` at scale 1, FY 2567).

Each measured run is a fresh Python process (imports included); the runs alternate between:

- ``validate``: ``run_validation`` on a data folder the ingest has already brought up to
  date (as in ``kpi run``, which ingests first), GX Data Docs included;
- ``cold``: the same on a folder without ``processed/`` (``kpi sample-data`` then
  ``kpi validate``: validation runs the ingest first);
- ``gx-floor``: ``import great_expectations`` plus one expectation on a one-row frame: the
  fixed cost every GX validation pays on this machine;
- ``baseline`` (with ``--baseline PATH``): ``run_validation`` of another checkout of kpilib
  (e.g. the main branch) on the same raw files.

Reported per kind: median wall time, CPU time (user + system) and peak RSS, with the load
average before and after. A script, not a test.

Usage::

    .venv/bin/python benchmarks/bench_validation.py [--scale 1.0] [--repeat 3]
        [--baseline ../main] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FY = 2567

_USAGE = """
import json, resource, sys, time
def done(t0, **extra):
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": r.ru_utime + r.ru_stime,
                      "peak_mb": r.ru_maxrss / 1024, **extra}))
"""
VALIDATE = (
    _USAGE
    + """
t0 = time.perf_counter()
from kpilib.validation import run_validation
rep = run_validation(sys.argv[1], fy=int(sys.argv[2]), out_dir=sys.argv[3])
done(t0, findings=len(rep.findings), blocking=sum(f.severity == "blocking" for f in rep.findings))
"""
)
GX_FLOOR = (
    _USAGE
    + """
t0 = time.perf_counter()
import warnings
import pandas as pd
import great_expectations as gx
import great_expectations.expectations as gxe
ctx = gx.get_context(mode="ephemeral")
batch = ctx.data_sources.add_pandas("p").add_dataframe_asset("a").add_batch_definition_whole_dataframe("b")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    res = batch.get_batch(batch_parameters={"dataframe": pd.DataFrame({"x": [1]})}).validate(
        gxe.ExpectColumnValuesToNotBeNull(column="x"))
done(t0, success=bool(res.success))
"""
)


def run_child(code: str, args: list[str], pythonpath: Path) -> dict:
    """One measured run in a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(pythonpath)},
        cwd=tempfile.gettempdir(),  # not the checkout: "" on sys.path must not shadow PYTHONPATH
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"run failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_wall"] = wall
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each kind (alternating)")
    ap.add_argument("--baseline", type=Path, default=None, help="another kpilib checkout")
    ap.add_argument("--keep", type=Path, default=None, help="keep the data in this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_validation_") as tmp:
        work = args.keep or Path(tmp)
        data = work / "data"
        subprocess.run(
            [sys.executable, "-m", "kpilib.cli", "sample-data", "--fy", str(FY), "--out",
             str(data), "--scale", str(args.scale)],
            check=True, capture_output=True,
        )  # fmt: skip
        cold = work / "cold"
        if cold.exists():
            shutil.rmtree(cold)
        shutil.copytree(data / "raw", cold / "raw")
        kinds = ["validate", "cold", "gx-floor"] + (["baseline"] if args.baseline else [])
        runs: dict[str, list[dict]] = {k: [] for k in kinds}
        # bring data/processed up to date once (not measured: what kpi run does first)
        run_child(VALIDATE, [str(data), str(FY), str(work / "warmup")], ROOT)
        load_before = os.getloadavg()
        for _ in range(args.repeat):
            for kind in kinds:
                if kind == "validate":
                    res = run_child(VALIDATE, [str(data), str(FY), str(work / "v")], ROOT)
                elif kind == "cold":
                    shutil.rmtree(cold / "processed", ignore_errors=True)
                    res = run_child(VALIDATE, [str(cold), str(FY), str(work / "c")], ROOT)
                elif kind == "gx-floor":
                    res = run_child(GX_FLOOR, [], ROOT)
                else:
                    res = run_child(VALIDATE, [str(data), str(FY), str(work / "b")], args.baseline)
                runs[kind].append(res)
        load_after = os.getloadavg()

        def med(kind: str, key: str) -> float:
            return round(statistics.median(r[key] for r in runs[kind]), 2)

        result = {
            "scale": args.scale,
            "raw_mb": round(sum(p.stat().st_size for p in (data / "raw").iterdir()) / 1e6, 1),
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
            "findings": runs["validate"][-1]["findings"],
            "blocking": runs["validate"][-1]["blocking"],
        }
        result["validate_minus_gx_floor_s"] = round(
            med("validate", "seconds") - med("gx-floor", "seconds"), 2
        )
        if args.baseline:
            result["speedup_vs_baseline"] = round(
                med("baseline", "seconds") / med("validate", "seconds"), 2
            )
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
