"""Timeline charts: new references per period, stacked by publisher, quiet spans shaded.

Drawn on a bare ``matplotlib.figure.Figure`` (no pyplot, no global state, no display), so the
CLI, the report and Airflow workers can render concurrently and headless. PNG for files,
SVG text for inlining into self-contained HTML.
"""

from __future__ import annotations

import io
import re

from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from models.history import Timeline

# Colour-blind-safe (Okabe-Ito), then a grey for everyone beyond the first eight publishers.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
OTHER_COLOUR = "#999999"
QUIET_COLOUR = "#F4C7C3"
MAX_PUBLISHERS = len(PALETTE)
OTHER = "other publishers"


def _plain(text: str) -> str:
    """Scraped names reach matplotlib text: a '$' would otherwise start mathtext."""
    return text.replace("$", r"\$")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def publisher_series(timeline: Timeline) -> dict[str, list[int]]:
    """Counts per period for each publisher drawn; beyond the palette, folded into 'other'."""
    shown = timeline.publishers[:MAX_PUBLISHERS]
    folded = timeline.publishers[MAX_PUBLISHERS:]
    series = {p: [period.by_publisher.get(p, 0) for period in timeline.periods] for p in shown}
    if folded:
        series[OTHER] = [sum(period.by_publisher.get(p, 0) for p in folded) for period in timeline.periods]
    return series


def timeline_figure(timeline: Timeline, *, width_in: float = 9.0, height_in: float = 3.6) -> Figure:
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    ax = fig.add_subplot()
    title = _plain(f"{timeline.commitment_id} — {_short(timeline.title, 70)}")
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_ylabel(f"new references per {timeline.by}", fontsize=8)
    if not timeline.periods:
        ax.text(0.5, 0.5, "no references yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig

    for start, end in timeline.quiet_spans:
        ax.axvspan(mdates.date2num(start), mdates.date2num(end), color=QUIET_COLOUR, alpha=0.6, lw=0)

    lefts = [mdates.date2num(p.start) for p in timeline.periods]
    widths = [(p.end - p.start).total_seconds() / 86400 * 0.8 for p in timeline.periods]
    offsets = [(p.end - p.start).total_seconds() / 86400 * 0.1 for p in timeline.periods]
    bottoms = [0] * len(timeline.periods)
    handles = []
    for index, (publisher, counts) in enumerate(publisher_series(timeline).items()):
        colour = OTHER_COLOUR if publisher == OTHER else PALETTE[index % len(PALETTE)]
        ax.bar(
            [left + off for left, off in zip(lefts, offsets, strict=True)],
            counts,
            width=widths,
            bottom=bottoms,
            align="edge",
            color=colour,
            edgecolor="white",
            linewidth=0.5,
        )
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
        handles.append(Patch(color=colour, label=_plain(_short(publisher, 40))))
    if timeline.quiet_spans:
        handles.append(
            Patch(color=QUIET_COLOUR, label=f"quiet: no new reference for > {timeline.threshold_days} days")
        )

    first, last = timeline.periods[0].start, timeline.periods[-1].end
    ax.set_xlim(mdates.date2num(first), mdates.date2num(last))
    ax.set_ylim(0, max(max(bottoms), 1) * 1.3)  # headroom for the legend
    locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper left", frameon=False, ncols=min(len(handles), 3))
    return fig


def png_bytes(fig: Figure, *, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*|<metadata>.*?</metadata>\s*", re.DOTALL)


_ID_REF = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


def svg_text(fig: Figure, *, element_id: str = "chart") -> str:
    """The figure as an inline ``<svg>`` element: text kept as text (searchable, small), no XML
    prolog, no DOCTYPE pointing at the W3C, no metadata, and every id (with every reference to
    it) prefixed, so that several charts share one HTML page without their ids colliding."""
    import matplotlib

    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", element_id)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": prefix}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOG.sub("", buffer.getvalue()).strip()
    return _ID_REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
