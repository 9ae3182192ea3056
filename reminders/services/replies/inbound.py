"""Inbound texts: store every one, then opt out, opt in, help, take an answer, or raise a flag."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment.contact import mask_phone
from reminders.domain.inbound.danger import danger
from reminders.domain.inbound.replies import (
    ANSWER_WINDOW,
    Action,
    Intent,
    interpret,
)
from reminders.services.delivery.opt_outs import opt_in, opt_out
from reminders.services.replies.acknowledgement import acknowledge_by_text
from reminders.services.replies.answers import (
    OPEN,
    Outcome,
    ReplyContext,
    Replying,
    raise_flag,
    take_answer,
)

__all__ = ["Handled", "InboundSms", "Replying", "receive_sms", "store_unprocessed"]

log = logging.getLogger("reminders.replies")


@dataclass(frozen=True)
class InboundSms:
    """A text as Twilio posted it."""

    from_phone: str
    body: str
    sid: str | None = None
    to_phone: str | None = None
    opt_out_type: str | None = None


@dataclass(frozen=True)
class Handled:
    inbound_id: int
    action: str
    reply: str | None  # the TwiML message, if any
    notification_ids: tuple[int, ...] = ()
    duplicate: bool = False


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
            ctx = ReplyContext(uow, replying, phone, patient, checkin, inbound_id, msg.body, now)
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


def _act(intent: Intent, ctx: ReplyContext, *, opted_out: bool) -> Outcome:
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
        return Outcome("opt_out", detail)  # Twilio confirms STOP itself and blocks our reply
    if intent.action is Action.OPT_IN:
        if not opted_out:
            lone_yes = intent.keyword == "YES"
            detail = "was not opted out" + ("; a YES with no question open" if lone_yes else "")
            return Outcome("opt_in", detail, needs_staff=lone_yes)
        restored = opt_in(uow, phone, keyword=intent.keyword or "START", now=now)
        detail = f"opted back in by replying {intent.keyword}; {restored} future texts restored"
        ctx.audit("sms_opt_in", detail)
        return Outcome("opt_in", detail)
    if intent.action is Action.HELP:
        return Outcome("help", f"asked for help ({intent.keyword})", ctx.text("help"))
    if intent.action is Action.ANSWER and ctx.checkin is not None and intent.answer is not None:
        return take_answer(intent, ctx, ctx.checkin)
    words = danger(ctx.body) if ctx.patient is not None else None
    if words is not None:  # free text that signals danger: a nurse now, not the inbox later
        checkin = ctx.checkin
        outcome = raise_flag(
            ctx,
            f'{_who(ctx)}wrote "{words}" in a text',
            checkin.id if checkin else None,
            checkin.message_id if checkin else None,
            f'text says "{words}"',
        )
        if opted_out:  # Twilio would block the reply; staff still hear at once
            outcome.reply = None
        return outcome
    if intent.action is Action.UNCLEAR and ctx.checkin is not None:
        checkin = ctx.checkin
        if uow.checkins.claim_checkin_step(checkin.id, "clarified_at", now=now):
            return Outcome(
                "clarify",
                f"unclear {checkin.kind} answer; asked once more",
                ctx.text(f"clarify_{checkin.kind}"),
                message_id=checkin.message_id,
            )
        detail = f"unclear {checkin.kind} answer after the clarifying question"
        return Outcome("unclear", detail, ctx.text("received"), True, checkin.message_id)
    if ctx.patient is None:
        detail = "unknown number"
    else:
        detail = intent.reason or "no question is open for this phone"
    return Outcome("unmatched", detail, None if opted_out else ctx.text("received"), True)


def _who(ctx: ReplyContext) -> str:
    """Who wrote, when it is not the patient: staff (and the on-call page) must know."""
    return (
        f"the caregiver ({ctx.patient.caregiver}) " if ctx.patient and ctx.patient.caregiver else ""
    )
