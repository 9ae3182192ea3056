"""NotificationRepository on SQLite and PostgreSQL: the outbound lifecycle's moves, once each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rows import NOW
from sqlalchemy import Engine

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.errors import IllegalTransition
from reminders.domain.lifecycles.message import MessageStatus

ONCALL = "+18055550100"
LEASE = NOW + timedelta(seconds=30)


def add_alert(engine: Engine) -> int:
    with UnitOfWork(engine) as uow:
        note_id = uow.notifications.add_notification(
            now=NOW, kind="oncall_alert", channel="sms", recipient=ONCALL, language="en", body="!"
        )
        uow.commit()
    return note_id


def take(uow: UnitOfWork, note_id: int, now=NOW) -> int | None:
    note = uow.notifications.claim_notification(
        note_id, now=now, lease_until=now + timedelta(seconds=30)
    )
    if note is None:
        return None
    return uow.notifications.take_notification(
        note_id, now=now, lease_until=now + timedelta(seconds=30)
    )


def test_a_notification_is_claimed_once(engine: Engine) -> None:
    note_id = add_alert(engine)
    with UnitOfWork(engine) as uow:
        note = uow.notifications.claim_notification(note_id, now=NOW, lease_until=LEASE)
        assert note is not None and (note.id, note.status, note.recipient) == (
            note_id,
            "queued",
            ONCALL,
        )
        assert uow.notifications.take_notification(note_id, now=NOW, lease_until=LEASE) == 1
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.notifications.claim_notification(note_id, now=NOW, lease_until=LEASE) is None
        assert uow.notifications.take_notification(note_id, now=NOW, lease_until=LEASE) is None
        # Left `sending` by a crash: only reconciliation, which asks the provider, settles it.
        later = NOW + timedelta(minutes=5)
        assert uow.notifications.claim_notification(note_id, now=later, lease_until=later) is None
        assert [n.id for n in uow.notifications.lapsed_sending(now=later)] == [note_id]


def test_a_queued_notification_whose_task_was_lost_is_claimed_again(engine: Engine) -> None:
    note_id = add_alert(engine)
    with UnitOfWork(engine) as uow:
        assert uow.notifications.claim_notification(note_id, now=NOW, lease_until=LEASE)
        assert uow.notifications.claim_notification(note_id, now=NOW, lease_until=LEASE) is None
        after = LEASE + timedelta(seconds=1)
        assert uow.notifications.due_notifications(now=after, fresh_before=NOW) == [note_id]
        assert (
            uow.notifications.claim_notification(note_id, now=after, lease_until=after) is not None
        )


def test_a_failed_notification_is_claimed_again_only_when_due(engine: Engine) -> None:
    note_id = add_alert(engine)
    retry_at = NOW + timedelta(minutes=1)
    with UnitOfWork(engine) as uow:
        attempt = take(uow, note_id)
        assert attempt == 1
        failed = {"code": "20503", "error_class": "transient", "error": "503", "now": NOW}
        assert uow.notifications.notification_failed(
            note_id, attempt=1, retry_at=retry_at, **failed
        )
        assert not uow.notifications.notification_failed(
            note_id, attempt=1, retry_at=retry_at, **failed
        )
        assert uow.notifications.claim_notification(note_id, now=NOW, lease_until=LEASE) is None
        assert uow.notifications.due_notifications(now=NOW, fresh_before=NOW) == []
        assert uow.notifications.due_notifications(now=retry_at, fresh_before=NOW) == [note_id]
        assert take(uow, note_id, now=retry_at) == 2


def test_a_permanent_failure_is_final(engine: Engine) -> None:
    note_id = add_alert(engine)
    with UnitOfWork(engine) as uow:
        take(uow, note_id)
        assert uow.notifications.notification_failed(
            note_id,
            attempt=1,
            code="21211",
            error_class="permanent",
            error="bad number",
            retry_at=None,
            now=NOW,
        )
        later = NOW + timedelta(days=1)
        assert uow.notifications.due_notifications(now=later, fresh_before=later) == []


def test_sent_and_delivered_move_forward_only(engine: Engine) -> None:
    note_id = add_alert(engine)
    with UnitOfWork(engine) as uow:
        # Not sending yet: nothing to record.
        assert not uow.notifications.notification_sent(
            note_id, provider_id="SM1", attempt=0, now=NOW
        )
        assert uow.notifications.notification_by_provider("SM1") is None
        attempt = take(uow, note_id)
        assert attempt is not None
        # Only the attempt that sent it may record it.
        assert not uow.notifications.notification_sent(
            note_id, provider_id="SM1", attempt=attempt + 1, now=NOW
        )
        assert uow.notifications.notification_sent(
            note_id, provider_id="SM1", attempt=attempt, now=NOW
        )
        note = uow.notifications.notification_by_provider("SM1")
        assert note is not None and (note.id, note.kind, note.status, note.created_at) == (
            note_id,
            "oncall_alert",
            "sent",
            NOW,
        )
        assert uow.notifications.record_report(note_id, MessageStatus.DELIVERED, now=NOW)
        assert not uow.notifications.record_report(note_id, MessageStatus.UNDELIVERED, now=NOW)


def test_an_illegal_move_is_refused_before_any_sql(engine: Engine) -> None:
    note_id = add_alert(engine)
    with UnitOfWork(engine) as uow, pytest.raises(IllegalTransition):
        uow.notifications.not_sent(note_id, status=MessageStatus.DELIVERED, detail="x", now=NOW)


def test_due_notifications_are_fresh_ones_nobody_took_and_retries_now_due(engine: Engine) -> None:
    alert = add_alert(engine)
    with UnitOfWork(engine) as uow:
        reminder = uow.notifications.add_notification(
            now=NOW,
            kind="checkin_reminder",
            channel="sms",
            recipient=ONCALL,
            language="en",
            body="?",
        )
        # Their own task has a minute to take them.
        assert (
            uow.notifications.due_notifications(now=NOW, fresh_before=NOW - timedelta(minutes=1))
            == []
        )
        later = NOW + timedelta(minutes=1)
        assert uow.notifications.due_notifications(now=later, fresh_before=later) == [
            alert,
            reminder,
        ]
