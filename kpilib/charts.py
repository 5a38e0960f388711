"""Report charts: matplotlib figures titled and labelled in Thai with the bundled Sarabun font.

Every chart function returns a :class:`matplotlib.figure.Figure` built with the
object-oriented API (no ``pyplot`` state, nothing shown, nothing saved). Use
:func:`figure_html` to embed a figure in a report as inline SVG whose labels are text in the
report's embedded font (written without a date, so the same figure gives the same bytes);
:func:`figure_png` gives PNG bytes.

The frames the charts draw come from :mod:`kpilib.complaints` (monthly trend, complaints
by type, backlog ageing, time to finish) and from scorecards.

Importing this module does nothing: the font is registered with matplotlib the first time a
chart is drawn (:func:`use_thai_font`).
"""

from __future__ import annotations

import html
import io
import textwrap
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kpilib.calendar import MONTHS_SHORT
from kpilib.paths import package_dir

if TYPE_CHECKING:
    from kpilib.document import ReportDocument

NBSP = "\u00a0"
"""Joins a word to the next in a chart title so that wrapping never leaves "ณ" or a
number alone at a line's end (:func:`wrap_title` breaks at spaces only)."""

FONT_FAMILY = "Sarabun"
"""The family name of the bundled Thai font."""

_COLOURS = {
    "main": "#1f4e79",
    "second": "#e07b39",
    "target": "#2e7d32",
    "plan": "#8e24aa",
    "muted": "#b0bec5",
    "highlight": "#c62828",
}


def font_paths() -> dict[str, Path]:
    """Return the bundled font files by style (``regular``, ``bold``)."""
    folder = package_dir() / "fonts"
    return {"regular": folder / "Sarabun-Regular.ttf", "bold": folder / "Sarabun-Bold.ttf"}


@cache
def use_thai_font() -> str:
    """Register the bundled Sarabun fonts with matplotlib (once) and return the family name."""
    from matplotlib import font_manager

    for path in font_paths().values():
        font_manager.fontManager.addfont(str(path))
    return FONT_FAMILY


def _rc() -> dict[str, Any]:
    family = use_thai_font()
    return {
        "font.family": [family],
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.hashsalt": "kpilib",
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
        "axes.titlesize": 13,
        "axes.labelsize": 11,
        # The title sits at the plot's top edge: nothing is drawn above the plot (no top
        # ticks, no offset text), so matplotlib's search for a higher place, which measures
        # the y axis again at every draw, would find none.
        "axes.titley": 1.0,
        "axes.formatter.useoffset": False,
    }


