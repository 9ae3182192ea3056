"""The caregivers table: an enrollment's optional second recipient, read and written here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from reminders.adapters.db.orm import caregivers, enrollments
from reminders.domain.model import Caregiver

G = caregivers


class CaregiverRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, enrollment_id: int) -> Caregiver | None:
        row = self.conn.execute(select(G).where(G.c.enrollment_id == enrollment_id)).mappings()
        found = row.first()
        return to_caregiver(found) if found else None

    def add(self, enrollment_id: int, caregiver: Caregiver, *, by: str, now: datetime) -> int:
        """Store a new enrollment's caregiver; return its id."""
        row = {"enrollment_id": enrollment_id, "created_at": now, **_values(caregiver, by, now)}
        return int(self.conn.execute(insert(G).values(row).returning(G.c.id)).scalar_one())

    def put(self, enrollment_id: int, caregiver: Caregiver, *, by: str, now: datetime) -> None:
        """Add the enrollment's caregiver, or replace the one it has."""
        values = _values(caregiver, by, now)
        done = self.conn.execute(update(G).where(G.c.enrollment_id == enrollment_id).values(values))
        if not done.rowcount:
            self.add(enrollment_id, caregiver, by=by, now=now)

    def remove(self, enrollment_id: int) -> bool:
        done = self.conn.execute(delete(G).where(G.c.enrollment_id == enrollment_id))
        return bool(done.rowcount)

    def enrollment_for_phone(self, phone: str) -> int | None:
        """The enrollment whose caregiver has this phone (the newest, active ones first)."""
        return self.conn.scalar(
            select(G.c.enrollment_id)
            .join(enrollments, enrollments.c.id == G.c.enrollment_id)
            .where(G.c.phone == phone)
            .order_by((enrollments.c.status == "active").desc(), enrollments.c.id.desc())
            .limit(1)
        )


def _values(caregiver: Caregiver, by: str, now: datetime) -> dict[str, Any]:
    return {
        "name": caregiver.name,
        "relationship": caregiver.relationship,
        "phone": caregiver.phone,
        "email": caregiver.email,
        "language": caregiver.language,
        "sms_consent": caregiver.sms_consent,
        "email_consent": caregiver.email_consent,
        "recorded_by": by,
        "updated_at": now,
    }


def to_caregiver(row: Any) -> Caregiver:
    return Caregiver(
        id=row["id"],
        name=row["name"],
        relationship=row["relationship"],
        phone=row["phone"],
        email=row["email"],
        language=row["language"],
        sms_consent=row["sms_consent"],
        email_consent=row["email_consent"],
    )
