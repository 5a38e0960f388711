"""Benchmark ``kpi run --scheduler``: a synthetic organisation rendered on a Dask cluster.

One run:

1. generates a synthetic organisation (``kpi sample-data --units N --scale S``) unless the
   folder already holds it;
2. renders one quarter cold with ``kpi run --scheduler SCHED --jobs J`` (the
   organisation's definitions through ``KPILIB_PARAMS``) into an empty output folder;
3. reads the run record (``<out>/<FY>/runs/<id>.json``) and prints: wall time, the preparing
   step (ingest, validation, fingerprints), rendering, the per-report costs (execution, HTML
   export; the first report of each worker apart, since it pays the warm-up), peak memory,
   and the load average (``/proc/loadavg``) before and after.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_dask.py --units 150 --scale 0.2 --jobs 2 --out /tmp/kpi-dask

Results are printed and written to ``<out>/benchmark.json``. A script, not a test.

``--ranking-chart 50,150,1000`` instead times, in this process, the one chart of a report
that grows with the organisation (``charts.district_position``: every district's Traffy
resolution, one bar each) drawn and encoded for those district counts (median of 3).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _load() -> str:
    """The load averages (1, 5, 15 min), as ``uptime`` prints them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ranking_chart(sizes: list[int]) -> dict[int, float]:
    """Seconds to draw and encode the district-position chart for each district count."""
    import numpy as np
    import pandas as pd

    from kpilib import charts

    rng = np.random.default_rng(0)
    out: dict[int, float] = {}
    for n in sizes:
        frame = pd.DataFrame(
            {
                "unit_code": [f"S{i:04d}" for i in range(n)],
                "name": [f"เขตจำลอง{i:04d}" for i in range(n)],
                "value": rng.uniform(40, 100, n),
            }
        )
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fig = charts.district_position(frame, unit_code="S0001", title="ranking", target=80.0)
            charts.figure_html(fig)
            times.append(time.perf_counter() - t0)
        out[n] = round(statistics.median(times), 3)
        print(f"{n} districts: {out[n]} s", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=150, help="districts (>= 50)")
    ap.add_argument("--scale", type=float, default=0.2, help="sample volume multiplier")
    ap.add_argument("--jobs", type=int, default=2, help="local Dask workers")
    ap.add_argument("--scheduler", default="local", help="local or tcp://HOST:PORT")
    ap.add_argument("--quarter", default="1")
    ap.add_argument("--out", type=Path, help="work folder")
    ap.add_argument("--ranking-chart", default=None, metavar="N,N,…", help="see above")
    args = ap.parse_args(argv)
    if args.ranking_chart:
        print(f"load {_load()}")
        ranking_chart([int(n) for n in args.ranking_chart.split(",")])
        print(f"load {_load()}")
        return 0
    if args.out is None:
        ap.error("--out is required")
    data = args.out / f"org{args.units}"
    out = args.out / f"outputs-{time.strftime('%Y%m%dT%H%M%S')}"
    kpi = str(BIN / "kpi")
    sample = [kpi, "sample-data", "--units", str(args.units), "--scale", str(args.scale)]
    subprocess.run([*sample, "--out", str(data)], check=True)
    env = dict(os.environ, KPILIB_PARAMS=str(data / "params"))
    cmd = [kpi, "run", "--fy", "2567", "--quarter", args.quarter, "--data", str(data)]
    cmd += ["--out", str(out), "--scheduler", args.scheduler, "--jobs", str(args.jobs)]
    load_before = _load()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, check=False)
    wall = time.perf_counter() - t0
    load_after = _load()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"kpi run exited {proc.returncode}")
    record = json.loads(max((out / "2567" / "runs").glob("*.json")).read_text())
    reports = [r for r in record["reports"] if r["status"] == "ok"]
    workers = record["workers"]
    firsts = {(r["unit"], r["quarter"]) for r in reports if r.get("first_in_worker")}
    rest = [r for r in reports if (r["unit"], r["quarter"]) not in firsts]

    def med(key: str, rows: list[dict]) -> float:
        values = [r["timings"].get(key, 0.0) for r in rows]
        return round(statistics.median(values), 2) if values else 0.0

    t = record["timings"]
    result = {
        "command": f"KPILIB_PARAMS={data / 'params'} " + " ".join(cmd),
        "units": args.units,
        "scale": args.scale,
        "reports": len(record["reports"]),
        "rendered": len(reports),
        "workers": len(workers),
        "wall_s": round(wall, 1),
        "prepare_s": t.get("prepare"),
        "prepare_ingest_s": t.get("prepare_ingest"),
        "prepare_validation_s": t.get("prepare_validation"),
        "prepare_fingerprints_s": t.get("prepare_fingerprints"),
        "render_s": t.get("render"),
        "index_s": t.get("index"),
        "per_report_worker_s": round(t.get("render", 0) * len(workers) / max(1, len(reports)), 2),
        "median_total_s_after_first": med("total", rest),
        "median_execute_s_after_first": med("execute", rest),
        "median_html_s_after_first": med("html", rest),
        "first_report_s": sorted(
            r["timings"].get("total", 0.0) for r in reports if (r["unit"], r["quarter"]) in firsts
        ),
        "warm_up": {pid: w.get("warm_up") for pid, w in workers.items()},
        "memory_mb": record.get("memory_mb"),
        "worker_peak_mb": sorted(w.get("maxrss_mb") for w in workers.values()),
        "load_before": load_before,
        "load_after": load_after,
    }
    (args.out / "benchmark.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
