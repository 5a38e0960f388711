"""``kpi run`` (kpilib.batch): parameters, failure isolation, incremental and atomic writes.

The tests use small fixture notebooks (tests/fixtures/batch/) and a stand-in catalogue, so
they exercise the batch machinery rather than the real report notebook.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import nbformat
import pytest

from kpilib import batch, cli, engine, fsio
from kpilib.document import read_report_json

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "batch"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class _Unit:
    code: str
    name_th: str


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
    monkeypatch.setattr(batch, "package_dir", lambda: src)
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


def _run(plan) -> tuple[batch.BatchResult, str]:
    log = io.StringIO()
    result = batch.run_batch(plan, stream=log, out=log)
    return result, log.getvalue()


def _status(result: batch.BatchResult) -> dict[str, str]:
    return {r["unit"]: r["status"] for r in result.reports}


# --------------------------------------------------------------------------- parameters


@pytest.fixture
def cli_catalog(monkeypatch):
    monkeypatch.setattr(batch, "_load_catalog", lambda params: FakeCatalog(NAMES))


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
    ],
)
def test_bad_parameters_are_refused_before_anything_runs(
    args, message, cli_catalog, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    base = ["run", "--data", str(FIXTURES / "data"), "--out", str(tmp_path / "out")]
    base += ["--notebook", str(FIXTURES / "ok.ipynb"), "--no-validate", "--no-ingest"]
    code = cli.main([*base, *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"kpi run: error: {message.format(cwd=tmp_path)}\n"
    assert not (tmp_path / "out").exists()


def test_quarter_all_and_default_units_come_from_the_catalogue(data_dir, tmp_path):
    plan = _plan(data_dir, tmp_path / "out", quarter="all")
    assert plan.quarters == (1, 2, 3, 4)
    assert [u.code for u in plan.units] == ["1001", "1002", "1003"]
    assert plan.unit_dir(2, "1003") == tmp_path / "out" / "2567" / "Q2" / "1003"


# --------------------------------------------------------------------------- running


def test_failing_unit_is_isolated_and_kept_for_inspection(data_dir, tmp_path):
    out = tmp_path / "out"
    result, log = _run(_plan(data_dir, out, notebook="fails_for_1002.ipynb"))

    assert result.exit_code == 1
    assert _status(result) == {"1001": "ok", "1002": "failed", "1003": "ok"}
    q1 = out / "2567" / "Q1"
    for ok in ("1001", "1003"):
        assert (q1 / ok / "report.html").is_file()
        doc = read_report_json((q1 / ok / "report.json").read_bytes())
        assert doc.unit.code == ok
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
    assert 'href="1002/report.ipynb"' in row
    manifest = json.loads((q1 / "manifest.json").read_text(encoding="utf-8"))
    statuses = {r["unit"]: (r["status"], r["error"]) for r in manifest["reports"]}
    assert statuses["1002"] == ("failed", "RuntimeError: injected failure for unit 1002")
    assert statuses["1001"] == ("ok", None)
    assert "FAILED 1002 Q1: RuntimeError: injected failure for unit 1002" in log


def test_every_quarter_with_plain_progress_lines_when_not_a_terminal(data_dir, tmp_path):
    result, log = _run(_plan(data_dir, tmp_path / "out", units=["1003"], quarter="all"))
    lines = [ln for ln in log.splitlines() if ln.startswith("[")]
    assert [ln.split(" ")[0:4] for ln in lines] == [
        [f"[{q}/4]", "1003", f"Q{q}", "ok"] for q in (1, 2, 3, 4)
    ]
    assert "\r" not in log
    assert [p.parent.name for p in result.index_paths] == ["Q1", "Q2", "Q3", "Q4"]
    for q in (1, 2, 3, 4):
        scorecard = tmp_path / "out" / "2567" / f"Q{q}" / "1003" / "report.json"
        assert read_report_json(scorecard.read_bytes()).period.quarter == q


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


def test_validation_runs_once_and_is_cached_by_input_hash(data_dir, tmp_path, monkeypatch):
    calls = []

    def run_validation(data, *, fy, out_dir):
        calls.append((Path(data), fy))
        Path(out_dir, "validation.json").write_text("{}", encoding="utf-8")

    fake = types.ModuleType("kpilib.validation")
    fake.run_validation = run_validation
    fake.load_validation_report = lambda path: None
    monkeypatch.setitem(sys.modules, "kpilib.validation", fake)
    out = tmp_path / "out"
    _run(_plan(data_dir, out, validate=True))
    _run(_plan(data_dir, out, validate=True, force=True))
    assert calls == [(data_dir, 2567)]
    vjson = out / "2567" / "validation" / "validation.json"
    nb = nbformat.read(out / "2567" / "Q1" / "1001" / "report.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert f'validation_json = "{vjson}"' in injected[0].source


# --------------------------------------------------------------------------- atomic writes


def test_a_crash_while_writing_html_leaves_no_partial_file(data_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    unit_dir = out / "2567" / "Q1" / "1001"

    def crash_half_way(nb, path):
        Path(path).write_text("<html><body>half a rep", encoding="utf-8")
        raise KeyboardInterrupt  # the process dies while exporting

    monkeypatch.setattr(batch, "_notebook_to_html", crash_half_way)
    with pytest.raises(KeyboardInterrupt):
        _run(_plan(data_dir, out, units=["1001"]))
    assert not (unit_dir / "report.html").exists()
    assert not (unit_dir / batch.STATE_FILE).exists()
    # a hard kill would leave the temporary file: the rerun removes it and completes
    (unit_dir / f"{fsio.TMP_PREFIX}report.999.html").write_text("<html>partial", encoding="utf-8")
    monkeypatch.undo()
    result, _ = _run(_plan(data_dir, out, units=["1001"]))
    assert _status(result) == {"1001": "ok"}
    assert (unit_dir / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not list(unit_dir.glob(f"{fsio.TMP_PREFIX}*"))


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
    assert rows[0][:4] == [batch.H_CODE, batch.H_NAME, batch.H_QUARTER, batch.H_POINTS]
    assert f"{batch.H_LEVEL} K1" in rows[0]
    assert [r[0] for r in rows[1:]] == ["1001", "1002", "1003"]
    by_code = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert float(by_code["1001"][batch.H_POINTS]) == 10
    assert by_code["1001"][f"{batch.H_LEVEL} K1"] == "5"
    assert by_code["1002"][batch.H_STATUS] == batch.STATUS_TH["failed"]
    ws = load_workbook(q1 / "summary.xlsx").active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][:2] == (batch.H_CODE, batch.H_NAME)
    assert [v[0] for v in values[1:]] == ["1001", "1002", "1003"]


def test_manifest_records_parameters_hashes_versions_and_timings(data_dir, tmp_path):
    result, _ = _run(_plan(data_dir, tmp_path / "out"))
    manifest = json.loads(result.manifest_paths[0].read_text(encoding="utf-8"))
    assert manifest["parameters"]["fy"] == 2567 and manifest["parameters"]["quarter"] == 1
    expected = fsio.sha256_file(data_dir / "raw" / "scores.csv")
    assert manifest["input_hashes"]["data_files"] == {"scores.csv": expected}
    assert manifest["kpilib_version"]
    assert manifest["counts"] == {"ok": 3, "up to date": 0, "failed": 0}
    for report in manifest["reports"]:
        assert report["timings"]["execute"] > 0 and report["timings"]["html"] > 0


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_pool_of_workers_isolates_the_failing_unit(data_dir, tmp_path):
    def plan(jobs):
        return _plan(data_dir, tmp_path / "out", notebook="fails_for_1002.ipynb", jobs=jobs)

    result, _ = _run(plan(2))
    assert result.exit_code == 1
    assert _status(result) == {"1001": "ok", "1002": "failed", "1003": "ok"}
    assert 1 <= len({r["pid"] for r in result.reports}) <= 2
    assert all(r["maxrss_kb"] > 0 for r in result.reports)
    assert (result.index_paths[0].parent / "summary.xlsx").is_file()
    again, _ = _run(plan(1))
    assert _status(again) == {"1001": "up to date", "1002": "failed", "1003": "up to date"}
