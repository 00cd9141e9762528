"""The catalog linter: ids, parents, languages, titles, thresholds, negatives and shared cues.

The identifiers come from ``../shared/CATALOG-IDS.md`` when it is there (read at test time, so a
new commitment in the scheme fails this test until the catalog has it); otherwise the catalog is
checked against the identifier scheme alone. Cues are compared as the matcher sees them (stems of
content words, per part of a proximity cue), so "executions" and "executed" count as one cue.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import pytest
import yaml

from matching.catalog import (
    BUILTIN,
    ID_PATTERN,
    Catalog,
    CatalogError,
    expand_alternatives,
    load_catalog,
    parse_catalog,
)
from matching.normalize import LANGS, TOKEN_RE, StemCache, phrase_keys
from tests.support.shared import SHARED

ROOT = Path(__file__).resolve().parents[2]
IDS_FILE = SHARED / "CATALOG-IDS.md"
SEEDS = SHARED / "seeds"

FAMILIES = {"c2a", "hr75", "ngo"}
# The scheme (CATALOG-IDS.md): c2a has 7 domains, hr75 8 messages, ngo 8 priorities; only c2a
# domains have actions, numbered from 1 without gaps (the launch-speech pledges continue it).
TOP_COUNT = {"c2a": 7, "hr75": 8, "ngo": 8}
PLACEHOLDER = re.compile(r"\b(todo|tbd|fixme|xxx+|lorem|ipsum|placeholder|untitled|title)\b|^\W*$", re.I)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(BUILTIN.read_text(encoding="utf-8"))


def scheme_ids(text: str) -> list[str]:
    """Every identifier CATALOG-IDS.md defines: table rows, plus the family ids of the headings."""
    families = re.findall(r"^##\s+`(c2a|hr75|ngo)`", text, re.M)
    rows = re.findall(r"^\|\s*`?((?:c2a|hr75|ngo)(?:\.\d+)+)`?\s*\|", text, re.M)
    return families + rows


def scheme_action_counts(text: str) -> dict[str, int]:
    """'Counts: c2a.1: 4, c2a.2: 4, ...' -> {'c2a.1': 4, ...} (the ACTIONS bullets only)."""
    line = re.search(r"^Counts:(.*)$", text, re.M)
    return {d: int(n) for d, n in re.findall(r"(c2a\.\d+):\s*(\d+)", line.group(1))} if line else {}


def fits_scheme(cid: str) -> bool:
    if cid in FAMILIES:
        return True
    parts = cid.split(".")
    if not ID_PATTERN.match(cid) or any(p.startswith("0") for p in parts[1:]):
        return False
    family, numbers = parts[0], [int(p) for p in parts[1:]]
    if not 1 <= numbers[0] <= TOP_COUNT[family]:
        return False
    return len(numbers) == 1 or (family == "c2a" and len(numbers) == 2 and numbers[1] >= 1)


def expected_parent(cid: str) -> str | None:
    return None if cid in FAMILIES else cid.rsplit(".", 1)[0]


def cue_key(text: str, lang: str, cache: StemCache) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(phrase_keys(part, lang, cache)) for part in text.split("~"))


# ---------------------------------------------------------------------------------------- ids


def check_ids(in_yaml: Counter, ids_file: Path) -> None:
    duplicates = sorted(cid for cid, n in in_yaml.items() if n > 1)
    assert not duplicates, f"ids listed more than once: {duplicates}"
    if ids_file.exists():
        text = ids_file.read_text(encoding="utf-8")
        wanted = scheme_ids(text)
        assert len(wanted) == len(set(wanted)), "CATALOG-IDS.md itself lists an id twice"
        missing = sorted(set(wanted) - set(in_yaml))
        unknown = sorted(set(in_yaml) - set(wanted))
        assert not missing, f"ids of CATALOG-IDS.md missing from the catalog: {missing}"
        assert not unknown, f"catalog ids that CATALOG-IDS.md does not define: {unknown}"
        for domain, count in scheme_action_counts(text).items():
            for n in range(1, count + 1):
                assert f"{domain}.{n}" in in_yaml, f"{domain}.{n}: ACTIONS bullet missing"
    else:  # the scheme alone: families, every domain/message/priority, actions numbered without gaps
        assert set(in_yaml) >= FAMILIES
        for family, count in TOP_COUNT.items():
            for n in range(1, count + 1):
                assert f"{family}.{n}" in in_yaml, f"{family}.{n} missing"
        actions = defaultdict(set)
        for cid in in_yaml:
            assert fits_scheme(cid), f"{cid}: not an id of the scheme"
            if cid.count(".") == 2:
                domain, n = cid.rsplit(".", 1)
                actions[domain].add(int(n))
        for domain, numbers in actions.items():
            assert numbers == set(range(1, max(numbers) + 1)), f"{domain}: action numbers have gaps"


def test_every_id_of_the_scheme_is_present_exactly_once(raw, catalog):
    in_yaml = Counter(str(entry.get("id")) for entry in raw["entries"])
    check_ids(in_yaml, IDS_FILE)
    assert len(catalog) == len(in_yaml)


def test_the_id_check_without_the_scheme_file(raw, tmp_path):
    """Where CATALOG-IDS.md is absent the scheme's shape still holds, and gaps or twins are caught."""
    in_yaml = Counter(str(entry.get("id")) for entry in raw["entries"])
    check_ids(in_yaml, tmp_path / "absent.md")
    with pytest.raises(AssertionError, match="gaps"):
        check_ids(in_yaml - Counter(["c2a.3.2"]), tmp_path / "absent.md")
    with pytest.raises(AssertionError, match="more than once"):
        check_ids(in_yaml + Counter(["ngo.8"]), tmp_path / "absent.md")
    if IDS_FILE.exists():
        with pytest.raises(AssertionError, match="missing"):
            check_ids(in_yaml - Counter(["hr75.4"]), IDS_FILE)


