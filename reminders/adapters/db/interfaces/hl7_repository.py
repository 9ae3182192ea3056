"""The hl7_messages table: every HL7 v2 message's outcome, its ACK, and consent-needed requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from reminders.adapters.db.orm import hl7_messages

H = hl7_messages


@dataclass(frozen=True)
class Hl7Row:
    id: int
    sender: str
    control_id: str
    message_type: str
    received_at: datetime
    ack_code: str
    outcome: str
    detail: str
    enrollment_id: int | None
    patient_identifier: str | None
    location: str | None
    pending: str | None
    settled_at: datetime | None
    settled_by: str | None


class Hl7Repository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ack_for(self, sender: str, control_id: str) -> str | None:
        """The acknowledgement already sent for this sender's control id, if any."""
        return self.conn.scalar(
            select(H.c.ack).where(H.c.sender == sender, H.c.control_id == control_id)
        )

    def add(self, **values: Any) -> int:
        key = self.conn.execute(insert(H).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def enrollment_for(self, patient_identifier: str, visit_number: str | None) -> int | None:
        """The newest enrollment an A03 led to for this patient (and visit, when named)."""
        query = (
            select(H.c.enrollment_id)
            .where(H.c.patient_identifier == patient_identifier, H.c.enrollment_id.is_not(None))
            .where(H.c.message_type == "ADT^A03")
            .order_by(H.c.id.desc())
            .limit(1)
        )
        if visit_number:
            query = query.where(H.c.visit_number == visit_number)
        return self.conn.scalar(query)

    def pending_for(self, patient_identifier: str) -> list[Hl7Row]:
        """Consent-needed requests not yet settled for this patient."""
        return self._rows(
            H.c.patient_identifier == patient_identifier,
            H.c.outcome == "consent_needed",
            H.c.settled_at.is_(None),
        )

    def get(self, message_id: int) -> Hl7Row | None:
        rows = self._rows(H.c.id == message_id)
        return rows[0] if rows else None

    def recent(self, *, limit: int = 200, offset: int = 0) -> list[Hl7Row]:
        return self._rows(limit=limit, offset=offset)

    def consent_needed(self) -> list[Hl7Row]:
        return self._rows(H.c.outcome == "consent_needed", H.c.settled_at.is_(None))

    def count_consent_needed(self) -> int:
        return int(
            self.conn.scalar(
                select(func.count())
                .select_from(H)
                .where(H.c.outcome == "consent_needed", H.c.settled_at.is_(None))
            )
            or 0
        )

    def settle(
        self, message_id: int, *, by: str, now: datetime, enrollment_id: int | None, detail: str
    ) -> bool:
        """Close a consent-needed request once: enrolled by staff, or dismissed."""
        result = self.conn.execute(
            update(H)
            .where(H.c.id == message_id, H.c.settled_at.is_(None))
            .values(settled_at=now, settled_by=by, enrollment_id=enrollment_id, detail=detail)
        )
        return bool(result.rowcount)

    def _rows(self, *where: Any, limit: int = 500, offset: int = 0) -> list[Hl7Row]:
        rows = self.conn.execute(
            select(H).where(*where).order_by(H.c.id.desc()).limit(limit).offset(offset)
        ).mappings()
        return [
            Hl7Row(
                id=r["id"],
                sender=r["sender"],
                control_id=r["control_id"],
                message_type=r["message_type"],
                received_at=r["received_at"],
                ack_code=r["ack_code"],
                outcome=r["outcome"],
                detail=r["detail"],
                enrollment_id=r["enrollment_id"],
                patient_identifier=r["patient_identifier"],
                location=r["location"],
                pending=r["pending"],
                settled_at=r["settled_at"],
                settled_by=r["settled_by"],
            )
            for r in rows
        ]
