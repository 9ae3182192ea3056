"""NotificationRepository on SQLite and PostgreSQL: claims and state changes happen once."""

from __future__ import annotations

from datetime import timedelta

from rows import NOW
from sqlalchemy import Engine

from reminders.adapters.db.unit_of_work import UnitOfWork

ONCALL = "+18055550100"
STALE = NOW - timedelta(minutes=2)


def add_alert(engine: Engine) -> int:
    with UnitOfWork(engine) as uow:
        note_id = uow.notifications.add_notification(
            now=NOW, kind="oncall_alert", channel="sms", recipient=ONCALL, language="en", body="!"
        )
        uow.commit()
    return note_id


def test_a_notification_is_claimed_once(engine: Engine) -> None:
    note_id = add_alert(engine)
    with UnitOfWork(engine) as uow:
        note = uow.notifications.claim_notification(note_id, now=NOW, stale=STALE)
        uow.commit()
    assert note is not None and (note.id, note.attempts, note.recipient) == (note_id, 1, ONCALL)
    with UnitOfWork(engine) as uow:
        assert uow.notifications.claim_notification(note_id, now=NOW, stale=STALE) is None
        later = NOW + timedelta(minutes=5)  # left `sending` by a crash: tried again
        stale = later - timedelta(minutes=2)
        again = uow.notifications.claim_notification(note_id, now=later, stale=stale)
        assert again is not None and again.attempts == 2


def test_a_failed_notification_is_claimed_again_only_when_due(engine: Engine) -> None:
    note_id = add_alert(engine)
    retry_at = NOW + timedelta(minutes=1)
    with UnitOfWork(engine) as uow:
        uow.notifications.claim_notification(note_id, now=NOW, stale=STALE)
        assert uow.notifications.notification_failed(
            note_id, code="20503", error_class="transient", error="503", retry_at=retry_at, now=NOW
        )
        assert not uow.notifications.notification_failed(
            note_id, code="20503", error_class="transient", error="503", retry_at=retry_at, now=NOW
        )
        assert uow.notifications.claim_notification(note_id, now=NOW, stale=STALE) is None
        assert uow.notifications.due_notifications(now=NOW, pending_before=NOW, stale=STALE) == []
        assert uow.notifications.due_notifications(
            now=retry_at, pending_before=NOW, stale=STALE
        ) == [note_id]
        assert uow.notifications.claim_notification(note_id, now=retry_at, stale=STALE) is not None


def test_sent_and_delivered_move_forward_only(engine: Engine) -> None:
    note_id = add_alert(engine)
    with UnitOfWork(engine) as uow:
        uow.notifications.notification_sent(note_id, provider_id="SM1", now=NOW)  # not sending yet
        assert uow.notifications.notification_by_provider("SM1") is None
        uow.notifications.claim_notification(note_id, now=NOW, stale=STALE)
        uow.notifications.notification_sent(note_id, provider_id="SM1", now=NOW)
        assert uow.notifications.notification_by_provider("SM1") == (
            note_id,
            "oncall_alert",
            "sent",
            NOW,
        )
        assert uow.notifications.advance_notification(
            note_id, frm=("sending", "sent"), now=NOW, status="delivered"
        )
        assert not uow.notifications.advance_notification(
            note_id, frm=("sending", "sent"), now=NOW, status="undelivered"
        )


def test_due_alerts_are_old_pending_ones_and_stuck_ones_not_reminders(engine: Engine) -> None:
    alert = add_alert(engine)
    with UnitOfWork(engine) as uow:
        uow.notifications.add_notification(
            now=NOW,
            kind="checkin_reminder",
            channel="sms",
            recipient=ONCALL,
            language="en",
            body="?",
        )
        assert uow.notifications.due_notifications(now=NOW, pending_before=STALE, stale=STALE) == []
        later = NOW + timedelta(minutes=1)
        assert uow.notifications.due_notifications(
            now=later, pending_before=later, stale=STALE
        ) == [alert]
