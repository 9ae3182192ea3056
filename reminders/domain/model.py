"""The clinic's nouns: patients, consent, procedures, enrollments and scheduled messages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from reminders.domain.lifecycles.message import UNSENT, MessageStatus, Reason

__all__ = [  # the states live in domain/lifecycles/message.py; these names are re-exported for callers
    "UNSENT",
    "Caregiver",
    "Channel",
    "Consent",
    "ConsentMethod",
    "Enrollment",
    "MessageStatus",
    "Patient",
    "PlannedMessage",
    "ProcedureRecord",
    "Reason",
    "ScheduledMessage",
]


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class ConsentMethod(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"


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
class Caregiver:
    """An optional second recipient of an enrollment's safety texts (never check-ins)."""

    name: str
    phone: str | None  # E.164; never the patient's own phone
    email: str | None
    language: str
    relationship: str = ""
    sms_consent: bool = False
    email_consent: bool = False
    id: int | None = None

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels the caregiver consented to and can be reached on."""
        out = {Channel.SMS} if self.sms_consent and self.phone else set()
        if self.email_consent and self.email:
            out.add(Channel.EMAIL)
        return frozenset(out)


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
    reason_code: Reason | None = None
    first_sms: bool = False
    checkin: str | None = None
    kind: str = "care"  # care | resend | caregiver (see domain/outbound/decisions.py for what each kind obeys)
    resend_of: int | None = None  # for a resend: the failed message it sends again


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
    caregiver: Caregiver | None = None
