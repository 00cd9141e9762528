"""Text normalisation for matching: folding, tokens with original offsets, stems, language.

Matching compares *stems of content words*: a cue such as "right to privacy" and a text saying
"the Right to Privacy" or "rights to privacy" reduce to the same sequence ``right privaci``.
Function words (articles, prepositions) are dropped on both sides so that "droits de l'homme"
and "droits des l’hommes" agree. Tokens keep their offsets in the *original* text, so evidence
always points at what the page really said, whatever PDF or HTML artefacts it carried
(soft hyphens, ligatures, words broken across lines, typographic apostrophes).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

LANGS = ("en", "fr", "es")
_STEMMER_NAMES = {"en": "english", "fr": "french", "es": "spanish"}

# A word: letters/digits, possibly glued by soft hyphens, or broken across a line by "-\n".
TOKEN_RE = re.compile(r"[^\W_]+(?:(?:\u00ad+|-[ \t]*\r?\n[ \t]*)[^\W_]+)*")
_BROKEN = re.compile(r"-[ \t]*\r?\n[ \t]*")

_FOLD_SPECIAL = str.maketrans(
    {
        "\u0153": "oe",
        "\u0152": "oe",
        "\u00e6": "ae",
        "\u00c6": "ae",
        "\u00df": "ss",
        "\u00ad": None,
        "\u0131": "i",
        "\u00f8": "o",
        "\u00d8": "o",
        "\u0142": "l",
        "\u0141": "l",
    }
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words only: dropping them must never remove a word a cue depends on (Spanish "era" is
# also "era", as in "la era digital", so it stays a content word).
STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """a an the of to in on at by for from with without into onto upon about as and or nor but
        is are was were be been being am it its it's this that these those there their theirs them they
        he she his her hers him we our ours us you your i me my mine which who whom whose what
        when where while whether if than then so such also very too has have had having do does did
        will would shall should can could may might must s t d ll ve re m o y
        not no any all each every both either neither other another same own more most some many much
        through throughout during before after above below over under between among amongst against
        within per via towards toward including include includes"""
    ),
    "fr": _words(
        """le la les l un une des du de d au aux a à et ou ni mais car donc or que qu qui quoi dont
        ce cet cette ces c se s sa son ses leur leurs lui elle elles il ils on nous vous je j me m te t
        y en ne n pas plus moins tres est sont etait etaient ete etre a ont avait avoir fait faire
        dans sur sous par pour avec sans entre vers chez contre selon depuis pendant lors apres avant
        tout tous toute toutes autre autres meme memes aussi ainsi comme si deja encore tel telle
        notre nos votre vos mon ma mes ton ta tes cela ceci ca celle celui ceux celles lequel laquelle
        lesquels lesquelles auquel auxquels duquel desquels doit doivent peut peuvent sera seront"""
    ),
    "es": _words(
        """el la los las lo un una unos unas de del al a y e o u ni pero sino que quien quienes cual
        cuales cuyo cuya se su sus le les me te nos os mi mis tu tus nuestro nuestra nuestros nuestras
        vuestro este esta estos estas ese esa esos esas aquel aquella eso esto ello ella ellas el ellos
        en con sin por para sobre entre hacia hasta desde contra segun durante tras ante bajo mediante
        es son eran fue fueron ser sido siendo ha han habia haber hay esta estan estaba estar
        no mas menos muy tambien ya aun todo todos toda todas otro otros otra otras mismo misma mismos
        mismas como cuando donde si asi tal tan debe deben puede pueden sera seran cada"""
    ),
}

# Words that say which language a passage is in (frequent, and rare in the other two languages).
_DETECT = {
    "en": _words("the and of to is that for with are this be from which have has was were by"),
    "fr": _words("le les des et du est une dans pour que sur au aux qui sont avec ont cette ces"),
    "es": _words("el los las del y es una por para con que se al su sus como sobre esta"),
}
# A word two languages share ("que") says nothing about which one a passage is in.
_DETECT_LANGS = {
    word: langs[0]
    for word in set().union(*_DETECT.values())
    if len(langs := [lang for lang in LANGS if word in _DETECT[lang]]) == 1
}


@lru_cache(maxsize=3)
def _stemmer(lang: str):  # type: ignore[no-untyped-def]
    return snowballstemmer.stemmer(_STEMMER_NAMES[lang])


def fold_word(word: str) -> str:
    """Case- and accent-folded form of one word (ligatures expanded, soft hyphens dropped)."""
    word = _BROKEN.sub("", word)
    if not word.isascii():
        word = unicodedata.normalize("NFKD", word.translate(_FOLD_SPECIAL))
        word = "".join(c for c in word if not unicodedata.combining(c))
    return word.casefold()


def fold_plain(text: str) -> str:
    """Folded text (for display and simple comparisons); offsets are not kept."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_FOLD_SPECIAL))
        text = "".join(c for c in text if not unicodedata.combining(c))
    return text.casefold()


