"""The commitment catalog: one YAML entry per commitment, with cues in English, French and Spanish.

Cues come in three strengths (strong, medium, weak) because labels are topical: one strong phrase
("death penalty") says what a short text is about, while a weak word ("conflict") only counts next
to other evidence. Themes are concepts several commitments share on purpose (civic space is
c2a.4, hr75.1 and ngo.5 at once); an entry draws on a theme with a multiplier, which is also the
declared reason why those entries share cues. Any other overlap of cues (two entries, an entry and
a theme, two themes) is declared with ``shared_with: {other: reason}`` on either side; the catalog
linter (tests/matching/test_catalog.py) refuses an undeclared one.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from matching.normalize import LANGS

BUILTIN = Path(__file__).with_name("catalog.yaml")
ID_PATTERN = re.compile(r"^(c2a|hr75|ngo)(\.\d+){0,2}$")
TIERS = ("s", "m", "w")
DEFAULT_WEIGHTS = {"s": 4.0, "m": 2.0, "w": 1.0}
FAMILIES = ("c2a", "hr75", "ngo")


class CatalogError(ValueError):
    """The catalog file is invalid; the message names the entry."""


@dataclass(frozen=True)
class Cue:
    """One phrase of one language with its weight; ``owner`` is the entry id or 'theme:<name>'."""

    text: str
    lang: str
    weight: float
    owner: str


@dataclass(frozen=True)
class Theme:
    name: str
    title: str
    cues: tuple[Cue, ...]
    negatives: dict[str, list[str]]
    shared_with: dict[str, str] = field(default_factory=dict)  # owner -> why they share cues


@dataclass(frozen=True)
class Frame:
    """Words a text must hold somewhere (title or body, any language) before an entry that names
    this frame can be referenced: a commitment defined as "grounded in human rights" is not
    referenced by a climate or trade story that never speaks of rights."""

    name: str
    title: str
    words: dict[str, tuple[str, ...]]
    times: int = 1  # uses of the words the page must hold: more than one, for "more than in passing"


@dataclass(frozen=True)
class Entry:
    id: str
    parent: str | None
    title: str
    level: str  # family | top | action
    family: str
    source: str = ""
    quiet_days: int | None = None
    cues: dict[str, list[str]] = field(default_factory=dict)  # every phrase per language, themes included
    negatives: dict[str, list[str]] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)
    own_cues: tuple[Cue, ...] = ()
    themes: dict[str, float] = field(default_factory=dict)
    related: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    threshold: float | None = None
    frame: str | None = None  # the name of a ``Frame`` the text must hold, if any
    # Referenced only when the title or the text holds one of the entry's own strong cues: for an
    # action whose shared words (a theme, medium cues) belong as much to its neighbours as to it.
    needs_own_strong: bool = False
    # Other owners (entry ids, or 'theme:<name>') this entry shares cues with on purpose, and why.
    shared_with: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    entries: dict[str, Entry]
    digest: str
    themes: dict[str, Theme] = field(default_factory=dict)
    frames: dict[str, Frame] = field(default_factory=dict)
    default_threshold: float = 4.0
    level_thresholds: dict[str, float] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, commitment_id: str) -> Entry | None:
        return self.entries.get(commitment_id)

    def ancestors(self, commitment_id: str) -> list[str]:
        out: list[str] = []
        entry = self.entries.get(commitment_id)
        while entry is not None and entry.parent:
            out.append(entry.parent)
            entry = self.entries.get(entry.parent)
        return out

    def weighted_cues(self, entry: Entry) -> Iterator[tuple[Cue, float]]:
        """Every cue that counts for ``entry``, with the weight it carries for that entry."""
        for cue in entry.own_cues:
            yield cue, cue.weight
        for name, factor in entry.themes.items():
            for cue in self.themes[name].cues:
                yield cue, cue.weight * factor

    def threshold_of(self, entry: Entry) -> float:
        if entry.threshold is not None:
            return entry.threshold
        return self.level_thresholds.get(entry.level, self.default_threshold)


def level_of(commitment_id: str) -> str:
    depth = commitment_id.count(".")
    return ("family", "top", "action")[min(depth, 2)]


def _source_text(raw: Any) -> str:
    if isinstance(raw, dict):
        return " / ".join(str(v) for v in raw.values() if v)
    return str(raw or "")


def expand_alternatives(phrase: str, owner: str = "") -> list[str]:
    """The phrases one written cue stands for: "journalists | reporters ~ killed | jailed" is four
    proximity cues (every alternative of one part with every alternative of the others), so that
    an actor-by-act family of cues is written once and a new verb reaches every actor."""
    parts = [[alt.strip() for alt in part.split("|")] for part in phrase.split("~")]
    if any(not alt for part in parts for alt in part):
        raise CatalogError(f"{owner}: empty alternative or part in cue {phrase!r}")
    if all(len(part) == 1 for part in parts):
        return [phrase.strip()]
    return [" ~ ".join(combo) for combo in itertools.product(*parts)]


def _parse_cues(raw: Any, owner: str, weights: dict[str, float]) -> list[Cue]:
    """``{lang: {s: [...], m: [...], w: [...]}}`` or ``{lang: [...]}`` (all medium)."""
    out: list[Cue] = []
    if raw is None:
        return out
    if not isinstance(raw, dict):
        raise CatalogError(f"{owner}: cues must map a language to phrases")
    for lang, value in raw.items():
        if lang not in LANGS:
            raise CatalogError(f"{owner}: unknown cue language {lang!r}")
        tiers = value if isinstance(value, dict) else {"m": value}
        for tier, phrases in (tiers or {}).items():
            if tier not in weights:
                raise CatalogError(f"{owner}: unknown cue strength {tier!r} (use s, m or w)")
            for phrase in phrases or []:
                if not isinstance(phrase, str) or not phrase.strip():
                    raise CatalogError(f"{owner}: empty or non-text cue in {lang}/{tier}")
                for text in expand_alternatives(phrase, owner):
                    out.append(Cue(text, lang, float(weights[tier]), owner))
    return out


def _parse_negatives(raw: Any, owner: str) -> dict[str, list[str]]:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{owner}: negatives must map a language to phrases")
    return {
        lang: [text for p in raw.get(lang) or [] for text in expand_alternatives(str(p), owner)]
        for lang in LANGS
    }


def _parse_shared(raw: Any, owner: str) -> dict[str, str]:
    """``{other owner: reason}``: a declared, explained overlap of cues (the linter demands one)."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{owner}: shared_with must map an entry id or 'theme:<name>' to a reason")
    out: dict[str, str] = {}
    for other, reason in raw.items():
        if not isinstance(reason, str) or not reason.strip():
            raise CatalogError(f"{owner}: shared_with {other!r} needs a written reason")
        out[str(other)] = reason.strip()
    return out


