"""Dates as sites write them: ISO 8601, RFC 822, feedparser tuples, and "18 November 2026".

UN datelines ("GENEVA (18 November 2026) –", "NUEVA YORK, 3 de marzo de 2026") often carry
the only publication date of a page, in English, French or Spanish.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

MONTHS = {
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "janvier",
                "février",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "août",
                "septembre",
                "octobre",
                "novembre",
                "décembre",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "enero",
                "febrero",
                "marzo",
                "abril",
                "mayo",
                "junio",
                "julio",
                "agosto",
                "septiembre",
                "octubre",
                "noviembre",
                "diciembre",
            ]
        )
    },
    "fevrier": 2,
    "aout": 8,
    "decembre": 12,
    "setiembre": 9,
    **{
        m[:3]: i + 1
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        )
    },
    "sept": 9,
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?:de\s+)?({_MONTH})\.?,?\s+(?:de\s+)?(\d{{4}})\b", re.IGNORECASE
)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE)
_TZ_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_date(value: Any) -> datetime | None:
    """Any machine-written date to an aware UTC-based datetime; None if it is not one."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if hasattr(value, "tm_year"):  # feedparser's struct_time, already UTC
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except (TypeError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    iso = _TZ_NO_COLON.sub(r"\1:\2", text.replace("Z", "+00:00")) if "T" in text else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return date_in_text(text)
        if parsed is None:
            return None
    if not 1990 <= parsed.year <= 2100:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date_in_text(text: str) -> datetime | None:
    """The first human-written date in ``text`` ("18 November 2026", "3 de marzo de 2026")."""
    match = _DAY_MONTH_YEAR.search(text)
    if match:
        day, month, year = int(match.group(1)), MONTHS.get(match.group(2).lower()), int(match.group(3))
    else:
        match = _MONTH_DAY_YEAR.search(text)
        if not match:
            return None
        month, day, year = MONTHS.get(match.group(1).lower()), int(match.group(2)), int(match.group(3))
    if month is None or not 1990 <= year <= 2100:
        return None
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
