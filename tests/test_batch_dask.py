"""``kpi run --scheduler``: rendering on Dask distributed (kpilib.batch.cluster).

The option's checks run without Dask. The rest needs ``distributed`` (the dev extra has it,
so these run in CI) and uses real ``LocalCluster`` worker processes: the same reports as
the process pool (the real notebook, byte for byte apart from the generation time), a
failing report isolated, a ``kill -9`` of one Dask worker failing only its report, a signal
stopping the run and its cluster, and a worker that does not see the data or output folder
refused with one line before anything renders.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from batchrun import FIXTURES, KPI, run_args, start_run, wait_for
from fresh_python import python_stdout

from kpilib import batch, cli, sample
from kpilib.batch import cluster, plan
from kpilib.errors import ClusterError, DependencyMissing
from kpilib.report import strip_generation_time

NAMES = {"1001": "เขตพระนคร", "1002": "เขตดุสิต", "1003": "เขตหนองจอก"}
UNITS = [a for u in NAMES for a in ("--unit", u)]


class FakeCatalog:
    """The two catalogue calls the batch makes (as in tests/test_batch.py)."""

    def __init__(self, names: dict[str, str]) -> None:
        self._units = tuple(plan.UnitInfo(c, n) for c, n in names.items())

    def unit(self, code: str) -> plan.UnitInfo:
        return next(u for u in self._units if u.code == code)

    def units_with_kpis(self, fy: int) -> tuple[plan.UnitInfo, ...]:
        return self._units


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(FIXTURES / "data", dst)
    return dst


# --------------------------------------------------------------------------- the option


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tcp://", "invalid --scheduler 'tcp://'"),
        ("http://host:8786", "invalid --scheduler 'http://host:8786'"),
        ("tcp://host", "invalid --scheduler 'tcp://host'"),
        ("tcp://host:99999", "invalid --scheduler 'tcp://host:99999'"),
        ("tcp://ho st:8786", "invalid --scheduler"),
        ("../x", "invalid --scheduler '../x'"),
    ],
)
def test_a_bad_scheduler_is_refused_before_anything_runs(value, message, tmp_path, capsys):
    code = cli.main(["run", "--scheduler", value, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "use 'local' or a Dask scheduler's address" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_scheduler_without_dask_installed_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(plan.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DependencyMissing, match=r"pip install 'kpilib\[dask\]'"):
        plan.parse_scheduler("tcp://10.0.0.5:8786")
    assert plan.parse_scheduler.__module__ == "kpilib.batch.plan"


def test_accepted_scheduler_forms():
    pytest.importorskip("distributed")
    assert plan.parse_scheduler("LOCAL") == "local"
    assert plan.parse_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert plan.parse_scheduler("tcp://sched.bma.local:8786") == "tcp://sched.bma.local:8786"
    assert plan.parse_scheduler("tcp://[::1]:8786") == "tcp://[::1]:8786"


def test_dask_is_not_imported_without_scheduler():
    code = (
        "import sys; import kpilib.cli, kpilib.batch, kpilib.batch.cluster; "
        "kpilib.cli._build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    assert python_stdout(code).strip() == "[]"


def test_help_documents_the_scheduler(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--scheduler local|tcp://HOST:PORT" in text
    assert "shared filesystem" in text and "kpilib[dask]" in text


def test_a_worker_that_does_not_see_the_folders_says_so(tmp_path):
    data = tmp_path / "data"
    (data / "processed").mkdir(parents=True)
    (data / "processed" / "ingest_report.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "out"
    p = batch.plan_run(
        fy=2567,
        data=data,
        out=out,
        notebook=FIXTURES / "ok.ipynb",
        catalog=FakeCatalog(NAMES),
        validate=False,
        ingest=False,
    )
    check = cluster.make_check(p)
    assert cluster.shared_problem(check, full=True) is None
    assert cluster.shared_problem(replace(check, token="other"), full=False).startswith(
        f"does not see the output folder {out}"
    )
    assert cluster.shared_problem(replace(check, data_dir=str(tmp_path / "nowhere")), full=False)
    assert "another data set" in cluster.shared_problem(
        replace(check, ingest_digest="0" * 64), full=True
    )
    assert "another kpilib" in cluster.shared_problem(
        replace(check, source_digest="0" * 64), full=True
    )
    assert "another report notebook" in cluster.shared_problem(
        replace(check, notebook_digest="0" * 64), full=True
    )


# --------------------------------------------------------------------------- real clusters

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def local_cluster():
    """A LocalCluster of 2 single-threaded worker processes, reached by its tcp address."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as lc:
        yield lc


def _plan(data_dir: Path, out: Path, notebook: str = "ok.ipynb", **kw) -> batch.RunPlan:
    options = {
        "fy": 2567,
        "data": data_dir,
        "out": out,
        "jobs": 2,
        "notebook": FIXTURES / notebook,
        "validate": False,
        "ingest": False,
        "catalog": FakeCatalog(NAMES),
    }
    options.update(kw)
    return batch.plan_run(**options)


