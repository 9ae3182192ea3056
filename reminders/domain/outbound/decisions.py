"""send_decision: whether an outgoing message goes now, waits, or is not sent at all; pure.

Every kind of outgoing message declares here, once, the guardrails it obeys and how it is
retried (KINDS). A patient's care text obeys every guardrail; a page to the on-call nurse
obeys none of the patient's (it must reach staff at 3 a.m.), only the sender's rate. The
decision reads one value, DecisionFacts, that holds every fact a guardrail needs and has
no defaults: a sender that forgot one fails when it builds the value, it cannot pass as
"consent given". adapters/db/decision_facts.py is the one place that loads it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from reminders.domain.lifecycles.enrollment import EnrollmentStatus
from reminders.domain.lifecycles.message import MessageStatus, Reason
from reminders.domain.planning.schedule import SchedulePolicy


class Kind(enum.StrEnum):
    CARE = "care"  # a step of the care plan
    RESEND = "resend"  # staff pressed "Send again" on a failed care message
    CAREGIVER = "caregiver"  # safety texts to a patient's caregiver
    CHECKIN_REMINDER = "checkin_reminder"  # one nudge after a check-in went unanswered
    SILENCE_NUDGE = "silence_nudge"  # the gentle text after two check-ins in a row unanswered
    ONCALL_PAGE = "oncall_page"  # a red flag's first page, to the on-call contact
    REPAGE = "repage"  # the same page again: nobody acknowledged
    BACKUP_PAGE = "backup_page"  # the backup contact: still nobody
    ONCALL_CALL = "oncall_call"  # the last rung: a voice call to the on-call phone


class Whose(enum.StrEnum):
    """Whose phone or address a message goes to, and so whose consent and STOP count."""

    PATIENT = "patient"
    CAREGIVER = "caregiver"
    STAFF = "staff"


class Retry(enum.StrEnum):
    """How a kind is tried again after a transient provider error."""

    UNTIL_DEADLINE = "until_deadline"  # backoff inside quiet hours, never past its deadline
    FOR_A_DAY = "for_a_day"  # staff: 30 s doubling to 10 min, any hour, for 24 hours
    NEVER = "never"  # a person takes over instead (a check-in's staff task)


@dataclass(frozen=True)
class Guardrails:
    enrollment: bool  # only while the enrollment is active
    consent: bool  # only on a channel the recipient consented to
    opt_out: bool  # never to a phone that said STOP
    deadline: bool  # never after the message's own deadline
    quiet_hours: bool  # only inside the recipient's sending window
    sms_cap: bool  # within the SMS cap of the recipient's phone


@dataclass(frozen=True)
class KindRules:
    recipient: Whose
    guardrails: Guardrails
    retry: Retry
    # A text takes the sender's rate-limit token. Without one in time a patient's text
    # gives up its turn (it is tried again); a page to staff keeps waiting for it.
    yields_turn: bool


FOR_PATIENTS = Guardrails(
    enrollment=True, consent=True, opt_out=True, deadline=True, quiet_hours=True, sms_cap=True
)
FOR_STAFF = Guardrails(
    enrollment=False,
    consent=False,
    opt_out=False,
    deadline=False,
    quiet_hours=False,
    sms_cap=False,
)
_PAGE = KindRules(Whose.STAFF, FOR_STAFF, Retry.FOR_A_DAY, yields_turn=False)

KINDS: dict[Kind, KindRules] = {
    Kind.CARE: KindRules(Whose.PATIENT, FOR_PATIENTS, Retry.UNTIL_DEADLINE, yields_turn=True),
    Kind.RESEND: KindRules(Whose.PATIENT, FOR_PATIENTS, Retry.UNTIL_DEADLINE, yields_turn=True),
    Kind.CAREGIVER: KindRules(
        Whose.CAREGIVER, FOR_PATIENTS, Retry.UNTIL_DEADLINE, yields_turn=True
    ),
    Kind.CHECKIN_REMINDER: KindRules(Whose.PATIENT, FOR_PATIENTS, Retry.NEVER, yields_turn=True),
    Kind.SILENCE_NUDGE: KindRules(Whose.PATIENT, FOR_PATIENTS, Retry.NEVER, yields_turn=True),
    Kind.ONCALL_PAGE: _PAGE,
    Kind.REPAGE: _PAGE,
    Kind.BACKUP_PAGE: _PAGE,
    Kind.ONCALL_CALL: _PAGE,
}
# The old name of the table above, as the guardrails alone.
GUARDRAILS: dict[Kind, Guardrails] = {kind: rules.guardrails for kind, rules in KINDS.items()}

PHONE_CHANNELS = frozenset({"sms", "voice"})  # a call counts like a text (STOP, cap)
CHANNELS = PHONE_CHANNELS | {"email"}


@dataclass(frozen=True)
class DecisionFacts:
    """Every fact any guardrail needs about one message, loaded in one place; no defaults."""

    kind: Kind
    channel: str  # sms | email | voice
    recipient: Whose
    enrollment: EnrollmentStatus | None  # None: a message that belongs to no enrollment
    consent_given: bool  # the recipient's own consent to this channel, as recorded
    opted_out: bool  # the recipient's phone said STOP (or the carrier did)
    cap_lifted: bool  # written consent to more texts than the default cap
    deadline: datetime | None  # None only for kinds that keep no deadline
    zone: ZoneInfo  # the recipient's sending window is read in this zone
    other_texts: tuple[datetime, ...]  # other texts to this phone, sent or planned

    def __post_init__(self) -> None:
        rules = KINDS[self.kind]
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        if self.recipient is not rules.recipient:
            raise ValueError(
                f"a {self.kind} message goes to the {rules.recipient}, not the {self.recipient}"
            )
        if rules.guardrails.deadline and self.deadline is None:
            raise ValueError(f"a {self.kind} message needs its deadline")
        if rules.guardrails.enrollment and self.enrollment is None:
            raise ValueError(f"a {self.kind} message needs its enrollment's state")

    @property
    def is_phone(self) -> bool:
        return self.channel in PHONE_CHANNELS

    def with_texts(self, more: tuple[datetime, ...]) -> DecisionFacts:
        """The same facts with more texts to this phone (a batch's own, decided in order)."""
        if not more:
            return self
        return DecisionFacts(
            kind=self.kind,
            channel=self.channel,
            recipient=self.recipient,
            enrollment=self.enrollment,
            consent_given=self.consent_given,
            opted_out=self.opted_out,
            cap_lifted=self.cap_lifted,
            deadline=self.deadline,
            zone=self.zone,
            other_texts=self.other_texts + more,
        )


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


def send_decision(facts: DecisionFacts, policy: SchedulePolicy, now: datetime) -> Decision:
    """Decide one message at `now` by the guardrails of its kind, most final reason first."""
    rules = KINDS[facts.kind].guardrails
    if rules.enrollment and facts.enrollment is not EnrollmentStatus.ACTIVE:
        state = facts.enrollment.value if facts.enrollment else "gone"
        return Skip(MessageStatus.CANCELLED, Reason.ENROLLMENT_CANCELLED, f"enrollment {state}")
    if rules.opt_out and facts.is_phone and facts.opted_out:
        return Skip(MessageStatus.CANCELLED, Reason.OPTED_OUT, "the phone opted out of SMS")
    if rules.consent and not facts.consent_given:
        channel = {"sms": "SMS", "email": "email", "voice": "calls"}[facts.channel]
        return Skip(MessageStatus.SKIPPED, Reason.NO_CONSENT, f"no consent to {channel}")
    deadline = facts.deadline if rules.deadline else None
    if deadline is not None and now > deadline:
        return Skip(
            MessageStatus.SKIPPED, Reason.STALE, "stale: its deadline passed before it could go"
        )
    when = now
    if rules.quiet_hours:
        when = policy.quiet_hours.next_allowed(now, facts.zone)
    if deadline is not None and when > deadline:
        return Skip(
            MessageStatus.SKIPPED, Reason.STALE, "stale: quiet hours until past its deadline"
        )
    if rules.sms_cap and facts.is_phone:
        cap = policy.sms_cap_with_written_consent if facts.cap_lifted else policy.sms_cap
        latest = deadline or datetime.max.replace(tzinfo=now.tzinfo)
        allowed = (
            (lambda t: policy.quiet_hours.next_allowed(t, facts.zone))
            if rules.quiet_hours
            else (lambda t: t)
        )
        fit = cap.earliest_fit(facts.other_texts, when, facts.zone, latest=latest, allowed=allowed)
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