def _figure(*, width: float = 8.0, height: float = 4.2) -> Any:
    """A one-axes figure; called by chart builders, inside their style (:func:`_styled`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))  # margins: fit_layout, when it is saved
    ax = fig.add_subplot()
    return fig, ax


_FONT_LISTS = ("font.serif", "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace")
"""The rcParams that resolve a generic family name to fonts (part of a font's identity)."""

_FONT_HEIGHTS: dict[tuple[Any, ...], tuple[float, float, float]] = {}
"""Per font, size and resolution (a chart uses a handful): :class:`_FontHeightsOnce`."""


class _FontHeightsOnce:
    """A renderer mixin: a font's ascent, descent and line gap computed once per process.

    To place every text, matplotlib (3.10+) reads these from the font's tables: it looks
    the font file up and opens its OS/2 and head tables each time (about 5 % of a report's
    profile). It asks the renderer first (``_get_font_height_metrics``, a hook meant for the
    PDF backend), so a renderer can answer from a cache; the values are those matplotlib
    computes (``matplotlib.text.Text._get_layout``), at the renderer's resolution, keyed on
    the font properties and what resolves their family.
    """

    def _get_font_height_metrics(self, prop: Any) -> tuple[float | None, ...]:
        import matplotlib
        from matplotlib.font_manager import fontManager, get_font

        rc = matplotlib.rcParams
        dpi = getattr(self, "dpi", 72.0)  # Agg: its own, the figure's; SVG: 72 while printing
        key = (
            prop.copy(),
            dpi,
            tuple(tuple(rc[name]) for name in _FONT_LISTS),
            len(fontManager.ttflist),
        )
        heights = _FONT_HEIGHTS.get(key)
        if heights is None:
            font = get_font(fontManager._find_fonts_by_props(prop))
            for table_name, gap, ascent, descent in (
                ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                ("hhea", "lineGap", "ascent", "descent"),
            ):
                table = font.get_sfnt_table(table_name)
                if table is None:
                    continue
                units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
                scale = 1 / units_per_em * prop.get_size_in_points() * dpi / 72
                heights = (table[ascent] * scale, -table[descent] * scale, table[gap] * scale)
                break
            else:
                return None, None, None  # matplotlib measures "lp" instead
            _FONT_HEIGHTS[key] = heights
        return heights


@cache
def _measuring_renderer(dpi: float) -> Any:
    """One renderer per process that only measures text: matplotlib caches text sizes per
    renderer, so labels every chart repeats (quarters, district names) are measured once;
    font heights are read once (:class:`_FontHeightsOnce`)."""
    from matplotlib.backends.backend_agg import RendererAgg

    class MeasuringRendererAgg(_FontHeightsOnce, RendererAgg):
        pass

    return MeasuringRendererAgg(1, 1, dpi)


def _tick_places(ax: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Where the axes would draw its major ticks now: the locators' answer (cheap: no tick
    is updated and no text measured). A tick's label is its formatter's text for its place,
    so the same places give the same labels."""
    return (
        tuple(ax.xaxis.get_majorticklocs().tolist()),
        tuple(ax.yaxis.get_majorticklocs().tolist()),
    )


MARGIN_IN = 0.08
"""The white space kept between a chart's outermost text and the figure's edge (inches)."""


def fit_layout(fig: Any) -> Any:
    """Set the margins of a one-axes figure so that its texts fit inside the figure.

    Measures the axes' tight box once (tick labels, axis labels, title, a legend placed
    outside) and gives the plot the rest; it measures again only if the resized plot would
    draw other tick labels. Constrained layout does the same by drawing the figure twice
    (measured in ``docs/benchmarks.md``). An axis without a label keeps no room for one and
    is not re-placed at every draw. A figure with a layout engine or several axes is left
    alone.

    Returns:
        The figure.
    """
    if len(fig.axes) != 1 or fig.get_layout_engine() is not None:
        return fig
    (ax,) = fig.axes
    for axis in (ax.xaxis, ax.yaxis):
        if not axis.label.get_text():  # no axis label: it takes no room and is not placed
            axis.label.set_visible(False)
            axis.set_label_coords(0.5, 0.5)  # (matplotlib re-places a label at every draw)
    renderer = _measuring_renderer(fig.dpi)
    width, height = fig.get_size_inches()
    dpi = fig.dpi
    ticks = _tick_places(ax)
    for _ in range(4):  # until it holds: the ticks may change with the plot's size
        box = ax.get_window_extent(renderer)
        tight = ax.get_tightbbox(renderer)
        left = (box.x0 - tight.x0) / dpi + MARGIN_IN
        right = (tight.x1 - box.x1) / dpi + MARGIN_IN
        bottom = (box.y0 - tight.y0) / dpi + MARGIN_IN
        top = (tight.y1 - box.y1) / dpi + MARGIN_IN
        new = (left / width, 1 - right / width, bottom / height, 1 - top / height)
        old = fig.subplotpars
        moved = (new[0] - old.left, new[1] - old.right, new[2] - old.bottom, new[3] - old.top)
        if max(map(abs, moved)) < 1e-3:
            break
        fig.subplots_adjust(left=new[0], right=new[1], bottom=new[2], top=new[3])
        resized = _tick_places(ax)
        if resized == ticks:  # the same labels around a resized plot: nothing moves
            break
        ticks = resized
    return fig


def _styled(fn: Any) -> Any:
    """Run a chart builder inside the Thai rc context (fonts resolve at draw time too)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with matplotlib.rc_context(_rc()):
            return fn(*args, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def figure_png(fig: Any) -> bytes:
    """Return the figure as PNG bytes, without a date in the metadata (deterministic)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(_rc()):
        fit_layout(fig)
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


SVG_TEXT_SIZES = 8192
"""How many text measurements the SVG renderer keeps per process (:func:`_svg_canvas`)."""


@cache
def _svg_canvas() -> type:
    """matplotlib's SVG canvas, with a renderer that measures each text once per process.

    To place a label, matplotlib's SVG renderer measures it with FreeType (the Thai text
    shaped, about half a millisecond a label), and it measures it again in every figure: its
    cache of sizes lives as long as one renderer, and each saved figure has its own. A
    report's charts repeat most of their labels (quarters, months, target marks, report
    after report in a batch worker), so the sizes are kept per process, keyed on everything
    the measurement reads (the text, the font properties and file, the resolution and the
    hinting settings): the same figure gives the same bytes (tested against matplotlib's own
    canvas), in about a sixth less time (``docs/benchmarks.md``). Font heights are read once
    too (:class:`_FontHeightsOnce`).
    """
    import codecs

    import matplotlib
    from matplotlib import cbook, font_manager
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG

    sizes: dict[tuple[Any, ...], tuple[float, float, float]] = {}

    class MeasuringOnceRendererSVG(_FontHeightsOnce, RendererSVG):
        def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> Any:
            if ismath:  # mathtext and TeX: measured as matplotlib does
                return super().get_text_width_height_descent(s, prop, ismath)
            rc = matplotlib.rcParams
            key = (
                s,
                prop.copy(),
                font_manager.findfont(prop),
                self.points_to_pixels(72),
                rc["text.hinting"],
                rc["text.hinting_factor"],
            )
            size = sizes.get(key)
            if size is None:
                if len(sizes) >= SVG_TEXT_SIZES:
                    sizes.clear()
                size = sizes[key] = super().get_text_width_height_descent(s, prop, ismath)
            return size

    class MeasuringOnceCanvasSVG(FigureCanvasSVG):
        def print_svg(
            self,
            filename: Any,
            *,
            bbox_inches_restore: Any = None,
            metadata: Any = None,
            **_drawn_by_the_figure: Any,  # facecolor, edgecolor...: set on the figure
        ) -> None:
            """matplotlib's ``FigureCanvasSVG.print_svg`` (3.8-3.11) with the renderer above
            (``savefig`` passes every print method ``facecolor``, ``edgecolor``,
            ``orientation`` and ``dpi``; matplotlib drops the ones its own SVG method does not
            take, and this one takes and ignores them alike)."""
            with cbook.open_file_cm(filename, "w", encoding="utf-8") as fh:
                if not cbook.file_requires_unicode(fh):
                    fh = codecs.getwriter("utf-8")(fh)
                dpi = self.figure.dpi
                self.figure.dpi = 72
                width, height = self.figure.get_size_inches()
                w, h = width * 72, height * 72
                renderer = MixedModeRenderer(
                    self.figure,
                    width,
                    height,
                    dpi,
                    MeasuringOnceRendererSVG(w, h, fh, image_dpi=dpi, metadata=metadata),
                    bbox_inches_restore=bbox_inches_restore,
                )
                self.figure.draw(renderer)
                renderer.finalize()

    return MeasuringOnceCanvasSVG


def figure_svg(fig: Any) -> str:
    """Return the figure as an SVG document whose text stays text (``svg.fonttype: none``).

    The labels are ``<text>`` elements in the Sarabun family, which every rendered report
    embeds once (:func:`kpilib.render.font_face_css`), so the browser shapes the Thai text
    with the page's font; no date and a fixed id salt, so the same figure gives the same
    text. Saved through :func:`_svg_canvas` (labels measured once per process).
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({**_rc(), "svg.fonttype": "none"}):
        fit_layout(fig)
        _svg_canvas()(fig)  # the figure's canvas from now on: savefig prints with it
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]  # inline: no XML declaration or DOCTYPE


