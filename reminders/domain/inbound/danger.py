"""Words in a patient's own text that signal danger (CONTENT.md's 911 and call-the-clinic lists).

A patient who writes "chest pain" or "no puedo respirar" instead of answering a question
must reach a nurse at once, as a YES or a pain of 8 does. Matching is on whole words,
ignoring case, accents and apostrophes, in English and Spanish; a phrase negated in its
own clause ("no fever", "sin fiebre", "I don't have any numbness") does not count. A
false alarm costs a nurse a minute; a missed one can cost the patient far more, so the
list leans to inclusion.
"""

from __future__ import annotations

import re
import unicodedata

# CONTENT.md "Warning signs", as patients write them. Call 911:
_EMERGENCY = """
chest pain | chest pains | chest hurts | chest pressure | pain in my chest | heart attack
cant breathe | cannot breathe | can not breathe | trouble breathing | hard to breathe
short of breath | shortness of breath | difficulty breathing | struggling to breathe
coughing up blood | coughing blood | cough up blood | fainted | fainting | passed out
hard to wake | cant wake | wont wake up | slow breathing | shallow breathing
throat is swelling | throat swelling | swollen throat | tongue swelling | swollen tongue
trouble swallowing | cant swallow | cant move my leg | cant move my legs | cant feel my legs
lost control of my bladder | lost control of my bowels | cant control my bladder | 911
emergency
dolor de pecho | dolor en el pecho | me duele el pecho | no puedo respirar
dificultad para respirar | me falta el aire | falta de aire | tos con sangre
tosiendo sangre | me desmaye | se desmayo | desmayo | muy dormido | muy dormida
no despierta | respira lento | lengua hinchada | garganta hinchada | se me cierra la garganta
no puedo tragar | dificultad para tragar | no puedo mover la pierna | no puedo mover las piernas
no siento las piernas | emergencia
"""
# Call the clinic now:
_CLINIC_NOW = """
numb | numbness | tingling | weakness | weak legs | legs are weak | fever | chills | pus
red streaks | bleeding | wont stop bleeding | rash | hives | allergic | severe pain
worst pain | unbearable | cant walk | cannot walk
entumecimiento | entumido | entumida | adormecido | adormecida | hormigueo | debilidad
fiebre | calentura | escalofrios | sangrado | sangrando | sangra | sarpullido | ronchas
alergia | dolor muy fuerte | no puedo caminar
"""
_NEGATIONS = frozenset(
    [
        "no",
        "not",
        "without",
        "never",
        "nor",
        "dont",
        "doesnt",
        "didnt",
        "havent",
        "hasnt",
        "isnt",
        "arent",
        "wasnt",
        "denies",
        "sin",
        "nunca",
        "ni",
        "tampoco",
        "ningun",
        "ninguna",
    ]
)
_LOOK_BACK = 3  # words before a phrase that can negate it ("I don't have any fever")


def _phrases(block: str) -> tuple[tuple[str, ...], ...]:
    found = (p.split() for line in block.strip().splitlines() for p in line.split("|"))
    return tuple(sorted({tuple(p) for p in found if p}, key=len, reverse=True))


PHRASES = _phrases(_EMERGENCY) + _phrases(_CLINIC_NOW)


def _clauses(text: str) -> list[list[str]]:
    """Lower case, accents and apostrophes gone, split at punctuation into word lists."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    plain = re.sub(r"['\u2019`]", "", plain)
    return [re.findall(r"[a-z0-9]+", part) for part in re.split(r"[.,;:!?\n¡¿()]+", plain)]


def danger(body: str) -> str | None:
    """Return the first danger phrase the text says (not negated), or None."""
    for words in _clauses(body):
        for start in range(len(words)):
            for phrase in PHRASES:
                if tuple(words[start : start + len(phrase)]) != phrase:
                    continue
                before = words[max(0, start - _LOOK_BACK) : start]
                if phrase[0] not in _NEGATIONS and _NEGATIONS.intersection(before):
                    continue
                return " ".join(phrase)
    return None
