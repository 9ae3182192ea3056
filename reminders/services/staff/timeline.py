"""A patient's recovery as staff read it: days, a now line, what was sent and answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jinja2 import TemplateError

from reminders.adapters.db.enrollments.care_repository import CheckinReply, OpenRedFlag, SmsOptOut
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.model import Channel, Enrollment, MessageStatus, ScheduledMessage
from reminders.domain.planning.careplan import CarePlan, readable_key
from reminders.domain.planning.timing import zone_named
from reminders.services.content import Clinic, message_context

DONE = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED})
TROUBLE = frozenset({MessageStatus.FAILED, MessageStatus.UNDELIVERED})
RESENDABLE_TONES = frozenset({"trouble"})
# Words a nurse reads for each state (the state machine's names are for the code).
STATUS_WORDS = {
    MessageStatus.SCHEDULED: "planned",
    MessageStatus.QUEUED: "sending",
    MessageStatus.SENDING: "sending",
    MessageStatus.SENT: "sent",
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.UNDELIVERED: "not delivered",
    MessageStatus.FAILED: "failed",
    MessageStatus.CANCELLED: "cancelled",
    MessageStatus.SKIPPED: "skipped",
}
# What Twilio's error codes mean for the nurse who has to act on them.
PROVIDER_ERRORS = {
    "21211": "the number is not a valid phone number",
    "21610": "the patient has opted out (STOP)",
    "21614": "the number cannot receive texts (not a mobile)",
    "30003": "the phone was unreachable (switched off or no signal)",
    "30005": "the number is unknown or no longer in service",
    "30006": "a landline or a carrier that cannot receive texts",
    "30008": "the carrier reported an unknown error",
}
MARKS = {"done": "✓", "trouble": "✕", "waiting": "○", "off": "–", "answered": "↩", "flag": "⚑"}


@dataclass(frozen=True)
class Preview:
    """The message as the patient received it (or will): the text, and an email's subject."""

    text: str
    subject: str | None = None
    exact: bool = False  # the stored text that went out, not a rendering of today's template


@dataclass(frozen=True)
class TimelineEntry:
    """One outgoing message in the patient's recovery, at the patient's local time."""

    local_time: datetime
    message: ScheduledMessage
    superseded: bool  # cancelled by a later re-plan of the same enrollment
    title: str
    preview: Preview | None
    answer: CheckinReply | None = None
    resent: bool = False  # staff already sent it again (its resend is another entry)
    now_before: bool = False  # the "now" line falls just before this entry

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

    @property
    def mark(self) -> str:
        """The look of the entry on the days strip: red flag, answered, or its tone."""
        if self.answer is not None:
            return "flag" if self.answer.red_flag else "answered"
        return self.tone

    @property
    def symbol(self) -> str:
        return MARKS[self.mark]

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.message.status, self.message.status.value)

    @property
    def channel_words(self) -> str:
        words = "Text message" if self.message.channel is Channel.SMS else "Email"
        return f"{words} to caregiver" if self.to_caregiver else words

    @property
    def to_caregiver(self) -> bool:
        return self.message.kind == "caregiver"

    @property
    def problem(self) -> str | None:
        return problem_text(self.message)


@dataclass
class TimelineDay:
    day: int  # calendar days after the procedure day, in the patient's zone
    date: date
    entries: list[TimelineEntry] = field(default_factory=list)
    today: bool = False
    now_after: bool = False  # the "now" line comes right after this day on the strip
    # Open red flags raised by a text on this day that answered no question (free text):
    # no message carries them, so the strip marks them on their own.
    flags: list[OpenRedFlag] = field(default_factory=list)


@dataclass(frozen=True)
class Journey:
    days: list[TimelineDay]
    now: datetime  # in the patient's zone
    today: int  # day of recovery, today
    now_at_end: bool  # every message is in the past
    counts: dict[str, int]  # flags: the open red flags, free text and answers alike
    red_flags: list[OpenRedFlag]
    opt_out: SmsOptOut | None
    standing: tuple[str, str]  # the enrollment's state in words, and its label's tone
    now_at_start: bool = False  # every message is still ahead
    caregiver_opt_out: SmsOptOut | None = None  # the caregiver's phone said STOP


def problem_text(m: ScheduledMessage) -> str | None:
    """Why a message did not go, said once: what a known Twilio code means, else the text."""
    meaning = PROVIDER_ERRORS.get(m.error_code or "")
    if meaning:
        return f"{meaning} (error {m.error_code})"
    parts: list[str] = []
    for piece in (m.status_reason, m.error_message):
        piece = (piece or "").strip()
        if not piece or any(piece in p for p in parts):
            continue
        parts = [p for p in parts if p not in piece] + [piece]
    text = "; ".join(parts)
    if m.error_code and m.error_code not in text:
        text = f"{text} (error {m.error_code})" if text else f"error {m.error_code}"
    return text or None


def step_title(plan: CarePlan, m: ScheduledMessage, language: str = "en") -> str:
    """The plan's words for the message's steps in the staff's language (merged: "A; B")."""
    titles = []
    for part in m.parts:
        try:
            titles.append(plan.step(part).title_in(language))
        except KeyError:  # a step since removed from the plan
            titles.append(readable_key(part))
    return "; ".join(titles)


