"""Reply words the texts mention must be words domain/inbound/replies.py honours, in every language."""

from __future__ import annotations

import re

from reminders.adapters.rendering import MessageRenderer
from reminders.domain.inbound.replies import KEYWORDS, PROVIDER_KEYWORDS, Keyword
from reminders.services.content import Clinic, clinic_names

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


def reply_problems(*, renderer: MessageRenderer, clinic: Clinic) -> list[str]:
    """Check the texts we send back (templates/replies/<language>/*.j2) for unhonoured words."""
    problems = []
    for name in renderer.text_env.list_templates():
        # Texts to patients only: staff alerts (replies/staff/) name no reply words.
        if not name.startswith("replies/") or name.startswith("replies/staff/"):
            continue
        if name.endswith((".email.j2", ".subject.j2")):
            continue
        try:
            text = renderer.text_env.get_template(name).render(clinic=clinic_names(clinic), kind="")
        except Exception as exc:  # a check reports, it does not stop at the first broken file
            problems.append(f"{name}: cannot render: {exc}")
            continue
        if words := unhonoured_words(text):
            problems.append(
                f"{name}: tells the patient to reply {', '.join(words)}, which no keyword honours"
            )
    return problems


_KIND_NAMES = {Keyword.OPT_OUT: "opt-out", Keyword.OPT_IN: "opt-in", Keyword.HELP: "help"}


def provider_keyword_lines(languages: list[str]) -> list[str]:
    """Say which words the clinic must add to Twilio's Advanced Opt-Out, per language sent.

    Twilio knows the English words by default; words we honour in another language are
    ours, and Twilio blocks and confirms only the words its console lists.
    """
    lines = []
    for language in sorted(languages):
        words = PROVIDER_KEYWORDS.get(language)
        if not words:
            continue
        kinds = "; ".join(
            f"{_KIND_NAMES[kind]} {', '.join(found)}" for kind, found in words.items() if found
        )
        lines.append(f"  {language}: {kinds}")
    if not lines:
        return []
    return [
        "Twilio Advanced Opt-Out (Messaging Service > Opt-Out Management) must list these"
        " words, each under its language (README, Twilio setup and replies):",
        *lines,
    ]
