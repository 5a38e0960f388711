"""Benchmark a report's charts: PNG vs inline SVG, constrained layout vs fitted margins.

Every chart of one report document (``kpilib.charts.report_figures``) is built and encoded,
``--repeat`` times per process; each process measures one kind, and the kinds alternate
in fresh processes (``--rounds`` each) so that the machine's load falls on all alike.
The kinds:

- ``png``: each figure as PNG, margins fitted (``charts.fit_layout``);
- ``svg-constrained``: each figure as inline SVG under matplotlib's constrained layout (how
  reports drew their charts before ``fit_layout``);
- ``svg``: each figure as inline SVG, margins fitted;
- ``report``: what a report does now (``report.kpi_chart_html`` and ``report.charts_html``:
  fitted margins, the district ranking drawn once per process and recoloured per report, so
  from the second repeat on it is not drawn, as in a batch worker);
- ``baseline`` (with ``--baseline PATH``): ``report`` in another checkout of kpilib (e.g. the
  previous main branch in a ``git worktree``), imported from there in its fresh processes.

Printed: median seconds per report for building the figures and for encoding them, and the
bytes of the embedded HTML, per kind, with the ratios.

Usage (from the project root; a report.json from ``kpi report`` or ``kpi run``)::

    .venv/bin/python benchmarks/bench_charts.py outputs/2567/Q1/1032/report.json
    .venv/bin/python benchmarks/bench_charts.py REPORT_JSON --kinds report --baseline ../old

This is a script, not a test: nothing asserts on timings.
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

KINDS = ("png", "svg-constrained", "svg", "report", "baseline")


def _measure(report_json: Path, kind: str, repeat: int) -> dict[str, float]:
    """Build and encode every chart of the report ``repeat`` times in this process."""
    import base64

    from kpilib import charts, report
    from kpilib.document import read_report_json

    doc = read_report_json(report_json.read_text(encoding="utf-8"))
    charts.use_thai_font()
    build: list[float] = []
    encode: list[float] = []
    size = n = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        if kind in ("report", "baseline"):  # building and encoding happen together here
            parts = [*report.kpi_chart_html(doc).values(), report.charts_html(doc)]
            t1 = t2 = time.perf_counter()
            size = sum(len(p.encode("utf-8")) for p in parts)
            n = len(charts.report_figures(doc))
        else:
            figs = [charts.localised(doc, fig) for _, fig in charts.report_figures(doc)]
            t1 = time.perf_counter()
            size, n = 0, len(figs)
            for fig in figs:
                if kind == "svg-constrained":
                    fig.set_layout_engine("constrained")  # fit_layout leaves it alone
                if kind == "png":
                    size += len(base64.b64encode(charts.figure_png(fig)))
                else:
                    size += len(charts.figure_svg(fig).encode("utf-8"))
            t2 = time.perf_counter()
        build.append(t1 - t0)
        encode.append(t2 - t1)
    return {
        "build_s": statistics.median(build),
        "encode_s": statistics.median(encode),
        "bytes": size,
        "charts": n,
    }


def main(argv: list[str] | None = None) -> int:
    """Alternate PNG and SVG in fresh processes and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_json", type=Path)
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per format")
    parser.add_argument("--repeat", type=int, default=3, help="reports per process")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help="comma-separated, of " + ", ".join(KINDS)
    )
    parser.add_argument("--baseline", type=Path, help="another kpilib checkout (kind baseline)")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.report_json, args.child, args.repeat)))
        return 0
    kinds = [k for k in args.kinds.split(",") if k and k != "baseline"]
    if not kinds or set(kinds) - set(KINDS):
        parser.error(f"--kinds: choose from {', '.join(KINDS)}")
    if args.baseline is not None:
        if not (args.baseline / "kpilib" / "charts.py").is_file():
            parser.error(f"--baseline {args.baseline}: not a kpilib checkout")
        kinds.append("baseline")
    with open("/proc/loadavg", encoding="ascii") as fh:
        print("load average before:", " ".join(fh.read().split()[:3]))
    got: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    for _ in range(args.rounds):
        for fmt in kinds:
            env = dict(os.environ)
            if fmt == "baseline":  # that checkout's kpilib before this one's
                env["PYTHONPATH"] = str(args.baseline.resolve())
            out = subprocess.run(
                [sys.executable, __file__, str(args.report_json), "--child", fmt,
                 "--repeat", str(args.repeat)],
                capture_output=True, text=True, check=True, env=env,
            )  # fmt: skip
            got[fmt].append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {
        fmt: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for fmt, runs in got.items()
    }
    for fmt, m in med.items():
        print(
            f"{fmt}: {m['charts']:.0f} charts, build {m['build_s']:.3f} s, "
            f"encode {m['encode_s']:.3f} s, total {m['build_s'] + m['encode_s']:.3f} s, "
            f"{m['bytes'] / 1024:.0f} KiB"
        )
    with open("/proc/loadavg", encoding="ascii") as fh:
        print("load average after:", " ".join(fh.read().split()[:3]))

    def total(kind: str) -> float:
        return med[kind]["build_s"] + med[kind]["encode_s"]

    pairs = (("svg", "png"), ("svg", "svg-constrained"), ("report", "svg-constrained"))
    for a, b in (*pairs, ("report", "baseline")):
        if a in med and b in med:
            print(
                f"{a} / {b}: time {total(a) / total(b):.2f}, bytes "
                f"{med[a]['bytes'] / med[b]['bytes']:.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
