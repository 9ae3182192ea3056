"""The clinic's nouns: patients, consent, procedures, enrollments and scheduled messages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from reminders.domain.errors import IllegalTransition


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class ConsentMethod(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"


class MessageStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


UNSENT = frozenset({MessageStatus.SCHEDULED, MessageStatus.QUEUED})
FINAL = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.FAILED,
        MessageStatus.CANCELLED,
        MessageStatus.SKIPPED,
    }
)

# scheduled -> queued -> sending -> sent -> delivered | undelivered | failed;
# cancelled / skipped from any unsent state. A queued row whose lease expired goes back
# to queued (claimed again); a sending row whose lease expired is reconciled.
TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    MessageStatus.SCHEDULED: frozenset(
        {MessageStatus.QUEUED, MessageStatus.CANCELLED, MessageStatus.SKIPPED}
    ),
    MessageStatus.QUEUED: frozenset(
        {
            MessageStatus.QUEUED,
            MessageStatus.SENDING,
            MessageStatus.SCHEDULED,
            MessageStatus.CANCELLED,
            MessageStatus.SKIPPED,
        }
    ),
    MessageStatus.SENDING: frozenset(
        {
            MessageStatus.QUEUED,  # returned unsent: no rate-limit token came in time
            MessageStatus.SENT,
            MessageStatus.DELIVERED,
            MessageStatus.UNDELIVERED,
            MessageStatus.FAILED,
            MessageStatus.SCHEDULED,  # transient error: retried later, before its deadline
        }
    ),
    MessageStatus.SENT: frozenset(
        {MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}
    ),
    MessageStatus.DELIVERED: frozenset(),
    MessageStatus.UNDELIVERED: frozenset(),
    MessageStatus.FAILED: frozenset(),
    MessageStatus.CANCELLED: frozenset(),
    MessageStatus.SKIPPED: frozenset(),
}


def check_transition(current: MessageStatus, new: MessageStatus) -> None:
    """Raise IllegalTransition unless the state machine allows current -> new."""
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a message cannot go from {current} to {new}")


@dataclass(frozen=True)
class Patient:
    first_name: str
    last_name: str
    phone: str | None  # E.164
    email: str | None
    language: str
    timezone: str  # IANA name
    id: int | None = None


@dataclass(frozen=True)
class Consent:
    channel: Channel
    given: bool
    method: ConsentMethod
    recorded_by: str
    recorded_at: datetime
    more_frequent_sms: bool = False  # written consent to more than the default SMS cap

    @property
    def lifts_sms_cap(self) -> bool:
        return (
            self.channel is Channel.SMS
            and self.given
            and self.method is ConsentMethod.WRITTEN
            and self.more_frequent_sms
        )


@dataclass(frozen=True)
class ProcedureRecord:
    procedure: str  # care-plan key, e.g. "kyphoplasty"
    performed_at: datetime  # aware
    levels: int = 1
    overnight: bool = False
    external_id: str | None = None


@dataclass(frozen=True)
class PlannedMessage:
    """One message the plan wants sent: the output of expand_care_plan."""

    step_key: str  # "a" or, for same-day SMS merged into one text, "a+b"
    parts: tuple[str, ...]
    channel: Channel
    category: str
    send_at: datetime  # UTC
    deadline: datetime  # UTC; not sent after this
    status: MessageStatus = MessageStatus.SCHEDULED
    status_reason: str | None = None
    first_sms: bool = False
    checkin: str | None = None


@dataclass(frozen=True)
class ScheduledMessage(PlannedMessage):
    """A planned message as stored, with its delivery record (a snapshot: changes go
    through the repository's conditional updates, never by mutating this)."""

    id: int | None = None
    enrollment_id: int | None = None
    revision: int = 1
    attempts: int = 0
    provider_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_class: str | None = None
    body: str | None = None  # what went out: the SMS text or the email subject
    last_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Enrollment:
    patient: Patient
    procedure: ProcedureRecord
    consents: list[Consent]
    idempotency_key: str
    id: int | None = None
    status: str = "active"  # active | cancelled
    revision: int = 1
    created_at: datetime | None = None
    messages: list[ScheduledMessage] = field(default_factory=list)