# British and American spellings of one word reduce to one form before stemming: Snowball stems
# "organisations" to ``organis`` but "organizations" to ``organiz``, so a cue written one way
# missed a page written the other (UN editorial style writes "organization" but "programme",
# "labour" and "centre"; Amnesty writes "criminalise", HRW "criminalize"). The mapping is applied
# to cue and text alike, so it only has to be consistent, never complete.
_EN_ISE = re.compile(r"^(\w{3,}?[^aeiou\W])is(e|es|ed|ing|er|ers|ation|ations|ational)$")
_EN_YSE = re.compile(r"^(\w{2,})ys(e|es|ed|ing|er|ers)$")
_EN_OUR = re.compile(r"^(labo|behavio|favo|hono|colo|neighbo|harbo|rumo|endeavo|vigo|savio|humo)ur(?=\w*$)")
_EN_WORDS = {
    "programme": "program",
    "programmes": "programs",
    "programmed": "programed",
    "defence": "defense",
    "defences": "defenses",
    "offence": "offense",
    "offences": "offenses",
    "licence": "license",
    "licences": "licenses",
    "centre": "center",
    "centres": "centers",
    "centred": "centered",
    "judgement": "judgment",
    "judgements": "judgments",
    "ageing": "aging",
}


def english_spelling(word: str) -> str:
    """The American spelling of a folded English word ("criminalised" -> "criminalized")."""
    if len(word) < 5:
        return word
    mapped = _EN_WORDS.get(word)
    if mapped is not None:
        return mapped
    if "is" in word:
        word = _EN_ISE.sub(r"\1iz\2", word)
    if "ys" in word:
        word = _EN_YSE.sub(r"\1yz\2", word)
    if "our" in word:
        word = _EN_OUR.sub(r"\1r", word)
    return word


def is_acronym(raw: str) -> bool:
    """An upper-case token of 2-6 letters (ICC, CPI, UPR): matched case-sensitively."""
    return 2 <= len(raw) <= 6 and raw.isupper() and raw.isalpha()


def light_form(word: str, lang: str) -> str:
    """A folded word without its inflection (plural, feminine), keeping derivation.

    Snowball stems derivations together: French "chiffrement" (encryption) and "chiffres"
    (figures) are both ``chiffr``, Spanish "cifrado" and "cifras" both ``cifr``, English
    "accountability" and "account" both ``account``. A one-word cue only has that word to go on,
    so it must agree with the text at this lighter level too; phrases keep full stemming, their
    other words being context enough.
    """
    w = fold_word(word)
    if lang == "fr":
        if w.endswith("aux") and len(w) > 4:
            return w[:-3] + "al"
        if w.endswith(("s", "x")) and len(w) > 3:
            w = w[:-1]
        while w.endswith("e") and len(w) > 3:  # "réfugiée" and "réfugié" fold to refugie(e)
            w = w[:-1]
        return w
    if lang == "es":
        if w.endswith("s") and len(w) > 3:
            w = w[:-1]
        if w.endswith("e") and len(w) > 3 and w[-2] not in "aeiou":  # "migrante(s)"
            w = w[:-1]
        if w.endswith(("a", "o")) and len(w) > 3:
            w = w[:-1]
        return w
    w = english_spelling(w)
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "zes", "ches", "shes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        return w[:-1]
    return w