def _run(p: batch.RunPlan) -> tuple[batch.BatchResult, str]:
    import io

    log = io.StringIO()
    return batch.run_batch(p, stream=log, out=log), log.getvalue()


def test_every_worker_is_checked_and_a_difference_is_one_line(local_cluster, data_dir, tmp_path):
    p = _plan(data_dir, tmp_path / "out")
    check = cluster.make_check(p)
    with distributed.Client(local_cluster) as client:
        views = cluster.check_workers(client, check, {})
        assert len(views) == 2 and len({v.pid for v in views.values()}) == 2
        Path(check.token_path).unlink()
        with pytest.raises(ClusterError) as caught:
            cluster.check_workers(client, check, {})
    message = caught.value.one_line()
    assert re.match(r"Dask worker tcp://\S+ \(host \S+\) does not see the output folder ", message)
    assert "must be on a shared filesystem at the same paths on every worker" in message


def test_a_remote_scheduler_renders_the_same_reports_and_isolates_a_failure(
    local_cluster, data_dir, tmp_path
):
    address = local_cluster.scheduler_address
    pool, _ = _run(_plan(data_dir, tmp_path / "pool", notebook="fails_for_1002.ipynb"))
    dask, log = _run(
        _plan(data_dir, tmp_path / "dask", notebook="fails_for_1002.ipynb", scheduler=address)
    )
    status = {r.unit: r.status for r in dask.results}
    assert status == {"1001": "ok", "1002": "failed", "1003": "ok"}
    assert status == {r.unit: r.status for r in pool.results}
    assert dask.exit_code == pool.exit_code == 1
    assert f"rendering on Dask scheduler {address}: 2 worker(s), 2 thread(s)" in log
    for unit in ("1001", "1003"):
        a = (tmp_path / "pool" / "2567" / "Q1" / unit / "report.html").read_bytes()
        b = (tmp_path / "dask" / "2567" / "Q1" / unit / "report.html").read_bytes()
        assert a == b
    with distributed.Client(local_cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
    assert {r.pid for r in dask.results} <= worker_pids  # rendered in the Dask workers
    assert not list((tmp_path / "dask").glob(".kpilib-shared-*")), "token file left behind"
    again, _ = _run(
        _plan(data_dir, tmp_path / "dask", notebook="fails_for_1002.ipynb", scheduler=address)
    )
    assert {r.unit: r.status for r in again.results} == {
        "1001": "up to date",
        "1002": "failed",
        "1003": "up to date",
    }


def test_cell_timeout_stops_a_runaway_report_on_dask_as_in_the_pool(
    local_cluster, data_dir, tmp_path
):
    """A Dask worker runs its task in a thread, where no SIGALRM reaches the cell: the
    timeout is raised in that thread instead; the report fails as in the process pool."""
    address = local_cluster.scheduler_address
    runs = {
        name: _run(
            _plan(
                data_dir,
                tmp_path / name,
                notebook="spins_for_1002.ipynb",
                cell_timeout=2.0,
                **extra,
            )
        )[0]
        for name, extra in (("pool", {}), ("dask", {"scheduler": address}))
    }
    for result in runs.values():
        status = {r.unit: r.status for r in result.results}
        assert status == {"1001": "ok", "1002": "failed", "1003": "ok"}
        (failed,) = [r for r in result.results if r.status == "failed"]
        assert "TimeoutError" in failed.error and "timed out after 2.0 s" in failed.error
    with distributed.Client(local_cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
    assert {r.pid for r in runs["dask"].results} <= worker_pids


def _fails_once(marker: str) -> str:
    """Raise the first time (as an unexpected error around a render would), then succeed."""
    path = Path(marker)
    if not path.exists():
        path.write_text("1", encoding="utf-8")
        raise OSError("transient")
    return "second try"


def _always_fails(message: str) -> str:
    raise RuntimeError(message)


def test_a_task_that_raises_is_run_once_more(local_cluster, data_dir, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    executor = cluster.DaskExecutor(
        distributed.Client(local_cluster),
        None,
        check=cluster.make_check(_plan(data_dir, tmp_path / "out")),
        env={},
    )
    try:
        marker = tmp_path / "marker"
        assert executor.submit(_fails_once, str(marker)).result(timeout=120) == "second try"
        failing = executor.submit(_always_fails, "broken")
        assert isinstance(failing.exception(timeout=120), RuntimeError)
        assert "broken" in str(failing.exception())
    finally:
        executor.shutdown()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert not list((tmp_path / "out").glob(".kpilib-shared-*"))


def test_an_unreachable_scheduler_is_one_line(monkeypatch, data_dir, tmp_path, capsys):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    monkeypatch.setattr(plan, "load_plan_catalog", lambda params: FakeCatalog(NAMES))
    args = ["run", "--data", str(data_dir), "--out", str(tmp_path / "out")]
    args += ["--notebook", str(FIXTURES / "ok.ipynb"), "--no-validate", "--no-ingest"]
    code = cli.main([*args, "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2
    assert "kpi run: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err
    assert not list((tmp_path / "out").glob(".kpilib-shared-*"))


# --------------------------------------------------------------------------- faults (CLI)


def _args(work: Path, *extra: str, notebook: str = "slow.ipynb") -> list[str]:
    return run_args(work, UNITS, "--scheduler", "local", "--jobs", "2", *extra, notebook=notebook)


def _start(work: Path, *extra: str, delay: str) -> subprocess.Popen:
    return start_run(_args(work, *extra), work, delay=delay)


_wait_for = wait_for


def _state(unit_dir: Path) -> dict:
    try:
        return json.loads((unit_dir / ".report.state.json").read_text())
    except (OSError, ValueError):
        return {}


@pytest.mark.slow
def test_kill_9_of_one_dask_worker_fails_only_its_report(data_dir, tmp_path, process_group):
    unit_dir = tmp_path / "out" / "2567" / "Q1" / "1002"
    proc = _start(tmp_path, delay="1002=120,*=0.2")
    _wait_for(lambda: _state(unit_dir).get("status") == "running", what="1002 to start")
    os.kill(_state(unit_dir)["pid"], signal.SIGKILL)
    assert proc.wait(timeout=120) == 1
    log = (tmp_path / "run.log").read_text(encoding="utf-8")
    assert re.search(r"FAILED 1002 Q1: Dask worker tcp://\S+ died while rendering it", log), log
    states = {d.name: _state(d).get("status") for d in unit_dir.parent.iterdir() if d.is_dir()}
    assert states == {"1001": "ok", "1002": "failed", "1003": "ok"}
    assert "Traceback" not in log and "distributed.scheduler - ERROR" not in log
    _wait_for(lambda: not process_group(proc.pid), timeout=30, what="the cluster to end")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_dask_run_and_its_cluster(sig, data_dir, tmp_path, process_group):
    proc = _start(tmp_path, delay="*=60")
    q1 = tmp_path / "out" / "2567" / "Q1"
    _wait_for(
        lambda: sum(_state(q1 / u).get("status") == "running" for u in NAMES) == 2,
        what="two reports to start",
    )
    os.kill(proc.pid, sig)
    assert proc.wait(timeout=90) == 128 + sig
    log = (tmp_path / "run.log").read_text(encoding="utf-8")
    name = signal.Signals(sig).name
    assert f"kpi run: interrupted by {name}: 3 report(s) not finished" in log, log
    assert "Traceback" not in log
    assert (q1 / "index.html").is_file() and (q1 / "manifest.json").is_file()
    _wait_for(lambda: not process_group(proc.pid), timeout=30, what="the cluster to end")
    assert not list((tmp_path / "out").glob(".kpilib-shared-*"))
    rerun = subprocess.run(_args(tmp_path), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 3, rerun.stderr
    assert "3 to render, 0 up to date" in rerun.stderr


@pytest.mark.slow
def test_kill_9_of_the_parent_takes_the_local_cluster_along(data_dir, tmp_path, process_group):
    proc = _start(tmp_path, delay="*=60")
    q1 = tmp_path / "out" / "2567" / "Q1"
    _wait_for(
        lambda: any(_state(q1 / u).get("status") == "running" for u in NAMES),
        what="a report to start",
    )
    assert len(process_group(proc.pid)) >= 3  # kpi run and the cluster's worker processes
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    _wait_for(lambda: not process_group(proc.pid), timeout=30, what="the workers to end")


# --------------------------------------------------------------------------- the real notebook


@pytest.mark.slow
def test_local_cluster_renders_the_real_reports_as_the_process_pool_does(tmp_path):
    """The real report notebook on generated data: 2 LocalCluster workers vs 2 pool workers."""
    sample.generate(tmp_path / "data", fy=2567, scale=0.03)
    args = [*KPI, "run", "--fy", "2567", "--unit", "1001", "--unit", "GOVSEC"]
    args += ["--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--jobs", "2"]
    pool = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert pool.returncode == 3, pool.stderr  # the sample's defects leave KPIs uncertified
    q1 = tmp_path / "out" / "2567" / "Q1"
    before = {u: (q1 / u / "report.html").read_text(encoding="utf-8") for u in ("1001", "GOVSEC")}
    dask = subprocess.run(
        [*args, "--force", "--scheduler", "local"], capture_output=True, text=True, timeout=900
    )
    assert dask.returncode == 3, dask.stderr
    assert "rendering on a local Dask cluster" in dask.stderr
    assert "validation (cached)" in dask.stderr
    for unit, html in before.items():
        after = (q1 / unit / "report.html").read_text(encoding="utf-8")
        assert 'class="generated-at"' in html
        assert strip_generation_time(after) == strip_generation_time(html), unit
    assert pool.stdout.splitlines()[1:] == dask.stdout.splitlines()[1:]  # validation, certification
