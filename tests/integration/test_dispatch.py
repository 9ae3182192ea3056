"""dispatch_due on SQLite and PostgreSQL: a following dispatch claims rows as they come due."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import rows
from sqlalchemy import Engine

from reminders.adapters.unit_of_work import UnitOfWork
from reminders.services.dispatch import dispatch_due


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
