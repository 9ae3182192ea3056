"""The FHIR write-back outbox (fhir_outbox, writeback_cursors) and the rows that fill it.

Sources are read, never written: scheduled_messages that reached sent or delivered,
checkin_answers, and escalations (red flags and their acknowledgement), each behind its
own cursor so a pass reads only what is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from reminders.adapters.db.orm import (
    checkin_answers,
    enrollments,
    escalations,
    fhir_outbox,
    hl7_messages,
    scheduled_messages,
    writeback_cursors,
)

O = fhir_outbox  # noqa: E741
M = scheduled_messages
A = checkin_answers
E = escalations


@dataclass(frozen=True)
class OutboxItem:
    id: int
    business_id: str
    resource_type: str
    enrollment_id: int
    resource: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


class WritebackRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # The outbox.

    def add(
        self,
        *,
        business_id: str,
        resource_type: str,
        enrollment_id: int,
        patient_id: int,
        resource: str,
        now: datetime,
    ) -> bool:
        """Queue a resource once: a business id already queued is left as it is."""
        values = dict(
            business_id=business_id,
            resource_type=resource_type,
            enrollment_id=enrollment_id,
            patient_id=patient_id,
            resource=resource,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        if self.conn.dialect.name == "postgresql":
            stmt: Any = pg_insert(O).values(**values)
        else:
            stmt = sqlite_insert(O).values(**values)
        result = self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["business_id"]))
        return bool(result.rowcount)

    def due(self, *, now: datetime, limit: int) -> list[OutboxItem]:
        return self._items(O.c.status == "pending", O.c.next_attempt_at <= now, limit=limit)

    def claim(self, item: OutboxItem, *, until: datetime, now: datetime) -> bool:
        """Take an item for one delivery attempt: only one worker sees its old due time."""
        result = self.conn.execute(
            update(O)
            .where(
                O.c.id == item.id,
                O.c.status == "pending",
                O.c.next_attempt_at == item.next_attempt_at,
            )
            .values(next_attempt_at=until, updated_at=now)
        )
        return bool(result.rowcount)

    def delivered(self, item_id: int, *, now: datetime) -> None:
        self.conn.execute(
            update(O)
            .where(O.c.id == item_id)
            .values(
                status="delivered",
                delivered_at=now,
                attempts=O.c.attempts + 1,
                last_error=None,
                updated_at=now,
            )
        )

    def failed(self, item_id: int, *, error: str, retry_at: datetime, now: datetime) -> None:
        self.conn.execute(
            update(O)
            .where(O.c.id == item_id, O.c.status == "pending")
            .values(
                attempts=O.c.attempts + 1,
                last_error=error[:2000],
                next_attempt_at=retry_at,
                updated_at=now,
            )
        )

    def failing(self, enrollment_id: int) -> list[OutboxItem]:
        """What has not reached the chart yet after a failed try, for the patient page."""
        return self._items(
            O.c.enrollment_id == enrollment_id,
            O.c.status == "pending",
            O.c.last_error.is_not(None),
        )

    def search(self, resource_type: str, *, patient_id: int, limit: int = 500) -> list[str]:
        rows = self.conn.execute(
            select(O.c.resource)
            .where(O.c.resource_type == resource_type, O.c.patient_id == patient_id)
            .order_by(O.c.id)
            .limit(limit)
        ).scalars()
        return list(rows)

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(select(O.c.status, func.count()).group_by(O.c.status)).all()
        return {status: int(n) for status, n in rows}

    def _items(self, *where: Any, limit: int = 200) -> list[OutboxItem]:
        rows = self.conn.execute(
            select(O).where(*where).order_by(O.c.next_attempt_at, O.c.id).limit(limit)
        ).mappings()
        return [
            OutboxItem(
                id=r["id"],
                business_id=r["business_id"],
                resource_type=r["resource_type"],
                enrollment_id=r["enrollment_id"],
                resource=r["resource"],
                status=r["status"],
                attempts=r["attempts"],
                next_attempt_at=r["next_attempt_at"],
                last_error=r["last_error"],
                delivered_at=r["delivered_at"],
            )
            for r in rows
        ]

    # Cursors.

    def cursor(self, name: str) -> str | None:
        return self.conn.scalar(
            select(writeback_cursors.c.position).where(writeback_cursors.c.name == name)
        )

    def move_cursor(self, name: str, position: str, *, now: datetime) -> None:
        values = dict(name=name, position=position, updated_at=now)
        if self.conn.dialect.name == "postgresql":
            stmt: Any = pg_insert(writeback_cursors).values(**values)
        else:
            stmt = sqlite_insert(writeback_cursors).values(**values)
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"], set_={"position": position, "updated_at": now}
            )
        )

    # Sources, read only.

    def sent_messages(self, *, since: datetime, limit: int) -> list[dict[str, Any]]:
        """Messages that reached sent or delivered, changed at or after `since`, oldest first."""
        rows = self.conn.execute(
            select(
                M.c.id,
                M.c.enrollment_id,
                enrollments.c.patient_id,
                M.c.channel,
                M.c.category,
                M.c.kind,
                M.c.body,
                M.c.sent_at,
                M.c.delivered_at,
                M.c.status,
                M.c.updated_at,
            )
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .where(M.c.status.in_(["sent", "delivered"]), M.c.updated_at >= since)
            .order_by(M.c.updated_at, M.c.id)
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]

    def answers(self, *, after_id: int, limit: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(
                A.c.id,
                A.c.enrollment_id,
                enrollments.c.patient_id,
                A.c.kind,
                A.c.answer,
                A.c.pain,
                A.c.red_flag,
                A.c.answered_at,
            )
            .join(enrollments, enrollments.c.id == A.c.enrollment_id)
            .where(A.c.id > after_id)
            .order_by(A.c.id)
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]

    def red_flags(self, *, since: datetime, limit: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(
                E.c.id,
                E.c.enrollment_id,
                enrollments.c.patient_id,
                E.c.reason,
                E.c.status,
                E.c.created_at,
                E.c.acknowledged_at,
                E.c.acknowledged_by,
                E.c.updated_at,
            )
            .join(enrollments, enrollments.c.id == E.c.enrollment_id)
            .where(E.c.kind == "red_flag", E.c.updated_at >= since)
            .order_by(E.c.updated_at, E.c.id)
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]

    def patient_identifiers(self, enrollment_ids: Sequence[int]) -> dict[int, str]:
        """The PID-3 an HL7 feed named for each enrollment, where one did."""
        if not enrollment_ids:
            return {}
        rows = self.conn.execute(
            select(hl7_messages.c.enrollment_id, hl7_messages.c.patient_identifier).where(
                hl7_messages.c.enrollment_id.in_(list(set(enrollment_ids))),
                hl7_messages.c.patient_identifier.is_not(None),
            )
        ).all()
        return {int(e): str(p) for e, p in rows}
