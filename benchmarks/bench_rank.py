"""Cost of a report's rank: every unit's scorecard of its kind for one quarter.

    .venv/bin/python benchmarks/bench_rank.py [--data data/sample] [--fy 2567] [--quarter 1] [--runs 5]
        [--baseline ../old]   # another kpilib checkout, measured in the same run, alternating

Each run is a fresh process (``-c``): the first unit's scorecard (which fills the complaint
engine's per-bundle cache, needed by the report anyway) is timed apart from the other 49
districts' scorecards, which is what :func:`kpilib.assemble.peer_percents` adds, once per
process, bundle and quarter. Medians over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import json, sys, time
from kpilib.assemble import peer_percents
from kpilib.catalog import load_catalog
from kpilib.datasets import load_bundle
from kpilib.scoring import unit_scorecard
data, fy, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cat = load_catalog(); b = load_bundle(data)
t = time.perf_counter(); unit_scorecard("1032", fy, q, bundle=b, catalog=cat); first = time.perf_counter() - t
t = time.perf_counter(); p = peer_percents(b, catalog=cat, fy=fy, quarter=q, kind="district"); peers = time.perf_counter() - t
t = time.perf_counter(); peer_percents(b, catalog=cat, fy=fy, quarter=q, kind="district"); again = time.perf_counter() - t
print(json.dumps({"first": first, "peers": peers, "again": again, "units": len(p)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/sample")
    ap.add_argument("--fy", type=int, default=2567)
    ap.add_argument("--quarter", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--baseline", default=None, help="another kpilib checkout (PYTHONPATH)")
    a = ap.parse_args()
    kinds = ["kpilib"] + (["baseline"] if a.baseline else [])
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for _ in range(a.runs):
        for kind in kinds:  # alternating, each in a fresh process
            env = dict(os.environ)
            if kind == "baseline":
                env["PYTHONPATH"] = os.path.abspath(a.baseline)
            out = subprocess.run(
                # -P: the current folder is not put first on sys.path, so a baseline's
                # kpilib (PYTHONPATH) is the one imported
                [sys.executable, "-P", "-c", CHILD, a.data, str(a.fy), str(a.quarter)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for kind in kinds:
        for key in ("first", "peers", "again"):
            values = [r[key] for r in runs[kind]]
            print(
                f"{kind:8s} {key:6s} median {statistics.median(values):.3f} s  runs "
                + ", ".join(f"{v:.2f}" for v in values)
            )
    print(f"units ranked: {runs['kpilib'][0]['units']}")


if __name__ == "__main__":
    main()