def test_ids_and_parents_fit_the_scheme(catalog):
    for entry in catalog:
        assert fits_scheme(entry.id), f"{entry.id}: not an id of the scheme"
        assert entry.parent == expected_parent(entry.id), (
            f"{entry.id}: parent is {entry.parent!r}, the scheme says {expected_parent(entry.id)!r}"
        )
        if entry.parent is not None:
            assert entry.parent in catalog.entries, f"{entry.id}: parent {entry.parent} not in the catalog"
            assert fits_scheme(entry.parent)
        assert entry.level == ("family", "top", "action")[entry.id.count(".")]


@pytest.mark.parametrize("cid", ["c2a.0", "c2a.8", "hr75.9", "hr75.1.1", "ngo.2.1", "c2a.1.01", "un.1"])
def test_the_scheme_check_rejects_what_it_should(cid):
    assert not fits_scheme(cid)


# ---------------------------------------------------------------------------------------- content


def test_every_entry_has_cues_in_english_french_and_spanish(catalog):
    for entry in catalog:
        for lang in LANGS:
            assert entry.cues.get(lang), f"{entry.id}: no {lang} cue (own or from a theme)"
    for theme in catalog.themes.values():
        for lang in LANGS:
            assert any(c.lang == lang for c in theme.cues), f"theme {theme.name}: no {lang} cue"


def test_french_and_spanish_cues_are_not_an_afterthought(catalog):
    """Per entry and theme, FR and ES carry at least half as many cues as EN (and vice versa)."""
    owners = [(e.id, e.own_cues) for e in catalog] + [
        (f"theme:{t.name}", t.cues) for t in catalog.themes.values()
    ]
    for owner, cues in owners:
        counts = Counter(c.lang for c in cues)
        if not cues:
            continue
        most = max(counts.values())
        for lang in LANGS:
            assert counts[lang] * 2 >= most, (
                f"{owner}: {lang} has {counts[lang]} cues, another language {most}"
            )


def test_titles_and_sources_are_written(catalog):
    titles = Counter(entry.title.strip().casefold() for entry in catalog)
    for entry in catalog:
        title = entry.title.strip()
        assert title and len(title.split()) >= 3, f"{entry.id}: title {title!r} is not a written title"
        assert not PLACEHOLDER.search(title), f"{entry.id}: title {title!r} looks like a placeholder"
        assert title.casefold() != entry.id and titles[title.casefold()] == 1, f"{entry.id}: title not unique"
        seed = re.search(r"\b(\d{3}_[0-9a-f]+\.txt)\b", entry.source)
        assert seed, f"{entry.id}: source {entry.source!r} names no seed file"
        if SEEDS.is_dir():
            assert (SEEDS / seed.group(1)).exists(), f"{entry.id}: seed {seed.group(1)} not in {SEEDS}"
    for theme in catalog.themes.values():
        assert len(theme.title.split()) >= 3 and not PLACEHOLDER.search(theme.title), theme.name


