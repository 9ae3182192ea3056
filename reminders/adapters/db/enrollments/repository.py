"""The enrollment repository: patients, enrollments and consents, read and written together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from reminders.adapters.db.enrollments.caregiver_repository import CaregiverRepository
from reminders.adapters.db.enrollments.enrollment_inserts import insert_enrollment
from reminders.adapters.db.messages.message_reads import MessageReads
from reminders.adapters.db.orm import consents, enrollments, patients
from reminders.domain.lifecycles.enrollment import EnrollmentStatus
from reminders.domain.lifecycles.machine import Step
from reminders.domain.model import (
    Channel,
    Consent,
    ConsentMethod,
    Enrollment,
    Patient,
    ProcedureRecord,
)
from reminders.domain.staff.search import patient_search_key


class EnrollmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, enrollment: Enrollment, *, enrolled_by: str, now: datetime) -> Enrollment | None:
        """Insert the patient, the enrollment and its consents; return them as stored.

        None when the idempotency key is taken already (the caller rolls back, which also
        drops the patient row): the insert skips a duplicate key instead of failing, so
        a double submit costs no error and no extra look-up beforehand.
        """
        p, proc = enrollment.patient, enrollment.procedure
        ids = insert_enrollment(
            self.conn,
            {
                "first_name": p.first_name,
                "last_name": p.last_name,
                "phone": p.phone,
                "email": p.email,
                "language": p.language,
                "timezone": p.timezone,
                "created_at": now,
                "search_text": patient_search_key(
                    first_name=p.first_name, last_name=p.last_name, phone=p.phone, email=p.email
                ),
            },
            {
                "idempotency_key": enrollment.idempotency_key,
                "procedure": proc.procedure,
                "performed_at": proc.performed_at,
                "levels": proc.levels,
                "overnight": proc.overnight,
                "external_id": proc.external_id,
                "status": "active",
                "revision": 1,
                "enrolled_by": enrolled_by,
                "created_at": now,
                "updated_at": now,
            },
            [
                {
                    "channel": c.channel.value,
                    "given": c.given,
                    "method": c.method.value,
                    "recorded_by": c.recorded_by,
                    "recorded_at": _utc(c.recorded_at),
                    "more_frequent_sms": c.more_frequent_sms,
                }
                for c in enrollment.consents
            ],
        )
        if ids is None:
            return None
        enrollment_id, patient_id = ids
        caregiver = enrollment.caregiver
        if caregiver is not None:
            found = CaregiverRepository(self.conn).add(
                enrollment_id, caregiver, by=enrolled_by, now=now
            )
            caregiver = replace(caregiver, id=found)
        # What get() would read back: the same values, times in UTC as the database gives them.
        return replace(
            enrollment,
            id=enrollment_id,
            status="active",
            revision=1,
            created_at=_utc(now),
            patient=replace(p, id=patient_id),
            procedure=replace(proc, performed_at=_utc(proc.performed_at)),
            consents=[replace(c, recorded_at=_utc(c.recorded_at)) for c in enrollment.consents],
            messages=[],
            caregiver=caregiver,
        )

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
            select(consents)
            .where(consents.c.enrollment_id == enrollment_id)
            .order_by(consents.c.id)
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
            messages=MessageReads(self.conn).for_enrollment(enrollment_id),
            caregiver=CaregiverRepository(self.conn).get(enrollment_id),
        )

    def move(self, enrollment_id: int, step: Step[EnrollmentStatus], *, now: datetime) -> bool:
        """Change the enrollment's status by a step of its lifecycle, from the states the
        step allows; False (nothing written) if the enrollment is in none of them."""
        result = self.conn.execute(
            update(enrollments)
            .where(enrollments.c.id == enrollment_id, enrollments.c.status.in_(step.sources))
            .values(status=step.to.value, updated_at=now)
        )
        return bool(result.rowcount)

    def update(self, enrollment_id: int, *, now: datetime, **values: Any) -> None:
        """Change fields other than the status (the time, the revision)."""
        assert "status" not in values, "the status changes only by move()"
        self.conn.execute(
            update(enrollments)
            .where(enrollments.c.id == enrollment_id)
            .values(updated_at=now, **values)
        )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # as orm.UTCDateTime refuses it
        raise ValueError("naive datetime given to the database; use an aware one")
    return moment.astimezone(UTC)


def _consent(row: Any) -> Consent:
    return Consent(
        channel=Channel(row["channel"]),
        given=row["given"],
        method=ConsentMethod(row["method"]),
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        more_frequent_sms=row["more_frequent_sms"],
    )


__all__: Sequence[str] = ("EnrollmentRepository",)
