"""Benchmark a report's charts: drawn and embedded as PNG vs inline SVG.

Every chart of one report document (``kpilib.charts.report_figures``) is built and encoded,
``--repeat`` times per process; each process measures one format, and the formats alternate
in fresh processes (``--rounds`` each) so that the machine's load falls on both alike.
Printed: median seconds per report for building the figures and for encoding them, and the
bytes of the embedded HTML, per format, with the ratio.

Usage (from the project root; a report.json from ``kpi report`` or ``kpi run``)::

    .venv/bin/python benchmarks/bench_charts.py outputs/2567/Q1/1032/report.json

This is a script, not a test: nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _measure(report_json: Path, fmt: str, repeat: int) -> dict[str, float]:
    """Build and encode every chart of the report ``repeat`` times in this process."""
    import base64

    from kpilib import charts
    from kpilib.document import read_report_json

    doc = read_report_json(report_json.read_text(encoding="utf-8"))
    charts.use_thai_font()
    build: list[float] = []
    encode: list[float] = []
    size = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        figs = [charts.localised(doc, fig) for _, fig in charts.report_figures(doc)]
        t1 = time.perf_counter()
        size = 0
        for fig in figs:
            if fmt == "png":
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
        "charts": len(figs),
    }


def main(argv: list[str] | None = None) -> int:
    """Alternate PNG and SVG in fresh processes and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_json", type=Path)
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per format")
    parser.add_argument("--repeat", type=int, default=3, help="reports per process")
    parser.add_argument("--child", choices=["png", "svg"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.report_json, args.child, args.repeat)))
        return 0
    got: dict[str, list[dict[str, float]]] = {"png": [], "svg": []}
    for _ in range(args.rounds):
        for fmt in ("png", "svg"):
            out = subprocess.run(
                [sys.executable, __file__, str(args.report_json), "--child", fmt,
                 "--repeat", str(args.repeat)],
                capture_output=True, text=True, check=True,
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
    png, svg = med["png"], med["svg"]
    print(
        f"svg / png: time {(svg['build_s'] + svg['encode_s']) / (png['build_s'] + png['encode_s']):.2f}, "
        f"encode {svg['encode_s'] / png['encode_s']:.2f}, bytes {svg['bytes'] / png['bytes']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
