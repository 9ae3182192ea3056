"""Reconciliation (services/delivery/reconcile.py): a message a dead worker left sending is asked about, not resent blindly."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from reminders.adapters.db.messages.message_repository import MessageRepository
from reminders.adapters.db.orm import scheduled_messages
from reminders.services.delivery.reconcile import reconcile_expired
from reminders.services.delivery.sending import Outcome
from support.live import DAYTIME, dispatch, enroll, row, send, sms_id


def test_crash_after_twilio_took_it_is_confirmed_not_resent(live, engine, twilio, monkeypatch):
    enroll(live)
    mid = sms_id(dispatch(live), engine)
    real_mark_sent = MessageRepository.mark_sent_many

    def crash(*a, **k):
        raise SystemExit("worker killed")  # the provider has it; our record does not

    monkeypatch.setattr(
        "reminders.adapters.db.messages.message_repository.MessageRepository.mark_sent_many", crash
    )
    with pytest.raises(SystemExit):
        send(live, mid)
    monkeypatch.setattr(
        "reminders.adapters.db.messages.message_repository.MessageRepository.mark_sent_many",
        real_mark_sent,
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


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)  # SQLite has one writer
@pytest.mark.parametrize("twilio_took_it", [True, False])
def test_two_reconcilers_over_the_same_row_count_it_once(
    live, engine, twilio, monkeypatch, twilio_took_it
):
    """Two beats (or a slow reconcile overlapping the next) both read the same lapsed row
    and both ask Twilio before either writes: one settles it and counts it, the other
    changes nothing and counts nothing."""
    enroll(live)
    mid = sms_id(dispatch(live), engine)
    doomed = "mark_sent_many" if twilio_took_it else "send_sms"

    def crash(*a, **k):
        raise SystemExit("worker killed")

    target = MessageRepository if twilio_took_it else live.delivery.sms
    monkeypatch.setattr(target, doomed, crash)
    with pytest.raises(SystemExit):
        send(live, mid)
    monkeypatch.undo()
    live.clock.advance(minutes=3)

    both_asked = threading.Barrier(2, timeout=30)
    first_asking = threading.Event()
    real_find_sent = live.delivery.sms.find_sent

    def find_sent_together(**kwargs):
        first_asking.set()
        found = real_find_sent(**kwargs)
        both_asked.wait()  # neither writes before the other has read the row and asked
        return found

    monkeypatch.setattr(live.delivery.sms, "find_sent", find_sent_together)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def reconciler() -> None:
        try:
            results.append(
                reconcile_expired(uow=live.uow(), delivery=live.delivery, now=live.clock)
            )
        except BaseException as exc:  # shown in the assertion below, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=reconciler) for _ in range(2)]
    # The second starts once the first holds no claim lock any more (it is asking Twilio):
    # their claim reads skip rows the other has locked, so overlapping claims never both
    # see the row; a reconcile that overlaps the next one's ask is the case tested here.
    threads[0].start()
    assert first_asking.wait(timeout=30)
    threads[1].start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 2, f"a reconciler did not finish: {errors!r}"
    kind = "confirmed" if twilio_took_it else "resend"
    assert sum(r[kind] for r in results) == 1, results
    assert sum(sum(r.values()) for r in results) == 1, results
    r = row(engine, mid)
    if twilio_took_it:
        assert (r.status, r.provider_id) == ("sent", twilio.messages[0]["sid"])
    else:
        assert r.status == "scheduled" and twilio.messages == []