def figure_html(fig: Any, *, alt: str = "") -> str:
    """Return a ``<figure>`` holding the chart as inline SVG (vector, text as text).

    Measured against an embedded PNG (``docs/benchmarks.md``): about a quarter less CPU per
    report (no rasterising, no PNG compression) and a third of the bytes; sharp at any zoom
    and in print. The SVG is labelled for screen readers (``role="img"``, ``aria-label``).

    Args:
        fig: A matplotlib figure.
        alt: Alternative text (escaped).

    Returns:
        HTML text; opens offline.
    """
    return svg_figure_html(figure_svg(fig), alt=alt)


def svg_figure_html(svg: str, *, alt: str = "", caption: str = "") -> str:
    """Return a ``<figure>`` holding an SVG chart (:func:`figure_svg`), labelled for screen
    readers, with an optional caption above it (alt text and caption escaped)."""
    label = html.escape(alt)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="kpi-chart">{cap}{svg}</figure>'


def thai_month_label(year: int, month: int) -> str:
    """Return a short Thai month label with the BE year, e.g. ``ต.ค. 66``."""
    return f"{MONTHS_SHORT[month - 1]} {(year + 543) % 100:02d}"


def wrap_title(title: str, width: int = 48) -> str:
    """Wrap a chart title at spaces into lines of about ``width`` characters (never mid-word).

    Thai writes no spaces between words, so a long run without spaces stays whole on its line;
    :func:`fit_layout` then keeps it inside the figure instead of cutting it.
    """
    lines = []
    for line in title.split("\n"):
        lines.extend(textwrap.wrap(line, width=width, break_long_words=False) or [""])
    return "\n".join(lines)


