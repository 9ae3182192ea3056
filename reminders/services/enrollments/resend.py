"""Send again: a failed or undelivered message goes out once more, by the same rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.decision_facts import FactsWanted, load_facts
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.lifecycles.message import RESENDABLE, UNSENT, Reason
from reminders.domain.model import Enrollment
from reminders.domain.outbound.decisions import Defer, Kind, Skip, send_decision
from reminders.domain.planning.timing import zone_named
from reminders.domain.staff.accounts import CannotResend, ResendNeedsConfirmation
from reminders.services import audit
from reminders.services.delivery.outgoing import Delivery
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
        if message.checkin and not confirm:
            since = message.sent_at or message.last_attempt_at or message.send_at
            answered = uow.care.answer_since(enrollment_id, kind=message.checkin, since=since)
            if answered is not None:
                raise ResendNeedsConfirmation(
                    f"the patient already answered this question ({answered[0]!r} at"
                    f" {answered[1].astimezone(zone_named(patient.timezone)):%b %-d %-I:%M %p %Z});"
                    " send it again anyway?"
                )
        # The resend goes to whom the original went: a caregiver's text to the caregiver,
        # by the caregiver's own consent and STOP.
        kind = Kind.CAREGIVER if message.kind == Kind.CAREGIVER else Kind.RESEND
        (facts,) = load_facts(
            uow.conn,
            [
                FactsWanted(
                    kind=kind,
                    channel=message.channel.value,
                    enrollment_id=enrollment_id,
                    deadline=message.deadline,
                    to=None,
                    exclude=(),
                    planned=True,
                )
            ],
            now=now,
        )
        decision = send_decision(facts, delivery.policy, now)
        if isinstance(decision, Skip) and decision.reason is Reason.NO_CONSENT:
            raise CannotResend(
                f"the {facts.recipient.value} has no consent to {message.channel.value} any more"
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
