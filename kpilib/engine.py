"""An in-process Papermill engine: execute notebooks without starting a kernel per report.

Papermill normally starts a Jupyter kernel for every notebook it executes; the kernel start
and the notebook's imports (pandas, matplotlib, kpilib) cost 1.5-3 s per report, much more
than the report's own work. :class:`InProcessEngine` runs each code cell in the *calling*
Python process with IPython's ``InteractiveShell`` instead, so a batch worker pays the imports
once and then executes report after report.

The executed notebook looks like one executed by a kernel: ``stream`` outputs for
stdout/stderr, ``display_data`` (``text/html``, ``image/png`` from matplotlib's inline
backend, ...), ``execute_result`` with execution counts, ``error`` outputs with the
traceback, papermill's cell metadata, and :class:`papermill.exceptions.PapermillExecutionError`
raised by :func:`papermill.execute_notebook` when a cell fails (the failed notebook is saved
first, as with the kernel engine).

Every notebook starts from a fresh user namespace with matplotlib figures closed and
``rcParams`` and warning filters restored afterwards. Modules imported by a notebook stay
imported (that is the point); module-level caches therefore persist between reports.

Registered with Papermill by name (entry point ``papermill.engine``)::

    papermill.execute_notebook(src, dst, parameters=..., engine_name="kpilib-inprocess")

Importing this module is cheap (IPython and matplotlib are imported on first use).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

ENGINE_NAME = "kpilib-inprocess"

_SHELL: Any = None
# kept when the user namespace is emptied: the user module is sys.modules["__main__"], and
# multiprocessing's spawn reads __main__.__spec__ (user variables are dropped, not these)
_MODULE_KEYS = frozenset(
    ("__builtin__", "__builtins__", "__name__", "__spec__", "__loader__", "__package__", "__doc__")
)
_ENGINE_CLASS: Any = None


class _CellStream(io.TextIOBase):
    """A text stream that appends what is written to the current cell's outputs."""

    def __init__(self, sink: _OutputSink, name: str) -> None:
        super().__init__()
        self._sink = sink
        self.name = name  # type: ignore[misc]

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self._sink.stream(self.name, text)
        return len(text)


def _output(output_type: str, **fields: Any) -> Any:
    """A cell output in nbformat v4 form, every field given (``nbformat.v4.new_output``
    without its schema check of each output: the whole notebook is checked once it is
    executed, when papermill writes it, and an invalid one fails the HTML export)."""
    import nbformat

    return nbformat.from_dict({"output_type": output_type, **fields})


class _OutputSink:
    """Collects outputs for the cell being executed, in nbformat v4 form."""

    def __init__(self) -> None:
        self.outputs: list[Any] | None = None
        self.execution_count: int | None = None
        self._clear_pending = False

    def _append(self, output: Any) -> None:
        if self.outputs is None:
            return
        if self._clear_pending:
            self.outputs.clear()
            self._clear_pending = False
        self.outputs.append(output)

    def stream(self, name: str, text: str) -> None:
        if self.outputs is None:
            return
        if self._clear_pending:
            self.outputs.clear()
            self._clear_pending = False
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last.get("output_type") == "stream" and last.get("name") == name:
            last["text"] += text
        else:
            self.outputs.append(_output("stream", name=name, text=text))

    def display(self, data: dict, metadata: dict | None, *, result_count: int | None) -> None:
        if result_count is None:
            out = _output("display_data", data=data, metadata=metadata or {})
        else:
            out = _output(
                "execute_result",
                data=data,
                metadata=metadata or {},
                execution_count=result_count,
            )
        self._append(out)

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self._append(_output("error", ename=ename, evalue=evalue, traceback=list(traceback)))

    def clear(self, *, wait: bool) -> None:
        if self.outputs is None:
            return
        if wait:
            self._clear_pending = True
        else:
            self.outputs.clear()