def with_thai_digits(fig: Any) -> Any:
    """Draw every number of a figure in Thai digits (the report's ``numerals="thai"``):
    titles, labels, annotations and tick labels (each axis's formatter is wrapped)."""
    from matplotlib.text import Text
    from matplotlib.ticker import Formatter

    from kpilib.calendar import to_thai_digits

    class ThaiDigits(Formatter):
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def set_axis(self, axis: Any) -> None:
            super().set_axis(axis)
            self.inner.set_axis(axis)

        def set_locs(self, locs: Any) -> None:
            self.inner.set_locs(locs)

        def __call__(self, x: float, pos: int | None = None) -> str:
            return to_thai_digits(self.inner(x, pos))

        def format_ticks(self, values: Any) -> list[str]:
            return [to_thai_digits(t) for t in self.inner.format_ticks(values)]

        def get_offset(self) -> str:
            return to_thai_digits(self.inner.get_offset())

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(ThaiDigits(axis.get_major_formatter()))
    for text in fig.findobj(Text):
        text.set_text(to_thai_digits(text.get_text()))
    return fig


def _label_clip(anchor: float) -> bool | None:
    """matplotlib's ``annotation_clip`` for a value label anchored at ``anchor`` on the value
    axis, which starts at 0 in every chart: an anchor at or above 0 is on the plot, so the
    check matplotlib makes at every measurement and draw, that it lies inside the axes, is
    skipped (about a millisecond a label, a few dozen labels a report, the same drawing); a
    negative one is left to that check (its label hidden below the plot, as before)."""
    return None if anchor < 0 else False


_LABEL_BOX = {
    "boxstyle": "square,pad=0.15",
    "facecolor": "white",
    "edgecolor": "none",
    "alpha": 0.85,
}
"""A white ground under a value label, so a line drawn across it does not hide it."""


def _empty(ax: Any, text: str = "ไม่มีข้อมูล") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=14)
    ax.set_xticks([])
    ax.set_yticks([])


# ---------------------------------------------------------------- charts


