"""Checks of a rendered page in headless Chromium (used by test_presentation.py).

Each function takes a :class:`kpilib.browser.Page` that has a page open and returns what is
wrong (an empty list: nothing), so a test can also show that a check fails on a broken page.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

EMBEDDED_FONT = "Sarabun"


def fallback_fonts(page: Any) -> list[dict[str, Any]]:
    """Elements with text drawn (partly) in another font than the embedded one."""
    return [
        e for e in page.text_fonts() if any(f["familyName"] != EMBEDDED_FONT for f in e["fonts"])
    ]


_OVERLAP_JS = r"""
(() => {
  const box = (el) => {
    const r = document.createRange(); r.selectNodeContents(el);
    const rects = Array.from(r.getClientRects()).filter(x => x.width > 0 && x.height > 0);
    if (!rects.length) return null;
    return {l: Math.min(...rects.map(x => x.left)), r: Math.max(...rects.map(x => x.right)),
            t: Math.min(...rects.map(x => x.top)), b: Math.max(...rects.map(x => x.bottom))};
  };
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; }
    return false; };
  const out = [];
  for (const tr of document.querySelectorAll('tr')) {
    const cells = Array.from(tr.children).filter(c => c.offsetParent !== null);
    const boxes = cells.map(box);
    for (let i = 0; i < cells.length; i++) {
      const a = boxes[i]; if (!a) continue;
      const cr = cells[i].getBoundingClientRect();
      if (!scrolls(cells[i]) && (a.r > cr.right + 1 || a.l < cr.left - 1))
        out.push(['spills out of its cell', cells[i].innerText.slice(0, 40)]);
      for (let j = i + 1; j < cells.length; j++) {
        const b = boxes[j]; if (!b) continue;
        if (a.l < b.r - 1 && b.l < a.r - 1 && a.t < b.b - 1 && b.t < a.b - 1)
          out.push(['overlaps', cells[i].innerText.slice(0, 40) + ' | ' + cells[j].innerText.slice(0, 40)]);
      }
    }
  }
  return out;
})()
"""


def overlapping_cells(page: Any) -> list[list[str]]:
    """Table cells whose text overlaps another cell's text or spills out of its cell
    (a cell inside a box that scrolls sideways may be wider than the screen)."""
    return page.evaluate(_OVERLAP_JS)


_CRAMPED_JS = r"""
(() => {
  const out = [];
  for (const el of document.querySelectorAll('h1, h2, h3, h4, h5, p, li, dt, dd, td, th')) {
    const cs = getComputedStyle(el);
    if (cs.lineHeight === 'normal' || !el.innerText.trim()) continue;
    const lh = parseFloat(cs.lineHeight), fs = parseFloat(cs.fontSize);
    const lines = el.getBoundingClientRect().height / lh;
    if (lines >= 1.8 && lh < 1.25 * fs)
      out.push([el.tagName, el.innerText.slice(0, 40), (lh / fs).toFixed(2)]);
  }
  return out;
})()
"""


def cramped_lines(page: Any) -> list[list[str]]:
    """Elements whose text wraps onto several lines set closer than 1.25 × the font size:
    Thai vowels and tone marks above and below a line would touch the next one."""
    return page.evaluate(_CRAMPED_JS)


def sideways_scroll(page: Any) -> int:
    """How many CSS pixels the page itself scrolls sideways (0: none)."""
    return int(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - document.documentElement.clientWidth"
        )
    )


def pdf_pages(pdf: Path) -> int:
    """The PDF's page count (``pdfinfo``)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


def pdf_title(pdf: Path) -> str:
    """The PDF's title metadata (``pdfinfo``)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    m = re.search(r"^Title:\s+(.*)$", info.stdout, re.M)
    return m.group(1).strip() if m else ""


def words_off_the_page(pdf: Path, *, margin_pt: float = 12 * 72 / 25.4 - 6) -> list[str]:
    """Words printed past the page's right margin, or cut at its edge (``pdftotext -bbox``).

    Chromium clips what overflows the printable width, so a word whose box ends within
    ``margin_pt`` of the paper's right edge, or beyond it, is reported.
    """
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    bad = []
    for page in re.finditer(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', out, re.S):
        limit = float(page.group(1)) - margin_pt
        for m in re.finditer(
            r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>(.*?)</word>', page.group(2)
        ):
            if float(m.group(1)) > limit:
                bad.append(m.group(2))
    return bad
