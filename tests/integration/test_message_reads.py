"""MessageReads on SQLite and PostgreSQL: what the SMS cap counts, resends, history."""

from __future__ import annotations

from datetime import timedelta

import rows
from rows import NOW, PHONE
from sqlalchemy import Engine

from reminders.adapters.db.unit_of_work import UnitOfWork


def test_sms_times_count_plan_texts_and_sent_reminders(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        rows.checkin_text(uow.conn, enrollment_id, sent_at=NOW - timedelta(hours=3))
        rows.checkin_text(uow.conn, enrollment_id, status="cancelled")
        rows.checkin_text(uow.conn, enrollment_id, status="undelivered")  # never reached it
        planned = rows.checkin_text(
            uow.conn, enrollment_id, status="scheduled", sent_at=NOW + timedelta(days=2)
        )
        rows.checkin_text(uow.conn, enrollment_id, sent_at=NOW - timedelta(days=30))  # long ago
        reminder = {"kind": "checkin_reminder", "channel": "sms", "recipient": PHONE}
        lease = NOW + timedelta(seconds=30)
        for body, sent in (("hi", True), ("x", False)):
            note = uow.notifications.add_notification(now=NOW, language="en", body=body, **reminder)
            uow.notifications.claim_notification(note, now=NOW, lease_until=lease)
            attempt = uow.notifications.take_notification(note, now=NOW, lease_until=lease)
            assert attempt is not None
            if sent:
                uow.notifications.notification_sent(
                    note, provider_id="SM1", attempt=attempt, now=NOW
                )
            else:  # failed for good: it never reached the phone
                uow.notifications.notification_failed(
                    note,
                    attempt=attempt,
                    code="21211",
                    error_class="permanent",
                    error="x",
                    retry_at=None,
                    now=NOW,
                )

        counted = uow.message_reads.sms_times([PHONE], around=NOW)[PHONE]
        assert sorted(counted) == [NOW - timedelta(hours=3), NOW, NOW + timedelta(days=2)]
        went_out = uow.message_reads.sms_times([PHONE], around=NOW, planned=False)[PHONE]
        assert sorted(went_out) == [NOW - timedelta(hours=3), NOW]
        others = uow.message_reads.sms_times([PHONE], around=NOW, exclude=[planned])[PHONE]
        assert NOW + timedelta(days=2) not in others
        assert uow.message_reads.sms_times(["+18055550999"], around=NOW) == {"+18055550999": []}


def test_history_skips_what_never_went_out_and_the_cap_skips_the_undelivered(
    engine: Engine,
) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        rows.checkin_text(uow.conn, enrollment_id, sent_at=NOW - timedelta(hours=3))
        rows.checkin_text(uow.conn, enrollment_id, status="undelivered", sent_at=NOW)
        rows.checkin_text(uow.conn, enrollment_id, status="cancelled")
        history = uow.message_reads.history(enrollment_id)
        assert history.sms_sent_at == (NOW - timedelta(hours=3),)
        assert {part for part, _ in history.sent_parts} == {"checkin"}
