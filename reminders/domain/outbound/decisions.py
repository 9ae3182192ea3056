"""send_decision: whether an outgoing message goes now, waits, or is not sent at all; pure.

Every kind of outgoing message declares the guardrails it obeys (DESIGN.md rules 5 and
8): a patient's care text obeys them all; an alert to the on-call nurse obeys none of
the patient's (it must reach staff at 3 a.m.), only the sender's rate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from reminders.domain.lifecycles.message import MessageStatus, Reason
from reminders.domain.planning.sms_cap import SmsCap
from reminders.domain.planning.timing import QuietHours


class Kind(enum.StrEnum):
    CARE = "care"  # a step of the care plan
    RESEND = "resend"  # staff pressed "Send again" on a failed care message
    CHECKIN_REMINDER = "checkin_reminder"  # one nudge after a check-in went unanswered
    ONCALL_ALERT = "oncall_alert"  # a red flag, to the on-call contact
    CAREGIVER = "caregiver"  # safety texts to a patient's caregiver


@dataclass(frozen=True)
class Guardrails:
    enrollment: bool = True  # only while the enrollment is active
    consent: bool = True  # only on a channel the recipient consented to
    opt_out: bool = True  # never to a phone that said STOP
    deadline: bool = True  # never after the message's own deadline
    quiet_hours: bool = True  # only inside the recipient's sending window
    sms_cap: bool = True  # within the SMS cap of the recipient's phone


GUARDRAILS: dict[Kind, Guardrails] = {
    Kind.CARE: Guardrails(),
    Kind.RESEND: Guardrails(),
    Kind.CHECKIN_REMINDER: Guardrails(),
    Kind.CAREGIVER: Guardrails(),
    Kind.ONCALL_ALERT: Guardrails(
        enrollment=False,
        consent=False,
        opt_out=False,
        deadline=False,
        quiet_hours=False,
        sms_cap=False,
    ),
}


@dataclass(frozen=True)
class SendContext:
    """What deciding needs about one message, read by the caller in one go."""

    kind: Kind
    is_sms: bool
    deadline: datetime
    zone: ZoneInfo
    enrollment_active: bool = True
    consent_given: bool = True
    opted_out: bool = False
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    sms_cap: SmsCap = field(default_factory=SmsCap)
    other_texts: tuple[datetime, ...] = ()  # other texts to this phone, sent or planned


@dataclass(frozen=True)
class Go:
    pass


@dataclass(frozen=True)
class Skip:
    status: MessageStatus  # cancelled or skipped
    reason: Reason
    detail: str  # what staff read


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: Reason
    detail: str


Decision = Go | Skip | Defer


def send_decision(context: SendContext, now: datetime) -> Decision:
    """Decide one message at `now` by the guardrails of its kind, most final reason first."""
    rules = GUARDRAILS[context.kind]
    if rules.enrollment and not context.enrollment_active:
        return Skip(MessageStatus.CANCELLED, Reason.ENROLLMENT_CANCELLED, "enrollment cancelled")
    if rules.opt_out and context.is_sms and context.opted_out:
        return Skip(MessageStatus.CANCELLED, Reason.OPTED_OUT, "the phone opted out of SMS")
    if rules.consent and not context.consent_given:
        channel = "SMS" if context.is_sms else "email"
        return Skip(MessageStatus.SKIPPED, Reason.NO_CONSENT, f"no consent to {channel}")
    if rules.deadline and now > context.deadline:
        return Skip(
            MessageStatus.SKIPPED, Reason.STALE, "stale: its deadline passed before it could go"
        )
    latest = context.deadline if rules.deadline else datetime.max.replace(tzinfo=now.tzinfo)
    when = now
    if rules.quiet_hours:
        when = context.quiet_hours.next_allowed(now, context.zone)
    if when > latest:
        return Skip(
            MessageStatus.SKIPPED, Reason.STALE, "stale: quiet hours until past its deadline"
        )
    if rules.sms_cap and context.is_sms:
        allowed = (
            (lambda t: context.quiet_hours.next_allowed(t, context.zone))
            if rules.quiet_hours
            else (lambda t: t)
        )
        fit = context.sms_cap.earliest_fit(
            context.other_texts, when, context.zone, latest=latest, allowed=allowed
        )
        if fit is None:
            return Skip(
                MessageStatus.SKIPPED,
                Reason.SMS_LIMIT,
                "SMS limit: no room for another text before its deadline",
            )
        if fit > when:
            return Defer(fit, Reason.SMS_LIMIT, "waiting for room under the SMS limit")
    if when > now:
        return Defer(when, Reason.QUIET_HOURS, "waiting for the patient's morning")
    return Go()
