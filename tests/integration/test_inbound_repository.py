"""InboundRepository on SQLite and PostgreSQL: texts by SID, for staff, reviewed once."""

from __future__ import annotations

import rows
from rows import NOW, PHONE
from sqlalchemy import Engine

from reminders.adapters.db.unit_of_work import UnitOfWork


def test_a_text_is_found_by_its_sid_with_its_patient(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        inbound_id = uow.inbound.add_inbound(
            message_sid="SM-in-1",
            from_phone=PHONE,
            body="4",
            received_at=NOW,
            enrollment_id=enrollment_id,
            action="received",
            needs_staff=False,
        )
        uow.inbound.update_inbound(inbound_id, action="answer", reply="Thank you")
        uow.commit()
    with UnitOfWork(engine) as uow:
        found = uow.inbound.inbound_by_sid("SM-in-1")
        assert found is not None
        assert (found.id, found.action, found.reply, found.patient_name, found.timezone) == (
            inbound_id,
            "answer",
            "Thank you",
            "Ana Lopez",
            "America/Los_Angeles",
        )
        assert uow.inbound.inbound_by_sid("SM-other") is None
        assert [t.id for t in uow.inbound.inbound_for_enrollment(enrollment_id)] == [inbound_id]


def test_a_text_from_an_unknown_number_has_no_patient(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        rows.inbound(uow.conn, message_sid="SM-in-2", from_phone="+18055550777")
        found = uow.inbound.inbound_by_sid("SM-in-2")
        assert found is not None and (found.patient_name, found.timezone) == ("", "UTC")


def test_a_text_is_marked_reviewed_once_and_leaves_the_staff_list(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        inbound_id = rows.inbound(uow.conn, needs_staff=True, action="unclear")
        rows.inbound(uow.conn, needs_staff=False)
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert [t.id for t in uow.inbound.needing_staff()] == [inbound_id]
        assert uow.inbound.mark_reviewed(inbound_id, by="nurse.kim", now=NOW)
        assert not uow.inbound.mark_reviewed(inbound_id, by="nurse.lee", now=NOW)
        assert uow.inbound.needing_staff() == []
        assert uow.inbound.inbound_exists(inbound_id)
        assert not uow.inbound.inbound_exists(inbound_id + 100)
