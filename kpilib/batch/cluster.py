"""Rendering on a Dask distributed cluster: ``kpi run --scheduler local|tcp://HOST:PORT``.

:func:`dask_executor` is an executor factory for :func:`kpilib.batch.run.run_batch`: it
connects to the scheduler (or starts a ``LocalCluster`` of ``--jobs`` single-threaded worker
processes), checks that every worker sees the same data and output folders and the same
kpilib, params and notebook (:func:`check_workers`), and returns a :class:`DaskExecutor`, a
:class:`concurrent.futures.Executor` the run loop uses as it uses the process pool.

* **Shared filesystem.** Workers read the data folder and write the reports themselves, at
  the paths the ``kpi run`` machine uses. Before anything renders, the parent writes a token
  file into the output folder and every worker must read it back, write beside it, find the
  data folder with the same ingest report, and import the same kpilib (source digest) with
  the same ``params/`` and notebook; otherwise :class:`~kpilib.errors.ClusterError`, one
  line. Workers that join later check the token before each report (a report fails, not
  the run, if one cannot see it).
* **A dead worker** fails only the report it was running: Dask's ``KilledWorker`` becomes
  :class:`~kpilib.batch.pool.WorkerDied`. The local cluster fails it at the first death
  (as the process pool does); a remote scheduler first re-runs it on other workers as its
  ``distributed.scheduler.allowed-failures`` says (default 3).
* **Retries.** A task that raises (not a report's own failure, which is a result) is run
  once more (``retries=1``): the render starts by cleaning its unit folder, so it is safe.
* **Stopping.** :meth:`DaskExecutor.abandon` (Ctrl-C, ``SIGTERM``) cancels every pending
  future, closes the client and closes the local cluster (its worker processes end). A
  remote worker cannot stop a report it is running: that report finishes or fails on its own
  and the next run sees its state.

Dask is imported here, inside functions only: ``kpi run`` without ``--scheduler`` never
imports it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpilib.batch.plan import SCHEDULER_LOCAL, RunPlan
from kpilib.batch.pool import WorkerDied
from kpilib.batch.state import hash_tree, sha256_file
from kpilib.batch.worker import Task, child_env, one_line
from kpilib.errors import ClusterError

#: Seconds to wait for the scheduler to answer, and for a first worker to join it.
CONNECT_TIMEOUT = 30.0
WORKER_TIMEOUT = 60.0
#: ``retries=`` of every task (a task that raised; a dead worker is the scheduler's policy).
TASK_RETRIES = 1

_INGEST_REPORT = Path("processed") / "ingest_report.json"
_SHARED = "see docs/batch.md, 'Scale-out on Dask'"


@dataclass(frozen=True)
class SharedCheck:
    """What a worker must see as the parent does (sent to every worker)."""

    data_dir: str
    out_dir: str
    token_path: str
    token: str
    ingest_digest: str | None
    params_dir: str
    params_digest: str
    notebook: str
    notebook_digest: str
    source_digest: str


@dataclass(frozen=True)
class WorkerView:
    """What one worker found (:func:`probe_worker`); ``problem`` is None when all is the same."""

    host: str
    pid: int
    problem: str | None


def _digest(files: dict[str, str]) -> str:
    return hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()


def source_digest() -> str:
    """sha256 over the source files of the kpilib this process imports."""
    from kpilib.paths import package_dir

    return _digest(hash_tree(package_dir(), skip=lambda p: p.suffix == ".ipynb"))


def _ingest_digest(data_dir: Path) -> str | None:
    path = data_dir / _INGEST_REPORT
    return sha256_file(path) if path.is_file() else None


def shared_problem(check: SharedCheck, *, full: bool) -> str | None:
    """Why this process cannot render as the parent would (None: it can).

    ``full``: also the ingest report, params, notebook and kpilib's source (once per worker);
    otherwise only the token in the output folder and the data folder (before each report).
    """
    out = Path(check.out_dir)
    try:
        token = Path(check.token_path).read_text(encoding="utf-8")
    except OSError:
        token = None
    if token != check.token:
        return f"does not see the output folder {out} (the run's token file is not there)"
    data = Path(check.data_dir)
    if not data.is_dir():
        return f"does not see the data folder {data}"
    if not full:
        return None
    probe = Path(f"{check.token_path}.{socket.gethostname()}.{os.getpid()}")
    try:
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return f"cannot write to the output folder {out}: {exc.strerror or exc}"
    if _ingest_digest(data) != check.ingest_digest:
        return f"sees another data set in {data} ({_INGEST_REPORT} differs)"
    params = Path(check.params_dir)
    if not params.is_dir() or _digest(hash_tree(params)) != check.params_digest:
        return f"sees other definitions in {params} (or none)"
    notebook = Path(check.notebook)
    if not notebook.is_file() or sha256_file(notebook) != check.notebook_digest:
        return f"sees another report notebook at {notebook} (or none)"
    if source_digest() != check.source_digest:
        return "imports another kpilib (its source differs from this command's)"
    return None


def probe_worker(check: SharedCheck, env: dict[str, str]) -> WorkerView:
    """Run on each worker by :func:`check_workers` (``Client.run``)."""
    os.environ.update(env)
    try:
        problem = shared_problem(check, full=True)
    except Exception as exc:  # an unexpected failure is a problem too, said in one line
        problem = one_line(f"{type(exc).__name__}: {exc}")
    return WorkerView(host=socket.gethostname(), pid=os.getpid(), problem=problem)


def run_task(check: SharedCheck, env: dict[str, str], fn: Callable[..., Any], *args: Any) -> Any:
    """What a worker runs per report: the parent's settings, a quick folder check, ``fn``."""
    os.environ.update(env)
    problem = shared_problem(check, full=False)
    if problem is not None:
        raise ClusterError(f"Dask worker on {socket.gethostname()} {problem}")
    return fn(*args)