@_styled
def result_by_quarter(
    rows: Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    title: str,
    unit_label: str = "",
) -> Any:
    """Bar chart of a KPI's result per quarter, with its target and quarterly plan.

    Labelled directly: each bar carries its value, the target is the one mark on the value
    axis (beside its dashed line) and the plan line says "แผน" beside its last point, so the
    chart needs no legend and no value scale (fewer, larger texts: legible on a phone, and
    about a third cheaper to draw, ``docs/benchmarks.md``). The value's unit is in the title.
    The axis always has the fiscal year's four quarters, so a bar has the same width in every
    quarter's report and the quarters still to come show as empty places.

    Args:
        rows: One row per quarter with ``quarter`` (1-4), ``value`` (result or None), and
            optionally ``target`` and ``plan``.
        title: Chart title (Thai).
        unit_label: The value's unit (e.g. ``ร้อยละ``), shown under the title.

    Returns:
        The figure.
    """
    df = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows)
    fig, ax = _figure(width=7.0, height=3.8)
    heading = wrap_title(title) + (f"\nหน่วย: {unit_label}" if unit_label else "")
    if df.empty:
        _empty(ax)
        ax.set_title(heading)
        return fig
    values = pd.to_numeric(df.get("value"), errors="coerce")
    x = [int(q) - 1 for q in df["quarter"]]  # the year's four quarters, filled as reported
    bars = ax.bar(x, values.fillna(0), color=_COLOURS["main"], width=0.55)
    plan = pd.to_numeric(df["plan"], errors="coerce") if "plan" in df else None
    target = pd.to_numeric(df["target"], errors="coerce").dropna() if "target" in df else None
    goal = float(target.iloc[-1]) if target is not None and not target.empty else None
    heights = (values.max(), plan.max() if plan is not None else None, goal)
    high = max((float(h) for h in heights if h is not None and not pd.isna(h)), default=0.0)
    for xi, v, bar in zip(x, values, bars, strict=True):
        text = "ไม่มีข้อมูล" if pd.isna(v) else f"{v:,.2f}"
        inside = not pd.isna(v) and v >= 0.12 * high  # tall enough to hold its label
        ax.annotate(  # inside the bar's top, white: the space above is the plan line's
            text,
            (xi, bar.get_height()),
            ha="center",
            va="top" if inside else "bottom",
            fontsize=10,
            color="white" if inside else "black",
            xytext=(0, -3 if inside else 2),
            textcoords="offset points",
            bbox=None if inside else _LABEL_BOX,
            zorder=4,  # over the plan line where they meet
            annotation_clip=_label_clip(bar.get_height()),
        )
    if plan is not None and plan.notna().any():
        ax.plot(x, plan, marker="o", color=_COLOURS["plan"], zorder=3)
        last = int(plan.notna().to_numpy().nonzero()[0][-1])
        ax.annotate(  # right of the last bar, level with the plan's last point
            "แผน",
            (x[last] + 0.3, float(plan.iloc[last])),
            ha="left",
            va="center",
            fontsize=10,
            color=_COLOURS["plan"],
            bbox=_LABEL_BOX,
            zorder=4,
            annotation_clip=_label_clip(float(plan.iloc[last])),
        )
    if goal is not None:
        ax.axhline(goal, color=_COLOURS["target"], linestyle="--")
        ax.set_yticks([goal], [f"ค่าเป้าหมาย {goal:g}"], color=_COLOURS["target"])
    else:
        ax.set_yticks([])
    ax.tick_params(axis="y", length=0)  # the label sits against its dashed line
    ax.spines["left"].set_visible(False)
    ax.set_xticks(range(4), [f"ไตรมาส {q}" for q in range(1, 5)])
    ax.set_xlim(-0.5, 3.5)
    ax.set_title(heading)
    ax.margins(y=0.15)
    ax.set_ylim(bottom=0)
    return fig


@_styled
def monthly_trend(frame: pd.DataFrame, *, title: str = "เรื่องร้องเรียนรับใหม่และเสร็จสิ้นรายเดือน") -> Any:
    """Line chart of complaints received and finished per month.

    Args:
        frame: Columns ``year`` (CE), ``month``, ``received``, ``finished``.
        title: Chart title.

    Returns:
        The figure.
    """
    fig, ax = _figure()
    if frame.empty:
        _empty(ax)
        ax.set_title(wrap_title(title))
        return fig
    labels = [
        thai_month_label(int(y), int(m)) for y, m in zip(frame["year"], frame["month"], strict=True)
    ]
    x = list(range(len(frame)))
    ax.plot(x, frame["received"], marker="o", color=_COLOURS["main"], label="รับเรื่อง")
    ax.plot(x, frame["finished"], marker="s", color=_COLOURS["second"], label="ดำเนินการเสร็จสิ้น")
    ax.set_xticks(x, labels, rotation=0)
    ax.set_ylabel("จำนวนเรื่อง")
    ax.set_xlabel("เดือน")
    ax.set_title(wrap_title(title))
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return fig


def district_rank(frame: pd.DataFrame, unit_code: str) -> tuple[int, int] | None:
    """``(position, of)`` of a unit among the districts with a value (1 = highest), or None."""
    values = pd.to_numeric(frame["value"], errors="coerce")
    ranked = frame.assign(value=values).dropna(subset=["value"])
    ranked = ranked.sort_values(["value", "unit_code"], ascending=[False, True])
    codes = list(ranked["unit_code"])
    return (codes.index(unit_code) + 1, len(codes)) if unit_code in codes else None


def unit_bar_id(unit_code: str) -> str:
    """The SVG id of a unit's bar in :func:`district_position` (``unit-1032``)."""
    return f"unit-{unit_code}"