def test_quiet_thresholds_and_score_thresholds_are_positive(catalog):
    for entry in catalog:
        days = entry.quiet_days
        assert isinstance(days, int) and not isinstance(days, bool), f"{entry.id}: quiet_days {days!r}"
        assert 0 < days <= 3650, f"{entry.id}: quiet_days {days} out of range"
        assert catalog.threshold_of(entry) > 0, entry.id
        assert all(f > 0 for f in entry.themes.values()), f"{entry.id}: theme multipliers must be positive"


def test_no_cue_is_empty_after_normalisation(catalog):
    """A cue made only of function words ("de la", "of the") would never match: it is a typo."""
    for lang in LANGS:
        cache = StemCache(lang)
        for entry in catalog:
            for text in entry.cues[lang] + entry.negatives.get(lang, []):
                assert all(cue_key(text, lang, cache)), f"{entry.id}: {lang} cue {text!r} has an empty part"


def test_negative_cues_never_equal_a_positive_cue_of_the_same_entry(catalog):
    for lang in LANGS:
        cache = StemCache(lang)
        for entry in catalog:
            positive = {cue_key(t, lang, cache): t for t in entry.cues[lang]}
            for text in entry.negatives.get(lang, []):
                clash = positive.get(cue_key(text, lang, cache))
                assert clash is None, f"{entry.id}: {lang} negative {text!r} is also its cue {clash!r}"


def shared_cues(catalog: Catalog) -> dict[tuple[str, str], list[str]]:
    """(owner, owner) -> the cues they both hold; owners are entry ids and 'theme:<name>'."""
    by_key: dict[tuple[str, tuple], dict[str, str]] = defaultdict(dict)
    for lang in LANGS:
        cache = StemCache(lang)
        for theme in catalog.themes.values():
            for cue in theme.cues:
                if cue.lang == lang:
                    by_key[(lang, cue_key(cue.text, lang, cache))][f"theme:{theme.name}"] = cue.text
        for entry in catalog:
            for cue in entry.own_cues:
                if cue.lang == lang:
                    by_key[(lang, cue_key(cue.text, lang, cache))][entry.id] = cue.text
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (lang, _), owners in by_key.items():
        for a, b in combinations(sorted(owners), 2):
            pairs[(a, b)].append(f"{lang}: {owners[a]!r}")
    return pairs


def declared(catalog: Catalog) -> dict[frozenset[str], str]:
    out: dict[frozenset[str], str] = {}
    for entry in catalog:
        for other, reason in entry.shared_with.items():
            out[frozenset((entry.id, other))] = reason
    for theme in catalog.themes.values():
        for other, reason in theme.shared_with.items():
            out[frozenset((f"theme:{theme.name}", other))] = reason
    return out


def test_no_cue_is_shared_by_unrelated_entries_without_a_recorded_reason(catalog):
    """Entries drawing on one theme share it by design (the theme is the recorded reason). Any other
    overlap, between two entries, an entry and a theme, or two themes, needs ``shared_with``."""
    reasons = declared(catalog)
    undeclared = {pair: cues for pair, cues in shared_cues(catalog).items() if frozenset(pair) not in reasons}
    assert not undeclared, "cues shared without a recorded reason (add shared_with):\n" + "\n".join(
        f"  {a} & {b}: {', '.join(cues[:4])}" for (a, b), cues in sorted(undeclared.items())
    )


def test_every_recorded_sharing_is_real_and_explained(catalog):
    """A shared_with that no longer matches any shared cue is stale; a reason must say something."""
    actual = {frozenset(pair) for pair in shared_cues(catalog)}
    for pair, reason in declared(catalog).items():
        assert pair in actual, f"{' & '.join(sorted(pair))}: shared_with recorded, but no cue is shared"
        assert len(reason.split()) >= 4, f"{' & '.join(sorted(pair))}: reason {reason!r} explains nothing"


# ---------------------------------------------------------------------------------------- the parser