def _parse_flag(raw: Any, owner: str, key: str) -> bool:
    if not isinstance(raw, bool):
        raise CatalogError(f"{owner}: {key} must be true or false")
    return raw


def _parse_frame(name: str, raw: Any) -> Frame:
    words = (raw or {}).get("words") if isinstance(raw, dict) else None
    if not isinstance(words, dict) or any(lang not in words or not words[lang] for lang in LANGS):
        raise CatalogError(f"frame {name!r} needs words in every language ({', '.join(LANGS)})")
    times = raw.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise CatalogError(f"frame {name!r}: times must be a whole number of 1 or more")
    return Frame(
        name, str(raw.get("title", name)), {lang: tuple(map(str, words[lang])) for lang in LANGS}, times
    )


def parse_catalog(data: dict[str, Any], *, digest: str = "") -> Catalog:
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise CatalogError("catalog needs a top-level 'entries:' list")
    weights = {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in (data.get("weights") or {}).items()}}
    defaults = data.get("defaults") or {}
    themes: dict[str, Theme] = {}
    for name, raw in (data.get("themes") or {}).items():
        owner = f"theme:{name}"
        themes[name] = Theme(
            name=name,
            title=str(raw.get("title", name)),
            cues=tuple(_parse_cues(raw.get("cues"), owner, weights)),
            negatives=_parse_negatives(raw.get("negatives"), owner),
            shared_with=_parse_shared(raw.get("shared_with"), owner),
        )
    frames = {str(name): _parse_frame(str(name), raw) for name, raw in (data.get("frames") or {}).items()}
    entries: dict[str, Entry] = {}
    for raw in data["entries"]:
        cid = str(raw.get("id", ""))
        if not ID_PATTERN.match(cid):
            raise CatalogError(f"invalid commitment id {cid!r}")
        if cid in entries:
            raise CatalogError(f"duplicate commitment id {cid!r}")
        own = _parse_cues(raw.get("cues"), cid, weights)
        entry_themes = {str(k): float(v) for k, v in (raw.get("themes") or {}).items()}
        for name in entry_themes:
            if name not in themes:
                raise CatalogError(f"{cid}: unknown theme {name!r}")
        negatives = _parse_negatives(raw.get("negatives"), cid)
        cues = {lang: [c.text for c in own if c.lang == lang] for lang in LANGS}
        for name in entry_themes:
            for lang in LANGS:
                cues[lang] += [c.text for c in themes[name].cues if c.lang == lang]
                negatives[lang] += themes[name].negatives.get(lang, [])
        threshold = raw.get("threshold")
        frame = raw.get("frame")
        if frame is not None and frame not in frames:
            raise CatalogError(f"{cid}: unknown frame {frame!r}")
        entries[cid] = Entry(
            id=cid,
            parent=raw.get("parent"),
            title=str(raw.get("title", "")),
            level=level_of(cid),
            family=cid.split(".")[0],
            source=_source_text(raw.get("source")),
            quiet_days=raw.get("quiet_days", defaults.get("quiet_days")),
            cues=cues,
            negatives=negatives,
            rules=dict(raw.get("rules") or {}),
            own_cues=tuple(own),
            themes=entry_themes,
            related=tuple(str(r) for r in raw.get("related") or []),
            requires=tuple(str(r) for r in raw.get("requires") or []),
            threshold=float(threshold) if threshold is not None else None,
            frame=frame,
            needs_own_strong=_parse_flag(raw.get("needs_own_strong", False), cid, "needs_own_strong"),
            shared_with=_parse_shared(raw.get("shared_with"), cid),
        )
    for entry in entries.values():
        if entry.parent and entry.parent not in entries:
            raise CatalogError(f"{entry.id}: parent {entry.parent!r} is not in the catalog")
        for other in (*entry.related, *entry.requires):
            if other not in entries:
                raise CatalogError(f"{entry.id}: related/required id {other!r} is not in the catalog")
    owners = set(entries) | {f"theme:{name}" for name in themes}
    for owner, shared in [(e.id, e.shared_with) for e in entries.values()] + [
        (f"theme:{t.name}", t.shared_with) for t in themes.values()
    ]:
        for other in shared:
            if other not in owners or other == owner:
                raise CatalogError(f"{owner}: shared_with names {other!r}, which is no other entry or theme")
    return Catalog(
        entries=entries,
        digest=digest,
        themes=themes,
        frames=frames,
        default_threshold=float(defaults.get("threshold", 4.0)),
        level_thresholds={k: float(v) for k, v in (defaults.get("level_thresholds") or {}).items()},
    )


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or BUILTIN
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc}") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog {path} is not valid YAML: {exc}") from exc
    return parse_catalog(data, digest=hashlib.sha256(raw).hexdigest()[:16])
