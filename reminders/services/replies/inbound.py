"""Inbound texts: store every one, then opt out, opt in, help, take an answer, or raise a flag."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment.contact import mask_phone
from reminders.domain.inbound.oncall import ack_code_in
from reminders.domain.inbound.replies import ANSWER_WINDOW, Action, remaining_half
from reminders.domain.inbound.triage import Triage, triage
from reminders.services.delivery.opt_outs import opt_in, opt_out
from reminders.services.replies.acknowledgement import acknowledge_by_text
from reminders.services.replies.answers import (
    OPEN,
    PARTIAL,
    Outcome,
    ReplyContext,
    Replying,
    raise_flag,
    take_answer,
    who_wrote,
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
            # "ack gb98 on it", "GB98 ok": the code anywhere in the text.
            code = ack_code_in(msg.body) if replying.oncall.staff_named(phone) else None
            ack = acknowledge_by_text(
                uow, phone=phone, body=f"ACK {code}" if code else msg.body,
                oncall=replying.oncall, clinic=replying.clinic, now=now,
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
            previous = uow.checkins.previous_pain(checkin.enrollment_id) if checkin else None
            kind = checkin.kind if checkin else None
            if checkin is not None and checkin.status == PARTIAL:
                earlier = uow.checkins.answer_of(checkin.id)
                kind = remaining_half(earlier[0]) if earlier else kind
            decided = triage(
                msg.body,
                open_checkin=kind,
                opted_out=opted_out,
                previous_pain=previous,
                opt_out_type=msg.opt_out_type,
            )
            ctx = ReplyContext(uow, replying, phone, patient, checkin, inbound_id, msg.body, now)
            outcome = _act(decided, ctx, opted_out=opted_out)
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


def _act(decided: Triage, ctx: ReplyContext, *, opted_out: bool) -> Outcome:
    """Act on the decision; whatever is not a clean, complete answer is left for staff to read."""
    uow, now, phone, intent = ctx.uow, ctx.now, ctx.phone, decided.intent
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
    if intent.action is Action.OPT_IN and decided.flag is None:
        if not opted_out:
            lone_yes = intent.keyword == "YES"
            detail = "was not opted out" + ("; a YES with no question open" if lone_yes else "")
            return Outcome("opt_in", detail, needs_staff=decided.needs_staff)
        restored = opt_in(uow, phone, keyword=intent.keyword or "START", now=now)
        detail = f"opted back in by replying {intent.keyword}; {restored} future texts restored"
        ctx.audit("sms_opt_in", detail)
        return Outcome("opt_in", detail)
    if intent.action is Action.HELP and decided.flag is None:
        return Outcome("help", f"asked for help ({intent.keyword})", ctx.text("help"))
    if decided.answer is not None and ctx.checkin is not None:
        return take_answer(decided, ctx, ctx.checkin)
    if decided.flag is not None and ctx.patient is not None:
        # Words that signal danger: a nurse now, not the inbox later.
        checkin = ctx.checkin
        outcome = raise_flag(
            ctx,
            f"{who_wrote(ctx)}{decided.flag}",
            checkin.id if checkin else None,
            checkin.message_id if checkin else None,
            f"text says {decided.reading.describe()}",
        )
        if opted_out:  # Twilio would block the reply; staff still hear at once
            outcome.reply = None
        return outcome
    if intent.action is Action.UNCLEAR and ctx.checkin is not None:
        checkin = ctx.checkin
        why = f"unclear {checkin.kind} answer ({intent.reason})"
        if uow.checkins.claim_checkin_step(checkin.id, "clarified_at", now=now):
            # Asked once more, and shown to staff: the words may say what we cannot read.
            return Outcome(
                "clarify",
                f"{why}; asked once more",
                ctx.text(f"clarify_{checkin.kind}"),
                True,
                message_id=checkin.message_id,
            )
        detail = f"{why}, after the clarifying question"
        return Outcome("unclear", detail, ctx.text("received"), True, checkin.message_id)
    if ctx.patient is None:
        detail = "unknown number"
    else:
        detail = intent.reason or "no question is open for this phone"
    return Outcome("unmatched", detail, None if opted_out else ctx.text("received"), True)
