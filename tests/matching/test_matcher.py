"""The matcher per language: references, evidence offsets, negative cues, parents and families."""

from __future__ import annotations

import pytest

from matching import Matcher, load_catalog


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_catalog())


def ids(matches) -> set[str]:
    return {m.commitment for m in matches}


def test_english_civic_space_statement(matcher):
    text = (
        "The High Commissioner warned that restrictions on civic space are spreading. "
        "Human rights defenders who cooperate with the United Nations face reprisals, she said."
    )
    found = ids(matcher.match(text, lang="en", title="Civic space must be protected"))
    assert {"c2a.4", "hr75.1", "ngo.5"} <= found
    assert not any(c.startswith("c2a.7") for c in found)


def test_french_gender_parity(matcher):
    text = "Le rapport fait le point sur la parité entre les sexes dans le système des Nations Unies d'ici à 2028."
    found = ids(matcher.match(text, lang="fr", title="Parité : l'ONU avance vers son objectif"))
    assert "c2a.3.7" in found and "c2a.3" in found


def test_spanish_death_penalty(matcher):
    text = (
        "El número de países que aplican la pena de muerte siguió disminuyendo. "
        "El informe pide una moratoria oficial sobre las ejecuciones como paso previo a su abolición."
    )
    matches = matcher.match(text, lang="es")
    assert ids(matches) == {"ngo.8"}
    assert matches[0].lang == "es"


def test_language_is_detected_when_unknown(matcher):
    text = (
        "Le Secrétaire général a renouvelé son appel en faveur d'une interdiction des systèmes "
        "d'armes létales autonomes, qui sont politiquement inacceptables."
    )
    matches = matcher.match(text)
    assert "c2a.7.4" in ids(matches)
    assert {m.lang for m in matches} == {"fr"}


def test_offsets_point_at_the_cue_in_the_original_text(matcher):
    text = (
        "GENEVA – Opening remarks.\n\nThe Secretary-General repeated his call for a ban on Lethal "
        "Autonomous Weapon Systems, said the spokesperson."
    )
    match = next(m for m in matcher.match(text, lang="en") if m.commitment == "c2a.7.4")
    assert text[match.start : match.end] == "Lethal Autonomous Weapon Systems"
    assert text[match.evidence_start : match.evidence_start + len(match.evidence)] == match.evidence
    assert match.evidence.startswith("The Secretary-General") and match.method == "rule"


def test_offsets_survive_accents_soft_hyphens_and_line_breaks(matcher):
    text = "Nous défendons l’es\u00adpace ci-\nvique partout. La peine de mort doit être abolie."
    matches = {m.commitment: m for m in matcher.match(text, lang="fr")}
    civic = matches["c2a.4"]
    assert text[civic.start : civic.end] == "es\u00adpace ci-\nvique"
    death = matches["ngo.8"]
    assert text[death.start : death.end] == "peine de mort"


def test_negative_cue_vetoes_look_alike(matcher):
    assert "ngo.8" not in ids(
        matcher.match("The rapporteur documented extrajudicial executions by the police.", lang="en")
    )
    # The conflict theme does not read "climate crisis" as a crisis of armed conflict.
    text = "The climate crisis is a threat. The climate crisis needs urgent action on emissions."
    assert "c2a.2" not in ids(matcher.match(text, lang="en"))


def test_action_implies_parent_but_never_the_family(matcher):
    matches = matcher.match("States must ban lethal autonomous weapon systems now.", lang="en")
    by_id = {m.commitment: m for m in matches}
    assert by_id["c2a.7"].implied is True and by_id["c2a.7.4"].implied is False
    assert "c2a" not in by_id


def test_family_only_when_the_document_is_named(matcher):
    named = matcher.match(
        "Five years after the Secretary-General's Call to Action for Human Rights, civic space is shrinking.",
        lang="en",
    )
    assert "c2a" in ids(named)
    assert "c2a" not in ids(matcher.match("Civic space is shrinking everywhere.", lang="en"))


def test_a_passing_word_is_not_a_reference(matcher):
    text = (
        "The budget committee approved the revised estimates for conference services. "
        "Delegates thanked the secretariat and noted that conflict over the agenda had been avoided."
    )
    assert matcher.match(text, lang="en", title="Budget committee concludes its session") == []
