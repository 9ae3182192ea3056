"""What staff work with: escalations (red flags and tasks), their alerts, and inbound texts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reminders.domain.errors import ReminderError
from reminders.domain.lifecycles.escalation import EscalationStatus


class EscalationNotFound(ReminderError):
    field = "id"


class EscalationClosed(ReminderError):
    """The escalation was already resolved."""


class InboundNotFound(ReminderError):
    field = "id"


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str  # oncall_alert | checkin_reminder
    channel: str
    recipient: str
    status: str  # pending | sending | sent | delivered | undelivered | failed
    attempts: int
    error_code: str | None = None
    error_class: str | None = None
    error_message: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    step: str | None = None  # an on-call alert's rung: page | repage | backup | call
    created_at: datetime | None = None

    @property
    def gave_up(self) -> bool:
        return self.status in ("failed", "undelivered") and self.next_attempt_at is None


@dataclass(frozen=True)
class Escalation:
    id: int
    kind: str  # red_flag | no_answer | task
    reason: str
    status: EscalationStatus
    created_at: datetime
    enrollment_id: int | None
    patient_name: str = ""
    phone: str | None = None
    timezone: str = "UTC"
    reply: str | None = None  # the patient's text that raised it
    notes: str = ""
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    code: str | None = None  # "ACK <code>" by text acknowledges it
    pages: int = 0  # rungs of the paging ladder done
    next_page_at: datetime | None = None
    notifications: tuple[Notification, ...] = ()
    caregiver_name: str | None = None  # the patient's caregiver, whom staff may call too
    caregiver_phone: str | None = None

    @property
    def alert_trouble(self) -> bool:
        return any(n.status in ("failed", "undelivered") for n in self.notifications)


@dataclass(frozen=True)
class InboundText:
    id: int
    from_phone: str
    body: str
    received_at: datetime
    action: str
    detail: str | None
    reply: str | None
    needs_staff: bool
    enrollment_id: int | None = None
    patient_name: str = ""
    timezone: str = "UTC"
    answer: str | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