@_styled
def district_position(
    frame: pd.DataFrame,
    *,
    unit_code: str | None,
    title: str,
    value_label: str = "ร้อยละ",
    target: float | None = None,
) -> Any:
    """Horizontal bars of every district's value, the reported unit highlighted.

    Each bar carries the SVG id :func:`unit_bar_id`, so a figure drawn once without a
    highlight (``unit_code=None``) can serve every district (:func:`highlight_unit`).

    Args:
        frame: Columns ``unit_code``, ``name`` (Thai), ``value`` (None = no data).
        unit_code: The unit to highlight (its rank is added to the title), or None.
        title: Chart title.
        value_label: Axis label for the values.
        target: Draw the KPI's target as a vertical line.

    Returns:
        The figure (tall enough for 50 districts).
    """
    df = frame.copy()
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    df = df.sort_values(["value", "unit_code"], ascending=[True, False], na_position="first")
    fig, ax = _figure(width=8.0, height=max(3.0, 0.2 * len(df) + 1.2))
    if df.empty:
        _empty(ax)
        ax.set_title(wrap_title(title))
        return fig
    colours = [
        _COLOURS["highlight"] if code == unit_code else _COLOURS["muted"]
        for code in df["unit_code"]
    ]
    y = list(range(len(df)))
    bars = ax.barh(y, df["value"].fillna(0), color=colours, height=0.7)
    for bar, code in zip(bars, df["unit_code"], strict=True):
        bar.set_gid(unit_bar_id(str(code)))
    ax.set_yticks(y, list(df["name"]), fontsize=8)
    if target is not None:
        ax.axvline(target, color=_COLOURS["target"], linestyle="--", label=f"ค่าเป้าหมาย {target:g}")
        ax.legend(frameon=False, loc="lower right")
    rank = district_rank(df, unit_code) if unit_code is not None else None
    if rank is not None:
        ax.set_title(wrap_title(f"{title}\nอันดับที่ {rank[0]} จาก {rank[1]} เขต"))
    else:
        ax.set_title(wrap_title(title))
    ax.set_xlabel(value_label)
    ax.set_ylabel("สำนักงานเขต")
    return fig


def highlight_unit(svg: str, unit_code: str) -> str:
    """Recolour one unit's bar in the SVG of a :func:`district_position` drawn without a
    highlight: the same picture as drawing it with ``unit_code``, without drawing again."""
    start = svg.find(f'<g id="{unit_bar_id(unit_code)}">')
    if start < 0:
        return svg
    end = svg.index("</g>", start)
    muted, red = f"fill: {_COLOURS['muted']}", f"fill: {_COLOURS['highlight']}"
    return svg[:start] + svg[start:end].replace(muted, red) + svg[end:]


@_styled
def complaints_by_type(
    counts: pd.Series, *, title: str = "เรื่องร้องเรียนแยกตามประเภท", top: int = 12
) -> Any:
    """Horizontal bars of complaint counts per type (the largest ``top`` types), each bar
    labelled with its count (no count scale).

    Args:
        counts: Count per type (index = Thai type name).
        title: Chart title.
        top: How many types to show; the rest are summed as ``อื่น ๆ``.

    Returns:
        The figure.
    """
    s = counts.sort_values(ascending=False)
    if len(s) > top:
        s = pd.concat([s.iloc[:top], pd.Series({"อื่น ๆ": s.iloc[top:].sum()})])
    s = s.iloc[::-1]
    fig, ax = _figure(width=8.0, height=max(2.5, 0.32 * len(s) + 1.2))
    if s.empty:
        _empty(ax)
        ax.set_title(wrap_title(title))
        return fig
    y = list(range(len(s)))
    ax.barh(y, s.values, color=_COLOURS["main"])
    ax.set_yticks(y, [str(i) for i in s.index])
    for yi, v in zip(y, s.values, strict=True):
        ax.annotate(
            f"{int(v):,}",
            (v, yi),
            va="center",
            fontsize=8,
            xytext=(3, 0),
            textcoords="offset points",
            annotation_clip=_label_clip(v),
        )
    ax.set_xticks([])  # each bar carries its count
    ax.spines["bottom"].set_visible(False)
    ax.set_title(wrap_title(title))
    ax.margins(x=0.1)
    return fig


@_styled
def backlog_ageing(counts: pd.Series, *, title: str = "อายุเรื่องค้างดำเนินการ") -> Any:
    """Bar chart of open complaints per ageing bucket (0–7 / 8–14 / 15–30 / 31+ days), each
    bar labelled with its count (no value scale).

    Args:
        counts: Count per bucket label, in bucket order (see :func:`kpilib.complaints.backlog_ageing`).
        title: Chart title.

    Returns:
        The figure.
    """
    fig, ax = _figure(width=7.0, height=3.6)
    x = list(range(len(counts)))
    colours = ["#66bb6a", "#ffca28", "#fb8c00", "#c62828"][: len(counts)]
    bars = ax.bar(x, counts.values, color=colours, width=0.6)
    for xi, bar in zip(x, bars, strict=True):
        ax.annotate(
            f"{int(bar.get_height()):,}",
            (xi, bar.get_height()),
            ha="center",
            va="bottom",
            xytext=(0, 2),
            textcoords="offset points",
            annotation_clip=_label_clip(bar.get_height()),
        )
    ax.set_xticks(x, [str(i) for i in counts.index])
    ax.set_yticks([])  # each bar carries its count
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("อายุเรื่องนับจากวันที่รับแจ้ง")
    ax.set_title(wrap_title(title) + "\nหน่วย: เรื่องที่ยังไม่เสร็จ")
    ax.margins(y=0.15)
    return fig


