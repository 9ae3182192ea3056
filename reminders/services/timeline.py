"""A patient's plan as staff read it: entries grouped by local day, in the patient's zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from reminders.domain.model import Enrollment, MessageStatus, ScheduledMessage
from reminders.domain.timing import zone_named

DONE = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED})
TROUBLE = frozenset({MessageStatus.FAILED, MessageStatus.UNDELIVERED})
RESENDABLE_TONES = frozenset({"trouble"})


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happens in the patient's recovery, at a local time.

    Outgoing messages only; the patient page lists the patient's replies and check-in
    answers in their own section below the timeline.
    """

    kind: Literal["message"]
    local_time: datetime
    message: ScheduledMessage
    superseded: bool  # cancelled by a later re-plan of the same enrollment
    resent: bool = False  # staff already sent it again (its resend is another entry)

    @property
    def tone(self) -> str:
        """A word for the page's colour: done, trouble, waiting or off."""
        status = self.message.status
        if status in DONE:
            return "done"
        if status in TROUBLE:
            return "trouble"
        if status in (MessageStatus.CANCELLED, MessageStatus.SKIPPED):
            return "off"
        return "waiting"


@dataclass
class TimelineDay:
    day: int  # calendar days after the procedure day, in the patient's zone
    date: date
    entries: list[TimelineEntry] = field(default_factory=list)


def patient_timeline(enrollment: Enrollment, *, show_superseded: bool = False) -> list[TimelineDay]:
    """Group the enrollment's messages by the patient's local day, oldest first."""
    zone = zone_named(enrollment.patient.timezone)
    first_day = enrollment.procedure.performed_at.astimezone(zone).date()
    days: dict[date, TimelineDay] = {}
    resent = {m.resend_of for m in enrollment.messages if m.resend_of is not None}
    for m in enrollment.messages:
        superseded = m.revision < enrollment.revision and m.status is MessageStatus.CANCELLED
        if superseded and not show_superseded:
            continue
        local = m.send_at.astimezone(zone)
        bucket = days.setdefault(
            local.date(), TimelineDay(day=(local.date() - first_day).days, date=local.date())
        )
        bucket.entries.append(
            TimelineEntry(
                kind="message",
                local_time=local,
                message=m,
                superseded=superseded,
                resent=m.id in resent,
            )
        )
    return [days[d] for d in sorted(days)]
