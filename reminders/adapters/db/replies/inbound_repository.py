"""Inbound texts in the database: every patient reply, its outcome and its staff review.

Reviews are conditional UPDATEs, so two staff members clicking at once cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from reminders.adapters.db.enrollments.contact_repository import full_name
from reminders.adapters.db.orm import checkin_answers, enrollments, inbound_messages, patients
from reminders.domain.inbound.escalations import InboundText

I = inbound_messages  # noqa: E741


class InboundRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def inbound_by_sid(self, sid: str) -> InboundText | None:
        found = self._inbound(I.c.message_sid == sid, limit=1)
        return found[0] if found else None

    def add_inbound(self, **values: Any) -> int:
        key = self.conn.execute(insert(I).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def update_inbound(self, inbound_id: int, **values: Any) -> None:
        self.conn.execute(update(I).where(I.c.id == inbound_id).values(**values))

    def needing_staff(self, limit: int = 200) -> list[InboundText]:
        return self._inbound(and_(I.c.needs_staff.is_(True), I.c.reviewed_at.is_(None)), limit)

    def inbound_for_enrollment(self, enrollment_id: int, limit: int = 500) -> list[InboundText]:
        return self._inbound(I.c.enrollment_id == enrollment_id, limit)

    def mark_reviewed(self, inbound_id: int, *, by: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(I)
            .where(I.c.id == inbound_id, I.c.reviewed_at.is_(None))
            .values(reviewed_at=now, reviewed_by=by)
        )
        return bool(result.rowcount)

    def inbound_exists(self, inbound_id: int) -> bool:
        return self.conn.scalar(select(I.c.id).where(I.c.id == inbound_id)) is not None

    def _inbound(self, where: Any, limit: int) -> list[InboundText]:
        rows = self.conn.execute(
            select(
                I,
                patients.c.first_name,
                patients.c.last_name,
                patients.c.timezone,
                checkin_answers.c.answer,
            )
            .outerjoin(enrollments, enrollments.c.id == I.c.enrollment_id)
            .outerjoin(patients, patients.c.id == enrollments.c.patient_id)
            .outerjoin(checkin_answers, checkin_answers.c.inbound_id == I.c.id)
            .where(where)
            .order_by(I.c.received_at.desc(), I.c.id.desc())
            .limit(limit)
        ).mappings()
        return [
            InboundText(
                id=r["id"],
                from_phone=r["from_phone"],
                body=r["body"],
                received_at=r["received_at"],
                action=r["action"],
                detail=r["detail"],
                reply=r["reply"],
                needs_staff=r["needs_staff"],
                enrollment_id=r["enrollment_id"],
                patient_name=full_name(r["first_name"], r["last_name"]),
                timezone=r["timezone"] or "UTC",
                answer=r["answer"],
                reviewed_at=r["reviewed_at"],
                reviewed_by=r["reviewed_by"],
            )
            for r in rows
        ]
