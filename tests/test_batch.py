"""``kpi run`` (kpilib.batch): parameters, failure isolation, incremental and atomic writes,
index, summaries, manifest and run records.

These tests use small fixture notebooks (tests/fixtures/batch/) and a stand-in catalogue,
so they exercise the batch machinery rather than the real report notebook (that is
tests/test_batch_e2e.py; faults are tests/test_batch_faults.py).
"""

from __future__ import annotations

import io
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import nbformat
import pytest

from kpilib import batch, cli, engine, fsio
from kpilib.batch import outputs, plan, run, worker
from kpilib.document import read_report_json
from kpilib.errors import InputError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "batch"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class _Unit:
    code: str
    name_th: str
    kind: str = "district"


class FakeCatalog:
    """The two catalogue calls the batch makes."""

    def __init__(self, names: dict[str, str]) -> None:
        self._units = tuple(_Unit(c, n) for c, n in names.items())

    def unit(self, code: str) -> _Unit:
        for u in self._units:
            if u.code == code:
                return u
        raise KeyError(code)

    def units_with_kpis(self, fy: int) -> tuple[_Unit, ...]:
        return self._units


NAMES = {"1001": "เขตพระนคร", "1002": "เขตดุสิต", "1003": "เขตหนองจอก"}


@pytest.fixture(scope="module", autouse=True)
def _restore_process_state():
    """Running reports in this process switches matplotlib's backend: undo it afterwards."""
    backend = matplotlib.get_backend()
    yield
    engine.discard_shell()
    matplotlib.use(backend)