# Snowball stems some derivations together that a reader never confuses, and a phrase cue
# then fires on the wrong word: "violencia de género" on "la violencia generada por el
# conflicto", "participation of civil society" on a registration page's "participants from
# civil society", the French court ("cour") on every "au cours de", "note d'orientation" on
# "notamment l'orientation". The words below keep a stem of their own (one per group), in cue
# and text alike; their inflections are listed with them. Written from the languages, not from
# any page: each group is a derivation (an agent noun, an adverb, a verb form) or a homograph
# whose meaning differs from the word it would otherwise be stemmed with.
_DISTINCT_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "participant": ("participant", "participants"),
        "executive": ("executive", "executives"),
        "informal": ("informal", "informally", "informality"),
        "immunization": ("immunization", "immunizations", "immunize", "immunized"),
        "initial": ("initial", "initially"),
        "according": ("according", "accordingly", "accordance"),
        "several": ("several",),
        "emerge": ("emerge", "emerges", "emerged", "emerging", "emergence", "emergent"),
        "defendant": ("defendant", "defendants"),
        "combatant": ("combatant", "combatants"),
        "relative": ("relative", "relatives", "relatively"),
        "designate": ("designate", "designated", "designates", "designating", "designation", "designations"),
        "generator": ("generator", "generators"),
        "generative": ("generative",),
        "majority": ("majority", "majorities"),
        "positive": ("positive", "positively"),
        "respondent": ("respondent", "respondents"),
        "incoming": ("incoming",),
        "diversion": ("diversion", "diversions"),
        "observer": ("observer", "observers"),
        "organizer": ("organizer", "organizers"),
        "operator": ("operator", "operators"),
        "publication": ("publication", "publications"),
        "assistant": ("assistant", "assistants"),
        "consultant": ("consultant", "consultants", "consultancy", "consultancies"),
        "author": ("author", "authors", "authored"),
        "cooperative": ("cooperative", "cooperatives"),
        "integrity": ("integrity",),
    },
    "fr": {
        "civile": ("civil", "civile", "civiles"),
        "cours": ("cours",),
        "courant": ("courant", "couramment"),
        "egalement": ("egalement",),
        "notamment": ("notamment",),
        "mars": ("mars",),
        "environ": ("environ",),
        "gaza": ("gaza",),
        "partir": ("partir",),
        "commis": ("commis", "commise", "commises"),
        "devait": ("devait", "devaient"),
        "etudiant": ("etudiant", "etudiants", "etudiante", "etudiantes"),
        "importation": ("importation", "importations"),
        "affectation": ("affectation", "affectations"),
        "signaler": (
            "signale",
            "signales",
            "signalee",
            "signalees",
            "signaler",
            "signalement",
            "signalements",
        ),
        "raison": ("raison", "raisons"),
        "minerai": ("minerai", "minerais"),
        "executif": ("executif", "executifs", "executive", "executives"),
        "participant": ("participant", "participants", "participante", "participantes"),
        "observateur": ("observateur", "observateurs", "observatrice", "observatrices"),
        "operateur": ("operateur", "operateurs", "operatrice", "operatrices"),
        "organisateur": ("organisateur", "organisateurs", "organisatrice", "organisatrices"),
        "generatif": ("generatif", "generatifs", "generative", "generatives"),
    },
    "es": {
        "civil": ("civil",),
        "mes": ("mes", "meses"),
        "san": ("san",),
        "nueve": ("nueve",),
        "genero": ("genero", "generos"),
        "partir": ("partir",),
        "partido": ("partido", "partidos", "partida", "partidas"),
        "senal": ("senal", "senales"),
        "trata": ("trata", "tratas"),
        "trato": ("trato", "tratos"),
        "integridad": ("integridad",),
        "periodista": (
            "periodista",
            "periodistas",
            "periodismo",
            "periodistico",
            "periodistica",
            "periodisticos",
            "periodisticas",
        ),
        "saludo": ("saludo", "saludos", "saluda", "saludan", "saludar", "saludaron", "saludamos"),
        "lento": ("lento", "lenta", "lentos", "lentas", "lentamente"),
        "mar": ("mar", "mares"),
        "minimo": ("minimo", "minimos", "minima", "minimas"),
        "participante": ("participante", "participantes"),
        "ejecutivo": ("ejecutivo", "ejecutivos", "ejecutiva", "ejecutivas"),
        "generativo": ("generativo", "generativa", "generativos", "generativas"),
    },
}
# folded word -> its own stem key; "%" never occurs in a Snowball stem.
DISTINCT_STEMS: dict[str, dict[str, str]] = {
    lang: {form: "%" + tag for tag, forms in groups.items() for form in forms}
    for lang, groups in _DISTINCT_GROUPS.items()
}


