"""Check-ins in the database: the questions a patient was asked, their state and answers.

State changes are conditional UPDATEs on the expected current state, as in
delivery_repository: two beats or a webhook replayed by Twilio can never both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from reminders.adapters.db.orm import (
    checkin_answers,
    checkins,
    enrollments,
    notifications,
    patients,
    scheduled_messages,
)
from reminders.domain.lifecycles.checkin import CHECKIN, CLOSE, CheckInStatus
from reminders.domain.model import Channel, MessageStatus

M = scheduled_messages
C = checkins
N = notifications
S = MessageStatus
ASKED = (S.SENT.value, S.DELIVERED.value)  # a check-in counts once it reached Twilio


@dataclass(frozen=True)
class CheckIn:
    id: int
    message_id: int
    enrollment_id: int
    phone: str
    kind: str
    asked_at: datetime
    status: str
    clarified_at: datetime | None
    reminder_at: datetime | None
    task_at: datetime | None


class CheckinRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def track_checkins(self, *, since: datetime, now: datetime, phone: str | None = None) -> int:
        """Add a check-in row for each check-in text that reached Twilio since `since`."""
        query = (
            select(M.c.id, M.c.enrollment_id, M.c.checkin, M.c.sent_at, patients.c.phone)
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .outerjoin(C, C.c.message_id == M.c.id)
            .where(
                C.c.id.is_(None),
                M.c.checkin.is_not(None),
                M.c.channel == Channel.SMS.value,
                M.c.status.in_(ASKED),
                M.c.sent_at >= since,
                patients.c.phone.is_not(None),
            )
        )
        if phone is not None:
            query = query.where(patients.c.phone == phone)
        added = 0
        for r in self.conn.execute(query).all():
            values = {
                "message_id": r.id,
                "enrollment_id": r.enrollment_id,
                "phone": r.phone,
                "kind": r.checkin,
                "asked_at": r.sent_at,
                "status": "open",
                "updated_at": now,
            }
            added += self._insert_new(values)
        return added

    def _insert_new(self, values: dict[str, Any]) -> int:
        """Insert unless another process just did (the unique message id decides)."""
        dialect = self.conn.dialect.name
        if dialect == "postgresql":
            stmt: Any = pg_insert(C).values(**values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            stmt = sqlite_insert(C).values(**values).on_conflict_do_nothing()
        else:  # pragma: no cover - the two supported databases are above
            stmt = insert(C).values(**values)
        return int(self.conn.execute(stmt).rowcount or 0)

    def latest_checkin(self, phone: str, *, since: datetime) -> CheckIn | None:
        """The newest check-in asked of this phone since `since`, whatever its state."""
        found = self._checkins(
            and_(C.c.phone == phone, C.c.asked_at >= since), order=C.c.asked_at.desc(), limit=1
        )
        return found[0] if found else None

    def checkin(self, checkin_id: int) -> CheckIn | None:
        found = self._checkins(C.c.id == checkin_id, limit=1)
        return found[0] if found else None

    def due_reminders(self, *, asked_before: datetime) -> list[CheckIn]:
        return self._checkins(
            and_(C.c.status == "open", C.c.reminder_at.is_(None), C.c.asked_at <= asked_before)
        )

    def due_tasks(self, *, reminded_before: datetime) -> list[CheckIn]:
        return self._checkins(
            and_(
                C.c.status == "open",
                C.c.task_at.is_(None),
                C.c.reminder_at.is_not(None),
                C.c.reminder_at <= reminded_before,
            )
        )

    def newer_checkin_sent(self, checkin: CheckIn) -> bool:
        """Another check-in text reached this phone after this one."""
        newer = self.conn.scalar(
            select(func.count())
            .select_from(M)
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .where(
                patients.c.phone == checkin.phone,
                M.c.checkin.is_not(None),
                M.c.channel == Channel.SMS.value,
                M.c.status.in_(ASKED),
                M.c.sent_at > checkin.asked_at,
            )
        )
        return bool(newer)

    def set_checkin(
        self, checkin_id: int, *, frm: Sequence[str], now: datetime, **values: Any
    ) -> bool:
        """Change a check-in from one of `frm`; a status change must be a move its lifecycle
        allows (IllegalTransition before any SQL otherwise)."""
        if "status" in values:
            CHECKIN.step(tuple(CheckInStatus(f) for f in frm), CheckInStatus(values["status"]))
        result = self.conn.execute(
            update(C)
            .where(C.c.id == checkin_id, C.c.status.in_(list(frm)))
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)

    def claim_checkin_step(self, checkin_id: int, column: str, *, now: datetime) -> bool:
        """Set clarified_at / reminder_at / task_at once; False if it was already set."""
        col = C.c[column]
        result = self.conn.execute(
            update(C)
            .where(C.c.id == checkin_id, col.is_(None), C.c.status.in_(CLOSE.sources))
            .values({column: now, "updated_at": now})
        )
        return bool(result.rowcount)

    def close_checkins(self, phone: str, *, reason: str, now: datetime) -> int:
        result = self.conn.execute(
            update(C)
            .where(C.c.phone == phone, C.c.status.in_(CLOSE.sources))
            .values(status=CLOSE.to.value, closed_reason=reason, updated_at=now)
        )
        return int(result.rowcount)

    def _checkins(self, where: Any, order: Any = None, limit: int = 500) -> list[CheckIn]:
        rows = self.conn.execute(
            select(C).where(where).order_by(order if order is not None else C.c.id).limit(limit)
        ).mappings()
        return [
            CheckIn(
                id=r["id"],
                message_id=r["message_id"],
                enrollment_id=r["enrollment_id"],
                phone=r["phone"],
                kind=r["kind"],
                asked_at=r["asked_at"],
                status=r["status"],
                clarified_at=r["clarified_at"],
                reminder_at=r["reminder_at"],
                task_at=r["task_at"],
            )
            for r in rows
        ]

    # -- answers ----------------------------------------------------------------------------

    def add_answer(self, **values: Any) -> None:
        self.conn.execute(insert(checkin_answers).values(**values))

    def answer_of(self, checkin_id: int) -> tuple[str, int | None, bool, str | None] | None:
        """(answer, pain, red_flag, reason) recorded for a check-in, None if unanswered."""
        A = checkin_answers
        row = self.conn.execute(
            select(A.c.answer, A.c.pain, A.c.red_flag, A.c.reason).where(
                A.c.checkin_id == checkin_id
            )
        ).first()
        return None if row is None else (row.answer, row.pain, bool(row.red_flag), row.reason)

    def complete_answer(self, checkin_id: int, **values: Any) -> None:
        """The rest of a half answer ("7", then "YES"): the one answer row grows."""
        self.conn.execute(
            update(checkin_answers)
            .where(checkin_answers.c.checkin_id == checkin_id)
            .values(**values)
        )

    def previous_pain(self, enrollment_id: int) -> int | None:
        return self.conn.scalar(
            select(checkin_answers.c.pain)
            .where(
                checkin_answers.c.enrollment_id == enrollment_id,
                checkin_answers.c.pain.is_not(None),
            )
            .order_by(checkin_answers.c.answered_at.desc(), checkin_answers.c.id.desc())
            .limit(1)
        )
