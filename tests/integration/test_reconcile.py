"""Reconciliation (services/reconcile.py): a message a dead worker left sending is asked about, not resent blindly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from reminders.adapters.message_repository import MessageRepository
from reminders.adapters.orm import scheduled_messages
from reminders.services.reconcile import reconcile_expired
from reminders.services.sending import Outcome
from support.live import DAYTIME, dispatch, enroll, row, send, sms_id


def test_crash_after_twilio_took_it_is_confirmed_not_resent(live, engine, twilio, monkeypatch):
    enroll(live)
    mid = sms_id(dispatch(live), engine)
    real_mark_sent = MessageRepository.mark_sent_many

    def crash(*a, **k):
        raise SystemExit("worker killed")  # the provider has it; our record does not

    monkeypatch.setattr(
        "reminders.adapters.message_repository.MessageRepository.mark_sent_many", crash
    )
    with pytest.raises(SystemExit):
        send(live, mid)
    monkeypatch.setattr(
        "reminders.adapters.message_repository.MessageRepository.mark_sent_many", real_mark_sent
    )
    assert row(engine, mid).status == "sending"
    assert reconcile_expired(uow=live.uow(), delivery=live.delivery, now=live.clock) == {
        "confirmed": 0,
        "resend": 0,
        "failed": 0,
        "unknown": 0,
    }  # lease still running
    live.clock.advance(minutes=3)
    counts = reconcile_expired(uow=live.uow(), delivery=live.delivery, now=live.clock)
    assert counts["confirmed"] == 1
    r = row(engine, mid)
    assert (r.status, r.provider_id) == ("sent", twilio.messages[0]["sid"])
    assert len(twilio.messages) == 1


def test_crash_before_twilio_took_it_is_resent_once(live, engine, twilio, monkeypatch):
    enroll(live)
    mid = sms_id(dispatch(live), engine)

    def crash(*a, **k):
        raise SystemExit("worker killed before the request left")

    monkeypatch.setattr(live.delivery.sms, "send_sms", crash)
    with pytest.raises(SystemExit):
        send(live, mid)
    monkeypatch.undo()
    live.clock.advance(minutes=3)
    assert reconcile_expired(uow=live.uow(), delivery=live.delivery, now=live.clock)["resend"] == 1
    assert dispatch(live) == [mid]
    assert send(live, mid) is Outcome.SENT
    assert len(twilio.messages) == 1
    assert row(engine, mid).attempts == 2


def test_reconciliation_never_claims_another_messages_twilio_sid(live, engine, twilio):
    """The same question goes out on two days; after a crash, Twilio's copy of the first
    text must not be taken as proof that the second one went out."""
    enrollment_id = enroll(live).enrollment.id
    first = sms_id(dispatch(live), engine)
    assert send(live, first) is Outcome.SENT
    sent = row(engine, first)
    with engine.begin() as conn:  # a later text with the same body, left mid-send by a crash
        second = conn.scalar(
            select(scheduled_messages.c.id)
            .where(
                scheduled_messages.c.enrollment_id == enrollment_id,
                scheduled_messages.c.channel == "sms",
                scheduled_messages.c.status == "scheduled",
            )
            .limit(1)
        )
        conn.execute(
            update(scheduled_messages)
            .where(scheduled_messages.c.id == second)
            .values(
                status="sending",
                body=sent.body,
                last_attempt_at=DAYTIME,
                attempts=1,
                lease_until=DAYTIME,
                deadline=DAYTIME + timedelta(hours=6),
            )
        )
    live.clock.advance(minutes=3)
    counts = reconcile_expired(uow=live.uow(), delivery=live.delivery, now=live.clock)
    assert counts["resend"] == 1 and counts["confirmed"] == 0
    assert row(engine, second).status == "scheduled"
    assert row(engine, first).provider_id == twilio.messages[0]["sid"]
