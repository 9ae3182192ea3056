"""Dispatch (services/dispatch.py): claim what is due, once, and hand the ids over after commit."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from reminders.adapters.orm import scheduled_messages
from reminders.services.dispatch import dispatch_due
from support.live import ANA, DAYTIME, dispatch, enroll


def test_nothing_is_claimed_before_its_time(live, engine):
    live.clock.now = DAYTIME - timedelta(hours=2, minutes=30)  # the procedure just ended
    enroll(live, replace(ANA, performed_at=live.clock.now))
    assert dispatch(live) == []


def test_two_dispatchers_never_claim_the_same_message(live, engine):
    for n in range(40):
        enroll(live, replace(ANA, external_id=f"EHR-{n}", phone=f"+1805555{n:04d}"))
    results: list[list[int]] = [[], [], []]

    def go(slot):
        dispatch_due(uow=live.uow(), enqueue=results[slot].extend, now=live.clock, batch_size=7)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed))
    with engine.connect() as conn:
        due = conn.scalars(
            select(scheduled_messages.c.id).where(
                scheduled_messages.c.send_at <= DAYTIME, scheduled_messages.c.status != "skipped"
            )
        ).all()
    assert sorted(claimed) == sorted(due)


def test_a_lost_broker_task_is_claimed_again_after_its_lease(live, engine):
    enroll(live)
    ids = dispatch(live)  # enqueued into a broker that then lost them
    live.clock.advance(minutes=1)
    assert dispatch(live) == []
    live.clock.advance(minutes=5)
    assert sorted(dispatch(live)) == sorted(ids)