class StemCache(dict[str, str]):
    """raw token -> stem key ("" for function words); grows with the vocabulary, not the text."""

    LIMIT = 500_000

    def __init__(self, lang: str, acronyms: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.lang = lang
        self.stop = STOPWORDS[lang]
        self.stem = _stemmer(lang).stemWord
        self.acronyms = acronyms
        self.english = lang == "en"
        self.distinct = DISTINCT_STEMS[lang]

    def __missing__(self, raw: str) -> str:
        if len(self) > self.LIMIT:  # names and numbers keep coming in a long-lived worker
            self.clear()
        if raw in self.acronyms:
            key = raw
        else:
            word = fold_word(raw)
            if word in self.stop:
                key = ""
            else:
                word = english_spelling(word) if self.english else word
                key = self.distinct.get(word) or self.stem(word)
        self[raw] = key
        return key


@dataclass(frozen=True)
class Token:
    key: str  # the stem (or the acronym as written)
    start: int  # offsets in the original text
    end: int


def tokens(text: str, lang: str, cache: StemCache | None = None, base: int = 0) -> Iterator[Token]:
    """Content tokens of ``text`` with stems; offsets are shifted by ``base``."""
    cache = cache or StemCache(lang)
    for m in TOKEN_RE.finditer(text):
        raw = m.group()
        key = cache[raw]
        if key:
            yield Token(key, base + m.start(), base + m.end())


def phrase_keys(phrase: str, lang: str, cache: StemCache | None = None) -> list[str]:
    """Stem keys of a cue phrase, upper-case acronyms kept as written."""
    cache = cache or StemCache(lang)
    out: list[str] = []
    for m in TOKEN_RE.finditer(phrase):
        raw = m.group()
        if is_acronym(raw):
            out.append(raw)
            continue
        key = cache[raw]
        if key:
            out.append(key)
    return out


def language_votes(text: str) -> dict[str, int]:
    """How many frequent function words of each language the text holds.

    Words are split at white space only: a function word glued to punctuation ("(the") goes
    uncounted, which costs a vote or two per page and halves the time of a regex tokeniser.
    """
    counts = Counter(text.lower().split())  # counted in C
    votes = dict.fromkeys(LANGS, 0)
    for word in counts.keys() & _DETECT_LANGS.keys():
        votes[_DETECT_LANGS[word]] += counts[word]
    return votes


def detect_language(text: str, default: str = "en", *, min_votes: int = 3) -> str:
    """EN/FR/ES from function-word counts; ``default`` when the text is too short to tell."""
    votes = language_votes(text[:20000])
    best = max(LANGS, key=lambda lang: votes[lang])
    return best if votes[best] >= min_votes else default


def normalise_lang(lang: str | None) -> str | None:
    """'fr-CH', 'FR', 'fra' -> 'fr'; None when it is none of ours."""
    if not lang:
        return None
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    code = {"eng": "en", "fra": "fr", "fre": "fr", "spa": "es"}.get(code, code)
    return code if code in LANGS else None


_PARA = re.compile(r"\n\s*\n|\n")


def language_segments(text: str, lang: str, *, min_votes: int = 8) -> list[tuple[str, int, int]]:
    """Split a text into runs of one language: [(lang, start, end)].

    Pages are sometimes bilingual (a speech that switches from English to French half-way);
    a paragraph switches language only with clear evidence, otherwise it keeps the page's.
    """
    if "\n" not in text:
        return [(lang, 0, len(text))]
    votes = language_votes(text)
    others = sum(v for code, v in votes.items() if code != lang)
    if others < max(min_votes, votes[lang] // 10):  # plainly one language: no need to look closer
        return [(lang, 0, len(text))]
    segments: list[tuple[str, int, int]] = []
    pos = 0
    bounds = [m.end() for m in _PARA.finditer(text)] + [len(text)]
    for end in bounds:
        if end <= pos:
            continue
        para_lang = lang
        chunk = text[pos:end]
        if len(chunk) > 60:
            votes = language_votes(chunk)
            best = max(LANGS, key=lambda code: votes[code])
            if best != lang and votes[best] >= min_votes and votes[best] >= 3 * max(1, votes[lang]):
                para_lang = best
        if segments and segments[-1][0] == para_lang:
            segments[-1] = (para_lang, segments[-1][1], end)
        else:
            segments.append((para_lang, pos, end))
        pos = end
    return segments
