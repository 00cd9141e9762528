"""Alerts on the console (no Slack configured): the same message, readable in a terminal.

The Block Kit message is turned back into styled text: links become "label (url)", bold is
bold, entities are decoded. Everything goes into ``rich.text.Text`` objects, never into rich
markup strings, so a scraped "[bold]" or "[/]" is printed as it is and cannot break printing.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from alerts.render import Message

_LINK = re.compile(r"<([^|>]+)\|([^>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_EMOJI = {
    ":pushpin:": "📌",
    ":zzz:": "💤",
    ":grey_question:": "❔",
    ":arrow_forward:": "▶",
    ":warning:": "⚠",
    ":white_check_mark:": "✅",
    ":newspaper:": "📰",
}


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _inline(text: str, out: Text, style: Style) -> None:
    """Bold spans, then entities; ``text`` holds no link."""
    pos = 0
    for m in _BOLD.finditer(text):
        out.append(_unescape(text[pos : m.start()]), style=style)
        out.append(_unescape(m.group(1)), style=style + Style(bold=True))
        pos = m.end()
    out.append(_unescape(text[pos:]), style=style)


def mrkdwn_to_text(mrkdwn: str) -> Text:
    """Our mrkdwn (links, bold, quotes, entities) as styled terminal text."""
    out = Text()
    for i, line in enumerate(mrkdwn.split("\n")):
        if i:
            out.append("\n")
        style = Style()
        if line.startswith(">"):
            out.append("│ ", style="dim")
            line, style = line[1:], Style(italic=True)
        pos = 0
        for m in _LINK.finditer(line):
            before, link_style = (
                line[pos : m.start()],
                style + Style(underline=True, link=_unescape(m.group(1))),
            )
            after = m.end()
            if before.endswith("*") and line[after : after + 1] == "*":  # *<url|label>*: a bold link
                before, after = before[:-1], after + 1
                link_style += Style(bold=True)
            _inline(before, out, style)
            url = _unescape(m.group(1))
            _inline(m.group(2), out, link_style)
            out.append(f" ({url})", style="dim")
            pos = after
        _inline(line[pos:], out, style)
    return out


def _title(text: str) -> str:
    for code, glyph in _EMOJI.items():
        text = text.replace(code, glyph)
    return text


def message_panel(message: Message, channel: str) -> Panel:
    """One alert message as a rich panel: header as title, sections and context as body."""
    title = ""
    parts: list[Any] = []
    for block in message.blocks:
        kind = block.get("type")
        if kind == "header":
            title = _title(block["text"]["text"])
        elif kind == "section":
            parts.append(mrkdwn_to_text(block["text"]["text"]))
        elif kind == "context":
            line = Text(style="dim")
            for j, el in enumerate(block.get("elements") or []):
                if j:
                    line.append(" · ")
                line.append_text(mrkdwn_to_text(el.get("text") or ""))
            parts.append(line)
    if not parts:
        parts.append(mrkdwn_to_text(message.text))
    return Panel(
        Group(*parts),
        title=Text(title or "alert", style="bold"),
        subtitle=Text(f"→ {channel} (Slack not configured: kept in the outbox)", style="dim"),
        title_align="left",
        subtitle_align="right",
    )


def print_message(message: Message, *, channel: str, echo: Any = print) -> None:
    """Print to a rich console when ``echo`` is one, else as plain text lines through ``echo``."""
    panel = message_panel(message, channel)
    if isinstance(getattr(echo, "__self__", None), Console):
        echo(panel)
        return
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None, force_terminal=False, emoji=False).print(panel)
    echo(buffer.getvalue().rstrip("\n"))
