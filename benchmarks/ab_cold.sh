#!/usr/bin/env bash
# Cold full-fiscal-year `kpi run` (FY 2567, every unit x 4 quarters, HTML, 2 workers) of two or
# more kpilib checkouts, alternating, each run in fresh processes on a fresh copy of the
# sample data (no processed/, no outputs): ingest, validation and rendering every time.
#
#   benchmarks/ab_cold.sh ROUNDS NAME=CHECKOUT [NAME=CHECKOUT ...]
#   e.g. git worktree add ../before HEAD~1
#        benchmarks/ab_cold.sh 3 before=../before now=.
#
# Each checkout's kpilib is imported through PYTHONPATH with this checkout's .venv. Prints
# one line per run (wall seconds, exit code, load average at the start); each run's manifest
# (prepare / render timings, per-report times) stays in $AB_DIR/<name><round>/out/2567/runs/.
# A script, not a test: it asserts nothing.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AB_DIR=${AB_DIR:-/tmp/kpi-ab}
rounds=$1; shift
for i in $(seq 1 "$rounds"); do
  for pair in "$@"; do
    name=${pair%%=*}; path=$(cd "${pair#*=}" && pwd)
    d=$AB_DIR/$name$i; rm -rf "$d"; mkdir -p "$d"
    cp -r "$ROOT/data/sample" "$d/data"; rm -rf "$d/data/processed"
    load=$(cut -d' ' -f1 /proc/loadavg)
    s=$(date +%s.%N)
    PYTHONPATH=$path "$ROOT/.venv/bin/kpi" run --fy 2567 --quarter all --data "$d/data" \
      --out "$d/out" --jobs 2 >/dev/null 2>"$d/err.log"
    rc=$?
    e=$(date +%s.%N)
    echo "$name round $i: $(echo "$e - $s" | bc) s rc=$rc load=$load"
  done
done
