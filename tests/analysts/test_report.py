"""The rendered artefacts, checked for content: the timeline chart (PNG and HTML) and the report."""

from __future__ import annotations

import io
import re
import struct
from datetime import UTC, datetime

import numpy as np
from matplotlib import image as mpimg

from models import history
from pipeline.charts import PALETTE, QUIET_COLOUR, png_bytes, svg_text, timeline_figure
from pipeline.report import _link, evidence_html
from tests.analysts.seed import NOW

SEED_IDS = ("c2a", "c2a.3", "c2a.3.7", "c2a.4", "c2a.4.2", "c2a.7", "c2a.7.4", "hr75.1", "ngo", "ngo.8")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def colour_share(
    pixels: np.ndarray, hex_colour: str, *, alpha: float = 1.0, tolerance: float = 0.04
) -> float:
    """Share of pixels within ``tolerance`` of a colour (blended over white at ``alpha``)."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    target = alpha * rgb + (1 - alpha) * np.ones(3)
    close = np.all(np.abs(pixels[..., :3] - target) <= tolerance, axis=-1)
    return float(close.mean())


def assert_self_contained(page: str) -> None:
    """No script, no resource fetched from anywhere: the page renders offline, as mailed."""
    assert "<script" not in page.lower()
    assert not re.search(r"<(img|link|iframe|object|embed)\b", page, re.I)
    assert not re.search(r"\bsrc\s*=", page, re.I)
    assert "@import" not in page and not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    # the only href values: in-page anchors, in-SVG references, and links to statements
    for href in re.findall(r'href="([^"]*)"', page):
        assert href.startswith(("#", "https://", "http://")), href


def test_timeline_png_has_bars_and_quiet_shading(cli, tmp_path):
    target = tmp_path / "charts" / "c2a.7.4.png"
    result = cli("timeline", "-c", "c2a.7.4", "--by", "quarter", "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert f"chart written to {target}" in result.stdout.replace("\n", "")
    data = target.read_bytes()
    assert png_size(data) == (900, 360)
    pixels = mpimg.imread(target)
    assert pixels.shape[:2] == (360, 900)
    assert colour_share(pixels, "#FFFFFF", tolerance=0.01) < 0.9, "the chart is blank"
    assert colour_share(pixels, PALETTE[0]) > 0.01  # OHCHR, first publisher, bars
    assert colour_share(pixels, PALETTE[1]) > 0.005  # Human Rights Watch, second publisher
    assert colour_share(pixels, QUIET_COLOUR, alpha=0.6) > 0.05  # the quiet year, shaded


def test_timeline_html_is_self_contained(cli, tmp_path):
    target = tmp_path / "c2a.7.4.html"
    assert cli("timeline", "-c", "c2a.7.4", "--plot", str(target)).exit_code == 0
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert "c2a.7.4 — A ban on lethal autonomous weapon systems" in page
    assert "2025-05" in page and "quiet" in page and "Human Rights Watch" in page
    assert_self_contained(page)


def test_chart_of_a_commitment_with_many_publishers_and_no_references(seeded):
    with seeded.factory() as s:
        empty = history.commitment_timeline(s, "hr75.1", now=NOW)
        busy = history.commitment_timeline(s, "c2a", by="month", now=NOW)
    blank = mpimg.imread(io.BytesIO(png_bytes(timeline_figure(empty))), format="png")
    assert colour_share(blank, "#FFFFFF", tolerance=0.01) > 0.95  # only the "no references yet" note
    svg = svg_text(timeline_figure(busy), element_id="tl-c2a")
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert "NGO Coalition &lt;Rights &amp; Co&gt;" in svg  # scraped names escaped inside the SVG
    ids = re.findall(r' id="([^"]+)"', svg)
    assert ids and all(i.startswith("tl-c2a-") for i in ids)


def test_report_content(cli, seeded, tmp_path):
    target = tmp_path / "report.html"
    result = cli("report", "--since", "2025-01-01", "--out", str(target))
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert_self_contained(page)
    # every commitment, with its status
    for cid in SEED_IDS:
        assert f">{cid}<" in page, cid
    assert 'class="badge s-quiet"' in page and 'class="badge s-muted"' in page
    assert "until 2027-01-01: expected lull during the court case" in page
    # one chart per referenced commitment, inline
    assert page.count("<svg") == 9 and 'id="timeline-c2a.7.4"' in page
    # the newest references, evidence escaped, cue marked
    assert (
        "A treaty on <mark>lethal autonomous weapon</mark> systems &lt;b&gt;now&lt;/b&gt; &amp; &quot;without delay&quot;"
        in page
    )
    assert "<b>now</b>" not in page
    assert "Parity &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; leadership" in page
    assert "Human Rights Day 2024" not in page  # before the window
    # source health
    for key in ("ohchr-press", "un-news-fr", "hrw-news", "ngo-coalition"):
        assert key in page
    assert "NGO Coalition &lt;Rights &amp; Co&gt;" in page and "NGO Coalition <Rights" not in page
    assert "failing since 2026-11-10" in page
    assert "HTTP 503 &lt;html&gt;Service Unavailable&lt;/html&gt;" in page
    assert "2025-01-01 to 2026-11-20" in page


def test_report_window_and_errors(cli, tmp_path):
    target = tmp_path / "october.html"
    ok = cli("report", "--since", "2026-10", "--until", "2026-10", "--out", str(target), "--newest", "5")
    assert ok.exit_code == 0, ok.output
    page = target.read_text(encoding="utf-8")
    assert "2026-10-01 to 2026-11-01" in page
    assert "No reference in this window." in page
    hrw = re.search(r"<tr><td>hrw-news</td>(.*?)</tr>", page, re.S)
    assert hrw is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", hrw.group(1))
    assert cells[4:7] == ["4", "3", "25%"]  # polls, failed, ok in October
    empty = cli("report", "--since", "2026-12-01", "--until", "2026-11-01", "--out", str(target))
    assert empty.exit_code == 2 and "window is empty" in empty.output


def test_links_and_evidence_are_escaped():
    assert _link("javascript:alert(1)", "click") == "click"
    assert _link('https://x.org/?a=1&b="2"', "<t>") == (
        '<a href="https://x.org/?a=1&amp;b=&quot;2&quot;" rel="noopener noreferrer">&lt;t&gt;</a>'
    )
    ref = history.ReferenceRow(
        reference_id=1,
        commitment_id="c",
        commitment_title="t",
        statement_id=1,
        version_id=1,
        version_seq=1,
        url="https://x.org",
        publisher=None,
        source_key=None,
        title=None,
        published_at=None,
        fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
        referenced_at=datetime(2025, 1, 1, tzinfo=UTC),
        lang="en",
        score=1.0,
        cue="<cue>",
        evidence="x" * 2000 + "<cue>" + "y" * 2000,
        evidence_start=100,
        start_offset=2100,
        end_offset=2105,
        method="rule",
        implied=False,
        is_new=True,
    )
    rendered = evidence_html(ref)
    assert "<mark>&lt;cue&gt;</mark>" in rendered and rendered.startswith("…") and rendered.endswith("…")
    assert len(rendered) < 700
