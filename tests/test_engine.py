"""The in-process Papermill engine (kpilib.engine) against the standard kernel engine."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import nbformat
import papermill
import pytest
from papermill.engines import papermill_engines
from papermill.exceptions import PapermillExecutionError

from kpilib import engine

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "batch"
DATA = FIXTURES / "data"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module", autouse=True)
def _restore_process_state():
    """The engine switches matplotlib to the inline backend and creates a shell: undo both."""
    backend = matplotlib.get_backend()
    yield
    engine.discard_shell()
    matplotlib.use(backend)


def _notebook(tmp_path: Path, *sources: str, name: str = "nb.ipynb") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell('unit = "1001"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(s) for s in sources)]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _execute(src: Path, dst: Path, *, engine_name: str | None, **params) -> tuple[object, object]:
    """Execute; return (notebook as saved, PapermillExecutionError or None)."""
    error = None
    try:
        papermill.execute_notebook(
            str(src),
            str(dst),
            parameters=params,
            engine_name=engine_name,
            progress_bar=False,
            cwd=str(src.parent),
        )
    except PapermillExecutionError as exc:
        error = exc
    return nbformat.read(dst, as_version=4), error


def _summary(nb) -> list[list[tuple]]:
    """Per code cell: comparable outputs (type, stream name/text, mime types, text data)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs = []
        for o in cell.outputs:
            if o.output_type == "stream":
                outs.append(("stream", o.name, o.text))
            elif o.output_type in ("display_data", "execute_result"):
                data = o.data
                outs.append(
                    (
                        o.output_type,
                        tuple(sorted(data)),
                        data.get("text/html"),
                        None if "image/png" in data else data.get("text/plain"),
                    )
                )
            elif o.output_type == "error":
                outs.append(("error", o.ename, o.evalue))
        cells.append(outs)
    return cells


def test_engine_is_registered_with_papermill_by_name():
    assert papermill_engines.get_engine(engine.ENGINE_NAME) is engine.InProcessEngine


@pytest.mark.slow
@pytest.mark.parametrize(
    ("notebook", "unit", "fails"),
    [("ok.ipynb", "1001", False), ("fails_for_1002.ipynb", "1002", True)],
)
def test_inprocess_outputs_equal_kernel_outputs(tmp_path, notebook, unit, fails):
    src = FIXTURES / notebook
    params = {"unit": unit, "data_dir": str(DATA)}
    nb_k, err_k = _execute(src, tmp_path / "kernel.ipynb", engine_name=None, **params)
    nb_i, err_i = _execute(src, tmp_path / "inproc.ipynb", engine_name=engine.ENGINE_NAME, **params)

    assert _summary(nb_i) == _summary(nb_k)
    counts = [c.execution_count for c in nb_i.cells if c.cell_type == "code"]
    assert counts == [c.execution_count for c in nb_k.cells if c.cell_type == "code"]
    pngs = [
        o
        for c in nb_i.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(pngs) == 1 and len(pngs[0].data["image/png"]) > 1000
    if fails:
        assert err_k is not None and err_i is not None
        assert (err_i.ename, err_i.evalue) == (err_k.ename, err_k.evalue)
        assert err_i.cell_index == err_k.cell_index
        tb = ANSI.sub("", "\n".join(err_i.traceback))
        assert "injected failure for unit 1002" in tb and "RuntimeError" in tb
        # papermill's error markers are written in both
        assert nb_i.cells[0].metadata.get("tags") == ["papermill-error-cell-tag"]
        assert nb_i.metadata.papermill["exception"] is True
    else:
        assert err_k is None and err_i is None


def test_streams_display_and_result_are_captured_in_order(tmp_path):
    src = _notebook(
        tmp_path,
        "import sys\nprint('a')\nprint('b')\nprint('oops', file=sys.stderr)\nprint('c')",
        "from IPython.display import display, HTML\ndisplay(HTML('<i>x</i>'))\n40 + 2",
        "41;",
    )
    nb, err = _execute(src, tmp_path / "out.ipynb", engine_name=engine.ENGINE_NAME)
    assert err is None
    cells = _summary(nb)
    assert cells[1] == [
        ("stream", "stdout", "a\nb\n"),
        ("stream", "stderr", "oops\n"),
        ("stream", "stdout", "c\n"),
    ]
    assert cells[2] == [
        (
            "display_data",
            ("text/html", "text/plain"),
            "<i>x</i>",
            "<IPython.core.display.HTML object>",
        ),
        ("execute_result", ("text/plain",), None, "42"),
    ]
    assert nb.cells[2].outputs[1].execution_count == 3
    assert cells[3] == []  # a trailing semicolon silences the result, as in Jupyter


def test_each_notebook_starts_with_a_fresh_namespace_and_count(tmp_path):
    first = _notebook(tmp_path, "leak = 1", name="first.ipynb")
    second = _notebook(tmp_path, "leak", name="second.ipynb")
    _execute(first, tmp_path / "o1.ipynb", engine_name=engine.ENGINE_NAME)
    nb, err = _execute(second, tmp_path / "o2.ipynb", engine_name=engine.ENGINE_NAME)
    assert err is not None and err.ename == "NameError"
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2]


