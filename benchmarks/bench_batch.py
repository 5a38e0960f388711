"""Benchmark ``kpi run`` against a naive loop of the ``papermill`` and ``jupyter nbconvert`` CLIs.

One run measures, on the same data and machine:

1. the full fiscal year (every unit the catalogue assigns KPIs to x 4 quarters, HTML) with
   ``kpi run --quarter all`` from an empty output folder ("cold");
2. the same command again with nothing changed ("warm rerun"; target <= 5 s);
3. a naive loop over a subset of reports: ``papermill`` CLI then
   ``jupyter nbconvert --to html --no-input`` CLI per report, extrapolated per report;
4. where the time goes: papermill CLI start + kernel start (a notebook with only a
   parameters cell), the report's imports in a fresh interpreter, execution and export per
   report (from the batch manifest), peak memory per worker (``ru_maxrss``);
5. with ``--months``, a second figure: the fiscal year's monthly progress reports
   (``kpi run --month M`` for each of the 12 months, every unit with a project KPI) from an
   empty month folder, after everything above.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_batch.py                 # the real report notebook
    .venv/bin/python benchmarks/bench_batch.py --fixture       # tests/fixtures/batch/ok.ipynb
    .venv/bin/python benchmarks/bench_batch.py --months        # also the 12 monthly runs

``--fixture`` runs the tiny fixture notebook on a generated fixture data set, for when the
real notebook or sample data are not available. Results are printed and written to
``<out>/benchmark.json``. This is a script, not a test: nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FIXTURE_NB = ROOT / "tests" / "fixtures" / "batch" / "ok.ipynb"


def _run(cmd: list[str], *, env: dict[str, str] | None = None, check: bool = True) -> float:
    """Run a command, return its wall time in seconds."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t0
    if check and proc.returncode not in (0,):
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed


def _fixture_data(folder: Path) -> list[str]:
    """Write a scores.csv for every unit with KPIs in FY 2567; return the unit codes."""
    from kpilib.catalog import load_catalog

    units = [u.code for u in load_catalog().units_with_kpis(2567)]
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    lines = ["unit_code,name_th,value"]
    lines += [f"{code},หน่วยงาน {code},{50 + (i * 7) % 50}" for i, code in enumerate(units)]
    (raw / "scores.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return units


def _last_run(fy_dir: Path) -> dict:
    """The record of the latest ``kpi run`` (``<out>/<FY>/runs/<run id>.json``)."""
    return json.loads(sorted((fy_dir / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))


def _change_one_cell(data: Path) -> dict:
    """Change the description of one Prawet (1032) ticket in the raw Traffy file."""
    import csv

    raw = data / "raw" / "traffy_api_v2.csv"
    with open(raw, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    row = next(r for r in rows if "ประเวศ" in r["district"])
    row["description"] = row["description"] + " (แก้ไข)"
    with open(raw, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return {"file": raw.name, "unit": "1032", "column": "description"}


def _monthly_runs(
    kpi: str, args: argparse.Namespace, data: Path, out: Path, extra: list[str], env: dict
) -> dict[str, object]:
    """The second figure: ``kpi run --month M`` for the 12 months of the fiscal year (cold:
    the month folders are empty), total and per report."""
    from kpilib.calendar import fiscal_months

    seconds, reports, failed = [], 0, 0
    for _, month in fiscal_months(int(args.fy)):
        cmd = [kpi, "run", "--fy", args.fy, "--month", str(month), "--data", str(data)]
        cmd += ["--out", str(out), "--jobs", str(args.jobs), *extra]
        seconds.append(_run(cmd, env=env, check=False))
        record = _last_run(out / args.fy)
        reports += sum(1 for r in record["reports"] if r["status"] != "up to date")
        failed += sum(1 for r in record["reports"] if r["status"] == "failed")
    total = sum(seconds)
    print(f"monthly reports: {reports} reports ({failed} failed) in {total:.1f} s (12 runs)")
    return {
        "runs": len(seconds),
        "reports": reports,
        "failed": failed,
        "cold_seconds": round(total, 2),
        "seconds_per_run": [round(x, 2) for x in seconds],
        "seconds_per_report_wall": round(total / reports, 3) if reports else None,
    }


def _trivial_notebook(path: Path) -> Path:
    """A notebook with only a parameters cell: papermill CLI + kernel start, nothing else."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell('unit = "1001"')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixture", action="store_true", help="use the fixture notebook")
    parser.add_argument(
        "--notebook", default=None, help="report notebook (default notebooks/report.ipynb)"
    )
    parser.add_argument("--data", default=None, help="data folder (default data/sample)")
    parser.add_argument("--out", default=None, help="work folder (default: a temp folder)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--naive", type=int, default=6, help="reports in the naive loop")
    parser.add_argument("--fy", default="2567")
    parser.add_argument(
        "--months",
        action="store_true",
        help="also render the fiscal year's monthly progress reports (12 x kpi run --month)",
    )
    args = parser.parse_args(argv)
    if args.months and args.fixture:
        parser.error("--months needs the report notebook (the fixture notebook has no month)")

    work = Path(args.out or tempfile.mkdtemp(prefix="kpi-bench-")).absolute()
    work.mkdir(parents=True, exist_ok=True)
    kpi = str(BIN / "kpi")
    extra: list[str] = []
    if args.fixture:
        data = work / "fixture-data"
        units = _fixture_data(data)
        notebook = FIXTURE_NB
        extra = ["--notebook", str(notebook), "--no-validate", "--no-ingest"]
    else:
        data = Path(args.data).absolute() if args.data else ROOT / "data" / "sample"
        from kpilib.paths import report_notebook

        notebook = Path(args.notebook or report_notebook()).absolute()
        if args.notebook:
            extra = ["--notebook", str(notebook)]
        if not notebook.is_file():
            raise SystemExit(f"{notebook} not found: run with --fixture")
        if not (data / "raw").is_dir():
            _run([kpi, "sample-data", "--out", str(data)])
        import shutil

        shutil.copytree(data / "raw", work / "data" / "raw", dirs_exist_ok=True)
        data = work / "data"  # a copy: the benchmark changes one cell of it
        from kpilib.catalog import load_catalog

        units = [u.code for u in load_catalog().units_with_kpis(int(args.fy))]
    out = work / "outputs"
    base = [kpi, "run", "--fy", args.fy, "--quarter", "all", "--data", str(data)]
    base += ["--out", str(out), "--jobs", str(args.jobs), *extra]
    env = dict(os.environ)
    results: dict[str, object] = {
        "mode": "fixture notebook" if args.fixture else "report notebook",
        "notebook": str(notebook),
        "data": str(data),
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "command": " ".join(base),
    }
    print(f"benchmark: {results['mode']}, {len(units)} units x 4 quarters, --jobs {args.jobs}")

    # 1. cold run of the whole fiscal year
    cold = _run(base, env=env, check=False)
    record = _last_run(out / args.fy)
    reports = [r for r in record["reports"] if r["status"] != "up to date"]
    n_reports = len(reports)
    failed = [r for r in reports if r["status"] == "failed"]
    execute = [r["timings"]["execute"] for r in reports if "execute" in r["timings"]]
    export = [r["timings"]["html"] for r in reports if "html" in r["timings"]]
    workers = record["workers"]
    warm_up = [w.get("warm_up", {}) for w in workers.values()]
    maxrss = [w.get("maxrss_mb", 0) for w in workers.values()]
    children_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"cold run: {n_reports} reports ({len(failed)} failed) in {cold:.1f} s")

    # 2. warm rerun, nothing changed. kpilib's source files are part of every report's hash:
    # in a tree being edited a rerun re-renders; retry until a rerun finds everything current
    for attempt in range(1, 4):
        warm = _run(base, env=env, check=False)
        statuses = [r["status"] for r in _last_run(out / args.fy)["reports"]]
        print(f"warm rerun #{attempt}: {warm:.2f} s ({statuses.count('up to date')} up to date)")
        if set(statuses) == {"up to date"}:
            break
    results["warm_rerun_attempts"] = attempt

    # 2b. one cell of one district changed: only the reports reading it are rendered again
    one_cell = None
    if not args.fixture:
        one_cell = _change_one_cell(data)
        t_cell = _run(base, env=env, check=False)
        cell_record = _last_run(out / args.fy)
        rendered = [r for r in cell_record["reports"] if r["status"] == "ok"]
        one_cell.update(
            seconds=round(t_cell, 2),
            rendered=len(rendered),
            of=len(cell_record["reports"]),
            prepare_peak_mb=cell_record["memory_mb"]["prepare_peak"],
            parent_peak_mb=cell_record["memory_mb"]["parent_peak"],
        )
        print(f"one changed cell: {len(rendered)} of {one_cell['of']} reports in {t_cell:.1f} s")
    results["one_changed_cell"] = one_cell

    # 3. naive loop: papermill CLI + nbconvert CLI per report
    naive_dir = work / "naive"
    naive_dir.mkdir(exist_ok=True)
    validation_json = out / args.fy / "validation" / "validation.json"
    subset = [(units[i % len(units)], 1 + i % 4) for i in range(args.naive)]
    naive_pm, naive_nb = [], []
    for unit, quarter in subset:
        nb_out = naive_dir / f"{unit}_Q{quarter}.ipynb"
        cmd = [str(BIN / "papermill"), str(notebook), str(nb_out), "--cwd", str(notebook.parent)]
        cmd += ["-r", "unit", unit, "-p", "fy", args.fy, "-p", "quarter", str(quarter)]
        cmd += ["-r", "data_dir", str(data), "--no-progress-bar"]
        if not args.fixture:
            cmd += [
                "-r",
                "validation_json",
                str(validation_json) if validation_json.is_file() else "",
            ]
            cmd += ["-r", "result_json", str(naive_dir / f"{unit}_Q{quarter}.json")]
        naive_pm.append(_run(cmd, env=env))
        naive_nb.append(
            _run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb_out)],
                env=env,
            )
        )
    naive_per_report = statistics.mean(a + b for a, b in zip(naive_pm, naive_nb, strict=True))
    print(
        f"naive loop: {len(subset)} reports, papermill {statistics.mean(naive_pm):.2f} s + "
        f"nbconvert {statistics.mean(naive_nb):.2f} s = {naive_per_report:.2f} s per report"
    )

    # 4. where the time goes
    trivial = _trivial_notebook(work / "trivial.ipynb")
    kernel_runs = [
        _run(
            [
                str(BIN / "papermill"),
                str(trivial),
                str(work / "trivial_out.ipynb"),
                "--no-progress-bar",
            ]
        )
        for _ in range(2)
    ]
    cli_import = statistics.mean(
        _run([sys.executable, "-c", "import papermill.cli"]) for _ in range(2)
    )
    imports_code = (
        "from kpilib import engine; from kpilib.batch.worker import WARM_MODULES; engine.warm_up(WARM_MODULES)"
        if not args.fixture
        else "import pandas, matplotlib.pyplot, IPython"
    )
    report_imports = _run([sys.executable, "-c", imports_code]) - _run(
        [sys.executable, "-c", "pass"]
    )

    batch_per_report = cold / n_reports
    results.update(
        {
            "reports": n_reports,
            "failed": len(failed),
            "cold_seconds": round(cold, 2),
            "batch_seconds_per_report_wall": round(batch_per_report, 3),
            "batch_seconds_per_report_per_worker": round(cold * args.jobs / n_reports, 3),
            "warm_rerun_seconds": round(warm, 2),
            "naive_reports": len(subset),
            "naive_papermill_cli_mean": round(statistics.mean(naive_pm), 3),
            "naive_nbconvert_cli_mean": round(statistics.mean(naive_nb), 3),
            "naive_seconds_per_report": round(naive_per_report, 3),
            "naive_extrapolated_full_fy_seconds": round(naive_per_report * n_reports, 1),
            "speedup_per_report_wall": round(naive_per_report / batch_per_report, 1),
            "speedup_per_report_per_worker": round(
                naive_per_report / (cold * args.jobs / n_reports), 1
            ),
            "breakdown": {
                "papermill_cli_import": round(cli_import, 3),
                "papermill_cli_plus_kernel_start_trivial_nb": round(
                    statistics.mean(kernel_runs), 3
                ),
                "kernel_start_estimate": round(statistics.mean(kernel_runs) - cli_import, 3),
                "report_imports_fresh_interpreter": round(report_imports, 3),
                "batch_worker_warm_up_once": warm_up,
                "batch_execute_mean": round(statistics.mean(execute), 3) if execute else None,
                "batch_execute_median": round(statistics.median(execute), 3) if execute else None,
                "batch_html_export_mean": round(statistics.mean(export), 3) if export else None,
                "batch_run_timings": record["timings"],
                "batch_memory_mb": record["memory_mb"],
            },
            "peak_rss_mb_per_worker": maxrss,
            "peak_rss_mb_kpi_parent_process": round(children_rss_mb, 1),
            "load_average_after": os.getloadavg(),
        }
    )
    if args.months:
        results["monthly"] = _monthly_runs(kpi, args, data, out, extra, env)
    print(json.dumps(results, indent=1, ensure_ascii=False))
    (work / "benchmark.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(
        f"\nper report: naive {naive_per_report:.2f} s vs kpi run {batch_per_report:.3f} s "
        f"(wall, {args.jobs} workers) -> {results['speedup_per_report_wall']}x; "
        f"per worker {results['speedup_per_report_per_worker']}x; "
        f"warm rerun {warm:.2f} s; results in {work / 'benchmark.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
