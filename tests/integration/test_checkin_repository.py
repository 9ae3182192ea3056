"""CheckinRepository on SQLite and PostgreSQL: tracking asked check-ins, conditional steps."""

from __future__ import annotations

from datetime import timedelta

import rows
from rows import NOW, PHONE
from sqlalchemy import Engine, func, select

from reminders.adapters.db.orm import checkins
from reminders.adapters.db.unit_of_work import UnitOfWork


def test_each_check_in_text_that_reached_twilio_is_tracked_once(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        asked = rows.checkin_text(uow.conn, enrollment_id, sent_at=NOW - timedelta(hours=1))
        rows.checkin_text(uow.conn, enrollment_id, status="failed")
        rows.checkin_text(uow.conn, enrollment_id, sent_at=NOW - timedelta(days=9))
        since = NOW - timedelta(days=2)
        uow.checkins.track_checkins(since=since, now=NOW)
        assert uow.checkins.track_checkins(since=since, now=NOW, phone=PHONE) == 0
        assert uow.conn.scalar(select(func.count()).select_from(checkins)) == 1
        latest = uow.checkins.latest_checkin(PHONE, since=since)
        assert latest is not None
        assert (latest.message_id, latest.status, latest.kind) == (asked, "open", "pain")
        assert uow.checkins.latest_checkin("+18055550999", since=since) is None


def test_a_step_is_claimed_only_once_and_never_on_a_closed_check_in(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        open_one = rows.checkin(uow.conn, enrollment_id)
        answered = rows.checkin(uow.conn, enrollment_id, status="answered")
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.checkins.claim_checkin_step(open_one, "reminder_at", now=NOW)
        assert not uow.checkins.claim_checkin_step(open_one, "reminder_at", now=NOW)
        assert uow.checkins.claim_checkin_step(open_one, "task_at", now=NOW)
        assert not uow.checkins.claim_checkin_step(answered, "clarified_at", now=NOW)
        uow.commit()
    with UnitOfWork(engine) as uow:
        found = uow.checkins.checkin(open_one)
        assert found is not None and found.reminder_at == NOW and found.task_at == NOW


def test_set_checkin_refuses_the_wrong_from_state(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        checkin_id = rows.checkin(uow.conn, enrollment_id)
        assert uow.checkins.set_checkin(checkin_id, frm=("open",), now=NOW, status="answered")
        assert not uow.checkins.set_checkin(checkin_id, frm=("open",), now=NOW, status="closed")
        found = uow.checkins.checkin(checkin_id)
        assert found is not None and found.status == "answered"


def test_closing_a_phone_closes_only_unanswered_check_ins(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        ids = [
            rows.checkin(uow.conn, enrollment_id, status=s)
            for s in ("open", "no_answer", "answered")
        ]
        assert uow.checkins.close_checkins(PHONE, reason="opted out", now=NOW) == 2
        found = [uow.checkins.checkin(i) for i in ids]
        assert [c.status for c in found if c] == ["closed", "closed", "answered"]


def test_reminders_then_tasks_come_due(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        checkin_id = rows.checkin(uow.conn, enrollment_id, asked_at=NOW - timedelta(hours=25))
        day = timedelta(hours=24)
        assert [c.id for c in uow.checkins.due_reminders(asked_before=NOW - day)] == [checkin_id]
        assert uow.checkins.due_tasks(reminded_before=NOW) == []
        uow.checkins.claim_checkin_step(checkin_id, "reminder_at", now=NOW - day)
        assert uow.checkins.due_reminders(asked_before=NOW - day) == []
        assert [c.id for c in uow.checkins.due_tasks(reminded_before=NOW)] == [checkin_id]


def test_a_newer_check_in_text_is_seen(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        checkin_id = rows.checkin(uow.conn, enrollment_id)
        checkin = uow.checkins.checkin(checkin_id)
        assert checkin is not None and not uow.checkins.newer_checkin_sent(checkin)
        rows.checkin_text(uow.conn, enrollment_id, sent_at=NOW + timedelta(days=2))
        assert uow.checkins.newer_checkin_sent(checkin)


def test_previous_pain_is_the_latest_pain_answer(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        assert uow.checkins.previous_pain(enrollment_id) is None
        for hours, pain in ((2, 3), (1, 5)):
            checkin_id = rows.checkin(uow.conn, enrollment_id)
            uow.checkins.add_answer(
                checkin_id=checkin_id,
                enrollment_id=enrollment_id,
                inbound_id=rows.inbound(uow.conn, enrollment_id=enrollment_id),
                kind="pain",
                answer=str(pain),
                pain=pain,
                red_flag=False,
                answered_at=NOW - timedelta(hours=hours),
            )
        assert uow.checkins.previous_pain(enrollment_id) == 5
