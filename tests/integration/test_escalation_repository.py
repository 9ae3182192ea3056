"""EscalationRepository on SQLite and PostgreSQL: moves refuse the wrong state, lists and counts."""

from __future__ import annotations

import rows
from rows import NOW
from sqlalchemy import Engine

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.inbound.escalations import EscalationStatus

OPEN, ACKNOWLEDGED, RESOLVED = (s.value for s in EscalationStatus)


def add(uow: UnitOfWork, kind: str, **values: object) -> int:
    enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
    return uow.escalations.add_escalation(
        enrollment_id=enrollment_id,
        kind=kind,
        reason=f"a {kind}",
        created_at=NOW,
        updated_at=NOW,
        **values,
    )


def test_set_escalation_refuses_the_wrong_from_state(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        escalation_id = add(uow, "red_flag")
        uow.commit()
    with UnitOfWork(engine) as uow:
        moves = uow.escalations
        assert moves.set_escalation(escalation_id, frm=(OPEN,), now=NOW, status=ACKNOWLEDGED)
        assert not moves.set_escalation(escalation_id, frm=(OPEN,), now=NOW, status=ACKNOWLEDGED)
        assert moves.set_escalation(
            escalation_id, frm=(OPEN, ACKNOWLEDGED), now=NOW, status=RESOLVED, resolved_by="kim"
        )
        assert not moves.set_escalation(
            escalation_id, frm=(OPEN, ACKNOWLEDGED), now=NOW, status=RESOLVED, resolved_by="lee"
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        (found,) = uow.escalations.escalations(ids=[escalation_id])
        assert (found.status, found.resolved_by) == (EscalationStatus.RESOLVED, "kim")


def test_notes_accumulate_one_per_line(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        escalation_id = add(uow, "no_answer")
        uow.escalations.add_note(escalation_id, "kim: called, no answer", now=NOW)
        uow.escalations.add_note(escalation_id, "lee: left a voicemail", now=NOW)
        (found,) = uow.escalations.escalations(ids=[escalation_id])
        assert found.notes == "kim: called, no answer\nlee: left a voicemail"


def test_red_flags_come_first_with_their_alerts_and_patient(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        inbound_id = rows.inbound(uow.conn, body="10")
        flag = add(uow, "red_flag", inbound_id=inbound_id)
        task = add(uow, "no_answer")  # newer, yet listed after the red flag
        alert = uow.notifications.add_notification(
            now=NOW,
            escalation_id=flag,
            kind="oncall_alert",
            channel="email",
            recipient="oncall@example.org",
            language="en",
            body="!",
        )
        found = uow.escalations.escalations(statuses=(OPEN,))
        assert [e.id for e in found] == [flag, task]
        assert (found[0].patient_name, found[0].reply, found[0].timezone) == (
            "Ana Lopez",
            "10",
            "America/Los_Angeles",
        )
        assert [n.id for n in found[0].notifications] == [alert] and not found[1].notifications


def test_open_escalations_are_counted_by_kind(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        add(uow, "red_flag")
        resolved = add(uow, "red_flag")
        add(uow, "no_answer")
        uow.escalations.set_escalation(resolved, frm=(OPEN,), now=NOW, status=RESOLVED)
        assert uow.escalations.count_open_escalations() == {"red_flag": 1, "no_answer": 1}


def test_the_no_answer_task_of_a_check_in_is_found(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        checkin_id = rows.checkin(uow.conn, enrollment_id)
        assert uow.escalations.escalation_for_checkin(checkin_id, "no_answer") is None
        task = add(uow, "no_answer", checkin_id=checkin_id)
        assert uow.escalations.escalation_for_checkin(checkin_id, "no_answer") == task
        assert uow.escalations.escalation_for_checkin(checkin_id, "red_flag") is None
