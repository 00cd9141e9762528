"""Language of a statement: what the page declares, its URL, and a cheap look at its words.

The catalog has cues in English, French and Spanish, so those three are what matters; the
text check counts each language's commonest function words, which separates them reliably
on a paragraph or more and costs microseconds (no model, no download).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

LANG_IN_PATH = re.compile(r"/(en|fr|es|ar|ru|zh|pt|de)(?:/|$|[-_.])")
_WORD = re.compile(r"[a-záéíóúñüàâçèêëîïôùûœ']+")

_STOPWORDS = {
    "en": frozenset(
        [
            "the",
            "of",
            "and",
            "to",
            "in",
            "is",
            "that",
            "for",
            "on",
            "with",
            "as",
            "by",
            "are",
            "was",
            "it",
            "this",
            "be",
            "from",
            "at",
            "has",
            "have",
            "which",
            "its",
            "an",
            "not",
            "or",
            "their",
            "were",
            "been",
            "will",
            "said",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "des",
            "du",
            "de",
            "et",
            "est",
            "que",
            "qui",
            "dans",
            "pour",
            "sur",
            "une",
            "un",
            "au",
            "aux",
            "par",
            "pas",
            "ont",
            "sont",
            "été",
            "ce",
            "cette",
            "il",
            "elle",
            "avec",
            "son",
            "ses",
            "leur",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "del",
            "de",
            "y",
            "que",
            "en",
            "es",
            "por",
            "para",
            "con",
            "una",
            "un",
            "se",
            "su",
            "sus",
            "al",
            "como",
            "más",
            "fue",
            "han",
            "son",
            "ha",
            "este",
            "esta",
            "lo",
        ]
    ),
}


def normalise_code(value: str | None) -> str | None:
    """``en-GB`` / ``fr_FR`` / ``ES`` -> ``en`` / ``fr`` / ``es``; junk -> None."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def lang_from_url(url: str) -> str | None:
    match = LANG_IN_PATH.search(urlsplit(url).path)
    return match.group(1) if match else None


def guess_from_text(text: str, *, min_words: int = 30) -> tuple[str | None, float]:
    """The likeliest of en/fr/es and how decisive it is (best share of stopword hits)."""
    words = _WORD.findall(text[:5000].lower())
    if len(words) < min_words:
        return None, 0.0
    # each language's stopwords among the words, counted in C (map over a set's membership)
    scores = {lang: sum(map(stop.__contains__, words)) for lang, stop in _STOPWORDS.items()}
    total = sum(scores.values())
    if not total:
        return None, 0.0
    best = max(scores, key=lambda k: scores[k])
    return best, scores[best] / total


def detect_language(declared: str | None, url: str, text: str, hint: str | None = None) -> str | None:
    """Declared language, unless the text clearly says otherwise; then URL, text, the hint."""
    guessed, share = guess_from_text(text)
    decisive = guessed is not None and share >= 0.6
    code = normalise_code(declared)
    if code:
        if decisive and code in _STOPWORDS and guessed != code:
            return guessed  # a site template's lang="en" on a French page
        return code
    from_url = lang_from_url(url)
    if from_url:
        if decisive and guessed != from_url and from_url in _STOPWORDS:
            return guessed
        return from_url
    if decisive:
        return guessed
    return normalise_code(hint) or guessed
