"""Repositories: enrollments and their messages, read and written with SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from reminders.adapters.orm import consents, enrollments, patients, scheduled_messages
from reminders.domain.model import (
    UNSENT,
    Channel,
    Consent,
    ConsentMethod,
    Enrollment,
    MessageStatus,
    Patient,
    PlannedMessage,
    ProcedureRecord,
    ScheduledMessage,
)
from reminders.domain.schedule import SendHistory

SENT_STATES = (
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERED,
)


class EnrollmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, enrollment: Enrollment, *, enrolled_by: str, now: datetime) -> int:
        """Insert the patient, the enrollment and its consents; return the enrollment id."""
        p, proc = enrollment.patient, enrollment.procedure
        patient_id = _new_id(
            self.conn.execute(
                insert(patients).values(
                    first_name=p.first_name,
                    last_name=p.last_name,
                    phone=p.phone,
                    email=p.email,
                    language=p.language,
                    timezone=p.timezone,
                    created_at=now,
                )
            )
        )
        enrollment_id = _new_id(
            self.conn.execute(
                insert(enrollments).values(
                    patient_id=patient_id,
                    idempotency_key=enrollment.idempotency_key,
                    procedure=proc.procedure,
                    performed_at=proc.performed_at,
                    levels=proc.levels,
                    overnight=proc.overnight,
                    external_id=proc.external_id,
                    status="active",
                    revision=1,
                    enrolled_by=enrolled_by,
                    created_at=now,
                    updated_at=now,
                )
            )
        )
        self.conn.execute(
            insert(consents),
            [
                {
                    "enrollment_id": enrollment_id,
                    "channel": c.channel.value,
                    "given": c.given,
                    "method": c.method.value,
                    "recorded_by": c.recorded_by,
                    "recorded_at": c.recorded_at,
                    "more_frequent_sms": c.more_frequent_sms,
                }
                for c in enrollment.consents
            ],
        )
        return enrollment_id

    def id_for_key(self, idempotency_key: str) -> int | None:
        return self.conn.scalar(
            select(enrollments.c.id).where(enrollments.c.idempotency_key == idempotency_key)
        )

    def get(self, enrollment_id: int, *, for_update: bool = False) -> Enrollment | None:
        query = (
            select(enrollments, patients)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .where(enrollments.c.id == enrollment_id)
        )
        if for_update:
            query = query.with_for_update(of=enrollments)
        row = self.conn.execute(query).mappings().first()
        if row is None:
            return None
        consent_rows = self.conn.execute(
            select(consents).where(consents.c.enrollment_id == enrollment_id)
        ).mappings()
        return Enrollment(
            id=row["id"],
            idempotency_key=row["idempotency_key"],
            status=row["status"],
            revision=row["revision"],
            created_at=row["created_at"],
            patient=Patient(
                id=row["patient_id"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                phone=row["phone"],
                email=row["email"],
                language=row["language"],
                timezone=row["timezone"],
            ),
            procedure=ProcedureRecord(
                procedure=row["procedure"],
                performed_at=row["performed_at"],
                levels=row["levels"],
                overnight=row["overnight"],
                external_id=row["external_id"],
            ),
            consents=[_consent(c) for c in consent_rows],
            messages=MessageRepository(self.conn).for_enrollment(enrollment_id),
        )

    def update(self, enrollment_id: int, *, now: datetime, **values: Any) -> None:
        self.conn.execute(
            update(enrollments)
            .where(enrollments.c.id == enrollment_id)
            .values(updated_at=now, **values)
        )


class MessageRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_many(
        self,
        enrollment_id: int,
        revision: int,
        planned: Iterable[PlannedMessage],
        *,
        now: datetime,
    ) -> None:
        rows = [
            {
                "enrollment_id": enrollment_id,
                "revision": revision,
                "step_key": m.step_key,
                "parts": " ".join(m.parts),
                "channel": m.channel.value,
                "category": m.category,
                "checkin": m.checkin,
                "first_sms": m.first_sms,
                "send_at": m.send_at,
                "deadline": m.deadline,
                "status": m.status.value,
                "status_reason": m.status_reason,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for m in planned
        ]
        if rows:
            self.conn.execute(insert(scheduled_messages), rows)

    def for_enrollment(self, enrollment_id: int) -> list[ScheduledMessage]:
        rows = self.conn.execute(
            select(scheduled_messages)
            .where(scheduled_messages.c.enrollment_id == enrollment_id)
            .order_by(scheduled_messages.c.send_at, scheduled_messages.c.id)
        )
        return [to_message(r._mapping) for r in rows]

    def cancel_unsent(self, enrollment_id: int, *, reason: str, now: datetime) -> int:
        """Cancel every message not yet handed to a provider; return how many."""
        result = self.conn.execute(
            update(scheduled_messages)
            .where(
                scheduled_messages.c.enrollment_id == enrollment_id,
                scheduled_messages.c.status.in_([s.value for s in UNSENT]),
            )
            .values(
                status=MessageStatus.CANCELLED.value,
                status_reason=reason,
                lease_until=None,
                updated_at=now,
            )
        )
        return int(result.rowcount)

    def history(self, enrollment_id: int) -> SendHistory:
        """What went out (or may have: `sending`) for this enrollment, over all revisions."""
        rows = self.conn.execute(
            select(
                scheduled_messages.c.parts,
                scheduled_messages.c.channel,
                scheduled_messages.c.sent_at,
                scheduled_messages.c.send_at,
            ).where(
                scheduled_messages.c.enrollment_id == enrollment_id,
                scheduled_messages.c.status.in_([s.value for s in SENT_STATES]),
            )
        ).all()
        parts = frozenset((key, Channel(r.channel)) for r in rows for key in r.parts.split())
        sms_times = tuple(r.sent_at or r.send_at for r in rows if r.channel == Channel.SMS)
        return SendHistory(sent_parts=parts, sms_sent_at=sms_times)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _consent(row: Any) -> Consent:
    return Consent(
        channel=Channel(row["channel"]),
        given=row["given"],
        method=ConsentMethod(row["method"]),
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        more_frequent_sms=row["more_frequent_sms"],
    )


def to_message(m: Mapping[Any, Any]) -> ScheduledMessage:
    return ScheduledMessage(
        id=m["id"],
        enrollment_id=m["enrollment_id"],
        revision=m["revision"],
        step_key=m["step_key"],
        parts=tuple(m["parts"].split()),
        channel=Channel(m["channel"]),
        category=m["category"],
        checkin=m["checkin"],
        first_sms=m["first_sms"],
        send_at=m["send_at"],
        deadline=m["deadline"],
        status=MessageStatus(m["status"]),
        status_reason=m["status_reason"],
        attempts=m["attempts"],
        provider_id=m["provider_id"],
        error_code=m["error_code"],
        error_message=m["error_message"],
        error_class=m["error_class"],
        body=m["body"],
        last_attempt_at=m["last_attempt_at"],
        sent_at=m["sent_at"],
        delivered_at=m["delivered_at"],
        updated_at=m["updated_at"],
    )


__all__: Sequence[str] = ("EnrollmentRepository", "MessageRepository", "to_message")