@_styled
def time_to_finish(days: pd.Series, *, title: str = "ระยะเวลาดำเนินการจนเสร็จสิ้น") -> Any:
    """Histogram of days from receipt to finish.

    Args:
        days: Days to finish, one value per finished complaint.
        title: Chart title.

    Returns:
        The figure.
    """
    fig, ax = _figure()
    d = pd.to_numeric(days, errors="coerce").dropna()
    if d.empty:
        _empty(ax)
    else:
        upper = max(1.0, float(d.quantile(0.99)))
        ax.hist(d.clip(upper=upper), bins=30, color=_COLOURS["main"])
        ax.axvline(
            float(d.median()),
            color=_COLOURS["highlight"],
            linestyle="--",
            label=f"มัธยฐาน {d.median():.1f} วัน",
        )
        ax.legend(frameon=False)
        ax.set_xlabel("จำนวนวัน")
        ax.set_ylabel("จำนวนเรื่อง")
    ax.set_title(wrap_title(title))
    return fig


# ---------------------------------------------------------------- a report's charts


def kpi_figures(doc: ReportDocument) -> list[tuple[str, str, Any]]:
    """``(KPI id, alt text, figure)``: each KPI's result by quarter with its plan and target.

    Only KPIs whose definition asks for the chart (``charts: [by_quarter]`` in
    ``params/kpis``) and that have a value in some quarter.
    """
    figs: list[tuple[str, str, Any]] = []
    for r in doc.scorecard.results:
        h = doc.history_of(r.kpi.id)
        if "by_quarter" not in r.kpi.charts or h is None:
            continue
        if all(q.value is None for q in h.quarters):
            continue
        rows = [
            {
                "quarter": q.quarter,
                "value": q.result if q.result is not None else q.value,
                "plan": q.plan,
                "target": r.kpi.target.value,
            }
            for q in h.quarters
        ]
        name = r.kpi.short_name_th or r.kpi.name_th
        figs.append(
            (
                r.kpi.id,
                f"ผลงานเทียบเป้าหมายรายไตรมาส: {name}",
                result_by_quarter(rows, title=f"ผลงานรายไตรมาส: {name}", unit_label=r.kpi.unit_th),
            )
        )
    return figs


RANKING_ALT = "ร้อยละเรื่องร้องเรียน Traffy Fondue ที่แก้ไขแล้ว เทียบ 50 สำนักงานเขต"
"""Alternative text of the district ranking chart."""


_RANKING_COLUMNS = ["unit_code", "name", "value"]

RankingRows = tuple[tuple[str, str, float | None], ...]


def _ranking_rows(doc: ReportDocument) -> RankingRows:
    """Every district's ``(unit_code, name, value)``: the ranking chart's data, hashable."""
    ranking = doc.charts.ranking if doc.charts is not None else ()
    return tuple((u.unit_code, u.name_th, u.value) for u in ranking)


def _ranking_frame(rows: RankingRows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=_RANKING_COLUMNS)


def _ranking_target(doc: ReportDocument) -> float | None:
    return doc.charts.ranking_target if doc.charts is not None else None


def _ranking_title(doc: ReportDocument) -> str:
    return f"ร้อยละเรื่องที่แก้ไขแล้ว (Traffy Fondue) ณ{NBSP}สิ้นไตรมาส{NBSP}{doc.period.quarter}"


def _ranking_figure(doc: ReportDocument, unit_code: str | None) -> Any:
    frame = _ranking_frame(_ranking_rows(doc))
    return district_position(
        frame, unit_code=unit_code, title=_ranking_title(doc), target=_ranking_target(doc)
    )


