"""Rendering: executed report notebook -> self-contained HTML -> PDF (headless Chromium).

* :func:`notebook_to_html` exports with nbconvert's ``HTMLExporter`` and the package's
  ``kpireport`` template (JupyterLab look, **no code**: input cells, prompts and the
  papermill parameters cells are excluded; no ``<script>`` at all, so nothing loads from a
  CDN; images embedded; the bundled Sarabun font inlined as base64 ``@font-face``). Output
  streams written to stderr (warnings) stay in the executed ``.ipynb`` but are not rendered.
  The result is deterministic: the same notebook gives the same bytes.
* :func:`html_to_pdf` and :func:`html_to_png` print/screenshot a local HTML file with
  Debian's ``chromium`` in headless mode (found by :func:`find_chromium`).

Nothing runs on import.
"""

from __future__ import annotations

import base64
import copy
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from kpilib.errors import DependencyMissing, RenderError
from kpilib.fsio import atomic_write_text
from kpilib.paths import package_dir

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executable names tried by :func:`find_chromium`, in order."""

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
)
"""Switches for every headless Chromium kpilib starts (no network, no profile state)."""

INSTALL_ADVICE = (
    "Chromium is needed to print PDFs: install it with 'apt-get install chromium' "
    "(Debian/Ubuntu), or set KPILIB_CHROMIUM to a Chromium/Chrome executable"
)


@cache
def font_face_css() -> str:
    """``@font-face`` rules embedding the bundled Sarabun fonts as base64 data URIs."""
    from kpilib.charts import FONT_FAMILY, font_paths

    rules = []
    for style, path in sorted(font_paths().items()):
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        weight = 700 if style == "bold" else 400
        rules.append(
            f"@font-face {{ font-family: '{FONT_FAMILY}'; font-style: normal; "
            f"font-weight: {weight}; src: url(data:font/ttf;base64,{data}) format('truetype'); }}"
        )
    return "\n".join(rules)


def report_css() -> str:
    """The CSS inlined into every rendered report: the embedded font, then the report styles."""
    css = (package_dir() / "templates" / "report.css").read_text(encoding="utf-8")
    return font_face_css() + "\n" + css


def _read_notebook(executed_nb: Any) -> Any:
    import nbformat

    if isinstance(executed_nb, str | os.PathLike):
        path = Path(executed_nb)
        if not path.is_file():
            raise RenderError(f"{path}: executed notebook not found")
        return nbformat.read(path, as_version=4)
    return copy.deepcopy(executed_nb)


def _strip_for_report(nb: Any) -> Any:
    """Drop the parameters cells, stderr streams and the code of every cell (outputs only)."""
    hidden = {"parameters", "injected-parameters"}
    nb.cells = [c for c in nb.cells if not hidden & set(c.get("metadata", {}).get("tags", []))]
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [
            o
            for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
        for o in cell["outputs"]:
            if o.get("output_type") == "error":
                raise RenderError(
                    f"the report notebook failed: {o.get('ename', 'error')}: {o.get('evalue', '')}"
                )
        cell["metadata"] = {"tags": cell.get("metadata", {}).get("tags", [])}
    return nb


@cache
def _html_exporter() -> Any:
    """One configured HTML exporter per process (compiling its templates costs ~0.2 s)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportHTMLExporter(HTMLExporter):
        """nbconvert's HTML exporter without its final BeautifulSoup pass.

        That pass adds alt text to ``<img>`` elements and ``tabindex`` to notebook cells;
        a report has neither (charts are inline SVG labelled by kpilib, no cell is shown),
        and parsing and re-serialising the whole page with its embedded font cost about
        0.3 s per report, a fifth of a report (``docs/benchmarks.md``).
        """

        def from_notebook_node(  # type: ignore[override]
            self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[str, dict[str, Any]]:
            lang = nb.metadata.get("language_info", {})
            lexer = lang.get("pygments_lexer", lang.get("name"))
            resources = self._init_resources(resources)
            self.register_filter(
                "highlight_code",
                self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
                ),
            )
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportHTMLExporter(
        template_name="kpireport",
        extra_template_basedirs=[str(package_dir() / "templates" / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        exclude_anchor_links=True,  # an empty anchor serialises as "<a ... />", which HTML opens
        optimistic_validation=True,  # validate once, after all preprocessors, not after each
    )


def notebook_to_html(executed_nb: Any, html_path: Path | str, *, title: str | None = None) -> Path:
    """Export an executed report notebook to one self-contained HTML file without code.

    Args:
        executed_nb: The executed notebook (``nbformat.NotebookNode``) or its path.
        html_path: Where to write the HTML (written atomically; parents created).
        title: The HTML ``<title>``; default: the notebook metadata's ``title`` or ``report``.

    Returns:
        ``html_path``.

    Raises:
        RenderError: If the notebook is missing or holds an error output.
    """
    nb = _strip_for_report(_read_notebook(executed_nb))
    if title:
        nb.metadata["title"] = title
    exporter = _html_exporter()
    resources = {"metadata": {"name": "report"}, "kpilib_css": report_css()}
    try:
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:  # nbconvert raises many types; report them as one
        raise RenderError(f"HTML export failed: {exc}") from exc
    return atomic_write_text(html_path, body)


def find_chromium(explicit: str | None = None) -> str:
    """Return the path of a Chromium/Chrome executable.

    Looks at ``explicit``, then ``KPILIB_CHROMIUM``, then :data:`CHROMIUM_NAMES` on ``PATH``.

    Raises:
        DependencyMissing: If none is found (the message says how to install it).
    """
    for candidate in (explicit, os.environ.get("KPILIB_CHROMIUM")):
        if candidate:
            found = shutil.which(candidate)
            if found:
                return found
            raise DependencyMissing(
                f"Chromium executable {candidate!r} not found. {INSTALL_ADVICE}"
            )
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise DependencyMissing(INSTALL_ADVICE)


def _run_chromium(chromium: str, args: list[str], html_path: Path, *, timeout: float) -> None:
    src = Path(html_path).resolve()
    if not src.is_file():
        raise RenderError(f"{src}: HTML file not found")
    with tempfile.TemporaryDirectory(prefix="kpilib-chromium-") as profile:
        cmd = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            *args,
            src.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"Chromium did not finish within {timeout:.0f} s on {src}") from exc
        except OSError as exc:
            raise DependencyMissing(f"cannot start {chromium}: {exc}. {INSTALL_ADVICE}") from exc
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])
        raise RenderError(f"Chromium failed on {src} (exit {proc.returncode}): {tail}")