def _make_shell() -> Any:
    """Create the process-wide capturing InteractiveShell (imports IPython, matplotlib)."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class _Hook(DisplayHook):
        """Turns the value of a cell's last expression into an ``execute_result``."""

        def start_displayhook(self) -> None:
            self._kpi_data: dict | None = None
            self._kpi_md: dict | None = None

        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict: dict, md_dict: dict | None = None) -> None:
            self._kpi_data = format_dict
            self._kpi_md = md_dict

        def finish_displayhook(self) -> None:
            if self._kpi_data:
                sink = self.shell.kpi_sink
                sink.display(self._kpi_data, self._kpi_md, result_count=sink.execution_count)
            self._kpi_data = None

    class _Publisher(DisplayPublisher):
        """Turns ``display()`` calls (and inline matplotlib figures) into ``display_data``."""

        def publish(  # type: ignore[override]
            self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs
        ) -> None:
            self.shell.kpi_sink.display(data, metadata, result_count=None)

        def clear_output(self, wait: bool = False) -> None:
            self.shell.kpi_sink.clear(wait=wait)

    class _Shell(InteractiveShell):
        displayhook_class = Type(_Hook)
        display_pub_class = Type(_Publisher)

        def init_io(self) -> None:  # keep the real sys.stdout; we redirect per cell
            pass

        def enable_gui(self, gui=None) -> None:
            if gui not in (None, "inline"):
                raise NotImplementedError(f"GUI event loop {gui!r} is not available in batch runs")

        def _showtraceback(self, etype, evalue, stb) -> None:
            self.kpi_sink.error(getattr(etype, "__name__", str(etype)), str(evalue), stb)

    config = Config()
    config.HistoryManager.enabled = False  # no shared sqlite file between workers
    config.InteractiveShell.colors = "linux"  # what ipykernel tracebacks look like (ANSI)
    shell = _Shell.instance(config=config)
    shell.kpi_sink = _OutputSink()

    _enable_inline(shell)
    return shell


_INLINE = "module://matplotlib_inline.backend_inline"


def _enable_inline(shell: Any) -> None:
    """Select matplotlib's inline backend and PNG figure display for ``shell``."""
    import matplotlib
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib_inline.backend_inline import InlineBackend

    matplotlib.use(_INLINE)
    shell.enable_matplotlib("inline")
    # matplotlib_inline selects the figure formats only once per process; a new shell
    # (after discard_shell) needs them too
    cfg = InlineBackend.instance()
    select_figure_formats(shell, cfg.figure_formats, **cfg.print_figure_kwargs)


def get_shell() -> Any:
    """Return this process's capturing shell, creating it on first use."""
    global _SHELL
    if _SHELL is None:
        _SHELL = _make_shell()
    return _SHELL


def discard_shell() -> None:
    """Forget this process's shell (tests; a long-lived process that is done with batches)."""
    global _SHELL
    if _SHELL is not None:
        type(_SHELL).clear_instance()
    _SHELL = None


def warm_up(modules: tuple[str, ...] = ()) -> dict[str, float]:
    """Create the shell and import ``modules`` now (a batch worker calls this once).

    Args:
        modules: Module names to import (missing ones are skipped).

    Returns:
        Seconds spent per step: ``shell`` and ``imports``.
    """
    t0 = time.perf_counter()
    get_shell()
    t1 = time.perf_counter()
    for name in modules:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    return {"shell": t1 - t0, "imports": time.perf_counter() - t1}


@contextlib.contextmanager
def _fresh_state(shell: Any) -> Iterator[None]:
    """A fresh user namespace; figures, rcParams and warning filters restored afterwards."""
    import matplotlib
    import matplotlib.pyplot as plt

    if matplotlib.get_backend() not in (_INLINE, "inline"):  # someone switched it back
        _enable_inline(shell)
    plt.close("all")
    _reset_user_state(shell)
    try:
        with matplotlib.rc_context(), warnings.catch_warnings():
            yield
    finally:
        plt.close("all")
        _reset_user_state(shell)
        shell.kpi_sink.outputs = None


def _reset_user_state(shell: Any) -> None:
    """Empty the user namespace and the In/Out history; the next cell is ``In [1]``.

    What ``InteractiveShell.reset(new_session=False)`` does, minus its ``gc.collect()``
    (about 0.1 s per call once pandas and matplotlib are loaded; the automatic collector
    frees the cycles anyway).
    """
    hook = shell.displayhook
    for name in ("_", "__", "___"):
        setattr(hook, name, "")
    shell.history_manager.reset(new_session=False)
    ns = shell.user_global_ns
    if shell.user_ns is not ns:
        shell.user_ns.clear()
    for key in [k for k in ns if k not in _MODULE_KEYS]:
        del ns[key]
    shell.user_ns_hidden.clear()
    shell.init_user_ns()
    shell.execution_count = 1


def _timed_out(seconds: float) -> TimeoutError:
    return TimeoutError(f"cell execution timed out after {seconds} s")


