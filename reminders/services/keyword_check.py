"""Reply words the texts mention must be words domain/replies.py honours, in every language."""

from __future__ import annotations

import re

from reminders.domain.replies import KEYWORDS, Keyword

# A word in capitals after "reply"/"responda" is one the patient is told to send.
_TOLD = re.compile(
    r"\b(?:[Rr]eply|[Tt]ext|[Rr]esponda|[Ee]nv[ií]e)\s+((?:[A-ZÁÉÍÓÚÑ]{2,})(?:\s+(?:or|o)\s+[A-ZÁÉÍÓÚÑ]{2,})*)"
)
# Check-in answers, read by the check-in parser rather than as keywords.
_ANSWERS = frozenset({"YES", "NO", "SI", "SÍ"})


def told_words(text: str) -> list[str]:
    """Return the capitalised words a text tells the patient to reply with."""
    words: list[str] = []
    for match in _TOLD.finditer(text):
        words += [w for w in re.findall(r"[A-ZÁÉÍÓÚÑ]{2,}", match.group(1)) if w not in words]
    return words


def unhonoured_words(text: str) -> list[str]:
    """Return the reply words a text names that no keyword or check-in answer honours."""
    return [w for w in told_words(text) if w not in _ANSWERS and w not in KEYWORDS]


def opt_out_problem(first_sms: str) -> str | None:
    """Say why a patient's first text does not tell them how to opt out, or None."""
    if any(KEYWORDS.get(w) is Keyword.OPT_OUT for w in told_words(first_sms)):
        return None
    return (
        "the first SMS must say how to opt out with a word we honour (Reply STOP, responda PARAR)"
    )
