"""Reading staff forms: the values as typed, local date-times, consent methods, page numbers."""

from __future__ import annotations

from datetime import datetime

from starlette.datastructures import FormData

from reminders.domain.model import ConsentMethod


def typed_values(form: FormData) -> dict[str, str]:
    """The text fields of a form, trimmed, without the CSRF token (to show them again)."""
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def parse_local(text: str, errors: dict[str, str]) -> datetime | None:
    """A datetime-local value (naive: the patient's local time), or None with a message."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        errors["performed_at"] = "enter the date and time the procedure ended"
        return None


def page_number(text: str, last: int = 10_000) -> int:
    """A page asked for in a link: a typo or an edited URL (page=abc) shows the first."""
    try:
        return max(1, min(int(text), last))
    except ValueError:
        return 1


def consent_method(text: str, errors: dict[str, str]) -> ConsentMethod:
    """The consent method chosen (verbal when none), or verbal with a message."""
    try:
        return ConsentMethod(text or "verbal")
    except ValueError:
        errors["consent"] = "consent is given verbally or in writing"
        return ConsentMethod.VERBAL