def make_check(plan: RunPlan) -> SharedCheck:
    """Write the token file into the output folder and describe what workers must see."""
    from kpilib.paths import params_dir

    plan.out_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    token_path = plan.out_dir / f".kpilib-shared-{token[:12]}"
    token_path.write_text(token, encoding="utf-8")
    params = params_dir()
    return SharedCheck(
        data_dir=str(plan.data_dir),
        out_dir=str(plan.out_dir),
        token_path=str(token_path),
        token=token,
        ingest_digest=_ingest_digest(plan.data_dir),
        params_dir=str(params),
        params_digest=_digest(hash_tree(params)),
        notebook=str(plan.notebook),
        notebook_digest=sha256_file(plan.notebook),
        source_digest=source_digest(),
    )


def check_workers(client: Any, check: SharedCheck, env: dict[str, str]) -> dict[str, WorkerView]:
    """Ask every worker what it sees; raise :class:`ClusterError` naming the first that differs."""
    try:
        views: dict[str, WorkerView] = client.run(probe_worker, check, env)
    except Exception as exc:  # e.g. a worker cannot import kpilib to unpickle the probe
        raise ClusterError(
            f"a Dask worker cannot run kpilib ({one_line(f'{type(exc).__name__}: {exc}', limit=200)}); "
            "install the same kpilib on every worker"
        ) from None
    for address, view in sorted(views.items()):
        if view.problem is not None:
            raise ClusterError(
                f"Dask worker {address} (host {view.host}) {view.problem}; the data and output "
                f"folders must be on a shared filesystem at the same paths on every worker ({_SHARED})"
            )
    return views