@pytest.fixture(autouse=True)
def _stable_source_hash(tmp_path_factory, monkeypatch):
    """Other engineers edit kpilib/ while these tests run: pin the source tree hashed."""
    src = tmp_path_factory.mktemp("kpilib_src")
    (src / "module.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.setattr(run, "package_dir", lambda: src)
    return src


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture data (tests change it)."""
    dst = tmp_path / "data"
    shutil.copytree(FIXTURES / "data", dst)
    return dst


def _plan(data_dir: Path, out: Path, *, notebook: str = "ok.ipynb", names=None, **kw):
    options = {
        "fy": 2567,
        "quarter": "1",
        "data": data_dir,
        "out": out,
        "jobs": 1,
        "notebook": FIXTURES / notebook,
        "validate": False,
        "ingest": False,
        "catalog": FakeCatalog(names or NAMES),
    }
    options.update(kw)
    return batch.plan_run(**options)


def _run(p) -> tuple[batch.BatchResult, str]:
    log = io.StringIO()
    result = batch.run_batch(p, stream=log, out=log)
    return result, log.getvalue()


def _status(result: batch.BatchResult) -> dict[str, str]:
    return {r.unit: r.status for r in result.results}


# --------------------------------------------------------------------------- parameters


@pytest.fixture
def cli_catalog(monkeypatch):
    monkeypatch.setattr(plan, "load_plan_catalog", lambda params: FakeCatalog(NAMES))


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a_file.txt"
    path.write_text("not a folder\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--unit", "9999"],
            "unknown unit code '9999': not in the catalogue (params/units.yaml)",
        ),
        (["--quarter", "5"], "invalid --quarter '5': use 1, 2, 3, 4 or 'all'"),
        (
            ["--fy", "2024"],
            "fiscal year (--fy) 2024 looks like a Common-Era year; fiscal years are named in "
            "the Buddhist Era: did you mean 2567?",
        ),
        (
            ["--fy", "2500"],
            "fiscal year (--fy) 2500 is outside the fiscal years the business calendar covers "
            "(2559-2573: holidays are known for CE 2015-2030)",
        ),
        (
            ["--data", "../x"],
            "invalid --data '../x': '..' path components are not allowed; give the folder directly",
        ),
        (
            ["--out", "reports/../../x"],
            "invalid --out 'reports/../../x': '..' path components are not allowed; "
            "give the folder directly",
        ),
        (
            ["--unit", "../x"],
            "invalid unit code '../x': use letters, digits, '_', '-' or '.', "
            "no path separators and no leading dot",
        ),
        (["--jobs", "0"], "invalid --jobs 0: use a whole number of workers >= 1"),
        (["--cell-timeout", "-1"], "invalid --cell-timeout -1.0: use a number of seconds > 0"),
        (
            ["--data", "no/such/folder"],
            "data folder not found: {cwd}/no/such/folder (create it with 'kpi sample-data')",
        ),
        (
            ["--data", "{file}"],
            "invalid --data '{file}': {file} is a file, not a folder",
        ),
        (["--out", "{file}"], "invalid --out '{file}': {file} is a file, not a folder"),
        (
            ["--out", "{file}/sub"],
            "invalid --out '{file}/sub': {file}/sub is under {file}, which is a file, not a folder",
        ),
    ],
)
def test_bad_parameters_are_refused_before_anything_runs(
    args, message, cli_catalog, a_file, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = [a.format(file=a_file) for a in args]
    base = ["run", "--data", str(FIXTURES / "data"), "--out", str(tmp_path / "out")]
    base += ["--notebook", str(FIXTURES / "ok.ipynb"), "--no-validate", "--no-ingest"]
    code = cli.main([*base, *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"kpi run: error: {message.format(cwd=tmp_path, file=a_file)}\n"
    assert not (tmp_path / "out").exists()


def test_kpi_report_refuses_all_without_suggesting_it(cli_catalog, capsys):
    for quarter in ("all", "5"):
        code = cli.main(["report", "--unit", "1001", "--fy", "2567", "--quarter", quarter])
        assert code == 2
        assert capsys.readouterr().err == (
            f"kpi report: error: invalid --quarter '{quarter}': use 1, 2, 3 or 4\n"
        )


def test_quarter_all_and_default_units_come_from_the_catalogue(data_dir, tmp_path):
    p = _plan(data_dir, tmp_path / "out", quarter="all")
    assert p.quarters == (1, 2, 3, 4)
    assert [u.code for u in p.units] == ["1001", "1002", "1003"]
    assert p.unit_dir(2, "1003") == tmp_path / "out" / "2567" / "Q2" / "1003"


# --------------------------------------------------------------------------- running


def test_failing_unit_is_isolated_and_kept_for_inspection(data_dir, tmp_path):
    out = tmp_path / "out"
    result, log = _run(_plan(data_dir, out, notebook="fails_for_1002.ipynb"))

    assert result.exit_code == batch.EXIT_FAILED
    assert _status(result) == {"1001": "ok", "1002": "failed", "1003": "ok"}
    q1 = out / "2567" / "Q1"
    for ok in ("1001", "1003"):
        assert (q1 / ok / "report.html").is_file()
        assert read_report_json((q1 / ok / "report.json").read_bytes()).unit.code == ok
    failed = q1 / "1002"
    assert not (failed / "report.html").exists() and not (failed / "report.json").exists()
    nb = nbformat.read(failed / "report.ipynb", as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert len(errors) == 1 and errors[0].ename == "RuntimeError"
    assert "injected failure for unit 1002" in ANSI.sub("", "\n".join(errors[0].traceback))

    index = (q1 / "index.html").read_text(encoding="utf-8")
    row = re.search(r'<tr class="failed">.*?</tr>', index, re.S).group(0)
    assert "1002" in row and "ล้มเหลว" in row and "injected failure for unit 1002" in row
    assert 'href="1002/report.ipynb"' in row and "report.html" not in row
    manifest = json.loads((q1 / "manifest.json").read_text(encoding="utf-8"))
    statuses = {r["unit"]: (r["status"], r["error"]) for r in manifest["reports"]}
    assert statuses["1002"] == ("failed", "RuntimeError: injected failure for unit 1002")
    assert statuses["1001"] == ("ok", None)
    assert "kpi run: FAILED 1002 Q1: RuntimeError: injected failure for unit 1002" in log


def test_progress_lines_are_time_stamped_and_labelled(data_dir, tmp_path):
    result, log = _run(_plan(data_dir, tmp_path / "out", units=["1003"], quarter="all"))
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    lines = re.findall(rf"^{stamp} kpi run: (\[\d/4\] \S+ Q\d \w+) ", log, re.M)
    assert lines == [f"[{q}/4] 1003 Q{q} ok" for q in (1, 2, 3, 4)]
    assert "\r" not in log
    assert [p.parent.name for p in result.index_paths] == ["Q1", "Q2", "Q3", "Q4"]
    for q in (1, 2, 3, 4):
        scorecard = tmp_path / "out" / "2567" / f"Q{q}" / "1003" / "report.json"
        assert read_report_json(scorecard.read_bytes()).period.quarter == q


def test_kpi_report_labels_its_lines(data_dir, tmp_path, cli_catalog, monkeypatch, capsys):
    monkeypatch.setattr(plan, "report_notebook", lambda: FIXTURES / "ok.ipynb")
    monkeypatch.setattr(batch, "run_batch", _no_prepare(batch.run_batch))
    code = cli.main(
        [
            "report",
            "--unit",
            "1001",
            "--fy",
            "2567",
            "--quarter",
            "1",
            "--data",
            str(data_dir),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    captured = capsys.readouterr()
    assert code == batch.EXIT_OK
    assert "kpi run" not in captured.err + captured.out
    assert re.search(r"kpi report: \[1/1\] 1001 Q1 ok", captured.err)
    assert f"kpi report: HTML  {tmp_path / 'out' / '2567' / 'Q1' / '1001' / 'report.html'}" in (
        captured.out
    )


def _no_prepare(fn):
    """``kpi report`` validates and ingests; the fixture data has nothing to validate."""
    import dataclasses

    def wrapped(p, **kw):
        return fn(dataclasses.replace(p, validate=False, ingest=False), **kw)

    return wrapped


def test_unchanged_reports_are_skipped_and_force_rerenders(data_dir, tmp_path):
    out = tmp_path / "out"
    _run(_plan(data_dir, out, notebook="fails_for_1002.ipynb"))
    html = out / "2567" / "Q1" / "1001" / "report.html"
    stamp = html.stat().st_mtime_ns

    second, log = _run(_plan(data_dir, out, notebook="fails_for_1002.ipynb"))
    # unchanged reports are up to date; the failed one is retried
    assert _status(second) == {"1001": "up to date", "1002": "failed", "1003": "up to date"}
    assert html.stat().st_mtime_ns == stamp
    assert "1 to render, 2 up to date" in log

    forced, _ = _run(_plan(data_dir, out, notebook="fails_for_1002.ipynb", force=True))
    assert _status(forced) == {"1001": "ok", "1002": "failed", "1003": "ok"}
    assert html.stat().st_mtime_ns != stamp


@pytest.mark.parametrize("change", ["data", "notebook", "params", "source"])
def test_a_changed_input_rerenders(change, data_dir, tmp_path, monkeypatch, _stable_source_hash):
    out = tmp_path / "out"
    notebook = tmp_path / "report.ipynb"
    shutil.copy(FIXTURES / "ok.ipynb", notebook)
    params = tmp_path / "params"
    params.mkdir()
    (params / "units.yaml").write_text("units: []\n", encoding="utf-8")
    monkeypatch.setenv("KPILIB_PARAMS", str(params))
    _run(_plan(data_dir, out, notebook=str(notebook)))
    if change == "data":
        with open(data_dir / "raw" / "scores.csv", "a", encoding="utf-8") as fh:
            fh.write("1004,เขตบางรัก,80\n")
    elif change == "notebook":
        nb = nbformat.read(notebook, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell("print('new cell')"))
        nbformat.write(nb, notebook)
    elif change == "params":
        (params / "units.yaml").write_text("units: [x]\n", encoding="utf-8")
    else:
        (_stable_source_hash / "module.py").write_text("VALUE = 2\n", encoding="utf-8")
    again, _ = _run(_plan(data_dir, out, notebook=str(notebook)))
    assert set(_status(again).values()) == {"ok"}


def test_moved_data_and_output_folders_stay_current(data_dir, tmp_path):
    """The cache key holds no absolute path: moving the checkout re-renders nothing."""
    first, _ = _run(_plan(data_dir, tmp_path / "out"))
    assert set(_status(first).values()) == {"ok"}
    moved = tmp_path / "elsewhere"
    shutil.copytree(data_dir, moved / "data")
    shutil.copytree(tmp_path / "out", moved / "out")
    again, log = _run(_plan(moved / "data", moved / "out"))
    assert set(_status(again).values()) == {"up to date"}
    assert "to render" not in log


# --------------------------------------------------------------------------- atomic writes


def test_a_crash_while_writing_html_leaves_no_partial_file(data_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    unit_dir = out / "2567" / "Q1" / "1001"

    def crash_half_way(nb, path):
        Path(path).write_text("<html><body>half a rep", encoding="utf-8")
        raise KeyboardInterrupt  # the process dies while exporting

    monkeypatch.setattr(worker, "_export_html", crash_half_way)
    with pytest.raises(KeyboardInterrupt):
        _run(_plan(data_dir, out, units=["1001"]))
    assert not (unit_dir / "report.html").exists()
    # the state says the render never finished
    assert json.loads((unit_dir / ".report.state.json").read_text())["status"] == "running"
    assert not list(unit_dir.glob(f"{fsio.TMP_PREFIX}*"))
    # a hard kill would leave the temporary file: the rerun removes it and completes
    (unit_dir / f"{fsio.TMP_PREFIX}report.999.html").write_text("<html>partial", encoding="utf-8")
    monkeypatch.undo()
    result, _ = _run(_plan(data_dir, out, units=["1001"]))
    assert _status(result) == {"1001": "ok"}
    assert (unit_dir / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not list(unit_dir.glob(f"{fsio.TMP_PREFIX}*"))


def test_a_full_disk_stops_the_run_and_keeps_what_was_there(data_dir, tmp_path, monkeypatch):
    import errno

    out = tmp_path / "out"
    _run(_plan(data_dir, out))
    q1 = out / "2567" / "Q1"
    before = {p: p.read_bytes() for p in q1.rglob("*") if p.is_file() and p.name != "manifest.json"}

    def full(nb, path):
        Path(path).write_bytes(b"<html>part")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(worker, "_export_html", full)
    monkeypatch.setattr(run, "atomic_write_text", _disk_full)
    result, log = _run(_plan(data_dir, out, force=True))
    assert result.exit_code == batch.EXIT_FAILED
    assert _status(result) == {"1001": "failed", "1002": "interrupted", "1003": "interrupted"}
    assert "error: the output folder cannot be written: OSError: [Errno 28] No space left" in log
    assert "reports rendered before are intact" in log
    after = {p: p.read_bytes() for p in q1.rglob("*") if p.is_file() and p.name != "manifest.json"}
    for path, data in before.items():
        if path.name != ".report.state.json":
            assert after.get(path) == data, path
    assert not list(q1.rglob(f"{fsio.TMP_PREFIX}*"))


def _disk_full(path, text):
    import errno

    raise OSError(errno.ENOSPC, "No space left on device", str(path))


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    target.write_text("old", encoding="utf-8")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fsio.os, "replace", failing_replace)
    with pytest.raises(OSError):
        fsio.atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


# --------------------------------------------------------------------------- index & summaries


def test_index_escapes_unit_names(data_dir, tmp_path):
    names = {"1001": "<script>alert('x')</script>เขต", "1003": 'เขต"&'}
    result, _ = _run(_plan(data_dir, tmp_path / "out", names=names))
    index = result.index_paths[0].read_text(encoding="utf-8")
    assert "<script>alert" not in index
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;เขต" in index
    assert "เขต&#34;&amp;" in index
    assert index.count("<script>") == 1  # only the page's own sorting script


def test_summaries_have_thai_headers_and_one_row_per_unit(data_dir, tmp_path):
    from openpyxl import load_workbook

    result, _ = _run(_plan(data_dir, tmp_path / "out", notebook="fails_for_1002.ipynb"))
    q1 = result.index_paths[0].parent
    raw = (q1 / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Thai text correctly
    rows = [line.split(",") for line in raw.decode("utf-8-sig").splitlines()]
    assert rows[0][:4] == [outputs.H_CODE, outputs.H_NAME, outputs.H_QUARTER, outputs.H_POINTS]
    assert f"{outputs.H_LEVEL} ตัวชี้วัดทดสอบ" in rows[0]  # the KPI's short name, not its id
    assert [r[0] for r in rows[1:]] == ["1001", "1002", "1003"]
    by_code = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert float(by_code["1001"][outputs.H_POINTS]) == 10
    assert by_code["1001"][f"{outputs.H_LEVEL} ตัวชี้วัดทดสอบ"] == "5"
    assert by_code["1001"][outputs.H_CERTIFIED] == "รับรองแล้ว"
    assert by_code["1003"][outputs.H_CERTIFIED] == "ยังไม่รับรอง"
    assert by_code["1002"][outputs.H_STATUS] == outputs.STATUS_TH["failed"]
    ws = load_workbook(q1 / "summary.xlsx").active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][:2] == (outputs.H_CODE, outputs.H_NAME)
    assert [v[0] for v in values[1:]] == ["1001", "1002", "1003"]


def test_uncertified_kpis_are_counted_and_get_their_own_exit_code(data_dir, tmp_path):
    result, log = _run(_plan(data_dir, tmp_path / "out"))
    assert _status(result) == {"1001": "ok", "1002": "ok", "1003": "ok"}
    assert result.exit_code == batch.EXIT_NOT_CERTIFIED == 3
    assert "kpi run: not certified: 1 of 3 report(s), 1 KPI result(s), 1 unit(s) (1003)" in log
    index = result.index_paths[0].read_text(encoding="utf-8")
    assert "ยังไม่รับรอง (1 ตัวชี้วัด)" in index
    with open(data_dir / "raw" / "scores.csv", "w", encoding="utf-8") as fh:
        fh.write("unit_code,name_th,value\n1001,เขตพระนคร,92.5\n")
    certified, log = _run(_plan(data_dir, tmp_path / "out", units=["1001"]))
    assert certified.exit_code == batch.EXIT_OK
    assert "not certified" not in log


def test_manifest_keeps_every_report_and_every_run(data_dir, tmp_path):
    out = tmp_path / "out"
    first, _ = _run(_plan(data_dir, out))
    manifest_path = first.manifest_paths[0]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert [r["unit"] for r in manifest["reports"]] == ["1001", "1002", "1003"]
    for report in manifest["reports"]:
        assert report["timings"]["execute"] > 0 and report["timings"]["html"] > 0
        assert report["outputs"] == ["report.html", "report.ipynb", "report.json"]
    record = json.loads(first.run_path.read_text(encoding="utf-8"))
    expected = fsio.sha256_file(data_dir / "raw" / "scores.csv")
    assert record["input_hashes"]["data_files"] == {"scores.csv": expected}
    assert record["outcome"] == "completed" and record["exit_code"] == 3

    # a single-unit run does not shrink the quarter's manifest; its record is a new file
    second, _ = _run(_plan(data_dir, out, units=["1002"], force=True))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert [r["unit"] for r in manifest["reports"]] == ["1001", "1002", "1003"]
    assert manifest["runs"] == [first.run_id, second.run_id]
    assert {r["unit"]: r["rendered_by_run"] for r in manifest["reports"]} == {
        "1001": first.run_id,
        "1002": second.run_id,
        "1003": first.run_id,
    }
    # a run with nothing to do keeps every report's timings
    third, _ = _run(_plan(data_dir, out))
    assert set(_status(third).values()) == {"up to date"}
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert all(r["timings"]["execute"] > 0 for r in manifest["reports"])
    runs = sorted(p.name for p in (out / "2567" / "runs").iterdir())
    assert runs == sorted(f"{r.run_id}.json" for r in (first, second, third))


def test_summary_row_reads_the_report_document(data_dir, tmp_path):
    _run(_plan(data_dir, tmp_path / "out"))
    q1 = tmp_path / "out" / "2567" / "Q1"
    # the fixture scores scores.csv's value on a 5-level rubric (>= 90: 5 ... < 60: 1) with
    # weight 10, and withholds certification below 60 (1001: 92.5, 1003: 55.25)
    top = batch.summary_row(q1 / "1001" / "report.json")
    assert (top.points, top.weight, top.percent, top.certified) == (10, 10, 100, True)
    assert [(k.kpi, k.label, k.level, k.certified) for k in top.kpis] == [
        ("K1", "ตัวชี้วัดทดสอบ", 5, True)
    ]
    low = batch.summary_row(q1 / "1003" / "report.json")
    assert (low.points, low.certified, low.uncertified) == (2, False, ("K1",))
    broken = tmp_path / "report.json"
    broken.write_text(json.dumps({"total_points": 1}), encoding="utf-8")
    with pytest.raises(InputError, match="not a report document"):
        batch.summary_row(broken)


# --------------------------------------------------------------------------- stale outputs


@pytest.mark.slow
def test_a_pdf_from_older_inputs_never_stays(data_dir, tmp_path):
    out = tmp_path / "out"
    _first, _ = _run(_plan(data_dir, out, units=["1001"], pdf=True))
    unit_dir = out / "2567" / "Q1" / "1001"
    assert (unit_dir / "2567_Q1_1001.pdf").is_file()
    with open(data_dir / "raw" / "scores.csv", "a", encoding="utf-8") as fh:
        fh.write("1004,เขตบางรัก,80\n")
    again, _ = _run(_plan(data_dir, out, units=["1001"]))
    assert _status(again) == {"1001": "ok"}
    assert not (unit_dir / "2567_Q1_1001.pdf").exists()
    assert "2567_Q1_1001.pdf" not in again.index_paths[0].read_text(encoding="utf-8")


@pytest.mark.slow
def test_pool_of_workers_isolates_the_failing_unit(data_dir, tmp_path):
    def p(jobs):
        return _plan(data_dir, tmp_path / "out", notebook="fails_for_1002.ipynb", jobs=jobs)

    result, _ = _run(p(2))
    assert result.exit_code == 1
    assert _status(result) == {"1001": "ok", "1002": "failed", "1003": "ok"}
    assert 1 <= len({r.pid for r in result.results}) <= 2
    assert all(r.maxrss_kb > 0 for r in result.results)
    assert (result.index_paths[0].parent / "summary.xlsx").is_file()
    again, _ = _run(p(1))
    assert _status(again) == {"1001": "up to date", "1002": "failed", "1003": "up to date"}


@pytest.mark.slow
def test_render_workers_yield_the_cores_and_settle_their_garbage_collector(data_dir, tmp_path):
    """Workers start while the ingest and validation children still work (the run's
    critical path): they run at a lower priority than the command, so those go first. What
    their warm-up imported is kept out of the garbage collector's sight, and young
    collections run less often than Python's default."""
    import gc
    import os

    pool = run.process_pool(_plan(data_dir, tmp_path / "out", jobs=2), 1)
    try:
        niceness = pool.submit(os.nice, 0).result(timeout=300)
        thresholds = pool.submit(gc.get_threshold).result(timeout=60)
        frozen = pool.submit(gc.get_freeze_count).result(timeout=60)
    finally:
        pool.shutdown(wait=True)
    assert niceness == min(19, os.nice(0) + worker.WORKER_NICENESS)
    assert worker.WORKER_NICENESS > 0
    assert thresholds[0] == worker.GC_YOUNG_THRESHOLD
    assert frozen > 10_000  # the modules a report needs: pandas, matplotlib, papermill...


@pytest.mark.parametrize("folder", ["forms", "signoffs"])
def test_filled_forms_and_signoffs_are_inputs_of_the_reports(folder, data_dir, tmp_path):
    """Reports read the units' filled forms and sign-off records (kpilib.signoff)."""
    _run(_plan(data_dir, tmp_path / "out"))
    record = data_dir / folder / "2567" / "Q1" / "1001" / "record.json"
    record.parent.mkdir(parents=True)
    record.write_text("{}", encoding="utf-8")
    again, _ = _run(_plan(data_dir, tmp_path / "out"))
    assert set(_status(again).values()) == {"ok"}


def test_priming_a_worker_says_what_stopped_it_instead_of_raising(tmp_path):
    """The work a worker does before its first report is not a report: a problem there is
    returned (each report meets it again and reports it), never raised into the pool."""
    from kpilib.batch.worker import prime

    missing = tmp_path / "no-such-data"
    got = prime(str(missing), 2567, (1,), ("1032",), str(tmp_path))
    assert isinstance(got, str) and str(missing) in got
