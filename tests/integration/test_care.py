"""Care actions (services/enrollments/care.py): reschedule re-plans unsent messages and keeps what was sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from reminders.adapters.db.orm import scheduled_messages
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.errors import EnrollmentNotFound
from reminders.domain.model import Channel, ConsentMethod, MessageStatus
from reminders.services.enrollments import care
from reminders.services.enrollments import enrollment as svc

ANA = EnrollPatient(
    first_name="Ana",
    last_name="Lopez",
    phone="(805) 555-0142",
    email="ana@example.org",
    procedure="kyphoplasty",
    performed_at=datetime(2026, 3, 7, 23, 30),  # naive: the patient's local time
    timezone="America/Los_Angeles",
    consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL, ConsentMethod.WRITTEN)),
    enrolled_by="nurse.kim",
)


def enroll(container, cmd=ANA):
    return svc.enroll(
        cmd, uow=container.uow(), planning=container.planning, now=container.clock(), via="test"
    )


def test_reschedule_replans_unsent_and_keeps_sent(container, engine):
    e = enroll(container).enrollment
    first_sms = next(
        m for m in e.messages if m.channel is Channel.SMS and m.status is MessageStatus.SCHEDULED
    )
    with engine.begin() as conn:  # pretend the worker sent the first text
        conn.execute(
            scheduled_messages.update()
            .where(scheduled_messages.c.id == first_sms.id)
            .values(status="sent", sent_at=first_sms.send_at)
        )
    container.clock.advance(days=1)
    new = care.update_enrollment(
        e.id,
        performed_at=datetime(2026, 3, 8, 9, 0),
        uow=container.uow(),
        planning=container.planning,
        by="nurse.kim",
        now=container.clock(),
    )
    assert new.revision == 2
    sent = [m for m in new.messages if m.status is MessageStatus.SENT]
    assert [m.id for m in sent] == [first_sms.id]
    live = [m for m in new.messages if m.status is MessageStatus.SCHEDULED]
    assert live and all(m.revision == 2 for m in live)
    assert all(first_sms.step_key not in m.parts or m.channel is not Channel.SMS for m in live)
    assert not any(m.first_sms for m in live), "the opt-out line went out with the first text"
    old = [m for m in new.messages if m.revision == 1 and m.status is MessageStatus.CANCELLED]
    assert old and all("re-planned by nurse.kim" in m.status_reason for m in old)


def test_restarting_an_unknown_enrollment_says_so(container):
    with pytest.raises(EnrollmentNotFound, match="no enrollment 99"):
        care.restart(
            99, uow=container.uow(), planning=container.planning, by="x", now=NOW(container)
        )


def test_restarting_an_active_enrollment_changes_nothing(container, engine):
    e = enroll(container).enrollment
    before = _scheduled(engine, e.id)
    again = care.restart(
        e.id, uow=container.uow(), planning=container.planning, by="nurse.kim", now=NOW(container)
    )
    assert again.status == "active"
    assert _scheduled(engine, e.id) == before


def test_a_restart_after_cancel_plans_only_what_is_still_ahead(container, engine):
    e = enroll(container).enrollment
    svc.cancel(e.id, uow=container.uow(), by="nurse.kim", reason="wrong chart", now=NOW(container))
    assert _scheduled(engine, e.id) == []
    container.clock.advance(days=3)
    care.restart(
        e.id, uow=container.uow(), planning=container.planning, by="nurse.kim", now=NOW(container)
    )
    ahead = _scheduled(engine, e.id)
    assert ahead and all(send_at >= NOW(container) for send_at in ahead)


def NOW(container):
    return container.clock()


def _scheduled(engine, enrollment_id):
    with engine.connect() as conn:
        rows = conn.execute(
            select(scheduled_messages.c.send_at)
            .where(
                scheduled_messages.c.enrollment_id == enrollment_id,
                scheduled_messages.c.status == "scheduled",
            )
            .order_by(scheduled_messages.c.send_at)
        ).all()
    return [_aware(r.send_at) for r in rows]


def _aware(when):
    return when if when.tzinfo else when.replace(tzinfo=UTC)
