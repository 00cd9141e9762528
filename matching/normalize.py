"""Text normalisation that keeps a map back to the original characters.

Matching runs on folded text (case-folded, accents removed, compatibility characters and
typographic quotes unified) but evidence must point at the original text, so ``fold`` returns
the folded string together with, for each folded character, its offset in the original.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_SPECIAL = {
    "\u2019": "'",
    "\u2018": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00ad": "",  # soft hyphen (PDF and HTML artefact)
    "\u200b": "",
    "\u00a0": " ",
    "\u202f": " ",
    "\u0153": "oe",
    "\u0152": "oe",
    "\u00e6": "ae",
    "\u00df": "ss",
}


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if ch.isascii():
        return ch.lower()
    decomposed = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base.casefold()


def fold(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each of its characters, the index of the original character."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        folded = fold_char(ch)
        out.append(folded)
        offsets.extend([i] * len(folded))
    return "".join(out), offsets


def fold_plain(text: str) -> str:
    return "".join(fold_char(ch) for ch in text)