def complaint_figures(doc: ReportDocument, *, ranking: bool = True) -> list[tuple[str, Any]]:
    """``(alt text, figure)`` for the complaint charts: the monthly trend (districts), the
    district comparison (unless ``ranking=False``), complaints by type (with a note when
    tags overlap) and the backlog's age; none without complaint data."""
    from kpilib import calendar as cal

    figs: list[tuple[str, Any]] = []
    c = doc.charts
    if c is None:
        return figs
    if c.monthly:
        frame = pd.DataFrame([m.model_dump() for m in c.monthly])
        figs.append(
            (
                "เรื่องร้องเรียนรับใหม่และเสร็จสิ้นรายเดือน",
                monthly_trend(frame, title=f"เรื่องร้องเรียนรับใหม่และเสร็จสิ้นรายเดือน – {c.scope_th}"),
            )
        )
    if c.ranking and ranking:
        figs.append((RANKING_ALT, _ranking_figure(doc, doc.unit.code)))
    if c.by_type:
        counts = pd.Series({t.label: t.count for t in c.by_type})
        title = f"เรื่องร้องเรียนแยกตามประเภท – {c.scope_th}"
        if int(counts.sum()) > c.by_type_tickets:
            title += (
                f"\n(รวม {int(counts.sum()):,} ครั้งจาก {c.by_type_tickets:,} เรื่อง:"
                " เรื่องหนึ่งอาจมีหลายประเภท)"
            )
        figs.append(("เรื่องร้องเรียนแยกตามประเภท", complaints_by_type(counts, title=title)))
    if c.ageing:
        as_of = cal.format_thai_date(doc.period.as_of, style="short")
        figs.append(
            (
                "อายุเรื่องค้างดำเนินการ",
                backlog_ageing(
                    pd.Series({a.label: a.count for a in c.ageing}),
                    title=f"อายุเรื่องค้างดำเนินการ (วัน) ณ{NBSP}{as_of}",
                ),
            )
        )
    return figs


@lru_cache(maxsize=8)
def _shared_ranking_svg(rows: RankingRows, title: str, target: float | None, numerals: str) -> str:
    """The ranking chart without a highlight, drawn once per set of arguments."""
    fig = district_position(_ranking_frame(rows), unit_code=None, title=title, target=target)
    return figure_svg(with_thai_digits(fig) if numerals == "thai" else fig)


def ranking_svg(doc: ReportDocument) -> str:
    """The district ranking chart of a report as SVG, the report's unit in red.

    Every district's report of a quarter shows the same bars; only the red one differs. The
    chart is drawn once per ranking, title and numeral style in a process (a batch worker
    draws it once per quarter instead of once per report; at 1,000 districts this chart
    alone took 14.7 s) and the unit's bar is recoloured (:func:`highlight_unit`).
    """
    rows, target = _ranking_rows(doc), _ranking_target(doc)
    svg = _shared_ranking_svg(rows, _ranking_title(doc), target, doc.numerals)
    return highlight_unit(svg, doc.unit.code)


def ranking_caption(doc: ReportDocument) -> str:
    """``เขตประเวศ: อันดับที่ 48 จาก 50 เขต (แถบสีแดง)``, or "" when the unit has no value."""
    rank = district_rank(_ranking_frame(_ranking_rows(doc)), doc.unit.code)
    if rank is None:
        return ""
    return f"{doc.unit.name_th}: อันดับที่ {rank[0]} จาก {rank[1]} เขต (แถบสีแดง)"


def complaint_charts_html(doc: ReportDocument) -> list[str]:
    """The complaint charts of a report as ``<figure>`` HTML, in report order (as
    :func:`complaint_figures`; the district ranking from :func:`ranking_svg`)."""
    out: list[str] = []
    for alt, fig in complaint_figures(doc, ranking=False):
        out.append(figure_html(localised(doc, fig), alt=alt))
    if doc.charts is not None and doc.charts.ranking:
        position = 1 if doc.charts.monthly else 0
        caption = ranking_caption(doc)
        out.insert(position, svg_figure_html(ranking_svg(doc), alt=RANKING_ALT, caption=caption))
    return out


def report_figures(doc: ReportDocument) -> list[tuple[str, Any]]:
    """``(alt text, figure)`` for every chart of a report document, in report order."""
    return [(alt, fig) for _, alt, fig in kpi_figures(doc)] + complaint_figures(doc)


def localised(doc: ReportDocument, fig: Any) -> Any:
    """The figure in the report's numeral style (:func:`with_thai_digits` for ``thai``)."""
    return with_thai_digits(fig) if doc.numerals == "thai" else fig