@contextlib.contextmanager
def _cell_timeout(seconds: float | None) -> Iterator[None]:
    """Raise ``TimeoutError`` in the cell after ``seconds``.

    In the main thread (a process-pool worker, ``kpi report``) a ``SIGALRM`` timer
    interrupts the cell, even a call blocked in C. In another thread (a Dask worker runs its
    tasks in threads) a timer raises the error in the cell's thread
    (:func:`_raise_in_thread`), which Python delivers at the cell's next bytecode: a runaway
    loop stops at once, a call blocked in C when it returns.
    """
    if not seconds or seconds <= 0:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        with _thread_timeout(seconds):
            yield
        return
    if not hasattr(signal, "setitimer"):  # not POSIX
        yield
        return

    def _expired(signum, frame):
        raise _timed_out(seconds)

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _raise_in_thread(thread_id: int, exc_type: type[BaseException] | None) -> None:
    """Ask Python to raise ``exc_type`` in another thread at its next bytecode (``None``:
    withdraw a request not yet delivered)."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None
    )


@contextlib.contextmanager
def _thread_timeout(seconds: float) -> Iterator[None]:
    """:func:`_cell_timeout` outside the main thread: a timer thread raises the error."""
    target = threading.get_ident()
    message = str(_timed_out(seconds))

    class _CellTimeout(TimeoutError):  # raised without arguments: it carries its message
        def __init__(self, *args: object) -> None:
            super().__init__(*(args or (message,)))

    _CellTimeout.__name__ = _CellTimeout.__qualname__ = "TimeoutError"
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def _expired() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _raise_in_thread(target, _CellTimeout)

    timer = threading.Timer(float(seconds), _expired)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            if state["fired"]:  # the cell ended as the timer fired: nothing left pending
                _raise_in_thread(target, None)
        timer.cancel()


def _run_cell(shell: Any, cell: Any, *, timeout: float | None) -> bool:
    """Execute one code cell into ``cell.outputs``; return False if it raised."""
    cell.outputs = []
    sink = shell.kpi_sink
    sink.outputs = cell.outputs
    cell.execution_count = sink.execution_count = shell.execution_count
    out, err = _CellStream(sink, "stdout"), _CellStream(sink, "stderr")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            with _cell_timeout(timeout):
                result = shell.run_cell(cell.source, store_history=True, silent=False)
    finally:
        sink.outputs = None
    if result.error_before_exec is not None or result.error_in_exec is not None:
        if not any(o.get("output_type") == "error" for o in cell.outputs):
            exc = result.error_in_exec or result.error_before_exec
            sink.outputs = cell.outputs
            sink.error(type(exc).__name__, str(exc), [f"{type(exc).__name__}: {exc}"])
            sink.outputs = None
        return False
    return True


def _build_engine_class() -> Any:
    """Define the engine class (papermill is imported here, not at module import).

    Papermill loads its ``papermill.engine`` entry points while ``papermill.engines`` is
    being imported; defining the subclass lazily avoids a circular import in either order.
    """
    global _ENGINE_CLASS
    from papermill.engines import Engine

    if _ENGINE_CLASS is not None:  # defined meanwhile by papermill loading the entry point
        return _ENGINE_CLASS

    class InProcessEngine(Engine):
        """Papermill engine that runs code cells in this process (no kernel start per report)."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> Any:
            """Execute every cell of ``nb_man.nb``, stopping at the first error (as nbclient does).

            Args:
                nb_man: Papermill's execution manager (updates cell metadata, saves).
                kernel_name: Ignored (the notebook runs in this Python process).
                log_output: Ignored.
                execution_timeout: Seconds allowed per cell (None: no limit).
                **kwargs: Other papermill engine options (ignored).

            Returns:
                The executed notebook.
            """
            shell = get_shell()
            nb = nb_man.nb
            with _fresh_state(shell):
                for index, cell in enumerate(nb.cells):
                    nb_man.cell_start(cell, index)
                    ok = True
                    try:
                        if cell.cell_type == "code" and cell.source.strip():
                            ok = _run_cell(shell, cell, timeout=execution_timeout)
                        if not ok:
                            nb_man.cell_exception(cell, cell_index=index)
                    finally:
                        nb_man.cell_complete(cell, cell_index=index)
                    if not ok:
                        if any(o.get("ename") == "KeyboardInterrupt" for o in cell.outputs):
                            raise KeyboardInterrupt  # Ctrl-C stops the run, not just this cell
                        break
            nb.metadata["language_info"] = _language_info()
            return nb

    InProcessEngine.__qualname__ = "InProcessEngine"
    _ENGINE_CLASS = InProcessEngine
    return InProcessEngine


def __getattr__(name: str) -> Any:
    if name == "InProcessEngine":
        return _ENGINE_CLASS if _ENGINE_CLASS is not None else _build_engine_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _language_info() -> dict[str, Any]:
    return {
        "name": "python",
        "version": ".".join(map(str, sys.version_info[:3])),
        "mimetype": "text/x-python",
        "file_extension": ".py",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "pygments_lexer": "ipython3",
        "nbconvert_exporter": "python",
    }


def register() -> None:
    """Register :class:`InProcessEngine` with papermill under :data:`ENGINE_NAME`.

    The ``papermill.engine`` entry point does this when kpilib is installed; calling it again
    is harmless (useful when running from a source tree).
    """
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, __getattr__("InProcessEngine"))


__all__ = ["ENGINE_NAME", "InProcessEngine", "discard_shell", "get_shell", "register", "warm_up"]  # noqa: F822
