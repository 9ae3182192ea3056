"""A plan's rows on SQLite and PostgreSQL: one INSERT writes exactly them and returns them as stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import rows
from rows import NOW
from sqlalchemy import Engine, event, func, select

from reminders.adapters.db.orm import scheduled_messages as M
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.lifecycles.message import MessageStatus, Reason
from reminders.domain.model import Channel, PlannedMessage

PACIFIC = timezone(timedelta(hours=-7))


def plan(n: int) -> list[PlannedMessage]:
    """n rows with every kind of value a plan holds: merged parts, both channels, skipped
    rows with a reason, check-ins, and times given in another zone than UTC."""
    out = []
    for i in range(n):
        at = NOW + timedelta(days=i // 2, hours=i % 2)
        skipped = i % 7 == 3
        out.append(
            PlannedMessage(
                step_key=f"s{i}+t{i}" if i % 5 == 0 else f"s{i}",
                parts=(f"s{i}", f"t{i}") if i % 5 == 0 else (f"s{i}",),
                channel=Channel.SMS if i % 2 else Channel.EMAIL,
                category="checkin" if i % 4 == 0 else "education",
                send_at=at.astimezone(PACIFIC) if i % 3 == 0 else at,
                deadline=at + timedelta(hours=12),
                status=MessageStatus.SKIPPED if skipped else MessageStatus.SCHEDULED,
                status_reason="no room under the SMS limit" if skipped else None,
                reason_code=Reason.SMS_LIMIT if skipped else None,
                first_sms=i == 1,
                checkin="pain" if i % 4 == 0 else None,
            )
        )
    return out


def statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


@pytest.mark.parametrize("size", [1, 30, 120])
def test_one_insert_writes_exactly_the_planned_rows_and_returns_them_as_stored(
    engine: Engine, size: int
) -> None:
    planned = plan(size)
    with UnitOfWork(engine) as uow:
        eid = rows.enrollment(uow.conn, rows.patient(uow.conn))
        seen = statements(engine)
        stored = uow.messages.add_many(eid, 1, planned, now=NOW.astimezone(PACIFIC))
        assert len(seen) == 1 and seen[0].lstrip().upper().startswith("INSERT")
        read = uow.message_reads.for_enrollment(eid)
        uow.commit()
    assert [(m.step_key, m.channel) for m in stored] == [(p.step_key, p.channel) for p in planned]
    assert sorted(stored, key=lambda m: (m.send_at, m.id or 0)) == read
    assert len({m.id for m in stored}) == size
    assert all(m.send_at.tzinfo is UTC and m.updated_at == NOW for m in stored)


def test_a_new_revision_gets_its_own_rows_and_ids(engine: Engine) -> None:
    planned = plan(12)
    with UnitOfWork(engine) as uow:
        eid = rows.enrollment(uow.conn, rows.patient(uow.conn))
        other = rows.enrollment(uow.conn, rows.patient(uow.conn, phone="+18055550199"))
        first = uow.messages.add_many(eid, 1, planned, now=NOW)
        second = uow.messages.add_many(eid, 2, planned, now=NOW)
        elsewhere = uow.messages.add_many(other, 1, planned[:3], now=NOW)
        by_id = {
            r.id: (r.enrollment_id, r.revision, r.step_key, r.channel)
            for r in uow.conn.execute(select(M))
        }
        uow.commit()
    assert len(by_id) == 12 + 12 + 3
    for got in (*first, *second, *elsewhere):
        assert by_id[got.id] == (got.enrollment_id, got.revision, got.step_key, got.channel.value)


def test_an_empty_plan_writes_nothing(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        eid = rows.enrollment(uow.conn, rows.patient(uow.conn))
        seen = statements(engine)
        assert uow.messages.add_many(eid, 1, [], now=NOW) == []
        assert seen == []
        assert uow.conn.scalar(select(func.count()).select_from(M)) == 0


def test_a_time_without_a_zone_is_refused(engine: Engine) -> None:
    naive = [
        PlannedMessage(
            "a", ("a",), Channel.SMS, "education", datetime(2026, 3, 11), NOW, kind="care"
        )
    ]
    with UnitOfWork(engine) as uow, pytest.raises(ValueError, match="naive"):
        eid = rows.enrollment(uow.conn, rows.patient(uow.conn))
        uow.messages.add_many(eid, 1, naive, now=NOW)