def test_matplotlib_state_is_restored_between_notebooks(tmp_path):
    import matplotlib.pyplot as plt

    before = matplotlib.rcParams["lines.linewidth"]
    src = _notebook(
        tmp_path,
        "import matplotlib\nimport matplotlib.pyplot as plt\n"
        "matplotlib.rcParams['lines.linewidth'] = 9\nfig = plt.figure()",
    )
    _execute(src, tmp_path / "out.ipynb", engine_name=engine.ENGINE_NAME)
    assert matplotlib.rcParams["lines.linewidth"] == before
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    ("source", "ename"),
    [
        ("def broken(:\n    pass", "SyntaxError"),
        ("1 / 0", "ZeroDivisionError"),
        ("import no_such_module_kpilib", "ModuleNotFoundError"),
    ],
)
def test_errors_become_error_outputs_and_stop_execution(tmp_path, source, ename):
    src = _notebook(tmp_path, "print('before')", source, "print('never')")
    nb, err = _execute(src, tmp_path / "out.ipynb", engine_name=engine.ENGINE_NAME)
    assert err is not None and err.ename == ename
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for o in code[2].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == ename and errors[0].traceback
    assert code[3].outputs == [] and code[3].execution_count is None


def test_cell_timeout_interrupts_a_runaway_cell(tmp_path):
    src = _notebook(tmp_path, "while True:\n    pass")
    with pytest.raises(PapermillExecutionError) as info:
        papermill.execute_notebook(
            str(src),
            str(tmp_path / "out.ipynb"),
            engine_name=engine.ENGINE_NAME,
            progress_bar=False,
            execution_timeout=0.3,
        )
    assert info.value.ename == "TimeoutError"


def _in_a_thread(fn):
    """Run ``fn`` in a thread other than the main one (as a Dask worker runs its tasks)."""
    import threading

    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the cell was not stopped"
    return box


def test_cell_timeout_interrupts_a_runaway_cell_outside_the_main_thread(tmp_path):
    src = _notebook(tmp_path, "while True:\n    pass", "print('never')")
    box = _in_a_thread(
        lambda: papermill.execute_notebook(
            str(src),
            str(tmp_path / "out.ipynb"),
            engine_name=engine.ENGINE_NAME,
            progress_bar=False,
            execution_timeout=0.3,
        )
    )
    error = box.get("error")
    assert isinstance(error, PapermillExecutionError) and error.ename == "TimeoutError"
    assert "timed out after 0.3 s" in error.evalue


def test_a_cell_that_ends_in_time_outside_the_main_thread_is_not_interrupted_later(tmp_path):
    import time

    src = _notebook(tmp_path, "x = 1", "y = x + 1")

    def run_then_wait():
        nb = papermill.execute_notebook(
            str(src),
            str(tmp_path / "out.ipynb"),
            engine_name=engine.ENGINE_NAME,
            progress_bar=False,
            execution_timeout=0.2,
        )
        time.sleep(0.5)  # past the timeout: a timer left running would raise here
        return nb

    box = _in_a_thread(run_then_wait)
    assert "error" not in box, box.get("error")
    assert box["value"].cells[-1].execution_count is not None


def test_ctrl_c_in_a_cell_stops_the_run(tmp_path):
    src = _notebook(tmp_path, "raise KeyboardInterrupt", "print('never')")
    with pytest.raises(KeyboardInterrupt):
        papermill.execute_notebook(
            str(src),
            str(tmp_path / "out.ipynb"),
            engine_name=engine.ENGINE_NAME,
            progress_bar=False,
        )
