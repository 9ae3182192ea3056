"""Field rules every intake shares (patient and caregiver): stored lengths and clean text.

The length limits are the stored column sizes: adapters/db/orm.py builds its columns from
them, so a value the rules let through always fits.
"""

from __future__ import annotations

import re

NAME_MAX = 100  # patients.first_name, patients.last_name
PHONE_MAX = 20  # patients.phone holds E.164, at most 16 characters
PHONE_TYPED_MAX = 40  # what may be typed before normalizing: "+1 (805) 555-0142"
EMAIL_MAX = 254  # patients.email (RFC 5321's limit on an address)
LANGUAGE_MAX = 8  # patients.language
TIMEZONE_MAX = 64  # patients.timezone
PROCEDURE_MAX = 64  # enrollments.procedure
KEY_MAX = 200  # enrollments.idempotency_key and enrollments.external_id
EXTERNAL_KEY_PREFIX = "ext:"
# The key stores the EHR's id behind its prefix, so the id gets what the prefix leaves.
EXTERNAL_ID_MAX = KEY_MAX - len(EXTERNAL_KEY_PREFIX)
ACTOR_MAX = 100  # enrollments.enrolled_by, consents.recorded_by
MAX_LEVELS = 10

LABELS = {
    "first_name": "the first name",
    "last_name": "the last name",
    "procedure": "the procedure",
    "timezone": "the time zone",
    "language": "the language",
    "external_id": "the external id",
    "enrolled_by": "who is enrolling",
}


# Names go into texts sent from the clinic's number: no markup and no links may ride in
# them ("Hi Rosa \"><img src=x>", "Hi Ana, see evil.example.com"). Apostrophes, hyphens,
# dots, accents and spaces stay allowed (O'Brien, Smith-Jones, St. John, Zoë).
NAME_FIELDS = frozenset({"first_name", "last_name", "caregiver_name", "caregiver_relationship"})
_MARKUP = re.compile(r"[<>{}\[\]`\\|]|&#?\w+;")
_LINK = re.compile(
    r"://|\bwww\.|@|\b[\w-]+\.(?:com|org|net|info|biz|io|co|ly|me|us|app|xyz|link|site|"
    r"online|gov|edu|ru|cn|tk|top|click)\b",
    re.IGNORECASE,
)


def markup_or_link(text: str) -> bool:
    """The text holds markup or something a phone would show as a link."""
    return bool(_MARKUP.search(text) or _LINK.search(text))


def text_field(
    value: object, field: str, limit: int, errors: dict[str, str], *, required: bool = False
) -> str:
    """The value trimmed, or "" with a message in `errors` when it cannot be stored."""
    label = LABELS.get(field, field.replace("_", " "))
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = f"{label} must be text"
        return ""
    text = value.strip()
    if required and not text:
        errors[field] = f"{label} is needed"
        return ""
    if len(text) > limit:
        # Never echo the value: it may be pages long, and names stay out of messages anyway.
        errors[field] = f"{label} is {len(text)} characters long; at most {limit} fit"
        return ""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        errors[field] = f"{label} must not contain control characters"
        return ""
    if field in NAME_FIELDS and markup_or_link(text):
        # Refused, not trimmed: a person fixes the record rather than a guess being texted.
        errors[field] = (
            f"{label} must be a name only: no <, >, brackets, web addresses, emails or links"
            " (it goes into the patient's texts)"
        )
        return ""
    return text
