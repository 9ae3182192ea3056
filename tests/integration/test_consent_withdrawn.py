"""Consent withdrawn: no message of any patient kind reaches the fake Twilio or the SMTP server.

Every kind that goes to a patient or a caregiver is tried after the consent was withdrawn,
through the real services (dispatch and send, Send again, the check-in follow-up, a
reminder and a silence nudge queued before the withdrawal and delivered after, the
caregiver's texts), and nothing arrives; a red flag still pages the on-call nurse (staff
pages need no patient's consent).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import test_webhooks as shared
from sqlalchemy import select
from test_webhooks import ANA, DAY0_TEXT, DAY1_CHECKIN, ONCALL_PHONE, deliver, enroll, text_in

from reminders.adapters.db.orm import checkins
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment.commands import AddCaregiver
from reminders.domain.model import Caregiver, Channel
from reminders.domain.staff.accounts import CannotResend
from reminders.services.delivery.notifications import deliver_notification
from reminders.services.enrollments.resend import resend
from reminders.services.replies.checkins import follow_up_checkins

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures

CAREGIVER_PHONE = "+18055550177"
WITH_CAREGIVER = replace(
    ANA,
    caregiver=AddCaregiver(name="Rosa", phone=CAREGIVER_PHONE, sms_consent=True),
)


def to_patient(twilio, inbox) -> list[object]:  # type: ignore[no-untyped-def]
    texts = twilio.sent_to(ANA.phone) + twilio.sent_to(CAREGIVER_PHONE)
    mails = [m for m in inbox.messages if m["To"] in (ANA.email, "rosa@example.org")]
    return [*texts, *mails]


def withdraw(engine, enrollment_id: int) -> None:  # type: ignore[no-untyped-def]
    with UnitOfWork(engine) as uow:
        uow.care.withdraw_consent(enrollment_id, Channel.SMS)
        uow.care.withdraw_consent(enrollment_id, Channel.EMAIL)
        cg = uow.caregivers.get(enrollment_id)
        assert cg is not None
        uow.caregivers.put(
            enrollment_id,
            Caregiver(
                id=cg.id,
                name=cg.name,
                relationship=cg.relationship,
                phone=cg.phone,
                email=cg.email,
                language=cg.language,
                sms_consent=False,
                email_consent=False,
            ),
            by="nurse.kim",
            now=shared.PERFORMED,
        )
        uow.commit()


def queue_note(engine, enrollment_id: int, kind: str, checkin_id: int | None, now) -> int:  # type: ignore[no-untyped-def]
    with UnitOfWork(engine) as uow:
        note = uow.notifications.add_notification(
            now=now,
            kind=kind,
            channel="sms",
            recipient=ANA.phone,
            language="en",
            body="Dr. Taqi Spine Care: we have not heard from you. Reply with a number 0-10.",
            enrollment_id=enrollment_id,
            checkin_id=checkin_id,
            deadline=now + timedelta(days=1),
        )
        uow.commit()
    return note


def test_no_patient_kind_goes_out_once_consent_is_withdrawn(live, web, engine, twilio, smtp):
    _, inbox = smtp
    enrollment_id = enroll(live, WITH_CAREGIVER)
    twilio.fail(status=400, code=21211, to=ANA.phone)  # the first text fails: Send again later
    deliver(live, DAY0_TEXT)
    deliver(live, DAY1_CHECKIN)  # the day-1 check-in is asked (it will go unanswered)
    follow_up_checkins(uow=live.uow(), delivery=live.delivery, now=live.clock)  # tracks it
    went_before = len(to_patient(twilio, inbox))
    assert went_before >= 1  # the plan was sending before the withdrawal
    with UnitOfWork(engine) as uow:
        failed = [
            m for m in uow.message_reads.for_enrollment(enrollment_id) if m.status == "failed"
        ]
        (checkin,) = uow.conn.execute(select(checkins)).all()
    reminder = queue_note(engine, enrollment_id, "checkin_reminder", checkin.id, live.clock())
    nudge = queue_note(engine, enrollment_id, "silence_nudge", checkin.id, live.clock())

    withdraw(engine, enrollment_id)

    # Send again: refused, and nothing sent.
    assert failed
    with pytest.raises(CannotResend, match="no consent"):
        resend(
            enrollment_id,
            failed[0].id,
            uow=live.uow(),
            delivery=live.delivery,
            by="nurse.kim",
            now=DAY0_TEXT + timedelta(minutes=5),  # pressed while it could still be useful
        )
    # A reminder and a nudge queued before the withdrawal are decided again when they go.
    for note in (reminder, nudge):
        outcome, why = deliver_notification(
            note, uow=live.uow(), delivery=live.delivery, now=live.clock
        )
        assert (outcome, why) == ("skipped", "no consent to SMS")
    # The check-in follow-up: no reminder by text or email; a staff task instead.
    live.clock.now = DAY1_CHECKIN + timedelta(hours=25)
    counts = follow_up_checkins(uow=live.uow(), delivery=live.delivery, now=live.clock)
    assert not any(k.startswith("reminder_") for k in counts)

    # Care texts and emails, and the caregiver's, for the next two weeks of the plan.
    for day in range(1, 15):
        deliver(live, DAY1_CHECKIN + timedelta(days=day, hours=3))
    assert len(to_patient(twilio, inbox)) == went_before

    # Staff pages need no patient's consent: a red flag still reaches the on-call nurse.
    text_in(web, live, "chest pain")
    assert len(twilio.sent_to(ONCALL_PHONE)) == 1
    assert len(to_patient(twilio, inbox)) == went_before