def test_the_parser_refuses_bad_catalogs():
    good = {
        "id": "ngo.8",
        "parent": "ngo",
        "title": "End the death penalty",
        "cues": {"en": ["death penalty"]},
    }
    family = {"id": "ngo", "title": "NGO priorities", "cues": {"en": ["NGO agenda"]}}
    parse_catalog({"entries": [family, good]})
    with pytest.raises(CatalogError, match="invalid commitment id"):
        parse_catalog({"entries": [{**good, "id": "ngo.8b"}]})
    with pytest.raises(CatalogError, match="duplicate"):
        parse_catalog({"entries": [family, good, good]})
    with pytest.raises(CatalogError, match="parent"):
        parse_catalog({"entries": [good]})
    with pytest.raises(CatalogError, match="language"):
        parse_catalog({"entries": [family, {**good, "cues": {"de": ["Todesstrafe"]}}]})
    with pytest.raises(CatalogError, match="reason"):
        parse_catalog({"entries": [family, {**good, "shared_with": {"ngo": ""}}]})
    with pytest.raises(CatalogError, match="no other entry"):
        parse_catalog({"entries": [family, {**good, "shared_with": {"ngo.9": "a reason of some words"}}]})
    with pytest.raises(CatalogError, match="needs_own_strong must be true or false"):
        parse_catalog({"entries": [family, {**good, "needs_own_strong": "yes"}]})
    assert (
        parse_catalog({"entries": [family, {**good, "needs_own_strong": True}]})
        .entries["ngo.8"]
        .needs_own_strong
    )


def test_alternatives_in_a_cue_stand_for_every_combination_of_its_parts():
    assert expand_alternatives("journalists | reporters ~ killed | jailed") == [
        "journalists ~ killed",
        "journalists ~ jailed",
        "reporters ~ killed",
        "reporters ~ jailed",
    ]
    assert expand_alternatives("équipe de pays ~ EPU | Examen périodique universel") == [
        "équipe de pays ~ EPU",
        "équipe de pays ~ Examen périodique universel",
    ]
    assert expand_alternatives("  pena de muerte  ") == ["pena de muerte"]  # written as it is
    for broken in ("journalists | ~ killed", "| reporters ~ killed", "journalists ~ killed |"):
        with pytest.raises(CatalogError, match="empty alternative"):
            expand_alternatives(broken, "ngo.5")


def test_the_parser_expands_alternatives_in_cues_and_negatives():
    family = {"id": "ngo", "title": "NGO priorities", "cues": {"en": ["NGO agenda"]}}
    entry = {
        "id": "ngo.5",
        "parent": "ngo",
        "title": "Defend civil society",
        "cues": {
            "en": {"m": ["journalists | bloggers ~ jailed | detained"]},
            "fr": ["journalistes ~ détenus"],
        },
        "negatives": {"es": ["periodistas | blogueros ~ deportivos"]},
    }
    parsed = parse_catalog({"entries": [family, entry]}).entries["ngo.5"]
    assert sorted(parsed.cues["en"]) == sorted(
        ["journalists ~ jailed", "journalists ~ detained", "bloggers ~ jailed", "bloggers ~ detained"]
    )
    assert all(c.weight == 2.0 for c in parsed.own_cues if c.lang == "en")
    assert parsed.negatives["es"] == ["periodistas ~ deportivos", "blogueros ~ deportivos"]
    with pytest.raises(CatalogError, match=r"ngo\.5: empty alternative"):
        parse_catalog({"entries": [family, {**entry, "cues": {"en": ["journalists || bloggers ~ jailed"]}}]})


def test_no_phrase_collapses_to_one_word_once_function_words_are_dropped(catalog):
    """ "education for all" would match every "education", "era digital" every "digital"."""
    for lang in LANGS:
        cache = StemCache(lang)
        owners = [(e.id, e.own_cues) for e in catalog] + [
            (f"theme:{t.name}", t.cues) for t in catalog.themes.values()
        ]
        for owner, cues in owners:
            for cue in cues:
                if cue.lang != lang:
                    continue
                for part in cue.text.split("~"):
                    written = TOKEN_RE.findall(part)
                    if len(written) >= 2:
                        kept = phrase_keys(part, lang, cache)
                        assert len(kept) >= 2, f"{owner}: {lang} cue {part!r} reduces to {kept}"
