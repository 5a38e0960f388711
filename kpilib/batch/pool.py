"""A process pool whose workers die with their parent and fail one task at a time.

:class:`WorkerPool` is a :class:`concurrent.futures.Executor` (so the run loop in
:mod:`kpilib.batch.run` takes it or any other executor, e.g. Dask's
``Client.get_executor()``). It differs from :class:`~concurrent.futures.ProcessPoolExecutor`
where a scheduled batch needs it to:

* **A dead worker fails only its own task.** ``kill -9`` (or the OOM killer) of one worker
  sets :class:`WorkerDied` on the future it was running; a new worker takes its place and
  the queued tasks go on. (The standard pool marks every pending future broken.)
* **Workers die with their parent.** Each worker asks the kernel for ``SIGKILL`` when its
  parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``), checks the parent is still the one that
  started it, and a watchdog thread exits when it is re-parented (other systems). A
  ``kill -9`` of ``kpi run`` leaves no worker rendering or idling behind.
* **Abandon on request.** :meth:`WorkerPool.abandon` stops every worker now (``SIGTERM``,
  then ``SIGKILL``): used when ``kpi run`` is interrupted.

Workers start with the ``spawn`` method, ignore ``SIGINT`` (the parent handles Ctrl-C) and
run ``initializer(*initargs)`` once.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

_PR_SET_PDEATHSIG = 1


class WorkerDied(RuntimeError):
    """The worker process running a task ended without returning its result."""


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` (its parent) ends.

    Linux: the kernel sends ``SIGKILL`` on the parent's death (``PR_SET_PDEATHSIG``). If the
    parent already died before that was set, exit now. Elsewhere (and as a second guard) a
    daemon thread checks every second whether this process was re-parented.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)  # the C library linked into Python
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="kpilib-parent-watch", daemon=True).start()


def _worker_main(
    conn: Connection,
    parent_pid: int,
    initializer: Callable[..., Any] | None,
    initargs: tuple[Any, ...],
) -> None:
    """A worker: set up once, then run tasks sent over ``conn`` until told to stop."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args, kwargs = message
        try:
            reply: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except BaseException as exc:
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception as exc:  # the result or the exception would not pickle
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def describe_exit(exitcode: int | None) -> str:
    """``killed by SIGKILL`` / ``exit code 1`` for a process's exit code."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


@dataclass
class _Worker:
    process: Any
    conn: Connection
    future: Future[Any] | None = None
    task_started: float = 0.0


@dataclass
class _Pending:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


class WorkerPool(Executor):
    """A pool of ``max_workers`` spawned processes (see the module docstring).

    Args:
        max_workers: Worker processes.
        initializer: Called once in each worker before its first task.
        initargs: Its arguments.
        max_deaths: After this many worker deaths the pool gives up: queued tasks fail
            with :class:`WorkerDied` (a worker that cannot even start would otherwise be
            replaced for ever). Default: ``2 * max_workers + 2``.
    """

    def __init__(
        self,
        max_workers: int,
        *,
        initializer: Callable[..., Any] | None = None,
        initargs: tuple[Any, ...] = (),
        max_deaths: int | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be >= 1")
        self._ctx = multiprocessing.get_context("spawn")
        self._initializer = initializer
        self._initargs = initargs
        self._max_workers = max_workers
        self._max_deaths = max_deaths if max_deaths is not None else 2 * max_workers + 2
        self._deaths = 0
        self._lock = threading.Lock()
        self._pending: deque[_Pending] = deque()
        self._workers: dict[int, _Worker] = {}
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self._closing = False
        self._abandoned = False
        for _ in range(max_workers):
            self._start_worker()
        self._thread = threading.Thread(target=self._loop, name="kpilib-pool", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public
    @property
    def pids(self) -> tuple[int, ...]:
        """The worker processes now alive."""
        with self._lock:
            return tuple(self._workers)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue ``fn(*args, **kwargs)`` for the next free worker."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closing:
                raise RuntimeError("cannot submit to a pool that is shutting down")
            self._pending.append(_Pending(future, fn, args, kwargs))
        self._wake()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Finish the running tasks (and the queued ones unless ``cancel_futures``), then stop."""
        with self._lock:
            self._closing = True
            if cancel_futures:
                while self._pending:
                    self._pending.popleft().future.cancel()
        self._wake()
        if wait:
            self._thread.join()

    def abandon(self, *, grace: float = 2.0) -> None:
        """Stop now: cancel queued tasks, terminate every worker (``SIGKILL`` after ``grace``)."""
        with self._lock:
            self._closing = True
            self._abandoned = True
            while self._pending:
                self._pending.popleft().future.cancel()
            workers = list(self._workers.values())
        for w in workers:
            with contextlib.suppress(OSError):
                w.process.terminate()
        deadline = time.monotonic() + grace
        for w in workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.exitcode is None:
                with contextlib.suppress(OSError):
                    w.process.kill()
                w.process.join(1.0)
        self._wake()
        self._thread.join(5.0)
        with self._lock:
            for w in workers:
                if w.future is not None and not w.future.done():
                    w.future.set_exception(
                        WorkerDied(f"worker process {w.process.pid} was stopped")
                    )

    # ------------------------------------------------------------------ internals
    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"x")

    def _start_worker(self) -> None:
        parent_conn, child_conn = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, os.getpid(), self._initializer, self._initargs),
            daemon=True,
            name="kpilib-worker",
        )
        process.start()
        child_conn.close()
        self._workers[process.pid] = _Worker(process, parent_conn)

    def _dispatch(self) -> None:
        """Give queued tasks to idle workers (called with the lock held)."""
        for w in self._workers.values():
            if w.future is not None:
                continue
            while self._pending:
                item = self._pending.popleft()
                if not item.future.set_running_or_notify_cancel():
                    continue
                try:
                    w.conn.send((item.fn, item.args, item.kwargs))
                except Exception as exc:  # the task would not pickle
                    item.future.set_exception(exc)
                    continue
                w.future = item.future
                w.task_started = time.monotonic()
                break

    def _finish(self, w: _Worker) -> None:
        """Read a worker's reply (called with the lock held)."""
        try:
            ok, value = w.conn.recv()
        except (EOFError, OSError):
            return  # it died: its sentinel reports it
        future, w.future = w.future, None
        if future is not None:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _bury(self, pid: int) -> None:
        """A worker ended (called with the lock held): fail its task, replace it."""
        w = self._workers.pop(pid)
        w.process.join(1.0)
        with contextlib.suppress(OSError):
            w.conn.close()
        if self._abandoned:
            if w.future is not None and not w.future.done():
                w.future.set_exception(WorkerDied(f"worker process {pid} was stopped"))
            return
        self._deaths += 1
        if w.future is not None and not w.future.done():
            w.future.set_exception(
                WorkerDied(f"worker process {pid} died ({describe_exit(w.process.exitcode)})")
            )
        if self._deaths > self._max_deaths:
            self._closing = True
            while self._pending:
                item = self._pending.popleft()
                if item.future.set_running_or_notify_cancel():
                    item.future.set_exception(
                        WorkerDied(f"{self._deaths} worker processes died; giving up")
                    )
        if not self._closing:
            self._start_worker()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._abandoned:
                    break
                self._dispatch()
                busy = any(w.future is not None for w in self._workers.values())
                if self._closing and not busy and not self._pending:
                    break
                conns = {w.conn: pid for pid, w in self._workers.items() if w.future is not None}
                sentinels = {w.process.sentinel: pid for pid, w in self._workers.items()}
            ready = wait([*conns, *sentinels, self._wake_r])
            with self._lock:
                if self._wake_r in ready:
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
                for conn in ready:
                    pid = conns.get(conn)  # type: ignore[call-overload]
                    if pid is not None and pid in self._workers:
                        self._finish(self._workers[pid])
                for sentinel in ready:
                    pid = sentinels.get(sentinel)  # type: ignore[call-overload]
                    if pid is not None and pid in self._workers:
                        w = self._workers[pid]
                        if w.future is not None and w.conn.poll():
                            self._finish(w)  # it answered, then ended
                        self._bury(pid)
        self._stop_workers()

    def _stop_workers(self) -> None:
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in workers:
            w.process.join(5.0)
            if w.process.exitcode is None:
                w.process.kill()
                w.process.join(1.0)
            with contextlib.suppress(OSError):
                w.conn.close()
