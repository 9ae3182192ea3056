"""Escalations in the database: red flags and no-answer tasks that staff work.

Moves are conditional UPDATEs on the expected current state, so two staff members
clicking at once can never both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from reminders.adapters.db.enrollments.contact_repository import full_name
from reminders.adapters.db.messages.notification_repository import NotificationRepository
from reminders.adapters.db.orm import (
    caregivers,
    enrollments,
    escalations,
    inbound_messages,
    patients,
)
from reminders.domain.inbound.escalations import Escalation, EscalationStatus
from reminders.domain.lifecycles.escalation import ESCALATION

E = escalations
I = inbound_messages  # noqa: E741


class EscalationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_escalation(self, **values: Any) -> int:
        key = self.conn.execute(
            insert(E).values(status=EscalationStatus.OPEN.value, notes="", **values)
        ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def escalation_for_checkin(self, checkin_id: int, kind: str) -> int | None:
        return self.conn.scalar(
            select(E.c.id).where(E.c.checkin_id == checkin_id, E.c.kind == kind)
        )

    def escalation_by_code(self, code: str) -> tuple[int, str] | None:
        """(id, status) of the red flag with this acknowledgement code."""
        row = self.conn.execute(select(E.c.id, E.c.status).where(E.c.code == code)).first()
        return (row.id, row.status) if row else None

    def due_rungs(
        self, *, now: datetime, limit: int = 100
    ) -> list[tuple[int, int, datetime, int | None]]:
        """(id, pages done, created_at, enrollment) of open red flags whose next rung is due."""
        rows = self.conn.execute(
            select(E.c.id, E.c.pages, E.c.created_at, E.c.enrollment_id)
            .where(E.c.status == EscalationStatus.OPEN.value, E.c.next_page_at <= now)
            .order_by(E.c.next_page_at, E.c.id)
            .limit(limit)
        ).all()
        return [(r.id, r.pages, r.created_at, r.enrollment_id) for r in rows]

    def claim_rung(
        self, escalation_id: int, *, done: int, next_page_at: datetime | None, now: datetime
    ) -> bool:
        """Take the next rung once: only the beat that sees `done` rungs still open wins."""
        result = self.conn.execute(
            update(E)
            .where(
                E.c.id == escalation_id,
                E.c.status == EscalationStatus.OPEN.value,
                E.c.pages == done,
            )
            .values(pages=done + 1, next_page_at=next_page_at, updated_at=now)
        )
        return bool(result.rowcount)

    def set_escalation(
        self, escalation_id: int, *, frm: Sequence[str], now: datetime, **values: Any
    ) -> bool:
        """Change an escalation from one of `frm`; a status change must be a move its
        lifecycle allows (IllegalTransition before any SQL otherwise)."""
        if "status" in values:
            ESCALATION.step(
                tuple(EscalationStatus(f) for f in frm), EscalationStatus(values["status"])
            )
        result = self.conn.execute(
            update(E)
            .where(E.c.id == escalation_id, E.c.status.in_(list(frm)))
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)

    def resolve_open(self, enrollment_id: int, kind: str, *, by: str, now: datetime) -> int:
        """Resolve the enrollment's unresolved escalations of one kind; how many there were."""
        result = self.conn.execute(
            update(E)
            .where(
                E.c.enrollment_id == enrollment_id,
                E.c.kind == kind,
                E.c.status != EscalationStatus.RESOLVED.value,
            )
            .values(
                status=EscalationStatus.RESOLVED.value,
                resolved_at=now,
                resolved_by=by,
                updated_at=now,
            )
        )
        return int(result.rowcount or 0)

    def add_note(self, escalation_id: int, note: str, *, now: datetime) -> None:
        notes = self.conn.scalar(select(E.c.notes).where(E.c.id == escalation_id)) or ""
        self.conn.execute(
            update(E)
            .where(E.c.id == escalation_id)
            .values(notes=f"{notes}\n{note}".strip(), updated_at=now)
        )

    def escalations(
        self,
        *,
        statuses: Sequence[str] | None = None,
        ids: Sequence[int] | None = None,
        limit: int = 200,
    ) -> list[Escalation]:
        query = (
            select(
                E,
                patients.c.first_name,
                patients.c.last_name,
                patients.c.phone,
                patients.c.timezone,
                I.c.body.label("reply"),
                caregivers.c.name.label("caregiver_name"),
                caregivers.c.phone.label("caregiver_phone"),
            )
            .outerjoin(enrollments, enrollments.c.id == E.c.enrollment_id)
            .outerjoin(patients, patients.c.id == enrollments.c.patient_id)
            .outerjoin(caregivers, caregivers.c.enrollment_id == enrollments.c.id)
            .outerjoin(I, I.c.id == E.c.inbound_id)
            .order_by((E.c.kind == "red_flag").desc(), E.c.created_at.desc(), E.c.id.desc())
            .limit(limit)
        )
        if statuses is not None:
            query = query.where(E.c.status.in_(list(statuses)))
        if ids is not None:
            query = query.where(E.c.id.in_(list(ids)))
        rows = list(self.conn.execute(query).mappings())
        notes = NotificationRepository(self.conn).for_escalations([r["id"] for r in rows])
        return [
            Escalation(
                id=r["id"],
                kind=r["kind"],
                reason=r["reason"],
                status=EscalationStatus(r["status"]),
                created_at=r["created_at"],
                enrollment_id=r["enrollment_id"],
                patient_name=full_name(r["first_name"], r["last_name"]),
                phone=r["phone"],
                timezone=r["timezone"] or "UTC",
                reply=r["reply"],
                notes=r["notes"],
                acknowledged_at=r["acknowledged_at"],
                acknowledged_by=r["acknowledged_by"],
                resolved_at=r["resolved_at"],
                resolved_by=r["resolved_by"],
                code=r["code"],
                caregiver_name=r["caregiver_name"],
                caregiver_phone=r["caregiver_phone"],
                pages=r["pages"],
                next_page_at=r["next_page_at"],
                notifications=tuple(notes.get(r["id"], ())),
            )
            for r in rows
        ]

    def count_open_escalations(self) -> dict[str, int]:
        rows = self.conn.execute(
            select(E.c.kind, func.count())
            .where(E.c.status != EscalationStatus.RESOLVED.value)
            .group_by(E.c.kind)
        ).all()
        return {kind: int(n) for kind, n in rows}
