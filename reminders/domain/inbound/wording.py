"""How patients write, made plain: case, accents, repeated letters, texting spellings, emojis, typos.

Older patients and caregivers text "cant breath", "fibre", "pls call", "tngo calentura",
"CHESSST PAIN!!!" or just "🤒". `plain_words` turns a text into sentences of plain
words (numbers kept, "101.8" as one word "101p8", "7/10" as "score7"); `WordClasses`
says which classes a word belongs to, tolerating one typo in a word of 5 to 8 letters
and two in a longer one; a word of 4 letters or fewer, or an everyday word
such as "doing" (one typo from "dying"), must be exact (rapidfuzz's optimal string alignment distance: a swapped pair
of letters is one typo): "fell" is not "feel".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

from rapidfuzz.distance import OSA

# Emojis that say something; every other symbol is dropped.
EMOJIS = {
    "🤒": " fever ",
    "🥵": " fever ",
    "🥶": " chills ",
    "🤕": " hurt ",
    "😷": " sick ",
    "🚑": " emergency ",
    "🆘": " emergency ",
    "🩸": " bleeding ",
    "🤮": " vomiting ",
    "😵": " faint ",
    "💔": " heart ",
    "👍": " ok ",
    "👌": " ok ",
    "🙏": " thanks ",
}

# Texting spellings and abbreviations, word for word (English and Spanish).
SPELLINGS = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thanks",
    "tnx": "thanks",
    "cnt": "cant",
    "cn": "can",
    "bc": "because",
    "b4": "before",
    "2day": "today",
    "nite": "night",
    "tmrw": "tomorrow",
    "hurst": "hurts",
    "brething": "breathing",
    "breth": "breath",
    "brathe": "breathe",
    "temp": "temperature",
    "meds": "medicine",
    "med": "medicine",
    "q": "que",
    "xq": "porque",
    "pq": "porque",
    "tngo": "tengo",
    "tng": "tengo",
    "toy": "estoy",
    "mui": "muy",
    "tmb": "tambien",
    "pesho": "pecho",
    "fibre": "fiebre",
    "calentur": "calentura",
    "e": "he",  # "no e podido": no he podido
    "fevr": "fever",
    "feva": "fever",
    "cai": "cai",
}


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one string, space-separated."""
    return frozenset(words.split())


# Everyday words that sit one typo away from a warning word ("doing"/"dying",
# "call"/"callo", "feel"/"fell"): never read as a typo of anything.
COMMON = word_set(
    "doing going being seeing saying called calls calling feels feeling fine fines still "
    "stilll trying living lives gives given giving heard hears wears walks talks taking "
    "takes bread break great treat"
)

# Spanish "si" is "yes" and "if": after these words it is "if" ("que hago si me da fiebre").
SI_IF = word_set(
    "hago llamo llamare aviso debo hacer que llamar llamarle voy pasa normal bueno ok "
    "regreso vengo avisar preguntar pregunto solo llamen llamarles ir"
)


def plain(text: str) -> str:
    """Lower case without accents or apostrophes, emojis read, letters repeated 3+ times once."""
    for emoji, word in EMOJIS.items():
        text = text.replace(emoji, word)
    decomposed = unicodedata.normalize("NFKD", text)
    out = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    out = re.sub(r"['\u2019\u2018`´]", "", out)
    return re.sub(r"([a-z])\1{2,}", r"\1", out)


_SCALE = re.compile(r"\b(\d{1,2})\s*(?:/|\bout of\b|\bof\b|\bde\b|\bsobre\b)\s*10\b")
_DECIMAL = re.compile(r"(\d)[.,](\d)")
_SENTENCES = re.compile(r"[.!?;\n¡¿()]+|\s-\s")


def plain_words(text: str, phrases: Iterable[tuple[re.Pattern[str], str]] = ()) -> list[list[str]]:
    """Sentences of plain words; commas stay as "," words (clause ends), phrases rewritten."""
    out = plain(text)
    out = _SCALE.sub(r" score\1 ", out)  # "7/10", "9 out of 10", "10 de 10": a pain score
    out = _DECIMAL.sub(r"\1p\2", out)  # "101.8" stays one word through sentence splitting
    out = re.sub(r"(\d)\s*(?:°|º|deg\b)", r"\1 degrees", out)
    sentences = []
    for part in _SENTENCES.split(out):
        words = [SPELLINGS.get(w, w) for w in re.findall(r"score\d+|[a-z]+|\d+(?:p\d+)?|,", part)]
        line = " ".join(words)
        for pattern, replacement in phrases:
            line = pattern.sub(replacement, line)
        words = line.split()
        if any(w != "," for w in words):
            sentences.append(words)
    return sentences


class WordClasses:
    """Which named classes a word belongs to, exactly or within a typo or two."""

    def __init__(self, classes: Mapping[str, Iterable[str]]) -> None:
        self._exact: dict[str, set[str]] = {}
        for name, words in classes.items():
            for word in words:
                self._exact.setdefault(word, set()).add(name)
        self._fuzzy = tuple(w for w in self._exact if len(w) >= 5 and w.isalpha())
        self.classes_of = lru_cache(maxsize=8192)(self._classes_of)

    def _classes_of(self, word: str) -> frozenset[str]:
        found = self._exact.get(word)
        if found is not None:
            return frozenset(found)
        if len(word) < 5 or not word.isalpha() or word in COMMON:
            return frozenset()
        near: set[str] = set()
        for known in self._fuzzy:
            allowed = 1 if len(known) <= 8 else 2
            if abs(len(known) - len(word)) > allowed or known[0] != word[0]:
                continue
            if OSA.distance(word, known, score_cutoff=allowed) <= allowed:
                near |= self._exact[known]
        return frozenset(near)
