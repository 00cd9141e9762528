"""The matcher: text in, references out, each with the cue that fired and its sentence."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from matching.catalog import LANGS, Catalog
from matching.normalize import fold, fold_plain

MATCHER_VERSION = "rules-0.1"
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")


@dataclass(frozen=True)
class Match:
    commitment: str
    score: float
    cue: str
    evidence: str
    start: int  # offsets of the cue in the original text
    end: int
    evidence_start: int = 0  # offset of the evidence sentence in the original text
    lang: str | None = None
    method: str = "rule"
    implied: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sentence_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence of ``text`` that contains [start, end), and its offset in ``text``."""
    left = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        left = m.end()
    m = _SENTENCE_END.search(text, end)
    right = m.start() if m else len(text)
    while left < right and text[left].isspace():
        left += 1
    return text[left:right].rstrip(), left


class Matcher:
    """Finds cue phrases (case- and accent-insensitive, on word boundaries)."""

    def __init__(self, catalog: Catalog, *, min_score: float = 1.0) -> None:
        self.catalog = catalog
        self.min_score = min_score
        self._patterns: list[tuple[str, str, re.Pattern[str]]] = []
        for entry in catalog:
            for lang in LANGS:
                for cue in entry.cues.get(lang, []):
                    folded = re.escape(fold_plain(cue)).replace(r"\ ", r"[\s\-]+")
                    self._patterns.append((entry.id, cue, re.compile(rf"(?<!\w){folded}(?!\w)")))

    def match(self, text: str, lang: str | None = None, title: str | None = None) -> list[Match]:
        folded, offsets = fold(text)
        best: dict[str, Match] = {}
        hits: dict[str, int] = {}
        for cid, cue, pattern in self._patterns:
            for m in pattern.finditer(folded):
                hits[cid] = hits.get(cid, 0) + 1
                if cid not in best:
                    start = offsets[m.start()]
                    end = offsets[m.end() - 1] + 1
                    sentence, at = sentence_around(text, start, end)
                    best[cid] = Match(cid, 0.0, cue, sentence, start, end, at, lang)
        out: dict[str, Match] = {}
        for cid, first in best.items():
            score = float(hits[cid])
            if score < self.min_score:
                continue
            out[cid] = Match(**{**first.as_dict(), "score": score})
            for parent in self.catalog.ancestors(cid):
                entry = self.catalog.get(parent)
                # Families (c2a, hr75, ngo) are only referenced when the text names the document.
                if entry is None or entry.level == "family":
                    continue
                if parent not in out and parent not in best:
                    out[parent] = Match(
                        **{**first.as_dict(), "commitment": parent, "score": score, "implied": True}
                    )
        return sorted(out.values(), key=lambda m: (m.start, m.commitment))
