"""A small Chrome DevTools Protocol (CDP) client for headless Chromium.

Printing with a running header and page numbers, a PDF title, screenshots at a given width and
the layout checks of the tests (which font draws each element, what overflows, what overlaps)
need the DevTools protocol rather than Chromium's command-line switches. :class:`Browser`
starts ``chromium --headless --remote-debugging-port=0`` with a throw-away profile, reads the
port Chromium chose from ``DevToolsActivePort`` and speaks the protocol over one websocket
(``websocket-client``); :class:`Page` is one tab, attached in "flat" session mode.

    with Browser() as browser:
        page = browser.new_page(width=1400)
        page.open(Path("report.html"))
        pdf = page.print_pdf(header_html=..., footer_html=...)

Nothing runs on import; ``websocket`` is imported when a browser starts.
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from kpilib.errors import DependencyMissing, RenderError

A4_INCHES = (8.27, 11.69)
"""A4 paper, width × height in inches (CDP's unit)."""

_MM = 1 / 25.4


class Browser:
    """Headless Chromium driven over the DevTools protocol (a context manager).

    Args:
        chromium: The executable; default :func:`kpilib.render.find_chromium`.
        timeout: Seconds to wait for Chromium to start and for each command.
    """

    def __init__(self, chromium: str | None = None, *, timeout: float = 60.0) -> None:
        from kpilib.render import CHROMIUM_FLAGS, find_chromium

        self.timeout = timeout
        self._exe = find_chromium(chromium)
        self._profile = tempfile.TemporaryDirectory(prefix="kpilib-cdp-")
        self._next_id = 0
        self._events: deque[dict[str, Any]] = deque()
        cmd = [
            self._exe,
            *CHROMIUM_FLAGS,
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={self._profile.name}",
            "about:blank",
        ]
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self._profile.cleanup()
            raise DependencyMissing(f"cannot start {self._exe}: {exc}") from exc
        try:
            self._ws = self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> Any:
        try:
            import websocket  # websocket-client: imported only when a browser starts
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise DependencyMissing("websocket-client is needed to drive Chromium") from exc
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = (self._proc.stderr.read() if self._proc.stderr else b"").decode(
                    errors="replace"
                )
                tail = " ".join(err.strip().splitlines()[-3:])
                raise RenderError(
                    f"Chromium exited at start (exit {self._proc.returncode}): {tail}"
                )
            lines = port_file.read_text().split("\n") if port_file.is_file() else []
            if len(lines) >= 2 and lines[0].strip() and lines[1].strip():
                url = f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
                return websocket.create_connection(url, timeout=self.timeout, suppress_origin=True)
            time.sleep(0.05)
        raise RenderError(f"Chromium did not open its DevTools port within {self.timeout:.0f} s")

    # ------------------------------------------------------------------ protocol

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str = "") -> Any:
        """Send one command and return its result (events meanwhile are queued).

        Raises:
            RenderError: The browser answered with an error, or did not answer in time.
        """
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._ws.send(json.dumps(msg))
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RenderError(f"Chromium: {method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def _receive(self) -> dict[str, Any]:
        import websocket

        try:
            return json.loads(self._ws.recv())
        except (websocket.WebSocketTimeoutException, TimeoutError) as exc:
            raise RenderError(f"Chromium did not answer within {self.timeout:.0f} s") from exc

    def wait_event(self, method: str, *, session: str = "") -> dict[str, Any]:
        """Wait for the next event ``method`` (of ``session``) and return its parameters."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for ev in list(self._events):
                if ev["method"] == method and ev.get("sessionId", "") == session:
                    self._events.remove(ev)
                    return ev.get("params", {})
            self._events.append(self._receive())
        raise RenderError(f"Chromium: no {method} within {self.timeout:.0f} s")

    def new_page(self, *, width: int = 1400, height: int = 1000) -> Page:
        """Open a tab with a viewport of ``width`` × ``height`` CSS pixels."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session, target)
        page.set_width(width, height)
        return page

    def close(self) -> None:
        """Close the browser and remove its profile."""
        ws = getattr(self, "_ws", None)
        if ws is not None:
            try:
                self.send("Browser.close")
            except Exception:  # already gone: nothing to close
                pass
            ws.close()
            self._ws = None
        if self._proc.poll() is None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    """One tab of a :class:`Browser`."""

    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser = browser
        self.session = session
        self.target = target
        self.width = 0
        for domain in ("Page", "Runtime", "DOM", "CSS"):
            self.send(f"{domain}.enable")

    def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send one command to this tab."""
        return self.browser.send(method, params, session=self.session)

    def set_width(self, width: int, height: int = 1000) -> None:
        """Emulate a screen ``width`` CSS pixels wide (a phone: 400)."""
        self.width = width
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )

    def open(self, path_or_url: Path | str) -> None:
        """Load a local file (or URL) and wait until it and its fonts are ready."""
        url = Path(path_or_url).resolve().as_uri() if isinstance(path_or_url, Path) else path_or_url
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise RenderError(f"Chromium could not open {url}: {result['errorText']}")
        self.browser.wait_event("Page.loadEventFired", session=self.session)
        self.evaluate("document.fonts.ready.then(() => true)")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its (JSON) value; promises are awaited."""
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in reply:
            detail = reply["exceptionDetails"]
            text = detail.get("exception", {}).get("description") or detail.get("text")
            raise RenderError(f"script failed in the page: {text}")
        return reply.get("result", {}).get("value")

    def print_pdf(
        self,
        *,
        header_html: str = "",
        footer_html: str = "",
        margins_mm: tuple[float, float, float, float] = (15, 12, 13, 12),
    ) -> bytes:
        """Print the page on A4 (``Page.printToPDF``) and return the PDF's bytes.

        Args:
            header_html: The running header's HTML (Chromium's template classes ``title``,
                ``pageNumber``, ``totalPages`` are filled in); empty: none.
            footer_html: The footer's HTML, likewise.
            margins_mm: Top, right, bottom, left margins; header and footer sit inside them.
        """
        top, right, bottom, left = (m * _MM for m in margins_mm)
        has_hf = bool(header_html or footer_html)
        result = self.send(
            "Page.printToPDF",
            {
                "paperWidth": A4_INCHES[0],
                "paperHeight": A4_INCHES[1],
                "marginTop": top,
                "marginRight": right,
                "marginBottom": bottom,
                "marginLeft": left,
                "printBackground": True,
                "preferCSSPageSize": False,
                "displayHeaderFooter": has_hf,
                "headerTemplate": header_html or "<span></span>",
                "footerTemplate": footer_html or "<span></span>",
                "generateDocumentOutline": True,
            },
        )
        return base64.b64decode(result["data"])

    def screenshot(self, path: Path | str, *, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole page by default) at the current width."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": max(self.width, int(size[0])),
                "height": min(int(size[1]), 16000),
                "scale": 1,
            }
        data = self.send("Page.captureScreenshot", params)["data"]
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        return out

    def text_fonts(self) -> list[dict[str, Any]]:
        """Every element with its own text, with the fonts Chromium drew that text with.

        Returns:
            One entry per element holding non-blank text directly: ``tag``, ``text`` (its first
            60 characters), ``fonts`` (``CSS.getPlatformFontsForNode``: family name and glyph
            count of each font used).
        """
        root = self.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        out = []
        for node in self.send("DOM.querySelectorAll", {"nodeId": root, "selector": "body *"})[
            "nodeIds"
        ]:
            desc = self.send("DOM.describeNode", {"nodeId": node, "depth": 1})["node"]
            own = "".join(
                c.get("nodeValue", "") for c in desc.get("children", ()) if c.get("nodeType") == 3
            )
            if not own.strip() or desc.get("localName") in ("style", "script", "title"):
                continue
            fonts = self.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            if not fonts:  # not drawn (display: none, a closed <details>)
                continue
            out.append(
                {"tag": desc.get("localName"), "text": " ".join(own.split())[:60], "fonts": fonts}
            )
        return out
