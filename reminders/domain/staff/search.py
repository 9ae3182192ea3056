"""Search keys: names as staff type them, without accents or case ("Ramirez" finds "Ramírez")."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower-case, accents removed, spaces collapsed: the form both sides are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


# What staff type for a phone number: digits with +, spaces, dashes, dots or brackets.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+$")
MIN_PHONE_DIGITS = 7


def search_words(text: str) -> list[str]:
    """The words of a search; a phone number however written is one word of its digits.

    "+1 805 555 0142", "(805) 555 0142" and "805-555-0142" all become their digits (with
    the country code when typed), so they match the digits of the stored E.164 number.
    """
    if _PHONE_LIKE.match(text.strip()):
        digits = re.sub(r"\D", "", text)
        if len(digits) >= MIN_PHONE_DIGITS:
            return [digits]
    return text.split()


def patient_search_key(
    *, first_name: str, last_name: str, phone: str | None, email: str | None
) -> str:
    """What a patient is found by: folded names, the phone's digits and the email."""
    digits = re.sub(r"\D", "", phone or "")
    return " ".join(p for p in (fold(f"{first_name} {last_name}"), digits, fold(email or "")) if p)
