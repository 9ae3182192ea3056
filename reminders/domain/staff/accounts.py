"""Who does things: staff users, API tokens, audit entries and import outcomes, as plain data."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from reminders.domain.errors import ReminderError
from reminders.domain.staff.limits import PASSWORD_MAX

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
# NIST 800-63B: no composition rules, but refuse what is common, breached or guessable.
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])  # zxcvbn's 30,000 most common
MIN_GUESSES_LOG10 = 6  # a password found within a million guesses is refused


class Role(enum.StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


class InvalidCredentials(ReminderError):
    """A login failed; the message never says which half was wrong."""

    field = "password"


class LoginLocked(InvalidCredentials):
    """Too many failed sign-ins for this account or from this address: wait, or ask an admin."""


class InvalidAccount(ReminderError):
    """A staff account or token cannot be created as asked."""


class NotAllowed(ReminderError):
    """The signed-in user's role does not allow this."""


class CannotResend(ReminderError):
    """Only a failed or undelivered message that is still useful can be sent again."""

    field = "message"


class ResendNeedsConfirmation(CannotResend):
    """The patient already answered the question this message asks: staff must confirm."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    full_name: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None = None
    totp_enabled: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def needs_second_factor(self, *, for_staff: bool) -> bool:
        """Admins always; staff when the clinic asks for it or when they set one up."""
        return self.is_admin or for_staff or self.totp_enabled


class Scope(enum.StrEnum):
    """What an API token may do: least privilege for each EHR, script or scraper."""

    ENROLL = "enroll"  # create, change and cancel enrollments
    READ = "read"  # read enrollments with their patient and messages
    FHIR = "fhir"  # POST /fhir/Procedure
    METRICS = "metrics"  # /metrics and the details of /readyz


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    scopes: frozenset[Scope] = ALL_SCOPES
    expires_at: datetime | None = None

    @property
    def actor(self) -> str:
        return f"token:{self.name}"

    def live(self, now: datetime) -> bool:
        """Not revoked and not past its expiry."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    detail: str
    enrollment_id: int | None = None
    id: int | None = None
    client_addr: str | None = None


def parse_scopes(raw: str) -> frozenset[Scope]:
    """Scopes from their stored or typed form ("enroll read"); unknown words are refused."""
    words = raw.replace(",", " ").split()
    unknown = [w for w in words if w not in {s.value for s in Scope}]
    if unknown:
        raise InvalidAccount(
            f"unknown scope {unknown[0]!r}: use " + ", ".join(s.value for s in Scope),
            field="scope",
        )
    return frozenset(Scope(w) for w in words)


_DURATION = re.compile(r"\s*(\d{1,4})\s*([hdw])\s*")


def parse_expiry(text: str, *, now: datetime, zone: tzinfo = UTC) -> datetime:
    """90d, 12w, 36h or an ISO date (its midnight in `zone`) as the moment a token stops working."""
    found = _DURATION.fullmatch(text.lower())
    if found:
        hours = {"h": 1, "d": 24, "w": 24 * 7}[found.group(2)] * int(found.group(1))
        return now + timedelta(hours=hours)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidAccount(
            f"{text!r} is not a duration or date: use 90d, 12w, 36h or 2027-01-31",
            field="expires",
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def scopes_text(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(s.value for s in scopes))


def shown_name(raw: str) -> str:
    """A typed name quoted back in a message; a very long one by its length only."""
    return repr(raw) if len(raw or "") <= 64 else f"a name of {len(raw):,} characters"


def check_username(raw: str) -> str:
    """Return the username lowercased, or raise InvalidAccount saying what is allowed."""
    name = (raw or "").strip().lower()
    if not USERNAME.match(name):
        raise InvalidAccount(
            f"{shown_name(raw)} is not a username: use 2-64 letters, digits, dots, dashes or underscores",
            field="username",
        )
    return name


def check_password(password: str, *, username: str = "") -> None:
    """Refuse passwords too short, too long, common, or guessable (NIST SP 800-63B 3.1.1.2).

    Length and a blocklist only: no "one digit, one capital" rules, which make passwords
    harder to remember and no harder to guess. The blocklist is zxcvbn's list of the most
    common passwords (from breaches); its estimate also catches repeats, sequences, a
    common word with digits, keyboard walks and the username itself.
    """
    if len(password) < MIN_PASSWORD:
        raise InvalidAccount(
            f"the password needs at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > PASSWORD_MAX:
        raise InvalidAccount(
            f"the password is {len(password):,} characters long; at most {PASSWORD_MAX} fit",
            field="password",
        )
    if password.lower() in COMMON_PASSWORDS or (
        zxcvbn(password, user_inputs=[username] if username else [])["guesses_log10"]
        < MIN_GUESSES_LOG10
    ):
        raise InvalidAccount(
            "that password is one of the common or easily guessed ones (a repeat, a sequence,"
            " a common word with digits, or the username): choose another, for example"
            " three or four unrelated words",
            field="password",
        )