RUNNING_HEADER_ATTR = "data-running-header"
"""The attribute of the report's header element holding the PDF's running header text."""

PDF_TITLE_ATTR = "data-pdf-title"
"""The attribute of the report's header element holding the PDF's title."""


def pdf_name(fy: int, quarter: int, unit: str, *, month: int | None = None) -> str:
    """A report PDF's file name: ``<FY>_Q<q>_<unit>.pdf`` (e.g. ``2567_Q1_1032.pdf``); a
    monthly progress report's ``<FY>_M<mm>_<unit>.pdf`` (calendar month, ``2567_M11_1032.pdf``)."""
    from kpilib.paths import safe_component

    period = f"Q{int(quarter)}" if month is None else f"M{int(month):02d}"
    return f"{int(fy)}_{period}_{safe_component(unit, what='unit code')}.pdf"


def _margin_template(text: str, *, align: str) -> str:
    """A header/footer template for ``Page.printToPDF`` in the embedded font.

    Chromium draws these outside the page's document, so the font is embedded again here;
    ``pageNumber``/``totalPages`` are filled in by Chromium.
    """
    return (
        f"<style>{font_face_css()}\n"
        "#kpi-margin { font-family: 'Sarabun'; font-size: 8.5px; color: #45525c; width: 100%;"
        f" margin: 0 12mm; text-align: {align}; }}</style>"
        f'<div id="kpi-margin">{text}</div>'
    )


def html_to_pdf(
    html_path: Path | str,
    pdf_path: Path | str,
    *,
    chromium: str | None = None,
    timeout: float = 120.0,
) -> Path:
    """Print an HTML report to an A4 PDF with a running header and page numbers.

    Chromium prints through the DevTools protocol (``Page.printToPDF``, see
    :mod:`kpilib.browser`): the running header is the text of the page's
    ``[data-running-header]`` element attribute (unit, fiscal year, quarter), the footer
    "หน้า n / N", both in the embedded font; the PDF's title metadata is the page's
    ``[data-pdf-title]`` (else its ``<title>``).

    Args:
        html_path: A local HTML file (self-contained: nothing is fetched).
        pdf_path: Where to write the PDF (atomically; parents created).
        chromium: The executable; default :func:`find_chromium`.
        timeout: Seconds before giving up.

    Returns:
        ``pdf_path``.

    Raises:
        DependencyMissing: Without Chromium (the message says ``apt-get install chromium``).
        RenderError: If Chromium fails or writes nothing.
    """
    import html as html_lib

    from kpilib.browser import Browser

    src = Path(html_path).resolve()
    if not src.is_file():
        raise RenderError(f"{src}: HTML file not found")
    out = Path(pdf_path)
    with Browser(chromium, timeout=timeout) as browser:
        page = browser.new_page(width=1100)
        page.open(src)
        marks = page.evaluate(
            f"""(() => {{
              const h = document.querySelector('[{RUNNING_HEADER_ATTR}]');
              const t = document.querySelector('[{PDF_TITLE_ATTR}]');
              if (t) document.title = t.getAttribute('{PDF_TITLE_ATTR}');
              return [h ? h.getAttribute('{RUNNING_HEADER_ATTR}') : '', document.title];
            }})()"""
        )
        header = html_lib.escape(marks[0] or marks[1] or "")
        data = page.print_pdf(
            header_html=_margin_template(header, align="left"),
            footer_html=_margin_template(
                'หน้า <span class="pageNumber"></span> / <span class="totalPages"></span>',
                align="right",
            ),
        )
    if not data:
        raise RenderError(f"Chromium wrote no PDF for {html_path}")
    from kpilib.fsio import atomic_write_bytes

    return atomic_write_bytes(out, data)


def html_to_png(
    html_path: Path | str,
    png_path: Path | str,
    *,
    width: int = 1200,
    height: int = 1600,
    chromium: str | None = None,
    timeout: float = 120.0,
) -> Path:
    """Take a screenshot of the top of an HTML file with headless Chromium (for checks)."""
    exe = find_chromium(chromium)
    out = Path(png_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    _run_chromium(
        exe,
        [f"--window-size={width},{height}", f"--screenshot={out}"],
        Path(html_path),
        timeout=timeout,
    )
    if not out.is_file():
        raise RenderError(f"Chromium wrote no screenshot for {html_path}")
    return out
