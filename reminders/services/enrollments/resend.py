"""Send again: a failed or undelivered message goes out once more, by the same rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.lifecycles.message import RESENDABLE, UNSENT
from reminders.domain.model import Channel, Enrollment
from reminders.domain.outbound.decisions import Defer, Kind, Skip
from reminders.domain.planning.schedule import allowed_channels
from reminders.domain.planning.timing import zone_named
from reminders.domain.staff.accounts import CannotResend, ResendNeedsConfirmation
from reminders.services import audit
from reminders.services.delivery.outgoing import Delivery, decide
from reminders.services.enrollments.care import open_enrollment
from reminders.services.enrollments.enrollment import get_enrollment


def resend(
    enrollment_id: int,
    message_id: int,
    *,
    uow: UnitOfWork,
    delivery: Delivery,
    by: str,
    now: datetime,
    confirm: bool = False,
) -> Enrollment:
    """Send a failed or undelivered message once more, as one new row that obeys the same
    rules as the plan (consent, quiet hours, the SMS cap, its deadline).

    Allowed once per failed message and never while that resend is pending; if the patient
    already answered the question it asks, staff must confirm (`confirm=True`).
    """
    with uow:
        enrollment, _ = open_enrollment(uow, enrollment_id, delivery.plans)
        message = uow.message_reads.get(message_id, for_update=True)
        if message is None or message.enrollment_id != enrollment_id:
            raise CannotResend(f"enrollment {enrollment_id} has no message {message_id}")
        if message.status not in RESENDABLE:
            raise CannotResend(
                f"message {message_id} is {message.status.value}; only a failed or"
                " undelivered message can be sent again"
            )
        again = uow.message_reads.pending_resend(message_id)
        if again is not None:
            state = "is waiting to go" if again.status in UNSENT else f"is {again.status.value}"
            raise CannotResend(
                f"message {message_id} was already sent again (message {again.id} {state});"
                " each failed message can be sent again once"
            )
        if message.deadline <= now:
            raise CannotResend(
                f"message {message_id} is past its deadline; sent now it would arrive too late"
            )
        patient = enrollment.patient
        if message.channel not in allowed_channels(patient, enrollment.consents):
            raise CannotResend(f"the patient has no consent to {message.channel.value} any more")
        if message.checkin and not confirm:
            since = message.sent_at or message.last_attempt_at or message.send_at
            answered = uow.care.answer_since(enrollment_id, kind=message.checkin, since=since)
            if answered is not None:
                raise ResendNeedsConfirmation(
                    f"the patient already answered this question ({answered[0]!r} at"
                    f" {answered[1].astimezone(zone_named(patient.timezone)):%b %-d %-I:%M %p %Z});"
                    " send it again anyway?"
                )
        is_sms = message.channel is Channel.SMS
        texts = (
            uow.message_reads.sms_times([patient.phone], around=now)
            if is_sms and patient.phone
            else {}
        )
        decision = decide(
            Kind.RESEND,
            delivery=delivery,
            is_sms=is_sms,
            deadline=message.deadline,
            timezone=patient.timezone,
            now=now,
            consent_given=True,
            opted_out=is_sms and uow.opt_outs.is_opted_out(patient.phone),
            cap_lifted=any(c.lifts_sms_cap for c in enrollment.consents),
            other_texts=tuple(texts.get(patient.phone or "", ())),
        )
        if isinstance(decision, Skip):
            raise CannotResend(f"message {message_id} cannot go out again: {decision.detail}")
        send_at = decision.until if isinstance(decision, Defer) else now
        try:
            with uow.conn.begin_nested():
                resend_id = uow.messages.add_resend(message, send_at=send_at, now=now)
        except IntegrityError:  # someone pressed the button at the same moment
            raise CannotResend(f"message {message_id} was already sent again") from None
        audit.record(
            uow,
            actor=by,
            action="resent",
            detail=f"message {message_id} ({message.channel.value}, {message.step_key})"
            f" sent again as message {resend_id}, for {send_at.isoformat()}"
            + (" (staff confirmed: the patient had already answered)" if confirm else ""),
            now=now,
            enrollment_id=enrollment_id,
        )
        uow.commit()
    return get_enrollment(enrollment_id, uow=uow)