def preview(
    m: ScheduledMessage,
    *,
    plan: CarePlan,
    renderer: MessageRenderer,
    context: dict[str, Any],
    language: str,
) -> Preview | None:
    """What the patient got: the stored SMS text, or the email as its template renders it."""
    sent = m.status in DONE or m.status in TROUBLE
    try:
        if m.channel is Channel.SMS:
            if sent and m.body:
                return Preview(text=m.body, exact=True)
            text = renderer.sms(plan.procedure, language, m.parts, context, first=m.first_sms)
            return Preview(text=text)
        email = renderer.email(plan.procedure, language, m.parts, context)
        return Preview(
            text=email.text.strip(), subject=(m.body if sent and m.body else None) or email.subject
        )
    except TemplateError:
        return None  # the template changed since; the page says the text cannot be shown


def patient_journey(
    enrollment: Enrollment,
    *,
    uow: UnitOfWork,
    plan: CarePlan,
    renderer: MessageRenderer,
    clinic: Clinic,
    now: datetime,
    show_superseded: bool = False,
    staff_language: str = "en",
) -> Journey:
    """The patient's messages by local day with previews, answers, the now line and alerts."""
    assert enrollment.id is not None
    with uow:
        answers = uow.care.checkin_replies(enrollment.id)
        red_flags = uow.care.open_red_flags(enrollment.id)
        opt_out = uow.care.sms_opt_out(enrollment.patient.phone)
        cg = enrollment.caregiver
        cg_opt_out = uow.care.sms_opt_out(cg.phone) if cg and cg.phone else None
    zone = zone_named(enrollment.patient.timezone)
    first_day = enrollment.procedure.performed_at.astimezone(zone).date()
    local_now = now.astimezone(zone)
    context = message_context(
        plan=plan, patient=enrollment.patient, procedure=enrollment.procedure, clinic=clinic
    )
    language = enrollment.patient.language
    to_caregiver = (language, context)
    if cg is not None:  # a caregiver's message reads as the caregiver got it
        to_caregiver = (
            cg.language,
            message_context(
                plan=plan,
                patient=enrollment.patient,
                procedure=enrollment.procedure,
                clinic=clinic,
                caregiver=cg,
            ),
        )
    days: dict[date, TimelineDay] = {}
    resent = {m.resend_of for m in enrollment.messages if m.resend_of is not None}
    counts = {"total": 0, "sent": 0, "answered": 0, "trouble": 0, "flags": len(red_flags)}
    line_drawn = False
    for m in sorted(enrollment.messages, key=lambda m: (m.send_at, m.id or 0)):
        superseded = m.revision < enrollment.revision and m.status is MessageStatus.CANCELLED
        if superseded and not show_superseded:
            continue
        local = m.send_at.astimezone(zone)
        bucket = days.setdefault(
            local.date(), TimelineDay(day=(local.date() - first_day).days, date=local.date())
        )
        answer = answers.get(m.id or 0)
        now_before = not line_drawn and m.send_at > now
        line_drawn = line_drawn or now_before
        lang, ctx = to_caregiver if m.kind == "caregiver" else (language, context)
        entry = TimelineEntry(
            local_time=local,
            message=m,
            superseded=superseded,
            title=step_title(plan, m, staff_language),
            preview=preview(m, plan=plan, renderer=renderer, context=ctx, language=lang),
            answer=answer,
            resent=m.id in resent,
            now_before=now_before,
        )
        bucket.entries.append(entry)
        counts["total"] += 1
        counts["sent"] += entry.tone == "done"
        counts["trouble"] += entry.tone == "trouble"
        counts["answered"] += answer is not None
    for flag in red_flags:
        if not flag.answered:
            on = flag.created_at.astimezone(zone).date()
            days.setdefault(on, TimelineDay(day=(on - first_day).days, date=on)).flags.append(flag)
    ordered = [days[d] for d in sorted(days)]
    for d in ordered:
        d.today = d.date == local_now.date()
    past = [d for d in ordered if d.date <= local_now.date()]
    if past and len(past) < len(ordered):
        past[-1].now_after = True
    email_on = any(c.given and c.channel is Channel.EMAIL for c in enrollment.consents)
    return Journey(
        days=ordered,
        now=local_now,
        today=(local_now.date() - first_day).days,
        now_at_end=not line_drawn and bool(ordered),
        counts=counts,
        red_flags=red_flags,
        opt_out=opt_out,
        standing=standing(enrollment.status, opted_out=opt_out is not None, email_on=email_on),
        now_at_start=bool(ordered) and not past,
        caregiver_opt_out=cg_opt_out,
    )


def standing(status: str, *, opted_out: bool, email_on: bool) -> tuple[str, str]:
    """Active, cancelled, or stopped by the patient: what the header says, and its tone."""
    if status != "active":
        return status, "cancelled"
    if opted_out:
        if email_on:
            return "email only: texts stopped by the patient", "warning"
        return "no messages: the patient opted out", "trouble"
    return "active", "active"
