"""How long each free text staff type may be, and the one check that says so clearly."""

from __future__ import annotations

from reminders.domain.errors import ReminderError

FULL_NAME_MAX = 200  # staff_users.full_name
PASSWORD_MAX = 256  # hashed, so any length fits; a bound keeps a megabyte from being hashed
ACTOR_MAX = 100  # who acted (a username, "cli", "token:NAME"): audit_log.actor and others
NOTE_MAX = 2000  # an inbox note (escalations.notes keeps all notes, each one this long)
REASON_MAX = 500  # why an enrollment was cancelled
SEARCH_MAX = 100  # a patient search
FILTER_MAX = 120  # a filter of the audit log (a username, an action, a patient number)
CHOICE_MAX = 40  # a value picked from a list (a language, a role): anything longer is none


class TooLong(ReminderError):
    """A typed value is longer than its field holds."""


def check_length(value: str, *, field: str, limit: int, label: str | None = None) -> str:
    """Return the value if it fits; else raise TooLong naming the field, its length and the limit.

    The message never repeats the value (it may be pasted patient data, and it is long).
    """
    if len(value) > limit:
        name = label or field.replace("_", " ")
        raise TooLong(
            f"the {name} is {len(value):,} characters long; at most {limit:,} fit", field=field
        )
    return value
