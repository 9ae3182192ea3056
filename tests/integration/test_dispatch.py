"""Dispatch (services/delivery/dispatch.py): claim what is due, once, and hand the ids over after commit."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import rows
from sqlalchemy import Engine, select

from reminders.adapters.db.orm import scheduled_messages
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.services.delivery.dispatch import dispatch_due
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


def utcnow() -> datetime:
    return datetime.now(UTC)


def test_a_following_dispatch_claims_a_row_coming_due_within_its_budget(engine: Engine) -> None:
    soon = utcnow() + timedelta(seconds=0.5)
    with engine.begin() as conn:
        eid = rows.enrollment(conn, rows.patient(conn))
        mid = rows.checkin_text(conn, eid, status="scheduled", sent_at=soon)
        rows.checkin_text(conn, eid, status="scheduled", sent_at=soon + timedelta(hours=1))
    claimed: list[int] = []
    start = time.monotonic()
    n = dispatch_due(
        uow=UnitOfWork(engine), enqueue=claimed.extend, now=utcnow, time_budget=2.0, follow=True
    )
    elapsed = time.monotonic() - start
    assert (n, claimed) == (1, [mid])
    assert 0.4 <= elapsed < 1.5  # waited for it, then stopped: the next is an hour away


def test_without_follow_or_with_nothing_due_soon_dispatch_returns_at_once(engine: Engine) -> None:
    later = utcnow() + timedelta(minutes=5)
    with engine.begin() as conn:
        eid = rows.enrollment(conn, rows.patient(conn))
        rows.checkin_text(conn, eid, status="scheduled", sent_at=later)
    for follow in (False, True):
        start = time.monotonic()
        n = dispatch_due(
            uow=UnitOfWork(engine), enqueue=list, now=utcnow, time_budget=2.0, follow=follow
        )
        assert n == 0 and time.monotonic() - start < 0.5


def test_due_rows_with_no_room_in_the_broker_do_not_keep_dispatch_waiting(
    engine: Engine, monkeypatch
) -> None:
    """The broker holds max_in_flight already: dispatch returns at once for the next tick
    (a dispatcher sleeping here kept a worker process from sending)."""
    now = utcnow()
    with engine.begin() as conn:
        eid = rows.enrollment(conn, rows.patient(conn))
        due = [
            rows.checkin_text(conn, eid, status="scheduled", sent_at=now - timedelta(minutes=1))
            for _ in range(5)
        ]
    slept: list[float] = []
    monkeypatch.setattr("reminders.services.delivery.dispatch.time.sleep", slept.append)
    claimed: list[int] = []
    n = dispatch_due(
        uow=UnitOfWork(engine),
        enqueue=claimed.extend,
        now=utcnow,
        batch_size=10,
        max_in_flight=2,
        time_budget=2.0,
        follow=True,
    )
    assert n == 2 and set(claimed) <= set(due)
    assert slept == [], "dispatch waited for rows it had no room to claim"
