"""Search keys: names as staff type them, without accents or case ("Ramirez" finds "Ramírez")."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower-case, accents removed, spaces collapsed: the form both sides are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def patient_search_key(
    *, first_name: str, last_name: str, phone: str | None, email: str | None
) -> str:
    """What a patient is found by: folded names, the phone's digits and the email."""
    digits = re.sub(r"\D", "", phone or "")
    return " ".join(p for p in (fold(f"{first_name} {last_name}"), digits, fold(email or "")) if p)
