"""Inbound texts: store every one, then opt out, opt in, help, or take a check-in answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from reminders.adapters.checkin_repository import CheckIn
from reminders.adapters.contact_repository import PhoneMatch
from reminders.adapters.rendering import MessageRenderer
from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.contact import mask_phone
from reminders.domain.replies import (
    ANSWER_WINDOW,
    Action,
    Intent,
    bone_med_task,
    interpret,
    red_flag,
)
from reminders.services import audit
from reminders.services.acknowledgement import acknowledge_by_text
from reminders.services.alerts import OnCall, patient_text, raise_red_flag
from reminders.services.content import Clinic
from reminders.services.opt_outs import opt_in, opt_out

log = logging.getLogger("reminders.replies")
OPEN = ("open", "no_answer")  # a late answer (after the staff task) still counts


@dataclass(frozen=True)
class InboundSms:
    """A text as Twilio posted it."""

    from_phone: str
    body: str
    sid: str | None = None
    to_phone: str | None = None
    opt_out_type: str | None = None


@dataclass(frozen=True)
class Replying:
    """What answering a patient needs, wired once by the entrypoint."""

    renderer: MessageRenderer
    clinic: Clinic
    oncall: OnCall
    public_url: str


@dataclass(frozen=True)
class Handled:
    inbound_id: int
    action: str
    reply: str | None  # the TwiML message, if any
    notification_ids: tuple[int, ...] = ()
    duplicate: bool = False


@dataclass
class _Outcome:
    action: str
    detail: str = ""
    reply: str | None = None
    needs_staff: bool = False
    message_id: int | None = None
    notification_ids: tuple[int, ...] = ()


def receive_sms(msg: InboundSms, *, uow: UnitOfWork, replying: Replying, now: datetime) -> Handled:
    """Store an inbound text and act on it in one transaction; a replay changes nothing."""
    phone = msg.from_phone.strip()
    try:
        with uow:
            if msg.sid and (seen := uow.inbound.inbound_by_sid(msg.sid)) is not None:
                return Handled(seen.id, seen.action, seen.reply, duplicate=True)
            # An on-call phone answering an alert, before any patient matching.
            ack = acknowledge_by_text(
                uow, phone=phone, body=msg.body, oncall=replying.oncall,
                clinic=replying.clinic, now=now,
            )  # fmt: skip
            if ack is not None:
                inbound_id = uow.inbound.add_inbound(
                    message_sid=msg.sid or None,
                    from_phone=phone,
                    to_phone=msg.to_phone,
                    body=msg.body,
                    received_at=now,
                    action="ack",
                    detail=f"on-call acknowledgement: {ack.outcome}",
                    reply=ack.reply,
                    needs_staff=ack.outcome == "unknown",
                )
                uow.commit()
                return Handled(inbound_id, "ack", ack.reply)
            patient = uow.contacts.match_phone(phone)
            inbound_id = uow.inbound.add_inbound(
                message_sid=msg.sid or None,
                from_phone=phone,
                to_phone=msg.to_phone,
                body=msg.body,
                received_at=now,
                enrollment_id=patient.enrollment_id if patient else None,
                action="received",
                needs_staff=True,  # until decided otherwise below
            )
            opted_out = uow.opt_outs.is_opted_out(phone)
            uow.checkins.track_checkins(since=now - ANSWER_WINDOW, now=now, phone=phone)
            latest = uow.checkins.latest_checkin(phone, since=now - ANSWER_WINDOW)
            checkin = latest if latest is not None and latest.status in OPEN else None
            intent = interpret(
                msg.body,
                open_checkin=checkin.kind if checkin else None,
                opted_out=opted_out,
                opt_out_type=msg.opt_out_type,
            )
            ctx = _Context(uow, replying, phone, patient, checkin, inbound_id, msg.body, now)
            outcome = _act(intent, ctx, opted_out=opted_out)
            if patient is not None and patient.caregiver:  # staff see who wrote
                outcome.detail = f"from the caregiver ({patient.caregiver}): {outcome.detail}"
            uow.inbound.update_inbound(
                inbound_id,
                action=outcome.action,
                detail=outcome.detail[:2000] or None,
                reply=outcome.reply,
                needs_staff=outcome.needs_staff,
                message_id=outcome.message_id,
            )
            uow.commit()
    except IntegrityError:
        if not msg.sid:
            raise
        with uow:  # the same MessageSid arrived twice at once: the other request won
            seen = uow.inbound.inbound_by_sid(msg.sid)
        if seen is None:
            raise
        return Handled(seen.id, seen.action, seen.reply, duplicate=True)
    log.info("inbound text from %s: %s", mask_phone(phone), outcome.action)
    return Handled(inbound_id, outcome.action, outcome.reply, outcome.notification_ids)


def store_unprocessed(msg: InboundSms, *, uow: UnitOfWork, error: str, now: datetime) -> int | None:
    """Keep a text that could not be handled, for staff: nothing inbound is dropped."""
    with uow:
        if msg.sid and (seen := uow.inbound.inbound_by_sid(msg.sid)) is not None:
            return seen.id
        inbound_id = uow.inbound.add_inbound(
            message_sid=msg.sid or None,
            from_phone=msg.from_phone.strip(),
            to_phone=msg.to_phone,
            body=msg.body,
            received_at=now,
            action="error",
            detail=f"could not be handled: {error}"[:2000],
            needs_staff=True,
        )
        uow.commit()
        return inbound_id


@dataclass(frozen=True)
class _Context:
    uow: UnitOfWork
    replying: Replying
    phone: str
    patient: PhoneMatch | None
    checkin: CheckIn | None
    inbound_id: int
    body: str
    now: datetime

    def text(self, name: str) -> str:
        language = self.patient.language if self.patient else "en"
        return patient_text(self.replying.renderer, self.replying.clinic, language, name)

    def audit(self, action: str, detail: str) -> None:
        if self.patient is not None:
            audit.record(
                self.uow,
                actor="caregiver" if self.patient.caregiver else "patient",
                action=action,
                detail=detail,
                now=self.now,
                enrollment_id=self.patient.enrollment_id,
            )


def _act(intent: Intent, ctx: _Context, *, opted_out: bool) -> _Outcome:
    uow, now, phone = ctx.uow, ctx.now, ctx.phone
    if intent.action is Action.OPT_OUT:
        cancelled = opt_out(
            uow, phone, source="keyword", detail=f"replied {intent.keyword}", now=now
        )
        uow.checkins.close_checkins(phone, reason="the patient opted out of texts", now=now)
        detail = (
            f"opted out of texts by replying {intent.keyword}; {cancelled} unsent texts cancelled"
        )
        ctx.audit("sms_opt_out", detail)
        return _Outcome("opt_out", detail)  # Twilio confirms STOP itself and blocks our reply
    if intent.action is Action.OPT_IN:
        if not opted_out:
            lone_yes = intent.keyword == "YES"
            detail = "was not opted out" + ("; a YES with no question open" if lone_yes else "")
            return _Outcome("opt_in", detail, needs_staff=lone_yes)
        restored = opt_in(uow, phone, keyword=intent.keyword or "START", now=now)
        detail = f"opted back in by replying {intent.keyword}; {restored} future texts restored"
        ctx.audit("sms_opt_in", detail)
        return _Outcome("opt_in", detail)
    if intent.action is Action.HELP:
        return _Outcome("help", f"asked for help ({intent.keyword})", ctx.text("help"))
    if intent.action is Action.ANSWER and ctx.checkin is not None and intent.answer is not None:
        return _answer(intent, ctx, ctx.checkin)
    if intent.action is Action.UNCLEAR and ctx.checkin is not None:
        checkin = ctx.checkin
        if uow.checkins.claim_checkin_step(checkin.id, "clarified_at", now=now):
            return _Outcome(
                "clarify",
                f"unclear {checkin.kind} answer; asked once more",
                ctx.text(f"clarify_{checkin.kind}"),
                message_id=checkin.message_id,
            )
        detail = f"unclear {checkin.kind} answer after the clarifying question"
        return _Outcome("unclear", detail, ctx.text("received"), True, checkin.message_id)
    if ctx.patient is None:
        detail = "unknown number"
    else:
        detail = intent.reason or "no question is open for this phone"
    return _Outcome("unmatched", detail, None if opted_out else ctx.text("received"), True)


def _answer(intent: Intent, ctx: _Context, checkin: CheckIn) -> _Outcome:
    uow, now = ctx.uow, ctx.now
    answer = intent.answer
    assert answer is not None
    if not uow.checkins.set_checkin(checkin.id, frm=OPEN, now=now, status="answered"):
        return _Outcome("unmatched", "the question was answered a moment ago", None, True)
    previous = (
        uow.checkins.previous_pain(checkin.enrollment_id) if answer.pain is not None else None
    )
    flag = red_flag(answer, previous_pain=previous)
    uow.checkins.add_answer(
        checkin_id=checkin.id,
        enrollment_id=checkin.enrollment_id,
        inbound_id=ctx.inbound_id,
        kind=answer.kind,
        answer=answer.text,
        pain=answer.pain,
        red_flag=flag is not None,
        reason=flag,
        answered_at=now,
    )
    if checkin.status == "no_answer":
        task = uow.escalations.escalation_for_checkin(checkin.id, "no_answer")
        if task is not None:
            uow.escalations.add_note(task, f"The patient answered later: {answer.text}.", now=now)
    shown = f"{answer.text}/10" if answer.kind == "pain" else answer.text.upper()
    if follow_up := bone_med_task(answer):
        escalation_id = uow.escalations.add_escalation(
            enrollment_id=checkin.enrollment_id,
            checkin_id=checkin.id,
            inbound_id=ctx.inbound_id,
            kind="task",
            reason=follow_up,
            created_at=now,
            updated_at=now,
        )
        detail = f"{answer.kind} check-in answered: {shown}; staff task #{escalation_id}"
        return _Outcome("answer", detail, ctx.text("thanks"), message_id=checkin.message_id)
    if flag is None:
        detail = f"{answer.kind} check-in answered: {shown}"
        return _Outcome("answer", detail, ctx.text("thanks"), message_id=checkin.message_id)
    patient = ctx.patient or uow.contacts.enrollment_contact(checkin.enrollment_id)
    assert patient is not None
    r = ctx.replying
    escalation_id, notes = raise_red_flag(
        uow,
        patient=patient,
        phone=ctx.phone,
        checkin_id=checkin.id,
        inbound_id=ctx.inbound_id,
        reason=flag,
        reply=ctx.body,
        oncall=r.oncall,
        renderer=r.renderer,
        clinic=r.clinic,
        public_url=r.public_url,
        now=now,
    )
    detail = f"{answer.kind} check-in answered: {shown}; red flag, escalation #{escalation_id}"
    return _Outcome(
        "red_flag",
        detail,
        ctx.text("red_flag"),
        message_id=checkin.message_id,
        notification_ids=tuple(notes),
    )