class DaskExecutor(Executor):
    """The run loop's executor on a Dask client (see the module docstring).

    Args:
        client: A connected ``distributed.Client``.
        cluster: The ``LocalCluster`` this executor started (closed with it), or None.
        check: What each task verifies before rendering; its token file is removed on close.
        env: The parent's ``KPILIB_*`` settings, set in the worker before each task.
        limit: At most this many reports in flight (None: every worker thread).
    """

    def __init__(
        self,
        client: Any,
        cluster: Any,
        *,
        check: SharedCheck,
        env: dict[str, str],
        limit: int | None = None,
    ) -> None:
        from distributed import KilledWorker

        self._client = client
        self._cluster = cluster
        self._check = check
        self._env = env
        self._limit = limit
        self._killed = KilledWorker
        self._futures: list[Any] = []
        self._closed = False

    def _workers(self) -> dict[str, Any]:
        """The scheduler's workers now (address -> facts)."""
        try:
            info = self._client.scheduler_info(n_workers=-1)  # all of them (newer Dask)
        except TypeError:
            info = self._client.scheduler_info()
        return dict(info.get("workers", {}))

    def capacity(self) -> int:
        """How many reports to keep in flight now: the cluster's worker threads (at least 1)."""
        threads = sum(int(w.get("nthreads", 1)) for w in self._workers().values())
        threads = max(1, threads)
        return min(threads, self._limit) if self._limit else threads

    def describe(self) -> str:
        """One line: where reports render."""
        workers = self._workers()
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
        where = "a local Dask cluster" if self._cluster is not None else "Dask scheduler"
        address = self._client.scheduler.address
        return (
            f"rendering on {where} {address}: {len(workers)} worker(s), {threads} thread(s), "
            f"{self.capacity()} report(s) at a time"
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Submit ``fn(*args)`` as one Dask task; the future says ``WorkerDied`` if its worker died."""
        if kwargs:
            raise TypeError("DaskExecutor.submit takes positional arguments only")
        if self._closed:
            raise RuntimeError("cannot submit to a closed executor")
        task = args[0] if args and isinstance(args[0], Task) else None
        name = f"Q{task.quarter}-{task.unit}" if task is not None else fn.__name__
        inner = self._client.submit(
            run_task,
            self._check,
            self._env,
            fn,
            *args,
            key=f"kpi-report-{name}-{uuid.uuid4().hex[:8]}",
            pure=False,
            retries=TASK_RETRIES,
        )
        self._futures.append(inner)
        outer: Future[Any] = Future()
        outer.set_running_or_notify_cancel()

        def done(f: Any) -> None:
            try:
                outer.set_result(f.result())
            except self._killed as exc:
                worker = getattr(getattr(exc, "last_worker", None), "address", None)
                outer.set_exception(
                    WorkerDied(
                        f"Dask worker {worker or ''} died while rendering it".replace("  ", " ")
                    )
                )
            except BaseException as exc:
                outer.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))

        inner.add_done_callback(done)
        return outer

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel what is left if asked, then close the client (and the local cluster)."""
        if cancel_futures:
            self._cancel()
        self._close()

    def abandon(self) -> None:
        """Stop now: cancel every pending future, close the client and the local cluster."""
        self._cancel()
        self._close()

    def _cancel(self) -> None:
        pending = [f for f in self._futures if not f.done()]
        if pending:
            with contextlib.suppress(Exception):
                self._client.cancel(pending, force=True)

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._client.close(timeout=10)
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close(timeout=20)
        with contextlib.suppress(OSError):
            Path(self._check.token_path).unlink(missing_ok=True)


def _start_local(workers: int) -> tuple[Any, Any]:
    """A ``LocalCluster`` of ``workers`` one-thread processes; a dead worker fails its task."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never clashes with another cluster
            memory_limit=0,  # as the process pool: no per-worker memory policy
            silence_logs=logging.CRITICAL,
        )
    try:
        client = Client(cluster, timeout=CONNECT_TIMEOUT)
    except BaseException:
        cluster.close()
        raise
    return client, cluster


def _connect(address: str) -> Any:
    """A client of the scheduler at ``address`` with at least one worker."""
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({one_line(str(exc), limit=160)}); "
            f"start it with 'dask scheduler' ({_SHARED})"
        ) from None
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(
            f"the Dask scheduler at {address} has no worker after {WORKER_TIMEOUT:.0f} s; "
            f"start them with 'dask worker {address} --nthreads 1' ({_SHARED})"
        ) from None
    return client


def dask_executor(plan: RunPlan, workers: int) -> DaskExecutor:
    """The executor factory for ``--scheduler`` (``workers``: local cluster size / in-flight cap)."""
    if plan.scheduler is None:
        raise ClusterError("no --scheduler given")
    env = child_env()
    check = make_check(plan)
    client = cluster = None
    try:
        if plan.scheduler == SCHEDULER_LOCAL:
            client, cluster = _start_local(workers)
            limit = None
        else:
            client = _connect(plan.scheduler)
            limit = workers if plan.jobs_explicit else None
        check_workers(client, check, env)
        return DaskExecutor(client, cluster, check=check, env=env, limit=limit)
    except BaseException:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=20)
        with contextlib.suppress(OSError):
            Path(check.token_path).unlink(missing_ok=True)
        raise


__all__ = [
    "DaskExecutor",
    "SharedCheck",
    "WorkerView",
    "check_workers",
    "dask_executor",
    "make_check",
    "probe_worker",
    "run_task",
    "shared_problem",
]
