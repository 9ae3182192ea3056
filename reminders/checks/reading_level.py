"""Reading level: whether a message reads at 6th grade or below, in English and Spanish."""

from __future__ import annotations

import re
import threading

import textstat

# Reading level: 6th grade at most (AAFP patient-education guidance; docs/care-plans.md).
MAX_GRADE = 6.0
# Spanish: Fernández Huerta (1959) with Law's (2011) correction, as textstat computes it.
# Its own table puts 70-80 ("algo fácil") at 6th grade and 60-70 at 7th-8th (tabulated at
# legible.es/blog/lecturabilidad-fernandez-huerta), so 70 is the floor.
MIN_FERNANDEZ_HUERTA = 70.0
# The formulas were fit on 100-word samples; under this many words one long word moves
# the score by grades, so shorter texts (subjects, two-word lines) are not scored.
MIN_WORDS = 12
_textstat_lock = threading.Lock()


def reading_level_problem(text: str, language: str) -> str | None:
    """Say why a text reads above 6th grade, or None; languages without a formula pass."""
    prose = _prose(text)
    if len(prose.split()) < MIN_WORDS:
        return None
    root = language.split("_")[0].split("-")[0].lower()
    # textstat keeps its language in module state: set it for one call, then restore it.
    with _textstat_lock:
        try:
            textstat.set_lang(language)
            if root == "en":
                grade = textstat.flesch_kincaid_grade(prose)
                if grade > MAX_GRADE:
                    return (
                        f"reads at grade {grade:.1f} (Flesch-Kincaid); the limit is {MAX_GRADE:g}"
                    )
            elif root == "es":
                ease = textstat.fernandez_huerta(prose)
                if ease < MIN_FERNANDEZ_HUERTA:
                    return f"reads above 6th grade: Fernández Huerta {ease:.0f}, the floor is {MIN_FERNANDEZ_HUERTA:g}"
        finally:
            textstat.set_lang("en_US")
    return None


def _prose(text: str) -> str:
    """Make each line and list item a sentence, so a list does not read as one long sentence."""
    text = re.sub(r"(?<=\d)[.,](?=\d)", "", text)  # 100.4 is one number, not two sentences
    lines = [ln.strip().removeprefix("- ").strip() for ln in text.splitlines()]
    return " ".join(ln if ln[-1] in ".!?" else ln.rstrip(":;,") + "." for ln in lines if ln)
